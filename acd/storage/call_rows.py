"""What the call events make of the ``calls`` row, and what one writer transaction holds.

Pure data and rules, no I/O: :class:`CallRow` is the writer's picture of one ``calls`` row
(times as epoch seconds), :func:`apply_event` is what each call event changes in it, and
:class:`Batch` is everything one transaction of :mod:`acd.storage.writer` writes, for
:mod:`acd.storage.bulk` to send.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from acd.storage.spool import Record


def instant(at: float) -> datetime:
    if not math.isfinite(at):
        at = time.time()
    return datetime.fromtimestamp(at, UTC)


def clip(value: Any, length: int) -> str | None:
    """Text for a column of ``length`` characters (NUL, which PostgreSQL refuses, dropped)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:length]


def number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


@dataclass(slots=True)
class CallRow:
    """The writer's picture of one ``calls`` row; the columns it owns, in table order."""

    id: str
    arrived_at: float
    caller_number: str | None = None
    caller_name: str | None = None
    dialled_number: str | None = None
    language: str | None = None
    scenario: str | None = None
    scenario_version: str | None = None
    ivr_path: list[Any] | None = None
    topic: str | None = None
    category: str | None = None
    priority: int = 0
    queue_id: str | None = None
    skills: str | None = None
    agent_id: str | None = None
    ivr_ended_at: float | None = None
    queued_at: float | None = None
    first_offer_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    wrap_up_ended_at: float | None = None
    wait_seconds: float | None = None
    ring_seconds: float | None = None
    talk_seconds: float | None = None
    wrap_up_seconds: float | None = None
    handle_seconds: float | None = None
    outcome: str | None = None
    announced_wait_seconds: float | None = None
    end_known: bool = True
    # Not columns:
    in_db: bool = False
    offer_at: float | None = None  # when the offer ringing now started
    offer_known: bool = True  # False: read back from the database, a ringing offer unknown
    topic_by_agent: bool = False  # the topic came from the agent's disposition

    def end_ring(self, at: float) -> None:
        if self.offer_at is not None:
            self.ring_seconds = (self.ring_seconds or 0.0) + max(0.0, at - self.offer_at)
            self.offer_at = None

    def values(self) -> dict[str, Any]:
        """Column -> value, times as aware datetimes."""
        row = dict(zip(STORED, STORED_VALUES(self), strict=True))
        for name in INSTANTS:
            value = row[name]
            row[name] = None if value is None else instant(value)
        return row

    @classmethod
    def from_db(cls, values: dict[str, Any]) -> CallRow:
        row = cls(id=values["id"], arrived_at=0.0, in_db=True, offer_known=False)
        for name in STORED:
            value = values.get(name)
            if name in INSTANTS and value is not None:
                value = value.timestamp()
            if name == "end_known" and value is None:
                value = True
            if name == "priority" and value is None:
                value = 0
            setattr(row, name, value)
        return row


#: The ``calls`` columns the writer owns (others, e.g. ``ticket`` or ``notes``, it never sets).
STORED = tuple(
    f.name
    for f in fields(CallRow)
    if f.name not in ("in_db", "offer_at", "offer_known", "topic_by_agent")
)
INSTANTS = frozenset(n for n in STORED if n.endswith("_at"))
STORED_VALUES = attrgetter(*STORED)


#: Outcomes an agent or the IVR decided, which the router's "finished" does not replace.
DECIDED = frozenset({"voicemail", "callback", "transferred", "hooliganism"})
#: The IVR's outcome (``ivr`` events, ``acd.asterisk.ivr``) -> the call's outcome.
_IVR_OUTCOMES = {"voicemail": "voicemail", "callback": "callback", "transfer": "transferred"}


def apply_event(row: CallRow, record: Record) -> None:
    """What one call event changes in its call's row (``docs/storage.md`` has the table)."""
    kind, data, at = record.kind, record.data, record.at
    if kind == "arrived":
        row.arrived_at = min(row.arrived_at, at) if row.in_db else at
        row.caller_number = clip(data.get("caller"), 64) or row.caller_number
        row.caller_name = clip(data.get("caller_name"), 200) or row.caller_name
        row.dialled_number = clip(data.get("dialled"), 64) or row.dialled_number
    elif kind == "queued":
        row.queued_at = at if row.queued_at is None else row.queued_at
        row.ivr_ended_at = at if row.ivr_ended_at is None else row.ivr_ended_at
        row.queue_id = clip(data.get("queue"), 100) or row.queue_id
        row.language = clip(data.get("language"), 8) or row.language
        priority = number(data.get("priority"))
        row.priority = int(priority) if priority is not None else row.priority
        row.skills = clip(data.get("skills"), 400) or row.skills
        if data.get("scenario"):  # queued by an IVR scenario (acd.asterisk.ivr)
            _scenario(row, data)
            _ivr_details(row, data.get("ivr_path"), data)
    elif kind == "scenario":
        _scenario(row, data)
    elif kind == "ivr":
        _scenario(row, data)
        _ivr_details(row, data.get("path"), data)
        _ivr_outcome(row, str(data.get("outcome") or ""), data, at)
    elif kind == "announced":
        if row.announced_wait_seconds is None:
            row.announced_wait_seconds = number(data.get("mean_seconds"))
    elif kind == "offered":
        row.end_ring(at)  # defensive: offers never overlap
        row.first_offer_at = at if row.first_offer_at is None else row.first_offer_at
        row.offer_at = at
        row.offer_known = True
    elif kind in ("ring_ended", "requeued"):
        row.end_ring(at)
    elif kind == "connected":
        row.end_ring(at)
        row.answered_at = at if row.answered_at is None else row.answered_at  # the first
        row.agent_id = clip(data.get("agent_id"), 64) or row.agent_id
    elif kind == "finished":
        row.end_ring(at)
        row.ended_at = at
        outcome = clip(data.get("outcome"), 20)
        if outcome == "withdrawn":  # the system took it out of the queue: overflow
            outcome = "overflow"
        later_leg = row.outcome == "transferred"  # after an agent's transfer
        if row.outcome not in DECIDED or outcome in DECIDED:
            row.outcome = outcome
        row.agent_id = clip(data.get("agent_id"), 64) or row.agent_id
        talk = number(data.get("talk_seconds"))
        if later_leg:  # the wait is the first agent's; talk is every agent's
            row.talk_seconds = (row.talk_seconds or 0.0) + (talk or 0.0)
        else:
            row.wait_seconds = number(data.get("wait_seconds"))
            row.talk_seconds = talk
        row.end_known = bool(data.get("end_known", True))
        if row.wrap_up_seconds is not None and row.talk_seconds is not None:
            row.handle_seconds = row.talk_seconds + row.wrap_up_seconds
    elif kind == "voicemail_task":  # a message was left (the IVR's or the dialplan's fallback)
        if row.outcome != "hooliganism":
            row.outcome = "voicemail"
        if row.ended_at is None:
            row.ended_at = at
    elif kind == "disposition":  # the agent's (acd.http.agent_api)
        topic = clip(data.get("topic"), 100)
        if topic:
            row.topic = topic
            row.topic_by_agent = True
        if data.get("disposition") == "hooliganism":
            row.outcome = "hooliganism"


def _scenario(row: CallRow, data: dict[str, Any]) -> None:
    if data.get("scenario"):
        row.scenario = clip(data.get("scenario"), 100)
        version = data.get("scenario_version")
        row.scenario_version = None if version is None else clip(version, 64)


def _ivr_details(row: CallRow, path: Any, data: dict[str, Any]) -> None:
    """Topic, category, language and path as the scenario left them (an agent's topic, set
    later by a ``disposition``, comes after and wins)."""
    if isinstance(path, list | tuple):
        row.ivr_path = [str(step) for step in path]
    if not row.topic_by_agent:
        row.topic = clip(data.get("topic"), 100) or row.topic
    row.category = clip(data.get("category"), 1) or row.category
    row.language = clip(data.get("language"), 8) or row.language


def _ivr_outcome(row: CallRow, outcome: str, data: dict[str, Any], at: float) -> None:
    """The IVR finished with the call without an agent: voicemail, callback, a transfer to a
    number, a hang-up (out of hours, or another end of the scenario), or the caller hung up
    before reaching a queue. Entering a queue, being answered, or moving to another scenario
    decide nothing yet (the router's ``finished`` or a later ``ivr`` event will)."""
    if row.outcome == "hooliganism":
        return
    if outcome in _IVR_OUTCOMES:
        if outcome == "transfer" and not data.get("number"):
            return  # to another scenario: the call goes on there
        row.outcome = _IVR_OUTCOMES[outcome]
    elif outcome in ("hangup", "fallback"):
        if row.outcome in DECIDED:
            return
        if data.get("out_of_hours"):
            row.outcome = "out_of_hours"
        elif row.outcome is None:
            row.outcome = "ivr_ended"
    elif outcome == "caller_hung_up":
        if row.outcome is None and row.queued_at is None:
            row.outcome = "ivr_abandoned"
        elif row.outcome != "overflow":
            return  # hung up while queued or after: the router's outcome stands
    else:
        return
    row.ivr_ended_at = at if row.ivr_ended_at is None else row.ivr_ended_at
    if row.ended_at is None or row.answered_at is None:
        row.ended_at = at


@dataclass(slots=True)
class StateRow:
    """An ``agent_states`` row; ``ended_at`` is filled by the next change in the batch."""

    agent_id: str
    state: str
    reason: str | None
    call_id: str | None
    started_at: float
    event_key: str
    ended_at: float | None = None


@dataclass(slots=True)
class ShiftRow:
    agent_id: str
    login_at: float
    logout_at: float | None = None


@dataclass
class Batch:
    """Everything one writer transaction writes. Rows of earlier transactions are closed
    (``*_closes``) before this batch's rows go in."""

    events: list[tuple[str, float, str, dict[str, Any], str]] = field(default_factory=list)
    calls: dict[str, CallRow] = field(default_factory=dict)
    states: list[StateRow] = field(default_factory=list)
    state_closes: list[tuple[str, float]] = field(default_factory=list)  # (agent, ended at)
    shifts: list[ShiftRow] = field(default_factory=list)
    shift_closes: list[tuple[str, float]] = field(default_factory=list)  # (agent, logout)
    # The writer's memory, kept if the transaction commits:
    last_call: dict[str, str] = field(default_factory=dict)  # agent -> call last finished
    wrap: dict[str, tuple[str | None, float] | None] = field(default_factory=dict)
    finished: int = 0
