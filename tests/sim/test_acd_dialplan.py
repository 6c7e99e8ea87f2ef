"""The simulated PBX executes OUR ``asterisk_conf/extensions.conf``: inbound calls with and
without the daemon, waiting with music, announcements, the agent leg, feature codes."""

from __future__ import annotations

import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from acd.sim.pbx import Call, SimulatedPBX
from acd.sim.pbx.testing import AgiConnection, RawAmiClient, ScriptedAgiServer

Script = Callable[[AgiConnection], Awaitable[None]]


def daemon(**scripts: Script) -> Script:
    """A fake daemon dispatching FastAGI connections on agi_network_script."""

    async def handle(conn: AgiConnection) -> None:
        script = conn.env["agi_network_script"].split("?", 1)[0]
        handler = scripts.get(script)
        if handler is not None:
            await handler(conn)

    return handle


async def queue_caller(conn: AgiConnection) -> None:
    await conn.command('STREAM FILE acd/welcome ""')
    await conn.command("SET VARIABLE ACD_QUEUE hotline")
    await conn.command("SET VARIABLE ACD_NEXT queue")


async def connect_yes(conn: AgiConnection) -> None:
    await conn.command("SET VARIABLE ACD_CONNECT yes")


async def queued_call(pbx: SimulatedPBX, num: str = "79001234567") -> Call:
    call = await pbx.place_call(num, "Ivan Petrov", dnid="88005553535")
    await call.wait_moh()
    return call


async def test_without_fastagi_the_caller_reaches_voicemail(pbx: SimulatedPBX) -> None:
    call = await pbx.place_call("79001234567", "Ivan Petrov")
    cause = await call.wait_hangup()
    assert cause == 16
    assert call.prompts_heard[0] == "acd/technical-difficulties"
    [vm] = pbx.voicemails
    assert (vm.mailbox, vm.context, vm.caller_num) == ("hotline", "acd", "79001234567")
    assert vm.path.is_file() and vm.path.is_relative_to(pbx.spool_dir)
    assert call.var("AGISTATUS") == "FAILURE" and call.var("VMSTATUS") == "SUCCESS"
    contexts = [e["Context"] for e in pbx.events("Newexten")]
    assert "acd-fallback" in contexts and "acd-wait" not in contexts


async def test_inbound_agi_environment_and_queueing(pbx: SimulatedPBX) -> None:
    async with ScriptedAgiServer(daemon(inbound=queue_caller)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await queued_call(pbx)
        [conn] = agi.connections
    env = conn.env
    assert env["agi_request"] == "agi://127.0.0.1:4573/inbound"
    assert env["agi_network_script"] == "inbound"
    assert env["agi_arg_1"] == "88005553535"
    assert (env["agi_callerid"], env["agi_calleridname"]) == ("79001234567", "Ivan Petrov")
    assert (env["agi_context"], env["agi_extension"], env["agi_priority"]) == (
        "acd-inbound",
        "88005553535",
        "6",
    )
    assert env["agi_channel"] == call.channel and env["agi_type"] == "PJSIP"
    assert env["agi_uniqueid"] == call.uniqueid == call.var("ACD_CALL_ID")
    assert call.var("ACD_DNID") == "88005553535"
    assert (call.var("ACD_ARRIVED") or "").isdigit()
    assert call.context == "acd-wait" and call.moh_class == "default"
    assert call.prompts_heard == ["acd/welcome"]
    # the daemon finds waiting callers after a restart by context and ACD_CALL_ID
    async with RawAmiClient(pbx.ami_port) as ami:
        await ami.login()
        _, items, _ = await ami.list_action("CoreShowChannels")
        [item] = items
        assert (item["Context"], item["Application"]) == ("acd-wait", "MusicOnHold")
        value = await ami.action(
            "Getvar", ("Channel", item["Channel"]), ("Variable", "ACD_CALL_ID")
        )
        assert value["Value"] == call.uniqueid
    call.hangup()
    assert await call.wait_hangup() == 16


async def test_inbound_left_without_a_decision_falls_back_to_voicemail(pbx: SimulatedPBX) -> None:
    """The daemon stopped (or failed) in the middle of the IVR: AGISTATUS is SUCCESS but
    ACD_NEXT is unset; the caller is not hung up on."""

    async def stopped_mid_ivr(conn: AgiConnection) -> None:
        await conn.command('STREAM FILE acd/greeting ""')

    async with ScriptedAgiServer(daemon(inbound=stopped_mid_ivr)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", "Ivan Petrov", dnid="88005553535")
        assert await call.wait_hangup() == 16
    assert call.var("AGISTATUS") == "SUCCESS"
    assert call.prompts_heard[:2] == ["acd/greeting", "acd/technical-difficulties"]
    [vm] = pbx.voicemails
    assert (vm.mailbox, vm.context) == ("hotline", "acd")


async def test_inbound_the_daemon_ends_is_hung_up(pbx: SimulatedPBX) -> None:
    async def closed(conn: AgiConnection) -> None:
        await conn.command('STREAM FILE acd/closed ""')
        await conn.command("SET VARIABLE ACD_NEXT hangup")

    async with ScriptedAgiServer(daemon(inbound=closed)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="88005553535")
        assert await call.wait_hangup() == 16
    assert call.prompts_heard == ["acd/closed"] and not pbx.voicemails


async def test_redirect_to_announcements_and_back_to_waiting(pbx: SimulatedPBX) -> None:
    announced: list[dict[str, str]] = []

    async def announce(conn: AgiConnection) -> None:
        announced.append(conn.env)
        await conn.command('STREAM FILE acd/position ""')
        await conn.command('SAY NUMBER 3 ""')

    async with ScriptedAgiServer(daemon(inbound=queue_caller, announce=announce)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await queued_call(pbx)
        async with RawAmiClient(pbx.ami_port) as ami:
            await ami.login()
            reply = await ami.action(
                "Redirect",
                ("Channel", call.channel),
                ("Context", "acd-announce"),
                ("Exten", "s"),
                ("Priority", "1"),
            )
            assert reply["Message"] == "Redirect successful"
            await call.wait_until(lambda c: len(c.chan.moh_history) == 2, what="music again")
        assert announced[0]["agi_arg_1"] == call.uniqueid
        assert call.prompts_heard == ["acd/welcome", "acd/position", "number:3"]
        assert call.context == "acd-wait"
        stops = [e for e in pbx.events("MusicOnHoldStop") if e["Channel"] == call.channel]
        assert len(stops) == 1


async def test_announcement_can_end_the_call(pbx: SimulatedPBX) -> None:
    async def give_up(conn: AgiConnection) -> None:
        await conn.command('STREAM FILE acd/goodbye ""')
        await conn.command("SET VARIABLE ACD_NEXT hangup")

    async with ScriptedAgiServer(daemon(inbound=queue_caller, announce=give_up)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await queued_call(pbx)
        pbx.redirect(call.channel, "acd-announce", "s", 1)
        assert await call.wait_hangup() == 16
    assert call.prompts_heard[-1] == "acd/goodbye"


async def _offer(pbx: SimulatedPBX, call: Call, endpoint: str = "1001") -> RawAmiClient:
    ami = await RawAmiClient(pbx.ami_port).connect()
    await ami.login()
    await ami.action(
        "Originate",
        ("Channel", f"PJSIP/{endpoint}"),
        ("Context", "acd-agent"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("CallerID", '"Ivan Petrov" <79001234567>'),
        ("Timeout", "15000"),
        ("Async", "true"),
        (
            "Variable",
            f"ACD_CALL_ID={call.var('ACD_CALL_ID')},ACD_AGENT_ID={endpoint},"
            f"ACD_CALLER_CHANNEL={call.channel}",
        ),
    )
    return ami


async def test_agent_answers_connect_records_and_bridges(pbx: SimulatedPBX) -> None:
    connected: list[dict[str, str]] = []

    async def connect(conn: AgiConnection) -> None:
        connected.append(conn.env)
        await connect_yes(conn)

    async with ScriptedAgiServer(daemon(inbound=queue_caller, connect=connect)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        phone = pbx.add_phone("1001")
        call = await queued_call(pbx)
        ami = await _offer(pbx, call)
        ringing = await phone.wait_ringing()
        assert ringing.var("ACD_CALLER_CHANNEL") == call.channel
        assert call.moh_class == "default"  # the caller keeps the music while it rings
        phone.answer()
        answered = await ami.wait_event("OriginateResponse")
        assert (answered["Response"], answered["Reason"]) == ("Success", "4")
        agent_channel = await call.wait_bridged()
        assert agent_channel == ringing.name
        assert connected[0]["agi_arg_1"] == call.uniqueid
        assert connected[0]["agi_arg_2"] == "1001"
        assert call.moh_class is None
        agent = pbx.call_for(agent_channel)
        assert agent.bridged_with == call.channel
        status = await ami.wait_event("ExtensionStatus", lambda e: e["Status"] == "1")
        assert (status["Exten"], status["Context"]) == ("1001", "acd-phones")
        call.hangup()
        await agent.wait_hangup()
        await call.wait_hangup()
        await ami.close()
    [rec] = pbx.recordings
    assert rec.dialplan_path == f"/var/spool/asterisk/monitor/acd/{call.uniqueid}.wav"
    assert rec.path.is_relative_to(pbx.spool_dir) and rec.finished
    with wave.open(str(rec.path)) as wav:
        assert wav.getnframes() == pytest.approx(rec.seconds * 8000, abs=1)
    await phone.wait_idle()
    assert phone.state == "NOT_INUSE"


async def test_agent_hangup_ends_the_caller_too(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    async with SimulatedPBX(
        spool_dir=tmp_path / "spool",
        reroot_absolute_paths=False,
        global_overrides={"ACD_RECORDINGS": str(recordings)},
    ) as pbx:
        async with ScriptedAgiServer(daemon(inbound=queue_caller, connect=connect_yes)) as agi:
            pbx.point_agi_at("127.0.0.1", agi.port)
            phone = pbx.add_phone("1001", answer_after=0.0)
            call = await queued_call(pbx)
            ami = await _offer(pbx, call)
            await call.wait_bridged()
            phone.hangup()
            assert await call.wait_hangup() == 16
            await pbx.wait_idle()
            await ami.close()
        [rec] = pbx.recordings
        assert rec.path == recordings / f"{call.uniqueid}.wav" and rec.path.is_file()


async def test_daemon_unreachable_at_answer_connects_anyway(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001", answer_after=0.0)
    call = await pbx.place_call("79001234567", context="acd-wait", exten="s")
    call.chan.set_var("__ACD_CALL_ID", call.uniqueid)
    await call.wait_moh()
    ami = await _offer(pbx, call)
    await call.wait_bridged()
    agent = pbx.call_for(call.bridged_with or "")
    assert agent.var("AGISTATUS") == "FAILURE"
    call.hangup()
    await pbx.wait_idle()
    await ami.close()
    assert phone.answered


async def test_offer_declined_by_daemon_hangs_up_only_the_agent(pbx: SimulatedPBX) -> None:
    async def too_late(conn: AgiConnection) -> None:
        await conn.command('VERBOSE "call already taken" 1')

    async with ScriptedAgiServer(daemon(inbound=queue_caller, connect=too_late)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        phone = pbx.add_phone("1001")
        call = await queued_call(pbx)
        ami = await _offer(pbx, call)
        agent = pbx.call_for(await phone.wait_ringing())
        phone.answer()
        await agent.wait_hangup()
        assert call.moh_class == "default" and not call.is_hung_up
        assert not pbx.recordings
        call.hangup()
        await pbx.wait_idle()
        await ami.close()


@pytest.mark.parametrize(
    ("exten", "args"),
    [
        ("*70", ["login"]),
        ("*71", ["logout"]),
        ("*721", ["break", "1"]),
        ("*7212", ["break", "12"]),
        ("*73", ["ready"]),
        ("*74", ["wrapup-done"]),
    ],
)
async def test_feature_codes_reach_the_agent_script(
    pbx: SimulatedPBX, exten: str, args: list[str]
) -> None:
    seen: list[dict[str, str]] = []

    async def agent(conn: AgiConnection) -> None:
        seen.append(conn.env)

    async with ScriptedAgiServer(daemon(agent=agent)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        phone = pbx.add_phone("1001")
        call = await phone.dial(exten)
        await call.wait_hangup()
    [env] = seen
    assert env["agi_network_script"] == "agent"
    assert [env[f"agi_arg_{i}"] for i in range(1, len(args) + 1)] == args
    assert env["agi_callerid"] == "1001" and env["agi_dnid"] == exten


async def test_break_without_a_reason_code_is_not_a_feature_code(pbx: SimulatedPBX) -> None:
    """``_*72X!`` needs at least one digit of reason after ``*72``: a bare ``*72`` is an
    invalid extension in Asterisk - and here - and never reaches the daemon."""
    phone = pbx.add_phone("1001")
    call = await phone.dial("*72")
    await call.wait_hangup()
    assert not pbx.events("AGIExecStart") and not [
        e for e in pbx.events("Newexten") if e["Channel"] == call.channel
    ]


async def test_feature_code_with_daemon_down_plays_unavailable(pbx: SimulatedPBX) -> None:
    phone = pbx.add_phone("1001")
    call = await phone.dial("*73")
    await call.wait_hangup()
    assert call.prompts_heard == ["acd/service-unavailable"]


async def test_call_without_dialled_number_goes_through_unknown(pbx: SimulatedPBX) -> None:
    async with ScriptedAgiServer(daemon(inbound=queue_caller)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="")
        await call.wait_moh()
        [conn] = agi.connections
    assert (conn.env["agi_extension"], conn.env["agi_arg_1"]) == ("unknown", "unknown")
    assert conn.env["agi_dnid"] == "unknown" and call.var("ACD_DNID") == "unknown"
    call.hangup()
    await call.wait_hangup()


# --------------------------------------------------------------------------- IVR scenarios


def deciding(**variables: str) -> Script:
    """An inbound script that sets ``variables`` (the daemon's decision) and ends."""

    async def decide(conn: AgiConnection) -> None:
        for name, value in variables.items():
            await conn.command(f'SET VARIABLE {name} "{value}"')

    return decide


async def test_inbound_voicemail_records_into_the_scenario_mailbox(pbx: SimulatedPBX) -> None:
    inbound = deciding(ACD_MAILBOX="sales@default", ACD_NEXT="voicemail")
    async with ScriptedAgiServer(daemon(inbound=inbound)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="88005553535")
        assert await call.wait_hangup() == 16
    [vm] = pbx.voicemails
    assert (vm.mailbox, vm.context) == ("sales", "default")
    assert call.prompts_heard == ["vm-unavail", "beep"]  # s: no instructions


async def test_voicemail_with_a_next_node_comes_back_to_the_ivr(pbx: SimulatedPBX) -> None:
    resumed: list[dict[str, str]] = []

    async def resume(conn: AgiConnection) -> None:
        resumed.append(conn.env)
        await conn.command('SET VARIABLE ACD_NEXT "hangup"')

    inbound = deciding(ACD_MAILBOX="sales", ACD_RESUME="voicemail", ACD_NEXT="voicemail")
    async with ScriptedAgiServer(daemon(inbound=inbound, resume=resume)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="88005553535")
        await call.wait_hangup()
    [env] = resumed
    assert (env["agi_arg_1"], env["agi_arg_2"]) == (call.uniqueid, "voicemail")
    assert env["agi_context"] == "acd-ivr" and len(pbx.voicemails) == 1


async def test_inbound_transfer_dials_the_number_through_the_trunk(pbx: SimulatedPBX) -> None:
    trunk = pbx.add_phone("trunk")
    inbound = deciding(ACD_TRANSFER_TO="+74950000000", ACD_NEXT="transfer")
    async with ScriptedAgiServer(daemon(inbound=inbound)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="88005553535")
        ringing = await trunk.wait_ringing()
        assert ringing.exten == "+74950000000"
        trunk.answer(ringing)
        await call.wait_bridged()
        trunk.hangup()
        await call.wait_hangup()
    contexts = {e["Context"] for e in pbx.events("Newexten") if e["Channel"] == call.channel}
    assert {"acd-next", "acd-transfer", "acd-outbound"} <= contexts


async def test_inbound_fallback_plays_the_apology_and_takes_a_message(pbx: SimulatedPBX) -> None:
    async with ScriptedAgiServer(daemon(inbound=deciding(ACD_NEXT="fallback"))) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="88005553535")
        await call.wait_hangup()
    assert call.prompts_heard[0] == "acd/technical-difficulties"
    assert [vm.mailbox for vm in pbx.voicemails] == ["hotline"]


async def test_keys_while_waiting_go_to_the_daemon_when_the_node_has_exit_keys(
    pbx: SimulatedPBX,
) -> None:
    keys: list[tuple[str, str]] = []

    async def queue_key(conn: AgiConnection) -> None:
        keys.append((conn.env["agi_arg_1"], conn.env["agi_arg_2"]))
        decision = "queue" if conn.env["agi_arg_2"] == "5" else "hangup"
        await conn.command(f"SET VARIABLE ACD_NEXT {decision}")

    inbound = deciding(ACD_EXIT_KEYS="12", ACD_MUSIC="calm", ACD_NEXT="queue")
    async with ScriptedAgiServer(daemon(inbound=inbound, **{"queue-key": queue_key})) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="88005553535")
        await call.wait_in_app("WaitExten")
        assert call.moh_class == "calm"
        call.press("5")  # the daemon says: go on waiting
        await call.wait_until(lambda c: len(c.chan.moh_history) == 2, what="music again")
        await call.wait_in_app("WaitExten")
        call.press("1")
        assert await call.wait_hangup() == 16
    assert keys == [(call.uniqueid, "5"), (call.uniqueid, "1")]


async def test_a_key_while_the_daemon_is_down_keeps_the_caller_waiting(pbx: SimulatedPBX) -> None:
    inbound = deciding(ACD_EXIT_KEYS="1", ACD_NEXT="queue")
    async with ScriptedAgiServer(daemon(inbound=inbound)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567", dnid="88005553535")
        await call.wait_in_app("WaitExten")
    call.press("1")  # the scripted daemon is gone: its port refuses the connection
    await call.wait_until(lambda c: c.var("AGISTATUS") == "FAILURE", what="AGI failure")
    await call.wait_in_app("WaitExten")
    assert call.context == "acd-wait" and not pbx.voicemails
    call.hangup()
    await call.wait_hangup()


async def test_redirect_to_acd_ivr_resumes_the_scenario(pbx: SimulatedPBX) -> None:
    resumed: list[dict[str, str]] = []

    async def resume(conn: AgiConnection) -> None:
        resumed.append(conn.env)
        await conn.command('STREAM FILE t/overflowed ""')
        await conn.command("SET VARIABLE ACD_NEXT hangup")

    async with ScriptedAgiServer(daemon(inbound=queue_caller, resume=resume)) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await queued_call(pbx)
        async with RawAmiClient(pbx.ami_port) as ami:
            await ami.login()
            await ami.action(
                "Setvar",
                ("Channel", call.channel),
                ("Variable", "ACD_RESUME"),
                ("Value", "overflow"),
            )
            await ami.action(
                "Redirect",
                ("Channel", call.channel),
                ("Context", "acd-ivr"),
                ("Exten", "s"),
                ("Priority", "1"),
            )
        assert await call.wait_hangup() == 16
    [env] = resumed
    assert (env["agi_arg_1"], env["agi_arg_2"]) == (call.uniqueid, "overflow")
    assert call.prompts_heard[-1] == "t/overflowed"
