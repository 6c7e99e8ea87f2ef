"""``acd bench e2e``: the daemon against the simulated PBX, at a tiny size, through the CLI.

No timing assertions: a benchmark is not a timed test. What is checked is the output
contract, that dispatch samples were taken and timed on the wire, and that no call was lost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from acd.bench import e2e
from acd.bench.ami_tap import FrameScanner
from acd.sim.pbx.ami_protocol import AmiMessage
from acd.sim.pbx.events import AmiEvent

ROOT = Path(__file__).resolve().parents[1]
CALLS, AGENTS = 60, 20
KEYS = {
    "dispatch_p50_ms",
    "dispatch_p99_ms",
    "cpu_s_per_1000_calls",
    "peak_rss_mb",
    "calls",
    "answered",
    "samples",
    "duration_s",
}


@pytest.mark.timeout(120)
def test_tiny_run_through_the_cli_answers_every_call_and_times_dispatches() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "acd",
            "bench",
            "e2e",
            "--calls",
            str(CALLS),
            "--agents",
            str(AGENTS),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert result.keys() >= KEYS
    assert "agent freed -> next agent rung" in done.stdout  # the table comes first
    assert result["calls"] == CALLS and result["agents"] == AGENTS
    # No call lost: bridged in the simulator and "answered" in the daemon's journal.
    assert result["answered"] == CALLS
    assert result["answered_journal"] == CALLS
    assert result["not_answered"] == 0
    assert result["journal_outcomes"] == {"answered": CALLS}
    # Every caller beyond the agents waits until an agent hangs up, and that agent is rung
    # for them: one sample each, timed by the tap (Hangup -> Originate to the same phone).
    assert result["samples"] == CALLS - AGENTS
    assert result["samples_untimed"] == 0
    assert result["unmatched_frees"] == 0
    assert 0 < result["dispatch_p50_ms"] <= result["dispatch_p99_ms"]
    assert result["dispatch_p99_ms"] <= result["dispatch_max_ms"]
    assert result["daemon_exit_code"] == 0
    if Path("/proc/self/stat").exists():
        assert result["cpu_s_per_1000_calls"] > 0
        assert result["peak_rss_mb"] > 10


def test_bad_sizes_are_refused_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="calls"):
        e2e.run(calls=0)
    with pytest.raises(ValueError, match="agents"):
        e2e.run(agents=9000)
    with pytest.raises(ValueError, match="rate"):
        e2e.run(rate=0.0)


def test_the_tap_cuts_frames_across_chunks() -> None:
    seen: list[tuple[bytes, float]] = []
    scanner = FrameScanner(lambda frame, at: seen.append((frame, at)))
    stream = (
        b"Asterisk Call Manager/11.0.0\r\n"
        b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
        b"Event: Hangup\r\nChannel: PJSIP/1001-00000001\r\nUniqueid: leg-1\r\n\r\n"
    )
    for i in range(0, len(stream), 7):
        scanner.feed(stream[i : i + 7], float(i))
    assert [frame.split(b"\r\n")[-1] for frame, _ in seen] == [
        b"Message: Authentication accepted",
        b"Uniqueid: leg-1",
    ]
    assert seen[-1][1] == float(len(stream) - 1 - (len(stream) - 1) % 7)  # the last chunk's


def _event(name: str, *headers: tuple[str, str]) -> AmiEvent:
    return AmiEvent((("Event", name), ("Privilege", "call,all"), *headers), seq=1)


def _originate(phone: str, leg: str, caller: str) -> AmiMessage:
    return AmiMessage(
        [
            ("Action", "Originate"),
            ("Channel", f"PJSIP/{phone}"),
            ("ChannelId", leg),
            ("Variable", f"ACD_CALLER_CHANNEL={caller}"),
        ]
    )


def _queued(caller: str) -> AmiEvent:
    return _event("Newexten", ("Channel", caller), ("Context", "acd-wait"))


def _hangup(phone: str, leg: str) -> AmiEvent:
    return _event("Hangup", ("Channel", f"PJSIP/{phone}-0000000a"), ("Uniqueid", leg))


def test_a_hang_up_is_a_sample_only_when_a_caller_is_owed_to_the_agent() -> None:
    probe = e2e.Probe(frozenset({"1001", "1002"}), calls=3)
    first, second, third = "PJSIP/pstn-00000001", "PJSIP/pstn-00000002", "PJSIP/pstn-00000003"
    probe.on_event(_queued(first))
    probe.action_read(_originate("1001", "leg-1", first), 1.0)
    probe.on_event(_event("BridgeEnter", ("Channel", first)))
    probe.on_event(_queued(second))
    # 1002 is idle: the waiting caller is not owed to 1001 when it hangs up.
    probe.hangup_sent(_hangup("1001", "leg-1"), 2.0)
    assert probe.pending == {}
    probe.action_read(_originate("1002", "leg-2", second), 2.5)
    probe.action_read(_originate("1001", "leg-3", third), 2.6)  # third not yet seen waiting
    probe.on_event(_event("BridgeEnter", ("Channel", second)))
    probe.on_event(_queued(first))  # answered callers do not wait again
    assert probe.waiting == set()
    # An offer that ends before the bridge puts its caller back in the queue; nobody is idle
    # then, so the hang-up that ends it is owed that caller: a sample.
    probe.hangup_sent(_hangup("1001", "leg-3"), 3.0)
    assert probe.requeued == 1 and probe.waiting == {third}
    assert probe.pending == {"1001": (3.0, "leg-3")}
    probe.action_read(_originate("1001", "leg-4", third), 3.004)
    assert [(hangup, originate) for hangup, originate, _ in probe.samples] == [("leg-3", "leg-4")]
    assert probe.samples[0][2] == pytest.approx(0.004)
    assert probe.frees == 2 and probe.frees_owed == 1
