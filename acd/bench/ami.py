"""AMI parse + dispatch speed, ours against panoramisk's own parser, single core, no network.

The input is the real event frames of the wire captures (``tests/fixtures/asterisk``; a small
embedded sample when the tests are not around), the ``PSTN Caller`` name replaced by a
Cyrillic one as in production, repeated up to ``events`` frames and cut into 4 KiB chunks as a
socket would deliver them. Both sides get the same bytes and the same work per event: one
trivial handler per event name that reads one header and counts.

* ours: ``_AmiProtocol.data_received`` of :mod:`acd.asterisk.ami` - the production path:
  :class:`~acd.asterisk.ami_codec.AmiFramer` then ``AmiClient`` routing and guarded dispatch;
* panoramisk: ``AMIProtocol.data_received`` -> ``Message.from_line`` -> ``Manager.dispatch``
  with one ``"*"`` callback that calls the same per-name handler (registering one pattern per
  name, panoramisk's usual style, is far slower: it tries every pattern's regex per event;
  measured on a smaller run as ``panoramisk_per_name_events_per_s``).

``panoramisk.testing`` is not imported: it patches the line ending process-wide.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from panoramisk.ami_protocol import AMIProtocol
from panoramisk.manager import Manager

from acd.asterisk.ami import AmiClient, _AmiProtocol

CHUNK = 4096
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "asterisk"
_FALLBACK = (
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: Local/s@from-pstn-00000001;1\r\n"
    b"ChannelState: 0\r\nChannelStateDesc: Down\r\nCallerIDNum: 5551234\r\n"
    b"CallerIDName: PSTN Caller\r\nConnectedLineNum: <unknown>\r\n"
    b"ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: from-pstn\r\n"
    b"Exten: s\r\nPriority: 1\r\nUniqueid: 1795337935.3\r\nLinkedid: 1795337935.3\r\n\r\n",
    b"Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: Local/s@from-pstn-00000001;2\r\n"
    b"ChannelState: 4\r\nChannelStateDesc: Ring\r\nCallerIDNum: 5551234\r\n"
    b"CallerIDName: PSTN Caller\r\nConnectedLineNum: <unknown>\r\n"
    b"ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: from-pstn\r\n"
    b"Exten: s\r\nPriority: 3\r\nUniqueid: 1795337935.4\r\nLinkedid: 1795337935.3\r\n"
    b"Variable: AGISTATUS\r\nValue: SUCCESS\r\n\r\n",
    b"Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: PJSIP/1001\r\n"
    b"State: NOT_INUSE\r\n\r\n",
    b"Event: QueueMemberStatus\r\nPrivilege: agent,all\r\nQueue: baseline\r\n"
    b"MemberName: Agent One\r\nInterface: Local/agent1@test-agent/n\r\n"
    b"StateInterface: Local/agent1@test-agent/n\r\nMembership: static\r\nPenalty: 0\r\n"
    b"CallsTaken: 0\r\nLastCall: 0\r\nLastPause: 0\r\nLoginTime: 1795337980\r\n"
    b"InCall: 0\r\nStatus: 2\r\nPaused: 0\r\nPausedReason: \r\nRinginuse: 0\r\n"
    b"Wrapuptime: 0\r\n\r\n",
)


def event_frames() -> list[bytes]:
    """The captured event frames (all files), with a Cyrillic caller name."""
    frames: list[bytes] = []
    for path in sorted(_FIXTURES.glob("0[1-9]_*.txt")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("<<< RAW "):
                    data = ast.literal_eval(line[8:].rstrip("\n"))
                    if data.startswith(b"Event: ") and not data.startswith(b"Event: Shutdown"):
                        frames.append(data)
    if not frames:
        frames = list(_FALLBACK)
    cyrillic = "CallerIDName: Иван Петров".encode()
    return [f.replace(b"CallerIDName: PSTN Caller", cyrillic) for f in frames]


def _stream(frames: list[bytes], events: int) -> tuple[list[bytes], list[str]]:
    picked = [frames[i % len(frames)] for i in range(events)]
    data = BANNER + b"".join(picked)
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    names = sorted({f[7 : f.index(b"\r\n")].decode() for f in frames})
    return chunks, names


class _NullTransport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False


def _handlers(names: list[str], counts: dict[str, int]) -> dict[str, Callable[[Any], None]]:
    def make(name: str) -> Callable[[Any], None]:
        def handler(msg: Any) -> None:
            msg.get("Uniqueid")
            counts[name] += 1

        return handler

    return {name: make(name) for name in names}


def _ours(chunks: list[bytes], names: list[str]) -> tuple[float, int]:
    client = AmiClient("127.0.0.1", 5038, "bench", "bench")
    counts = dict.fromkeys(names, 0)
    for name, handler in _handlers(names, counts).items():
        client.on_event(name, handler)
    protocol = _AmiProtocol(client)
    protocol.connection_made(_NullTransport())  # type: ignore[arg-type]
    receive = protocol.data_received
    start = time.perf_counter()
    for chunk in chunks:
        receive(chunk)
    elapsed = time.perf_counter() - start
    if client.stats["errors"]:
        raise RuntimeError(f"bench: our side reported errors: {client.stats}")
    return elapsed, sum(counts.values())


def _panoramisk(chunks: list[bytes], names: list[str], per_name: bool) -> tuple[float, int]:
    counts = dict.fromkeys(names, 0)
    handlers = _handlers(names, counts)
    manager = Manager(encoding="utf-8")
    manager.callbacks.clear()  # its FullyBooted callback needs a running loop
    manager.patterns.clear()
    if per_name:
        for name, handler in handlers.items():
            manager.register_event(name, lambda _m, event, h=handler: h(event))
    else:
        manager.register_event("*", lambda _m, event: handlers[event.event](event))
    protocol = AMIProtocol()
    protocol.connection_made(_NullTransport())
    protocol.factory = manager
    protocol.encoding = "utf-8"
    receive = protocol.data_received
    start = time.perf_counter()
    for chunk in chunks:
        receive(chunk)
    elapsed = time.perf_counter() - start
    return elapsed, sum(counts.values())


def run(events: int = 200_000) -> dict[str, Any]:
    """Parse and dispatch ``events`` captured event frames, ours then panoramisk's."""
    frames = event_frames()
    chunks, names = _stream(frames, events)
    ours_s, ours_n = _ours(chunks, names)
    theirs_s, theirs_n = _panoramisk(chunks, names, per_name=False)
    small = max(1, min(events, 20_000))
    small_chunks, _ = _stream(frames, small)
    per_name_s, per_name_n = _panoramisk(small_chunks, names, per_name=True)
    if ours_n != events:
        raise RuntimeError(f"bench: dispatched {ours_n} of {events} events")
    return {
        "events_per_s": round(ours_n / ours_s),
        "events": ours_n,
        "panoramisk_events_per_s": round(theirs_n / theirs_s),
        "panoramisk_events": theirs_n,
        "panoramisk_per_name_events_per_s": round(per_name_n / per_name_s),
        "speedup": round((ours_n / ours_s) / (theirs_n / theirs_s), 2),
        "bytes": sum(map(len, chunks)),
        "chunk_bytes": CHUNK,
        "distinct_events": len(names),
        "captured_frames": len(frames),
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run()))
