"""AMI events as emitted by the simulated PBX: an ordered header list, a bus, a log.

Every event goes through one :class:`EventBus`; AMI sessions subscribe to it and filter by
their event mask, tests read :attr:`EventBus.log` (the frames in emission order) for golden
comparisons.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

__all__ = [
    "PRIV_AGENT",
    "PRIV_AGI",
    "PRIV_CALL",
    "PRIV_DIALPLAN",
    "PRIV_DTMF",
    "PRIV_SECURITY",
    "PRIV_SYSTEM",
    "PRIV_USER",
    "AmiEvent",
    "EventBus",
    "encode_frame",
]

PRIV_CALL = "call,all"
PRIV_DIALPLAN = "dialplan,all"
PRIV_AGI = "agi,all"
PRIV_SYSTEM = "system,all"
PRIV_SECURITY = "security,all"
PRIV_USER = "user,all"
PRIV_DTMF = "dtmf,all"
PRIV_AGENT = "agent,all"

Headers = list[tuple[str, str]]


def encode_frame(headers: Iterable[tuple[str, str]]) -> bytes:
    """``Key: Value\\r\\n`` lines and the blank line that ends an AMI frame."""
    return ("".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("utf-8")


class HeaderLookup:
    """Case-insensitive header access over ``self.headers`` (a sequence of pairs), as AMI
    treats header names."""

    headers: Sequence[tuple[str, str]]

    def get(self, key: str, default: str | None = None) -> str | None:
        low = key.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def keys(self) -> list[str]:
        return [k for k, _ in self.headers]


@dataclass(frozen=True)
class AmiEvent(HeaderLookup):
    """One emitted event frame. ``headers`` start with ``Event`` and ``Privilege``."""

    headers: tuple[tuple[str, str], ...]
    seq: int
    at: float = field(default_factory=time.time)

    @property
    def name(self) -> str:
        return self.headers[0][1]

    @property
    def privilege(self) -> str:
        return self.get("Privilege") or ""

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(c for c in self.privilege.lower().split(",") if c and c != "all")

    def encode(self) -> bytes:
        return encode_frame(self.headers)

    def __str__(self) -> str:
        return " | ".join(f"{k}: {v}" for k, v in self.headers)


class EventBus:
    """Fan-out of events to subscribers, with a bounded log of everything emitted."""

    def __init__(self, log_limit: int = 200_000) -> None:
        self.log: deque[AmiEvent] = deque(maxlen=log_limit)
        self._subscribers: list[Callable[[AmiEvent], None]] = []
        self._seq = 0

    def subscribe(self, callback: Callable[[AmiEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, name: str, privilege: str, headers: Iterable[tuple[str, str]]) -> AmiEvent:
        self._seq += 1
        frame = (("Event", name), ("Privilege", privilege), *headers)
        event = AmiEvent(frame, self._seq)
        self.log.append(event)
        for callback in list(self._subscribers):
            callback(event)
        return event

    def named(self, *names: str) -> list[AmiEvent]:
        """Logged events with one of these names, in order."""
        wanted = set(names)
        return [e for e in self.log if e.name in wanted]

    def since(self, seq: int) -> Iterator[AmiEvent]:
        return (e for e in self.log if e.seq > seq)

    @property
    def last_seq(self) -> int:
        return self._seq
