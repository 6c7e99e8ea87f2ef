"""Timestamped call events: the timeline every call leaves for storage and reports.

Until the database lands, events go to an in-memory sink; the sink interface is what the
storage layer will implement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CallEvent:
    call_id: str
    at: float
    kind: str  # "arrived", "ivr", "queued", "announced", "offered", "ring_ended", ...
    data: dict[str, Any] = field(default_factory=dict)


class CallEventSink(Protocol):
    def emit(self, event: CallEvent) -> None: ...


class MemorySink:
    """Keeps every event in memory, by call, in arrival order."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self._by_call: dict[str, list[CallEvent]] = defaultdict(list)

    def emit(self, event: CallEvent) -> None:
        self.events.append(event)
        self._by_call[event.call_id].append(event)

    def timeline(self, call_id: str) -> list[CallEvent]:
        return list(self._by_call.get(call_id, ()))

    def kinds(self, call_id: str) -> list[str]:
        return [e.kind for e in self._by_call.get(call_id, ())]

    def calls(self) -> Iterator[str]:
        return iter(self._by_call)
