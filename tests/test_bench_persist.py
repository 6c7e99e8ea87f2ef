"""``acd bench persist``: the result's shape at a tiny size, and its errors. No timing asserts:
a benchmark is not a timed test."""

from __future__ import annotations

import os

import pytest

from acd.bench import persist
from acd.commands import bench


@pytest.fixture(scope="module")
def pg_reachable() -> None:
    import asyncio

    import asyncpg

    async def probe() -> None:
        connection = await asyncpg.connect(persist.admin_dsn(), timeout=5)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


def test_tiny_run_reports_rate_and_latencies(pg_reachable: None) -> None:
    result = persist.run(calls=200, rate=1000.0)
    assert result["calls"] == 200 and result["records_per_s"] > 0
    assert result["spooled"] == 0 and result["events_per_call"] >= 10.0  # + agents log in
    for run in ("routing_without_writer", "routing_with_writer", "routing_with_writer_in_process"):
        assert result[run]["offers"] == 200
        assert 0 <= result[run]["p50_ms"] <= result[run]["p99_ms"] <= result[run]["max_ms"]
    assert set(result["daemon_cpu_us_per_call"]) == {
        "without_writer",
        "with_writer",
        "with_writer_in_process",
    }
    assert "********" in result["database"]  # the password is not printed
    assert result["cpu_placement"]["mode"] in ("split", "shared")
    assert isinstance(result["routing_p99_added_ms"], float)


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        persist.run(url="postgresql+asyncpg://acd:secret@127.0.0.1:1/acd", calls=10)
    message = str(exit_info.value.code)
    assert message.startswith("acd bench persist: error: the database")
    assert "not reachable" in message and "secret" not in message


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="--rate"):
        persist.run(rate=0.0)
    with pytest.raises(ValueError, match="--url"):
        persist.run(url="mysql://x/y")


def test_the_row_is_registered() -> None:
    row = next(b for b in bench.BENCHMARKS if b.name == "persist")
    assert row.module == "acd.bench.persist"
    assert [o.keyword for o in row.options] == ["url", "calls", "rate", "cpus"]
