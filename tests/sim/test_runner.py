"""The dialplan executor and applications, on small purpose-written dialplans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.sim.pbx import Dialplan, SimulatedPBX

PLAN = """
[run]
exten => unknownapp,1,Answer()
 same => n,NoSuchApplication(x)
 same => n,NoOp(never)
exten => falls,1,NoOp(only one)
exten => i,1,NoOp(invalid ${INVALID_EXTEN})
 same => n,Hangup(1)
exten => h,1,NoOp(cleanup ${HANGUPCAUSE})
exten => waits,1,Wait(30)
 same => n,Wait(30)
exten => holds,1,MusicOnHold(default)
 same => n,NoOp(never)
exten => parked,1,NoOp(redirected here)
 same => n,Hangup()
exten => event,1,UserEvent(AcdProbe,Call: ${UNIQUEID},Note: a b)
 same => n,Set(CALLERID(name)=Renamed)
 same => n,Set(CHANNEL(language)=ru)
 same => n,Playback(no-such-file)
 same => n,Set(RESULT=${PLAYBACKSTATUS}/${LEN(${CALLERID(name)})}/${IF($[1=1]?y:n)})
 same => n,Hangup()

[bridger]
exten => s,1,Bridge(${TARGET},${OPTS})
 same => n,Set(AFTER=${BRIDGERESULT})
 same => n,Hangup()

[after]
exten => s,1,NoOp(continues)
 same => n,Wait(30)

[noincl]
exten => 5,1,NoOp(none)
"""


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimulatedPBX]:
    async with SimulatedPBX(Dialplan.parse(PLAN), spool_dir=tmp_path) as pbx:
        yield pbx


def _apps(sim: SimulatedPBX, channel: str) -> list[str]:
    return [e["Application"] for e in sim.events("Newexten") if e["Channel"] == channel]


async def test_unknown_application_hangs_up_without_newexten(sim: SimulatedPBX) -> None:
    call = await sim.place_call("1", context="run", exten="unknownapp")
    await call.wait_hangup()
    assert _apps(sim, call.channel) == ["Answer", "NoOp"]  # Answer, then the h extension
    soft = [e for e in sim.events("SoftHangupRequest") if e["Channel"] == call.channel]
    assert [e["Cause"] for e in soft] == ["16"]


async def test_invalid_extension_goes_to_i_and_the_end_to_h(sim: SimulatedPBX) -> None:
    call = await sim.place_call("1", context="run", exten="nothere")
    assert await call.wait_hangup() == 1
    data = [e["AppData"] for e in sim.events("Newexten") if e["Channel"] == call.channel]
    assert data == ["invalid nothere", "1", "cleanup 1"]
    lost = await sim.place_call("1", context="noincl", exten="6")
    assert await lost.wait_hangup() == 0


async def test_falling_off_the_end_hangs_up(sim: SimulatedPBX) -> None:
    call = await sim.place_call("1", context="run", exten="falls")
    await call.wait_hangup()
    assert _apps(sim, call.channel) == ["NoOp", "NoOp"]


async def test_wait_and_music_stop_at_once_on_hangup_or_redirect(sim: SimulatedPBX) -> None:
    waiting = await sim.place_call("1", context="run", exten="waits")
    await waiting.wait_in_app("Wait")
    waiting.hangup()
    assert await waiting.wait_hangup(timeout=1) == 16
    holding = await sim.place_call("2", context="run", exten="holds")
    await holding.wait_moh()
    sim.redirect(holding.channel, "run", "parked", 1)
    await holding.wait_hangup(timeout=1)
    assert holding.moh_class is None and holding.heard_moh
    assert "never" not in [e["AppData"] for e in sim.events("Newexten")]


async def test_user_event_functions_and_playback_failure(sim: SimulatedPBX) -> None:
    call = await sim.place_call("5551234", "Caller", context="run", exten="event")
    await call.wait_hangup()
    [event] = sim.events("UserEvent")
    assert (event["UserEvent"], event["Call"], event["Note"]) == ("AcdProbe", call.uniqueid, "a b")
    assert event["Channel"] == call.channel and event["Privilege"] == "user,all"
    assert call.var("RESULT") == "FAILED/7/y"
    assert call.chan.language == "ru"
    renamed = [e for e in sim.events("NewCallerid") if e["Channel"] == call.channel]
    assert renamed[-1]["CallerIDName"] == "Renamed"


async def test_variable_inheritance() -> None:
    from acd.sim.pbx.channels import ChannelState

    async with SimulatedPBX(Dialplan.parse(PLAN)) as sim:
        parent = await sim.place_call("1", context="run", exten="waits")
        parent.chan.set_var("__DEEP", "1")
        parent.chan.set_var("_ONCE", "2")
        parent.chan.set_var("LOCAL", "3")
        child = sim.core.new_channel(
            name="PJSIP/x-1", tech="PJSIP", state=ChannelState.DOWN, context="run", exten="s"
        )
        child.inherit_from(parent.chan)
        grandchild = sim.core.new_channel(
            name="PJSIP/x-2", tech="PJSIP", state=ChannelState.DOWN, context="run", exten="s"
        )
        grandchild.inherit_from(child)
        assert {k: (v.value, v.inherit) for k, v in child.vars.items()} == {
            "DEEP": ("1", 2),
            "ONCE": ("2", 0),
        }
        assert {k: v.value for k, v in grandchild.vars.items()} == {"DEEP": "1"}
        for chan in (child, grandchild):
            sim.core.destroy(chan)


@pytest.mark.parametrize(
    ("opts", "target_after"), [("", None), ("F(after^s^1)", "after"), ("F", "run")]
)
async def test_bridge_options(sim: SimulatedPBX, opts: str, target_after: str | None) -> None:
    target = await sim.place_call("1", context="run", exten="waits")
    await target.wait_in_app("Wait")
    sim.set_global("TARGET", target.channel)
    sim.set_global("OPTS", opts)
    bridger = await sim.place_call("2", context="bridger", exten="s")
    assert await target.wait_bridged() == bridger.channel
    bridger.hangup()
    await bridger.wait_hangup()
    if target_after is None:
        assert await target.wait_hangup() == 16
    else:
        await target.wait_until(lambda c: c.context == target_after and c.application == "Wait")
        assert not target.is_hung_up
        target.hangup()
        await target.wait_hangup()


async def test_bridged_party_hanging_up_lets_the_bridger_continue(sim: SimulatedPBX) -> None:
    target = await sim.place_call("1", context="run", exten="waits")
    await target.wait_in_app("Wait")
    sim.set_global("TARGET", target.channel)
    sim.set_global("OPTS", "")
    bridger = await sim.place_call("2", context="bridger", exten="s")
    await bridger.wait_bridged()
    target.hangup()
    await bridger.wait_hangup()
    assert bridger.var("AFTER") == "SUCCESS"
    bridge_events = [e.name for e in sim.events() if e.name.startswith("Bridge")]
    assert bridge_events == [
        "BridgeCreate",
        "BridgeEnter",
        "BridgeEnter",
        "BridgeLeave",
        "BridgeLeave",
        "BridgeDestroy",
    ]


async def test_bridge_to_a_missing_channel(sim: SimulatedPBX) -> None:
    sim.set_global("TARGET", "PJSIP/gone-00000042")
    sim.set_global("OPTS", "")
    bridger = await sim.place_call("2", context="bridger", exten="s")
    await bridger.wait_hangup()
    assert bridger.var("AFTER") == "NONEXISTENT"


async def test_redirect_out_of_a_bridge_leaves_the_other_alone(sim: SimulatedPBX) -> None:
    target = await sim.place_call("1", context="run", exten="waits")
    await target.wait_in_app("Wait")
    sim.set_global("TARGET", target.channel)
    sim.set_global("OPTS", "")
    bridger = await sim.place_call("2", context="bridger", exten="s")
    await bridger.wait_bridged()
    sim.redirect(target.channel, "after", "s", 1)
    await target.wait_until(lambda c: c.context == "after" and c.application == "Wait")
    assert bridger.bridged_with is None and not bridger.is_hung_up
    bridger.hangup()
    target.hangup()
    await sim.wait_idle()
