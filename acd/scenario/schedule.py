"""Opening hours of a ``schedule`` node: which hours apply on a day, and is it open now.

Public holidays and the weekend days made working days by decree come from the
`holidays <https://pypi.org/project/holidays/>`_ package (``holidays.country_holidays``):

* every date of the calendar is a day off — statutory holidays, the New Year break, the
  days off moved by government decree (e.g. RU 2026-01-09, "substituted from 01/03/2026")
  and holidays observed on a weekday because they fell on a weekend (``observed``);
* ``weekend_workdays`` lists the Saturdays/Sundays made working days by the same decrees
  (RU 2025-11-01, KZ 2025-01-05).

What the package does not know: the shortened pre-holiday day (Russian Labour Code art. 95:
one hour shorter) and decrees published after the package release (the Russian transfers for
a year are decreed the autumn before). Give those days in the node's ``dates``.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from acd.scenario.model import (
    ALL_DAY,
    CLOSED,
    DAY_NAMES,
    MINUTES_PER_DAY,
    ScheduleNode,
    TimeRange,
    format_hours,
)

__all__ = [
    "DayHours",
    "ScheduleDecision",
    "closed_example",
    "decide",
    "holiday_name",
    "hours_on",
    "is_transferred_workday",
]


@dataclass(frozen=True, slots=True)
class DayHours:
    """The hours that apply on one local date, and why."""

    day: date
    hours: tuple[TimeRange, ...]
    reason: str  # "Monday", "public holiday: Victory Day", "date 2026-12-31", ...


@dataclass(frozen=True, slots=True)
class ScheduleDecision:
    open: bool
    local_time: datetime
    day: DayHours

    def describe(self) -> str:
        state = "open" if self.open else "closed"
        when = self.local_time.strftime("%Y-%m-%d %H:%M %Z")
        return f"{state} at {when}: {self.day.reason}, hours {format_hours(self.day.hours)}"


@functools.lru_cache(maxsize=64)
def _calendar(country: str, year: int) -> Any:
    """The package's calendar of one country and year, holiday names in English."""
    import holidays

    return holidays.country_holidays(country, years=year, language="en_US")


def holiday_name(country: str, day: date) -> str | None:
    """The name of the public holiday or day off on ``day``, or None on other days."""
    name = _calendar(country, day.year).get(day)
    return str(name) if name is not None else None


def is_transferred_workday(country: str, day: date) -> bool:
    """True for a weekend day that a decree made a working day."""
    return day in _calendar(country, day.year).weekend_workdays


def hours_on(node: ScheduleNode, day: date) -> DayHours:
    """The hours of ``day``: a custom date, else a public holiday, else a transferred
    working day, else the weekday's hours."""
    for key in (day.isoformat(), day.strftime("%m-%d")):
        if key in node.dates:
            return DayHours(day, node.dates[key], f"date {key} given in 'dates'")
    if node.calendar is not None:
        name = holiday_name(node.calendar, day)
        if name is not None:
            return DayHours(day, node.holiday_hours, f"public holiday in {node.calendar}: {name}")
        if is_transferred_workday(node.calendar, day):
            return DayHours(
                day,
                node.workday_hours(),
                f"{DAY_NAMES[day.weekday()]} made a working day in {node.calendar}",
            )
    return DayHours(day, node.weekday_hours()[day.weekday()], DAY_NAMES[day.weekday()])


def decide(node: ScheduleNode, moment: datetime, default_zone: str) -> ScheduleDecision:
    """Is the schedule open at ``moment`` (an aware datetime)?"""
    zone = ZoneInfo(node.time_zone or default_zone)
    local = moment.astimezone(zone)
    day = hours_on(node, local.date())
    minute = local.hour * 60 + local.minute
    is_open = any(r.contains(minute) for r in day.hours)
    return ScheduleDecision(is_open, local, day)


def closed_example(node: ScheduleNode) -> str | None:
    """A time when the schedule is closed, in words, or None if it is open around the clock."""
    week = node.weekday_hours()
    for index, hours in enumerate(week):
        gap = _gap(hours)
        if gap is not None:
            return f"{DAY_NAMES[index]} {gap}"
    if node.calendar is not None:
        if (gap := _gap(node.holiday_hours)) is not None:
            return f"public holidays {gap}"
        if (gap := _gap(node.workday_hours())) is not None:
            return f"weekend days made working days {gap}"
    for key, hours in node.dates.items():
        if (gap := _gap(hours)) is not None:
            return f"{key} {gap}"
    return None


def open_example(node: ScheduleNode) -> str | None:
    """A time when the schedule is open, in words, or None if it is never open."""
    week = node.weekday_hours()
    for index, hours in enumerate(week):
        if hours:
            return f"{DAY_NAMES[index]} {format_hours(hours)}"
    if node.calendar is not None:
        if node.holiday_hours:
            return f"public holidays {format_hours(node.holiday_hours)}"
        if node.workday_hours():
            return f"weekend days made working days {format_hours(node.workday_hours())}"
    for key, hours in node.dates.items():
        if hours:
            return f"{key} {format_hours(hours)}"
    return None


def _gap(hours: tuple[TimeRange, ...]) -> str | None:
    """Words for the first closed stretch of a day, or None when open all day."""
    if hours == ALL_DAY:
        return None
    if hours == CLOSED:
        return "(all day)"
    first = hours[0]
    if first.start > 0:
        return f"before {_hhmm(first.start)}"
    for earlier, later in itertools.pairwise(hours):
        if later.start > earlier.end:
            return f"between {_hhmm(earlier.end)} and {_hhmm(later.start)}"
    last = hours[-1]
    if last.end < MINUTES_PER_DAY:
        return f"after {_hhmm(last.end)}"
    return None  # adjacent ranges that cover the whole day


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
