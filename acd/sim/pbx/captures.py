"""Read the real-Asterisk wire captures (``tests/fixtures/asterisk/*.txt``) and normalise AMI
frames so that a capture and a simulated run can be compared "modulo IDs and timestamps".

Capture lines: ``<<< BANNER b'...'``, ``>>> RAW b'...'`` (sent to Asterisk), ``<<< RAW b'...'``
(from Asterisk), ``<<< [connection closed]``, ``AGI [conn from ...]``, ``AGI <<< ENV b'...'``,
``AGI >>> b'...'`` (FastAGI server to Asterisk), ``AGI <<< b'...'`` (Asterisk's reply),
``AGI [closing socket]``; anything else (``# ...`` CLI output) is a comment.

:class:`Normalizer` replaces channel sequence numbers (``-0000000b``) and uniqueids by
placeholders numbered in order of first appearance, and volatile headers (timestamps,
session and command IDs, addresses, durations) by ``*``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FIXTURES",
    "VOLATILE_HEADERS",
    "CaptureLine",
    "Normalizer",
    "ami_events",
    "parse_frame",
    "read_capture",
]

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "asterisk"

#: headers whose values change from run to run
VOLATILE_HEADERS = frozenset(
    {
        "ActionID", "Timestamp", "Uptime", "LastReload", "EventTV", "SessionTV", "SessionID",
        "LocalAddress", "RemoteAddress", "CommandId", "BridgeUniqueid", "Duration", "Seconds",
        "Challenge", "CoreStartupDate", "CoreStartupTime", "CoreReloadDate", "CoreReloadTime",
        "RoundtripUsec", "ExpirationTime", "DurationMs", "CallId", "ObjectName", "UserAgent",
        "ViaPort", "URI", "Uri", "RegExpire", "CoreProcessedCalls", "CoreCurrentCalls",
    }
)  # fmt: skip

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class CaptureLine:
    lineno: int
    kind: str
    data: bytes = b""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    @property
    def headers(self) -> Headers:
        return parse_frame(self.data)

    @property
    def is_event(self) -> bool:
        h = self.headers
        return bool(h) and h[0][0] == "Event"


def parse_frame(raw: bytes) -> Headers:
    headers: Headers = []
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        if line:
            key, _, value = line.partition(": ")
            headers.append((key, value))
    return headers


_PREFIXES = (
    ("<<< BANNER ", "banner"),
    (">>> RAW ", "ami_sent"),
    ("<<< RAW ", "ami_received"),
    ("AGI <<< ENV ", "agi_env"),
    ("AGI >>> ", "agi_to_asterisk"),
    ("AGI <<< ", "agi_from_asterisk"),
)


def read_capture(path: str | Path) -> list[CaptureLine]:
    """Every line of a capture file, classified; bytes literals decoded."""
    p = Path(path)
    if not p.is_absolute() and not p.exists():
        p = FIXTURES / p
    out: list[CaptureLine] = []
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        for prefix, kind in _PREFIXES:
            if line.startswith(prefix):
                out.append(CaptureLine(lineno, kind, ast.literal_eval(line[len(prefix) :])))
                break
        else:
            if line.startswith("<<< [connection closed]"):
                out.append(CaptureLine(lineno, "ami_closed"))
            elif line.startswith("AGI [conn from"):
                out.append(CaptureLine(lineno, "agi_connect"))
            elif line.startswith("AGI [closing socket]"):
                out.append(CaptureLine(lineno, "agi_close"))
            else:
                out.append(CaptureLine(lineno, "comment", line.encode()))
    return out


def ami_events(lines: Iterable[CaptureLine]) -> list[Headers]:
    """The unsolicited AMI events: ``Event`` frames that are not list items (list items have
    an ``ActionID`` and no ``Privilege: ...,all``; OriginateResponse has both)."""
    found: list[Headers] = []
    for line in lines:
        if line.kind != "ami_received":
            continue
        headers = line.headers
        if not headers or headers[0][0] != "Event":
            continue
        fields = dict(headers)
        if "ActionID" not in fields or fields.get("Privilege", "").endswith(",all"):
            found.append(headers)
    return found


_CHAN_RE = re.compile(r"((?:Local|PJSIP)/[^\s;,|!()<>\"]+?)-([0-9a-f]{8})(?![0-9a-f])")
_UID_RE = re.compile(r"(?<![\d.])(\d{9,11}\.\d+)(?![\d.])")


class Normalizer:
    """Stable placeholders for channel numbers and uniqueids, in order of appearance."""

    def __init__(self) -> None:
        self.channels: dict[str, str] = {}
        self.uniqueids: dict[str, str] = {}

    def _chan(self, match: re.Match[str]) -> str:
        key = match.group(0)
        if key not in self.channels:
            self.channels[key] = f"{match.group(1)}-<{len(self.channels) + 1}>"
        return self.channels[key]

    def _uid(self, match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in self.uniqueids:
            self.uniqueids[key] = f"<uid{len(self.uniqueids) + 1}>"
        return self.uniqueids[key]

    def value(self, text: str) -> str:
        return _UID_RE.sub(self._uid, _CHAN_RE.sub(self._chan, text))

    def frame(self, headers: Sequence[tuple[str, str]], ignore: Iterable[str] = ()) -> Headers:
        skip = VOLATILE_HEADERS | frozenset(ignore)
        return [(k, "*" if k in skip else self.value(v)) for k, v in headers]


def format_frame(headers: Sequence[tuple[str, str]]) -> str:
    return " | ".join(f"{k}: {v}" for k, v in headers)
