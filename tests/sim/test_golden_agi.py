"""Golden tests: FastAGI sessions replayed from the captures get the same environment, the
same replies (modulo channel numbers, uniqueids, ``endpos``) and the same AMI events."""

from __future__ import annotations

from golden import (
    agi_conversations,
    assert_same_events,
    normalise_agi,
    replay_agi,
    scenario_filter,
    session_lines,
)

from acd.sim.pbx import SimulatedPBX
from acd.sim.pbx.captures import Normalizer, ami_events, read_capture
from acd.sim.pbx.testing import AgiConnection, RawAmiClient, ScriptedAgiServer

FASTAGI = read_capture("02_fastagi.txt")
HANGUP = read_capture("03_fastagi_hangup.txt")
MISC = read_capture("08_misc.txt")
NO_SERVER = read_capture("09_fastagi_no_server.txt")


def _env_equal(conn: AgiConnection, captured: list[bytes]) -> None:
    sim, cap = Normalizer(), Normalizer()
    assert [normalise_agi(line, sim) for line in conn.env_lines] == [
        normalise_agi(line, cap) for line in captured
    ]


async def _call_over(pbx: SimulatedPBX, since: int, timeout: float = 10.0) -> None:
    """Wait for the Local ``;1`` to hang up (the originated call is over), then idle."""
    await pbx.wait_for_event(
        "Hangup", lambda e: e["Channel"].endswith(";1"), since=since, timeout=timeout
    )
    await pbx.wait_idle()


def _simulated(pbx: SimulatedPBX, since: int) -> list[list[tuple[str, str]]]:
    return [list(e.headers) for e in pbx.events(since=since)]


async def test_fastagi_session_of_capture_02(capture_pbx: SimulatedPBX, ami: RawAmiClient) -> None:
    [conv] = agi_conversations(FASTAGI)
    commands = [sent for sent, _ in conv.exchanges]
    received: list[bytes] = []

    async def press_seven() -> None:
        # as captured: PlayDTMF on ;1 once GET DATA is running on ;2
        await ami.wait_event("AGIExecStart", lambda e: e["Command"] == "GET DATA beep 3000 1")
        one = next(n for n in capture_pbx.channels if n.endswith(";1"))
        await ami.action("PlayDTMF", ("Channel", one), ("Digit", "7"), ("Duration", "250"))

    async def script(conn: AgiConnection) -> None:
        received.append(
            await replay_agi(conn, commands, during={b"GET DATA beep 3000 1\n": press_seven})
        )

    start = capture_pbx.event_seq
    async with ScriptedAgiServer(script) as agi:
        capture_pbx.point_agi_at("127.0.0.1", agi.port)
        originate = next(
            line for line in FASTAGI if line.kind == "ami_sent" and b"Originate" in line.data
        )
        ami.send_raw(originate.data)
        await _call_over(capture_pbx, start, 15)
        assert not agi.errors
        [conn] = agi.connections
    _env_equal(conn, conv.env)
    sim, cap = Normalizer(), Normalizer()
    assert (
        normalise_agi(received[0], sim).splitlines()
        == normalise_agi(conv.received, cap).splitlines()
    )
    assert_same_events(
        _simulated(capture_pbx, start),
        ami_events(FASTAGI),
        scenario_filter("Local/s@from-pstn"),
    )


async def test_caller_hangs_up_during_agi_capture_03(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    """The ``;1`` half's Wait ends while ``EXEC Wait 8`` runs: result=-1, HANGUP, 511s, and
    GET VARIABLE still works; AGISTATUS=HANGUP. (Wait 1 instead of the captured 6 s.)"""
    [conv] = agi_conversations(HANGUP)
    commands = [sent for sent, _ in conv.exchanges]
    received: list[bytes] = []

    async def script(conn: AgiConnection) -> None:
        received.append(await replay_agi(conn, commands))

    start = capture_pbx.event_seq
    async with ScriptedAgiServer(script) as agi:
        capture_pbx.point_agi_at("127.0.0.1", agi.port)
        await ami.action(
            "Originate",
            ("Channel", "Local/s@from-pstn"),
            ("Application", "Wait"),
            ("Data", "1"),
            ("Async", "true"),
            ("CallerID", '"PSTN Caller" <5551234>'),
            ("Variable", "CDR(userfield)=reftest"),
            ("Variable", "INBOUND_DID=88005553535"),
        )
        await _call_over(capture_pbx, start)
        [conn] = agi.connections
    _env_equal(conn, conv.env)
    assert received[0] == conv.received
    assert received[0].startswith(b"200 result=0\n200 result=-1\nHANGUP\n511 ")
    assert_same_events(
        _simulated(capture_pbx, start),
        ami_events(HANGUP),
        scenario_filter("Local/s@from-pstn"),
        ignore_values={"Data"},
    )


async def test_redirect_out_of_a_running_agi_capture_08(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    """AMI Redirect while ``EXEC Wait 20`` runs: the AGI sees exactly what a hangup gives
    (result=-1, HANGUP, 511), AGISTATUS=HANGUP, then the dialplan goes on at the target."""
    conv = agi_conversations(MISC)[1]
    commands = [sent for sent, _ in conv.exchanges]
    received: list[bytes] = []

    async def redirect() -> None:
        await ami.wait_event("AGIExecStart", lambda e: e["Command"] == "EXEC Wait 20")
        two = next(n for n in capture_pbx.channels if n.endswith(";2"))
        response = await ami.action(
            "Redirect",
            ("Channel", two),
            ("Context", "test-caller"),
            ("Exten", "s"),
            ("Priority", "1"),
        )
        assert response["Message"] == "Redirect successful"

    async def script(conn: AgiConnection) -> None:
        received.append(await replay_agi(conn, commands, during={b"EXEC Wait 20\n": redirect}))

    start = capture_pbx.event_seq
    async with ScriptedAgiServer(script) as agi:
        capture_pbx.point_agi_at("127.0.0.1", agi.port)
        await ami.action(
            "Originate",
            ("Channel", "Local/s@from-pstn"),
            ("Application", "Wait"),
            ("Data", "60"),
            ("Async", "true"),
            ("CallerID", '"Redirect Caller" <5559999>'),
        )
        waiting = await capture_pbx.wait_for_event(
            "Newexten",
            lambda e: e["Context"] == "test-caller" and e["Application"] == "Wait",
            since=start,
            timeout=10,
        )
    assert received[0] == conv.received
    assert received[0] == (
        b"200 result=0\n200 result=-1\nHANGUP\n200 result=1 (test-caller)\n"
        b"511 Command Not Permitted on a dead channel or intercept routine\n"
    )
    simulated = [list(e.headers) for e in capture_pbx.events(since=start) if e.seq <= waiting.seq]
    captured = ami_events(MISC)
    keep = scenario_filter("Local/s@from-pstn")
    # the capture stops watching this call at the Wait(60) it was redirected to
    cut = next(
        i
        for i, e in enumerate(captured)
        if dict(e).get("Context") == "test-caller"
        and dict(e).get("Application") == "Wait"
        and keep(e)
    )
    assert_same_events(simulated, captured[: cut + 1], keep)
    for chan in list(capture_pbx.channels):
        capture_pbx.hangup(chan)
    await capture_pbx.wait_idle()


async def test_query_string_and_agi_args_capture_08(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    conv = agi_conversations(MISC)[0]
    commands = [
        b"ANSWER\n",
        b"SET VARIABLE CHANNEL(language) ru\n",
        b'SAY NUMBER 21 ""\n',
        b'STREAM FILE hello-world ""\n',
        b"EXEC MixMonitor acd-agi-${UNIQUEID}.wav,b\n",
        b"GET VARIABLE MIXMONITOR_FILENAME\n",
    ]
    received: list[bytes] = []

    async def script(conn: AgiConnection) -> None:
        received.append(await replay_agi(conn, commands))

    start = capture_pbx.event_seq
    async with ScriptedAgiServer(script) as agi:
        capture_pbx.point_agi_at("127.0.0.1", agi.port)
        await ami.action(
            "Originate",
            ("Channel", "Local/88005553535@from-pstn-args"),
            ("Application", "Wait"),
            ("Data", "60"),
            ("Async", "true"),
            ("CallerID", '"Args Caller" <5558888>'),
        )
        done = await capture_pbx.wait_for_event(
            "Newexten", lambda e: e["AppData"] == "AGISTATUS=SUCCESS", since=start
        )
        [conn] = agi.connections
    _env_equal(conn, conv.env)
    assert conn.env["agi_network_script"] == "hotline?line=2&lang=ru"
    assert (conn.env["agi_arg_1"], conn.env["agi_arg_2"]) == ("88005553535", "second arg")
    expected = b"".join(b"".join(conv.reply_to(c.decode().rstrip("\n"))) for c in commands)
    sim, cap = Normalizer(), Normalizer()
    assert normalise_agi(received[0], sim) == normalise_agi(expected, cap)
    # CHANNEL(language) changes the Language header, as captured; no VarSet for it
    after = [e for e in capture_pbx.events(since=start) if e.seq < done.seq]
    say = next(e for e in after if e.name == "AGIExecStart" and e["Command"].startswith("SAY"))
    assert say["Language"] == "ru"
    assert not [e for e in after if e.name == "VarSet" and "language" in e["Variable"]]
    mixmon = next(e for e in after if e.name == "VarSet" and e["Variable"] == "MIXMONITOR_FILENAME")
    assert mixmon["Value"] == "/var/spool/asterisk/monitor/acd-agi-${UNIQUEID}.wav"
    await capture_pbx.wait_idle()


async def test_fastagi_server_not_listening_capture_09(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    """Connection refused: AGISTATUS=FAILURE and the dialplan goes on (here to Hangup)."""
    lines = session_lines(NO_SERVER, 0)
    originate = next(
        line for line in lines if line.kind == "ami_sent" and b"Originate" in line.data
    )
    start = capture_pbx.event_seq
    ami.send_raw(originate.data)
    await _call_over(capture_pbx, start)
    assert_same_events(
        _simulated(capture_pbx, start), ami_events(lines), scenario_filter("Local/s@from-pstn")
    )
    agistatus = capture_pbx.events("VarSet", since=start)
    assert [e["Value"] for e in agistatus if e["Variable"] == "AGISTATUS"] == ["FAILURE"]
