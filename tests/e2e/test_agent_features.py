"""Agents change presence from their SIP phones with feature codes, confirmed by a prompt."""

from __future__ import annotations

import pytest
from e2e_stack import Stack, eventually

from acd.core.agents import AgentState


async def test_logout_and_login_with_id_and_pin(stack: Stack) -> None:
    app = await stack.start_app()
    phone = stack.pbx.phone("1001")
    call = await phone.dial("*71")
    await call.wait_hangup()
    assert "acd/agent-logout-ok" in call.prompts_heard
    assert app.center.router.agent("a1").state is AgentState.LOGGED_OUT

    call = await phone.dial("*70")
    await call.wait_for_prompt("acd/enter-agent-id")
    call.press_digits("999#")  # no such agent
    await call.wait_for_prompt("acd/enter-pin")
    call.press_digits("1234#")
    await call.wait_hangup()
    assert "acd/agent-login-failed" in call.prompts_heard
    assert app.center.router.agent("a1").state is AgentState.LOGGED_OUT


async def test_break_with_reason_then_ready(stack: Stack) -> None:
    app = await stack.start_app()
    phone = stack.pbx.phone("1001")
    call = await phone.dial("*721")
    await call.wait_hangup()
    assert "acd/agent-break-ok" in call.prompts_heard
    agent = app.center.router.agent("a1")
    assert agent.state is AgentState.BREAK
    assert agent.break_reason == "1"
    call = await phone.dial("*73")
    await call.wait_hangup()
    assert "acd/agent-ready-ok" in call.prompts_heard
    await eventually(lambda: app.center.router.agent("a1").state is AgentState.AVAILABLE)


async def test_a_refused_change_is_told_and_changes_nothing(stack: Stack) -> None:
    app = await stack.start_app()
    phone = stack.pbx.phone("1001")
    call = await phone.dial("*74")  # wrap-up done while available: not allowed
    await call.wait_hangup()
    assert "acd/agent-not-allowed" in call.prompts_heard
    assert app.center.router.agent("a1").state is AgentState.AVAILABLE


async def test_unknown_phone_is_told_so(stack: Stack) -> None:
    await stack.start_app()
    stranger = stack.pbx.add_phone("2001")
    call = await stranger.dial("*73")
    await call.wait_hangup()
    assert "acd/agent-unknown-phone" in call.prompts_heard


@pytest.mark.parametrize("pin", ["1234", "9999"])
async def test_login_checks_the_pin(stack: Stack, pin: str) -> None:
    app = await stack.start_app()
    app.center.agent_command("a3", "logout")
    phone = stack.pbx.phone("1003")
    call = await phone.dial("*70")
    await call.wait_for_prompt("acd/enter-agent-id")
    call.press_digits("a3#")
    await call.wait_for_prompt("acd/enter-pin")
    call.press_digits(f"{pin}#")
    await call.wait_hangup()
    expected = AgentState.AVAILABLE if pin == "1234" else AgentState.LOGGED_OUT
    assert app.center.router.agent("a3").state is expected


async def _login_at(stack: Stack, phone_id: str, agent_digits: str) -> list[str]:
    call = await stack.pbx.phone(phone_id).dial("*70")
    await call.wait_for_prompt("acd/enter-agent-id")
    call.press_digits(f"{agent_digits}#")
    await call.wait_for_prompt("acd/enter-pin")
    call.press_digits("1234#")
    await call.wait_hangup()
    return call.prompts_heard


async def test_hot_desking_calls_ring_where_the_agent_logged_in(stack: Stack) -> None:
    """a1 logs in at a3's phone: calls ring there (also after a restart) until a1 logs out
    from it; not while the phone's own agent is logged in."""
    app = await stack.start_app(wrap_up_seconds=0.2)
    for agent in ("a1", "a3"):
        app.center.agent_command(agent, "logout")
    app.center.agent_command("a2", "break", "lunch")

    assert "acd/agent-login-ok" in await _login_at(stack, "1003", "a1")
    assert app.center.agents_by_id["a1"].phone == "1003"
    assert app.center.agents_by_phone["1003"].id == "a1"
    await stack.stop_app()
    app = await stack.start_app(wrap_up_seconds=0.2)  # the seat is in the presence file
    router = app.center.router
    assert app.center.agents_by_id["a1"].phone == "1003"
    await eventually(lambda: router.agent("a1").offerable, what="a1 ready at 1003")
    app.center.agent_command("a2", "break", "lunch")

    caller = await stack.pbx.place_call("+79161234567")
    desk = stack.pbx.phone("1003")
    desk.answer(await desk.wait_ringing(timeout=5))
    assert (await caller.wait_bridged(timeout=5)).startswith("PJSIP/1003-")
    assert not stack.pbx.phone("1001").answered
    caller.hangup()
    await eventually(lambda: router.agent("a1").state is not AgentState.ON_CALL)

    logout = await desk.dial("*71")  # from the desk's phone: it is a1's while a1 sits there
    await logout.wait_hangup()
    assert "acd/agent-logout-ok" in logout.prompts_heard
    await eventually(lambda: router.agent("a1").state is AgentState.LOGGED_OUT)  # after wrap-up
    assert app.center.agents_by_id["a1"].phone == "1001"
    assert app.center.agents_by_phone["1003"].id == "a3"

    app.center.agent_command("a3", "login")  # the desk's own agent is back
    assert "acd/agent-not-allowed" in await _login_at(stack, "1003", "a1")
    assert router.agent("a1").state is AgentState.LOGGED_OUT
    assert app.center.agents_by_id["a1"].phone == "1001"
