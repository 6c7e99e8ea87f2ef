"""Nothing accepted is lost: the spool when the database is down, replays after a crash,
each record stored exactly once."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from writer_support import (
    T0,
    FaultyDatabase,
    TcpProxy,
    agent_state,
    answered_call,
    epoch,
    eventually,
    stored,
)

from acd.call_events import CallEvent
from acd.storage import spool as spool_module
from acd.storage.spool import REJECTED_FILE, Record, Spool
from acd.storage.writer import CallRecordWriter

FAST = {"linger": 0.005, "retry_interval": 0.01, "max_retry_interval": 0.05}


def check_every_call_once(db_events: list[tuple[str, str, str | None]], sent: list[CallEvent]):
    """The stored call events are exactly the call events sent, in order, each once."""
    expected = [(e.call_id, e.kind) for e in sent if e.call_id]
    assert [(c, k) for c, k, _ in db_events] == expected
    keys = [key for *_, key in db_events]
    assert None not in keys and len(set(keys)) == len(keys)


def check_answered(calls: dict[str, dict[str, object]], count: int, talk: float = 60.0) -> None:
    assert len(calls) == count
    for call_id, row in calls.items():
        assert row["outcome"] == "answered", call_id
        assert row["ring_seconds"] == pytest.approx(3.0), call_id
        assert row["talk_seconds"] == talk and row["wrap_up_seconds"] == pytest.approx(10.0)


async def test_an_outage_mid_run_spools_and_replays_everything_once(
    db_url: str, tmp_path: Path
) -> None:
    database = FaultyDatabase()
    writer = CallRecordWriter(db_url, tmp_path / "spool", engine_factory=database, **FAST)
    await writer.start()
    sent: list[CallEvent] = []

    def send(events: list[CallEvent]) -> None:
        for event in events:
            writer.emit(event)
            sent.append(event)

    try:
        send(answered_call("before", "a0", T0))
        assert await writer.drain(10)
        # A call starts while the database answers and ends while it does not.
        during = answered_call("across", "a1", T0 + 10)
        send(during[:4])
        assert await writer.drain(10)
        database.down = True
        send(during[4:])
        for i in range(20):
            send(answered_call(f"down{i}", f"b{i}", T0 + 20 + i))
        assert await writer.flush(10)  # durable: in the spool
        await eventually(lambda: writer.stats.failures >= 2, what="the writer retried")
        assert writer.spool.pending and writer.stats.spooled >= len(sent) - 14
        # Accepted now, but only written after everything spooled before it.
        send(answered_call("late", "a2", T0 + 60))
        assert await writer.flush(10)
        database.down = False
        assert await writer.drain(20)
        assert not writer.spool.pending
        assert not list((tmp_path / "spool").glob("spool-*.jsonl"))
    finally:
        await writer.aclose()
    db = await stored(db_url)
    check_every_call_once(db.events, sent)
    check_answered(db.calls, 23)
    assert len(db.states) == 4 * 23


async def test_a_crash_with_records_in_the_spool_replays_them_on_the_next_start(
    db_url: str, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    sent = [e for i in range(30) for e in answered_call(f"c{i}", f"a{i}", T0 + i)]
    sent.append(agent_state(T0 + 500, "a0", "available", "logged_out"))
    down = FaultyDatabase()
    down.down = True
    crashed = CallRecordWriter(db_url, spool_dir, engine_factory=down, batch_size=64, **FAST)
    await crashed.start()
    for event in sent:
        crashed.emit(event)
    assert await crashed.flush(10)
    # The process dies here: no aclose, the task just stops; a last line is torn in half.
    assert crashed._task is not None
    crashed._task.cancel()
    await asyncio.gather(crashed._task, return_exceptions=True)
    crashed.spool.close()
    for engine in down.engines:
        await engine.dispose()
    segments = sorted(spool_dir.glob("spool-*.jsonl"))
    assert segments
    with segments[-1].open("ab") as handle:
        handle.write(b'{"k": "torn-1", "c": "c0", "t": 1.0, "e": "fini')
    kept = tmp_path / "copy-of-spool"
    shutil.copytree(spool_dir, kept)

    restarted = CallRecordWriter(db_url, spool_dir, **FAST)
    await restarted.start()
    try:
        assert await restarted.drain(20)
    finally:
        await restarted.aclose()
    assert not list(spool_dir.glob("spool-*.jsonl"))
    db = await stored(db_url)
    check_every_call_once(db.events, sent)
    check_answered(db.calls, 30)

    # Crash after the commit but before the spool was deleted: the same records again.
    shutil.rmtree(spool_dir)
    shutil.copytree(kept, spool_dir)
    again = CallRecordWriter(db_url, spool_dir, **FAST)
    await again.start()
    try:
        assert await again.drain(20)
    finally:
        await again.aclose()
    assert again.stats.replayed > 0 and again.stats.events_written == 0
    assert await stored(db_url) == db  # nothing twice, nothing changed


async def test_stop_with_the_database_down_spools_within_the_time_limit(
    db_url: str, tmp_path: Path
) -> None:
    database = FaultyDatabase()
    writer = CallRecordWriter(db_url, tmp_path / "spool", engine_factory=database, **FAST)
    await writer.start()
    database.down = True
    sent = [e for i in range(10) for e in answered_call(f"c{i}", f"a{i}", T0 + i)]
    for event in sent:
        writer.emit(event)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await writer.aclose(timeout=2.0)
    assert loop.time() - started < 3.0
    assert writer.backlog == 0 and writer.durable.value == len(sent)
    for engine in database.engines:
        await engine.dispose()

    replay = CallRecordWriter(db_url, tmp_path / "spool", **FAST)
    await replay.start()
    try:
        assert await replay.drain(20)
    finally:
        await replay.aclose()
    db = await stored(db_url)
    check_every_call_once(db.events, sent)
    check_answered(db.calls, 10)


async def test_a_record_the_database_refuses_is_set_aside_and_the_rest_written(
    db_url: str, tmp_path: Path
) -> None:
    database = FaultyDatabase()
    database.refuse = "poison-caller"
    writer = CallRecordWriter(db_url, tmp_path / "spool", engine_factory=database, **FAST)
    await writer.start()
    sent = [e for i in range(8) for e in answered_call(f"c{i}", f"a{i}", T0 + i)]
    poison = CallEvent("c3", T0 + 3.5, "note", {"caller": "poison-caller"})
    try:
        for event in sent[:40]:
            writer.emit(event)
        writer.emit(poison)
        for event in sent[40:]:
            writer.emit(event)
        assert await writer.drain(20)
    finally:
        await writer.aclose()
    assert writer.stats.rejected == 1
    rejected = [
        json.loads(line)
        for line in (tmp_path / "spool" / REJECTED_FILE).read_text("utf-8").splitlines()
    ]
    assert [r["record"]["e"] for r in rejected] == ["note"]
    assert "refused" in rejected[0]["error"]
    db = await stored(db_url)
    check_every_call_once(db.events, sent)
    check_answered(db.calls, 8)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_postgresql_cut_off_mid_run_loses_nothing(db_url: str, tmp_path: Path) -> None:
    """A real outage: the writer talks to PostgreSQL through a TCP relay that the test cuts
    (every connection reset, new ones refused) while calls keep coming, then restores; and
    the server kills the writer's sessions (pg_terminate_backend)."""
    parts = urlsplit(db_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    via_proxy = db_url.replace(
        parts.netloc, f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    )
    writer = CallRecordWriter(via_proxy, tmp_path / "spool", batch_size=50, **FAST)
    await writer.start()
    sent: list[CallEvent] = []
    stop = asyncio.Event()

    async def produce() -> None:
        i = 0
        while not stop.is_set():
            for event in answered_call(f"c{i}", f"a{i}", T0 + i):
                writer.emit(event)
                sent.append(event)
            i += 1
            if writer.backlog > 300:  # a busy call centre, not an infinite one
                await writer.flush(10)
            else:
                await asyncio.sleep(0)  # let the writer run between calls

    producer = asyncio.ensure_future(produce())
    admin = await asyncpg.connect(
        db_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5
    )
    try:
        await eventually(lambda: writer.stats.transactions >= 5, what="some batches written")
        await proxy.cut()
        await eventually(lambda: writer.spool.pending, what="the outage noticed")
        await eventually(lambda: writer.stats.spooled >= 200, what="records spooled")
        await proxy.start()  # back, on the same port
        await eventually(lambda: writer.stats.replayed >= 200, timeout=20, what="replayed")
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        written = writer.stats.transactions
        await eventually(lambda: writer.stats.transactions >= written + 5, what="writing again")
        stop.set()
        await producer
        assert await writer.drain(30)
    finally:
        stop.set()
        await asyncio.gather(producer, return_exceptions=True)
        await writer.aclose()
        await admin.close()
        await proxy.stop()
    assert writer.stats.failures >= 1 and writer.stats.rejected == 0
    db = await stored(db_url)
    check_every_call_once(db.events, sent)
    check_answered(db.calls, len(sent) // 10)
    assert all(epoch(c["arrived_at"]) is not None for c in db.calls.values())


# --------------------------------------------------------------------------- the spool itself


def _records(start: int, count: int) -> list[Record]:
    return [
        Record(f"r-{i}", f"c{i}", T0 + i, "queued", {"i": i}) for i in range(start, start + count)
    ]


def test_spool_segments_are_read_in_order_and_deleted_when_consumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool_module, "SEGMENT_BYTES", 600)  # a few records per segment
    spool = Spool(tmp_path)
    assert not spool.pending and spool.read(10) is None
    spool.append(_records(0, 4))
    spool.append(_records(4, 4))
    spool.append(_records(8, 4))
    assert len(list(tmp_path.glob("spool-*.jsonl"))) >= 2
    seen: list[str] = []
    while (chunk := spool.read(3)) is not None:
        seen += [r.key for r in chunk.records]
        spool.consume(chunk)
    assert seen == [f"r-{i}" for i in range(12)]
    assert not spool.pending and not list(tmp_path.glob("spool-*.jsonl"))
    spool.append(_records(12, 1))  # appending after a full drain starts a new segment
    chunk = spool.read(10)
    assert chunk is not None and [r.key for r in chunk.records] == ["r-12"]


def test_a_new_process_never_appends_to_an_old_segment(tmp_path: Path) -> None:
    old = Spool(tmp_path)
    old.append(_records(0, 2))
    old.close()
    with next(tmp_path.glob("spool-*.jsonl")).open("ab") as handle:
        handle.write(b'{"k": "r-2", "c"')  # torn by a crash
    new = Spool(tmp_path)
    assert new.pending
    new.append(_records(3, 1))
    assert len(list(tmp_path.glob("spool-*.jsonl"))) == 2
    keys: list[str] = []
    while (chunk := new.read(10)) is not None:
        keys += [r.key for r in chunk.records]
        new.consume(chunk)
    assert keys == ["r-0", "r-1", "r-3"]
    assert not new.pending
