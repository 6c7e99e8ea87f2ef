"""The FastAGI client: digits, prompts, usage errors, EXEC, hangups at any moment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from acd.sim.pbx import Call, Dialplan, SimulatedPBX
from acd.sim.pbx.testing import AgiConnection, ScriptedAgiServer

PLAN = Dialplan.parse(
    """
[t]
exten => s,1,Answer()
 same => n,AGI(agi://127.0.0.1:4573/t,${EXTEN},two words)
 same => n,NoOp(after ${AGISTATUS})
 same => n,Hangup()
exten => after,1,NoOp(jumped)
 same => n,Hangup(17)
"""
)

Script = Callable[[AgiConnection, Call], Awaitable[None]]


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimulatedPBX]:
    async with SimulatedPBX(PLAN, spool_dir=tmp_path) as pbx:
        yield pbx


async def run(sim: SimulatedPBX, script: Script, *, digits: str = "") -> tuple[Call, AgiConnection]:
    """Place a call into [t] with ``digits`` pressed up front; run ``script`` as its AGI."""
    box: list[Call] = []

    async def handler(conn: AgiConnection) -> None:
        await script(conn, box[0])

    async with ScriptedAgiServer(handler) as agi:
        sim.point_agi_at("127.0.0.1", agi.port)
        call = await sim.place_call("5551234", "Test", exten="s", context="t")
        box.append(call)
        if digits:
            call.press_digits(digits)
        await call.wait_hangup()
        assert not agi.errors, agi.errors
        [conn] = agi.connections
    return call, conn


async def test_environment_has_args_and_unknowns(sim: SimulatedPBX) -> None:
    async def nothing(conn: AgiConnection, call: Call) -> None:
        pass

    call, conn = await run(sim, nothing)
    assert conn.env_lines[-1] == b"\n" and all(line.endswith(b"\n") for line in conn.env_lines)
    assert not any(line.endswith(b"\r\n") for line in conn.env_lines)
    assert (conn.env["agi_arg_1"], conn.env["agi_arg_2"]) == ("s", "two words")
    assert conn.env["agi_dnid"] == "88005553535" and conn.env["agi_rdnis"] == "unknown"
    assert call.var("AGISTATUS") == "SUCCESS"


async def test_get_data_with_terminator_and_with_timeout(sim: SimulatedPBX) -> None:
    replies: list[str] = []

    async def script(conn: AgiConnection, call: Call) -> None:
        replies.append(await conn.command("GET DATA acd/menu 200 5"))
        call.press_digits("4")
        replies.append(await conn.command("GET DATA acd/menu 100 5"))
        replies.append(await conn.command("GET DATA acd/menu 100 5"))

    call, _ = await run(sim, script, digits="12#")
    assert replies == ["200 result=12", "200 result=4 (timeout)", "200 result= (timeout)"]
    assert call.prompts_heard == ["acd/menu"] * 3


async def test_get_data_without_a_prompt_only_reads_digits(sim: SimulatedPBX) -> None:
    replies: list[str] = []

    async def script(conn: AgiConnection, call: Call) -> None:
        replies.append(await conn.command('GET DATA "" 200 3'))
        replies.append(await conn.command('GET DATA "" 100 3'))

    call, _ = await run(sim, script, digits="45#")
    assert replies == ["200 result=45", "200 result= (timeout)"]
    assert call.prompts_heard == []  # ast_app_getdata_full streams nothing for ""


async def test_escape_digits_interrupt_prompts_and_others_wait(sim: SimulatedPBX) -> None:
    replies: list[str] = []

    async def script(conn: AgiConnection, call: Call) -> None:
        replies.append(await conn.command('STREAM FILE acd/welcome ""'))
        replies.append(await conn.command('STREAM FILE acd/welcome "59"'))
        replies.append(await conn.command('SAY DIGITS 123 ""'))
        replies.append(await conn.command("WAIT FOR DIGIT 1000"))
        replies.append(await conn.command("WAIT FOR DIGIT 10"))

    call, _ = await run(sim, script, digits="57")
    assert replies == [
        "200 result=0 endpos=8000",
        "200 result=53 endpos=8000",
        "200 result=0",
        "200 result=55",
        "200 result=0",
    ]
    assert call.prompts_heard == ["acd/welcome", "acd/welcome", "digits:123"]


async def test_a_digit_during_a_long_prompt_cuts_it_short(sim: SimulatedPBX) -> None:
    sim.config.prompt_seconds = 5.0
    replies: list[str] = []

    async def script(conn: AgiConnection, call: Call) -> None:
        conn.writer.write(b'STREAM FILE acd/long "#"\n')
        await call.wait_for_prompt("acd/long")
        call.press("#")
        replies.append((await conn.read_line()).decode().strip())

    await run(sim, script)
    assert replies == ["200 result=35 endpos=40000"]


async def test_usage_errors_and_unknown_commands(sim: SimulatedPBX) -> None:
    replies: list[str] = []

    async def script(conn: AgiConnection, call: Call) -> None:
        replies.append(await conn.command("SET VARIABLE ONLYNAME"))
        replies.append(await conn.command("GET VARIABLE"))
        replies.append(await conn.command(""))
        replies.append(await conn.command("FLY AWAY"))

    await run(sim, script)
    assert replies[0].startswith("520-Invalid command syntax.  Proper usage follows:\n")
    assert replies[0].endswith("\n520 End of proper usage.")
    assert replies[1].startswith("520-")
    assert replies[2:] == ["510 Invalid or unknown command"] * 2


async def test_exec_does_not_expand_unless_agiexecfull(sim: SimulatedPBX) -> None:
    async def script(conn: AgiConnection, call: Call) -> None:
        assert await conn.command("EXEC Set A=${EXTEN}") == "200 result=0"
        assert await conn.command("SET VARIABLE AGIEXECFULL yes") == "200 result=1"
        assert await conn.command("EXEC Set B=${EXTEN}") == "200 result=0"
        assert await conn.command("EXEC NoSuchApp x") == "200 result=-2"

    call, _ = await run(sim, script)
    assert (call.var("A"), call.var("B")) == ("${EXTEN}", "s")


async def test_exec_goto_continues_the_dialplan_there(sim: SimulatedPBX) -> None:
    async def script(conn: AgiConnection, call: Call) -> None:
        assert await conn.command("EXEC Goto t,after,1") == "200 result=0"

    call, _ = await run(sim, script)
    assert call.hangup_cause == 17
    apps = [e["AppData"] for e in sim.events("Newexten") if e["Channel"] == call.channel]
    assert apps[-2:] == ["jumped", "17"]


async def test_set_priority_label_and_context(sim: SimulatedPBX) -> None:
    async def script(conn: AgiConnection, call: Call) -> None:
        await conn.command("SET EXTENSION after")
        await conn.command("SET PRIORITY 1")

    call, _ = await run(sim, script)
    assert call.hangup_cause == 17


async def test_caller_hangs_up_while_the_script_is_idle(sim: SimulatedPBX) -> None:
    seen: list[bytes] = []

    async def script(conn: AgiConnection, call: Call) -> None:
        call.hangup()
        seen.append(await conn.read_line())
        seen.append((await conn.command("ANSWER")).encode())
        seen.append((await conn.command("GET VARIABLE CHANNEL(state)")).encode())

    call, _ = await run(sim, script)
    assert seen == [
        b"HANGUP\n",
        b"511 Command Not Permitted on a dead channel or intercept routine",
        b"200 result=1 (Up)",
    ]
    assert call.var("AGISTATUS") == "HANGUP"
    after = [e for e in sim.events("Newexten") if e["AppData"].startswith("after")]
    assert not after


async def test_hangup_of_another_channel_and_channel_status(sim: SimulatedPBX) -> None:
    other = await sim.place_call("5550000", context="acd-wait", exten="s")
    replies: list[str] = []

    async def script(conn: AgiConnection, call: Call) -> None:
        replies.append(await conn.command(f"CHANNEL STATUS {other.channel}"))
        replies.append(await conn.command(f"HANGUP {other.channel}"))
        replies.append(await conn.command("HANGUP PJSIP/nobody-00000099"))

    sim.reload_dialplan(Dialplan.parse(PLAN_WITH_WAIT))
    await run(sim, script)
    assert replies == ["200 result=4", "200 result=1", "200 result=-1"]
    await other.wait_hangup()


PLAN_WITH_WAIT = """
[t]
exten => s,1,Answer()
 same => n,AGI(agi://127.0.0.1:4573/t)
[acd-wait]
exten => s,1,Wait(30)
"""


async def test_server_unreachable_or_not_fastagi(sim: SimulatedPBX) -> None:
    sim.set_global("X", "1")
    call = await sim.place_call("5551234", exten="s", context="t")
    await call.wait_hangup()
    assert call.var("AGISTATUS") == "FAILURE"
    notes = [e["AppData"] for e in sim.events("Newexten") if e["Channel"] == call.channel]
    assert "after FAILURE" in notes
    sim.reload_dialplan(Dialplan.parse("[t]\nexten => s,1,AGI(/usr/local/script.sh)\n"))
    call = await sim.place_call("5551234", exten="s", context="t")
    await call.wait_hangup()
    assert call.var("AGISTATUS") == "NOTFOUND"


async def test_bridge_pulls_a_channel_out_of_a_running_agi(sim: SimulatedPBX) -> None:
    sim.reload_dialplan(
        Dialplan.parse(
            "[t]\nexten => s,1,Answer()\n same => n,AGI(agi://127.0.0.1:4573/t)\n"
            " same => n,NoOp(not reached)\n"
            "[bridger]\nexten => s,1,Answer()\n same => n,Bridge(${TARGET})\n same => n,Hangup()\n"
        )
    )
    seen: list[bytes] = []
    finished = asyncio.Event()

    async def script(conn: AgiConnection, call: Call) -> None:
        conn.writer.write(b"GET DATA acd/menu 10000 4\n")
        seen.append(await conn.read_line())
        seen.append(await conn.read_line())
        seen.append((await conn.command("GET VARIABLE CHANNEL(name)")).encode())
        seen.append((await conn.command('STREAM FILE x ""')).encode())
        finished.set()

    async def bridge_it(target: Call) -> Call:
        await target.wait_for_prompt("acd/menu")
        sim.set_global("TARGET", target.channel)
        return await sim.place_call("2", context="bridger", exten="s")

    async with ScriptedAgiServer(lambda conn: script(conn, holder[0])) as agi:
        sim.point_agi_at("127.0.0.1", agi.port)
        holder = [await sim.place_call("1", context="t", exten="s")]
        target = holder[0]
        bridger = await bridge_it(target)
        assert await target.wait_bridged() == bridger.channel
        await agi.wait_connections(1)
        await asyncio.wait_for(finished.wait(), 5)
    assert seen == [
        b"200 result=-1\n",
        b"HANGUP\n",
        f"200 result=1 ({target.channel})".encode(),
        b"511 Command Not Permitted on a dead channel or intercept routine",
    ]
    assert "not reached" not in [e["AppData"] for e in sim.events("Newexten")]
    bridger.hangup()
    assert await target.wait_hangup() == 16
