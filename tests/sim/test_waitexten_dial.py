"""WaitExten (keys while on hold) and Dial (out to a phone) in the simulated PBX, and
``pattern_matches_more`` (the digit collection of the PBX)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.sim.pbx import Dialplan, SimulatedPBX
from acd.sim.pbx.dialplan import pattern_matches_more

PLAN = """
[hold]
exten => s,1,WaitExten(${SECONDS},m(calm))
 same => n,NoOp(never: WaitExten always moves on)
exten => _[1-3],1,Set(GOT=${EXTEN})
 same => n,Hangup()
exten => _4X,1,Set(GOT=${EXTEN})
 same => n,Hangup()
exten => i,1,Set(GOT=invalid ${INVALID_EXTEN})
 same => n,Hangup()
exten => t,1,Set(GOT=timeout)
 same => n,Hangup()

[bare]
exten => s,1,WaitExten(0.05)
 same => n,NoOp(never)

[out]
exten => s,1,Dial(PJSIP/${TARGET},${TIMEOUT},${OPTS})
 same => n,Set(AFTER=${DIALSTATUS})
 same => n,Wait(30)
"""


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimulatedPBX]:
    async with SimulatedPBX(Dialplan.parse(PLAN), spool_dir=tmp_path) as pbx:
        yield pbx


def test_pattern_matches_more() -> None:
    assert pattern_matches_more("_4X", "4")
    assert not pattern_matches_more("_4X", "45")
    assert not pattern_matches_more("_[0-9*#]", "1")
    assert pattern_matches_more("_X.", "1") and pattern_matches_more("_X!", "12")
    assert pattern_matches_more("123", "12") and not pattern_matches_more("123", "13")


async def test_waitexten_key_goes_to_its_extension_with_music_meanwhile(
    sim: SimulatedPBX,
) -> None:
    sim.set_global("SECONDS", "30")
    call = await sim.place_call("1", context="hold", exten="s")
    await call.wait_moh()
    assert call.moh_class == "calm" and call.application == "WaitExten"
    call.press("2")
    await call.wait_hangup()
    assert call.var("GOT") == "2" and call.moh_class is None


async def test_waitexten_collects_digits_while_a_longer_extension_matches(
    sim: SimulatedPBX,
) -> None:
    sim.set_global("SECONDS", "30")
    call = await sim.place_call("1", context="hold", exten="s")
    await call.wait_moh()
    call.press_digits("47")
    await call.wait_hangup()
    assert call.var("GOT") == "47"


async def test_waitexten_unknown_key_goes_to_i_and_timeout_to_t(sim: SimulatedPBX) -> None:
    sim.set_global("SECONDS", "30")
    call = await sim.place_call("1", context="hold", exten="s")
    await call.wait_moh()
    call.press("9")
    await call.wait_hangup()
    assert call.var("GOT") == "invalid 9"
    sim.set_global("SECONDS", "0.05")
    late = await sim.place_call("2", context="hold", exten="s")
    await late.wait_hangup()
    assert late.var("GOT") == "timeout"


async def test_waitexten_timeout_without_t_hangs_up(sim: SimulatedPBX) -> None:
    call = await sim.place_call("1", context="bare", exten="s")
    await call.wait_hangup()
    assert "NoOp" not in [e["Application"] for e in sim.events("Newexten")]


async def test_waitexten_stops_on_redirect(sim: SimulatedPBX) -> None:
    sim.set_global("SECONDS", "30")
    call = await sim.place_call("1", context="hold", exten="s")
    await call.wait_moh()
    sim.redirect(call.channel, "hold", "t")
    await call.wait_hangup()
    assert call.var("GOT") == "timeout"


async def test_dial_rings_the_phone_and_bridges_on_answer(sim: SimulatedPBX) -> None:
    trunk = sim.add_phone("trunk")
    sim.set_global("TARGET", "+74950000000@trunk")
    call = await sim.place_call("79001234567", context="out", exten="s")
    ringing = await trunk.wait_ringing()
    assert (ringing.exten, ringing.caller_num) == ("+74950000000", "79001234567")
    trunk.answer(ringing)
    assert (await call.wait_bridged()).startswith("PJSIP/trunk-")
    assert call.var("DIALSTATUS") == "ANSWER"
    assert [e["DialStatus"] for e in sim.events("DialEnd")] == ["ANSWER"]
    trunk.hangup()  # without option g the caller's dialplan ends too
    await call.wait_hangup()
    assert call.var("AFTER") is None


async def test_dial_with_g_goes_on_after_the_callee_hangs_up(sim: SimulatedPBX) -> None:
    phone = sim.add_phone("2001")
    sim.set_global("TARGET", "2001")
    sim.set_global("OPTS", "g")
    call = await sim.place_call("1", context="out", exten="s")
    phone.answer(await phone.wait_ringing())
    await call.wait_bridged()
    phone.hangup()
    await call.wait_until(lambda c: c.var("AFTER") == "ANSWER", what="after the call")
    call.hangup()


@pytest.mark.parametrize(
    ("target", "status"),
    [("nobody", "CHANUNAVAIL"), ("2002", "BUSY"), ("2003", "NOANSWER")],
)
async def test_dial_failures_set_dialstatus_and_go_on(
    sim: SimulatedPBX, target: str, status: str
) -> None:
    sim.add_phone("2002", refuse=True)
    sim.add_phone("2003")
    sim.set_global("TARGET", target)
    sim.set_global("TIMEOUT", "0.1")
    call = await sim.place_call("1", context="out", exten="s")
    await call.wait_until(lambda c: c.var("AFTER") is not None, what="Dial to end")
    assert call.var("AFTER") == status
    assert not sim.phone("2003").ringing
    call.hangup()


async def test_caller_hanging_up_cancels_the_dial(sim: SimulatedPBX) -> None:
    phone = sim.add_phone("2001")
    sim.set_global("TARGET", "2001")
    call = await sim.place_call("1", context="out", exten="s")
    await phone.wait_ringing()
    call.hangup()
    await call.wait_hangup()
    await phone.wait_idle()
    assert [e["DialStatus"] for e in sim.events("DialEnd")] == ["CANCEL"]
