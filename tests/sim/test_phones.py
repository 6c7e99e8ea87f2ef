"""Simulated phones: answering, refusing, not answering, busy on a foreign call, auto
answer and talk time for load runs."""

from __future__ import annotations

import pytest

from acd.sim.pbx import SimulatedPBX
from acd.sim.pbx.testing import RawAmiClient


async def _ring(pbx: SimulatedPBX, endpoint: str, timeout: float | None = None):  # type: ignore[no-untyped-def]
    return await pbx.originate(f"PJSIP/{endpoint}", application="Wait", data="30", timeout=timeout)


async def test_rejected_call_is_busy(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001")
    start = pbx.event_seq
    pending = pbx.core.spawn(_ring(pbx, "1001"))
    chan = await phone.wait_ringing()
    assert phone.state == "RINGING"
    phone.reject()
    outcome = await pending
    assert (outcome.success, outcome.reason) == (False, 5)
    assert outcome.event["Uniqueid"] == "<unknown>" and outcome.event["Channel"] == "PJSIP/1001"
    hangup = await pbx.wait_for_event("Hangup", since=start)
    assert (hangup["Channel"], hangup["Cause"], hangup["Cause-txt"]) == (
        chan.name,
        "17",
        "User busy",
    )
    dial_end = await pbx.wait_for_event("DialEnd", since=start)
    assert dial_end["DialStatus"] == "BUSY"
    assert phone.rejected == [chan]


async def test_refusing_phone_never_rings(pbx: SimulatedPBX) -> None:
    pbx.add_phone("1001", refuse=True)
    start = pbx.event_seq
    outcome = await _ring(pbx, "1001")
    assert outcome.reason == 5
    assert not [e for e in pbx.events("Newstate", since=start) if e["ChannelState"] == "5"]


async def test_unanswered_call_times_out(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001")
    outcome = await _ring(pbx, "1001", timeout=0.2)
    assert (outcome.success, outcome.reason) == (False, 3)
    assert len(phone.missed) == 1
    await pbx.wait_until(lambda: phone.state == "NOT_INUSE")


async def test_unregistered_or_unknown_endpoint_fails_without_a_channel(pbx: SimulatedPBX) -> None:
    pbx.add_phone("1001", register=False)
    start = pbx.event_seq
    for endpoint in ("1001", "7777"):
        outcome = await _ring(pbx, endpoint)
        assert (outcome.success, outcome.reason, outcome.channel) == (False, 0, None)
    assert not pbx.events("Newchannel", since=start)


async def test_unregistering_while_ringing_ends_the_attempt(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001")
    pending = pbx.core.spawn(_ring(pbx, "1001"))
    await phone.wait_ringing()
    phone.unregister()
    outcome = await pending
    assert outcome.reason == 1
    assert phone.state == "UNAVAILABLE"


async def test_foreign_call_makes_the_phone_busy(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001")
    start = pbx.event_seq
    call = phone.start_foreign_call("5550000")
    status = await pbx.wait_for_event("ExtensionStatus", since=start)
    assert (status["Exten"], status["Status"], status["StatusText"]) == ("1001", "1", "InUse")
    assert phone.in_call and phone.state == "INUSE"
    outcome = await _ring(pbx, "1001")
    assert outcome.reason == 5
    phone.hangup()
    await call.wait_hangup()
    idle = await pbx.wait_for_event(
        "ExtensionStatus", lambda e: e["Status"] == "0", since=status.seq
    )
    assert idle["StatusText"] == "Idle"


async def test_auto_answer_and_talk_time(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001", answer_after=0.05, talk_time=0.1)
    outcome = await _ring(pbx, "1001")
    assert (outcome.success, outcome.reason) == (True, 4)
    assert outcome.channel is not None
    agent = pbx.call_for(outcome.channel)
    assert await agent.wait_hangup() == 16
    assert phone.answered == [outcome.channel]


async def test_wait_ringing_times_out(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001")
    with pytest.raises(TimeoutError, match="did not ring"):
        await phone.wait_ringing(timeout=0.05)
    with pytest.raises(RuntimeError, match="not ringing"):
        phone.answer()


async def test_duplicate_phone_is_refused(pbx: SimulatedPBX) -> None:
    pbx.add_phone("1001")
    with pytest.raises(ValueError, match="already"):
        pbx.add_phone("1001")


async def test_daemon_cancels_a_ringing_offer_with_ami_hangup(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001")
    pending = pbx.core.spawn(_ring(pbx, "1001"))
    chan = await phone.wait_ringing()
    async with RawAmiClient(pbx.ami_port) as ami:
        await ami.login()
        reply = await ami.action("Hangup", ("Channel", chan.name), ("Cause", "16"))
        assert reply["Message"] == "Channel Hungup"
    outcome = await pending
    assert (outcome.success, outcome.reason) == (False, 1)
    assert not phone.ringing and not phone.answered
    await pbx.wait_until(lambda: phone.state == "NOT_INUSE")


async def test_bridged_legs_share_the_callers_linkedid(pbx: SimulatedPBX) -> None:
    pbx.reload_dialplan(
        pbx.core.dialplan.parse(
            "[wait]\nexten => s,1,Answer()\n same => n,MusicOnHold()\n"
            "[agent]\nexten => s,1,Bridge(${CALLER})\n"
        )
    )
    phone = pbx.add_phone("1001", answer_after=0.0)
    caller = await pbx.place_call("79001234567", context="wait", exten="s")
    await caller.wait_moh()
    outcome = await pbx.originate(
        "PJSIP/1001", context="agent", exten="s", variables={"CALLER": caller.channel}
    )
    assert outcome.channel is not None
    await caller.wait_bridged()
    assert outcome.channel.linkedid == caller.chan.linkedid == caller.uniqueid
    enter = [e for e in pbx.events("BridgeEnter")]
    assert enter[-1]["Linkedid"] == caller.uniqueid
    caller.hangup()
    await pbx.wait_idle()
    assert phone.answered
