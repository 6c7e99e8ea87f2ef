"""End to end: the daemon (``acd serve``, its own process) against the simulated PBX over TCP.

What is measured is the *dispatch latency*: from the moment the AMI event that frees an agent
is handed to the daemon's AMI socket to the moment the ``Originate`` that rings that agent for
the next waiting caller comes out of it. Everything the daemon does in between counts: reading
and parsing the event, the router's decision, the journal and presence writes, the logging,
the task that sends the action.

Set-up:

* the simulated PBX (:mod:`acd.sim.pbx`, our own ``extensions.conf``) runs in this process;
  ``agents`` phones ``1001``... answer each ring after a random 0-``answer_max`` s, and the
  agent hangs up a random 0.5-1.5 x ``agents / rate`` s after entering the bridge, so that
  with every agent busy ``rate`` calls end per second;
* two phases: *fill* - ``calls`` callers are placed as fast as the IVR takes them (at most
  ``ivr_concurrency`` in the FastAGI IVR at once, so that the daemon's accept queue never
  overflows); the first ``agents`` are connected and their agents hold on until the last
  caller is queued; *drain* - the agents' talk times run, and each agent that hangs up while
  callers wait is rung for the next one: ``calls - agents`` samples, under a load of about
  ``rate`` hang-ups per second and no IVR traffic, whatever the speed of the host. Once the
  last caller is connected, the conversations left end within a second;
* the daemon runs as ``python -m acd serve --config FILE`` (``agents`` agents, one queue,
  ``wrap_up_seconds: 0`` so that the agent leg's ``Hangup`` is the freeing event, long ring
  timeout and announcement interval; journal, presence file and the call records' SQLite
  database in a temporary directory),
  so that its CPU time and peak RSS can be read from ``/proc/<pid>`` (the CPU counted is
  from the end of its start-up to the end of the last call);
* its AMI link goes through :mod:`acd.bench.ami_tap`, a relay in a third process that times
  the frames on the wire, free of the simulator's own event-loop delays;

Which hang-ups count is decided in the simulator, from its AMI session with the daemon (a
subclass; nothing of the daemon is patched): a freed agent is *owed* a caller when more
callers wait (queued by the IVR, no offer open) than agents are idle (not rung since their
last call). Such a hang-up is a sample; it ends at the next ``Originate`` to the same phone,
and is timed by the tap (Hangup ``Uniqueid`` -> Originate ``ChannelId``). The same interval
as the simulator's loop saw it, and that loop's lag during the drain (how late a 5 ms timer
fires), are reported beside it.

Why not 0.2-1 s talk times: with 500 agents that is ~800 calls/s, while the simulator needs
about 6 ms of CPU per call and the daemon 6-14 ms (more since it writes call records to its
database) - both would saturate, and the result would measure the queueing of an overloaded
host, not dispatch. ``rate`` 25 keeps each well under half a core (and is still 9x the call
rate of 500 agents with 3-minute calls). ``profile`` runs the daemon under cProfile, which slows
it: its latencies are then not comparable.

Every call must end answered (bridged to an agent): the simulator's count and the daemon's
journal (``finished`` with outcome ``answered``) are both reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.sim.pbx import SimulatedPBX
from acd.sim.pbx.ami_protocol import AmiMessage
from acd.sim.pbx.ami_server import AmiServer, AmiSession
from acd.sim.pbx.events import AmiEvent
from acd.sim.pbx.phones import Phone

#: calls per second the agents finish when all are busy (see the module's docstring)
DEFAULT_RATE = 25.0
TARGET_P50_MS = 5.0
TARGET_P99_MS = 20.0
FIRST_PHONE = 1001
QUEUE_ID = "hotline"
LAG_INTERVAL_S = 0.005
_TRUNK_PREFIX = "PJSIP/pstn-"
_PJSIP_CHANNEL = re.compile(r"^PJSIP/(?P<endpoint>[^-/;]+)-[0-9a-f]+$")


# ---------------------------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# ---------------------------------------------------------------------------------- the probe


@dataclass(slots=True)
class Probe:
    """What happens on the PBX side, and the dispatch samples taken from it.

    A freed agent is *owed* a caller when more callers wait than agents are idle: every idle
    agent (this one included) must then be rung. Waiting callers are those queued by the IVR
    (in ``acd-wait``) with no offer open; idle agents those not rung since their last call.
    """

    phones: frozenset[str]
    calls: int
    #: agent phones not rung since their last call ended (all of them at first)
    idle: set[str] = field(default_factory=set)
    #: queued callers (in acd-wait) without an open offer
    waiting: set[str] = field(default_factory=set)
    #: callers with an open offer (an Originate read, its agent leg still up)
    offered: set[str] = field(default_factory=set)
    #: agent leg Uniqueid (the Originate's ChannelId) -> the caller's channel
    legs: dict[str, str] = field(default_factory=dict)
    #: phone -> (when, Uniqueid): its agent was freed (Hangup written) while owed a caller
    pending: dict[str, tuple[float, str]] = field(default_factory=dict)
    #: (agent leg Uniqueid of the Hangup, ChannelId of the next Originate, seconds between
    #: them as seen in the simulator's loop)
    samples: list[tuple[str, str, float]] = field(default_factory=list)
    in_ivr: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)
    frees: int = 0
    frees_owed: int = 0
    requeued: int = 0
    originates: int = 0
    offer_failures: int = 0
    peak_waiting: int = 0
    resynced: asyncio.Event = field(default_factory=asyncio.Event)
    ivr_slot: asyncio.Event = field(default_factory=asyncio.Event)
    all_ended: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.idle.update(self.phones)

    # --- from the daemon's AMI session, timed there

    def hangup_sent(self, event: AmiEvent, at: float) -> None:
        endpoint = _endpoint(event.get("Channel") or "")
        if endpoint is None or endpoint not in self.phones:
            return
        caller = self.legs.pop(event.get("Uniqueid") or "", None)
        if caller is not None:
            self.offered.discard(caller)
            if caller not in self.answered and caller not in self.ended:
                self.requeued += 1  # the offer ended before the bridge: the caller waits again
                self._wait(caller)
        self.frees += 1
        if len(self.waiting) > len(self.idle):
            self.pending[endpoint] = (at, event.get("Uniqueid") or "")
            self.frees_owed += 1
        self.idle.add(endpoint)

    def action_read(self, msg: AmiMessage, at: float) -> None:
        action = msg.action.strip().lower()
        if action == "devicestatelist":
            self.resynced.set()  # the daemon's resync on connection is under way
            return
        if action != "originate":
            return
        self.originates += 1
        tech, _, endpoint = msg.get("Channel").partition("/")
        self.idle.discard(endpoint)
        for item in msg.get_all("Variable"):
            for part in item.split(","):
                name, _, value = part.partition("=")
                if name.strip() == "ACD_CALLER_CHANNEL":
                    self.waiting.discard(value)
                    self.offered.add(value)
                    self.legs[msg.get("ChannelId")] = value
        freed = self.pending.pop(endpoint, None)
        if freed is not None and tech.upper() == "PJSIP":
            self.samples.append((freed[1], msg.get("ChannelId"), at - freed[0]))

    # --- from the event bus (every event the PBX emits)

    def on_event(self, event: AmiEvent) -> None:
        name = event.name
        if name == "Newexten":
            channel = event.get("Channel") or ""
            if channel.startswith(_TRUNK_PREFIX) and event.get("Context") == "acd-wait":
                self._left_ivr(channel)
                if channel not in self.offered and channel not in self.answered:
                    self._wait(channel)
        elif name == "BridgeEnter":
            channel = event.get("Channel") or ""
            if channel.startswith(_TRUNK_PREFIX):
                self.answered.add(channel)
        elif name == "Hangup":
            channel = event.get("Channel") or ""
            if channel.startswith(_TRUNK_PREFIX):
                self.waiting.discard(channel)
                self._left_ivr(channel)
                self.ended.add(channel)
                if len(self.ended) >= self.calls:
                    self.all_ended.set()
        elif name == "OriginateResponse" and event.get("Response") != "Success":
            self.offer_failures += 1

    def _wait(self, caller: str) -> None:
        self.waiting.add(caller)
        self.peak_waiting = max(self.peak_waiting, len(self.waiting))

    def _left_ivr(self, channel: str) -> None:
        if channel in self.in_ivr:
            self.in_ivr.discard(channel)
            self.ivr_slot.set()


def _endpoint(channel: str) -> str | None:
    match = _PJSIP_CHANNEL.match(channel)
    return match.group("endpoint") if match else None


class _TimedSession(AmiSession):
    """The simulator's AMI session, timing what matters to the probe."""

    probe: Probe | None = None

    def on_event(self, event: AmiEvent) -> None:
        super().on_event(event)
        probe = self.probe
        if probe is not None and event.name == "Hangup" and self.authenticated:
            probe.hangup_sent(event, time.perf_counter())

    async def dispatch(self, msg: AmiMessage) -> None:
        if self.probe is not None:
            self.probe.action_read(msg, time.perf_counter())
        await super().dispatch(msg)


class _TimedAmiServer(AmiServer):
    """Serves :class:`_TimedSession`\\ s (otherwise :class:`AmiServer`'s ``_accept``)."""

    probe: Probe | None = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _TimedSession(self, reader, writer)
        session.probe = self.probe
        self.sessions.add(session)
        self.connections_accepted += 1
        session.task = asyncio.current_task()
        try:
            await session.run()
        except asyncio.CancelledError:
            session.abort()


class _Phones:
    """The agents' phones: each ring answered after its own random delay, each conversation
    ended by the agent after its own random talk time, counted from the bridge - or, for the
    conversations that begin while the callers are still being placed, from :meth:`release`
    (so that every caller is queued before the first agent hangs up, however slow the host).
    Once every caller has been connected nobody waits any more: the conversations left are
    ended within a second (their hang-ups are not samples; waiting for them is only time)."""

    def __init__(
        self,
        pbx: SimulatedPBX,
        rng: random.Random,
        answer_max: float,
        talk: tuple[float, float],
        calls: int,
    ) -> None:
        self.pbx = pbx
        self.rng = rng
        self.answer_max = answer_max
        self.talk = talk
        self.calls = calls
        self.holding = True
        self.held: list[tuple[Phone, str]] = []
        self.talking: dict[str, asyncio.TimerHandle] = {}  # agent leg -> its hang-up
        self.connected = 0  # callers that entered a bridge
        self.released_at: float | None = None  # loop time

    def on_event(self, event: AmiEvent) -> None:
        name = event.name
        if name == "Hangup":
            self.talking.pop(event.get("Channel") or "", None)
            return
        if name != "Newchannel" and name != "BridgeEnter":
            return
        channel = event.get("Channel") or ""
        if name == "BridgeEnter" and channel.startswith(_TRUNK_PREFIX):
            self.connected += 1
            if self.connected >= self.calls and not self.holding:
                asyncio.get_running_loop().call_soon(self._wind_down)
            return
        endpoint = _endpoint(channel)
        if endpoint is None or endpoint == self.pbx.config.trunk_endpoint:
            return
        phone = self.pbx.core.phones.get(endpoint)
        if phone is None:
            return
        if name == "Newchannel":  # read by the phone when it starts ringing
            phone.answer_after = self.rng.uniform(0.0, self.answer_max)
        elif self.holding:
            self.held.append((phone, channel))
        else:
            self._talk(phone, channel, self.rng.uniform(*self.talk))

    def release(self) -> None:
        """Every caller is placed: the conversations held so far start their talk time."""
        self.holding = False
        self.released_at = asyncio.get_running_loop().time()
        held, self.held = self.held, []
        for phone, channel in held:
            self._talk(phone, channel, self.rng.uniform(*self.talk))
        if self.connected >= self.calls:
            self._wind_down()

    def _wind_down(self) -> None:
        now = asyncio.get_running_loop().time()
        for channel, handle in list(self.talking.items()):
            if handle.when() - now > 1.0:
                handle.cancel()
                phone = self.pbx.core.phones.get(_endpoint(channel) or "")
                if phone is not None:
                    self._talk(phone, channel, self.rng.uniform(0.0, 1.0))

    def _talk(self, phone: Phone, channel: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self.talking[channel] = loop.call_later(seconds, phone.hangup, channel)


# ---------------------------------------------------------------------------------- the daemon


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def phone_of(index: int) -> str:
    return str(FIRST_PHONE + index)


def write_config(directory: Path, ami: tuple[str, int], agi_port: int, agents: int) -> Path:
    """The daemon's configuration (JSON is YAML); state files beside it."""
    config = {
        "ami": {"host": ami[0], "port": ami[1]},
        "fastagi": {"host": "127.0.0.1", "port": agi_port},
        "http": {"host": "127.0.0.1", "port": free_port()},
        # Call records: SQLite beside the rest (never the default, relative to the cwd).
        "database": {
            "url": f"sqlite+aiosqlite:///{directory / 'acd.sqlite3'}",
            "spool_directory": str(directory / "db-spool"),
        },
        "routing": {
            "skills": ["operator"],
            "queues": [
                {
                    "id": QUEUE_ID,
                    "skills": {"operator": 1},
                    "wrap_up_seconds": 0,
                    "ring_timeout_seconds": 120,
                    "max_misses": 1000,
                    "announce_every_seconds": 3600,
                }
            ],
            "agents": [
                {
                    "id": f"a{phone_of(i)}",
                    "phone": phone_of(i),
                    "skills": {"operator": 5},
                    "auto_login": True,
                }
                for i in range(agents)
            ],
            "presence_file": str(directory / "presence.json"),
            "journal_file": str(directory / "calls.jsonl"),
        },
    }
    path = directory / "acd.yaml"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    return path


@dataclass(frozen=True, slots=True)
class ProcStats:
    cpu_s: float
    peak_rss_mb: float


def proc_stats(pid: int) -> ProcStats | None:
    """CPU seconds (user + system) and peak RSS (VmHWM) of a live process; None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    hwm_kib = 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            hwm_kib = int(line.split()[1])
    return ProcStats(cpu, round(hwm_kib / 1024, 1))


def cpu_pressure_us() -> int | None:
    """Microseconds in which some runnable task waited for a CPU (Linux PSI), since boot."""
    try:
        text = Path("/proc/pressure/cpu").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("some "):
            return int(line.rpartition("total=")[2])
    return None


#: ``python -c`` program: ``acd`` under cProfile; SIGUSR2 writes the stats so far to argv[1]
#: (taken before the daemon is stopped: its shutdown is not what is measured).
_PROFILED = """\
import cProfile, os, signal, sys
from acd.cli import main
out = sys.argv.pop(1)
profile = cProfile.Profile()
def dump(*_):
    profile.disable()
    profile.dump_stats(out + ".tmp")
    os.replace(out + ".tmp", out)
    profile.enable()
signal.signal(signal.SIGUSR2, dump)
profile.enable()
sys.exit(main(sys.argv[1:]))
"""


class Daemon:
    """``python -m acd serve`` (under cProfile if ``profile`` is a path), log to a file."""

    def __init__(self, config: Path, log_path: Path, profile: str | None = None) -> None:
        self.config = config
        self.log_path = log_path
        self.profile = profile
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        runner = ["-c", _PROFILED, self.profile] if self.profile else ["-m", "acd"]
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *runner,
                "serve",
                "--config",
                str(self.config),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def dump_profile(self, timeout: float = 30.0) -> bool:
        """Have the profiled daemon write its stats (SIGUSR2); whether it did in time."""
        if self.profile is None or self.process is None or self.process.returncode is not None:
            return False
        out = Path(self.profile)
        out.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR2)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not out.exists():
            if loop.time() > deadline or self.process.returncode is not None:
                return False
            await asyncio.sleep(0.05)
        return True

    async def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM and a clean exit within ``grace`` seconds, else SIGKILL; the exit status."""
        process = self.process
        if process is None:
            return None
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(grace):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        return process.returncode


async def _until(what: str, event: asyncio.Event, daemon: Daemon, timeout: float) -> None:
    """Wait for ``event``; fail early if the daemon exits, or after ``timeout`` seconds."""
    assert daemon.process is not None
    waiter = asyncio.ensure_future(event.wait())
    exited = asyncio.ensure_future(daemon.process.wait())
    try:
        done, _ = await asyncio.wait(
            {waiter, exited}, timeout=timeout, return_when="FIRST_COMPLETED"
        )
    finally:
        waiter.cancel()
        exited.cancel()
    if waiter in done:
        return
    if exited in done:
        raise RuntimeError(
            f"bench: the daemon exited while waiting for {what}:\n{daemon.log_tail()}"
        )
    raise RuntimeError(f"bench: {what} not within {timeout:g} s:\n{daemon.log_tail()}")


async def _wait_log(daemon: Daemon, text: str, timeout: float) -> None:
    """Poll the daemon's log file for ``text`` (start-up only: the log is not followed later)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with contextlib.suppress(OSError):
            if text in daemon.log_path.read_text(encoding="utf-8", errors="replace"):
                return
        assert daemon.process is not None
        if daemon.process.returncode is not None:
            raise RuntimeError(f"bench: the daemon exited at start-up:\n{daemon.log_tail()}")
        if loop.time() > deadline:
            raise RuntimeError(
                f"bench: daemon not ready within {timeout:g} s:\n{daemon.log_tail()}"
            )
        await asyncio.sleep(0.02)


class _LoopLag:
    """How late a periodic timer of this (the simulator's) event loop fires."""

    def __init__(self, interval: float = LAG_INTERVAL_S) -> None:
        self.interval = interval
        self.lags: list[tuple[float, float]] = []  # (loop time, how late)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            planned = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            now = loop.time()
            self.lags.append((now, max(0.0, now - planned)))

    def __enter__(self) -> _LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def _journal_outcomes(path: Path) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    with contextlib.suppress(OSError), path.open(encoding="utf-8") as fh:
        for line in fh:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if record.get("kind") == "finished":
                    outcome = str((record.get("data") or {}).get("outcome"))
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# ---------------------------------------------------------------------------------- the run


async def _place_calls(
    pbx: SimulatedPBX, probe: Probe, phones: _Phones, calls: int, concurrency: int
) -> None:
    """Place ``calls`` callers, at most ``concurrency`` of them in the IVR at a time; once the
    last is through the IVR, release the agents' conversations."""
    for i in range(calls):
        while len(probe.in_ivr) >= concurrency:
            probe.ivr_slot.clear()
            await probe.ivr_slot.wait()
        call = await pbx.place_call(f"7900{i:07d}", f"Caller {i}")
        if not call.is_hung_up:
            probe.in_ivr.add(call.channel)
    while probe.in_ivr:
        probe.ivr_slot.clear()
        await probe.ivr_slot.wait()
    phones.release()


class _TapProcess:
    """:mod:`acd.bench.ami_tap` between the daemon and the simulator's AMI server."""

    def __init__(self, upstream: tuple[str, int], out: Path) -> None:
        self.upstream = upstream
        self.out = out
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "acd.bench.ami_tap",
            "--upstream",
            f"{self.upstream[0]}:{self.upstream[1]}",
            "--out",
            str(self.out),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(30):
            line = await self.process.stdout.readline()
        words = line.decode().split()
        if len(words) != 2 or words[0] != "listening":
            raise RuntimeError(f"bench: the AMI tap did not start ({line!r})")
        self.port = int(words[1])
        return self.port

    async def finish(self) -> dict[str, dict[str, float]]:
        """Wait for the tap to write its times (it does once the daemon's link closed)."""
        process = self.process
        if process is None:
            return {}
        if process.returncode is None:
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.terminate()
                await process.wait()
        try:
            data: dict[str, dict[str, float]] = json.loads(self.out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@dataclass(slots=True)
class _Measured:
    """What one run collected, for :func:`_result`."""

    probe: Probe
    wire: list[float]  # dispatch latencies timed by the tap, seconds
    wire_missing: int  # samples the tap has no time for (should be none)
    lags: list[float]  # the simulator's loop lag during the drain
    fill_s: float
    before: ProcStats | None
    after: ProcStats | None
    pressure: float | None
    run_s: float
    sim_cpu_s: float
    startup_s: float
    exit_code: int | None
    profiled: bool
    journal: dict[str, int]


async def _run(
    calls: int,
    agents: int,
    seed: int,
    talk: tuple[float, float],
    answer_max: float,
    ivr_concurrency: int,
    timeout: float,
    profile: str | None,
    workdir: str | None,
) -> _Measured:
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="acd-e2e-")))
        else:
            directory = Path(workdir)
            directory.mkdir(parents=True, exist_ok=True)
        # The simulator's recordings go to memory when it can: its disk time is not the daemon's.
        shm = Path("/dev/shm")
        spool_parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else directory
        spool = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=spool_parent)))
        pbx = SimulatedPBX(spool_dir=spool, event_log_limit=1000)
        probe = Probe(frozenset(phone_of(i) for i in range(agents)), calls)
        server = _TimedAmiServer(pbx.core, host=pbx.ami.host, port=0, users=pbx.ami.users)
        server.probe = probe
        pbx.ami = server
        pbx.core.bus.subscribe(probe.on_event)
        phones = _Phones(pbx, rng, answer_max, talk, calls)
        pbx.core.bus.subscribe(phones.on_event)
        await pbx.start()
        tap = _TapProcess((pbx.ami_host, pbx.ami_port), directory / "tap.json")
        daemon: Daemon | None = None
        try:
            for i in range(agents):
                pbx.add_phone(phone_of(i))
            agi_port = free_port()
            pbx.point_agi_at("127.0.0.1", agi_port)
            tap_port = await tap.start()
            config = write_config(directory, ("127.0.0.1", tap_port), agi_port, agents)
            daemon = Daemon(config, directory / "daemon.log", profile)
            started = time.perf_counter()
            await daemon.start()
            await _until("the daemon's AMI login and resync", probe.resynced, daemon, 60)
            await _wait_log(daemon, "resynchronised", 30)
            startup_s = time.perf_counter() - started
            before = proc_stats(daemon.pid)
            pressure_before = cpu_pressure_us()

            run_started = time.perf_counter()
            loop_started = asyncio.get_running_loop().time()
            cpu_started = time.process_time()
            with _LoopLag() as lag:
                placing = asyncio.ensure_future(
                    _place_calls(pbx, probe, phones, calls, ivr_concurrency)
                )
                try:
                    await _until("the end of every call", probe.all_ended, daemon, timeout)
                finally:
                    placing.cancel()
                with contextlib.suppress(TimeoutError):
                    await pbx.wait_idle(timeout=10)
            run_s = time.perf_counter() - run_started
            sim_cpu_s = time.process_time() - cpu_started
            after = proc_stats(daemon.pid)
            pressure_after = cpu_pressure_us()
            profiled = await daemon.dump_profile()
            exit_code = await daemon.stop()
            times = await tap.finish()
        finally:
            if daemon is not None:
                await daemon.stop()
            await tap.kill()
            await pbx.stop()
        journal = _journal_outcomes(directory / "calls.jsonl")

    hangups, originates = times.get("hangups", {}), times.get("originates", {})
    wire = [
        originates[channel_id] - hangups[uniqueid]
        for uniqueid, channel_id, _ in probe.samples
        if uniqueid in hangups and channel_id in originates
    ]
    pressure = (
        (pressure_after - pressure_before) / 1e6 / run_s
        if pressure_before is not None and pressure_after is not None
        else None
    )
    return _Measured(
        probe=probe,
        wire=wire,
        wire_missing=len(probe.samples) - len(wire),
        lags=[late for at, late in lag.lags if at >= (phones.released_at or math.inf)],
        fill_s=(phones.released_at or loop_started) - loop_started,
        before=before,
        after=after,
        pressure=pressure,
        run_s=run_s,
        sim_cpu_s=sim_cpu_s,
        startup_s=startup_s,
        exit_code=exit_code,
        profiled=profiled,
        journal=journal,
    )


def _result(
    m: _Measured, calls: int, agents: int, seed: int, talk: tuple[float, float], **extra: Any
) -> dict[str, Any]:
    probe = m.probe
    wire = sorted(m.wire)
    seen = sorted(latency for _, _, latency in probe.samples)
    lags = sorted(m.lags)
    before, after = m.before, m.after
    cpu_s = after.cpu_s - before.cpu_s if after is not None and before is not None else None
    answered = len(probe.answered)
    p50, p99 = _ms(percentile(wire, 0.50)), _ms(percentile(wire, 0.99))
    return {
        "bench": "e2e",
        "calls": calls,
        "agents": agents,
        "seed": seed,
        "answered": answered,
        "answered_journal": m.journal.get("answered", 0),
        "not_answered": calls - answered,
        "journal_outcomes": m.journal,
        "offer_failures": probe.offer_failures,
        "requeued": probe.requeued,
        "originates": probe.originates,
        "samples": len(wire),
        "samples_untimed": m.wire_missing,
        "agent_frees": probe.frees,
        "agent_frees_owed_a_caller": probe.frees_owed,
        "unmatched_frees": len(probe.pending),
        "peak_waiting": probe.peak_waiting,
        "dispatch_p50_ms": p50,
        "dispatch_p90_ms": _ms(percentile(wire, 0.90)),
        "dispatch_p99_ms": p99,
        "dispatch_max_ms": _ms(wire[-1]) if wire else 0.0,
        "dispatch_mean_ms": _ms(sum(wire) / len(wire)) if wire else 0.0,
        "target_p50_ms": TARGET_P50_MS,
        "target_p99_ms": TARGET_P99_MS,
        "target_met": bool(wire) and p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS,
        "sim_dispatch_p50_ms": _ms(percentile(seen, 0.50)),
        "sim_dispatch_p99_ms": _ms(percentile(seen, 0.99)),
        "cpu_s": round(cpu_s, 2) if cpu_s is not None else None,
        "cpu_s_per_1000_calls": round(cpu_s * 1000 / calls, 2) if cpu_s is not None else None,
        "daemon_cpu_share": round(cpu_s / m.run_s, 2) if cpu_s is not None else None,
        "daemon_startup_cpu_s": round(before.cpu_s, 2) if before is not None else None,
        "peak_rss_mb": after.peak_rss_mb if after is not None else None,
        "daemon_exit_code": m.exit_code,  # 0: a clean stop on SIGTERM; -9: killed after 10 s
        "profile_written": m.profiled,
        "duration_s": round(m.run_s, 2),
        "fill_s": round(m.fill_s, 2),
        "startup_s": round(m.startup_s, 2),
        "calls_per_s": round(calls / m.run_s, 1),
        "sim_cpu_share": round(m.sim_cpu_s / m.run_s, 2),
        "sim_loop_lag_p50_ms": _ms(percentile(lags, 0.50)),
        "sim_loop_lag_p99_ms": _ms(percentile(lags, 0.99)),
        "sim_loop_lag_max_ms": _ms(lags[-1]) if lags else 0.0,
        "host_cpus": os.cpu_count(),
        "host_cpu_pressure": round(m.pressure, 2) if m.pressure is not None else None,
        "rate": round(agents / ((talk[0] + talk[1]) / 2), 2),
        "talk_s": [round(talk[0], 3), round(talk[1], 3)],
        **extra,
    }


def run(
    calls: int = 1000,
    agents: int = 500,
    rate: float = DEFAULT_RATE,
    seed: int = 1,
    profile: str | None = None,
    *,
    answer_max: float = 0.05,
    ivr_concurrency: int = 50,
    timeout: float | None = None,
    workdir: str | None = None,
) -> dict[str, Any]:
    """Run ``calls`` calls through the daemon with ``agents`` agents; the result as a dict.

    ``rate``: calls per second the agents finish when all are busy; talk times are uniform
    in 0.5-1.5 x ``agents / rate`` seconds. ``profile``: a path to write a cProfile of the
    daemon to. ``timeout`` (default: 60 s plus twice the expected run) bounds the calls'
    part. ``workdir``: keep the daemon's configuration, log and journal there (default: a
    temporary directory). Raises :class:`ValueError` on bad parameters, :class:`RuntimeError`
    if the daemon does not start or the calls do not end.
    """
    for name, value in (("calls", calls), ("agents", agents), ("ivr_concurrency", ivr_concurrency)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if agents > 8999:
        raise ValueError(f"agents must be at most 8999 (phones 1001-9999), got {agents}")
    if not (math.isfinite(rate) and rate > 0) or not (
        math.isfinite(answer_max) and answer_max >= 0
    ):
        raise ValueError("rate must be above 0 and answer_max 0 or more")
    mean_talk = agents / rate
    talk = (0.5 * mean_talk, 1.5 * mean_talk)
    if timeout is None:
        timeout = 60.0 + 2 * (calls / rate + talk[1])
    measured = asyncio.run(
        _run(
            calls,
            agents,
            seed,
            talk,
            answer_max,
            ivr_concurrency,
            timeout,
            profile,
            workdir,
        )
    )
    return _result(
        measured,
        calls,
        agents,
        seed,
        talk,
        answer_max_s=answer_max,
        ivr_concurrency=ivr_concurrency,
        profile=profile,
    )


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run()))
