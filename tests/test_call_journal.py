"""The call journal: durable lines, torn lines skipped, open calls worked out."""

from __future__ import annotations

from pathlib import Path

from acd.call_events import CallEvent, MemorySink
from acd.call_journal import CallJournal, FanOutSink, open_calls


def test_events_survive_reopening_and_unicode_is_kept(tmp_path: Path) -> None:
    journal = CallJournal(tmp_path / "sub" / "calls.jsonl")
    journal.emit(CallEvent("c1", 10.0, "arrived", {"caller_name": "Иван"}))
    journal.emit(CallEvent("c1", 11.0, "queued", {"channel": "PJSIP/pstn-1"}))
    # Not closed: what was emitted is already in the file (a killed process loses nothing).
    again = list(CallJournal(tmp_path / "sub" / "calls.jsonl").read())
    assert [e.kind for e in again] == ["arrived", "queued"]
    assert again[0].data["caller_name"] == "Иван"
    journal.close()


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path, caplog: object) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text(
        '{"call_id": "c1", "at": 1, "kind": "queued", "data": {"channel": "X"}}\n'
        "not json\n"
        '{"call_id": "c2", "at": 2}\n'
        '{"call_id": "c3", "at": 3, "kind": "queued", "data": {}}\n'
        '{"call_id": "c3", "at": 4, "kin',
        encoding="utf-8",
    )
    assert [e.call_id for e in CallJournal(path).read()] == ["c1", "c3"]


def test_missing_journal_has_no_open_calls(tmp_path: Path) -> None:
    assert CallJournal(tmp_path / "none.jsonl").open_calls() == {}


def test_open_calls_follow_queue_connect_and_finish() -> None:
    events = [
        CallEvent("c1", 1.0, "queued", {"channel": "PJSIP/a"}),
        CallEvent("c2", 2.0, "queued", {"channel": "PJSIP/b"}),
        CallEvent("c3", 3.0, "queued", {"channel": "PJSIP/c"}),
        CallEvent("c2", 5.0, "connected", {"agent_id": "a7"}),
        CallEvent("c3", 6.0, "finished", {"outcome": "abandoned"}),
        CallEvent("c4", 7.0, "connected", {"agent_id": "a1"}),  # never queued: ignored
    ]
    found = open_calls(events)
    assert set(found) == {"c1", "c2"}
    assert found["c1"].status == "waiting" and found["c1"].channel == "PJSIP/a"
    assert found["c2"].status == "connected"
    assert found["c2"].agent_id == "a7"
    assert found["c2"].queued_at == 2.0 and found["c2"].connected_at == 5.0


def test_fan_out_sends_to_every_sink() -> None:
    first, second = MemorySink(), MemorySink()
    FanOutSink(first, second).emit(CallEvent("c1", 1.0, "queued"))
    assert first.kinds("c1") == second.kinds("c1") == ["queued"]


def _call(journal: CallJournal, call_id: str, at: float, *, finish: bool) -> None:
    journal.emit(CallEvent(call_id, at, "arrived", {"caller": "+7701", "pad": "x" * 200}))
    journal.emit(CallEvent(call_id, at + 1, "queued", {"channel": f"PJSIP/pstn-{call_id}"}))
    journal.emit(CallEvent(call_id, at + 2, "connected", {"agent_id": "a1"}))
    if finish:
        journal.emit(CallEvent(call_id, at + 3, "finished", {"outcome": "answered"}))


def test_a_full_journal_is_rotated_keeping_what_a_restart_needs(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    journal = CallJournal(path, max_bytes=4096)
    _call(journal, "open-1", 1.0, finish=False)
    for n in range(40):
        _call(journal, f"done-{n}", 10.0 + n, finish=True)
    journal.emit(CallEvent("open-2", 100.0, "queued", {"channel": "PJSIP/pstn-open-2"}))
    before = {e.call_id for e in journal.read()} | {
        e.call_id for e in CallJournal(journal.rotated_path).read()
    }
    assert {"open-1", "open-2", "done-39"} <= before
    assert path.stat().st_size <= 4096 + 1024  # rotated, not grown
    assert journal.rotated_path.exists()
    found = CallJournal(path).open_calls()  # what a restart sees: the open calls, in full
    assert set(found) == {"open-1", "open-2"}
    assert (found["open-1"].status, found["open-1"].agent_id) == ("connected", "a1")
    assert (found["open-1"].queued_at, found["open-1"].connected_at) == (2.0, 3.0)
    assert found["open-2"].channel == "PJSIP/pstn-open-2"
    journal.close()


def test_a_restarted_journal_carries_the_old_open_calls_through_its_next_rotation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "calls.jsonl"
    first = CallJournal(path, max_bytes=4096)
    _call(first, "before-restart", 1.0, finish=False)
    first.close()  # the daemon stops (or dies) with the call talking

    second = CallJournal(path, max_bytes=4096)
    assert set(second.open_calls()) == {"before-restart"}
    for n in range(40):
        _call(second, f"done-{n}", 10.0 + n, finish=True)
    assert second.rotated_path.exists()
    assert set(CallJournal(path).open_calls()) == {"before-restart"}
    second.emit(CallEvent("before-restart", 99.0, "finished", {"outcome": "answered"}))
    for n in range(40):  # and once it has finished, the next rotation lets it go
        _call(second, f"later-{n}", 200.0 + n, finish=True)
    assert CallJournal(path).open_calls() == {}
    second.close()
