"""Erlang C and Erlang A staffing maths.

Pure module: stdlib :mod:`math` only, no I/O. Rates are per second internally; the public
entry points take the units a planner thinks in (calls per hour, seconds).

* **Erlang C** (M/M/n): Poisson arrivals, exponential handling times, ``n`` agents, an
  infinite FIFO queue and callers who never hang up.
* **Erlang A** (M/M/n+M): the same, except each waiting caller abandons after an
  exponentially distributed patience with mean ``patience`` seconds (rate θ = 1/patience).

The service level is always *answered within t seconds, over all arrivals*: a caller who
hangs up before being answered counts against it, whenever they hang up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "InvalidPlanInput",
    "Model",
    "StaffingResult",
    "agents_needed",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_asa",
    "erlang_c_probability_of_waiting",
    "erlang_c_service_level",
    "offered_load",
    "staffing",
]

Model = Literal["erlang_c", "erlang_a"]

# A queue-length tail below this fraction of the total probability mass is dropped.
_QUEUE_TAIL_TOLERANCE = 1e-15
# Poisson weights beyond this total are dropped in the uniformization sums.
_POISSON_TAIL_TOLERANCE = 1e-16
# Guard against pathological inputs (e.g. near-infinite patience on an overloaded queue).
_MAX_QUEUE_STATES = 2_000_000
# A service level this close below the target counts as meeting it (floating-point noise).
_TARGET_SLACK = 1e-12


class InvalidPlanInput(ValueError):
    """A staffing parameter is out of range; the message names the parameter."""


@dataclass(frozen=True, slots=True)
class StaffingResult:
    """Predicted performance of one queue staffed with ``agents`` agents.

    ``service_level`` is the fraction of *all* arrivals answered within ``target_seconds``.
    ``asa_seconds`` is the mean wait of answered callers; ``mean_wait_seconds`` the mean
    time in queue over all arrivals (abandoned callers count with the time they waited).
    Under Erlang C both are the same. An unstable Erlang C queue (agents <= offered load)
    has ``probability_of_waiting`` 1, ``service_level`` 0 and infinite waits.
    """

    agents: int
    offered_load_erlangs: float
    probability_of_waiting: float
    service_level: float
    asa_seconds: float
    abandonment_probability: float
    occupancy: float
    model: Model
    target_seconds: float
    mean_wait_seconds: float

    @property
    def stable(self) -> bool:
        """False only for an Erlang C queue that grows without bound."""
        return math.isfinite(self.asa_seconds)


# --------------------------------------------------------------------------- validation


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPlanInput(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidPlanInput(f"{name} must be a finite number, got {value!r}")
    return number


def _positive(name: str, value: object) -> float:
    number = _number(name, value)
    if number <= 0:
        raise InvalidPlanInput(f"{name} must be greater than 0, got {value!r}")
    return number


def _non_negative(name: str, value: object) -> float:
    number = _number(name, value)
    if number < 0:
        raise InvalidPlanInput(f"{name} must be 0 or more, got {value!r}")
    return number


def _fraction(name: str, value: object) -> float:
    number = _number(name, value)
    if not 0 < number <= 1:
        raise InvalidPlanInput(f"{name} must be in (0, 1], got {value!r}")
    return number


def _agents(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidPlanInput(f"agents must be a whole number, got {value!r}")
    if value < 1:
        raise InvalidPlanInput(f"agents must be at least 1, got {value!r}")
    return value


# ------------------------------------------------------------------------------ helpers


def _logaddexp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow."""
    if a < b:
        a, b = b, a
    if b == -math.inf:
        return a
    return a + math.log1p(math.exp(b - a))


def _log_inverse_erlang_b(agents: int, load: float) -> float:
    """log(1 / B(agents, load)) by the Erlang B recursion 1/B(k) = 1 + (k/A) / B(k-1).

    Kept in log space because 1/B overflows when agents far exceed the load.
    """
    log_load = math.log(load)
    value = 0.0  # 1/B(0) = 1
    for k in range(1, agents + 1):
        value = _logaddexp(0.0, math.log(k) - log_load + value)
    return value


def offered_load(calls_per_hour: float, aht_seconds: float) -> float:
    """Offered load in Erlangs: arrival rate times mean handling time."""
    calls = _positive("calls_per_hour", calls_per_hour)
    aht = _positive("aht_seconds", aht_seconds)
    return calls * aht / 3600.0


# ----------------------------------------------------------------------------- Erlang C


def erlang_b(agents: int, load: float) -> float:
    """Erlang B blocking probability, by the recursion B(k) = A·B(k-1) / (k + A·B(k-1))."""
    n = _agents(agents)
    a = _positive("load", load)
    blocking = 1.0
    for k in range(1, n + 1):
        blocking = a * blocking / (k + a * blocking)
    return blocking


def _erlang_c_from_b(n: int, a: float, blocking: float) -> float:
    if n <= a:
        return 1.0
    return n * blocking / (n - a * (1.0 - blocking))


def erlang_c_probability_of_waiting(agents: int, load: float) -> float:
    """Erlang C: probability that an arrival has to queue (1.0 when agents <= load)."""
    n = _agents(agents)
    a = _positive("load", load)
    return _erlang_c_from_b(n, a, erlang_b(n, a))


def erlang_c_service_level(
    agents: int, load: float, aht_seconds: float, target_seconds: float
) -> float:
    """Erlang C: P(wait <= target) = 1 - C·exp(-(n - A)·t / AHT) (0 when unstable)."""
    n = _agents(agents)
    a = _positive("load", load)
    aht = _positive("aht_seconds", aht_seconds)
    t = _non_negative("target_seconds", target_seconds)
    if n <= a:
        return 0.0
    wait = _erlang_c_from_b(n, a, erlang_b(n, a))
    return 1.0 - wait * math.exp(-(n - a) * t / aht)


def erlang_c_asa(agents: int, load: float, aht_seconds: float) -> float:
    """Erlang C: mean wait over all arrivals, C·AHT / (n - A) (inf when unstable)."""
    n = _agents(agents)
    a = _positive("load", load)
    aht = _positive("aht_seconds", aht_seconds)
    if n <= a:
        return math.inf
    return _erlang_c_from_b(n, a, erlang_b(n, a)) * aht / (n - a)


def _erlang_c_result(n: int, a: float, aht: float, t: float, blocking: float) -> StaffingResult:
    if n <= a:
        return StaffingResult(
            agents=n,
            offered_load_erlangs=a,
            probability_of_waiting=1.0,
            service_level=0.0,
            asa_seconds=math.inf,
            abandonment_probability=0.0,
            occupancy=1.0,
            model="erlang_c",
            target_seconds=t,
            mean_wait_seconds=math.inf,
        )
    wait = _erlang_c_from_b(n, a, blocking)
    asa = wait * aht / (n - a)
    return StaffingResult(
        agents=n,
        offered_load_erlangs=a,
        probability_of_waiting=wait,
        service_level=1.0 - wait * math.exp(-(n - a) * t / aht),
        asa_seconds=asa,
        abandonment_probability=0.0,
        occupancy=a / n,
        model="erlang_c",
        target_seconds=t,
        mean_wait_seconds=asa,
    )


def erlang_c(
    calls_per_hour: float, aht_seconds: float, agents: int, target_seconds: float
) -> StaffingResult:
    """Erlang C performance of ``agents`` agents."""
    a = offered_load(calls_per_hour, aht_seconds)
    n = _agents(agents)
    t = _non_negative("target_seconds", target_seconds)
    return _erlang_c_result(n, a, float(aht_seconds), t, erlang_b(n, a))


# ----------------------------------------------------------------------------- Erlang A


def _queue_log_weights(
    n: int, lam: float, mu: float, theta: float, log_inverse_b: float
) -> tuple[list[float], float]:
    """Log weights of states n, n+1, ... relative to state n, and the log normaliser.

    Birth-death chain: π(n+j) / π(n+j-1) = λ / (nμ + jθ). States 0..n together weigh
    1/B(n, A) relative to state n. The queue is cut where the remaining tail (bounded by a
    geometric series once the ratios drop below 1) is negligible.
    """
    logs = [0.0]
    log_total = log_inverse_b
    log_term = 0.0
    log_lam = math.log(lam)
    j = 0
    while True:
        j += 1
        log_term += log_lam - math.log(n * mu + j * theta)
        logs.append(log_term)
        log_total = _logaddexp(log_total, log_term)
        next_ratio = lam / (n * mu + (j + 1) * theta)
        if next_ratio < 1.0:
            log_tail = log_term + math.log(next_ratio / (1.0 - next_ratio))
            if log_tail - log_total < math.log(_QUEUE_TAIL_TOLERANCE):
                return logs, log_total
        if j >= _MAX_QUEUE_STATES:
            raise InvalidPlanInput(
                "patience_seconds is too large for Erlang A at this load; omit it to use Erlang C"
            )


def _log_poisson(k: int, mean: float, log_mean: float) -> float:
    return -mean + k * log_mean - math.lgamma(k + 1)


def _poisson_cutoff(mean: float) -> int:
    """Smallest k past the mode whose remaining Poisson tail is below the tolerance."""
    log_mean = math.log(mean)
    k = max(0, math.floor(mean))
    while True:
        ratio = mean / (k + 1)
        if ratio < 1.0:
            weight = math.exp(_log_poisson(k, mean, log_mean))
            if weight * ratio / (1.0 - ratio) < _POISSON_TAIL_TOLERANCE:
                return k
        k += 1


def _hypoexponential_cdfs(rates: list[float], t: float) -> list[float]:
    """F_j(t) = P(X_0 + ... + X_j <= t), X_i ~ Exp(rates[i]), for every j at once.

    Uniformization at rate Λ >= max(rates): a stage-j walker moves to stage j-1 (or
    finishes, from stage 0) with probability r_j/Λ per Poisson(Λ) tick, otherwise stays.
    u_k(j) = P(finished within k ticks | start at j) and F_j(t) = Σ_k Pois(k; Λt)·u_k(j).
    Every term is a probability, so nothing cancels; Poisson weights are built in log
    space so large Λt does not underflow the whole sum.
    """
    if not rates or t <= 0:
        return [0.0] * len(rates)
    # Finishing from stage j needs j+1 ticks; beyond the Poisson cutoff that chance is
    # negligible, so only stages below it are iterated (and set the uniformization rate).
    cutoff = _poisson_cutoff(max(rates) * t)
    size = min(len(rates), cutoff + 1)
    rate = max(rates[:size])
    mean = rate * t
    log_mean = math.log(mean)
    cutoff = _poisson_cutoff(mean)
    move = [r / rate for r in rates[:size]]
    stay = [1.0 - m for m in move]
    reached = [0.0] * size
    cdf = [0.0] * size
    for k in range(cutoff + 1):
        weight = math.exp(_log_poisson(k, mean, log_mean))
        active = min(k, size)  # reached[j] is 0 for j >= k
        if weight > 0.0:
            for j in range(active):
                cdf[j] += weight * reached[j]
        grow = min(k + 1, size)
        reached[:grow] = [move[0] + stay[0] * reached[0]] + [
            move[j] * reached[j - 1] + stay[j] * reached[j] for j in range(1, grow)
        ]
    return cdf + [0.0] * (len(rates) - size)


def _erlang_a_result(
    n: int, a: float, aht: float, t: float, patience: float, log_inverse_b: float
) -> StaffingResult:
    mu = 1.0 / aht
    lam = a * mu
    theta = 1.0 / patience
    logs, log_total = _queue_log_weights(n, lam, mu, theta, log_inverse_b)
    queued = [math.exp(x - log_total) for x in logs]  # π(n+j): arrival finds j ahead
    p_wait = min(1.0, math.fsum(queued))
    p_immediate = 1.0 - p_wait
    mean_queue = math.fsum(j * p for j, p in enumerate(queued))
    abandon = min(1.0, theta * mean_queue / lam)

    served_rate = n * mu
    # Stage i (i callers ahead) ends at rate nμ + (i+1)θ; the product of the forward
    # probabilities telescopes to nμ / (nμ + (j+1)θ) = P(eventually answered | j ahead).
    rates = [served_rate + (i + 1) * theta for i in range(len(queued))]
    cdfs = _hypoexponential_cdfs(rates, t)
    answered_within = []
    answered_wait = []
    mean_stage_sum = 0.0
    for j, p in enumerate(queued):
        mean_stage_sum += 1.0 / rates[j]
        answered = served_rate / rates[j]
        answered_within.append(p * answered * cdfs[j])
        answered_wait.append(p * answered * mean_stage_sum)
    service_level = p_immediate + math.fsum(answered_within)
    answered_total = 1.0 - abandon
    asa = math.fsum(answered_wait) / answered_total if answered_total > 0 else math.inf
    return StaffingResult(
        agents=n,
        offered_load_erlangs=a,
        probability_of_waiting=p_wait,
        service_level=min(1.0, max(0.0, service_level)),
        asa_seconds=asa,
        abandonment_probability=abandon,
        occupancy=min(1.0, a * (1.0 - abandon) / n),
        model="erlang_a",
        target_seconds=t,
        mean_wait_seconds=mean_queue / lam,
    )


def erlang_a(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    target_seconds: float,
    patience_seconds: float,
) -> StaffingResult:
    """Erlang A (M/M/n+M) performance of ``agents`` agents with mean patience given."""
    a = offered_load(calls_per_hour, aht_seconds)
    n = _agents(agents)
    t = _non_negative("target_seconds", target_seconds)
    patience = _positive("patience_seconds", patience_seconds)
    return _erlang_a_result(n, a, float(aht_seconds), t, patience, _log_inverse_erlang_b(n, a))


def staffing(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    target_seconds: float,
    patience_seconds: float | None = None,
) -> StaffingResult:
    """Erlang A when a patience is given, Erlang C otherwise."""
    if patience_seconds is None:
        return erlang_c(calls_per_hour, aht_seconds, agents, target_seconds)
    return erlang_a(calls_per_hour, aht_seconds, agents, target_seconds, patience_seconds)


# ----------------------------------------------------------------------------- staffing


def agents_needed(
    calls_per_hour: float,
    aht_seconds: float,
    target_fraction: float,
    target_seconds: float,
    patience_seconds: float | None = None,
    max_occupancy: float | None = None,
) -> StaffingResult:
    """Smallest agent count whose service level meets the target (and occupancy cap).

    Searches n upward; the Erlang B term is carried along incrementally so the search
    costs one recursion step per candidate rather than a full recursion each.
    """
    a = offered_load(calls_per_hour, aht_seconds)
    aht = float(aht_seconds)
    target = _fraction("target_fraction", target_fraction)
    t = _non_negative("target_seconds", target_seconds)
    patience = None if patience_seconds is None else _positive("patience_seconds", patience_seconds)
    occupancy_cap = None if max_occupancy is None else _fraction("max_occupancy", max_occupancy)

    limit = math.ceil(a) + 20 * math.ceil(math.sqrt(a)) + 100
    if occupancy_cap is not None:
        limit = max(limit, math.ceil(a / occupancy_cap) + 1)

    def meets(result: StaffingResult) -> bool:
        if result.service_level < target - _TARGET_SLACK:
            return False
        return occupancy_cap is None or result.occupancy <= occupancy_cap + _TARGET_SLACK

    if patience is None:
        blocking = 1.0
        for n in range(1, limit + 1):
            blocking = a * blocking / (n + a * blocking)
            if n <= a:
                continue
            result = _erlang_c_result(n, a, aht, t, blocking)
            if meets(result):
                return result
    else:
        # At most nμ per second are answered, so SL <= n/A: skip n below target·A.
        first = max(1, math.floor(target * a) - 1)
        log_load = math.log(a)
        log_inverse_b = 0.0
        for n in range(1, limit + 1):
            log_inverse_b = _logaddexp(0.0, math.log(n) - log_load + log_inverse_b)
            if n < first:
                continue
            result = _erlang_a_result(n, a, aht, t, patience, log_inverse_b)
            if meets(result):
                return result
    raise InvalidPlanInput(
        f"target_fraction {target_fraction!r} cannot be met with up to {limit} agents"
    )
