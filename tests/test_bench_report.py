"""``acd bench report`` at a tiny size: its result, and a clear error without PostgreSQL."""

from __future__ import annotations

import os

import pytest

from acd.bench import report
from acd.cli import main


def test_a_small_run_on_the_local_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        result = report.run(calls=2000, seed=3)
    except SystemExit as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(exc))
    assert result["calls"] == 2000 and result["days"] == 30
    assert 0 < result["seconds"] <= result["cold_seconds"] + 1
    assert len(result["runs_seconds"]) == 3 and result["seconds"] == min(result["runs_seconds"])
    assert result["target_met"] is True and 90 < result["service_level"] <= 100


def test_unreachable_postgresql_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_BENCH_PG_DSN", "postgresql://acd_test:secret@127.0.0.1:1/postgres")
    with pytest.raises(SystemExit) as exc:
        main(["bench", "report", "--calls", "10"])
    message = str(exc.value.code)
    assert message.startswith("acd bench report: error: PostgreSQL is not reachable at ")
    assert "secret" not in message and "ACD_BENCH_PG_DSN" in message


def test_synthetic_calls_are_reproducible_and_inside_november() -> None:
    first = list(report.synthetic_calls(500, seed=7))
    assert first == list(report.synthetic_calls(500, seed=7))
    arrived = [row[report.COLUMNS.index("arrived_at")] for row in first]
    assert min(arrived).isoformat() >= "2026-10-31T21:00:00+00:00"
    assert max(arrived).isoformat() < "2026-11-30T21:00:00+00:00"
