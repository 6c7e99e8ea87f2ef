"""The AMI server: many clients, event masks, actions, and the connection-cutting hooks."""

from __future__ import annotations

import asyncio

import pytest

from acd.sim.pbx import SimulatedPBX
from acd.sim.pbx.testing import AgiConnection, RawAmiClient, ScriptedAgiServer


async def _client(pbx: SimulatedPBX, events: str | None = None) -> RawAmiClient:
    client = await RawAmiClient(pbx.ami_port).connect()
    response = await client.login(events=events)
    assert response["Response"] == "Success"
    return client


async def test_clients_get_events_by_their_mask(pbx: SimulatedPBX) -> None:
    everything = await _client(pbx)
    silent = await _client(pbx, events="off")
    agi_only = await _client(pbx)
    reply = await agi_only.action("Events", ("EventMask", "agi"))
    assert reply["Events"] == "On"
    seen_before = len(agi_only.events)

    async def noop(conn: AgiConnection) -> None:
        await conn.command("NOOP")

    async with ScriptedAgiServer(noop) as agi:
        pbx.point_agi_at("127.0.0.1", agi.port)
        call = await pbx.place_call("79001234567")
        await call.wait_hangup()
    await everything.wait_event("Hangup")
    await agi_only.action("Ping")
    await silent.action("Ping")
    assert {e.name for e in everything.events} >= {"Newchannel", "Newexten", "VarSet", "Hangup"}
    assert not silent.events
    # inbound, then (the fallback's voicemail) voicemail-left
    assert [e.name for e in agi_only.events[seen_before:]] == ["AGIExecStart", "AGIExecEnd"] * 2
    off = await everything.action("Events", ("EventMask", "off"))
    assert off["Events"] == "Off"
    for client in (everything, silent, agi_only):
        await client.close()


async def test_requests_before_login_and_malformed_ones(pbx: SimulatedPBX) -> None:
    async with RawAmiClient(pbx.ami_port) as client:
        denied = await client.action("Ping")
        assert (denied["Response"], denied["Message"]) == ("Error", "Permission denied")
        client.send_raw(b"ActionID: x1\r\nFoo: bar\r\n\r\n")
        missing = await client.response("x1")
        assert missing["Message"] == "Missing action in request"
        await client.login()
        unknown = await client.action("QueueStatus")
        assert unknown["Message"].startswith("Invalid/unknown command: QueueStatus.")


async def test_abrupt_cut_and_reconnect(pbx: SimulatedPBX) -> None:
    first = await _client(pbx)
    assert pbx.drop_ami_connections() == 1
    await asyncio.wait_for(first.closed.wait(), 2)
    second = await _client(pbx)
    pong = await second.action("Ping")
    assert pong["Ping"] == "Pong"
    await first.close()
    await second.close()


async def test_half_open_cut_stops_answering_but_keeps_the_socket(pbx: SimulatedPBX) -> None:
    stuck = await _client(pbx)
    assert pbx.drop_ami_connections(half_open=True) == 1
    with pytest.raises(TimeoutError):
        await stuck.action("Ping", timeout=0.3)
    assert not stuck.closed.is_set()
    fresh = await _client(pbx)
    assert (await fresh.action("Ping"))["Ping"] == "Pong"
    await pbx.place_call("79001234567")
    await fresh.wait_event("Newchannel")
    assert not [e for e in stuck.events if e.name == "Newchannel"]
    await stuck.close()
    await fresh.close()


async def test_listener_can_go_away_and_come_back_on_the_same_port(pbx: SimulatedPBX) -> None:
    port = pbx.ami_port
    await pbx.stop_ami_listener()
    with pytest.raises(OSError):
        await RawAmiClient(port).connect()
    await pbx.start_ami_listener()
    client = await _client(pbx)
    assert pbx.ami_port == port
    await client.close()


async def test_originate_variables_getvar_setvar(pbx: SimulatedPBX) -> None:
    pbx.reload_dialplan(
        pbx.core.dialplan.parse("[hold]\nexten => s,1,Answer()\n same => n,Wait(30)\n")
    )
    ami = await _client(pbx)
    await ami.action(
        "Originate",
        ("Channel", "Local/s@hold"),
        ("Application", "Wait"),
        ("Data", "30"),
        ("Variable", "__A=1,_B=2"),
        ("Variable", "C=x=y"),
    )
    await pbx.wait_until(
        lambda: any(c.appl == "Wait" and c.name.endswith(";2") for c in pbx.channels.values())
    )
    two = next(n for n in pbx.channels if n.endswith(";2"))
    values = {}
    for name in ("A", "B", "C", "CHANNEL(name)", "CALLERID(num)"):
        reply = await ami.action("Getvar", ("Channel", two), ("Variable", name))
        values[name] = reply["Value"]
    assert values == {"A": "1", "B": "2", "C": "x=y", "CHANNEL(name)": two, "CALLERID(num)": ""}
    varsets = [e["Variable"] for e in pbx.events("VarSet") if e["Channel"] == two]
    assert varsets[:3] == ["__A", "_B", "C"]
    assert (await ami.action("Setvar", ("Variable", "G"), ("Value", "global")))["Message"] == (
        "Variable Set"
    )
    assert (await ami.action("Getvar", ("Variable", "G")))["Value"] == "global"
    await ami.action("Setvar", ("Channel", two), ("Variable", "D"), ("Value", "4"))
    assert pbx.channels[two].var("D") == "4"
    missing = await ami.action("Getvar", ("Channel", "PJSIP/none-1"), ("Variable", "A"))
    assert missing["Message"] == "No such channel"
    _, items, complete = await ami.list_action("Status", ("Channel", two))
    assert [i["Channel"] for i in items] == [two] and complete["Items"] == "1"
    for action in ("Redirect", "Hangup", "Status"):
        reply = await ami.action(action, ("Channel", "PJSIP/none-1"), ("Context", "x"))
        assert reply["Message"] == "No such channel"
    concise = await ami.action("Command", ("Command", "core show channels concise"))
    lines = [v for k, v in concise.headers if k == "Output"]
    assert sorted(line.split("!")[0] for line in lines) == sorted(pbx.channels)
    await ami.action("Hangup", ("Channel", two))
    await pbx.wait_idle()
    await ami.close()


async def test_originate_into_the_dialplan_and_into_nothing(pbx: SimulatedPBX) -> None:
    pbx.reload_dialplan(
        pbx.core.dialplan.parse(
            "[a]\nexten => s,1,Answer()\n same => n,Wait(30)\n"
            "[b]\nexten => 9,1,UserEvent(Reached,Where: b)\n"
        )
    )
    ami = await _client(pbx)
    await ami.action(
        "Originate", ("Channel", "Local/s@a"), ("Context", "b"), ("Exten", "9"), ("Priority", "1")
    )
    reached = await ami.wait_event("UserEvent")
    assert (reached["UserEvent"], reached["Where"]) == ("Reached", "b")
    assert reached["Channel"].endswith(";1")
    ok = await ami.wait_event("OriginateResponse")
    assert (ok["Context"], ok["Exten"], ok["Reason"]) == ("b", "9", "4")
    await pbx.wait_idle()
    await ami.action("Originate", ("Channel", "Local/nope@a"), ("Application", "Wait"))
    failed = await ami.wait_event("OriginateResponse", lambda e: e["Response"] == "Failure")
    assert (failed["Reason"], failed["Uniqueid"]) == ("0", "<unknown>")
    await ami.action("Originate", ("Channel", "SIP/old"), ("Application", "Wait"))
    await ami.wait_event(
        "OriginateResponse", lambda e: e["Channel"] == "SIP/old" and e["Reason"] == "0"
    )
    await ami.close()


async def test_hint_lists_and_cli(pbx: SimulatedPBX) -> None:
    pbx.add_phone("1002")
    ami = await _client(pbx)
    _, items, complete = await ami.list_action("ExtensionStateList")
    states = {i["Exten"]: (i["Context"], i["Status"], i["StatusText"]) for i in items}
    assert states == {
        "1001": ("acd-phones", "4", "Unavailable"),
        "1002": ("acd-phones", "0", "Idle"),
        "1003": ("acd-phones", "4", "Unavailable"),
    }
    assert complete["ListItems"] == "3"
    unknown = await ami.action("ExtensionState", ("Exten", "42"), ("Context", "acd-phones"))
    assert (unknown["Status"], unknown["StatusText"]) == ("-1", "Unknown")
    hints = await ami.action("Command", ("Command", "core show hints"))
    assert any(
        "1002@acd-phones" in v and "State:Idle" in v for k, v in hints.headers if k == "Output"
    )
    listed = await ami.action("ListCommands")
    assert listed.get("Originate") is not None
    core = await ami.action("CoreStatus")
    assert core["CoreCurrentCalls"] == "0"
    await ami.close()
