"""Golden numbers: the data set of ``report_data.py`` reported on SQLite and on PostgreSQL.

Every expected number was computed by hand from the table in ``report_data.py`` (the
arithmetic is in the comments) and is written here as a literal: both backends must give
exactly these, PostgreSQL bucketing with ``AT TIME ZONE`` and SQLite in Python.
Thresholds are the defaults unless a test says otherwise: service level 300 s (answered
within = wait <= 300), short abandon < 5 s.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from report_data import MSK, NOW, TOPIC_ACCOUNT, TOPIC_BLOCK, TOPIC_PAY, TOPIC_REGISTER, load

from acd.storage.db import create_schema, make_engine, make_sessions
from acd.storage.models import Call
from acd.storage.queue_log import export_queue_log
from acd.storage.reports import (
    Bucket,
    CallStatsRow,
    ServiceLevelFormula,
    StatsOptions,
    agent_activity,
    call_detail,
    call_statistics,
    parse_period,
    topic_counts,
)

# 2 and 3 November 2026, Moscow: [2026-11-01 21:00 UTC, 2026-11-03 21:00 UTC)
PERIOD = parse_period("2026-11-02", "2026-11-03", MSK)

# Day 1 (2 Nov): c01..c11, 11 calls.
#   answered (answered_at set): c01 c02 c05 c08 c10 = 5; after 300 s: c02 (400) = 1
#     (c08 waited exactly 300: within); transferred: c05 = 1
#   lost: c03 c04 c06 c07 c11 = 5; short: c04 (outcome) + c07 (abandoned, 2 s < 5) = 2;
#     after the threshold (not short, wait > 300): c03 (350) c11 (390) = 2
#   Отв %: 5 / 11 = 45.4545...
#   avg wait lost (350 + 3 + 40 + 2 + 390) / 5 = 785 / 5 = 157
#   avg wait answered (20 + 400 + 10 + 300 + 150) / 5 = 880 / 5 = 176
#   avg talk (180 + 300 + 60 + 240 + 120) / 5 = 900 / 5 = 180
#   avg wrap-up (30 + 60 + 0 + 20 + 10) / 5 = 120 / 5 = 24
#   avg handling (210 + 360 + 60 + [c08: 240 + 20] + 130) / 5 = 1020 / 5 = 204
#   service level (5 - 1) / 5 = 80 %; inclusive 4 / (5 + 5 - 2) = 50 %
#   max wait answered 400 (c02), lost 390 (c11)
DAY_1 = dict(
    received=11, answered=5, answered_after=1, transferred=1,
    lost=5, lost_after=2, lost_short=2,
    answered_pct=5 / 11 * 100, avg_wait_lost=157.0, avg_wait_answered=176.0,
    avg_talk=180.0, avg_wrap_up=24.0, avg_handle=204.0, service_level=80.0,
    max_wait_answered=400.0, max_wait_lost=390.0,
)  # fmt: skip
# Day 2 (3 Nov): c12..c15, 4 calls (c12 at Moscow midnight, still 2 Nov in UTC).
#   answered c12 c14 = 2, none after; transferred c13 (by the system, not answered) = 1
#   lost c15 = 1, short (outcome) = 1, after 0
#   Отв % 2 / 4 = 50; avg wait lost 4; avg wait answered (5 + 0) / 2 = 2.5
#   avg talk (50 + 420) / 2 = 235; avg wrap-up: c12 has none, so 45 / 1 = 45
#   avg handling (c12: 50 + 0, c14: 465) / 2 = 515 / 2 = 257.5
#   service level 2 / 2 = 100 %; inclusive 2 / (2 + 1 - 1) = 100 %; max 5 and 4
DAY_2 = dict(
    received=4, answered=2, answered_after=0, transferred=1,
    lost=1, lost_after=0, lost_short=1,
    answered_pct=50.0, avg_wait_lost=4.0, avg_wait_answered=2.5,
    avg_talk=235.0, avg_wrap_up=45.0, avg_handle=257.5, service_level=100.0,
    max_wait_answered=5.0, max_wait_lost=4.0,
)  # fmt: skip
# Both days: 15 received, 7 answered, 1 after, 2 transferred, 6 lost (2 after, 3 short)
#   Отв % 7 / 15; avg wait lost (785 + 4) / 6 = 131.5; answered (880 + 5) / 7
#   talk (900 + 470) / 7; wrap-up (120 + 45) / (5 + 1) = 27.5; handling (1020 + 515) / 7
#   service level 6 / 7; inclusive 6 / (7 + 6 - 3) = 60 %
TOTAL = dict(
    received=15, answered=7, answered_after=1, transferred=2,
    lost=6, lost_after=2, lost_short=3,
    answered_pct=7 / 15 * 100, avg_wait_lost=131.5, avg_wait_answered=885 / 7,
    avg_talk=1370 / 7, avg_wrap_up=27.5, avg_handle=1535 / 7, service_level=6 / 7 * 100,
    max_wait_answered=400.0, max_wait_lost=390.0,
)  # fmt: skip


def assert_row(row: CallStatsRow, expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        actual = getattr(row, name)
        if isinstance(value, float):
            assert actual == pytest.approx(value, abs=1e-9), name
        else:
            assert actual == value, name


async def test_call_statistics_by_day_hour_week_and_month(db_url: str) -> None:
    await load(db_url)
    engine = make_engine(db_url)
    try:
        report = await call_statistics(engine, PERIOD, Bucket.DAY)
        assert [r.bucket for r in report.rows] == [datetime(2026, 11, 2), datetime(2026, 11, 3)]
        assert_row(report.rows[0], DAY_1)
        assert_row(report.rows[1], DAY_2)
        assert_row(report.total, TOTAL)

        hours = await call_statistics(engine, PERIOD, Bucket.HOUR)
        assert len(hours.rows) == 48  # every hour of both days, empty ones as zeros
        by_hour = {r.bucket: r for r in hours.rows}
        # 09:00: c01..c05; answered c01 c02 c05, c02 after the threshold; lost c03 (350:
        # after) and c04 (short); wait answered (20 + 400 + 10) / 3; SL 2 / 3
        assert_row(
            by_hour[datetime(2026, 11, 2, 9)],
            dict(received=5, answered=3, answered_after=1, transferred=1, lost=2,
                 lost_after=1, lost_short=1, avg_wait_answered=430 / 3,
                 service_level=2 / 3 * 100),
        )  # fmt: skip
        # 23:00 on 2 Nov: c10 (answered after midnight, counted at arrival) and c11 (lost at
        # 23:59:59.5, 390 s: after the threshold); 00:00 on 3 Nov: c12
        assert_row(
            by_hour[datetime(2026, 11, 2, 23)],
            dict(received=2, answered=1, lost=1, lost_after=1, max_wait_lost=390.0),
        )
        assert_row(by_hour[datetime(2026, 11, 3, 0)], dict(received=1, answered=1))
        assert_row(by_hour[datetime(2026, 11, 2, 8)], dict(received=0, answered_pct=None))
        assert by_hour[datetime(2026, 11, 2, 8)].service_level is None
        assert_row(hours.total, TOTAL)

        # 2 November 2026 is a Monday: one ISO week; one month starting on the 1st
        weeks = await call_statistics(engine, PERIOD, Bucket.WEEK)
        assert [r.bucket for r in weeks.rows] == [datetime(2026, 11, 2)]
        assert_row(weeks.rows[0], TOTAL)
        months = await call_statistics(engine, PERIOD, Bucket.MONTH)
        assert [r.bucket for r in months.rows] == [datetime(2026, 11, 1)]
        assert_row(months.rows[0], TOTAL)
    finally:
        await engine.dispose()


async def test_queue_threshold_short_abandon_and_inclusive_service_level(db_url: str) -> None:
    await load(db_url)
    engine = make_engine(db_url)
    try:
        vip = await call_statistics(engine, PERIOD, Bucket.DAY, queue="vip")
        # only c14 (3 Nov): answered at once, talk 420, wrap-up 45, handling 465
        assert_row(vip.rows[0], dict(received=0, answered=0))
        assert_row(
            vip.rows[1],
            dict(received=1, answered=1, avg_talk=420.0, avg_handle=465.0, service_level=100.0),
        )

        inclusive = StatsOptions(sl_formula=ServiceLevelFormula.INCLUSIVE)
        report = await call_statistics(engine, PERIOD, Bucket.DAY, inclusive)
        # 4 / (5 + 5 - 2) = 50; 2 / (2 + 1 - 1) = 100; 6 / (7 + 6 - 3) = 60
        assert [r.service_level for r in report.rows] == [50.0, 100.0]
        assert report.total.service_level == 60.0

        # threshold 100 s: answered after = c02 (400) c08 (300) c10 (150) = 3, SL 2 / 5 = 40;
        # lost after = c03 (350) c11 (390) = 2 (c06 waited 40)
        strict = await call_statistics(engine, PERIOD, Bucket.DAY, StatsOptions(100.0))
        assert_row(strict.rows[0], dict(answered_after=3, lost_after=2, service_level=40.0))

        # short abandon under 50 s: c04 (outcome), c07 (2 s), c06 (40 s) = 3; lost after the
        # 300 s threshold is still c03 and c11
        lenient = await call_statistics(engine, PERIOD, Bucket.DAY, StatsOptions(300.0, 50.0))
        assert_row(lenient.rows[0], dict(lost=5, lost_short=3, lost_after=2))
    finally:
        await engine.dispose()


ALMATY = ZoneInfo("Asia/Almaty")


async def test_kazakhstan_moved_to_utc_plus_5_on_1_march_2024(db_url: str) -> None:
    """At 2024-03-01 00:00 (+06) Almaty's clocks went back to 2024-02-29 23:00 (+05)."""
    engine = make_engine(db_url)
    try:
        await create_schema(engine)
        arrivals = {
            "k1": datetime(2024, 2, 29, 17, 30, tzinfo=UTC),  # 23:30 on 29 Feb (+06)
            "k2": datetime(2024, 2, 29, 18, 30, tzinfo=UTC),  # 23:30 on 29 Feb again (+05)
            "k3": datetime(2024, 2, 29, 19, 0, tzinfo=UTC),  # 00:00 on 1 March (+05)
            "k4": datetime(2024, 3, 1, 18, 59, 59, tzinfo=UTC),  # 23:59:59 on 1 March
            "k5": datetime(2024, 3, 1, 19, 0, tzinfo=UTC),  # 00:00 on 2 March: outside
        }
        async with make_sessions(engine)() as session, session.begin():
            for call_id, arrived in arrivals.items():
                session.add(
                    Call(id=call_id, arrived_at=arrived, outcome="answered", answered_at=arrived)
                )
        period = parse_period("2024-02-29", "2024-03-01", ALMATY)
        assert period.start == datetime(2024, 2, 28, 18, 0, tzinfo=UTC)  # midnight at +06
        assert period.end == datetime(2024, 3, 1, 19, 0, tzinfo=UTC)  # midnight at +05
        days = await call_statistics(engine, period, Bucket.DAY)
        # under the old rule (+06 all year) k2 would have been 00:30 on 1 March
        assert [(r.bucket, r.received) for r in days.rows] == [
            (datetime(2024, 2, 29), 2),
            (datetime(2024, 3, 1), 2),
        ]
        hours = await call_statistics(engine, period, Bucket.HOUR)
        by_hour = {r.bucket: r.received for r in hours.rows}
        assert by_hour[datetime(2024, 2, 29, 23)] == 2  # the hour that happened twice
        assert by_hour[datetime(2024, 3, 1, 0)] == 1
        assert by_hour[datetime(2024, 3, 1, 23)] == 1
        assert sum(by_hour.values()) == 4
    finally:
        await engine.dispose()


async def test_topics_detail_agents_and_queue_log(db_url: str) -> None:
    await load(db_url)
    engine = make_engine(db_url)
    try:
        # Annex 1. Способы оплаты: c01 c08 c10 c14; one call each for the others (ties by
        # name); no topic: c03 c04 c06 c07 c09 c11 c13 c15 = 8; total 15
        topics = await topic_counts(engine, PERIOD)
        assert [(r.topic, r.calls) for r in topics.rows] == [
            (TOPIC_PAY, 4),
            (TOPIC_BLOCK, 1),
            (TOPIC_REGISTER, 1),
            (TOPIC_ACCOUNT, 1),
            ("(тема не указана)", 8),
        ]
        assert topics.total == 15

        detail = await call_detail(engine, PERIOD)
        assert [r.call_id for r in detail.rows] == [f"c{n:02d}" for n in range(1, 16)]
        c11, c12 = detail.rows[10], detail.rows[11]
        assert (c11.day, c11.at, c11.wait_seconds) == (date(2026, 11, 2), time(23, 59, 59), 390)
        assert (c12.day, c12.at, c12.talk_seconds, c12.topic, c12.agent_id) == (
            date(2026, 11, 3),
            time(0, 0),
            50,
            TOPIC_REGISTER,
            "a2",
        )
        assert c11.outcome_label == "потерян"
        mine = await call_detail(engine, PERIOD, agent="a1")
        assert [r.call_id for r in mine.rows] == ["c01", "c05", "c10", "c14"]
        found = await call_detail(engine, PERIOD, caller="45011")
        assert [(r.call_id, r.caller_number) for r in found.rows] == [("c11", "+749512345011")]

        agents = await agent_activity(engine, PERIOD, now=NOW)
        rows = {r.agent_id: r for r in agents.rows}
        assert list(rows) == ["a1", "a2", "a3"]
        # a1: 08:55-18:05 (33,000 s) + 23:50-13:00 (47,400 s) = 80,400 s
        # a2: logged in since 1 Nov 22:00, counted from 2 Nov 00:00 to 11:00 (39,600 s) +
        #     still logged in since 3 Nov 23:00, counted to the end of the period (3,600 s)
        # a3: 3,600 s, no calls
        assert {a: r.shift_seconds for a, r in rows.items()} == {
            "a1": 80400.0,
            "a2": 43200.0,
            "a3": 3600.0,
        }
        # a1 took c01 c05 c10 c14: talk 180 + 60 + 120 + 420, wrap-up 30 + 0 + 10 + 45;
        # a2 took c02 c08 c12: talk 300 + 240 + 50, wrap-up 60 + 20
        assert (rows["a1"].calls, rows["a1"].talk_seconds, rows["a1"].wrap_up_seconds) == (
            4,
            780.0,
            85.0,
        )
        assert (rows["a2"].calls, rows["a2"].talk_seconds, rows["a2"].wrap_up_seconds) == (
            3,
            590.0,
            80.0,
        )
        # breaks: a1 lunch 45 + 15 min and 10 min with no reason; a2 training 20 min
        assert rows["a1"].breaks == {"обед": 3600.0, "без причины": 600.0}
        assert rows["a2"].breaks == {"тренинг": 1200.0}
        assert agents.reasons == ["без причины", "обед", "тренинг"]
        assert (rows["a1"].name, rows["a3"].name) == ("Иванова Анна", "")
        assert agents.total.shift_seconds == 127200.0 and agents.total.break_seconds == 5400.0
        # talk 780, 590, 0: mean 1370 / 3; population sd / mean
        e = agents.evenness
        assert e is not None
        assert (e.min_agent, e.min_seconds, e.max_agent, e.max_seconds) == ("a3", 0, "a1", 780)
        mean = 1370 / 3
        sd = (((780 - mean) ** 2 + (590 - mean) ** 2 + (0 - mean) ** 2) / 3) ** 0.5
        assert e.cv == pytest.approx(sd / mean)  # 0.727...

        lines = await export_queue_log(engine, PERIOD)
        # c01 joins at 09:00:15 Moscow = 2026-11-02T06:00:15Z = epoch 1793599215; a2 rings
        # from +2 s to +10 s (8000 ms, no answer); a1 rings from +12 s and answers at +20 s
        # (hold 20 s, ring 8 s); the caller talks 180 s; nobody waited before: position 1
        c01 = [line for line in lines if line.split("|")[1] == "c01"]
        assert c01 == [
            "1793599215|c01|general|NONE|ENTERQUEUE||+749512345001|1",
            "1793599225|c01|general|a2|RINGNOANSWER|8000",
            "1793599235|c01|general|a1|CONNECT|20|c01|8",
            "1793599415|c01|general|a1|COMPLETECALLER|20|180|1",
        ]
        # c11 joins at 00:00:14.5 while c10 waits (position 2); when it hangs up 390 s later
        # c10 has been answered (position 1)
        assert "1793653214|c11|general|NONE|ENTERQUEUE||+749512345011|2" in lines
        assert "1793653604|c11|general|NONE|ABANDON|1|2|390" in lines
        assert "1793601685|c05|general|a1|BLINDTRANSFER|||10|60|1" in lines
        assert "1793605035|c09|general|NONE|EXITWITHTIMEOUT|1|1|120" in lines
        # a2's training ends when a2 logs off at 11:00 (13 h after the login on 1 Nov)
        at_11 = lines.index("1793606400|NONE|NONE|a2|UNPAUSE|тренинг")
        assert lines[at_11 + 1] == "1793606400|NONE|NONE|a2|AGENTLOGOFF|Agent/a2|46800"
        events: dict[str, int] = {}
        for line in lines:
            events[line.split("|")[4]] = events.get(line.split("|")[4], 0) + 1
        assert events == {
            "ENTERQUEUE": 15,
            "RINGNOANSWER": 1,
            "CONNECT": 7,
            "COMPLETECALLER": 6,
            "BLINDTRANSFER": 1,
            "ABANDON": 6,
            "EXITWITHTIMEOUT": 2,
            "AGENTLOGIN": 4,  # a1 twice, a3, a2's open shift (its 1 Nov login is outside)
            "AGENTLOGOFF": 4,
            "PAUSE": 4,
            "UNPAUSE": 4,
        }
        epochs = [int(line.split("|")[0]) for line in lines]
        assert epochs == sorted(epochs)
        assert not any("c16" in line or "c17" in line for line in lines)
    finally:
        await engine.dispose()
