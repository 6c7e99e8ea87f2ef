"""A call talking while the daemon restarts: taken over as connected, its agent on call,
then ended as any call (talk time from the original answer, wrap-up)."""

from __future__ import annotations

import pytest
from e2e_stack import Stack, eventually

from acd.core.agents import AgentState
from acd.core.calls import CallStatus


async def test_a_call_talking_across_a_restart_keeps_its_agent_on_call(stack: Stack) -> None:
    app = await stack.start_app(wrap_up_seconds=0.2)
    pbx = stack.pbx
    caller = await pbx.place_call("+79161234567")
    phone = pbx.phone("1002")  # a2 is the most qualified
    phone.answer(await phone.wait_ringing(timeout=5))
    await caller.wait_bridged(timeout=5)
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.ON_CALL)
    call_id = caller.var("ACD_CALL_ID")
    assert call_id
    [connected] = stack.events(call_id, "connected")
    await stack.stop_app()  # the daemon stops; the conversation goes on in Asterisk

    app = await stack.start_app(wrap_up_seconds=0.2)
    router = app.center.router
    await eventually(lambda: call_id in router.calls, what="the call taken over")
    call = router.calls[call_id]
    assert (call.status, call.agent_id) == (CallStatus.CONNECTED, "a2")
    assert call.answered_at == pytest.approx(connected.at)
    assert router.agent("a2").state is AgentState.ON_CALL
    assert router.agent("a2").call_id == call_id
    [resumed] = stack.events(call_id, "resumed")
    assert resumed.data["agent_id"] == "a2"

    # Another caller is not offered to a2 meanwhile.
    second = await pbx.place_call("+79160000002")
    await second.wait_moh()
    assert router.agent("a2").state is AgentState.ON_CALL

    caller.hangup()
    await eventually(lambda: stack.events(call_id, "finished"), what="the call finished")
    [finished] = stack.events(call_id, "finished")
    assert (finished.data["outcome"], finished.data["agent_id"]) == ("answered", "a2")
    assert finished.data["talk_seconds"] == pytest.approx(finished.at - connected.at, abs=0.01)
    assert router.talk_today("a2") >= finished.data["talk_seconds"] - 0.01
    await eventually(lambda: router.agent("a2").state is not AgentState.ON_CALL)
    second.hangup()
