"""Report computations: call statistics (annex 2), topics (annex 1), per-call detail, agents.

Each report is the SQL that fetches what it needs plus pure functions that turn query rows
into report rows, so that the arithmetic can be tested without a database. Formulas and
the meaning of every column are in ``docs/reports.md``.

Times are UTC instants in the database; reports take a :class:`Period` (a half-open UTC range
built from local dates) and bucket by the business time zone. PostgreSQL buckets and
aggregates the calls itself (quarter-hour UTC slots, then ``date_trunc(unit, slot AT TIME ZONE
zone)``; only a few hundred rows leave the server); SQLite returns the calls of the period and
Python buckets them with :mod:`zoneinfo`. Both paths give the same numbers
(``tests/storage/test_reports_golden.py``).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.storage.models import Agent, AgentShift, AgentStateLog, Call, Outcome

#: Service-level threshold: the hotline's target is an answer within 5 minutes (000 §2.2).
DEFAULT_THRESHOLD_SECONDS = 300.0
#: A caller who hangs up within this many seconds of joining the queue is a short abandon.
DEFAULT_SHORT_ABANDON_SECONDS = 5.0

LOST_OUTCOMES = (Outcome.ABANDONED.value, Outcome.SHORT_ABANDON.value)  # by outcome only
BREAK_STATE = "break"
NO_TOPIC = "(тема не указана)"
NO_REASON = "без причины"


class ReportError(ValueError):
    """A report parameter is unusable; the message is meant for the user as it is."""


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday
    MONTH = "month"


class ServiceLevelFormula(StrEnum):
    #: answered within the threshold / answered
    ANSWERED = "answered"
    #: answered within the threshold / (answered + lost that were not short abandons)
    INCLUSIVE = "inclusive"


# --------------------------------------------------------------------------- the period


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open range ``[start, end)`` of UTC instants, read in the zone ``tz``."""

    start: datetime
    end: datetime
    tz: ZoneInfo

    @property
    def local_start(self) -> datetime:
        """The start as a naive local wall-clock time."""
        return self.start.astimezone(self.tz).replace(tzinfo=None)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.tz).replace(tzinfo=None)

    @property
    def first_day(self) -> date:
        return self.local_start.date()

    @property
    def last_day(self) -> date:
        """The last local day that has a moment in the period."""
        return (self.local_end - timedelta(microseconds=1)).date()


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; :class:`ReportError` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ReportError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Moscow', "
            "'Asia/Almaty' or 'UTC'"
        ) from None


def _parse_local(text_value: str, option: str) -> tuple[datetime, bool]:
    """``(naive local datetime, is_a_whole_date)``, or :class:`ReportError`."""
    value = text_value.strip()
    example = "a date YYYY-MM-DD (e.g. 2026-11-01) or a time YYYY-MM-DDTHH:MM"
    try:
        if _DATE_RE.match(value):
            return datetime.combine(date.fromisoformat(value), time()), True
        if _DATETIME_RE.match(value):
            return datetime.fromisoformat(value.replace(" ", "T")), False
    except ValueError:
        raise ReportError(
            f"{option}: {text_value!r} is not a real date; expected {example}"
        ) from None
    raise ReportError(f"{option}: expected {example}, got {text_value!r}")


def parse_period(from_text: str, to_text: str, tz: ZoneInfo) -> Period:
    """The period from ``--from`` to ``--to`` in the zone ``tz``.

    Both take a local date ``YYYY-MM-DD`` or a local time ``YYYY-MM-DDTHH:MM[:SS]``. A date in
    ``--to`` includes that whole day (``--from 2026-11-01 --to 2026-11-30`` is November); a
    time in ``--to`` is the exclusive end.
    """
    start_local, _ = _parse_local(from_text, "--from")
    end_local, whole_day = _parse_local(to_text, "--to")
    if whole_day:
        end_local += timedelta(days=1)
    start = start_local.replace(tzinfo=tz).astimezone(UTC)
    end = end_local.replace(tzinfo=tz).astimezone(UTC)
    if end <= start:
        raise ReportError(f"--to ({to_text}) is before --from ({from_text}): nothing to report")
    return Period(start, end, tz)


def bucket_of(local: datetime, by: Bucket) -> datetime:
    """The start of the bucket holding the naive local time ``local`` (as ``date_trunc``)."""
    if by is Bucket.HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if by is Bucket.DAY:
        return day
    if by is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_bucket(start: datetime, by: Bucket) -> datetime:
    if by is Bucket.HOUR:
        return start + timedelta(hours=1)
    if by is Bucket.DAY:
        return start + timedelta(days=1)
    if by is Bucket.WEEK:
        return start + timedelta(weeks=1)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_starts(period: Period, by: Bucket) -> list[datetime]:
    """Every bucket that overlaps the period, as naive local starts (empty ones included)."""
    starts = []
    current = bucket_of(period.local_start, by)
    end = period.local_end
    while current < end:
        starts.append(current)
        current = _next_bucket(current, by)
    return starts


def bucket_end(start: datetime, by: Bucket) -> datetime:
    return _next_bucket(start, by)


# --------------------------------------------------------------------------- call statistics


@dataclass(frozen=True, slots=True)
class StatsOptions:
    threshold_seconds: float = DEFAULT_THRESHOLD_SECONDS
    short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS
    sl_formula: ServiceLevelFormula = ServiceLevelFormula.ANSWERED

    def __post_init__(self) -> None:
        for name, value in (
            ("--threshold", self.threshold_seconds),
            ("--short-abandon", self.short_abandon_seconds),
        ):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ReportError(f"{name} must be a number of seconds, 0 or more; got {value!r}")


class CallClass(IntEnum):
    """Every call falls in exactly one class (see :func:`classify` and docs/reports.md)."""

    ANSWERED_WITHIN = 0  # answered, waited <= threshold
    ANSWERED_AFTER = 1  # answered, waited > threshold
    LOST_SHORT = 2  # outcome short_abandon, or abandoned after waiting < short-abandon
    LOST_AFTER = 3  # abandoned, not short, waited > threshold
    LOST_WITHIN = 4  # abandoned, not short, waited <= threshold
    OTHER = 5  # neither answered nor lost: voicemail, callback, overflow, out of hours, ...


ANSWERED_CLASSES = frozenset({CallClass.ANSWERED_WITHIN, CallClass.ANSWERED_AFTER})
LOST_CLASSES = frozenset({CallClass.LOST_SHORT, CallClass.LOST_AFTER, CallClass.LOST_WITHIN})


@dataclass(frozen=True, slots=True)
class CallFacts:
    """The fields of one ``calls`` row that call statistics read."""

    arrived_at: datetime  # aware
    answered: bool  # answered_at is set
    outcome: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    wrap_up_seconds: float | None
    handle_seconds: float | None

    @property
    def handle(self) -> float | None:
        """Handling time; talk + wrap-up when it was not recorded."""
        if self.handle_seconds is not None:
            return self.handle_seconds
        if self.talk_seconds is None:
            return None
        return self.talk_seconds + (self.wrap_up_seconds or 0.0)


def classify(call: CallFacts, options: StatsOptions) -> CallClass:
    """The class of a call: the same rules as the ``CASE`` of :data:`PG_CALL_GROUPS`."""
    wait = call.wait_seconds or 0.0
    if call.answered:
        if wait > options.threshold_seconds:
            return CallClass.ANSWERED_AFTER
        return CallClass.ANSWERED_WITHIN
    if call.outcome == Outcome.SHORT_ABANDON.value or (
        call.outcome == Outcome.ABANDONED.value and wait < options.short_abandon_seconds
    ):
        return CallClass.LOST_SHORT
    if call.outcome == Outcome.ABANDONED.value:
        if wait > options.threshold_seconds:
            return CallClass.LOST_AFTER
        return CallClass.LOST_WITHIN
    return CallClass.OTHER


@dataclass(frozen=True, slots=True)
class CallGroup:
    """Sums over the calls of one (bucket, class, transferred): a row of the query."""

    bucket: datetime  # naive local bucket start
    call_class: CallClass
    transferred: bool
    calls: int
    wait_sum: float
    wait_max: float | None
    talk_count: int
    talk_sum: float
    wrap_count: int
    wrap_sum: float
    handle_count: int
    handle_sum: float


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True, slots=True)
class CallTotals:
    """The counts and sums behind one line of call statistics; they merge by addition."""

    received: int = 0
    answered: int = 0
    answered_after: int = 0
    transferred: int = 0
    lost: int = 0
    lost_after: int = 0
    lost_short: int = 0
    wait_answered_sum: float = 0.0
    wait_lost_sum: float = 0.0
    talk_count: int = 0
    talk_sum: float = 0.0
    wrap_count: int = 0
    wrap_sum: float = 0.0
    handle_count: int = 0
    handle_sum: float = 0.0
    wait_answered_max: float | None = None
    wait_lost_max: float | None = None

    def merge(self, other: CallTotals) -> CallTotals:
        values: dict[str, Any] = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            values[f.name] = _max(a, b) if f.name.endswith("_max") else a + b
        return CallTotals(**values)

    @classmethod
    def of_group(cls, g: CallGroup) -> CallTotals:
        """What one group adds to its bucket's line."""
        answered = g.call_class in ANSWERED_CLASSES
        lost = g.call_class in LOST_CLASSES
        if not answered:  # talk, wrap-up and handling count for answered calls only
            return cls(
                received=g.calls,
                transferred=g.calls if g.transferred else 0,
                lost=g.calls if lost else 0,
                lost_after=g.calls if g.call_class is CallClass.LOST_AFTER else 0,
                lost_short=g.calls if g.call_class is CallClass.LOST_SHORT else 0,
                wait_lost_sum=g.wait_sum if lost else 0.0,
                wait_lost_max=g.wait_max if lost else None,
            )
        return cls(
            received=g.calls,
            answered=g.calls,
            answered_after=g.calls if g.call_class is CallClass.ANSWERED_AFTER else 0,
            transferred=g.calls if g.transferred else 0,
            wait_answered_sum=g.wait_sum,
            wait_answered_max=g.wait_max,
            talk_count=g.talk_count,
            talk_sum=g.talk_sum,
            wrap_count=g.wrap_count,
            wrap_sum=g.wrap_sum,
            handle_count=g.handle_count,
            handle_sum=g.handle_sum,
        )


def fold_groups(groups: Iterable[CallGroup]) -> dict[datetime, CallTotals]:
    """Bucket start -> the totals of its groups."""
    out: dict[datetime, CallTotals] = {}
    for group in groups:
        one = CallTotals.of_group(group)
        out[group.bucket] = out[group.bucket].merge(one) if group.bucket in out else one
    return out


def group_calls(
    calls: Iterable[CallFacts], tz: ZoneInfo, by: Bucket, options: StatsOptions
) -> list[CallGroup]:
    """Python's grouping (the SQLite path): what :data:`PG_CALL_GROUPS` returns."""
    acc: dict[tuple[datetime, CallClass, bool], list[Any]] = {}
    for call in calls:
        bucket = bucket_of(call.arrived_at.astimezone(tz).replace(tzinfo=None), by)
        key = (bucket, classify(call, options), call.outcome == Outcome.TRANSFERRED.value)
        # calls, wait sum, wait max, talk n, talk sum, wrap n, wrap sum, handle n, handle sum
        a = acc.setdefault(key, [0, 0.0, None, 0, 0.0, 0, 0.0, 0, 0.0])
        wait = call.wait_seconds or 0.0
        a[0] += 1
        a[1] += wait
        a[2] = _max(a[2], wait)
        for index, value in ((3, call.talk_seconds), (5, call.wrap_up_seconds), (7, call.handle)):
            if value is not None:
                a[index] += 1
                a[index + 1] += value
    return [CallGroup(*key, *values) for key, values in acc.items()]


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    return None if denominator == 0 else numerator * scale / denominator


@dataclass(frozen=True, slots=True)
class CallStatsRow:
    """One line of the annex-2 form. Durations in seconds, shares in percent."""

    bucket: datetime | None  # naive local bucket start; None for the totals line
    received: int
    answered: int
    answered_after: int
    transferred: int
    lost: int
    lost_after: int
    lost_short: int
    answered_pct: float | None
    avg_wait_lost: float | None
    avg_wait_answered: float | None
    avg_talk: float | None
    avg_wrap_up: float | None
    avg_handle: float | None
    service_level: float | None
    max_wait_answered: float | None
    max_wait_lost: float | None


def service_level(totals: CallTotals, formula: ServiceLevelFormula) -> float | None:
    """Percent answered within the threshold, by ``formula`` (see docs/reports.md)."""
    within = totals.answered - totals.answered_after
    if formula is ServiceLevelFormula.ANSWERED:
        return _ratio(within, totals.answered, 100.0)
    return _ratio(within, totals.answered + totals.lost - totals.lost_short, 100.0)


def stats_row(bucket: datetime | None, t: CallTotals, options: StatsOptions) -> CallStatsRow:
    return CallStatsRow(
        bucket=bucket,
        received=t.received,
        answered=t.answered,
        answered_after=t.answered_after,
        transferred=t.transferred,
        lost=t.lost,
        lost_after=t.lost_after,
        lost_short=t.lost_short,
        answered_pct=_ratio(t.answered, t.received, 100.0),
        avg_wait_lost=_ratio(t.wait_lost_sum, t.lost),
        avg_wait_answered=_ratio(t.wait_answered_sum, t.answered),
        avg_talk=_ratio(t.talk_sum, t.talk_count),
        avg_wrap_up=_ratio(t.wrap_sum, t.wrap_count),
        avg_handle=_ratio(t.handle_sum, t.handle_count),
        service_level=service_level(t, options.sl_formula),
        max_wait_answered=t.wait_answered_max,
        max_wait_lost=t.wait_lost_max,
    )


@dataclass(frozen=True, slots=True)
class CallStatsReport:
    period: Period
    by: Bucket
    queue: str | None
    options: StatsOptions
    rows: list[CallStatsRow]
    total: CallStatsRow


def build_call_stats(
    period: Period,
    by: Bucket,
    groups: Iterable[CallGroup],
    options: StatsOptions,
    queue: str | None = None,
) -> CallStatsReport:
    """Rows for every bucket of the period (empty ones as zeros) and the totals line."""
    totals = fold_groups(groups)
    keys = sorted(set(bucket_starts(period, by)) | set(totals))
    rows = [stats_row(key, totals.get(key, CallTotals()), options) for key in keys]
    grand = CallTotals()
    for value in totals.values():
        grand = grand.merge(value)
    return CallStatsReport(period, by, queue, options, rows, stats_row(None, grand, options))


#: The PostgreSQL query. The first pass reads each call once and does arithmetic only: it sums
#: the calls by 15-minute UTC slot (``date_bin``), class (the ``CASE`` is :func:`classify`)
#: and transfer. Every zone's UTC offset has been a whole number of quarter hours since 1979,
#: so a slot never straddles a local hour or day boundary. The second pass buckets the few
#: thousand slots of the period in the business zone with ``AT TIME ZONE`` (DST and offset
#: changes come from PostgreSQL's tzdata) and adds them up.
#: ``{queue_filter}`` is empty or ``AND queue_id = :queue``.
PG_CALL_GROUPS = """
WITH c AS (
    SELECT date_bin(INTERVAL '15 minutes', arrived_at, TIMESTAMPTZ '2000-01-01 00:00+00') AS slot,
           CASE WHEN answered_at IS NOT NULL THEN
                    CASE WHEN coalesce(wait_seconds, 0) > :threshold THEN 1 ELSE 0 END
                WHEN outcome = 'short_abandon'
                     OR (outcome = 'abandoned' AND coalesce(wait_seconds, 0) < :short) THEN 2
                WHEN outcome = 'abandoned' THEN
                    CASE WHEN coalesce(wait_seconds, 0) > :threshold THEN 3 ELSE 4 END
                ELSE 5
           END AS call_class,
           coalesce(outcome = 'transferred', false) AS transferred,
           coalesce(wait_seconds, 0) AS wait,
           talk_seconds AS talk,
           wrap_up_seconds AS wrap,
           coalesce(handle_seconds, talk_seconds + coalesce(wrap_up_seconds, 0)) AS handle
    FROM calls
    WHERE arrived_at >= :start AND arrived_at < :end {queue_filter}
), slots AS (
    SELECT slot, call_class, transferred,
           count(*) AS calls, sum(wait) AS wait_sum, max(wait) AS wait_max,
           count(talk) AS talk_count, sum(talk) AS talk_sum,
           count(wrap) AS wrap_count, sum(wrap) AS wrap_sum,
           count(handle) AS handle_count, sum(handle) AS handle_sum
    FROM c
    GROUP BY slot, call_class, transferred
)
SELECT date_trunc(CAST(:unit AS text), slot AT TIME ZONE CAST(:tz AS text)) AS bucket,
       call_class, transferred,
       sum(calls) AS calls, sum(wait_sum) AS wait_sum, max(wait_max) AS wait_max,
       sum(talk_count) AS talk_count, sum(talk_sum) AS talk_sum,
       sum(wrap_count) AS wrap_count, sum(wrap_sum) AS wrap_sum,
       sum(handle_count) AS handle_count, sum(handle_sum) AS handle_sum
FROM slots
GROUP BY 1, call_class, transferred
"""


def _in_period(column: Any, period: Period) -> Any:
    return and_(column >= period.start, column < period.end)


def _float(value: Any) -> float:
    return 0.0 if value is None else float(value)


async def _pg_call_groups(
    conn: AsyncConnection,
    period: Period,
    by: Bucket,
    options: StatsOptions,
    queue: str | None,
) -> list[CallGroup]:
    sql = PG_CALL_GROUPS.format(queue_filter="AND queue_id = :queue" if queue is not None else "")
    params: dict[str, Any] = {
        "start": period.start,
        "end": period.end,
        "unit": by.value,
        "tz": period.tz.key,
        "threshold": float(options.threshold_seconds),
        "short": float(options.short_abandon_seconds),
    }
    if queue is not None:
        params["queue"] = queue
    result = await conn.execute(text(sql), params)
    return [
        CallGroup(
            bucket=r.bucket,
            call_class=CallClass(r.call_class),
            transferred=bool(r.transferred),
            calls=int(r.calls),
            wait_sum=_float(r.wait_sum),
            wait_max=None if r.wait_max is None else float(r.wait_max),
            talk_count=int(r.talk_count),
            talk_sum=_float(r.talk_sum),
            wrap_count=int(r.wrap_count),
            wrap_sum=_float(r.wrap_sum),
            handle_count=int(r.handle_count),
            handle_sum=_float(r.handle_sum),
        )
        for r in result
    ]


async def _python_call_groups(
    conn: AsyncConnection,
    period: Period,
    by: Bucket,
    options: StatsOptions,
    queue: str | None,
) -> list[CallGroup]:
    query = select(
        Call.arrived_at,
        Call.answered_at,
        Call.outcome,
        Call.wait_seconds,
        Call.talk_seconds,
        Call.wrap_up_seconds,
        Call.handle_seconds,
    ).where(_in_period(Call.arrived_at, period))
    if queue is not None:
        query = query.where(Call.queue_id == queue)
    result = await conn.execute(query)
    facts = (CallFacts(r[0], r[1] is not None, r[2], r[3], r[4], r[5], r[6]) for r in result.all())
    return group_calls(facts, period.tz, by, options)


async def call_statistics(
    engine: AsyncEngine,
    period: Period,
    by: Bucket,
    options: StatsOptions | None = None,
    *,
    queue: str | None = None,
) -> CallStatsReport:
    """The annex-2 call statistics of ``period``, one row per ``by`` bucket."""
    options = options or StatsOptions()
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            groups = await _pg_call_groups(conn, period, by, options, queue)
        else:
            groups = await _python_call_groups(conn, period, by, options, queue)
    return build_call_stats(period, by, groups, options, queue)


# --------------------------------------------------------------------------- topics (annex 1)


@dataclass(frozen=True, slots=True)
class TopicRow:
    topic: str
    calls: int


@dataclass(frozen=True, slots=True)
class TopicsReport:
    period: Period
    queue: str | None
    rows: list[TopicRow]
    total: int


def build_topics(
    period: Period, counts: Iterable[tuple[str | None, int]], queue: str | None = None
) -> TopicsReport:
    """Most frequent first (ties by name); calls without a topic last."""
    merged: dict[str | None, int] = {}
    for topic, count in counts:
        key = topic.strip() if topic and topic.strip() else None
        merged[key] = merged.get(key, 0) + int(count)
    known = sorted(
        ((t, n) for t, n in merged.items() if t is not None), key=lambda item: (-item[1], item[0])
    )
    rows = [TopicRow(t, n) for t, n in known]
    if merged.get(None):
        rows.append(TopicRow(NO_TOPIC, merged[None]))
    return TopicsReport(period, queue, rows, sum(merged.values()))


async def topic_counts(
    engine: AsyncEngine, period: Period, *, queue: str | None = None
) -> TopicsReport:
    """Annex 1: each topic with its number of calls arrived in the period."""
    query = (
        select(Call.topic, func.count())
        .where(_in_period(Call.arrived_at, period))
        .group_by(Call.topic)
    )
    if queue is not None:
        query = query.where(Call.queue_id == queue)
    async with engine.connect() as conn:
        result = await conn.execute(query)
        counts = [(row[0], row[1]) for row in result.all()]
    return build_topics(period, counts, queue)


# --------------------------------------------------------------------------- per-call detail

OUTCOME_LABELS: dict[str, str] = {
    Outcome.ANSWERED.value: "принят",
    Outcome.ABANDONED.value: "потерян",
    Outcome.SHORT_ABANDON.value: "потерян (короткий)",
    Outcome.OVERFLOW.value: "переполнение очереди",
    Outcome.VOICEMAIL.value: "автоответчик",
    Outcome.CALLBACK.value: "обратный звонок",
    Outcome.TRANSFERRED.value: "переведён",
    Outcome.OUT_OF_HOURS.value: "нерабочее время",
    Outcome.HOOLIGANISM.value: "хулиганский",
    Outcome.IVR_ENDED.value: "завершён в IVR",
    Outcome.IVR_ABANDONED.value: "сброшен в IVR",
}


@dataclass(frozen=True, slots=True)
class DetailRow:
    call_id: str
    caller_number: str | None
    day: date  # local
    at: time  # local, whole seconds
    wait_seconds: float | None
    talk_seconds: float | None
    topic: str | None
    agent_id: str | None
    outcome: str | None

    @property
    def outcome_label(self) -> str:
        if self.outcome is None:
            return ""
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


@dataclass(frozen=True, slots=True)
class DetailReport:
    period: Period
    agent: str | None
    caller: str | None
    queue: str | None
    rows: list[DetailRow]


def detail_row(
    tz: ZoneInfo,
    call_id: str,
    caller_number: str | None,
    arrived_at: datetime,
    wait_seconds: float | None,
    talk_seconds: float | None,
    topic: str | None,
    agent_id: str | None,
    outcome: str | None,
) -> DetailRow:
    local = arrived_at.astimezone(tz)
    return DetailRow(
        call_id=call_id,
        caller_number=caller_number,
        day=local.date(),
        at=local.time().replace(microsecond=0, tzinfo=None),
        wait_seconds=wait_seconds,
        talk_seconds=talk_seconds,
        topic=topic,
        agent_id=agent_id,
        outcome=outcome,
    )


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def call_detail(
    engine: AsyncEngine,
    period: Period,
    *,
    agent: str | None = None,
    caller: str | None = None,
    queue: str | None = None,
) -> DetailReport:
    """Every call of the period in arrival order (004 §5 a–f, plus agent and outcome).

    ``caller`` matches any number containing it (``9161234567`` finds ``+79161234567``).
    """
    query = (
        select(
            Call.id,
            Call.caller_number,
            Call.arrived_at,
            Call.wait_seconds,
            Call.talk_seconds,
            Call.topic,
            Call.agent_id,
            Call.outcome,
        )
        .where(_in_period(Call.arrived_at, period))
        .order_by(Call.arrived_at, Call.id)
    )
    if agent is not None:
        query = query.where(Call.agent_id == agent)
    if caller is not None:
        query = query.where(Call.caller_number.like(f"%{_like_escape(caller)}%", escape="\\"))
    if queue is not None:
        query = query.where(Call.queue_id == queue)
    async with engine.connect() as conn:
        result = await conn.execute(query)
        rows = [detail_row(period.tz, *row) for row in result.all()]
    return DetailReport(period, agent, caller, queue, rows)


# --------------------------------------------------------------------------- agents


@dataclass(frozen=True, slots=True)
class Interval:
    agent_id: str
    start: datetime  # aware
    end: datetime | None  # None: still open
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AgentCallSums:
    agent_id: str
    calls: int
    talk_seconds: float
    wrap_up_seconds: float


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: str
    name: str
    shift_seconds: float
    calls: int
    talk_seconds: float
    wrap_up_seconds: float
    break_seconds: float
    breaks: dict[str, float] = field(default_factory=dict)  # reason -> seconds


@dataclass(frozen=True, slots=True)
class Evenness:
    """How evenly talk time is spread over the agents of the report."""

    agents: int
    min_seconds: float
    min_agent: str
    max_seconds: float
    max_agent: str
    mean_seconds: float
    cv: float | None  # population standard deviation / mean; None when the mean is 0


@dataclass(frozen=True, slots=True)
class AgentsReport:
    period: Period
    rows: list[AgentRow]
    reasons: list[str]  # every break reason seen, for the columns
    total: AgentRow
    evenness: Evenness | None


def overlap_seconds(interval: Interval, period: Period, now: datetime) -> float:
    """Seconds of ``interval`` inside the period; an open interval runs until ``now``."""
    end = interval.end if interval.end is not None else now
    start = max(interval.start, period.start)
    end = min(end, period.end)
    return max(0.0, (end - start).total_seconds())


def talk_evenness(rows: Sequence[AgentRow]) -> Evenness | None:
    if not rows:
        return None
    talks = [r.talk_seconds for r in rows]
    low = min(rows, key=lambda r: (r.talk_seconds, r.agent_id))
    high = max(rows, key=lambda r: (r.talk_seconds, r.agent_id))
    mean = statistics.fmean(talks)
    cv = statistics.pstdev(talks) / mean if mean > 0 else None
    return Evenness(
        len(rows), low.talk_seconds, low.agent_id, high.talk_seconds, high.agent_id, mean, cv
    )


def build_agents(
    period: Period,
    shifts: Iterable[Interval],
    breaks: Iterable[Interval],
    calls: Iterable[AgentCallSums],
    names: Mapping[str, str],
    now: datetime,
) -> AgentsReport:
    """One row per agent with a shift, a break or an answered call in the period."""
    shift_time: dict[str, float] = {}
    for s in shifts:
        shift_time[s.agent_id] = shift_time.get(s.agent_id, 0.0) + overlap_seconds(s, period, now)
    break_time: dict[str, dict[str, float]] = {}
    for b in breaks:
        seconds = overlap_seconds(b, period, now)
        reason = b.reason.strip() if b.reason and b.reason.strip() else NO_REASON
        per_agent = break_time.setdefault(b.agent_id, {})
        per_agent[reason] = per_agent.get(reason, 0.0) + seconds
    call_sums = {c.agent_id: c for c in calls}
    agent_ids = sorted(set(shift_time) | set(break_time) | set(call_sums))
    rows = []
    for agent_id in agent_ids:
        c = call_sums.get(agent_id, AgentCallSums(agent_id, 0, 0.0, 0.0))
        per_reason = break_time.get(agent_id, {})
        rows.append(
            AgentRow(
                agent_id=agent_id,
                name=names.get(agent_id, ""),
                shift_seconds=shift_time.get(agent_id, 0.0),
                calls=c.calls,
                talk_seconds=c.talk_seconds,
                wrap_up_seconds=c.wrap_up_seconds,
                break_seconds=sum(per_reason.values()),
                breaks=dict(per_reason),
            )
        )
    reasons = sorted({reason for per in break_time.values() for reason in per})
    total = AgentRow(
        agent_id="",
        name="",
        shift_seconds=sum(r.shift_seconds for r in rows),
        calls=sum(r.calls for r in rows),
        talk_seconds=sum(r.talk_seconds for r in rows),
        wrap_up_seconds=sum(r.wrap_up_seconds for r in rows),
        break_seconds=sum(r.break_seconds for r in rows),
        breaks={reason: sum(r.breaks.get(reason, 0.0) for r in rows) for reason in reasons},
    )
    return AgentsReport(period, rows, reasons, total, talk_evenness(rows))


async def shifts_and_breaks(
    conn: AsyncConnection, selects: Callable[[Any, Any], Any]
) -> tuple[list[Interval], list[Interval]]:
    """Agents' shifts and breaks whose (start, end) columns ``selects`` keeps."""
    shift_rows = await conn.execute(
        select(AgentShift.agent_id, AgentShift.login_at, AgentShift.logout_at).where(
            selects(AgentShift.login_at, AgentShift.logout_at)
        )
    )
    break_rows = await conn.execute(
        select(
            AgentStateLog.agent_id,
            AgentStateLog.started_at,
            AgentStateLog.ended_at,
            AgentStateLog.reason,
        ).where(
            AgentStateLog.state == BREAK_STATE,
            selects(AgentStateLog.started_at, AgentStateLog.ended_at),
        )
    )
    shifts = [Interval(r[0], r[1], r[2]) for r in shift_rows.all()]
    breaks = [Interval(r[0], r[1], r[2], r[3]) for r in break_rows.all()]
    return shifts, breaks


def _overlapping(start_col: Any, end_col: Any, period: Period) -> Any:
    return and_(start_col < period.end, or_(end_col.is_(None), end_col > period.start))


async def agent_activity(
    engine: AsyncEngine, period: Period, *, now: datetime | None = None
) -> AgentsReport:
    """Shift time (agent_shifts), calls, talk and wrap-up (calls), breaks (agent_states)."""
    now = now or datetime.now(UTC)
    async with engine.connect() as conn:
        shifts, breaks = await shifts_and_breaks(
            conn, lambda start, end: _overlapping(start, end, period)
        )
        call_rows = await conn.execute(
            select(
                Call.agent_id,
                func.count(),
                func.coalesce(func.sum(Call.talk_seconds), 0.0),
                func.coalesce(func.sum(Call.wrap_up_seconds), 0.0),
            )
            .where(
                _in_period(Call.arrived_at, period),
                Call.answered_at.is_not(None),
                Call.agent_id.is_not(None),
            )
            .group_by(Call.agent_id)
        )
        sums = [AgentCallSums(r[0], int(r[1]), float(r[2]), float(r[3])) for r in call_rows.all()]
        name_rows = await conn.execute(select(Agent.id, Agent.name))
        names = {r[0]: r[1] or "" for r in name_rows.all()}
    return build_agents(period, shifts, breaks, sums, names, now)
