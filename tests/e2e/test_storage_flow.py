"""A call through the daemon lands in the database: the calls row, its events, the agent's
states, with the outcome and times the call really had."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from e2e_stack import Stack, eventually
from sqlalchemy import select

from acd.core.agents import AgentState
from acd.storage.db import make_engine
from acd.storage.models import AgentShift, AgentStateLog, Call, CallEventRow


async def _rows(app: Any) -> tuple[dict[str, Any], list[Any], list[Any], list[Any]]:
    engine = make_engine(app.settings.database.url)
    try:
        async with engine.connect() as conn:
            calls = {
                r["id"]: dict(r) for r in (await conn.execute(select(Call.__table__))).mappings()
            }
            events = (
                await conn.execute(
                    select(CallEventRow.call_id, CallEventRow.kind, CallEventRow.at).order_by(
                        CallEventRow.id
                    )
                )
            ).all()
            states = (
                await conn.execute(select(AgentStateLog.__table__).order_by(AgentStateLog.id))
            ).all()
            shifts = (await conn.execute(select(AgentShift.__table__))).all()
    finally:
        await engine.dispose()
    return calls, list(events), list(states), list(shifts)


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


async def test_an_answered_call_is_stored_with_its_outcome_and_times(stack: Stack) -> None:
    app = await stack.start_app()
    pbx = stack.pbx
    caller = await pbx.place_call("+79161234567", "Иван Петров", dnid="88005553535")
    ringing = await pbx.phone("1002").wait_ringing(timeout=5)
    call_id = caller.var("ACD_CALL_ID")
    assert call_id
    pbx.phone("1002").answer(ringing)
    await caller.wait_bridged(timeout=5)
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.ON_CALL)
    caller.hangup()
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.AVAILABLE)
    assert await app.writer.drain(10)

    calls, events, states, shifts = await _rows(app)
    journal = {e.kind: e for e in stack.events(call_id)}  # the daemon's own timeline
    row = calls[call_id]
    assert row["outcome"] == "answered" and row["agent_id"] == "a2" and row["end_known"]
    assert (row["caller_number"], row["caller_name"]) == ("+79161234567", "Иван Петров")
    assert row["dialled_number"] == "88005553535"
    assert (row["queue_id"], row["skills"], row["language"]) == ("hotline", "operator:1", "ru")
    for column, kind in (
        ("arrived_at", "arrived"),
        ("queued_at", "queued"),
        ("first_offer_at", "offered"),
        ("answered_at", "connected"),
        ("ended_at", "finished"),
    ):
        assert _epoch(row[column]) == pytest.approx(journal[kind].at, abs=1e-5), column
    assert (
        row["arrived_at"]
        <= row["queued_at"]
        <= row["first_offer_at"]
        <= row["answered_at"]
        < row["ended_at"]
    )
    finished = journal["finished"].data
    assert row["wait_seconds"] == finished["wait_seconds"]
    assert row["talk_seconds"] == finished["talk_seconds"] >= 0  # (a quick hang-up: 0.0)
    assert row["ring_seconds"] == pytest.approx(
        journal["connected"].at - journal["offered"].at, abs=1e-5
    )
    assert row["wrap_up_ended_at"] is not None and row["wrap_up_seconds"] >= 0.3 - 0.05
    assert row["handle_seconds"] == pytest.approx(row["talk_seconds"] + row["wrap_up_seconds"])

    kinds = [kind for c, kind, _ in events if c == call_id]
    assert kinds == [e.kind for e in stack.events(call_id)]  # every event, in order, once
    a2 = [(s.state, s.call_id) for s in states if s.agent_id == "a2"]
    assert a2 == [
        ("available", None),
        ("ringing", call_id),
        ("on_call", call_id),
        ("wrap_up", call_id),
        ("available", None),
    ]
    assert {s.agent_id for s in shifts} == {"a1", "a2", "a3"}  # auto log-in at start


async def test_an_abandoned_call_and_stop_flushes_what_is_pending(stack: Stack) -> None:
    app = await stack.start_app()
    for agent_id in ("a1", "a2", "a3"):
        app.center.agent_command(agent_id, "break", "lunch")
    caller = await stack.pbx.place_call("+79160000009")
    await caller.wait_moh()
    call_id = caller.var("ACD_CALL_ID")
    assert call_id
    caller.hangup()
    await eventually(lambda: stack.events(call_id, "finished"))
    await stack.stop_app()  # no drain: App.stop writes what is pending

    calls, _, states, _ = await _rows(app)
    row = calls[call_id]
    assert row["outcome"] in ("abandoned", "short_abandon")
    assert row["answered_at"] is None and row["first_offer_at"] is None
    assert row["ended_at"] is not None and row["wait_seconds"] >= 0
    breaks = [s for s in states if s.state == "break"]
    assert {(s.agent_id, s.reason) for s in breaks} == {
        ("a1", "lunch"),
        ("a2", "lunch"),
        ("a3", "lunch"),
    }
