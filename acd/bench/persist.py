"""Call records written per second on PostgreSQL while the router runs, and what writing
them costs routing.

The daemon's own call centre (:class:`~acd.callcenter.CallCenter` over the real router, one
queue, enough agents) runs in real time in this process, on one event loop, with scripted
phones instead of AMI: ``calls`` callers arrive evenly at ``rate`` per second; each emits
``arrived`` and ``prompt`` as the FastAGI script does and is queued; the agent's phone answers
5 ms after the ring; the call talks for an exponential time (mean 200 ms), then the caller
hangs up; wrap-up lasts 50 ms. Every call leaves 6 call events and 4 agent state changes.

The same load runs three times (after a short warm-up): with no writer (the sink only
measures); with :class:`~acd.storage.writer_process.WriterProcess`, the daemon's writer (the
database work in a child process); and with :class:`~acd.storage.writer.CallRecordWriter`
in the daemon's own event loop, for comparison. Each writer gets a fresh database (migrated
as ``acd serve`` does). Reported:

* ``records_per_s``: complete call records (the ``calls`` row with its outcome, its events,
  its agents' states) committed per second while 10 % to 90 % of them were committed (the
  ramp and the tail measure the callers, not the writer); it can only exceed the offered
  rate by catching up. ``capacity_records_per_s`` is what the transaction time alone allows;
* routing latency: from the moment a match became possible (a caller arrived while an agent
  was free, or an agent's wrap-up ended while a caller waited) to the offer, on the wall
  clock: the router's decision plus any time the event loop or the CPU was busy with
  something else. p50, p99 and max for each run; and the daemon process's CPU time per call.

On a host with few cores, PostgreSQL, the writer process and the daemon compete for CPU: the
daemon's own cost does not change, but its latency does when the CPUs are all busy.
``routing_p99_added_ms`` is what the writer process adds to the routing p99 (its run's p99
minus the run without a writer).

``cpus`` (``--cpus``) places the processes, as the ``cpus`` settings of ``acd serve`` do:

* ``split`` (the default): this process (the daemon's side) runs on the first CPU it may
  use, the writer process on the others, and so does the local PostgreSQL server (its
  postmaster and every process of it: new backends inherit the postmaster's CPUs) when the
  database is on this host (``127.0.0.1``, ``localhost`` or a socket) and this user may
  move its processes (root, or the server's own user). Every phase, the run without a
  writer included, runs under the same placement, and every process's CPUs are put back
  at the end, whatever happens. With a single CPU to run on there is nothing to split: the
  run is ``shared`` and ``cpu_placement`` says why;
* ``shared``: nothing is pinned; the scheduler shares the CPUs out.

``cpu_placement`` reports the mode, the CPUs of the daemon, of the writer process and of
PostgreSQL (or why PostgreSQL was not pinned).

The databases are fresh ones on the local PostgreSQL made through the ``acd_test`` role (as
the tests do; ``ACD_BENCH_PG_DSN`` names another admin DSN), dropped at the end; ``url`` names
one to use instead (both writers then share it).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from acd import cpus as cpu_placement
from acd.call_events import CallEvent, CallEventSink
from acd.callcenter import CallCenter, CallInfo
from acd.config import mask_database_url
from acd.routing_config import AgentSettings, QueueSettings, RoutingSettings, build_router
from acd.storage.writer import CallRecordWriter
from acd.storage.writer_process import WriterProcess

DEFAULT_ADMIN_DSN = "postgresql://acd_test:acd_test@127.0.0.1:5432/postgres"
TARGET_RECORDS_PER_S = 2000
QUEUE = "hotline"
CPU_MODES = ("split", "shared")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def admin_dsn() -> str:
    return os.environ.get("ACD_BENCH_PG_DSN", DEFAULT_ADMIN_DSN)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class Probe:
    """A sink that times every offer from the moment it became possible."""

    wrap_seconds: float
    arrival_due: dict[str, float] = field(default_factory=dict)
    free_due: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    finished: int = 0
    all_finished: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def emit(self, event: CallEvent) -> None:
        kind = event.kind
        if kind == "offered":
            agent = event.data.get("agent_id", "")
            due = max(self.arrival_due.get(event.call_id, 0.0), self.free_due.get(agent, 0.0))
            self.latencies.append(time.time() - due)
        elif kind == "agent_state" and event.data.get("new") == "wrap_up":
            self.free_due[event.data["agent_id"]] = event.at + self.wrap_seconds
        elif kind == "finished":
            self.finished += 1
            if self.finished >= self.expected:
                self.all_finished.set()


class Fanout:
    def __init__(self, *sinks: CallEventSink) -> None:
        self.sinks = sinks

    def emit(self, event: CallEvent) -> None:
        for sink in self.sinks:
            sink.emit(event)


class ScriptedPhones:
    """The :class:`~acd.callcenter.Telephony` port: phones answer, callers talk, hang up."""

    def __init__(self, center: CallCenter, answer: float, talk: float, seed: int) -> None:
        self.center = center
        self.answer = answer
        self.talk = talk
        self.rng = random.Random(seed)

    async def ring(self, call: CallInfo, agent: AgentSettings, timeout: float) -> None:
        asyncio.get_running_loop().call_later(self.answer, self._pick_up, call.call_id, agent.id)

    def _pick_up(self, call_id: str, agent_id: str) -> None:
        center = self.center
        if center.offer_accepted(call_id, agent_id):
            center.entered_bridge(call_id, caller=True)
            center.entered_bridge(call_id, caller=False)
            talk = self.rng.expovariate(1.0 / self.talk)
            asyncio.get_running_loop().call_later(talk, center.caller_hung_up, call_id)

    async def stop_ringing(self, call: CallInfo, agent: AgentSettings) -> None:
        return None

    async def announce(self, call: CallInfo) -> None:
        return None


def routing_settings(agents: int, wrap: float) -> RoutingSettings:
    return RoutingSettings(
        skills=["operator"],
        queues=[
            QueueSettings(
                id=QUEUE,
                skills={"operator": 1},
                wrap_up_seconds=wrap,
                ring_timeout_seconds=30.0,
                max_misses=1000,
                announce_every_seconds=3600.0,
            )
        ],
        agents=[
            AgentSettings(
                id=f"a{i}", phone=str(10_000 + i), skills={"operator": 5}, auto_login=True
            )
            for i in range(agents)
        ],
        default_queue=QUEUE,
    )


@dataclass
class Phase:
    latencies: list[float]
    offered_per_s: float
    cpu_s: float  # this process (the daemon's side)
    records: list[tuple[float, int]] = field(default_factory=list)  # (time, committed)
    writer: dict[str, Any] | None = None


Writer = CallRecordWriter | WriterProcess


async def _phase(
    *,
    calls: int,
    rate: float,
    agents: int,
    answer: float,
    talk: float,
    wrap: float,
    seed: int,
    writer: Writer | None,
) -> Phase:
    loop = asyncio.get_running_loop()
    routing = routing_settings(agents, wrap)
    probe = Probe(wrap, expected=calls)
    sink: CallEventSink = probe if writer is None else Fanout(probe, writer)
    router = build_router(routing, "Europe/Moscow", start=time.time())
    center = CallCenter(router, routing, sink)
    center.telephony = ScriptedPhones(center, answer, talk, seed)
    if writer is not None:
        await writer.start()
    center.restore_presence()
    requirements = routing.queues[0].requirements()
    clock = loop.create_task(center.run())
    sampler: asyncio.Task[None] | None = None
    phase = Phase([], 0.0, 0.0)
    if writer is not None:
        sampler = loop.create_task(_sample(writer, phase.records))
    gc.collect()
    gc.freeze()
    try:
        cpu = time.process_time()
        started = time.time()
        start = loop.time()
        for i in range(calls):
            due = start + i / rate
            lag = due - loop.time()
            if lag > 0:
                await asyncio.sleep(lag)
            call_id = f"{seed}-{i}"
            now = time.time()
            probe.arrival_due[call_id] = started + i / rate
            sink.emit(
                CallEvent(
                    call_id,
                    now,
                    "arrived",
                    {"channel": f"PJSIP/trunk-{i}", "caller": f"+7701{i:07d}", "dialled": "8800"},
                )
            )
            sink.emit(CallEvent(call_id, now, "prompt", {"prompt": "acd/greeting"}))
            center.queue_call(
                CallInfo(
                    call_id=call_id,
                    channel=f"PJSIP/trunk-{i}",
                    queue_id=QUEUE,
                    language="ru",
                    priority=0,
                    requirements=requirements,
                    arrived_at=now,
                    caller_number=f"+7701{i:07d}",
                    dialled="8800",
                )
            )
        offered_s = loop.time() - start
        await asyncio.wait_for(probe.all_finished.wait(), 120 + talk * 20)
        last_call_s = time.time() - started
        phase.latencies = sorted(probe.latencies)
        phase.offered_per_s = calls / offered_s
        if writer is not None:
            if not await writer.drain(600):
                raise RuntimeError("the writer did not finish within 10 minutes")
            phase.records.append((time.time(), writer.stats.calls_finished))
            stats = writer.stats
            phase.writer = {
                "events": stats.events_written,
                "records": stats.calls_finished,
                "transactions": stats.transactions,
                "write_seconds": stats.write_seconds,
                "spooled": stats.spooled,
                "failures": stats.failures,
                "stored_after_s": phase.records[-1][0] - started,
                "last_call_s": last_call_s,
            }
        phase.cpu_s = time.process_time() - cpu
        return phase
    finally:
        gc.unfreeze()
        for task in (clock, sampler):
            if task is not None:
                await _stop(task)
        await center.aclose()
        if writer is not None:
            await writer.aclose()


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _sample(writer: Writer, into: list[tuple[float, int]]) -> None:
    """The records committed so far, every 50 ms."""
    while True:
        into.append((time.time(), writer.stats.calls_finished))
        await asyncio.sleep(0.05)


def steady_rate(samples: Sequence[tuple[float, int]], total: int) -> float:
    """Records per second between 10 % and 90 % of ``total`` committed (ramp and tail left
    out: they measure the callers, not the writer)."""

    def when(count: float) -> float:
        return next(t for t, n in samples if n >= count)

    low, high = 0.1 * total, 0.9 * total
    if total < 10 or not samples or samples[-1][1] < high:
        return 0.0
    span = when(high) - when(low)
    return (high - low) / span if span > 0 else 0.0


def _latency(phase: Phase) -> dict[str, float]:
    values = phase.latencies
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 3),
        "p99_ms": round(percentile(values, 0.99) * 1000, 3),
        "max_ms": round((values[-1] if values else 0.0) * 1000, 3),
        "offers": len(values),
    }


# --------------------------------------------------------------------------- CPU placement


@dataclass
class Placement:
    """Where the bench's processes run (``--cpus``)."""

    mode: str  # what ran: split or shared
    requested: str
    daemon_cpus: list[int]
    writer_cpus: list[int]
    postgresql: list[int] | str  # its CPUs, or why it was not pinned
    pinned: bool = False
    note: str | None = None

    @property
    def writer_pin(self) -> list[int] | None:
        """What the writer process is told (None: it is not pinned)."""
        return self.writer_cpus if self.pinned else None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mode": self.mode,
            "requested": self.requested,
            "daemon_cpus": self.daemon_cpus,
            "writer_cpus": self.writer_cpus,
            "postgresql_cpus": self.postgresql,
        }
        if self.note:
            data["note"] = self.note
        return data


def is_local(dsn: str) -> bool:
    """Whether a PostgreSQL URL names this host (a loopback address, or a Unix socket)."""
    parts = urlsplit(dsn)
    host = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    return not host or host.startswith("/") or host in LOCAL_HOSTS


class PostgresPins:
    """The local PostgreSQL server's processes moved to some CPUs, and put back.

    One bench at a time moves a server (a lock file per postmaster): a second one would
    take the first one's placement for the server's own and "restore" that.
    """

    def __init__(self) -> None:
        self.postmaster: int | None = None
        self.before: dict[int, frozenset[int]] = {}  # every process moved, with its CPUs
        self._lock: IO[bytes] | None = None

    def pin(self, postmaster: int, cpus: Sequence[int]) -> list[int] | str:
        """Move the server to ``cpus``: its postmaster first, so that backends forked from
        now on start there, then every process it has started. Returns the CPUs, or why
        nothing was moved."""
        if not self._take_lock(postmaster):
            return "not pinned: another acd bench has moved the PostgreSQL server right now"
        try:
            self._move(postmaster, cpus)
        except PermissionError:
            return (
                "not pinned: this user may not move the PostgreSQL processes "
                "(run the bench as root or as the server's user)"
            )
        except (OSError, ValueError) as exc:
            return f"not pinned: {exc}"
        self.postmaster = postmaster
        for child in cpu_placement.children(postmaster):
            with contextlib.suppress(OSError):  # ended meanwhile
                self._move(child, cpus)
        return sorted(cpus)

    def _take_lock(self, postmaster: int) -> bool:
        import fcntl

        path = Path(tempfile.gettempdir()) / f"acd-bench-postgresql-{postmaster}.lock"
        try:
            lock = path.open("ab")
        except OSError:
            return True  # (someone else's file we may not open: go on without)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            return False
        self._lock = lock
        return True

    def _move(self, pid: int, cpus: Sequence[int]) -> None:
        before = cpu_placement.get_affinity(pid)
        cpu_placement.set_affinity(pid, cpus)
        self.before.setdefault(pid, before)

    def restore(self) -> None:
        """Every process moved gets its CPUs back; backends started meanwhile (they took the
        postmaster's) get the postmaster's original ones."""
        for pid, cpus in self.before.items():
            with contextlib.suppress(OSError, ValueError):
                cpu_placement.set_affinity(pid, cpus)
        postmaster, self.postmaster = self.postmaster, None
        original = self.before.get(postmaster) if postmaster is not None else None
        if postmaster is not None and original is not None:
            for child in cpu_placement.children(postmaster):
                if child not in self.before:
                    with contextlib.suppress(OSError, ValueError):
                        cpu_placement.set_affinity(child, original)
        self.before.clear()
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None


@contextlib.asynccontextmanager
async def placed(requested: str, postmaster: int | str) -> AsyncIterator[Placement]:
    """Run the body under the ``requested`` placement; ``postmaster`` is the PID of the
    PostgreSQL server to move too, or why it is not to be moved."""
    allowed = sorted(cpu_placement.allowed_cpus())
    if requested == "shared" or len(allowed) < 2 or not cpu_placement.supported():
        note, why = None, "not pinned: --cpus shared"
        if requested == "split":
            why = "not pinned: ran shared"
            note = (
                "split needs CPU pinning, which this platform lacks: ran shared"
                if not cpu_placement.supported()
                else f"split needs two CPUs, this process may run on CPU "
                f"{cpu_placement.format_cpus(allowed)} only: ran shared"
            )
        yield Placement("shared", requested, allowed, allowed, why, note=note)
        return
    daemon, others = allowed[:1], allowed[1:]
    own = cpu_placement.get_affinity(0)
    server = PostgresPins()
    try:
        cpu_placement.set_affinity(0, daemon)
        postgresql = postmaster if isinstance(postmaster, str) else server.pin(postmaster, others)
        yield Placement("split", requested, daemon, others, postgresql, pinned=True)
    finally:
        server.restore()
        cpu_placement.set_affinity(0, own)


def _remote(dsn: str) -> str:
    return f"not pinned: the server ({urlsplit(dsn).hostname}) is not on this host"


async def _postmaster(admin: Any, dsn: str) -> int | str:
    """The PID of the server's postmaster (the parent of ``admin``'s backend, looked up while
    that runs) if the server runs on this host, else why it is not pinned."""
    if not is_local(dsn):
        return _remote(dsn)
    backend = int(await admin.fetchval("SELECT pg_backend_pid()"))
    postmaster = cpu_placement.parent(backend)
    if postmaster is None or cpu_placement.command_name(postmaster) != "postgres":
        return (
            f"not pinned: the server's processes are not visible here (its backend {backend} "
            "is not a postgres process of this host: another container?)"
        )
    return postmaster


async def _server_of(url: str) -> int | str:
    """:func:`_postmaster` for a ``--url`` database (through a connection of its own)."""
    if not url.startswith("postgresql+asyncpg://"):
        return "not pinned: the database is SQLite"
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    if not is_local(dsn):
        return _remote(dsn)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        return await _postmaster(connection, dsn)
    finally:
        await connection.close()


# --------------------------------------------------------------------------- the run


async def _measure(
    urls: Sequence[str], options: dict[str, Any], placement: Placement
) -> dict[str, Any]:
    calls: int = options["calls"]
    common = {k: options[k] for k in ("calls", "rate", "agents", "answer", "talk", "wrap", "seed")}
    warm_up = {**common, "calls": max(1, calls // 10)}
    await _phase(**warm_up, writer=None)  # first-time code paths, not measured
    without = await _phase(**common, writer=None)
    with tempfile.TemporaryDirectory(prefix="acd-bench-persist-") as spool:
        process = await _phase(
            **common,
            writer=WriterProcess(urls[0], Path(spool) / "process", cpus=placement.writer_pin),
        )
        inline = await _phase(**common, writer=CallRecordWriter(urls[-1], Path(spool) / "inline"))
    assert process.writer is not None and inline.writer is not None
    stats = process.writer
    records_per_s = steady_rate(process.records, stats["records"])
    per_call = 1e6 / calls
    without_latency, process_latency = _latency(without), _latency(process)
    return {
        "calls": calls,
        "agents": options["agents"],
        "offered_calls_per_s": round(process.offered_per_s),
        "records_per_s": round(records_per_s),
        "events_per_s": round(records_per_s * stats["events"] / max(stats["records"], 1)),
        "events_per_call": round(stats["events"] / max(stats["records"], 1), 1),
        "capacity_records_per_s": round(stats["records"] / max(stats["write_seconds"], 1e-9)),
        "writer_busy_share": round(stats["write_seconds"] / stats["stored_after_s"], 2),
        "transactions": stats["transactions"],
        "last_record_after_last_call_s": round(stats["stored_after_s"] - stats["last_call_s"], 2),
        # Kept up: the last record was in the database within a second of the last call's end
        # (records_per_s cannot exceed the offered rate for long: with --rate below the
        # target the target cannot be met, only kept up with).
        "kept_up": stats["stored_after_s"] - stats["last_call_s"] < 1.0 and not stats["spooled"],
        "spooled": stats["spooled"],
        "routing_without_writer": without_latency,
        "routing_with_writer": process_latency,
        "routing_with_writer_in_process": _latency(inline),
        "daemon_cpu_us_per_call": {
            "without_writer": round(without.cpu_s * per_call),
            "with_writer": round(process.cpu_s * per_call),
            "with_writer_in_process": round(inline.cpu_s * per_call),
        },
        "records_per_s_in_process": round(steady_rate(inline.records, inline.writer["records"])),
        "database": mask_database_url(urls[0]),
        "target_records_per_s": TARGET_RECORDS_PER_S,
        "target_met": records_per_s >= TARGET_RECORDS_PER_S,
        "cpu_placement": placement.as_json(),
        "routing_p99_added_ms": round(process_latency["p99_ms"] - without_latency["p99_ms"], 3),
    }


async def _reachable(url: str) -> str | None:
    from sqlalchemy import text

    from acd.storage.db import make_engine

    engine = make_engine(url)
    try:
        async with asyncio.timeout(10), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"the database {mask_database_url(url)} is not reachable ({exc})"
    finally:
        await engine.dispose()
    return None


async def _run(url: str | None, options: dict[str, Any]) -> dict[str, Any] | str:
    if url is not None:
        problem = await _reachable(url)
        if problem:
            return problem
        async with placed(options["cpus"], await _server_of(url)) as placement:
            return await _measure([url], options, placement)
    import asyncpg

    dsn = admin_dsn()
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return (
            f"PostgreSQL is not reachable at {mask_database_url(dsn)} ({exc}); start it "
            "(.ci/run does), set ACD_BENCH_PG_DSN to an admin DSN with CREATEDB, or pass --url"
        )
    names = [f"acd_bench_persist_{uuid.uuid4().hex[:12]}" for _ in range(2)]  # one per writer
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        async with placed(options["cpus"], await _postmaster(admin, dsn)) as placement:
            return await _measure([f"{base}/{name}" for name in names], options, placement)
    finally:
        for name in names:
            await _drop(admin, name)
        await admin.close()


async def _drop(admin: Any, name: str) -> None:
    """Retried while an autovacuum worker (which acd_test may not end) is in the database."""
    import asyncpg

    for attempt in range(300):
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
            if attempt == 299:
                raise
            await asyncio.sleep(0.1)


def run(
    url: str | None = None,
    calls: int = 20_000,
    rate: float = 2500.0,
    agents: int | None = None,
    seed: int = 1,
    cpus: str = "split",
) -> dict[str, Any]:
    """Run the router at ``rate`` calls per second, without and with the writer, with the
    processes placed on CPUs as ``cpus`` says (``split`` or ``shared``)."""
    if calls < 1:
        raise ValueError(f"--calls must be 1 or more, got {calls}")
    if not rate > 0:
        raise ValueError(f"--rate must be more than 0, got {rate:g}")
    if cpus not in CPU_MODES:
        raise ValueError(f"--cpus must be split or shared, got {cpus!r}")
    if agents is None:  # a third more than the load needs (answer + talk + wrap-up)
        agents = max(10, math.ceil(rate * (0.005 + 0.2 + 0.05) * 1.4))
    if url is not None and not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ValueError("--url must be a postgresql+asyncpg:// (or sqlite+aiosqlite://) URL")
    options = {
        "calls": calls,
        "rate": rate,
        "agents": agents,
        "answer": 0.005,
        "talk": 0.2,
        "wrap": 0.05,
        "seed": seed,
        "cpus": cpus,
    }
    result = asyncio.run(_run(url, options))
    if isinstance(result, str):
        raise SystemExit(f"acd bench persist: error: {result}")
    return result
