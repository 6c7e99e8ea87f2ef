"""Export the calls, shifts and breaks of a period as an Asterisk ``queue_log``.

Lines are ``epoch|callid|queue|agent|EVENT|data1|data2|...`` with the data fields in the
order of Asterisk's ``app_queue.c`` (Asterisk 13 and later), so tools that read a real
``queue_log`` (QueueMetrics, Asternic, home-grown parsers) read ours:

=================  ==============================================  =======================
event              data                                            from
=================  ==============================================  =======================
ENTERQUEUE         url | callerid | position                       ``calls.queued_at``
RINGNOANSWER       ringtime (milliseconds)                         ``call_events``
CONNECT            holdtime | bridged uniqueid | ringtime (s)      ``calls.answered_at``
COMPLETECALLER     holdtime | calltime | origposition              ``calls.ended_at``
BLINDTRANSFER      exten | context | holdtime | calltime | origpos  outcome ``transferred``
ABANDON            position | origposition | waittime              outcome (short_)abandon
EXITWITHTIMEOUT    position | origposition | waittime              overflow, voicemail, ...
AGENTLOGIN         channel                                         ``agent_shifts``
AGENTLOGOFF        channel | logintime                             ``agent_shifts``
PAUSE / UNPAUSE    reason                                          ``agent_states`` (break)
=================  ==============================================  =======================

What is approximated (we do not store it) is listed in ``docs/reports.md``: positions are
recomputed from the queue's own calls in arrival order, who hung up is unknown (every answered
call ends with COMPLETECALLER), the agent channel is ``Agent/<id>`` and the bridged uniqueid is
our call ID (the recording's name).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.models import Call, CallEventRow, Outcome
from acd.storage.reports import LOST_OUTCOMES, Interval, Period, shifts_and_breaks

NONE = "NONE"
#: ``ring_ended`` reasons after which the caller kept waiting: Asterisk logs RINGNOANSWER.
MISSED_RING_REASONS = frozenset({"no_answer", "rejected", "phone_unregistered", "agent_logged_out"})
EVENT_KINDS = ("offered", "ring_ended", "connected")


@dataclass(frozen=True, slots=True)
class QueuedCall:
    call_id: str
    queue_id: str | None
    caller_number: str | None
    agent_id: str | None
    outcome: str | None
    arrived_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None


@dataclass(frozen=True, slots=True)
class CallEventFact:
    call_id: str
    at: datetime
    kind: str  # offered, ring_ended, connected
    agent_id: str | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class QueueLogEntry:
    at: datetime  # the exact instant (for ordering); the line shows whole epoch seconds
    call_id: str
    queue: str
    agent: str
    event: str
    data: tuple[str | int, ...]

    @property
    def epoch(self) -> int:
        return epoch(self.at)

    def line(self) -> str:
        fields = [str(self.epoch), self.call_id, self.queue, self.agent, self.event]
        fields += [str(value) for value in self.data]
        return "|".join(clean(f) for f in fields)


def epoch(at: datetime) -> int:
    """Whole seconds, as Asterisk's ``time(NULL)``."""
    return math.floor(at.timestamp())


def clean(value: str) -> str:
    """A field may not contain the separator or a line break."""
    return value.replace("|", "_").replace("\r", " ").replace("\n", " ")


def _agent_channel(agent_id: str) -> str:
    return f"Agent/{agent_id}"


def _leave_time(call: QueuedCall, enter: datetime) -> datetime:
    """When the caller stopped waiting: answered, or queue entry + wait, or the end."""
    if call.answered_at is not None:
        return call.answered_at
    if call.wait_seconds is not None:
        return enter + timedelta(seconds=call.wait_seconds)
    return call.ended_at or enter


def _enter_time(call: QueuedCall) -> datetime | None:
    if call.queued_at is not None:
        return call.queued_at
    return call.arrived_at if call.queue_id is not None else None


def queue_positions(calls: Sequence[QueuedCall]) -> dict[str, tuple[int, int]]:
    """``call_id -> (position when leaving, original position)`` in the call's queue.

    The original position is 1 + the callers of the same queue who joined earlier and were
    still waiting; the position when leaving is 1 + those of them still waiting then. Priority
    jumps are not modelled (the router does not record positions).
    """
    out: dict[str, tuple[int, int]] = {}
    by_queue: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for call in calls:
        enter = _enter_time(call)
        if enter is None:
            continue
        leave = _leave_time(call, enter)
        by_queue.setdefault(call.queue_id or NONE, []).append((enter, leave, call.call_id))
    for entries in by_queue.values():
        entries.sort()
        waiting: list[tuple[datetime, datetime, str]] = []
        for enter, leave, call_id in entries:
            waiting = [w for w in waiting if w[1] > enter]
            original = len(waiting) + 1
            at_leave = sum(1 for w in waiting if w[1] > leave) + 1
            out[call_id] = (at_leave, original)
            waiting.append((enter, leave, call_id))
    return out


def call_entries(
    call: QueuedCall, events: Sequence[CallEventFact], position: tuple[int, int]
) -> list[QueueLogEntry]:
    """The queue_log lines of one call (none if it never reached a queue)."""
    enter = _enter_time(call)
    if enter is None:
        return []
    queue = call.queue_id or NONE
    pos, orig = position
    entries = [
        QueueLogEntry(
            enter, call.call_id, queue, NONE, "ENTERQUEUE", ("", call.caller_number or "", orig)
        )
    ]
    offered: dict[str, datetime] = {}
    ring_seconds: dict[str, float] = {}
    for event in sorted(events, key=lambda e: e.at):
        agent = event.agent_id or NONE
        if event.kind == "offered":
            offered[agent] = event.at
        elif event.kind == "ring_ended" and event.reason in MISSED_RING_REASONS:
            started = offered.pop(agent, None)
            ring_ms = 0 if started is None else round((event.at - started).total_seconds() * 1000)
            entries.append(
                QueueLogEntry(event.at, call.call_id, queue, agent, "RINGNOANSWER", (ring_ms,))
            )
        elif event.kind == "connected" and agent in offered:
            ring_seconds[agent] = (event.at - offered[agent]).total_seconds()
    leave = _leave_time(call, enter)
    holdtime = epoch(leave) - epoch(enter)
    if call.answered_at is not None:
        agent = call.agent_id or NONE
        ring = int(ring_seconds.get(agent, 0.0))
        entries.append(
            QueueLogEntry(
                call.answered_at,
                call.call_id,
                queue,
                agent,
                "CONNECT",
                (holdtime, call.call_id, ring),
            )
        )
        end = call.ended_at
        if end is None and call.talk_seconds is not None:
            end = call.answered_at + timedelta(seconds=call.talk_seconds)
        if end is not None:
            calltime = epoch(end) - epoch(call.answered_at)
            if call.outcome == Outcome.TRANSFERRED.value:
                event_name, data = "BLINDTRANSFER", ("", "", holdtime, calltime, orig)
            else:
                event_name, data = "COMPLETECALLER", (holdtime, calltime, orig)
            entries.append(QueueLogEntry(end, call.call_id, queue, agent, event_name, data))
    elif call.outcome in LOST_OUTCOMES:
        entries.append(
            QueueLogEntry(leave, call.call_id, queue, NONE, "ABANDON", (pos, orig, holdtime))
        )
    elif call.outcome is not None:
        entries.append(
            QueueLogEntry(
                leave, call.call_id, queue, NONE, "EXITWITHTIMEOUT", (pos, orig, holdtime)
            )
        )
    return entries


def agent_entries(
    shifts: Iterable[Interval], breaks: Iterable[Interval], period: Period
) -> list[QueueLogEntry]:
    """AGENTLOGIN/AGENTLOGOFF and PAUSE/UNPAUSE lines whose instant is in the period."""

    def inside(at: datetime | None) -> bool:
        return at is not None and period.start <= at < period.end

    logins: list[QueueLogEntry] = []
    pauses: list[QueueLogEntry] = []
    logoffs: list[QueueLogEntry] = []
    for s in shifts:
        channel = _agent_channel(s.agent_id)
        if inside(s.start):
            logins.append(QueueLogEntry(s.start, NONE, NONE, s.agent_id, "AGENTLOGIN", (channel,)))
        if s.end is not None and inside(s.end):
            logintime = epoch(s.end) - epoch(s.start)
            logoffs.append(
                QueueLogEntry(s.end, NONE, NONE, s.agent_id, "AGENTLOGOFF", (channel, logintime))
            )
    for b in breaks:
        reason = b.reason or ""
        if inside(b.start):
            pauses.append(QueueLogEntry(b.start, NONE, NONE, b.agent_id, "PAUSE", (reason,)))
        if b.end is not None and inside(b.end):
            pauses.append(QueueLogEntry(b.end, NONE, NONE, b.agent_id, "UNPAUSE", (reason,)))
    # At one instant: log in, then pause/unpause, then log off (a sorted merge keeps this).
    entries = logins + pauses + logoffs
    return entries


def build_queue_log(
    calls: Sequence[QueuedCall],
    events: Iterable[CallEventFact],
    shifts: Iterable[Interval],
    breaks: Iterable[Interval],
    period: Period,
) -> list[QueueLogEntry]:
    """Every entry, in time order (a call's own entries keep their order within a second)."""
    by_call: dict[str, list[CallEventFact]] = {}
    for event in events:
        by_call.setdefault(event.call_id, []).append(event)
    positions = queue_positions(calls)
    entries: list[QueueLogEntry] = []
    for call in calls:
        entries += call_entries(
            call, by_call.get(call.call_id, []), positions.get(call.call_id, (1, 1))
        )
    entries += agent_entries(shifts, breaks, period)
    ordered = sorted(enumerate(entries), key=lambda item: (item[1].epoch, item[1].at, item[0]))
    return [entry for _, entry in ordered]


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


async def export_queue_log(engine: AsyncEngine, period: Period) -> list[str]:
    """The queue_log lines of the calls that arrived, and the agent events, in the period."""
    async with engine.connect() as conn:
        call_rows = await conn.execute(
            select(
                Call.id,
                Call.queue_id,
                Call.caller_number,
                Call.agent_id,
                Call.outcome,
                Call.arrived_at,
                Call.queued_at,
                Call.answered_at,
                Call.ended_at,
                Call.wait_seconds,
                Call.talk_seconds,
            )
            .where(Call.arrived_at >= period.start, Call.arrived_at < period.end)
            .order_by(Call.arrived_at, Call.id)
        )
        calls = [QueuedCall(*row) for row in call_rows.all()]
        event_rows = await conn.execute(
            select(CallEventRow.call_id, CallEventRow.at, CallEventRow.kind, CallEventRow.data)
            .join(Call, Call.id == CallEventRow.call_id)
            .where(
                Call.arrived_at >= period.start,
                Call.arrived_at < period.end,
                CallEventRow.kind.in_(EVENT_KINDS),
            )
        )
        events = []
        for call_id, at, kind, data in event_rows.all():
            data = data if isinstance(data, dict) else {}
            events.append(
                CallEventFact(
                    call_id,
                    at,
                    kind,
                    _str_or_none(data.get("agent_id")),
                    _str_or_none(data.get("reason")),
                )
            )

        def touching(start: Any, end: Any) -> Any:
            return or_(
                and_(start >= period.start, start < period.end),
                and_(end >= period.start, end < period.end),
            )

        shifts, breaks = await shifts_and_breaks(conn, touching)
    return [entry.line() for entry in build_queue_log(calls, events, shifts, breaks, period)]
