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
