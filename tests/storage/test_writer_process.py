"""The writer in a process of its own (what the daemon runs): stores everything, survives its
child being killed, lets the child finish when the daemon goes, spools at stop."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
from pathlib import Path

from writer_support import T0, answered_call, eventually, stored

from acd.call_events import CallEvent
from acd.storage.writer_process import _FRAME, WriterProcess

FAST = {"linger": 0.005, "retry_interval": 0.05, "max_retry_interval": 0.2}
DOWN = "postgresql+asyncpg://acd:acd@127.0.0.1:1/acd"  # nothing listens on port 1


def sent_calls(count: int, start: int = 0) -> list[CallEvent]:
    return [e for i in range(start, start + count) for e in answered_call(f"c{i}", f"a{i}", T0 + i)]


def check(db_events: list[tuple[str, str, str | None]], sent: list[CallEvent]) -> None:
    assert [(c, k) for c, k, _ in db_events] == [(e.call_id, e.kind) for e in sent if e.call_id]
    keys = [key for *_, key in db_events]
    assert len(set(keys)) == len(keys)


async def test_the_writer_process_stores_every_call(db_url: str, tmp_path: Path) -> None:
    writer = WriterProcess(db_url, tmp_path / "spool", writer_options=FAST)
    await writer.start()
    assert writer.revision is not None  # migrated before start returned
    sent = sent_calls(40)
    try:
        for event in sent:
            writer.emit(event)
        assert await writer.drain(20)
        assert writer.stats.calls_finished == 40 and writer.stats.events_written == len(sent)
    finally:
        await writer.aclose()
    db = await stored(db_url)
    check(db.events, sent)
    assert len(db.calls) == 40 and all(c["outcome"] == "answered" for c in db.calls.values())


async def test_a_killed_writer_process_is_replaced_and_nothing_is_lost(
    db_url: str, tmp_path: Path
) -> None:
    writer = WriterProcess(
        db_url, tmp_path / "spool", restart_delay=0.05, writer_options={**FAST, "batch_size": 50}
    )
    await writer.start()
    sent: list[CallEvent] = []
    try:
        for i in range(30):
            for event in answered_call(f"c{i}", f"a{i}", T0 + i):
                writer.emit(event)
                sent.append(event)
            if i == 10:
                await writer.flush(10)
            if i == 20:  # killed with records sent and not acknowledged (or not yet sent)
                writer._nudge.set()
                writer._wake.set()
                await eventually(lambda: writer._unsent_from is None, what="records sent")
                assert writer._process is not None
                os.kill(writer._process.pid, signal.SIGKILL)
        await eventually(lambda: writer.stats.restarts >= 1, what="a new writer process")
        more = sent_calls(10, start=30)
        for event in more:
            writer.emit(event)
        sent += more
        assert await writer.drain(30)
    finally:
        await writer.aclose()
    db = await stored(db_url)
    check(db.events, sent)
    assert len(db.calls) == 40 and all(c["wrap_up_seconds"] == 10.0 for c in db.calls.values())
    assert writer.stats.restarts == 1 and writer.stats.spooled_by_daemon > 0


async def test_the_child_finishes_its_work_when_the_daemon_is_gone(
    db_url: str, tmp_path: Path
) -> None:
    """The daemon dies (its end of the pipe closes, no goodbye): the child writes it all."""
    writer = WriterProcess(db_url, tmp_path / "spool", writer_options=FAST)
    await writer.start()
    sent = sent_calls(20)
    for event in sent:
        writer.emit(event)
    writer._frame_pending()
    process = writer._process
    assert process is not None and process.stdin is not None
    for frame in writer._unacked:
        process.stdin.write(_FRAME.pack(len(frame.payload)) + frame.payload)
    await process.stdin.drain()
    for task in (writer._shipper, writer._supervisor, writer._reader):
        assert task is not None
        task.cancel()
    process.stdin.close()  # as the kernel does for a killed daemon
    assert await asyncio.wait_for(process.wait(), 20) == 0
    check((await stored(db_url)).events, sent)


async def test_stop_with_the_database_down_spools_and_the_next_start_replays(
    db_url: str, tmp_path: Path
) -> None:
    down = WriterProcess(DOWN, tmp_path / "spool", stop_timeout=1.0, writer_options=FAST)
    await down.start(timeout=5)
    sent = sent_calls(15)
    for event in sent:
        down.emit(event)
    assert await down.flush(10)  # durable: spooled by the child
    loop = asyncio.get_running_loop()
    started = loop.time()
    await down.aclose()
    assert loop.time() - started < 5.0
    assert list((tmp_path / "spool").glob("spool-*.jsonl"))

    up = WriterProcess(db_url, tmp_path / "spool", writer_options=FAST)
    await up.start()
    try:
        assert await up.drain(20)  # nothing new: the spool is replayed on start
    finally:
        await up.aclose()
    check((await stored(db_url)).events, sent)


def test_frames_carry_plain_rows(tmp_path: Path) -> None:
    """Data that does not pickle still goes, as text."""
    writer = WriterProcess("sqlite+aiosqlite:///x", tmp_path)
    writer.emit(CallEvent("c1", T0, "note", {"fine": 1, "odd": (lambda: None)}))
    writer._frame_pending()
    (row,) = pickle.loads(writer._unacked[0].payload)
    assert row[1:4] == ("c1", T0, "note") and row[4]["fine"] == 1
    assert isinstance(row[4]["odd"], str)
