"""Wiring and lifecycle: build every part from the settings, start them, stop them.

This is the one place that knows all the parts; each part only gets what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable

from acd.asterisk.agi_scripts import AgiScripts
from acd.asterisk.ami import AmiClient
from acd.asterisk.fastagi import FastAgiServer
from acd.asterisk.telephony import AmiTelephony
from acd.call_events import CallEventSink
from acd.call_journal import CallJournal, FanOutSink
from acd.callcenter import CallCenter
from acd.config import Settings
from acd.presence import PresenceStore
from acd.routing_config import build_router

log = logging.getLogger(__name__)


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
        self.sink: CallEventSink = self.journal if sink is None else FanOutSink(self.journal, sink)
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
        self.fastagi = FastAgiServer(
            AgiScripts(self.center, settings.business.default_language),
            settings.fastagi.host,
            settings.fastagi.port,
        )
        self._clock_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.center.restore_presence()
        self.telephony.recovering = self.journal.open_calls()
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

    async def stop(self) -> None:
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
        await self.fastagi.stop()
        await self.ami.stop()
        await self.center.aclose()
        self.journal.close()

    async def serve_forever(self) -> None:
        """Run until SIGINT or SIGTERM."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
