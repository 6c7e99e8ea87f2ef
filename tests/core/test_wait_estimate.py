"""Position and estimated wait: the formula, the range, the rates and competing calls."""

from __future__ import annotations

import math
import random

import pytest
from desk import Desk

from acd.core.errors import IllegalTransition, InvalidValue
from acd.core.events import AgentBreak, CallEnded, OfferAnswered, WrapUpDone
from acd.core.ewt import RateTracker, estimate_wait, gamma_interval


def test_formula_matches_the_sum_of_stage_means() -> None:
    s, mu, theta = 5, 1 / 240, 1 / 180
    est = estimate_wait(3, s, mu, theta)
    # Given that the caller is answered, stage i ends at rate s*mu + (i+1)*theta.
    expected = sum(1 / (s * mu + (i + 1) * theta) for i in range(4))
    assert est.mean_seconds == pytest.approx(expected)
    assert est.position == 4 and est.eligible_agents == 5
    assert est.low_seconds < est.mean_seconds < est.high_seconds
    stays = estimate_wait(3, s, mu, theta, given_served=False)
    assert stays.mean_seconds == pytest.approx(sum(1 / (s * mu + i * theta) for i in range(4)))


@pytest.mark.parametrize("ahead", [0, 1, 7, 40])
def test_answered_wait_is_shorter_by_the_telescoped_difference(ahead: int) -> None:
    s, mu, theta = 3, 1 / 300, 1 / 120
    served = estimate_wait(ahead, s, mu, theta).mean_seconds
    stays = estimate_wait(ahead, s, mu, theta, given_served=False).mean_seconds
    assert stays - served == pytest.approx(1 / (s * mu) - 1 / (s * mu + (ahead + 1) * theta))
    assert stays - served < 1 / (s * mu)


def test_without_abandonment_it_is_n_plus_one_over_s_mu() -> None:
    est = estimate_wait(9, 2, 1 / 300, 0.0)
    assert est.mean_seconds == pytest.approx(10 * 150)


def test_no_eligible_agent_means_unknown_wait() -> None:
    est = estimate_wait(2, 0, 1 / 300, 1 / 180)
    assert not est.known and est.position == 3
    assert not est.range_is_useful()


def test_range_covers_about_its_nominal_share_of_simulated_waits() -> None:
    rng = random.Random(7)
    s, mu, theta, ahead = 4, 1 / 200, 1 / 150, 6
    est = estimate_wait(ahead, s, mu, theta, coverage=0.8, given_served=False)
    inside = 0
    trials = 20_000
    for _ in range(trials):
        wait = sum(rng.expovariate(s * mu + i * theta) for i in range(ahead + 1))
        inside += est.low_seconds <= wait <= est.high_seconds
    assert 0.77 < inside / trials < 0.83


def _served_waits(
    rng: random.Random, ahead: int, s: int, mu: float, theta: float, callers: int
) -> list[float]:
    """Waits of the callers who got an agent, in M/M/s+M with ``ahead`` callers ahead.

    Every caller ahead has its own exponential patience; a caller ahead who hangs up moves
    everybody behind forward. The caller's own patience decides whether it is answered."""
    waits = []
    for _ in range(callers):
        now, left = 0.0, ahead
        own_patience = rng.expovariate(theta)
        while True:
            now += rng.expovariate(s * mu + left * theta)
            if now > own_patience:
                break  # hung up: not answered, not scored
            if left == 0:
                waits.append(now)
                break
            left -= 1  # an agent took the head of the line or a caller ahead hung up
    return waits


@pytest.mark.parametrize(("ahead", "s"), [(0, 1), (3, 2), (12, 5)])
def test_mean_and_range_fit_the_waits_of_answered_callers(ahead: int, s: int) -> None:
    rng = random.Random(11 + ahead)
    mu, theta = 1 / 300, 1 / 180
    waits = _served_waits(rng, ahead, s, mu, theta, 40_000)
    observed = sum(waits) / len(waits)
    est = estimate_wait(ahead, s, mu, theta)
    assert est.mean_seconds == pytest.approx(observed, rel=0.03)
    # The never-hang-up wait overstates what answered callers see (by 1/(s*mu) at most).
    stays = estimate_wait(ahead, s, mu, theta, given_served=False)
    assert stays.mean_seconds > observed * 1.1
    below = sum(w < est.low_seconds for w in waits) / len(waits)
    above = sum(w > est.high_seconds for w in waits) / len(waits)
    assert 0.08 < below < 0.12 and 0.08 < above < 0.12


def test_gamma_interval_of_an_exponential_is_close_to_exact() -> None:
    low, high = gamma_interval(100.0, 100.0**2, 0.8)
    assert low == pytest.approx(-100 * math.log(0.9), rel=0.15)
    assert high == pytest.approx(-100 * math.log(0.1), rel=0.05)


def test_range_usefulness() -> None:
    narrow = estimate_wait(30, 10, 1 / 240, 1 / 180)
    wide = estimate_wait(0, 1, 1 / 600, 0.0)
    assert narrow.range_is_useful()
    assert not wide.range_is_useful()


@pytest.mark.parametrize(("ahead", "s", "mu"), [(-1, 1, 0.1), (1, 1, 0.0), (1, 1, math.inf)])
def test_bad_estimate_input(ahead: int, s: int, mu: float) -> None:
    with pytest.raises(InvalidValue):
        estimate_wait(ahead, s, mu, 0.01)


def test_rate_tracker_starts_at_priors_and_follows_observations() -> None:
    rates = RateTracker(prior_handle_seconds=300, prior_patience_seconds=180, window=100)
    assert rates.mu == pytest.approx(1 / 300)
    assert rates.theta == pytest.approx(1 / 180)
    for _ in range(1000):
        rates.record_handle(120.0)
        rates.record_exit(60.0, abandoned=False)
    assert rates.mu == pytest.approx(105 / (100 * 120 + 5 * 300))
    assert rates.theta < 1 / 180 / 5  # nobody abandons: the rate falls towards zero
    for _ in range(100):
        rates.record_exit(30.0, abandoned=True)
    # The window forgets old observations: 100 abandons in 3000 s of waiting.
    assert rates.theta == pytest.approx((100 + 5) / (3000 + 5 * 180))


def test_router_estimate_counts_only_calls_competing_for_the_same_agents() -> None:
    d = Desk()
    d.agent("seller", {"sales": 5})
    d.agent("fixer", {"support": 5}, languages=["ru", "kk"])
    d.call("s_talk")
    d.send(OfferAnswered, "s_talk", "seller")
    d.call("f_talk", "support")
    d.send(OfferAnswered, "f_talk", "fixer")
    d.call("s1")
    d.call("f1", "support")
    d.call("f2", "support", language="kk")
    d.call("s2")
    est = d.router.estimate_wait("s2")
    assert est.position == 2  # only s1 is ahead; f1, f2 wait for the other agent
    assert est.eligible_agents == 1
    assert d.router.estimate_wait("f2").position == 2  # f1 competes (same agent)
    all_est = d.router.wait_estimates()
    assert {k: v.position for k, v in all_est.items()} == {"s1": 1, "f1": 1, "f2": 2, "s2": 2}
    assert all_est["s2"].mean_seconds == pytest.approx(d.router.estimate_wait("s2").mean_seconds)


def test_agents_on_break_do_not_count_as_eligible() -> None:
    d = Desk()
    d.agent("a", {"sales": 5})
    d.agent("b", {"sales": 5})
    d.send(AgentBreak, "b", "lunch")
    d.call("c0")
    d.send(OfferAnswered, "c0", "a")
    d.call("c1")
    assert d.router.estimate_wait("c1").eligible_agents == 1


def test_router_learns_handle_time_from_finished_calls() -> None:
    d = Desk(wrap_up_seconds=30, prior_handle_seconds=300)
    d.agent("a", {"sales": 5})
    for i in range(200):
        d.call(f"c{i}")
        d.send(OfferAnswered, f"c{i}", "a")
        d.send(CallEnded, f"c{i}", dt=50)
        d.send(WrapUpDone, "a", dt=10)
    assert d.router.rates["main"].mu == pytest.approx(1 / 60, rel=0.1)


def test_estimate_of_a_call_that_is_not_waiting_is_refused() -> None:
    d = Desk()
    d.agent("a")
    d.call("c1")
    with pytest.raises(IllegalTransition):
        d.router.estimate_wait("c1")
