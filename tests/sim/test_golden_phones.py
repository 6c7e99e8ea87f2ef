"""Golden tests against capture 07 (a real SIP phone, baresip, as PJSIP 1001): presence
events on register/unregister, the Originate to the phone, MixMonitor on its channel."""

from __future__ import annotations

from collections.abc import Callable

from golden import assert_same_events, captured_response, keys, scenario_filter, session_lines

from acd.sim.pbx import SimulatedPBX
from acd.sim.pbx.captures import CaptureLine, Normalizer, ami_events, read_capture
from acd.sim.pbx.testing import RawAmiClient

PJSIP = session_lines(read_capture("07_pjsip_baresip.txt"), 0)
KEEP = scenario_filter("PJSIP/1001")
Headers = list[tuple[str, str]]


def _segment(
    first: Callable[[CaptureLine], bool], last: Callable[[CaptureLine], bool]
) -> list[Headers]:
    """Captured events from the line matching ``first`` up to the one matching ``last``."""
    start = next(i for i, line in enumerate(PJSIP) if first(line))
    end = next(i for i, line in enumerate(PJSIP) if i > start and last(line))
    return ami_events(PJSIP[start:end])


def _sent(text: bytes) -> Callable[[CaptureLine], bool]:
    return lambda line: line.kind == "ami_sent" and text in line.data


async def test_register_and_unregister_presence_events(capture_pbx: SimulatedPBX) -> None:
    phone = capture_pbx.add_phone("1001", context="agents", register=False)
    start = capture_pbx.event_seq
    phone.register()
    await capture_pbx.wait_for_event("DeviceStateChange", since=start)
    registered = _segment(lambda line: line.kind == "banner", _sent(b"PJSIPShowContacts"))
    simulated = [list(e.headers) for e in capture_pbx.events(since=start)]
    assert_same_events(simulated, registered, KEEP)

    start = capture_pbx.event_seq
    phone.unregister()
    await capture_pbx.wait_for_event("DeviceStateChange", since=start)
    gone = _segment(_sent(b"ActionID: a10"), _sent(b"Logoff"))
    simulated = [list(e.headers) for e in capture_pbx.events(since=start)]
    assert_same_events(simulated, gone, KEEP)


async def test_contacts_extension_state_and_device_list(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    capture_pbx.add_phone("1001", context="agents")
    response, items, complete = await ami.list_action("PJSIPShowContacts")
    captured = [
        line.headers
        for line in PJSIP
        if line.kind == "ami_received" and b"ActionID: a2" in line.data
    ]
    assert keys(response.headers) == keys(captured[0])
    assert [keys(i.headers) for i in items] == [keys(captured[1])]
    assert items[0]["Uri"].startswith("sip:1001@") and items[0]["Status"] == "Reachable"
    assert keys(complete.headers) == keys(captured[2])

    state = await ami.action("ExtensionState", ("Exten", "1001"), ("Context", "agents"))
    assert Normalizer().frame(state.headers) == Normalizer().frame(captured_response(PJSIP, "a4"))

    response, items, complete = await ami.list_action("DeviceStateList")
    assert response["Message"] == "Device State Changes will follow"
    devices = {i["Device"]: i["State"] for i in items}
    assert devices["PJSIP/1001"] == "NOT_INUSE"
    assert devices["PJSIP/1002"] == "UNAVAILABLE"
    assert keys(items[0].headers) == ["Event", "ActionID", "Device", "State"]
    assert complete["ListItems"] == str(len(items))


async def test_originate_to_the_phone_with_mixmonitor(
    capture_pbx: SimulatedPBX, ami: RawAmiClient
) -> None:
    """Originate PJSIP/1001 (Playback), the phone answers, MixMonitor on its channel, the
    playback ends and the channel hangs up: the events of capture 07, a6-a7."""
    capture_pbx.config.prompt_seconds = 0.2
    capture_pbx.add_phone("1001", context="agents", answer_after=0.05)
    start = capture_pbx.event_seq
    originate = next(line for line in PJSIP if _sent(b"ActionID: a6")(line))
    ami.send_raw(originate.data)
    answered = await capture_pbx.wait_for_event("OriginateResponse", since=start)
    assert answered["Response"] == "Success" and answered["Reason"] == "4"
    monitor = await ami.action(
        "MixMonitor", ("Channel", answered["Channel"]), ("File", "pjsip-agent-call.wav")
    )
    assert keys(monitor.headers) == keys(captured_response(PJSIP, "a7"))
    await capture_pbx.wait_for_event("Hangup", since=start)
    await capture_pbx.wait_until(lambda: capture_pbx.phone("1001").state == "NOT_INUSE")
    await capture_pbx.wait_for_event("ExtensionStatus", lambda e: e["Status"] == "0", since=start)
    captured = _segment(_sent(b"ActionID: a6"), _sent(b"ActionID: a8"))
    simulated = [list(e.headers) for e in capture_pbx.events(since=start)]
    assert_same_events(simulated, captured, KEEP)
    [rec] = capture_pbx.recordings
    assert rec.path.is_file() and rec.seconds > 0
