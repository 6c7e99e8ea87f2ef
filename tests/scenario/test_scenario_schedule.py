"""Opening hours: time zones (Moscow has no DST; Kazakhstan is UTC+5 since 2024-03-01), public
holidays and transferred working days of RU and KZ from the `holidays` package, custom dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from scenario_support import ALMATY, MOSCOW, at

from acd.scenario.model import ScheduleNode
from acd.scenario.schedule import (
    closed_example,
    decide,
    holiday_name,
    hours_on,
    is_transferred_workday,
    open_example,
)


def schedule(**fields: object) -> ScheduleNode:
    return ScheduleNode.model_validate({"type": "schedule", "open": "o", "closed": "c", **fields})


HOTLINE = schedule(calendar="RU", hours={"mon-fri": "09:00-18:00"})
KZ_SITE = schedule(
    calendar="KZ",
    hours={"mon-fri": "09:00-19:00", "sat-sun": "09:00-15:00"},
    holiday_hours="09:00-15:00",
    transferred_workday_hours="09:00-19:00",
)


def is_open(node: ScheduleNode, moment: datetime, zone: str = "Europe/Moscow") -> bool:
    return decide(node, moment, zone).open


# --------------------------------------------------------------------------- time zones


def test_moscow_has_no_daylight_saving() -> None:
    zone = ZoneInfo("Europe/Moscow")
    for day in ("2026-01-15", "2026-03-29", "2026-07-15", "2026-10-25", "2026-12-15"):
        moment = datetime.fromisoformat(f"{day} 12:00").replace(tzinfo=zone)
        assert moment.utcoffset() == timedelta(hours=3), day
    # the EU changes clocks on 2026-03-29 and 2026-10-25; Moscow hours stay 06:00-15:00 UTC
    for day in ("2026-03-30", "2026-10-26"):
        assert is_open(HOTLINE, datetime.fromisoformat(f"{day}T06:00+00:00"))
        assert not is_open(HOTLINE, datetime.fromisoformat(f"{day}T05:59+00:00"))
        assert not is_open(HOTLINE, datetime.fromisoformat(f"{day}T15:00+00:00"))


def test_kazakhstan_is_utc_plus_5_since_march_2024() -> None:
    """tzdata 2024a: Asia/Almaty went from UTC+6 to UTC+5 at 2024-03-01 00:00 local."""
    before = datetime(2024, 2, 29, 12, 0, tzinfo=ALMATY)
    after = datetime(2024, 3, 1, 12, 0, tzinfo=ALMATY)
    assert before.utcoffset() == timedelta(hours=6)
    assert after.utcoffset() == timedelta(hours=5)
    assert datetime(2026, 6, 1, tzinfo=ALMATY).utcoffset() == timedelta(hours=5)
    # the same UTC instant, 03:30Z: 09:30 local on Thursday 29 Feb (+6), 08:30 on Friday (+5)
    assert is_open(KZ_SITE, datetime(2024, 2, 29, 3, 30, tzinfo=UTC), "Asia/Almaty")
    assert not is_open(KZ_SITE, datetime(2024, 3, 1, 3, 30, tzinfo=UTC), "Asia/Almaty")
    assert is_open(KZ_SITE, datetime(2024, 3, 1, 4, 0, tzinfo=UTC), "Asia/Almaty")
    # 14:00Z on a weekday in 2026 is 19:00 in Almaty: just closed
    assert is_open(KZ_SITE, datetime(2026, 6, 1, 13, 59, tzinfo=UTC), "Asia/Almaty")
    assert not is_open(KZ_SITE, datetime(2026, 6, 1, 14, 0, tzinfo=UTC), "Asia/Almaty")


def test_the_node_time_zone_overrides_the_scenario_one() -> None:
    node = schedule(time_zone="Asia/Almaty", hours={"mon-sun": "09:00-10:00"})
    moment = datetime(2026, 6, 1, 9, 30, tzinfo=ALMATY)
    decision = decide(node, moment, "Europe/Moscow")
    assert decision.open
    assert decision.local_time.utcoffset() == timedelta(hours=5)


def test_boundaries_of_a_day() -> None:
    assert not is_open(HOTLINE, at("2026-11-23 08:59"))
    assert is_open(HOTLINE, at("2026-11-23 09:00"))
    assert is_open(HOTLINE, at("2026-11-23 17:59"))
    assert not is_open(HOTLINE, at("2026-11-23 18:00"))
    late = schedule(hours={"mon-sun": ["00:00-01:00", "22:00-24:00"]})
    assert is_open(late, at("2026-11-23 23:59"))
    assert is_open(late, at("2026-11-24 00:00"))
    assert not is_open(late, at("2026-11-24 01:00"))
    lunch = schedule(hours={"mon-fri": ["09:00-13:00", "14:00-18:00"]})
    assert not is_open(lunch, at("2026-11-23 13:30"))
    assert closed_example(lunch) == "Monday before 09:00"


# --------------------------------------------------------------------------- RU calendar


@pytest.mark.parametrize("day", [f"2026-01-0{d}" for d in range(1, 9)])
def test_russian_new_year_break_is_closed(day: str) -> None:
    decision = decide(HOTLINE, at(f"{day} 12:00"), "Europe/Moscow")
    assert not decision.open
    assert "public holiday in RU" in decision.day.reason


def test_russian_days_off_moved_by_decree() -> None:
    # 2026: the Saturday 3 January holiday moved to Friday 9 January, Sunday 4 January to
    # Thursday 31 December
    assert holiday_name("RU", date(2026, 1, 9)) is not None
    assert not is_open(HOTLINE, at("2026-01-09 12:00"))
    assert not is_open(HOTLINE, at("2026-12-31 12:00"))
    assert is_open(HOTLINE, at("2026-01-12 12:00"))  # the first working Monday


def test_a_transferred_working_saturday_is_open() -> None:
    """2025-11-01 (Saturday) was a working day; its day off moved to Monday 3 November."""
    assert is_transferred_workday("RU", date(2025, 11, 1))
    decision = decide(HOTLINE, at("2025-11-01 10:00"), "Europe/Moscow")
    assert decision.open
    assert "Saturday made a working day in RU" in decision.day.reason
    assert not is_open(HOTLINE, at("2025-11-03 10:00"))
    assert not is_open(HOTLINE, at("2025-11-08 10:00"))  # an ordinary Saturday
    assert is_transferred_workday("RU", date(2024, 12, 28))  # and one in 2024
    assert is_open(HOTLINE, at("2024-12-28 17:30"))


def test_a_transferred_working_day_uses_its_own_hours() -> None:
    node = schedule(
        calendar="RU", hours={"mon-fri": "09:00-18:00"}, transferred_workday_hours="10:00-14:00"
    )
    assert hours_on(node, date(2025, 11, 1)).hours == node.transferred_workday_hours
    assert not is_open(node, at("2025-11-01 15:00"))


def test_a_holiday_on_a_weekend_moves_to_a_weekday() -> None:
    # Women's Day 2026 is a Sunday: Monday 9 March is the day off; Victory Day is a Saturday
    assert holiday_name("RU", date(2026, 3, 8)) is not None
    assert not is_open(HOTLINE, at("2026-03-09 12:00"))
    assert "observed" in (holiday_name("RU", date(2026, 3, 9)) or "")
    assert not is_open(HOTLINE, at("2026-05-11 12:00"))
    assert is_open(HOTLINE, at("2026-03-10 12:00"))


def test_pre_holiday_short_days_are_not_in_the_calendar() -> None:
    """A known gap: the day before a holiday is an hour shorter in Russia (Labour Code art.
    95), but the package does not say which; such days go into 'dates'."""
    assert hours_on(HOTLINE, date(2026, 11, 3)).reason == "Tuesday"
    node = schedule(
        calendar="RU", hours={"mon-fri": "09:00-18:00"}, dates={"2026-11-03": "09:00-17:00"}
    )
    assert not is_open(node, at("2026-11-03 17:30"))


# --------------------------------------------------------------------------- KZ calendar


def test_kazakh_holidays_use_holiday_hours() -> None:
    # Nowruz: 21-23 March 2026, with the weekend days observed on 24 and 25 March
    assert holiday_name("KZ", date(2026, 3, 23)) is not None
    assert is_open(KZ_SITE, at("2026-03-23 10:00", ALMATY), "Asia/Almaty")
    assert not is_open(KZ_SITE, at("2026-03-23 16:00", ALMATY), "Asia/Almaty")
    assert not is_open(KZ_SITE, at("2026-03-25 16:00", ALMATY), "Asia/Almaty")
    assert is_open(KZ_SITE, at("2026-03-26 18:30", ALMATY), "Asia/Almaty")  # a Thursday
    assert holiday_name("KZ", date(2026, 12, 16)) is not None  # Independence Day


def test_kazakh_transferred_working_day() -> None:
    # Sunday 5 January 2025 was worked; its day off moved to Friday 3 January
    assert is_transferred_workday("KZ", date(2025, 1, 5))
    assert is_open(KZ_SITE, at("2025-01-05 18:00", ALMATY), "Asia/Almaty")
    assert not is_open(KZ_SITE, at("2025-01-03 18:00", ALMATY), "Asia/Almaty")
    assert not is_open(KZ_SITE, at("2025-01-12 18:00", ALMATY), "Asia/Almaty")  # a Sunday


def test_weekends_have_their_own_hours() -> None:
    assert is_open(KZ_SITE, at("2026-11-21 14:59", ALMATY), "Asia/Almaty")
    assert not is_open(KZ_SITE, at("2026-11-21 15:00", ALMATY), "Asia/Almaty")


# --------------------------------------------------------------------------- custom dates


def test_custom_dates_come_before_the_calendar() -> None:
    node = schedule(
        calendar="RU",
        hours={"mon-fri": "09:00-18:00"},
        dates={"2026-12-31": "09:00-15:00", "12-30": "closed"},
    )
    day = hours_on(node, date(2026, 12, 31))
    assert day.reason == "date 2026-12-31 given in 'dates'"
    assert is_open(node, at("2026-12-31 14:00"))
    assert not is_open(node, at("2026-12-31 15:00"))
    assert not is_open(node, at("2026-12-30 12:00"))
    assert not is_open(node, at("2027-12-30 12:00"))  # MM-DD: every year


def test_words_for_closed_and_open_times() -> None:
    assert closed_example(HOTLINE) == "Monday before 09:00"
    assert open_example(HOTLINE) == "Monday 09:00-18:00"
    always = schedule(hours={"mon-sun": "00:00-24:00"})
    assert closed_example(always) is None
    assert closed_example(schedule(calendar="RU", hours={"mon-sun": "00:00-24:00"})) == (
        "public holidays (all day)"
    )
    split = schedule(hours={"mon-sun": ["00:00-12:00", "12:00-24:00"]})
    assert closed_example(split) is None
    weekend = schedule(hours={"sat": "10:00-12:00"})
    assert closed_example(weekend) == "Monday (all day)"
    assert open_example(weekend) == "Saturday 10:00-12:00"
    assert open_example(schedule()) is None


def test_the_decision_describes_itself() -> None:
    decision = decide(HOTLINE, at("2026-11-23 10:00"), "Europe/Moscow")
    assert decision.describe() == "open at 2026-11-23 10:00 MSK: Monday, hours 09:00-18:00"
    assert decision.local_time.tzinfo == MOSCOW
