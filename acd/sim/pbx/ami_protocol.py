"""AMI framing on the server side: read client actions, write responses (pure + streams).

A frame is ``Key: Value`` lines ended by a blank line. Keys are case-insensitive; a key may
repeat (``Variable``). Lines may end in ``\\r\\n`` or a bare ``\\n``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .events import encode_frame

__all__ = ["AmiMessage", "encode_frame", "parse_message", "read_message"]


@dataclass
class AmiMessage:
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str, default: str = "") -> str:
        low = key.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        low = key.lower()
        return [v for k, v in self.headers if k.lower() == low]

    def has(self, key: str) -> bool:
        low = key.lower()
        return any(k.lower() == low for k, _ in self.headers)

    @property
    def action(self) -> str:
        return self.get("Action")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID") if self.has("ActionID") else None


def parse_message(lines: list[str]) -> AmiMessage:
    msg = AmiMessage()
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        msg.headers.append((key.strip(), value.lstrip(" ")))
    return msg


async def read_message(reader: asyncio.StreamReader) -> AmiMessage | None:
    """The next frame, or None at end of stream."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            return None
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if lines:
                return parse_message(lines)
            continue
        lines.append(line)
