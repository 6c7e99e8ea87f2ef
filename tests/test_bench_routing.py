"""``acd bench routing``: the benchmark's result at a tiny size and the CLI's output contract.

No timing assertions: a benchmark is not a timed test.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pytest
from acd_cli import run_acd

from acd.bench import routing
from acd.commands import bench

TINY = {"agents": 200, "skills": 10, "calls": 2000, "seed": 3}
TINY_ARGS = ("--agents", "200", "--skills", "10", "--calls", "2000", "--seed", "3")


@pytest.fixture(scope="module")
def tiny() -> dict[str, Any]:
    return routing.run(**TINY)


def test_result_has_every_key(tiny: dict[str, Any]) -> None:
    for key in (
        "decisions",
        "decisions_per_s",
        "p50_us",
        "p99_us",
        "max_us",
        "peak_rss_mb",
        "agents",
        "skills",
        "calls",
        "decisions_call_side",
        "decisions_agent_side",
        "by_waiting",
    ):
        assert key in tiny, key
    assert (tiny["agents"], tiny["skills"], tiny["calls"]) == (200, 10, 2000)
    assert tiny["explain"] is True
    assert (tiny["explain_candidates"], tiny["explain_sample"]) == (10, 5)
    json.dumps(tiny, allow_nan=False)


def test_both_decision_paths_are_exercised(tiny: dict[str, Any]) -> None:
    assert tiny["decisions"] > 0
    assert tiny["decisions"] == tiny["decisions_call_side"] + tiny["decisions_agent_side"]
    assert tiny["decisions_call_side"] > 0
    assert tiny["decisions_agent_side"] > 0
    # ... and both found matches: a call took a free agent, a freed agent took a waiting call.
    assert tiny["offers_call_waiting"] > 0
    assert tiny["offers_agent_free"] > 0


def test_a_queue_builds_up_and_every_call_is_accounted_for(tiny: dict[str, Any]) -> None:
    assert tiny["peak_waiting"] >= 100
    assert tiny["abandoned"] > 0
    assert tiny["answered"] + tiny["abandoned"] == tiny["calls"]


def test_percentiles_are_ordered(tiny: dict[str, Any]) -> None:
    assert 0 < tiny["p50_us"] <= tiny["p99_us"] <= tiny["max_us"]
    assert 0 < tiny["cpu_p50_us"] <= tiny["cpu_p99_us"]
    assert tiny["runqueue_wait_s"] is None or tiny["runqueue_wait_s"] >= 0
    buckets = tiny["by_waiting"]
    assert [b["waiting"] for b in buckets] == ["<100", "100-1k", "1k-10k", ">=10k"]
    assert sum(b["decisions"] for b in buckets) == tiny["decisions"]
    for b in buckets:
        assert b["p50_us"] <= b["p99_us"] <= b["max_us"]


def test_same_seed_same_simulation() -> None:
    small = {"agents": 40, "skills": 4, "calls": 300, "seed": 7}
    first, second = routing.run(**small), routing.run(**small)
    for key in ("decisions", "decisions_agent_side", "peak_waiting", "answered", "abandoned"):
        assert first[key] == second[key], key


@pytest.mark.parametrize(
    "kwargs", [{"agents": 0}, {"calls": -1}, {"skills": 0}, {"waiting_target": -5}]
)
def test_bad_sizes_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        routing.run(**kwargs)


def test_cli_json_is_the_last_line() -> None:
    proc = run_acd("bench", "routing", *TINY_ARGS, "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) > 1  # the human summary comes first
    result = json.loads(lines[-1])
    assert proc.stdout.endswith(lines[-1] + "\n")
    assert result["decisions"] > 0
    assert (result["agents"], result["skills"], result["calls"]) == (200, 10, 2000)
    assert "Traceback" not in proc.stderr


def test_cli_without_json_prints_only_the_summary() -> None:
    proc = run_acd("bench", "routing", "--agents", "30", "--skills", "3", "--calls", "200")
    assert proc.returncode == 0, proc.stderr
    assert "p99" in proc.stdout
    for line in proc.stdout.splitlines():
        assert not line.startswith("{")


@pytest.mark.parametrize(
    "argv",
    [
        ("bench", "routing", "--agents", "0"),
        ("bench", "routing", "--calls", "many"),
        ("bench", "routing", "--bogus"),
        ("bench", "ewt", "--load", "-1"),
        ("bench", "nonesuch"),
        ("bench",),
    ],
)
def test_cli_bad_arguments_one_line_exit_2(argv: tuple[str, ...]) -> None:
    proc = run_acd(*argv)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "error" in proc.stderr
    assert "Traceback" not in proc.stderr


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="acd")
    bench.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_ewt_is_called_with_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``ewt`` module is imported only when that benchmark runs, and gets all four."""
    calls: list[dict[str, Any]] = []

    class FakeEwt:
        @staticmethod
        def run(**kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"bench": "ewt", "rrase": {"acd": 0.5}}

    monkeypatch.setitem(sys.modules, "acd.bench.ewt", FakeEwt)
    args = _parse(["bench", "ewt", "--load", "1.3", "--agents", "50", "--json"])
    assert args.func(args) == 0
    assert calls == [{"load": 1.3, "agents": 50, "arrivals": 100_000, "seed": 1}]


def test_missing_benchmark_module_is_an_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "acd.bench.ewt", None)  # import raises ImportError
    args = _parse(["bench", "ewt"])
    assert args.func(args) == 1
    assert "not available" in capsys.readouterr().err


def test_every_benchmark_row_has_a_sub_command() -> None:
    names = [b.name for b in bench.BENCHMARKS]
    assert len(set(names)) == len(names)
    for name in names:
        assert _parse(["bench", name]).bench.name == name
