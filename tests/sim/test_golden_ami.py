"""Golden tests: the simulated AMI answers the captured actions like Asterisk 22 did
(``tests/fixtures/asterisk/01``, ``06``, ``08``), byte for byte where nothing varies."""

from __future__ import annotations

import hashlib

from golden import (
    assert_same_events,
    captured_response,
    keys,
    replay,
    scenario_filter,
    session_lines,
)

from acd.sim.pbx import SimulatedPBX
from acd.sim.pbx.captures import Normalizer, ami_events, read_capture
from acd.sim.pbx.testing import RawAmiClient

BASIC = read_capture("01_basic_ami.txt")
MIXMON = read_capture("06_mixmonitor.txt")
MISC = read_capture("08_misc.txt")


async def test_banner_and_refused_login_are_byte_identical(capture_pbx: SimulatedPBX) -> None:
    lines = session_lines(BASIC, 0)
    async with RawAmiClient(capture_pbx.ami_port) as client:
        assert client.banner == lines[0].data == b"Asterisk Call Manager/11.0.0\r\n"
        client.send_raw(lines[1].data)
        await client.closed.wait()
        assert [f.raw for f in client.frames] == [lines[2].data]
    assert lines[3].kind == "ami_closed"


async def test_md5_login_with_events_off_then_logoff(capture_pbx: SimulatedPBX) -> None:
    lines = session_lines(BASIC, 1)
    async with RawAmiClient(capture_pbx.ami_port) as client:
        challenge = await client.action("Challenge", ("AuthType", "MD5"))
        assert keys(challenge.headers) == keys(lines[2].headers)
        key = hashlib.md5((challenge["Challenge"] + "acdsecret").encode()).hexdigest()
        ok = await client.action(
            "Login", ("AuthType", "MD5"), ("Username", "acd"), ("Key", key), ("Events", "off")
        )
        assert keys(ok.headers) == keys(lines[4].headers)
        assert ok["Message"] == "Authentication accepted"
        client.send_raw(lines[5].data)  # Logoff, ActionID a3
        await client.closed.wait()
        assert client.frames[-1].raw == lines[6].data
        # Events: off -> no FullyBooted / SuccessfulAuth, as captured
        assert not [f for f in client.frames if f.is_event]


async def test_login_ping_status_commands_and_channel_lists(capture_pbx: SimulatedPBX) -> None:
    lines = session_lines(BASIC, 2)
    async with RawAmiClient(capture_pbx.ami_port) as client:

        async def channels_settled() -> None:
            # the capture listed the channels while ;2 was in Wait(60) at priority 2
            await capture_pbx.wait_until(
                lambda: any(
                    c.name.endswith(";2") and c.appl == "Wait"
                    for c in capture_pbx.core.channels.values()
                ),
                what="Local ;2 in Wait",
            )

        problems = await replay(
            client, lines, before={"a12": channels_settled}, ignore_values={"Output"}
        )
        assert not problems, "\n\n".join(problems)
        # the unsolicited frames right after login, as captured
        norm_sim, norm_cap = Normalizer(), Normalizer()
        captured = [norm_cap.frame(line.headers) for line in lines[3:5]]
        simulated = [norm_sim.frame(f.headers) for f in client.events[:2]]
        assert simulated == captured
        # RequestBadFormat after the unknown action
        bad = [f for f in client.events if f.name == "RequestBadFormat"]
        [captured_bad] = [line for line in lines if b"Event: RequestBadFormat" in line.data]
        assert [keys(f.headers) for f in bad] == [keys(captured_bad.headers)]
        await client.closed.wait()


async def test_command_output_formats(ami: RawAmiClient) -> None:
    version = await ami.action("Command", ("Command", "core show version"))
    assert keys(version.headers) == ["Response", "ActionID", "Message", "Output"]
    assert version["Output"].startswith("Asterisk 22.10.1 built by")
    missing = await ami.action("Command", ("Command", "no such cli command"))
    assert missing["Response"] == "Error"
    assert missing["Output"].startswith(
        "No such command 'no such cli command' (type 'core show help"
    )


async def test_mixmonitor_via_ami_and_hangup_of_local_one(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    """Capture 06: MusicOnHold originate, MixMonitor/StopMixMonitor, Hangup of ``;1``."""
    lines = session_lines(MIXMON, 0)

    async def second_half_waiting() -> None:
        await capture_pbx.wait_until(
            lambda: any(c.appl == "Wait" for c in capture_pbx.core.channels.values()),
            what=";2 in Wait",
        )

    def chan_name() -> str:
        return next(n for n in capture_pbx.core.channels if n.endswith(";1"))

    start = capture_pbx.event_seq
    await ami.action(
        "Originate",
        ("Channel", "Local/s@test-caller"),
        ("Application", "MusicOnHold"),
        ("Data", "default,15"),
        ("Async", "true"),
        ("CallerID", '"Rec Caller" <5555555>'),
    )
    await second_half_waiting()
    monitor = await ami.action("MixMonitor", ("Channel", chan_name()), ("File", "acd-ref-test.wav"))
    assert keys(monitor.headers) == keys(captured_response(lines, "a3"))
    await capture_pbx.wait_for_event("MixMonitorStart", since=start)
    stop = await ami.action("StopMixMonitor", ("Channel", chan_name()))
    assert keys(stop.headers) == keys(captured_response(lines, "a4"))
    await capture_pbx.wait_for_event("MixMonitorStop", since=start)
    hung = await ami.action("Hangup", ("Channel", chan_name()))
    assert Normalizer().frame(hung.headers) == Normalizer().frame(captured_response(lines, "a5"))
    await capture_pbx.wait_idle()
    simulated = [list(e.headers) for e in capture_pbx.events(since=start)]
    assert_same_events(simulated, ami_events(lines), scenario_filter("Local/s@test-caller"))
    [rec] = capture_pbx.recordings
    assert rec.dialplan_path == "/var/spool/asterisk/monitor/acd-ref-test.wav"
    assert rec.path.is_file()


async def test_failed_originate_and_user_event(capture_pbx: SimulatedPBX) -> None:
    """Capture 08: Originate to an endpoint without contact fails with Reason 0 and
    Uniqueid <unknown>; UserEvent echoes its headers."""
    lines = session_lines(MISC, 0)
    failed = next(i for i, line in enumerate(lines) if b"ActionID: a6" in line.data)
    user = next(i for i, line in enumerate(lines) if b"Action: UserEvent" in line.data)
    async with RawAmiClient(capture_pbx.ami_port) as client:
        await client.login()
        client.send_raw(lines[failed].data)
        response = await client.wait_event("OriginateResponse")
        [captured] = [
            line.headers
            for line in lines
            if b"Event: OriginateResponse" in line.data and b"a6" in line.data
        ]
        assert Normalizer().frame(response.headers) == Normalizer().frame(captured)
        client.send_raw(lines[user].data)
        ack = await client.response("a8")
        assert ack.raw == lines[user + 1].data
        event = await client.wait_event("UserEvent")
        assert event.raw == lines[user + 2].data


async def test_hangup_by_regex_lists_the_channels(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    lines = session_lines(MISC, 0)
    regex = next(line for line in lines if b"Action: Hangup" in line.data)
    # no channel matches: the captured empty list, byte for byte
    ami.send_raw(regex.data)
    frames = await ami.replies("a5", 2)
    captured = [
        line.data for line in lines if b"ActionID: a5" in line.data and line.kind == "ami_received"
    ]
    assert [f.raw for f in frames] == captured
    # with matches: one ChannelHungup item per channel
    await ami.action(
        "Originate",
        ("Channel", "Local/s@test-caller"),
        ("Application", "Wait"),
        ("Data", "30"),
    )
    await capture_pbx.wait_until(lambda: len(capture_pbx.channels) == 2, what="two channels")
    names = sorted(capture_pbx.channels)
    response, items, complete = await ami.list_action(
        "Hangup", ("Channel", r"/^Local\/s@test-caller-.*$/"), ("Cause", "16")
    )
    assert response["Message"] == "Channels hung up will follow"
    assert sorted(i["Channel"] for i in items) == names
    assert complete["ListItems"] == "2"
    await capture_pbx.wait_idle()
