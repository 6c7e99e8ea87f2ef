"""The daemon under a broken AMI link, an unreachable FastAGI server and garbage on sockets."""

from __future__ import annotations

import asyncio
import logging

import pytest
from daemon import free_port
from e2e_stack import Stack, eventually

from acd.core.agents import AgentState

pytestmark = pytest.mark.timeout(60)


def reconnects(stack: Stack) -> int:
    assert stack.app is not None
    return stack.app.ami.stats["reconnects"]


async def cut_ami(stack: Stack, *, half_open: bool = False) -> None:
    """Cut the link and wait for the daemon to be back (reconnected and resynchronised)."""
    before = reconnects(stack)
    assert stack.pbx.ami.drop_connections(half_open=half_open) == 1
    await eventually(lambda: reconnects(stack) > before, timeout=10, what="AMI reconnect")
    assert stack.app is not None
    await stack.app.ami.wait_connected(timeout=10)


async def test_ami_cut_repeatedly_mid_call_leaves_no_agent_stuck(stack: Stack) -> None:
    # An offer rings 2 s: with the link down the daemon cannot stop the ringing, so each
    # first part waits for Asterisk's Originate timeout.
    app = await stack.start_app(ring_timeout_seconds=2.0)
    pbx = stack.pbx
    router = app.center.router
    for round_number in range(3):
        # 1. The caller hangs up while an agent's phone rings and the link is down.
        caller = await pbx.place_call(f"+7916100{round_number:04d}")
        await pbx.phone("1002").wait_ringing()
        before = reconnects(stack)
        await stack.pbx.ami.stop_listening()  # keep the daemon out while things change
        pbx.ami.drop_connections()
        caller.hangup()
        await pbx.phone("1002").wait_idle(timeout=5)  # Asterisk ends the agent leg (no answer)
        await stack.pbx.ami.start_listening()
        await eventually(lambda b=before: reconnects(stack) > b, timeout=10, what="reconnect")
        await eventually(lambda: router.agent("a2").state is AgentState.AVAILABLE, timeout=5)
        # a2 may be free again by the ring timeout before the resync closes the call
        await eventually(lambda: not app.center.calls, what="the abandoned call closed")

        # 2. Caller and agent talk; the link drops; the caller hangs up meanwhile.
        caller = await pbx.place_call(f"+7916200{round_number:04d}")
        ringing = await pbx.phone("1002").wait_ringing()
        pbx.phone("1002").answer(ringing)
        await caller.wait_bridged()
        await eventually(lambda: router.agent("a2").state is AgentState.ON_CALL)
        before = reconnects(stack)
        await stack.pbx.ami.stop_listening()
        pbx.ami.drop_connections()
        caller.hangup()
        await pbx.phone("1002").wait_idle(timeout=5)
        await stack.pbx.ami.start_listening()
        await eventually(lambda b=before: reconnects(stack) > b, timeout=10, what="reconnect")
        await eventually(
            lambda: router.agent("a2").state in (AgentState.WRAP_UP, AgentState.AVAILABLE),
            what="a2 out of the call that ended",
        )
        await eventually(lambda: router.agent("a2").state is AgentState.AVAILABLE)
        assert not app.center.calls
    outcomes = [e.data["outcome"] for e in stack.events(kind="finished")]
    assert outcomes.count("answered") == 3
    assert len(outcomes) == 6


async def test_half_open_link_is_detected_and_calls_still_flow(stack: Stack) -> None:
    await stack.start_app()
    await cut_ami(stack, half_open=True)
    caller = await stack.pbx.place_call("+79163000000")
    ringing = await stack.pbx.phone("1002").wait_ringing()
    stack.pbx.phone("1002").answer(ringing)
    await caller.wait_bridged()


async def test_fastagi_down_the_dialplan_fallback_takes_the_call(stack: Stack) -> None:
    pbx = stack.pbx
    pbx.point_agi_at("127.0.0.1", free_port())  # nobody listens there
    caller = await pbx.place_call("+79164000000")
    await caller.wait_in_context("acd-fallback", timeout=10)
    await eventually(lambda: pbx.voicemails, what="a voicemail")
    assert "acd/technical-difficulties" in caller.prompts_heard
    assert not caller.hangup_cause or caller.hangup_cause == 16


async def test_garbage_on_the_ami_socket_is_logged_and_service_goes_on(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await stack.start_app()
    (session,) = stack.pbx.ami.sessions
    session.writer.write(
        b"Event: Newchannel\r\nChannel: PJSIP/\xff\xfe-0001\r\n\r\n"  # invalid UTF-8
        b"no colon here at all\r\n\r\n"  # not a header
        b"Event: Huge\r\nX: " + b"A" * 300_000 + b"\r\n\r\n"  # a huge header
        b"Event: Truncated\r\nUniqueid: 17"  # cut in the middle...
    )
    await session.writer.drain()
    session.writer.write(b"\r\n\r\n")  # ...and finished later
    caller = await stack.pbx.place_call("+79165000000")
    ringing = await stack.pbx.phone("1002").wait_ringing()
    stack.pbx.phone("1002").answer(ringing)
    await caller.wait_bridged()
    assert stack.app is not None and stack.app.ami.connected


async def test_garbage_on_the_fastagi_socket_is_logged_and_service_goes_on(
    stack: Stack,
) -> None:
    app = await stack.start_app()
    port = app.fastagi.port
    junk = [
        b"\xff\xfe\xfd\n\n",  # invalid UTF-8 header block
        b"agi_network: yes\n" + b"agi_x: " + b"B" * 200_000 + b"\n\n",  # huge header
        b"agi_network: yes\nagi_request: agi://x/inbound\n",  # truncated, then EOF
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # somebody else's protocol
    ]
    for payload in junk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(payload)
            await writer.drain()
            writer.write_eof()
            async with asyncio.timeout(10):
                await reader.read()  # the server closes the connection
        except ConnectionResetError:
            pass  # closed on us while we were still writing: just as good
        writer.close()
    caller = await stack.pbx.place_call("+79166000000")
    ringing = await stack.pbx.phone("1002").wait_ringing()
    stack.pbx.phone("1002").answer(ringing)
    await caller.wait_bridged()
    assert app.fastagi.serving
