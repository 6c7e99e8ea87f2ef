"""The call-record writer in a process of its own, so that storing calls costs routing nothing.

The daemon's sink is :class:`WriterProcess`. Its :meth:`~WriterProcess.emit` appends the event
to a list; every ``ship_interval`` (20 ms) a task gives the events their unique keys and sends
them, pickled in one frame, down a pipe to a child process (``python -m
acd.storage.writer_process``), where :class:`~acd.storage.writer.CallRecordWriter` does the
rest: planning the rows, JSON, SQL, the spool. That costs the daemon a few microseconds an
event, and no garbage-collector pressure (what waits for an acknowledgement is a bytes frame);
in-process, the same work took a third of the router's CPU time and showed in its latency
(``acd bench persist``).

The child reports back (``ack`` lines) how many of the records it was sent are durable (in
the database or its spool) and how many are in the database. The daemon keeps every frame
until it is durable:

* the child dies: the daemon appends the unacknowledged records to the spool itself and
  starts a new child, which replays the spool first. Records the dead child had already
  stored are skipped by their keys, so nothing is lost and nothing is stored twice;
* the daemon dies (even SIGKILL): the child reads the pipe to its end, writes or spools all
  it got and exits. Only events not yet shipped (the last ``ship_interval``) are lost from
  the database (the call journal has them);
* ``aclose`` (``App.stop``): the rest is shipped, the pipe closed; the child writes what it
  can within the time given and spools the rest. A child that does not finish in time is
  killed and the daemon spools what it had not acknowledged.

The spool directory is locked by whoever uses it (:class:`~acd.storage.spool.Spool`): a new
child waits for an old one still finishing, and the daemon spools only while no child runs.
The child ignores SIGINT and SIGTERM (it is in a session of its own, too): it stops when the
pipe closes, so a Ctrl-C or a ``docker stop`` never cuts a write in half.

CPU placement: given ``cpus`` (the ``cpus.writer`` setting, passed as ``--cpus`` on its
command line), the child pins itself to those CPUs first thing, before it even loads its
database libraries, so that it (and PostgreSQL, if placed alike) stays off
the daemon's CPU (``cpus.daemon``). A child that cannot be pinned says so in a warning and
writes anyway: placement is about latency, never about losing records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pickle
import secrets
import signal
import struct
import sys
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd import cpus as cpu_placement
from acd.call_events import CallEvent
from acd.storage.spool import Record, Spool
from acd.storage.watermark import Watermark as _Watermark

log = logging.getLogger(__name__)

_FRAME = struct.Struct(">I")
#: The writer process's nice value: below the daemon's when CPUs are short.
NICENESS = 10
_COUNTERS = (
    "events_written",
    "calls_finished",
    "transactions",
    "spooled",
    "replayed",
    "rejected",
    "failures",
    "write_seconds",
)


@dataclass
class ProcessStats:
    """The writer's figures, summed over every child it has run."""

    accepted: int = 0
    events_written: int = 0
    calls_finished: int = 0
    transactions: int = 0
    spooled: int = 0
    replayed: int = 0
    rejected: int = 0
    failures: int = 0
    write_seconds: float = 0.0
    restarts: int = 0
    spooled_by_daemon: int = 0


@dataclass(frozen=True, slots=True)
class _Frame:
    first: int  # sequence number of its first record
    last: int
    payload: bytes


class WriterProcess:
    """A :class:`~acd.call_events.CallEventSink` that stores calls through a child process."""

    def __init__(
        self,
        url: str,
        spool_directory: Path,
        *,
        ship_interval: float = 0.02,
        restart_delay: float = 1.0,
        max_restart_delay: float = 30.0,
        stop_timeout: float = 5.0,
        writer_options: dict[str, Any] | None = None,
        python: str = sys.executable,
        cpus: Collection[int] | None = None,
    ) -> None:
        self.url = url
        self.spool_directory = Path(spool_directory)
        self.ship_interval = ship_interval
        self.restart_delay = restart_delay
        self.max_restart_delay = max_restart_delay
        self.stop_timeout = stop_timeout
        self.writer_options = dict(writer_options or {})
        self.python = python
        #: The CPUs the child runs on (None: wherever the scheduler puts it).
        self.cpus: tuple[int, ...] | None = tuple(sorted(cpus)) if cpus else None
        self.stats = ProcessStats()
        self.durable = _Watermark()  # in the database or a spool, by sequence number
        self.stored = _Watermark()  # in the database
        self.revision: str | None = None  # the schema revision the child reported
        self._pending: list[CallEvent] = []
        self._run_id = secrets.token_hex(6)
        self._seq = 0  # the last sequence number given
        self._unacked: deque[_Frame] = deque()
        self._unsent_from: int | None = None  # first sequence number not sent to the child
        self._process: asyncio.subprocess.Process | None = None
        self._base = 0  # sequence number before the current child's first record
        self._child: dict[str, float] = {}  # the current child's counters
        self._done_children: dict[str, float] = {}  # summed over the children that ended
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._nudge = asyncio.Event()
        self._closing = False
        self._shipper: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()

    # ------------------------------------------------------------------ the sink

    def emit(self, event: CallEvent) -> None:
        """Accept an event; never blocks (a list append)."""
        self._pending.append(event)
        self.stats.accepted += 1
        if not self._wake.is_set():
            self._wake.set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, timeout: float = 10.0) -> None:
        """Start the child and wait (up to ``timeout``) until it has migrated the database.

        A child that is not ready in time is not an error: events are shipped anyway and the
        child catches up (it may be waiting for the database, or for an old child's spool).
        """
        if self._supervisor is not None:
            return
        loop = asyncio.get_running_loop()
        self._shipper = loop.create_task(self._ship_loop(), name="call-writer-shipper")
        self._supervisor = loop.create_task(self._supervise(), name="call-writer-supervisor")
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            log.warning("call writer process not ready after %.0f s; going on", timeout)

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event accepted so far is in the database or a spool."""
        target = self._seq + len(self._pending)
        self._nudge.set()
        self._wake.set()
        return await self.durable.wait(target, timeout)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every event accepted so far is in the database."""
        target = self._seq + len(self._pending)
        self._nudge.set()
        self._wake.set()
        return await self.stored.wait(target, timeout)

    async def aclose(self) -> None:
        """Ship what is left and let the child finish (``stop_timeout``); what it has not
        made durable by then is spooled here."""
        self._closing = True
        self._nudge.set()
        self._wake.set()
        for task in (self._shipper, self._supervisor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._shipper = self._supervisor = None
        self._frame_pending()
        process = self._process
        if process is not None and process.returncode is None:
            async with self._send_lock:
                await self._send_unsent()
            if process.stdin is not None:
                process.stdin.close()
            try:
                async with asyncio.timeout(self.stop_timeout + 3.0):
                    await process.wait()
            except TimeoutError:
                log.error("call writer process did not stop in time: killed")
                process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        await self._spool_unacked()
        self._process = None

    # ------------------------------------------------------------------ shipping

    async def _ship_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._nudge.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.ship_interval):
                        await self._nudge.wait()
            self._nudge.clear()
            self._frame_pending()
            async with self._send_lock:
                await self._send_unsent()

    def _frame_pending(self) -> None:
        """Key the pending events and make them one frame (kept until acknowledged)."""
        events, self._pending = self._pending, []
        if not events:
            return
        run, first = self._run_id, self._seq + 1
        rows = [
            (f"{run}-{seq}", e.call_id, e.at, e.kind, e.data)
            for seq, e in enumerate(events, start=first)
        ]
        try:
            payload = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # something in an event's data that does not pickle: as text
            payload = pickle.dumps([_plain(row) for row in rows], protocol=pickle.HIGHEST_PROTOCOL)
        self._seq = first + len(rows) - 1
        self._unacked.append(_Frame(first, self._seq, payload))
        if self._unsent_from is None:
            self._unsent_from = first

    async def _send_unsent(self) -> None:
        """Send the frames the current child has not been sent yet."""
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        start = self._unsent_from
        if start is None:
            return
        try:
            for frame in list(self._unacked):
                if frame.last < start:
                    continue
                process.stdin.write(_FRAME.pack(len(frame.payload)) + frame.payload)
                start = frame.last + 1
            self._unsent_from = None if start > self._seq else start
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child is gone: the supervisor spools and restarts

    # ------------------------------------------------------------------ the child

    async def _spawn(self) -> None:
        self._ready.clear()
        self._child = {}
        # Everything before the first unacknowledged frame is durable (acknowledged by an
        # earlier child, or spooled from here); the new child is sent the rest.
        if self._unacked:
            self._base = self._unacked[0].first - 1
            self._unsent_from = self._unacked[0].first
        else:
            self._base, self._unsent_from = self._seq, None
        # The CPUs go on the command line: the child pins itself before it imports anything
        # heavy (its database libraries would load on the daemon's CPU otherwise).
        cpus = ["--cpus", ",".join(map(str, self.cpus))] if self.cpus else []
        process = await asyncio.create_subprocess_exec(
            self.python,
            "-m",
            "acd.storage.writer_process",
            *cpus,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,  # Ctrl-C on the daemon's terminal is not for the child
        )
        assert process.stdin is not None and process.stdout is not None
        hello = {
            "url": self.url,
            "spool": str(self.spool_directory),
            "options": self.writer_options,
            "stop_timeout": self.stop_timeout,
            "log_level": logging.getLogger("acd").getEffectiveLevel(),
        }
        payload = pickle.dumps(hello)
        process.stdin.write(_FRAME.pack(len(payload)) + payload)
        self._process = process
        self._reader = asyncio.get_running_loop().create_task(self._read(process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            parts = line.decode("ascii", "replace").split()
            try:
                if parts and parts[0] == "ready":
                    self.revision = parts[1] if len(parts) > 1 and parts[1] != "-" else None
                    self._ready.set()
                elif parts and parts[0] == "ack" and len(parts) == 4 + len(_COUNTERS):
                    counters = [float(p) for p in parts[4:]]
                    self._on_ack(int(parts[1]), int(parts[2]), parts[3] == "1", counters)
            except ValueError:
                log.warning("call writer process: unreadable line %r", line[:200])

    def _on_ack(
        self, durable: int, stored: int, spool_pending: bool, counters: Sequence[float]
    ) -> None:
        self._child = dict(zip(_COUNTERS, counters, strict=True))
        acked = self._base + durable
        while self._unacked and self._unacked[0].last <= acked:
            self._unacked.popleft()
        self.durable.advance_to(acked)
        if not spool_pending:  # then what came before this child is in the database too
            self.stored.advance_to(self._base + stored)
        self._refresh_stats()

    def _refresh_stats(self) -> None:
        done = self._done_children
        for name in _COUNTERS:
            total = done.get(name, 0) + self._child.get(name, 0)
            setattr(self.stats, name, total if name == "write_seconds" else int(total))

    async def _supervise(self) -> None:
        """Keep a child running: start one, and another whenever one dies (after spooling
        here what it had not acknowledged)."""
        delay = self.restart_delay
        while True:
            try:
                await self._spawn()
            except OSError as exc:
                log.error("cannot start the call writer process: %s", exc)
            else:
                process = self._process
                assert process is not None
                if await self._wait_ready(30.0):
                    delay = self.restart_delay
                status = await process.wait()
                if self._reader is not None:
                    with contextlib.suppress(Exception):
                        await self._reader
                log.error("call writer process exited (status %s)", status)
                for name in _COUNTERS:
                    done = self._done_children.get(name, 0) + self._child.get(name, 0)
                    self._done_children[name] = done
                self._child = {}
                self._process = None
                self.stats.restarts += 1
            await self._spool_unacked()
            log.info("starting a new call writer process in %.1f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_restart_delay)
            self._frame_pending()
            await self._spool_unacked()  # what came meanwhile: the new child replays it

    async def _wait_ready(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    async def _spool_unacked(self) -> None:
        """No child runs: the unacknowledged records go to the spool from here."""
        frames = list(self._unacked)  # (more may come while this runs: they stay queued)
        if not frames:
            return
        records = [Record(*row) for frame in frames for row in pickle.loads(frame.payload)]
        spool = Spool(self.spool_directory)

        def append() -> None:
            spool.open()  # waits for a child that is still finishing, if one is
            try:
                spool.append(records)
            finally:
                spool.close()

        try:
            await asyncio.to_thread(append)
        except OSError as exc:
            log.error("cannot spool %d call records: %s", len(records), exc)
            return
        self.stats.spooled_by_daemon += len(records)
        for _ in frames:
            self._unacked.popleft()
        if self._unsent_from is not None and self._unsent_from <= frames[-1].last:
            self._unsent_from = self._unacked[0].first if self._unacked else None
        self.durable.advance_to(frames[-1].last)


def _plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    key, call_id, at, kind, data = row
    return (key, str(call_id), float(at), str(kind), json.loads(json.dumps(data, default=str)))


# --------------------------------------------------------------------------- the child


async def _child(pinned: tuple[int, str] | None = None) -> int:
    from acd.storage.writer import CallRecordWriter

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**31 - 1)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", buffering=0)
    )
    hello = pickle.loads(await _read_frame(reader))
    logging.basicConfig(
        level=hello.get("log_level", logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s (writer process): %(message)s",
    )
    if pinned is not None:
        log.log(*pinned)
    writer = CallRecordWriter(hello["url"], Path(hello["spool"]), **hello.get("options", {}))
    out = os.fdopen(1, "wb", buffering=0)
    parent_gone = False

    def say(line: str) -> None:
        nonlocal parent_gone
        if parent_gone:
            return
        try:
            out.write(line.encode("ascii") + b"\n")
        except OSError:  # the daemon is gone: go on writing what we have
            parent_gone = True

    def report() -> None:
        stats = writer.stats
        counters = " ".join(str(getattr(stats, name)) for name in _COUNTERS)
        pending = 1 if writer.spool.pending_known else 0
        say(f"ack {writer.durable.value} {writer.stored.value} {pending} {counters}")

    writer.on_progress = report
    await writer.start()
    say(f"ready {writer.revision or '-'}")
    while True:
        try:
            frame = await _read_frame(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            break  # the daemon closed the pipe (stopping) or died
        for row in pickle.loads(frame):
            writer.emit_record(Record(*row))
    await writer.aclose(timeout=float(hello.get("stop_timeout", 5.0)))
    report()
    return 0


def _pin(cpus: Sequence[int]) -> tuple[int, str]:
    """Run on ``cpus`` from now on; if that cannot be done, run where we are. Returns the
    log level and message to say so (logging is set up later, from the daemon's hello)."""
    wanted = cpu_placement.format_cpus(cpus)
    try:
        cpu_placement.set_affinity(0, cpus)
    except (OSError, ValueError, OverflowError) as exc:
        where = "unknown CPUs"
        with contextlib.suppress(OSError):
            where = f"CPUs {cpu_placement.format_cpus(cpu_placement.get_affinity(0))}"
        return logging.WARNING, f"cannot run on CPUs {wanted} ({exc}); going on, on {where}"
    return logging.INFO, f"running on CPUs {wanted}"


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _FRAME.unpack(await reader.readexactly(_FRAME.size))
    return await reader.readexactly(size)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m acd.storage.writer_process [--cpus 1,2]``: the daemon starts it."""
    args = list(sys.argv[1:] if argv is None else argv)
    pinned = None
    if len(args) == 2 and args[0] == "--cpus":  # first: the database libraries load here
        try:
            pinned = _pin(cpu_placement.parse_cpu_list(args[1]))
        except ValueError as exc:
            pinned = (logging.WARNING, f"--cpus {args[1]!r}: {exc}; running unpinned")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)  # when CPUs are short, routing goes first
    return asyncio.run(_child(pinned))


if __name__ == "__main__":  # pragma: no cover - run as a process
    sys.exit(main())


__all__ = ["ProcessStats", "WriterProcess"]
