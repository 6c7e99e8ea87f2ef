"""Wiring and lifecycle: build every part from the settings, start them, stop them.

This is the one place that knows all the parts; each part only gets what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Callable

from aiohttp import web

from acd import cpus as cpu_placement
from acd.asterisk.agi_scripts import AgiScripts
from acd.asterisk.ami import AmiClient
from acd.asterisk.fastagi import FastAgiServer
from acd.asterisk.ivr import IvrExecutor
from acd.asterisk.telephony import AmiTelephony
from acd.call_events import CallEventSink
from acd.call_journal import CallJournal, FanOutSink
from acd.callbacks import CallbackManager, CallbackStore
from acd.callcenter import CallCenter
from acd.config import Settings
from acd.http import EventHub, HttpDeps, build_http_app, directory_scenario_hook
from acd.presence import PresenceStore
from acd.routing_config import build_router
from acd.saved_agents import keep_loading, load_saved_agents
from acd.scenario import RoutingFacts
from acd.scenario.registry import ReloadResult, ScenarioRegistry
from acd.storage.db import make_engine, make_sessions
from acd.storage.recording_jobs import RecordingJobs
from acd.storage.writer_process import WriterProcess
from acd.transfers import transfer_hook

log = logging.getLogger(__name__)


def _bound_port(runner: web.AppRunner, configured: int) -> int:
    """The port the HTTP server listens on (the configured one, or the one the OS chose)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return configured


#: How long ``stop`` lets the call writer finish writing; what is left goes to the spool.
WRITER_STOP_SECONDS = 5.0


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        sink: CallEventSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.journal = CallJournal(settings.routing.journal_file)
        # Call records into the database (migrated at start) through a writer process, so
        # that storing calls costs routing nothing; the journal stays: it is what restart
        # recovery reads, and the record of last resort.
        self.writer = WriterProcess(
            settings.database.url,
            settings.database.spool_directory,
            stop_timeout=WRITER_STOP_SECONDS,
            cpus=settings.cpus.writer,
        )
        self.http_events = EventHub()  # call events for the API's WebSockets (screen pop)
        # The daemon's own reads and small writes (API, recording index); the call records go
        # through the writer process. The engine connects on first use.
        self.db_engine = make_engine(settings.database.url)
        self.db_sessions = make_sessions(self.db_engine)
        self.recording_jobs = RecordingJobs(
            self.db_sessions, settings.recordings.directory, settings.recordings.retention_days
        )
        sinks: list[CallEventSink] = [
            self.journal,
            self.writer,
            self.http_events,
            self.recording_jobs,
        ]
        if sink is not None:
            sinks.append(sink)
        self.sink: CallEventSink = FanOutSink(*sinks)
        router = build_router(settings.routing, settings.business.time_zone, start=clock())
        self.center = CallCenter(
            router,
            settings.routing,
            self.sink,
            clock=clock,
            presence=PresenceStore(settings.routing.presence_file),
        )
        ami = settings.ami
        self.ami = AmiClient(
            ami.host,
            ami.port,
            ami.username,
            ami.secret.get_secret_value(),
            action_timeout=ami.action_timeout,
            connect_timeout=ami.connect_timeout,
            ping_interval=ami.ping_interval,
        )
        self.telephony = AmiTelephony(self.ami, self.center)
        # IVR routing scenarios (docs/scenarios.md): loaded at start, reloaded on change
        scenarios = settings.scenarios
        self.scenarios = ScenarioRegistry(
            scenarios.directory,
            RoutingFacts(
                skills=frozenset(settings.routing.skills),
                queues=frozenset(q.id for q in settings.routing.queues),
                origin="routing",
            ),
            default=scenarios.default,
        )
        self.ivr = IvrExecutor(self.center, self.scenarios)
        self.ivr.send_to_ivr = self.telephony.send_to_ivr
        self.telephony.on_restore = self.ivr.restore
        # Callbacks and voicemail tasks (docs/callbacks.md), kept in the database
        self.callbacks_engine = make_engine(settings.database.url)
        self.callbacks = CallbackManager(
            self.center, settings.callbacks, store=CallbackStore(self.callbacks_engine)
        )
        self.ivr.on_callback = self.callbacks.book
        scripts = AgiScripts(self.center, settings.business.default_language, self.ivr)
        scripts.callbacks = self.callbacks
        self.fastagi = FastAgiServer(scripts, settings.fastagi.host, settings.fastagi.port)
        self._clock_task: asyncio.Task[None] | None = None
        self._saved_agents_task: asyncio.Task[None] | None = None
        self._scenario_watch: asyncio.Task[None] | None = None
        self.http_runner: web.AppRunner | None = None
        self.http_port: int | None = None
        self._affinity_before: frozenset[int] | None = None  # set while cpus.daemon applies

    def reload_scenarios(self) -> ReloadResult:
        """Read changed scenario files again (SIGHUP, and every reload_interval seconds)."""
        return self.scenarios.reload()

    def _pin_daemon(self) -> None:
        """Run on ``cpus.daemon`` (if set); a failure is logged, the daemon runs anyway."""
        wanted = self.settings.cpus.daemon
        if not wanted:
            return
        try:
            before = cpu_placement.get_affinity(0)
            cpu_placement.set_affinity(0, wanted)
        except (OSError, ValueError, OverflowError) as exc:
            log.warning(
                "cannot run the daemon on CPUs %s (%s); it runs unpinned",
                cpu_placement.format_cpus(wanted),
                exc,
            )
            return
        self._affinity_before = before
        if self.writer.cpus is None:
            # The writer process would inherit the daemon's CPUs: it gets the ones it had.
            self.writer.cpus = tuple(sorted(before))
        log.info(
            "daemon running on CPUs %s; call writer process on CPUs %s",
            cpu_placement.format_cpus(wanted),
            cpu_placement.format_cpus(self.writer.cpus),
        )

    def _unpin_daemon(self) -> None:
        """Give the process back the CPUs it had (for an App run inside another program)."""
        before, self._affinity_before = self._affinity_before, None
        if before is not None:
            with contextlib.suppress(OSError, ValueError):
                cpu_placement.set_affinity(0, before)

    async def start(self) -> None:
        self._pin_daemon()  # first: the writer process and every thread start from here
        self.reload_scenarios()
        if self.settings.scenarios.reload_interval > 0:
            self._scenario_watch = asyncio.get_running_loop().create_task(
                self.scenarios.watch(self.settings.scenarios.reload_interval)
            )
        await self.writer.start()  # migrations; a database that is down only means spooling
        await self._start_http()
        await self.recording_jobs.start()
        await self._load_saved_agents()
        self.center.restore_presence()
        await self.callbacks.start()  # pending callbacks back in the queue, before the resync
        self.telephony.recovering = self.journal.open_calls()
        # Everything built so far lives as long as the daemon: keep it out of the garbage
        # collector's generations, so collections stay short on the dispatch path.
        gc.collect()
        gc.freeze()
        await self.fastagi.start()
        await self.ami.start()
        self._clock_task = asyncio.get_running_loop().create_task(self.center.run())
        log.info(
            "acd serving: FastAGI on %s:%s, AMI %s:%s",
            self.settings.fastagi.host,
            self.fastagi.port,
            self.settings.ami.host,
            self.settings.ami.port,
        )

    async def _load_saved_agents(self) -> None:
        """The agents the admin saved in the database, routed again (``acd.saved_agents``);
        if the database does not answer now, in the background as soon as it does."""
        try:
            async with asyncio.timeout(5.0):
                await load_saved_agents(self.center, self.db_sessions)
            return
        except Exception as exc:
            log.warning("saved agents not loaded at start: %s", exc or type(exc).__name__)
        self._saved_agents_task = asyncio.get_running_loop().create_task(
            keep_loading(self.center, self.db_sessions, self.center.restore_presence)
        )

    async def _start_http(self) -> None:
        """The HTTP API and pages on ``http.host:http.port`` (``docs/api.md``)."""
        deps = HttpDeps(
            center=self.center,
            sessions=self.db_sessions,
            settings=self.settings,
            clock=self.center.clock,
            scenario_hook=directory_scenario_hook(self.scenarios),
            ami_connected=lambda: self.ami.connected,
            fastagi_serving=lambda: self.fastagi.serving,
            events=self.http_events,
            transfer=transfer_hook(self.center, self.telephony),
        )
        self.http_runner = web.AppRunner(build_http_app(deps))
        await self.http_runner.setup()
        site = web.TCPSite(self.http_runner, self.settings.http.host, self.settings.http.port)
        await site.start()
        self.http_port = _bound_port(self.http_runner, self.settings.http.port)

    async def _stop_http(self) -> None:
        if self.http_runner is not None:
            await self.http_runner.cleanup()
            self.http_runner = None
        await self.recording_jobs.stop()
        await self.db_engine.dispose()

    async def stop(self) -> None:
        await self._stop_http()
        if self._scenario_watch is not None:
            self._scenario_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scenario_watch
            self._scenario_watch = None
        if self._saved_agents_task is not None:
            self._saved_agents_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saved_agents_task
            self._saved_agents_task = None
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
        await self.fastagi.stop()
        await self.ami.stop()
        await self.callbacks.aclose()
        await self.center.aclose()
        await self.callbacks_engine.dispose()
        await self.writer.aclose()
        self.journal.close()
        self._unpin_daemon()

    async def serve_forever(self) -> None:
        """Run until SIGINT or SIGTERM; SIGHUP reloads the scenario files."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self.reload_scenarios)
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
