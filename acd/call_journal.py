"""A durable journal of call events: one JSON object per line, appended as events happen.

It is what lets a restarted daemon account for every call it had accepted: calls that were
waiting or talking when the daemon stopped are found in the journal, matched against what
Asterisk still has, and either picked up again or closed with the right outcome. Until the
database lands it is also the call record itself (``acd.call_events`` has the event shape).

Each line is written and flushed to the operating system at once, so a killed daemon (even
``SIGKILL``) loses nothing it had journaled; a line torn by a power cut is skipped on reading.

The journal does not grow without end: past ``max_bytes`` (64 MiB) the file is renamed to
``<name>.1`` (replacing the one before) and a new one starts with the events a restart needs
of the calls still open (their ``queued`` and ``connected`` events), fsync'd before anything
else is written. The call records themselves are in the database.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from acd.call_events import CallEvent, CallEventSink

log = logging.getLogger(__name__)

#: Call events after which a call is no longer live.
FINAL_KINDS = frozenset({"finished"})


@dataclass(frozen=True, slots=True)
class OpenCall:
    """A call the journal saw queued (or connected) but never finished."""

    call_id: str
    channel: str | None
    status: str  # "waiting" or "connected"
    agent_id: str | None
    queued_at: float
    connected_at: float | None


#: The journal's size past which it is rotated.
MAX_BYTES = 64 * 2**20


def _line(event: CallEvent) -> str:
    return json.dumps(
        {"call_id": event.call_id, "at": event.at, "kind": event.kind, "data": event.data},
        ensure_ascii=False,
        default=str,
    )


class CallJournal:
    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._file: IO[str] | None = None
        self._size = 0
        #: call -> the events a restart needs of it (queued, connected); None until read
        self._open: dict[str, list[CallEvent]] | None = None

    @property
    def rotated_path(self) -> Path:
        return self.path.with_name(self.path.name + ".1")

    def emit(self, event: CallEvent) -> None:
        if self._open is None:
            self._seed(self.read())
        self._follow(event)
        line = _line(event) + "\n"
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
                self._size = self._file.tell()
            self._file.write(line)
            self._file.flush()
            self._size += len(line.encode("utf-8"))
            if self._size > self.max_bytes:
                self._rotate()
        except OSError as exc:
            log.error("cannot write the call journal %s: %s", self.path, exc)

    def _seed(self, events: Iterable[CallEvent]) -> None:
        self._open = {}
        for event in events:
            self._follow(event)

    def _follow(self, event: CallEvent) -> None:
        assert self._open is not None
        follow(self._open, event)

    def _rotate(self) -> None:
        """The file becomes ``<name>.1``; a new one starts with the open calls' events."""
        assert self._file is not None and self._open is not None
        self._file.close()
        self._file = None
        os.replace(self.path, self.rotated_path)
        handle = self.path.open("a", encoding="utf-8")
        kept = [_line(event) + "\n" for events in self._open.values() for event in events]
        handle.write("".join(kept))
        handle.flush()
        os.fsync(handle.fileno())
        self._file = handle
        self._size = handle.tell()
        log.info(
            "call journal rotated: %s kept, %d open call(s) carried over",
            self.rotated_path,
            len(self._open),
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def read(self) -> Iterator[CallEvent]:
        """Every journaled event, in order; torn or foreign lines are skipped with a warning."""
        try:
            handle = self.path.open(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, 1):
                try:
                    raw = json.loads(line)
                    event = CallEvent(
                        str(raw["call_id"]), float(raw["at"]), str(raw["kind"]), raw["data"]
                    )
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d: unreadable journal line skipped", self.path, number)
                    continue
                yield event

    def open_calls(self) -> dict[str, OpenCall]:
        """The calls open in the journal (read from the file, which is kept in step)."""
        self._seed(self.read())
        assert self._open is not None
        return _open_calls_of(self._open)


def follow(calls: dict[str, list[CallEvent]], event: CallEvent) -> None:
    """Keep, per call queued and not finished, the events a restart needs of it: its last
    ``queued`` and, once answered, its ``connected``."""
    if event.kind == "queued":
        calls[event.call_id] = [event]
    elif event.kind == "connected" and event.call_id in calls:
        calls[event.call_id] = [calls[event.call_id][0], event]
    elif event.kind in FINAL_KINDS:
        calls.pop(event.call_id, None)


def open_calls(events: Iterable[CallEvent]) -> dict[str, OpenCall]:
    """The calls that were queued and not finished, with what was last known of them."""
    kept: dict[str, list[CallEvent]] = {}
    for event in events:
        follow(kept, event)
    return _open_calls_of(kept)


def _open_calls_of(kept: dict[str, list[CallEvent]]) -> dict[str, OpenCall]:
    calls: dict[str, OpenCall] = {}
    for call_id, (queued, *connected) in kept.items():
        data: dict[str, Any] = queued.data if isinstance(queued.data, dict) else {}
        answer = connected[0] if connected else None
        answered: dict[str, Any] = (
            answer.data if answer is not None and isinstance(answer.data, dict) else {}
        )
        calls[call_id] = OpenCall(
            call_id,
            data.get("channel"),
            "connected" if answer is not None else "waiting",
            answered.get("agent_id"),
            queued.at,
            answer.at if answer is not None else None,
        )
    return calls


class FanOutSink:
    """Sends every event to several sinks (the journal, and e.g. an in-memory view)."""

    def __init__(self, *sinks: CallEventSink) -> None:
        self.sinks = sinks

    def emit(self, event: CallEvent) -> None:
        for sink in self.sinks:
            sink.emit(event)
