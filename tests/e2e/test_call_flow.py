"""A call end to end: inbound → FastAGI IVR → waiting with music → agent rung → answered →
bridged and recorded → hang-up → wrap-up → available."""

from __future__ import annotations

import pytest
from e2e_stack import Stack, eventually

from acd.core.agents import AgentState


async def test_answered_call_end_to_end(stack: Stack) -> None:
    app = await stack.start_app()
    pbx = stack.pbx
    # a2 (level 8) is the most qualified: take a1/a3 out so the call waits first.
    caller = await pbx.place_call("+79161234567", "Иван Петров", dnid="88005553535")
    await caller.wait_for_prompt("acd/greeting")
    phone = pbx.phone("1002")
    ringing = await phone.wait_ringing(timeout=5)
    await caller.wait_moh()  # the caller hears music while the agent's phone rings
    call_id = caller.var("ACD_CALL_ID")
    assert call_id
    assert app.center.router.agent("a2").state is AgentState.RINGING
    phone.answer(ringing)
    bridged = await caller.wait_bridged(timeout=5)
    assert bridged.startswith("PJSIP/1002-")
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.ON_CALL)
    caller.hangup()
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.WRAP_UP)
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.AVAILABLE)
    kinds = stack.sink.kinds(call_id)
    for kind in ("arrived", "queued", "offered", "connected", "finished"):
        assert kind in kinds, kinds
    finished = stack.events(call_id, "finished")[0]
    assert finished.data["outcome"] == "answered"
    assert finished.data["agent_id"] == "a2"
    recordings = pbx.recordings
    assert any(call_id in str(r.path) for r in recordings), recordings


async def test_ring_no_answer_tries_the_next_agent_and_sets_the_misser_not_ready(
    stack: Stack,
) -> None:
    app = await stack.start_app(ring_timeout_seconds=0.4, max_misses=1)
    pbx = stack.pbx
    caller = await pbx.place_call("+79160000001")
    first = await pbx.phone("1002").wait_ringing()  # a2: level 8, most qualified
    assert first is not None
    # a2 lets it ring out; a1 (level 5) is next.
    second = await pbx.phone("1001").wait_ringing(timeout=5)
    await eventually(lambda: app.center.router.agent("a2").state is not AgentState.RINGING)
    assert app.center.router.agent("a2").state is AgentState.BREAK  # one miss = not ready
    await pbx.phone("1002").wait_idle(timeout=5)  # the missed leg is hung up
    pbx.phone("1001").answer(second)
    assert (await caller.wait_bridged()).startswith("PJSIP/1001-")
    call_id = caller.var("ACD_CALL_ID")
    assert call_id is not None
    requeued = stack.events(call_id, "requeued")
    assert [e.data["agent_id"] for e in requeued] == ["a2"]
    # Each offer's ring time is in the timeline: a2's rang out, a1's was answered.
    [rang_out] = stack.events(call_id, "ring_ended")
    assert rang_out.data["agent_id"] == "a2"
    assert rang_out.data["ring_seconds"] == pytest.approx(0.4, abs=0.1)
    await eventually(lambda: stack.events(call_id, "connected"))
    [connected] = stack.events(call_id, "connected")
    [_, second_offer] = stack.events(call_id, "offered")
    assert connected.data["ring_seconds"] == pytest.approx(connected.at - second_offer.at, abs=1e-3)


@pytest.mark.parametrize(("short_abandon", "outcome"), [(5.0, "short_abandon"), (0.0, "abandoned")])
async def test_caller_hanging_up_while_an_agent_rings_is_abandoned(
    stack: Stack, short_abandon: float, outcome: str
) -> None:
    app = await stack.start_app(short_abandon_seconds=short_abandon)
    pbx = stack.pbx
    caller = await pbx.place_call("+79160000002")
    await pbx.phone("1002").wait_ringing()
    call_id = caller.var("ACD_CALL_ID")
    assert call_id is not None
    caller.hangup()
    await pbx.phone("1002").wait_idle(timeout=5)  # the agent's phone stops ringing
    await eventually(lambda: stack.events(call_id, "finished"))
    # Within the queue's short-abandon threshold it is told apart from a real abandon.
    assert stack.events(call_id, "finished")[0].data["outcome"] == outcome
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.AVAILABLE)
    assert not app.center.calls


async def test_waiting_caller_hears_position_and_wait_announcements(stack: Stack) -> None:
    app = await stack.start_app(announce_every_seconds=0.3)
    for agent_id in ("a1", "a2", "a3"):
        app.center.agent_command(agent_id, "break", "lunch")
    pbx = stack.pbx
    caller = await pbx.place_call("+79160000003")
    await caller.wait_moh()
    call_id = caller.var("ACD_CALL_ID")
    assert call_id is not None
    await eventually(lambda: stack.events(call_id, "announced"), what="an announcement")
    announced = stack.events(call_id, "announced")[0]
    assert announced.data["position"] == 1
    await caller.wait_in_context("acd-wait")  # back to the music afterwards
    assert len(caller.prompts_heard) > 1, caller.prompts_heard
    # An agent comes back: the caller is served.
    app.center.agent_command("a1", "ready")
    ringing = await pbx.phone("1001").wait_ringing()
    pbx.phone("1001").answer(ringing)
    await caller.wait_bridged()


async def test_phone_that_unregisters_is_not_offered_calls(stack: Stack) -> None:
    app = await stack.start_app()
    pbx = stack.pbx
    pbx.phone("1002").unregister()
    await eventually(lambda: not app.center.router.agent("a2").phone_registered)
    caller = await pbx.place_call("+79160000004")
    ringing = await pbx.phone("1001").wait_ringing()  # a1, the next best
    assert not pbx.phone("1002").ringing
    pbx.phone("1001").answer(ringing)
    await caller.wait_bridged()
    pbx.phone("1002").register()
    await eventually(lambda: app.center.router.agent("a2").phone_registered)


async def test_phone_busy_on_a_foreign_call_is_not_offered_calls(stack: Stack) -> None:
    app = await stack.start_app()
    pbx = stack.pbx
    foreign = pbx.phone("1002").start_foreign_call()
    await eventually(lambda: app.center.router.agent("a2").phone_busy)
    caller = await pbx.place_call("+79160000005")
    ringing = await pbx.phone("1001").wait_ringing()
    pbx.phone("1001").answer(ringing)
    await caller.wait_bridged()
    foreign.hangup()
    await eventually(lambda: not app.center.router.agent("a2").phone_busy)


async def test_the_recording_of_an_answered_call_is_indexed_by_its_call_id(stack: Stack) -> None:
    from sqlalchemy import select

    from acd.storage.models import Recording

    app = await stack.start_app()
    app.recording_jobs.index_delay = 0.01
    caller = await stack.pbx.place_call("+79168000000")
    ringing = await stack.pbx.phone("1002").wait_ringing()
    stack.pbx.phone("1002").answer(ringing)
    await caller.wait_bridged()
    call_id = caller.var("ACD_CALL_ID")
    assert call_id is not None
    caller.hangup()
    await eventually(lambda: call_id in app.recording_jobs.indexed, what="recording indexed")
    async with app.db_sessions() as session:
        row = (await session.execute(select(Recording))).scalar_one()
    assert row.call_id == call_id
    assert row.path == f"{call_id}.wav"
    assert row.size_bytes and row.sha256 and len(row.sha256) == 64


async def test_a_phone_found_unreachable_by_the_offer_is_not_the_agents_miss(
    stack: Stack,
) -> None:
    """The daemon believes a2's phone registered (its events were missed); the Originate
    fails at once (Reason 0): a2's phone counts as unreachable, without a miss, and the
    call goes to the next agent. When the phone registers again, a2 is offered calls."""
    app = await stack.start_app(max_misses=1)
    pbx = stack.pbx
    router = app.center.router
    pbx.phone("1002").unregister()
    await eventually(lambda: not router.agent("a2").phone_registered)
    app.center.phone_status("1002", registered=True)  # a stale belief
    caller = await pbx.place_call("+79160000005")
    pbx.phone("1001").answer(await pbx.phone("1001").wait_ringing(timeout=5))
    await caller.wait_bridged()
    a2 = router.agent("a2")
    assert (a2.state, a2.consecutive_misses, a2.phone_registered) == (
        AgentState.AVAILABLE,
        0,
        False,
    )
    call_id = caller.var("ACD_CALL_ID")
    [ended] = stack.events(call_id, "ring_ended")
    assert (ended.data["agent_id"], ended.data["reason"]) == ("a2", "phone_unregistered")
    pbx.phone("1002").register()
    await eventually(lambda: router.agent("a2").phone_registered)
