"""Erlang C / Erlang A staffing maths against textbook values, limits and a simulation."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from dataclasses import FrozenInstanceError

import pytest

from acd.core.erlang import (
    InvalidPlanInput,
    StaffingResult,
    agents_needed,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_probability_of_waiting,
    erlang_c_service_level,
    offered_load,
    staffing,
)


def direct_erlang_c(n: int, a: float) -> float:
    """Textbook Erlang C by factorials, independent of the module's recursion."""
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


def simulate_erlang_a(
    calls_per_hour: float,
    aht: float,
    agents: int,
    patience: float,
    target: float,
    arrivals: int,
    seed: int,
) -> dict[str, float]:
    """FCFS M/M/n+M by virtual waiting time.

    Callers are handled in arrival order and an abandoning caller never takes an agent, so
    an arrival's wait is fixed when it arrives: the earliest time an agent is free of all
    earlier callers who will be answered.
    """
    rng = random.Random(seed)
    lam = calls_per_hour / 3600.0
    free_at = [0.0] * agents
    now = 0.0
    warmup = arrivals // 20
    counted = waited = abandoned = answered_in_time = 0
    answered_wait = 0.0
    answered = 0
    for i in range(arrivals + warmup):
        now += rng.expovariate(lam)
        patience_draw = rng.expovariate(1.0 / patience)
        service = rng.expovariate(1.0 / aht)
        wait = max(0.0, free_at[0] - now)
        gave_up = wait > patience_draw
        if not gave_up:
            heapq.heapreplace(free_at, now + wait + service)
        if i < warmup:
            continue
        counted += 1
        waited += wait > 0.0
        if gave_up:
            abandoned += 1
        else:
            answered += 1
            answered_wait += wait
            answered_in_time += wait <= target
    return {
        "probability_of_waiting": waited / counted,
        "abandonment_probability": abandoned / counted,
        "service_level": answered_in_time / counted,
        "asa_seconds": answered_wait / answered,
    }


# ------------------------------------------------------------------------------ Erlang C


@pytest.mark.parametrize("n", [11, 12, 13, 15, 20])
def test_erlang_c_matches_direct_factorial_formula(n: int) -> None:
    assert erlang_c_probability_of_waiting(n, 10.0) == pytest.approx(
        direct_erlang_c(n, 10.0), rel=1e-12
    )


def test_erlang_c_published_values() -> None:
    assert erlang_c_probability_of_waiting(11, 10.0) == pytest.approx(0.6821, abs=1e-4)
    assert erlang_c_probability_of_waiting(12, 10.0) == pytest.approx(0.4494, abs=1e-4)
    assert erlang_c_probability_of_waiting(13, 10.0) == pytest.approx(0.2853, abs=1e-4)


def test_erlang_b_published_value() -> None:
    # B(10, 10) = 0.2146 (standard Erlang B table).
    assert erlang_b(10, 10.0) == pytest.approx(0.21458, abs=1e-5)


def test_erlang_c_service_level_and_asa_formulas() -> None:
    # A = 10 Erlangs (100 calls/h, AHT 360 s), n = 12, t = 20 s.
    c = direct_erlang_c(12, 10.0)
    sl = 1 - c * math.exp(-(12 - 10) * 20 / 360)
    asa = c * 360 / (12 - 10)
    assert erlang_c_service_level(12, 10.0, 360, 20) == pytest.approx(sl, rel=1e-12)
    assert erlang_c_asa(12, 10.0, 360) == pytest.approx(asa, rel=1e-12)
    result = erlang_c(100, 360, 12, 20)
    assert result.model == "erlang_c"
    assert result.offered_load_erlangs == pytest.approx(10.0)
    assert result.service_level == pytest.approx(sl, rel=1e-12)
    assert result.asa_seconds == pytest.approx(asa, rel=1e-12)
    assert result.mean_wait_seconds == result.asa_seconds
    assert result.occupancy == pytest.approx(10 / 12)
    assert result.abandonment_probability == 0.0


def test_erlang_c_hundreds_of_agents_is_stable() -> None:
    # 1000 Erlangs: factorials would overflow; the recursion must not.
    p = erlang_c_probability_of_waiting(1050, 1000.0)
    assert 0.0 < p < 1.0
    assert math.isfinite(erlang_c_asa(1050, 1000.0, 180))
    assert erlang_c_probability_of_waiting(900, 1.0) == 0.0  # underflows cleanly to 0
    assert erlang_c_service_level(900, 1.0, 180, 0) == 1.0


@pytest.mark.parametrize("n", [5, 10])
def test_erlang_c_unstable_queue_is_reported_not_raised(n: int) -> None:
    result = erlang_c(100, 360, n, 20)  # A = 10 >= n
    assert result.probability_of_waiting == 1.0
    assert result.service_level == 0.0
    assert result.asa_seconds == math.inf
    assert result.occupancy == 1.0
    assert not result.stable
    assert erlang_c_asa(n, 10.0, 360) == math.inf


def test_erlang_c_service_level_increases_with_agents() -> None:
    levels = [erlang_c(400, 300, n, 20).service_level for n in range(34, 60)]
    assert all(b > a for a, b in itertools.pairwise(levels) if b < 1.0)
    assert levels[0] < 0.2
    assert levels[-1] > 0.999


# ------------------------------------------------------------------------------ Erlang A


@pytest.mark.parametrize("n", [11, 12, 13])
def test_erlang_a_converges_to_erlang_c_for_infinite_patience(n: int) -> None:
    c = erlang_c(100, 360, n, 20)
    a = erlang_a(100, 360, n, 20, patience_seconds=1e8)
    assert a.model == "erlang_a"
    assert a.probability_of_waiting == pytest.approx(c.probability_of_waiting, rel=1e-4)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-4)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-3)
    assert a.abandonment_probability < 1e-4


def test_erlang_a_internal_consistency() -> None:
    result = erlang_a(400, 300, 34, 20, 180)
    # t = 0: only callers answered at once count.
    at_zero = erlang_a(400, 300, 34, 0, 180)
    assert at_zero.service_level == pytest.approx(1 - at_zero.probability_of_waiting, abs=1e-12)
    # t -> infinity: everybody who does not abandon is answered.
    forever = erlang_a(400, 300, 34, 5000, 180)
    assert forever.service_level == pytest.approx(1 - forever.abandonment_probability, abs=1e-9)
    assert at_zero.service_level < result.service_level < forever.service_level
    # Answered callers wait less on average than all arrivals (abandoners waited longest).
    assert result.asa_seconds < result.mean_wait_seconds
    assert result.occupancy == pytest.approx(
        result.offered_load_erlangs * (1 - result.abandonment_probability) / 34
    )


def test_erlang_a_is_stable_even_when_overloaded() -> None:
    result = erlang_a(400, 300, 20, 20, 180)  # A = 33.3 > 20 agents
    assert 0.0 < result.service_level < 20 / result.offered_load_erlangs
    # At most n·μ callers per second can be answered.
    assert 1 - result.abandonment_probability <= 20 / result.offered_load_erlangs + 1e-9
    assert math.isfinite(result.asa_seconds)


def test_erlang_a_handles_extreme_overload_without_overflow() -> None:
    result = erlang_a(40_000, 300, 100, 20, 3600)  # 3333 Erlangs on 100 agents
    assert result.probability_of_waiting == pytest.approx(1.0)
    assert result.abandonment_probability == pytest.approx(1 - 100 / 3333.33, rel=1e-6)
    assert result.service_level < 1e-6


@pytest.mark.parametrize(
    ("agents", "patience", "seed"),
    [(30, 180.0, 7), (36, 180.0, 11), (34, 60.0, 13)],
)
def test_erlang_a_matches_simulation(agents: int, patience: float, seed: int) -> None:
    # Tolerances are about 4 standard deviations of the simulated estimate (measured over
    # many seeds); getting the SL definition wrong (e.g. over answered calls only, or
    # ignoring the caller's own patience) moves it by 0.03-0.05.
    sim = simulate_erlang_a(400, 300, agents, patience, 20, 600_000, seed)
    model = erlang_a(400, 300, agents, 20, patience)
    assert model.abandonment_probability == pytest.approx(
        sim["abandonment_probability"], abs=0.0045
    )
    assert model.service_level == pytest.approx(sim["service_level"], abs=0.012)
    assert model.probability_of_waiting == pytest.approx(sim["probability_of_waiting"], abs=0.014)
    assert model.asa_seconds == pytest.approx(sim["asa_seconds"], rel=0.06)


def test_erlang_a_service_level_increases_with_agents() -> None:
    levels = [erlang_a(400, 300, n, 20, 180).service_level for n in range(20, 55)]
    assert all(b > a for a, b in itertools.pairwise(levels))


# ------------------------------------------------------------------------------ staffing


def test_agents_needed_erlang_c_textbook_case() -> None:
    result = agents_needed(400, 300, 0.8, 20)
    assert result.model == "erlang_c"
    assert result.agents == 39
    assert result.offered_load_erlangs == pytest.approx(100 / 3)
    assert result.service_level >= 0.8
    assert erlang_c(400, 300, 38, 20).service_level < 0.8


def test_agents_needed_erlang_a_needs_no_more_agents() -> None:
    started = time.perf_counter()
    result = agents_needed(400, 300, 0.8, 20, patience_seconds=180)
    elapsed = time.perf_counter() - started
    assert result.model == "erlang_a"
    assert result.agents == 36
    assert result.agents <= agents_needed(400, 300, 0.8, 20).agents
    assert result.service_level >= 0.8
    assert erlang_a(400, 300, 35, 20, 180).service_level < 0.8
    assert elapsed < 1.0


def test_agents_needed_is_the_smallest_meeting_target() -> None:
    for patience in (None, 30.0, 600.0):
        result = agents_needed(250, 240, 0.9, 15, patience_seconds=patience)
        below = staffing(250, 240, result.agents - 1, 15, patience)
        assert result.service_level >= 0.9 > below.service_level


def test_agents_needed_respects_max_occupancy() -> None:
    result = agents_needed(400, 300, 0.8, 20, max_occupancy=0.8)
    assert result.agents == 42  # ceil(33.3 / 0.8); SL alone needs 39
    assert result.occupancy <= 0.8


def test_agents_needed_large_centre_is_fast() -> None:
    started = time.perf_counter()
    result = agents_needed(5000, 300, 0.8, 20, patience_seconds=180)
    assert time.perf_counter() - started < 2.0
    assert result.service_level >= 0.8


def test_result_is_frozen() -> None:
    result = agents_needed(100, 180, 0.8, 20)
    assert isinstance(result, StaffingResult)
    with pytest.raises(FrozenInstanceError):
        result.agents = 3  # type: ignore[misc]


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"calls_per_hour": 0}, "calls_per_hour"),
        ({"calls_per_hour": -5}, "calls_per_hour"),
        ({"calls_per_hour": math.nan}, "calls_per_hour"),
        ({"aht_seconds": 0}, "aht_seconds"),
        ({"aht_seconds": math.inf}, "aht_seconds"),
        ({"target_fraction": 0}, "target_fraction"),
        ({"target_fraction": 1.2}, "target_fraction"),
        ({"target_seconds": -1}, "target_seconds"),
        ({"patience_seconds": 0}, "patience_seconds"),
        ({"max_occupancy": 0}, "max_occupancy"),
        ({"max_occupancy": 1.5}, "max_occupancy"),
        ({"calls_per_hour": "400"}, "calls_per_hour"),
    ],
)
def test_bad_input_names_the_parameter(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {
        "calls_per_hour": 400,
        "aht_seconds": 300,
        "target_fraction": 0.8,
        "target_seconds": 20,
    }
    args.update(kwargs)
    with pytest.raises(InvalidPlanInput, match=name):
        agents_needed(**args)  # type: ignore[arg-type]


def test_bad_agents_and_load() -> None:
    assert issubclass(InvalidPlanInput, ValueError)
    with pytest.raises(InvalidPlanInput, match="agents"):
        erlang_c(400, 300, 0, 20)
    with pytest.raises(InvalidPlanInput, match="agents"):
        erlang_a(400, 300, 2.5, 20, 180)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlanInput, match="load"):
        erlang_b(3, 0.0)
    with pytest.raises(InvalidPlanInput, match="aht_seconds"):
        offered_load(10, -1)


def test_full_service_target_is_reachable() -> None:
    result = agents_needed(400, 300, 1.0, 20)
    assert result.service_level > 1 - 1e-9
