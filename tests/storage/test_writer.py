"""The call-record writer: events -> call_events, calls, agent_states, agent_shifts."""

from __future__ import annotations

from pathlib import Path

import pytest
from writer_support import T0, agent_state, answered_call, epoch, stored

from acd.call_events import CallEvent
from acd.storage.writer import CallRecordWriter


def make_writer(url: str, tmp_path: Path, **options: object) -> CallRecordWriter:
    options = {"linger": 0.005, "retry_interval": 0.01, "max_retry_interval": 0.05, **options}
    return CallRecordWriter(url, tmp_path / "spool", **options)  # type: ignore[arg-type]


async def test_a_call_becomes_its_row_its_events_and_agent_states(
    db_url: str, tmp_path: Path
) -> None:
    writer = make_writer(db_url, tmp_path)
    await writer.start()
    c = "1795845600.17"
    timeline = [
        agent_state(T0 - 100, "a1", "logged_out", "available"),
        agent_state(T0 - 90, "a2", "logged_out", "available"),
        CallEvent(
            c,
            T0,
            "arrived",
            {"caller": "+79161234567", "caller_name": "Иван Петров", "dialled": "88005553535"},
        ),
        CallEvent(c, T0 + 0.5, "prompt", {"prompt": "acd/greeting"}),
        CallEvent(
            c,
            T0 + 2.0,
            "queued",
            {"queue": "support", "language": "kk", "priority": 2, "skills": "tech:5,operator:3"},
        ),
        CallEvent(c, T0 + 3.0, "announced", {"position": 3, "mean_seconds": None}),
        agent_state(T0 + 5.0, "a1", "available", "ringing", call_id=c),
        CallEvent(c, T0 + 5.0, "offered", {"agent_id": "a1", "excluded": {"a3": "busy"}}),
        CallEvent(c, T0 + 15.0, "ring_ended", {"agent_id": "a1", "reason": "no_answer"}),
        agent_state(T0 + 15.0, "a1", "ringing", "break", reason="missed_offers"),
        CallEvent(c, T0 + 15.0, "requeued", {"agent_id": "a1", "reason": "no_answer"}),
        CallEvent(c, T0 + 16.0, "announced", {"position": 1, "mean_seconds": 12.5}),
        CallEvent(c, T0 + 40.0, "announced", {"position": 1, "mean_seconds": 99.0}),
        agent_state(T0 + 41.0, "a2", "available", "ringing", call_id=c),
        CallEvent(c, T0 + 41.0, "offered", {"agent_id": "a2"}),
        agent_state(T0 + 44.0, "a2", "ringing", "on_call", call_id=c),
        CallEvent(c, T0 + 44.0, "connected", {"agent_id": "a2"}),
        CallEvent(
            c,
            T0 + 104.0,
            "finished",
            {"outcome": "answered", "agent_id": "a2", "wait_seconds": 44.0, "talk_seconds": 60.0},
        ),
        agent_state(T0 + 104.0, "a2", "on_call", "wrap_up"),
        agent_state(T0 + 119.0, "a2", "wrap_up", "available"),
        agent_state(T0 + 200.0, "a1", "break", "logged_out"),
    ]
    try:
        for event in timeline:
            writer.emit(event)
        assert await writer.drain(10)
    finally:
        await writer.aclose()

    db = await stored(db_url)
    call_kinds = [e.kind for e in timeline if e.call_id]
    assert [kind for _, kind, _ in db.events] == call_kinds
    assert len({key for *_, key in db.events}) == len(call_kinds)  # every key unique
    row = db.calls[c]
    assert row["caller_number"] == "+79161234567" and row["caller_name"] == "Иван Петров"
    assert row["dialled_number"] == "88005553535"
    assert (row["queue_id"], row["language"], row["priority"]) == ("support", "kk", 2)
    assert row["skills"] == "tech:5,operator:3"
    assert row["agent_id"] == "a2" and row["outcome"] == "answered" and row["end_known"]
    times = {k: epoch(row[k]) for k in row if k.endswith("_at")}
    assert times["arrived_at"] == T0
    assert times["queued_at"] == times["ivr_ended_at"] == T0 + 2.0
    assert times["first_offer_at"] == T0 + 5.0
    assert times["answered_at"] == T0 + 44.0
    assert times["ended_at"] == T0 + 104.0
    assert times["wrap_up_ended_at"] == T0 + 119.0
    assert row["ring_seconds"] == pytest.approx(10.0 + 3.0)  # both offers rung
    assert (row["wait_seconds"], row["talk_seconds"]) == (44.0, 60.0)
    assert row["wrap_up_seconds"] == pytest.approx(15.0)
    assert row["handle_seconds"] == pytest.approx(75.0)
    assert row["announced_wait_seconds"] == 12.5  # the first estimate actually said

    states = [
        (s["agent_id"], s["state"], s["reason"], s["call_id"], epoch(s["started_at"]))
        for s in db.states
    ]
    assert states == [
        ("a1", "available", None, None, T0 - 100),
        ("a2", "available", None, None, T0 - 90),
        ("a1", "ringing", None, c, T0 + 5.0),
        ("a1", "break", "missed_offers", None, T0 + 15.0),
        ("a2", "ringing", None, c, T0 + 41.0),
        ("a2", "on_call", None, c, T0 + 44.0),
        ("a2", "wrap_up", None, c, T0 + 104.0),  # the call it follows, found by the writer
        ("a2", "available", None, None, T0 + 119.0),
        ("a1", "logged_out", None, None, T0 + 200.0),
    ]
    ends = {(s["agent_id"], epoch(s["started_at"])): epoch(s["ended_at"]) for s in db.states}
    assert ends[("a1", T0 - 100)] == T0 + 5.0  # each state ends when the next begins
    assert ends[("a1", T0 + 15.0)] == T0 + 200.0
    assert ends[("a2", T0 + 119.0)] is None  # still available
    shifts = [(s["agent_id"], epoch(s["login_at"]), epoch(s["logout_at"])) for s in db.shifts]
    assert shifts == [("a1", T0 - 100, T0 + 200.0), ("a2", T0 - 90, None)]


async def test_abandoned_and_recovered_calls(db_url: str, tmp_path: Path) -> None:
    writer = make_writer(db_url, tmp_path)
    await writer.start()
    try:
        writer.emit(CallEvent("ab", T0, "arrived", {"caller": "+7701"}))
        writer.emit(CallEvent("ab", T0 + 1, "queued", {"queue": "q", "priority": 0}))
        writer.emit(
            CallEvent(
                "ab",
                T0 + 31,
                "finished",
                {"outcome": "abandoned", "agent_id": None, "wait_seconds": 31.0},
            )
        )
        # A call the journal had open across a restart, closed without its exact end.
        writer.emit(CallEvent("rc", T0 + 50, "queued", {"queue": "q"}))
        writer.emit(
            CallEvent(
                "rc",
                T0 + 90,
                "finished",
                {"outcome": "abandoned", "recovered": True, "end_known": False},
            )
        )
        assert await writer.drain(10)
    finally:
        await writer.aclose()
    db = await stored(db_url)
    abandoned, recovered = db.calls["ab"], db.calls["rc"]
    assert abandoned["outcome"] == "abandoned" and abandoned["answered_at"] is None
    assert abandoned["agent_id"] is None and abandoned["first_offer_at"] is None
    assert abandoned["wait_seconds"] == 31.0 and abandoned["end_known"]
    assert epoch(recovered["arrived_at"]) == T0 + 50  # no arrival seen: the first event
    assert recovered["end_known"] is False or recovered["end_known"] == 0


async def test_many_calls_go_in_few_transactions(db_url: str, tmp_path: Path) -> None:
    writer = make_writer(db_url, tmp_path, batch_size=500)
    await writer.start()
    calls = 300
    timelines = [answered_call(f"c{i}", f"a{i}", T0 + i) for i in range(calls)]
    events = 0
    try:
        # Interleaved as on a busy day: every call's nth event before anyone's (n+1)th.
        for step in range(len(timelines[0])):
            for timeline in timelines:
                writer.emit(timeline[step])
                events += 1
        assert await writer.drain(20)
    finally:
        await writer.aclose()
    assert writer.stats.events_written == events
    assert writer.stats.calls_finished == calls
    assert writer.stats.transactions <= events // 100
    db = await stored(db_url)
    assert len(db.calls) == calls
    assert all(c["outcome"] == "answered" and c["ring_seconds"] == 3.0 for c in db.calls.values())
    assert all(c["wrap_up_seconds"] == pytest.approx(10.0) for c in db.calls.values())
    assert len(db.events) == calls * 6 and len(db.states) == calls * 4


async def test_a_call_spanning_a_restart_keeps_its_ring_and_wrap_up_times(
    db_url: str, tmp_path: Path
) -> None:
    """The second writer has no memory of the call: it reads what it needs back."""
    timeline = answered_call("c1", "a1", T0, talk=30.0)
    before, after = timeline[:5], timeline[5:]  # cut while the agent's phone rings
    first = make_writer(db_url, tmp_path)
    await first.start()
    for event in before:
        first.emit(event)
    await first.aclose()
    second = make_writer(db_url, tmp_path)
    await second.start()
    try:
        for event in after[:-1]:
            second.emit(event)
        assert await second.drain(10)
        third_event = after[-1]  # the wrap-up ends after yet another restart
    finally:
        await second.aclose()
    third = make_writer(db_url, tmp_path)
    await third.start()
    try:
        third.emit(third_event)
        assert await third.drain(10)
    finally:
        await third.aclose()
    row = (await stored(db_url)).calls["c1"]
    assert row["ring_seconds"] == pytest.approx(3.0)
    assert epoch(row["answered_at"]) == T0 + 4.0 and row["talk_seconds"] == 30.0
    assert row["wrap_up_seconds"] == pytest.approx(10.0)
    assert row["handle_seconds"] == pytest.approx(40.0)
    assert epoch(row["arrived_at"]) == T0


async def test_a_call_queued_by_an_ivr_scenario_keeps_its_path(db_url: str, tmp_path: Path) -> None:
    writer = make_writer(db_url, tmp_path)
    await writer.start()
    scenario = {"scenario": "flow", "topic": "billing", "category": "B"}
    try:
        writer.emit(CallEvent("s1", T0, "arrived", {"caller": "+7701"}))
        writer.emit(
            CallEvent(
                "s1",
                T0 + 9,
                "queued",
                {
                    "queue": "support",
                    **scenario,
                    "scenario_version": "3+1f2e3d4c5b6a",
                    "ivr_path": ["greeting", "menu:2", "билинг"],
                },
            )
        )
        writer.emit(
            CallEvent("s2", T0, "queued", {"queue": "q", **scenario, "scenario_version": 7})
        )
        assert await writer.drain(10)
    finally:
        await writer.aclose()
    calls = (await stored(db_url)).calls
    first, second = calls["s1"], calls["s2"]
    assert (first["scenario"], first["topic"], first["category"]) == ("flow", "billing", "B")
    assert first["ivr_path"] == ["greeting", "menu:2", "билинг"]
    assert first["scenario_version"] == "3+1f2e3d4c5b6a" and second["scenario_version"] == "7"
    assert epoch(first["ivr_ended_at"]) == T0 + 9


def _ivr(call_id: str, at: float, outcome: str, **data: object) -> CallEvent:
    fields: dict[str, object] = {
        "scenario": "hotline",
        "scenario_version": "2+0123456789ab",
        "outcome": outcome,
        "node": "n",
        "path": ["greeting", "hours"],
        "language": "kk",
        "topic": None,
        "category": None,
        "out_of_hours": False,
    }
    fields.update(data)
    return CallEvent(call_id, at, "ivr", fields)


async def test_calls_the_ivr_finishes_get_their_outcome_and_end(
    db_url: str, tmp_path: Path
) -> None:
    """Every way out of the IVR without an agent is an outcome, with the scenario's version,
    path and the time the IVR let the call go."""
    writer = make_writer(db_url, tmp_path)
    await writer.start()
    endings = {
        "closed": _ivr("closed", T0 + 5, "hangup", out_of_hours=True),
        "info": _ivr("info", T0 + 5, "hangup", reason="message only"),
        "vm": _ivr("vm", T0 + 5, "voicemail", mailbox="hotline@acd"),
        "cb": _ivr("cb", T0 + 5, "callback", topic="billing"),
        "out": _ivr("out", T0 + 5, "transfer", number="+74951234567"),
        "gone": _ivr("gone", T0 + 5, "caller_hung_up"),
        "fallback": _ivr("fallback", T0 + 5, "fallback", reason="scenario x is not served"),
    }
    try:
        for call_id, ending in endings.items():
            writer.emit(CallEvent(call_id, T0, "arrived", {"caller": "+7701"}))
            writer.emit(
                CallEvent(
                    call_id,
                    T0 + 1,
                    "scenario",
                    {"scenario": "hotline", "scenario_version": "2+0123456789ab"},
                )
            )
            writer.emit(ending)
        # The dialplan's fallback recorded a message: voicemail after all.
        writer.emit(CallEvent("fallback", T0 + 40, "voicemail_task", {"number": "+7701"}))
        assert await writer.drain(10)
    finally:
        await writer.aclose()
    calls = (await stored(db_url)).calls
    outcomes = {call_id: calls[call_id]["outcome"] for call_id in endings}
    assert outcomes == {
        "closed": "out_of_hours",
        "info": "ivr_ended",
        "vm": "voicemail",
        "cb": "callback",
        "out": "transferred",
        "gone": "ivr_abandoned",
        "fallback": "voicemail",
    }
    for call_id in endings:
        row = calls[call_id]
        assert (row["scenario"], row["scenario_version"]) == ("hotline", "2+0123456789ab")
        assert row["ivr_path"] == ["greeting", "hours"] and row["language"] == "kk"
        assert epoch(row["ivr_ended_at"]) == T0 + 5 and epoch(row["ended_at"]) == T0 + 5
        assert row["answered_at"] is None and row["queued_at"] is None
    assert calls["cb"]["topic"] == "billing"


async def test_a_queued_call_keeps_the_queues_outcome_and_overflow_is_named(
    db_url: str, tmp_path: Path
) -> None:
    """The router's ``withdrawn`` is stored as ``overflow``; what the scenario does next
    decides further; IVR events never replace an answer or an abandon."""
    writer = make_writer(db_url, tmp_path)
    await writer.start()
    finished = {"agent_id": None, "wait_seconds": 60.0, "talk_seconds": 0.0}
    try:
        for call_id in ("over", "over_vm", "over_gone", "lost"):
            writer.emit(CallEvent(call_id, T0, "arrived", {"caller": "+7701"}))
            writer.emit(CallEvent(call_id, T0 + 2, "queued", {"queue": "q"}))
        for call_id in ("over", "over_vm", "over_gone"):
            writer.emit(
                CallEvent(call_id, T0 + 62, "finished", {**finished, "outcome": "withdrawn"})
            )
        writer.emit(_ivr("over_vm", T0 + 63, "voicemail"))
        writer.emit(_ivr("over_gone", T0 + 70, "caller_hung_up"))
        writer.emit(CallEvent("lost", T0 + 62, "finished", {**finished, "outcome": "abandoned"}))
        writer.emit(_ivr("lost", T0 + 62, "caller_hung_up"))
        assert await writer.drain(10)
    finally:
        await writer.aclose()
    calls = (await stored(db_url)).calls
    assert calls["over"]["outcome"] == "overflow" and epoch(calls["over"]["ended_at"]) == T0 + 62
    assert calls["over_vm"]["outcome"] == "voicemail"
    assert epoch(calls["over_vm"]["ended_at"]) == T0 + 63
    assert calls["over_gone"]["outcome"] == "overflow"
    assert epoch(calls["over_gone"]["ended_at"]) == T0 + 70
    assert calls["lost"]["outcome"] == "abandoned" and epoch(calls["lost"]["ended_at"]) == T0 + 62


async def test_the_agents_topic_stands_and_hooliganism_is_an_outcome(
    db_url: str, tmp_path: Path
) -> None:
    """A ``disposition`` sets the topic (a later IVR event does not undo it, nor does the
    ``finished`` that follows, nor a later transaction); ``hooliganism`` is the outcome,
    whatever the router says."""
    writer = make_writer(db_url, tmp_path)
    await writer.start()
    try:
        for call_id in ("t1", "h1"):
            writer.emit(CallEvent(call_id, T0, "arrived", {"caller": "+7701"}))
            writer.emit(
                CallEvent(
                    call_id,
                    T0 + 3,
                    "queued",
                    {"queue": "q", "scenario": "hotline", "topic": "ivr-topic"},
                )
            )
            writer.emit(CallEvent(call_id, T0 + 5, "connected", {"agent_id": "a1"}))
        writer.emit(CallEvent("t1", T0 + 20, "disposition", {"agent_id": "a1", "topic": "refund"}))
        writer.emit(
            CallEvent(
                "h1",
                T0 + 20,
                "disposition",
                {"agent_id": "a1", "topic": None, "disposition": "hooliganism"},
            )
        )
        assert await writer.drain(10)  # a transaction of its own: the cache carries it on
        writer.emit(_ivr("t1", T0 + 21, "answered", topic="ivr-topic"))
        for call_id in ("t1", "h1"):
            writer.emit(
                CallEvent(
                    call_id,
                    T0 + 60,
                    "finished",
                    {
                        "outcome": "answered",
                        "agent_id": "a1",
                        "wait_seconds": 2.0,
                        "talk_seconds": 55.0,
                    },
                )
            )
        assert await writer.drain(10)
    finally:
        await writer.aclose()
    calls = (await stored(db_url)).calls
    assert (calls["t1"]["topic"], calls["t1"]["outcome"]) == ("refund", "answered")
    assert (calls["h1"]["topic"], calls["h1"]["outcome"]) == ("ivr-topic", "hooliganism")
    assert epoch(calls["h1"]["answered_at"]) == T0 + 5
