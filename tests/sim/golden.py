"""Golden comparison of simulated AMI events with a real-Asterisk capture.

Both streams are filtered to the scenario's channels and normalised (channel numbers and
uniqueids become placeholders in order of appearance, volatile headers ``*``). Then:

* per channel, the sequence of events carrying a ``Channel`` header must be identical: same
  event names, same header names in the same order, same values;
* events without a channel (bridges, presence: ContactStatus, PeerStatus...) must come in
  the same order among themselves;
* events Asterisk itself emits in varying order across captures (Dial*, LocalBridge,
  OriginateResponse, ExtensionStatus, device states) must be present as a multiset.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from acd.sim.pbx.captures import CaptureLine, Normalizer, format_frame
from acd.sim.pbx.testing import AgiConnection, RawAmiClient

Headers = list[tuple[str, str]]

#: print how many events each comparison covered (``pytest -s``)
LOG_SIZES = False

#: events whose position varies between captures of the same situation
UNORDERED = frozenset(
    {
        "DialBegin",
        "DialEnd",
        "DialState",
        "LocalBridge",
        "OriginateResponse",
        "ExtensionStatus",
        "DeviceStateChange",
    }
)
#: things real Asterisk emits that the simulated PBX deliberately does not
NOT_SIMULATED_EVENTS = frozenset(
    {"QueueMemberStatus", "RTCPSent", "RTCPReceived", "AgentCalled", "AgentConnect"}
)
NOT_SIMULATED_VARS = frozenset(
    {
        "RTPAUDIOQOS",
        "RTPAUDIOQOSJITTER",
        "RTPAUDIOQOSLOSS",
        "RTPAUDIOQOSRTT",
        "RTPAUDIOQOSMES",
        "BRIDGEPVTCALLID",
    }
)


def _get(headers: Sequence[tuple[str, str]], key: str) -> str | None:
    return next((v for k, v in headers if k == key), None)


def _channels_of(headers: Sequence[tuple[str, str]]) -> list[str]:
    keys = ("Channel", "DestChannel", "LocalOneChannel", "LocalTwoChannel")
    return [v for k, v in headers if k in keys]


def scenario_filter(*prefixes: str) -> Callable[[Headers], bool]:
    """Keep events about channels whose names start with one of ``prefixes`` (and device
    or hint events about them)."""

    def keep(headers: Headers) -> bool:
        name = headers[0][1]
        if name in NOT_SIMULATED_EVENTS:
            return False
        if name == "VarSet" and _get(headers, "Variable") in NOT_SIMULATED_VARS:
            return False
        chans = _channels_of(headers)
        if chans:
            return any(c.startswith(prefixes) for c in chans)
        device = _get(headers, "Device")
        if device is not None:
            return device.startswith(prefixes) and not device.startswith("Local/")
        hint = _get(headers, "Hint")
        if hint is not None:
            return hint.startswith(prefixes)
        peer = _get(headers, "Peer") or _get(headers, "EndpointName") or _get(headers, "AccountID")
        if peer is not None:
            return any(peer.startswith(p) or f"PJSIP/{peer}".startswith(p) for p in prefixes)
        return False

    return keep


def _normalise(
    events: Iterable[Headers], keep: Callable[[Headers], bool], ignore: Iterable[str]
) -> list[Headers]:
    norm = Normalizer()
    return [norm.frame(h, ignore) for h in events if keep(h)]


def compare(
    simulated: Iterable[Headers],
    captured: Iterable[Headers],
    keep: Callable[[Headers], bool],
    *,
    ignore_values: Iterable[str] = (),
) -> list[str]:
    """Differences between the two streams (empty when they agree)."""
    ignore = list(ignore_values)
    sim = _normalise(simulated, keep, ignore)
    cap = _normalise(captured, keep, ignore)
    problems: list[str] = []
    if not cap:
        problems.append("the capture has no events for this scenario (bad filter?)")
    if LOG_SIZES:
        print(f"golden: {len(sim)} simulated vs {len(cap)} captured events")

    def by_channel(frames: list[Headers]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for h in frames:
            if h[0][1] in UNORDERED:
                continue
            chan = _get(h, "Channel")
            if chan is not None:
                out.setdefault(chan, []).append(format_frame(h))
        return out

    sim_ch, cap_ch = by_channel(sim), by_channel(cap)
    if sorted(sim_ch) != sorted(cap_ch):
        problems.append(f"channels differ: simulated {sorted(sim_ch)} vs captured {sorted(cap_ch)}")
    for chan in sorted(set(sim_ch) & set(cap_ch)):
        if sim_ch[chan] != cap_ch[chan]:
            diff = difflib.unified_diff(
                cap_ch[chan], sim_ch[chan], "captured", "simulated", lineterm="", n=2
            )
            problems.append(f"events of {chan} differ:\n" + "\n".join(diff))

    def channelless(frames: list[Headers]) -> list[str]:
        return [
            format_frame(h)
            for h in frames
            if h[0][1] not in UNORDERED and _get(h, "Channel") is None
        ]

    sim_o, cap_o = channelless(sim), channelless(cap)
    if sim_o != cap_o:
        diff = difflib.unified_diff(cap_o, sim_o, "captured", "simulated", lineterm="", n=1)
        problems.append("events without a channel differ:\n" + "\n".join(diff))

    def unordered(frames: list[Headers]) -> list[str]:
        return sorted(format_frame(h) for h in frames if h[0][1] in UNORDERED)

    sim_u, cap_u = unordered(sim), unordered(cap)
    if sim_u != cap_u:
        diff = difflib.unified_diff(cap_u, sim_u, "captured", "simulated", lineterm="", n=1)
        problems.append("unordered events differ:\n" + "\n".join(diff))
    return problems


def assert_same_events(
    simulated: Iterable[Headers],
    captured: Iterable[Headers],
    keep: Callable[[Headers], bool],
    *,
    ignore_values: Iterable[str] = (),
) -> None:
    problems = compare(simulated, captured, keep, ignore_values=ignore_values)
    assert not problems, "\n\n".join(problems)


def keys(headers: Sequence[tuple[str, str]]) -> list[str]:
    return [k for k, _ in headers]


# ------------------------------------------------------------------ replaying AMI sessions

Hook = Callable[[], Awaitable[None]]


def session_lines(lines: Sequence[CaptureLine], index: int) -> list[CaptureLine]:
    """The lines of the ``index``-th AMI connection of a capture, from its banner to the
    next banner (FastAGI lines of that time included)."""
    sessions: list[list[CaptureLine]] = []
    for line in lines:
        if line.kind == "banner":
            sessions.append([])
        if sessions:
            sessions[-1].append(line)
    return sessions[index]


def expected_replies(lines: Sequence[CaptureLine], sent: CaptureLine) -> list[Headers]:
    """The frames Asterisk sent back for one action (response, list items, completion)."""
    action_id = dict(sent.headers).get("ActionID")
    start = lines.index(sent)
    out: list[Headers] = []
    for line in lines[start + 1 :]:
        if line.kind != "ami_received":
            continue
        headers = line.headers
        if dict(headers).get("ActionID") == action_id and headers[0][1] != "OriginateResponse":
            out.append(headers)
    return out


async def replay(
    client: RawAmiClient,
    lines: Sequence[CaptureLine],
    *,
    before: dict[str, Hook] | None = None,
    skip: Iterable[str] = (),
    ignore_values: Iterable[str] = (),
) -> list[str]:
    """Send every captured action of a session verbatim; compare the replies.

    ``before[action_id]`` runs first (wait for the state the capture was in); actions whose
    ActionID is in ``skip`` are not sent. Returns the differences (empty if none).
    """
    hooks = before or {}
    skipped = set(skip)
    sim_norm, cap_norm = Normalizer(), Normalizer()
    ignore = list(ignore_values)
    problems: list[str] = []
    for line in lines:
        if line.kind != "ami_sent":
            continue
        action_id = dict(line.headers).get("ActionID", "")
        if action_id in skipped:
            continue
        if action_id in hooks:
            await hooks[action_id]()
        expected = expected_replies(lines, line)
        client.send_raw(line.data)
        got = await client.replies(action_id, len(expected))
        want = [format_frame(cap_norm.frame(h, ignore)) for h in expected]
        have = [format_frame(sim_norm.frame(f.headers, ignore)) for f in got]
        if want != have:
            diff = difflib.unified_diff(want, have, "captured", "simulated", lineterm="", n=1)
            problems.append(f"replies to {action_id} differ:\n" + "\n".join(diff))
    return problems


def captured_response(lines: Sequence[CaptureLine], action_id: str) -> Headers:
    """The captured response frame to the action with ``action_id``."""
    for line in lines:
        if line.kind == "ami_received":
            headers = line.headers
            if headers[0][0] == "Response" and dict(headers).get("ActionID") == action_id:
                return headers
    raise KeyError(action_id)


# ------------------------------------------------------------------ FastAGI conversations


@dataclass
class AgiConversation:
    """One captured FastAGI connection: the environment, then each command with what
    Asterisk wrote back after it (unsolicited ``HANGUP`` lines included)."""

    env: list[bytes]
    exchanges: list[tuple[bytes, list[bytes]]]

    def reply_to(self, command: str) -> list[bytes]:
        wanted = command.encode() + b"\n"
        return next(replies for sent, replies in self.exchanges if sent == wanted)

    @property
    def received(self) -> bytes:
        """Everything Asterisk wrote after the environment, in order."""
        return b"".join(b"".join(replies) for _, replies in self.exchanges)


def agi_conversations(lines: Sequence[CaptureLine]) -> list[AgiConversation]:
    convs: list[AgiConversation] = []
    for line in lines:
        if line.kind == "agi_connect":
            convs.append(AgiConversation([], []))
        elif not convs:
            continue
        elif line.kind == "agi_env":
            convs[-1].env.append(line.data)
        elif line.kind == "agi_to_asterisk":
            convs[-1].exchanges.append((line.data, []))
        elif line.kind == "agi_from_asterisk" and convs[-1].exchanges:
            convs[-1].exchanges[-1][1].append(line.data)
    return convs


_ENDPOS = re.compile(rb"endpos=\d+")
_THREAD = re.compile(rb"agi_threadid: \d+")


def normalise_agi(data: bytes, norm: Normalizer) -> str:
    data = _THREAD.sub(b"agi_threadid: *", _ENDPOS.sub(b"endpos=*", data))
    return norm.value(data.decode())


async def replay_agi(
    conn: AgiConnection,
    commands: Iterable[bytes],
    *,
    during: dict[bytes, Hook] | None = None,
) -> bytes:
    """Send the commands one by one (``during[cmd]`` runs after sending ``cmd``, before its
    reply is read); everything Asterisk wrote after the environment."""
    hooks = during or {}
    for command in commands:
        text = command.decode().rstrip("\n")
        if command in hooks:
            conn.transcript.append((">>>", command))
            conn.writer.write(command)
            await hooks[command]()
            while (await conn.read_line()) == b"HANGUP\n":
                pass
        else:
            await conn.command(text)
    conn.close()
    return b"".join(data for direction, data in conn.transcript if direction == "<<<")
