"""Accuracy of the announced wait: acd's estimator against an oracle, HOL and app_queue.

An M/M/s+M queue in virtual time (:mod:`acd.sim.virtual` driving the real router): Poisson
arrivals at ``λ = load·s/AHT``, exponential talk time (AHT 240 s, no wrap-up), exponential
patience (mean 180 s), ``s`` agents who answer at once, never miss and never take breaks,
one skill, one queue. Each arriving caller who must wait (no free agent) gets four
predictions of their wait:

* ``acd``: ``router.estimate_wait(call_id).mean_seconds`` - the QL estimator with
  abandonment correction, conditioned on being answered (stage rates sμ + (i+1)θ), fed with
  the router's *observed* μ and θ;
* ``oracle``: the classic QL estimator Σ_{i=0..n} 1/(sμ + iθ) (the wait of a caller who
  never hangs up) with the same number ahead and ``s``, but the *true* μ = 1/240 and
  θ = 1/180;
* ``hol``: head-of-line delay - how long the caller at the head of the queue has waited so
  far (0 when the new caller is the head);
* ``app_queue``: Asterisk app_queue's announced hold time. app_queue keeps
  ``holdtime = (3·holdtime + wait) / 4`` (integer seconds) over every answered call, waited
  or not, and announces ``(holdtime + 30) / 60`` whole minutes at entry (integer division:
  the nearest minute, 0 when below 30 s), as ``say_position`` does with
  ``announce-holdtime=yes`` and no ``announce-round-seconds``.

Over the callers who waited and were then answered (after a warm-up of the first 5 % of
arrivals), the error of each predictor is RRASE = sqrt(mean((prediction − actual)²)) /
mean(actual); ``range_coverage`` is the share whose actual wait fell inside acd's announced
80 % range [low, high], ``range_below`` / ``range_above`` the shares below and above it.

``oracle_given_served`` scores E[W | n, answered] = Σ_{i=0..n} 1/(sμ + (i+1)θ) with the true
rates. In M/M/s+M every duration is memoryless, so the number ahead is all that the present
and the past say about a caller's future wait, and this is the least-squares prediction of
the scored waits: no real-time predictor can beat it in expectation (HOL delay, the last
caller's wait and other history included). It is the floor that acd is measured against.
"""

from __future__ import annotations

import math
from collections import deque

from acd.core.agents import AgentProfile
from acd.core.calls import CallOutcome, CallStatus, SkillRequirement
from acd.core.commands import CallFinished, Command, ConnectCall
from acd.core.ewt import estimate_wait
from acd.core.queues import QueueConfig
from acd.sim.virtual import AgentSpec, CallType, SimConfig, Simulation

AHT_SECONDS = 240.0
PATIENCE_SECONDS = 180.0
WARM_UP_FRACTION = 0.05
PREDICTORS = ("acd", "oracle", "hol", "app_queue")
# 2026-11-23 09:00 Moscow: any epoch works, this one keeps the router's day arithmetic honest.
START = 1_795_845_600.0


# (acd, oracle, hol, app_queue, acd's low, acd's high, oracle given served), seconds
_Prediction = tuple[float, float, float, float, float, float, float]


class _Recorder:
    """Listens to the simulation: predictions at arrival, the actual wait at answer."""

    def __init__(self, warm_up: int, mu: float, theta: float) -> None:
        self.warm_up = warm_up
        self.mu = mu
        self.theta = theta
        self.arrivals = 0
        self.pending: dict[str, _Prediction] = {}
        self.queue: deque[str] = deque()  # waiting callers, FIFO (head first)
        self.holdtime = 0  # app_queue's q->holdtime, integer seconds
        self.counted: set[str] = set()  # callers after the warm-up, until they finish
        self.finished = 0
        self.abandoned = 0
        self.predictions = 0
        self.sum_mu = 0.0  # the router's observed rates when it made each prediction
        self.sum_theta = 0.0
        self.pairs: list[tuple[_Prediction, float]] = []

    def on_arrival(self, sim: Simulation, call_id: str) -> None:
        self.arrivals += 1
        if self.arrivals > self.warm_up:
            self.counted.add(call_id)
        router = sim.router
        call = router.calls.get(call_id)
        if call is None or call.status is not CallStatus.WAITING:
            return  # an agent was free: no wait to predict
        queue = self.queue
        hol = 0.0
        while queue:
            head = router.calls.get(queue[0])
            if head is not None and head.status is CallStatus.WAITING:
                hol = sim.now - head.arrived_at
                break
            queue.popleft()  # answered or abandoned since
        queue.append(call_id)
        if self.arrivals <= self.warm_up:
            return
        est = router.estimate_wait(call_id)
        rates = router.rates[call.queue_id]
        self.predictions += 1
        self.sum_mu += rates.mu
        self.sum_theta += rates.theta
        ahead, agents = est.position - 1, est.eligible_agents
        oracle = estimate_wait(ahead, agents, self.mu, self.theta, given_served=False)
        best = estimate_wait(ahead, agents, self.mu, self.theta, given_served=True)
        app_queue = 60.0 * ((self.holdtime + 30) // 60)
        self.pending[call_id] = (
            est.mean_seconds,
            oracle.mean_seconds,
            hol,
            app_queue,
            est.low_seconds,
            est.high_seconds,
            best.mean_seconds,
        )

    def on_command(self, sim: Simulation, command: Command) -> None:
        if isinstance(command, CallFinished):
            self.pending.pop(command.call_id, None)  # abandoned: not scored
            if command.call_id in self.counted:
                self.counted.discard(command.call_id)
                self.finished += 1
                self.abandoned += command.outcome is CallOutcome.ABANDONED
            return
        if not isinstance(command, ConnectCall):
            return
        wait = command.at - sim.call_arrived_at(command.call_id)
        # app_queue: recalc_holdtime() on every connect, integer arithmetic.
        self.holdtime = (3 * self.holdtime + int(wait)) >> 2
        predicted = self.pending.pop(command.call_id, None)
        if predicted is not None:
            self.pairs.append((predicted, wait))


def run(load: float = 1.1, agents: int = 50, arrivals: int = 100_000, seed: int = 1) -> dict:
    """Simulate ``arrivals`` callers at ``load`` (offered load / agents) and score the
    predictors; returns a JSON-able dict (see the module docstring)."""
    if load <= 0 or agents < 1 or arrivals < 1:
        raise ValueError("load must be > 0, agents >= 1 and arrivals >= 1")
    mu, theta = 1.0 / AHT_SECONDS, 1.0 / PATIENCE_SECONDS
    calls_per_hour = load * agents * mu * 3600.0
    queue = QueueConfig("bench", wrap_up_seconds=0.0)
    specs = tuple(
        AgentSpec(
            AgentProfile(f"a{i:03d}", f"Agent {i}", {"operator": 5}),
            answer_delay_seconds=0.0,
            no_answer_probability=0.0,
            break_every_seconds=None,
        )
        for i in range(agents)
    )
    call_type = CallType(
        "call",
        "bench",
        (SkillRequirement("operator"),),
        talk_seconds=AHT_SECONDS,
        patience_seconds=PATIENCE_SECONDS,
    )
    config = SimConfig(
        queues=(queue,),
        agents=specs,
        call_types=(call_type,),
        calls_per_hour=calls_per_hour,
        seed=seed,
        start=START,
        max_arrivals=arrivals,
    )
    sim = Simulation(config)
    recorder = _Recorder(int(arrivals * WARM_UP_FRACTION), mu, theta)
    sim.arrival_listeners.append(recorder.on_arrival)
    sim.listeners.append(recorder.on_command)
    # Run until the last arrival, then let everybody get answered or hang up.
    while sim.offered < arrivals:
        sim.advance(sim.elapsed + 3600.0)
    sim.drain()

    pairs = recorder.pairs
    actual = [a for _, a in pairs]
    mean_actual = sum(actual) / len(actual) if actual else math.nan
    rrase: dict[str, float] = {}
    bias: dict[str, float] = {}
    for k, name in enumerate(PREDICTORS):
        if not actual:
            rrase[name] = bias[name] = math.nan
            continue
        mse = sum((p[k] - a) ** 2 for p, a in pairs) / len(pairs)
        rrase[name] = math.sqrt(mse) / mean_actual
        bias[name] = sum(p[k] - a for p, a in pairs) / len(pairs)
    below = sum(1 for p, a in pairs if a < p[4])
    above = sum(1 for p, a in pairs if a > p[5])
    best = (
        math.sqrt(sum((p[6] - a) ** 2 for p, a in pairs) / len(pairs)) / mean_actual
        if pairs
        else math.nan
    )
    finished, abandoned = recorder.finished, recorder.abandoned
    return {
        "benchmark": "ewt",
        "load": load,
        "agents": agents,
        "arrivals": sim.offered,
        "seed": seed,
        "aht_seconds": AHT_SECONDS,
        "patience_seconds": PATIENCE_SECONDS,
        "served_after_wait": len(pairs),
        "mean_wait_of_served_after_wait": mean_actual,
        "abandon_rate": abandoned / finished if finished else math.nan,
        "rrase": rrase,
        "range_coverage": (len(pairs) - below - above) / len(pairs) if pairs else math.nan,
        "range_below": below / len(pairs) if pairs else math.nan,
        "range_above": above / len(pairs) if pairs else math.nan,
        "ratio_to_oracle": rrase["acd"] / rrase["oracle"],
        "ratio_to_app_queue": rrase["acd"] / rrase["app_queue"],
        "oracle_given_served": {
            "rrase": best,
            "ratio_to_app_queue": best / rrase["app_queue"],
        },
        "bias_seconds": bias,
        "mean_observed_mu": _ratio(recorder.sum_mu, recorder.predictions),
        "mean_observed_theta": _ratio(recorder.sum_theta, recorder.predictions),
        "true_mu": mu,
        "true_theta": theta,
    }


def _ratio(num: float, den: int) -> float | None:
    return num / den if den else None
