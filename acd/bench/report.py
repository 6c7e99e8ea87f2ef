"""A month of daily call statistics over N calls on PostgreSQL (target: under 1 s for 1M).

The benchmark creates a fresh database on the local PostgreSQL (through the ``acd_test``
role, as the tests do; ``ACD_BENCH_PG_DSN`` names another server), creates the schema from
the models, bulk-loads ``calls`` synthetic calls spread over November 2026 (Moscow time,
mostly 09:00-19:00; 80 % answered, 3 % answered then transferred, 8 % abandoned, 3 % short
abandons, the rest voicemail, callback or overflow), in arrival order, with ``COPY`` (asyncpg
``copy_records_to_table``; the secondary indexes are dropped first and rebuilt after, as
``pg_restore`` does), runs ``ANALYZE`` and then times
:func:`acd.storage.reports.call_statistics` for the month by day, exactly as
``acd report calls --by day`` runs it: the first run on a new connection (``cold_seconds``)
and the best of three more (``seconds``). The database is dropped at the end.

"Cold" is a new engine and connection (no prepared statement, no plan cached), not a cold
disk: the rows are in PostgreSQL's and the OS's caches right after the load.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from acd.config import mask_database_url

DEFAULT_ADMIN_DSN = "postgresql://acd_test:acd_test@127.0.0.1:5432/postgres"
TARGET_SECONDS = 1.0
ZONE = "Europe/Moscow"
FIRST_DAY = "2026-11-01"
LAST_DAY = "2026-11-30"
RUNS = 3

COLUMNS = (
    "id",
    "caller_number",
    "topic",
    "priority",
    "queue_id",
    "agent_id",
    "arrived_at",
    "ivr_ended_at",
    "queued_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "wrap_up_seconds",
    "handle_seconds",
    "outcome",
    "end_known",
)
TOPICS = (
    "Как зарегистрироваться на сайте?",
    "Способы оплаты",
    "Как узнать наличие технической возможности по проводному типу подключения?",
    "Узнать ЛС",
    "Как заблокировать ККМ",
    "Акт сверки",
    "Статус кассового аппарата",
    "Нет передачи данных",
    None,
)
QUEUES = ("general", "general", "general", "vip", "kk")
# Share of a day's calls in each local hour (0..23): the working day carries almost all.
HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 0, 1, 3, 9, 12, 12, 11, 9, 10, 11, 10, 8, 6, 3, 1, 1, 0, 0)


def admin_dsn() -> str:
    return os.environ.get("ACD_BENCH_PG_DSN") or os.environ.get(
        "ACD_TEST_PG_DSN", DEFAULT_ADMIN_DSN
    )


def synthetic_calls(count: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """``count`` call records (in :data:`COLUMNS` order) spread over the month."""
    rng = random.Random(seed)
    tz = ZoneInfo(ZONE)
    month_start = datetime.fromisoformat(FIRST_DAY).replace(tzinfo=tz).astimezone(UTC)
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
    # seconds into the month, in arrival order (rows are written as calls happen)
    offsets = sorted((rng.randrange(30) * 24 + h + rng.random()) * 3600 for h in hours)
    agents = [f"a{n:03d}" for n in range(100)]
    second = timedelta(seconds=1)
    for i, offset in enumerate(offsets):
        arrived = month_start + offset * second
        queued = arrived + rng.uniform(5, 40) * second
        r = rng.random()
        answered_at = ended = None
        talk = wrap = handle = None
        agent = None
        if r < 0.83:
            outcome = "answered" if r < 0.80 else "transferred"
            wait = rng.expovariate(1 / 60)
            answered_at = queued + wait * second
            talk = 20 + rng.expovariate(1 / 240)
            wrap = rng.uniform(0, 60)
            handle = talk + wrap
            ended = answered_at + talk * second
            agent = agents[rng.randrange(100)]
        elif r < 0.91:
            outcome, wait = "abandoned", 5 + rng.expovariate(1 / 120)
        elif r < 0.94:
            outcome, wait = "short_abandon", rng.uniform(0, 5)
        else:
            outcome = ("voicemail", "callback", "overflow")[rng.randrange(3)]
            wait = rng.uniform(30, 600)
        if ended is None:
            ended = queued + wait * second
        yield (
            f"bench.{i}",
            f"+77{rng.randrange(10**9):09d}",
            TOPICS[rng.randrange(len(TOPICS))],
            0,
            QUEUES[rng.randrange(len(QUEUES))],
            agent,
            arrived,
            queued,
            queued,
            answered_at,
            ended,
            wait,
            talk,
            wrap,
            handle,
            outcome,
            True,
        )


async def _measure(url: str, calls: int, seed: int) -> dict[str, Any]:
    import asyncpg

    from acd.storage.db import create_schema, make_engine
    from acd.storage.reports import Bucket, call_statistics, parse_period, time_zone

    engine = make_engine(url)
    try:
        await create_schema(engine)
    finally:
        await engine.dispose()

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # Bulk-load as pg_restore does: secondary indexes off, COPY, indexes rebuilt by sorting.
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'calls' AND indexname <> 'pk_calls'"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "calls", records=synthetic_calls(calls, seed), columns=list(COLUMNS)
        )
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for index in indexes:
            await conn.execute(index["indexdef"])
        await conn.execute("ANALYZE calls")
        index_seconds = time.perf_counter() - started
        server_version = await conn.fetchval("SHOW server_version")
        table_mb = await conn.fetchval("SELECT pg_total_relation_size('calls') / 1048576.0")
    finally:
        await conn.close()

    period = parse_period(FIRST_DAY, LAST_DAY, time_zone(ZONE))
    timings = []
    report = None
    for _ in range(RUNS + 1):
        engine = make_engine(url)  # a new connection each run: the first one is "cold"
        try:
            async with engine.connect() as warm:  # connecting is not part of the report
                await warm.exec_driver_sql("SELECT 1")
            started = time.perf_counter()
            report = await call_statistics(engine, period, Bucket.DAY)
            timings.append(time.perf_counter() - started)
        finally:
            await engine.dispose()
    assert report is not None
    if report.total.received != calls or len(report.rows) != 30:
        raise RuntimeError(
            f"the report counted {report.total.received} calls in {len(report.rows)} days; "
            f"loaded {calls} in 30"
        )
    best = min(timings[1:])
    return {
        "calls": calls,
        "seed": seed,
        "days": len(report.rows),
        "seconds": round(best, 4),
        "cold_seconds": round(timings[0], 4),
        "runs_seconds": [round(t, 4) for t in timings[1:]],
        "calls_per_s": round(calls / best),
        "load_seconds": round(load_seconds, 2),
        "load_calls_per_s": round(calls / load_seconds),
        "index_and_analyze_seconds": round(index_seconds, 2),
        "table_mb": round(float(table_mb), 1),
        "service_level": round(report.total.service_level or 0.0, 2),
        "postgresql": server_version,
        "target_seconds": TARGET_SECONDS,
        "target_met": best < TARGET_SECONDS,
    }


async def _run(calls: int, seed: int) -> dict[str, Any] | str:
    import asyncpg

    dsn = admin_dsn()
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return (
            f"PostgreSQL is not reachable at {mask_database_url(dsn)} ({exc}); start it "
            "(.ci/run does) or set ACD_BENCH_PG_DSN to an admin DSN with CREATEDB"
        )
    name = f"acd_bench_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return await _measure(f"{base}/{name}", calls, seed)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def run(calls: int = 1_000_000, seed: int = 1) -> dict[str, Any]:
    """Load ``calls`` calls into a fresh PostgreSQL database and time the monthly report."""
    if calls < 1:
        raise ValueError(f"--calls must be 1 or more, got {calls}")
    result = asyncio.run(_run(calls, seed))
    if isinstance(result, str):
        raise SystemExit(f"acd bench report: error: {result}")
    return result
