"""The call-record writer: every call event into the database, without ever holding up a call.

:class:`CallRecordWriter` is a :class:`~acd.call_events.CallEventSink`. Its :meth:`emit` only
appends the event to an in-memory queue (O(1), no I/O); a background task takes the queue in
batches and writes each batch in one transaction:

* every event becomes a ``call_events`` row (its ``data`` as JSON, its unique ``event_key``);
* the call's ``calls`` row is created on its first event and kept up to date (what each
  event changes: ``docs/storage.md``);
* agent state changes (events with kind ``agent_state``, ``call_id`` "") become
  ``agent_states`` rows, each closed by the next, and log-ins and log-outs ``agent_shifts``.

When the database is down or a write fails, the batch and everything accepted after it go to
the :class:`~acd.storage.spool.Spool` (fsync'd JSON Lines on local disk) instead, in order;
the spool is replayed into the database when it answers again, oldest first, before anything
newer is written. Each event carries a key unique to this writer run (``<run>-<sequence>``),
and a replay skips the keys the database already has, in the same transaction that applies
the rest, so an event is stored exactly once even when a crash or a lost connection leaves it
unknown whether its batch was committed. A record the database refuses for good (checked
one by one while the database answers) is kept in ``rejected.jsonl`` beside the spool.

The in-memory queue is the one window: a process killed outright (SIGKILL, power loss) loses
what was accepted and not yet written or spooled (at most a batch and its ``linger``).
:meth:`aclose` writes or spools everything. The daemon runs this writer in a process of its
own (:mod:`acd.storage.writer_process`), which narrows that window and keeps the writer's CPU
time and garbage out of the router's event loop; it works the same in-process (tests, tools).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.call_events import CallEvent
from acd.storage.bulk import CALLS, EVENTS, STATES, write_batch
from acd.storage.call_rows import (
    STORED,
    Batch,
    CallRow,
    ShiftRow,
    StateRow,
    apply_event,
    clip,
)
from acd.storage.db import make_engine
from acd.storage.migrate import upgrade
from acd.storage.spool import Chunk, Record, Spool
from acd.storage.watermark import Watermark

log = logging.getLogger(__name__)

#: The kind of the events that carry agent state changes (``call_id`` is "").
AGENT_STATE = "agent_state"

_T = TypeVar("_T")
_RING_END = frozenset({"ring_ended", "requeued", "connected", "finished"})
#: Records planned between two yields to the event loop (a slice takes about a millisecond).
_YIELD_EVERY = 200


@dataclass
class WriterStats:
    accepted: int = 0
    events_written: int = 0  # call events and agent states committed
    calls_finished: int = 0  # "finished" events committed: complete call records
    transactions: int = 0
    spooled: int = 0
    replayed: int = 0
    rejected: int = 0
    failures: int = 0
    write_seconds: float = 0.0  # time inside committed transactions
    last_error: str | None = None


class CallRecordWriter:
    """Call events into ``call_events``, ``calls``, ``agent_states`` and ``agent_shifts``."""

    def __init__(
        self,
        url: str,
        spool_directory: Path,
        *,
        migrate: bool = True,
        batch_size: int = 5000,
        linger: float = 0.05,
        retry_interval: float = 1.0,
        max_retry_interval: float = 30.0,
        write_timeout: float = 30.0,
        cache_size: int = 20_000,
        engine_factory: Callable[[str], AsyncEngine] = make_engine,
    ) -> None:
        self.url = url
        self.spool = Spool(spool_directory)
        self.migrate = migrate
        self.batch_size = batch_size
        self.linger = linger
        self.retry_interval = retry_interval
        self.max_retry_interval = max_retry_interval
        self.write_timeout = write_timeout
        self.cache_size = cache_size
        self.stats = WriterStats()
        self._engine_factory = engine_factory
        self._engine: AsyncEngine | None = None
        self._schema_ready = not migrate
        self.revision: str | None = None  # the schema revision, once migrated
        self._run_id = secrets.token_hex(6)
        self._seq = 0
        self._queue: deque[Record] = deque()
        self._keyed: deque[Record] = deque()  # taken from the queue, put back: not durable
        self._inflight: list[Record] = []
        self._wake = asyncio.Event()  # something was emitted
        self._nudge = asyncio.Event()  # flush or close: stop lingering
        self._task: asyncio.Task[None] | None = None
        self._spool_op: asyncio.Future[Any] | None = None
        self._closing = False
        self._retry_at = 0.0
        self._retry_delay = retry_interval
        self._refusals: dict[str, int] = {}  # key -> failures alone while the DB answers
        self._cache: OrderedDict[str, CallRow] = OrderedDict()
        self._last_call: dict[str, str] = {}  # agent -> the call they last finished
        self._wrap: dict[str, tuple[str | None, float]] = {}  # agent -> (call, wrap-up start)
        self.durable = Watermark()  # in the database or in the spool
        self.stored = Watermark()  # in the database
        #: Called whenever ``durable`` or ``stored`` advances (the writer process reports).
        self.on_progress: Callable[[], None] | None = None

    # ------------------------------------------------------------------ the sink

    def emit(self, event: CallEvent) -> None:
        """Accept an event; never blocks (the write happens in the background)."""
        self._seq += 1
        self.emit_record(
            Record(f"{self._run_id}-{self._seq}", event.call_id, event.at, event.kind, event.data)
        )

    def emit_record(self, record: Record) -> None:
        """Accept an event keyed by the caller (:mod:`acd.storage.writer_process`)."""
        queue = self._queue
        queue.append(record)
        self.stats.accepted += 1
        self._wake.set()
        if len(queue) >= self.batch_size:
            self._nudge.set()  # a full batch: no need to linger

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, timeout: float = 10.0) -> None:
        """Migrate the database (within ``timeout``) and start writing in the background.

        A database that is down is not an error here: records are spooled until it is up.
        """
        if self._task is not None:
            return
        tries = 0
        while not await asyncio.to_thread(self.spool.try_open):
            if tries % 100 == 0:  # every 10 s
                log.warning(
                    "spool %s is in use by another call writer; waiting for it",
                    self.spool.directory,
                )
            tries += 1
            await asyncio.sleep(0.1)
        if self.spool.pending:
            log.info("call records left in the spool %s: replaying them", self.spool.directory)
        try:
            async with asyncio.timeout(timeout):
                await self._ready_engine()
        except Exception as exc:
            self._note_failure(exc)
            from acd.config import mask_database_url  # (pydantic: not for the hot path)

            log.error(
                "database %s not ready (%s): call records are spooled in %s until it is",
                mask_database_url(self.url),
                _describe(exc),
                self.spool.directory,
            )
        self._task = asyncio.get_running_loop().create_task(self._run(), name="call-writer")

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event accepted so far is in the database or the spool."""
        self._nudge.set()
        self._wake.set()
        return await self.durable.wait(self.stats.accepted, timeout)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every event accepted so far is in the database (spool replayed)."""
        self._nudge.set()
        self._wake.set()
        self._retry_at = 0.0
        return await self.stored.wait(self.stats.accepted, timeout)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Write what is pending within ``timeout`` (else spool it), then stop."""
        self._closing = True
        self._nudge.set()
        self._wake.set()
        task = self._task
        if task is not None:
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(task)
            except TimeoutError:
                log.warning("call writer: database too slow at stop; spooling what is left")
                task.cancel()
            except Exception:  # the task failed: what it held is spooled below
                log.exception("call writer failed")
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._spool_op is not None and not self._spool_op.done():
            with contextlib.suppress(Exception):
                await self._spool_op  # a thread: let it finish before touching the spool
        leftovers = [*self._inflight, *self._keyed, *self._queue]
        self._inflight = []
        self._keyed.clear()
        self._queue.clear()
        if leftovers:
            try:
                self.spool.append(leftovers)
                self._made_durable(leftovers)
                log.info("call writer: %d records left in the spool", len(leftovers))
            except OSError as exc:
                log.error("call writer: %d records lost, spool failed: %s", len(leftovers), exc)
        self.spool.close()
        if self._engine is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._engine.dispose(), timeout)
            self._engine = None
        self._task = None

    @property
    def backlog(self) -> int:
        """Events accepted and not yet in the database or the spool."""
        return len(self._queue) + len(self._keyed) + len(self._inflight)

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        while True:
            if self.spool.pending:
                # Newer records join the spool's end (order is kept) while it is replayed,
                # a chunk per round, so a steady stream of calls cannot starve the replay.
                if self._queue or self._keyed:
                    await self._spool_backlog()
                now = time.monotonic()
                if now >= self._retry_at:
                    await self._replay_some()
                elif self._closing:
                    return
                elif not (self._queue or self._keyed):
                    await self._nap(min(self._retry_at - now, max(self.linger, 0.01)))
                continue
            if self._queue or self._keyed:
                if not self._closing and self.backlog < self.batch_size and self.linger > 0:
                    await self._nap(self.linger)
                await self._write_direct(self._take(self.batch_size))
                continue
            if self._closing:
                return
            self._wake.clear()
            await self._wake.wait()

    async def _nap(self, seconds: float) -> None:
        """Wait ``seconds``, or less if flushed or closed."""
        if self._nudge.is_set():
            self._nudge.clear()
            return
        # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a cancel (aclose's).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._nudge.wait()
        self._nudge.clear()

    def _take(self, count: int) -> list[Record]:
        """The next ``count`` records, in order (put-back ones first)."""
        keyed, queue = self._keyed, self._queue
        records = [keyed.popleft() for _ in range(min(count, len(keyed)))]
        records += [queue.popleft() for _ in range(min(count - len(records), len(queue)))]
        self._inflight = records
        return records

    def _made_durable(self, records: Sequence[Record]) -> None:
        self.durable.advance_to(self.durable.value + len(records))
        if not self.spool.pending:
            self.stored.advance_to(self.durable.value)
        if self.on_progress is not None:
            self.on_progress()

    async def _write_direct(self, records: list[Record]) -> None:
        try:
            await self._write(records, replay=False)
        except Exception as exc:
            self._note_failure(exc)
            log.warning(
                "database write failed (%s): %d records go to the spool %s",
                _describe(exc),
                len(records),
                self.spool.directory,
            )
            self._schedule_retry()
            if not await self._append_to_spool(records):
                self._keyed.extendleft(reversed(records))
            self._inflight = []
            return
        self._inflight = []
        self._made_durable(records)

    async def _spool_backlog(self) -> None:
        if (
            not self._closing
            and self.backlog < self.batch_size
            and time.monotonic() < self._retry_at
        ):
            await self._nap(self.linger)
        records = self._take(10 * self.batch_size)
        if not await self._append_to_spool(records):
            self._keyed.extendleft(reversed(records))
            self._inflight = []
            await self._nap(self.retry_interval)

    async def _append_to_spool(self, records: list[Record]) -> bool:
        def spooled(operation: asyncio.Future[None]) -> None:
            # A callback, so it counts even if the waiting task is cancelled (aclose).
            if operation.cancelled() or operation.exception() is not None:
                return
            if self._inflight is records:
                self._inflight = []
            self.stats.spooled += len(records)
            self._made_durable(records)

        try:
            await self._in_thread(self.spool.append, records, done=spooled)
        except OSError as exc:
            log.error("cannot write the spool %s: %s", self.spool.directory, exc)
            return False
        return True

    async def _in_thread(
        self,
        function: Callable[..., _T],
        *args: Any,
        done: Callable[[asyncio.Future[_T]], None] | None = None,
    ) -> _T:
        """Blocking spool I/O off the event loop; :meth:`aclose` waits for it to end."""
        operation = asyncio.ensure_future(asyncio.to_thread(function, *args))
        if done is not None:
            operation.add_done_callback(done)
        self._spool_op = operation
        return await asyncio.shield(operation)

    async def _replay_some(self) -> None:
        chunk: Chunk | None = await self._in_thread(self.spool.read, self.batch_size)
        if chunk is None:
            if self.spool.pending:
                await self._nap(self.linger)
            return
        try:
            await self._replay(chunk.records)
        except Exception as exc:
            self._note_failure(exc)
            self._schedule_retry()
            log.warning(
                "database still unavailable (%s): %d records wait in the spool; next try in %.0f s",
                _describe(exc),
                len(chunk.records),
                self._retry_delay,
            )
            return
        await self._in_thread(self.spool.consume, chunk)
        self.stats.replayed += len(chunk.records)
        self._retry_delay = self.retry_interval
        if not self.spool.pending:
            log.info("spool replayed: the database has every call record")
            self.stored.advance_to(self.durable.value)
            if self.on_progress is not None:
                self.on_progress()

    async def _replay(self, records: list[Record]) -> None:
        """Write spooled records; a refused record is found by halving and set aside."""
        try:
            await self._write(records, replay=True)
            return
        except Exception as exc:
            if not await self._reachable():
                raise
            if len(records) > 1:
                middle = len(records) // 2
                await self._replay(records[:middle])
                await self._replay(records[middle:])
                return
            record = records[0]
            refusals = self._refusals.get(record.key, 0) + 1
            self._refusals[record.key] = refusals
            if refusals < 3:
                raise
            self._refusals.pop(record.key, None)
            log.error("call record %s refused by the database: %s", record.key, _describe(exc))
            await self._in_thread(self.spool.reject, [(record, _describe(exc))])
            self.stats.rejected += 1

    async def _reachable(self) -> bool:
        try:
            engine = await self._ready_engine()
            async with asyncio.timeout(min(5.0, self.write_timeout)), engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def _schedule_retry(self) -> None:
        self._retry_at = time.monotonic() + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, self.max_retry_interval)

    def _note_failure(self, exc: BaseException) -> None:
        self.stats.failures += 1
        self.stats.last_error = _describe(exc)
        # What the database holds is no longer certain (the picture may even be half
        # updated by the batch that failed): read it again when needed.
        self._cache.clear()

    # ------------------------------------------------------------------ the database

    async def _ready_engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = self._engine_factory(self.url)
        if not self._schema_ready:
            result = await upgrade(self._engine)
            if result.changed:
                log.info("database migrated from %s to %s", result.before, result.after)
            self.revision = result.after
            self._schema_ready = True
        return self._engine

    async def _write(self, records: list[Record], *, replay: bool) -> None:
        started = time.perf_counter()
        async with asyncio.timeout(self.write_timeout):
            engine = await self._ready_engine()
            async with engine.begin() as conn:
                if replay:
                    records = await self._unseen(conn, records)
                batch = await self._plan(conn, records)
                await write_batch(conn, batch)
        self._keep(batch)
        self.stats.transactions += 1
        self.stats.events_written += len(records)
        self.stats.calls_finished += batch.finished
        self.stats.write_seconds += time.perf_counter() - started

    async def _unseen(self, conn: AsyncConnection, records: list[Record]) -> list[Record]:
        """The records whose key the database does not have yet."""
        keys = [r.key for r in records]
        seen: set[str] = set()
        for table in (EVENTS, STATES):
            for start in range(0, len(keys), 1000):
                part = keys[start : start + 1000]
                result = await conn.execute(
                    select(table.c.event_key).where(table.c.event_key.in_(part))
                )
                seen.update(result.scalars())
        unseen = []
        for record in records:  # a record spooled twice (see writer_process) goes in once
            if record.key not in seen:
                seen.add(record.key)
                unseen.append(record)
        return unseen

    async def _load_calls(self, conn: AsyncConnection, ids: Iterable[str]) -> dict[str, CallRow]:
        wanted = list(ids)
        rows: dict[str, CallRow] = {}
        columns = [CALLS.c[name] for name in STORED]
        for start in range(0, len(wanted), 1000):
            result = await conn.execute(
                select(*columns).where(CALLS.c.id.in_(wanted[start : start + 1000]))
            )
            for values in result.mappings():
                rows[values["id"]] = CallRow.from_db(dict(values))
        return rows

    async def _plan(self, conn: AsyncConnection, records: list[Record]) -> Batch:
        """What ``records`` make of the rows. The cached rows are changed in place: if the
        transaction fails, the whole cache is dropped (:meth:`_note_failure`)."""
        batch = Batch()
        cache = self._cache
        wanted = {
            clip(r.call_id, 64) or ""
            for r in records
            if r.call_id and r.kind != AGENT_STATE and r.call_id not in cache
        }
        loaded = await self._load_calls(conn, wanted) if wanted else {}
        open_states: dict[str, StateRow] = {}
        open_shifts: dict[str, ShiftRow] = {}
        events, calls = batch.events, batch.calls
        for index, record in enumerate(records):
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # let calls be routed between slices of a big batch
            kind = record.kind
            if kind == AGENT_STATE:
                await self._plan_agent_state(conn, batch, record, open_states, open_shifts)
                continue
            call_id = record.call_id
            if len(call_id) > 64 or "\x00" in call_id:
                call_id = clip(call_id, 64) or ""
            events.append((call_id, record.at, clip(kind, 40) or "", record.data, record.key))
            if not call_id:
                continue
            row = calls.get(call_id)
            if row is None:
                row = cache.get(call_id) or loaded.get(call_id)
                if row is None:
                    row = CallRow(call_id, record.at)
                calls[call_id] = row
            if kind in _RING_END and row.offer_at is None and not row.offer_known:
                row.offer_at = await self._ringing_since(conn, call_id)
                row.offer_known = True
            apply_event(row, record)
            if kind == "finished":
                batch.finished += 1
                agent = clip(record.data.get("agent_id"), 64)
                if agent:
                    batch.last_call[agent] = call_id
        return batch

    async def _plan_agent_state(
        self,
        conn: AsyncConnection,
        batch: Batch,
        record: Record,
        open_states: dict[str, StateRow],
        open_shifts: dict[str, ShiftRow],
    ) -> None:
        data, at = record.data, record.at
        agent = clip(data.get("agent_id"), 64) or ""
        old, new = str(data.get("old") or ""), str(data.get("new") or "")
        call_id = clip(data.get("call_id"), 64)
        if new == "wrap_up" and call_id is None:
            call_id = batch.last_call.get(agent) or self._last_call.get(agent)
            if call_id is None:
                call_id = await self._last_state_call(conn, agent, "on_call")
        state = StateRow(agent, new[:20], clip(data.get("reason"), 100), call_id, at, record.key)
        previous = open_states.get(agent)
        if previous is not None:
            previous.ended_at = at
        else:  # the row an earlier transaction left open ends here
            batch.state_closes.append((agent, at))
        open_states[agent] = state
        batch.states.append(state)

        if old == "wrap_up":
            await self._end_wrap_up(conn, batch, agent, at)
        if new == "wrap_up":
            batch.wrap[agent] = (call_id, at)

        if old == "logged_out" and new != "logged_out":  # a log-in starts a shift
            shift = open_shifts.pop(agent, None)
            if shift is not None:
                shift.logout_at = at
            else:  # a shift left open (by a restart, say) ends here
                batch.shift_closes.append((agent, at))
            open_shifts[agent] = ShiftRow(agent, at)
            batch.shifts.append(open_shifts[agent])
        elif new == "logged_out" and old != "logged_out":
            shift = open_shifts.pop(agent, None)
            if shift is not None:
                shift.logout_at = at
            else:
                batch.shift_closes.append((agent, at))

    async def _end_wrap_up(
        self, conn: AsyncConnection, batch: Batch, agent: str, at: float
    ) -> None:
        """Wrap-up over: the call it followed gets its wrap-up and handle times."""
        if agent in batch.wrap:
            wrap = batch.wrap[agent]
        elif agent in self._wrap:
            wrap = self._wrap[agent]
        else:
            wrap = await self._open_wrap_up(conn, agent)
        batch.wrap[agent] = None
        if wrap is None or wrap[0] is None:
            return
        call_id, started = wrap
        row = batch.calls.get(call_id) or self._cache.get(call_id)
        if row is None:
            row = (await self._load_calls(conn, [call_id])).get(call_id)
            if row is None:
                return
        batch.calls[call_id] = row
        row.wrap_up_ended_at = at
        row.wrap_up_seconds = max(0.0, at - started)
        if row.talk_seconds is not None:
            row.handle_seconds = row.talk_seconds + row.wrap_up_seconds

    async def _ringing_since(self, conn: AsyncConnection, call_id: str) -> float | None:
        """After a restart: when the offer ringing for ``call_id`` started, if one is."""
        result = await conn.execute(
            select(EVENTS.c.kind, EVENTS.c.at)
            .where(
                EVENTS.c.call_id == call_id,
                EVENTS.c.kind.in_(("offered", "ring_ended", "requeued", "connected")),
            )
            .order_by(EVENTS.c.id.desc())
            .limit(1)
        )
        last = result.first()
        return last.at.timestamp() if last is not None and last.kind == "offered" else None

    async def _last_state_call(self, conn: AsyncConnection, agent: str, state: str) -> str | None:
        result = await conn.execute(
            select(STATES.c.call_id)
            .where(STATES.c.agent_id == agent, STATES.c.state == state)
            .order_by(STATES.c.started_at.desc(), STATES.c.id.desc())
            .limit(1)
        )
        return result.scalar()

    async def _open_wrap_up(self, conn: AsyncConnection, agent: str) -> tuple[str | None, float]:
        result = await conn.execute(
            select(STATES.c.call_id, STATES.c.started_at)
            .where(
                STATES.c.agent_id == agent,
                STATES.c.state == "wrap_up",
                STATES.c.ended_at.is_(None),
            )
            .order_by(STATES.c.started_at.desc(), STATES.c.id.desc())
            .limit(1)
        )
        found = result.first()
        if found is None:
            return (None, 0.0)
        return (found.call_id, found.started_at.timestamp())

    def _keep(self, batch: Batch) -> None:
        """The transaction committed: its picture of the calls and agents is now true."""
        cache = self._cache
        for call_id, row in batch.calls.items():
            row.in_db = True
            cache[call_id] = row
            cache.move_to_end(call_id)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)
        self._last_call.update(batch.last_call)
        for agent, wrap in batch.wrap.items():
            if wrap is None:
                self._wrap.pop(agent, None)
            else:
                self._wrap[agent] = wrap


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text_value = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text_value}" if text_value else type(exc).__name__
