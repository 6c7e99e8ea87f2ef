"""The wait-estimate accuracy benchmark, on a small run."""

from __future__ import annotations

import math

import pytest

from acd.bench import ewt


@pytest.fixture(scope="module")
def result() -> dict:
    return ewt.run(load=1.1, agents=20, arrivals=5_000, seed=3)


def test_keys_and_shape(result: dict) -> None:
    for key in (
        "rrase",
        "range_coverage",
        "load",
        "agents",
        "arrivals",
        "served_after_wait",
        "abandon_rate",
        "ratio_to_oracle",
        "ratio_to_app_queue",
    ):
        assert key in result
    assert set(result["rrase"]) == {"acd", "oracle", "hol", "app_queue"}
    assert result["load"] == 1.1 and result["agents"] == 20
    assert result["arrivals"] == 5_000
    assert result["served_after_wait"] > 500


def test_acd_beats_app_queue_and_stays_near_the_oracle(result: dict) -> None:
    rrase = result["rrase"]
    assert all(math.isfinite(v) and v > 0 for v in rrase.values())
    assert rrase["acd"] < rrase["app_queue"]
    assert rrase["acd"] < rrase["hol"]
    assert result["ratio_to_oracle"] < 1.2
    assert 0.0 <= result["range_coverage"] <= 1.0
    assert 0.0 < result["abandon_rate"] < 1.0


def test_deterministic_for_a_seed() -> None:
    a = ewt.run(load=0.9, agents=10, arrivals=1_000, seed=5)
    b = ewt.run(load=0.9, agents=10, arrivals=1_000, seed=5)
    assert a == b
