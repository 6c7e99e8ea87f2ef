"""Routing decision speed: the pure :class:`~acd.core.router.Router` driven in virtual time.

A synthetic call centre (``agents`` agents with 2-4 of ``skills`` skills at levels 1-10 and 1-2
of ru/kk/en, three queues) takes ``calls`` Poisson arrivals in three phases, as a fraction of
its nominal capacity (agents / mean handling time):

* warm-up at 0.8 - most calls find a free agent on arrival (the call looks for an agent);
* overload - sized so that about ``waiting_target`` calls end up waiting; every agent that
  frees up takes a waiting call (the agent looks for a call);
* drain at 0.5 - the queue empties; then arrivals stop and the rest is served.

Agents answer every offer at once; calls end after a random talk time; wrap-up ends at the
queue's timer (a :class:`Tick` at ``next_deadline()``) or earlier by ``WrapUpDone``; a fifth of
the callers have a finite patience and abandon. Every call is generated from a random agent's
skills and languages, so someone can always serve it (a few need two skills).

A *decision* is one ``Router.handle`` call that searched for a match: every ``CallArrived``,
and every event after which an agent became available (wrap-up ended by ``Tick`` or
``WrapUpDone``, a call ended in a queue without wrap-up). Relaxation ``Tick``\\ s that produced
an offer count too. Only ``handle`` is timed (``time.perf_counter_ns``); building the agents
and the events, answering offers and the bookkeeping are not. The same decisions are also
timed in CPU time of the thread (``cpu_p50_us``, ``cpu_p99_us``), and ``runqueue_wait_s`` is
how long the process waited for a CPU during the run (Linux): on a shared host the wall-clock
tail includes other processes' time slices, the CPU time does not. Explanations stay on: every
real offer records one, with the router's default bounds (the best ``explain_candidates``
candidates in full, every left-out agent counted by reason, ``explain_sample`` named per
reason).

The setup's objects are frozen out of the garbage collector (``gc.freeze()``) before the timed
run, as a long-running daemon should once it has loaded its agents and configuration.
"""

from __future__ import annotations

import gc
import heapq
import math
import random
import resource
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from acd.core.agents import AgentProfile, AgentState
from acd.core.calls import SkillRequirement
from acd.core.commands import AgentStateChanged, RingAgent
from acd.core.events import (
    AgentLoggedIn,
    CallAbandoned,
    CallArrived,
    CallEnded,
    Event,
    OfferAnswered,
    Tick,
    WrapUpDone,
)
from acd.core.queues import QueueConfig, RelaxationStep
from acd.core.router import Router

TIME_ZONE = "Europe/Moscow"
LANGUAGES = ("ru", "kk", "en")
LANGUAGE_WEIGHTS = (0.70, 0.20, 0.10)
SECOND_LANGUAGE = 0.35  # share of agents who speak two languages
MEAN_TALK_SECONDS = 180.0
MIN_TALK_SECONDS = 10.0
EARLY_READY = 0.3  # share of wrap-ups the agent ends early with WrapUpDone
IMPATIENT = 0.2  # share of callers with a finite patience
MEAN_PATIENCE_SECONDS = 120.0
ABANDONING = 0.15  # share of the overload's callers who give up (measured, for sizing only)
TWO_SKILL_CALLS = 0.05
PRIORITY_CALLS = 0.05

# (queue, share of calls, wrap-up seconds, weight, relaxation)
QUEUES: tuple[tuple[str, float, float, int, tuple[RelaxationStep, ...]], ...] = (
    ("general", 0.75, 10.0, 0, (RelaxationStep(after_seconds=60.0, min_level=1),)),
    ("vip", 0.10, 5.0, 10, ()),
    ("info", 0.15, 0.0, 0, ()),
)
# Minimum level a call asks for (capped at its template agent's level).
MIN_LEVELS = ((1, 0.60), (3, 0.25), (5, 0.15))

# Arrival phases around the overload: (share of calls, offered load as a fraction of capacity).
WARM_UP = (0.15, 0.8)
DRAIN = (0.25, 0.5)
MAX_OVERLOAD = 5.0

# Waiting-queue length buckets of the breakdown: (label, lowest length, highest + 1).
BUCKETS: tuple[tuple[str, int, float], ...] = (
    ("<100", 0, 100),
    ("100-1k", 100, 1_000),
    ("1k-10k", 1_000, 10_000),
    (">=10k", 10_000, math.inf),
)

# Driver event kinds.
_END, _ABANDON, _READY = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _CallPlan:
    event: CallArrived
    talk: float
    patience: float | None


def _start_time() -> float:
    """A Monday 08:00 in the business zone: the run stays within one local day."""
    return datetime(2025, 3, 3, 8, 0, tzinfo=ZoneInfo(TIME_ZONE)).timestamp()


def _languages(rng: random.Random) -> frozenset[str]:
    first = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
    if rng.random() >= SECOND_LANGUAGE:
        return frozenset({first})
    others = [
        (lang, w) for lang, w in zip(LANGUAGES, LANGUAGE_WEIGHTS, strict=True) if lang != first
    ]
    second = rng.choices([o[0] for o in others], [o[1] for o in others])[0]
    return frozenset({first, second})


def build_agents(rng: random.Random, agents: int, skill_names: Sequence[str]) -> list[AgentProfile]:
    profiles = []
    for i in range(agents):
        count = min(rng.randint(2, 4), len(skill_names))
        skills = {name: rng.randint(1, 10) for name in rng.sample(skill_names, count)}
        profiles.append(AgentProfile(f"a{i}", f"Agent {i}", skills, _languages(rng)))
    return profiles


def _overload(calls: int, waiting_target: int) -> float:
    """Offered load of the overload phase so that about ``waiting_target`` calls pile up.

    Of ``n`` calls offered at load ``L``, ``n / L`` are served; most impatient callers give up
    once waits reach minutes, so the pile-up is about ``n (1 - 1/L - ABANDONING)``.
    """
    overload_calls = calls * (1.0 - WARM_UP[0] - DRAIN[0])
    excess = waiting_target / overload_calls + ABANDONING if overload_calls > 0 else 1.0
    if excess >= 1 - 1 / MAX_OVERLOAD:
        return MAX_OVERLOAD
    return 1.0 / (1.0 - excess)


def build_calls(
    rng: random.Random,
    profiles: Sequence[AgentProfile],
    calls: int,
    waiting_target: int,
    start: float,
) -> list[_CallPlan]:
    """Arrivals in time order. Each call copies a random agent's skill and language."""
    mean_wrap = sum(share * wrap for _, share, wrap, _, _ in QUEUES) * (1 - EARLY_READY / 2)
    capacity = len(profiles) / (MEAN_TALK_SECONDS + mean_wrap)  # calls per second
    overload = _overload(calls, waiting_target)
    warm_up = round(calls * WARM_UP[0])
    drain_from = calls - round(calls * DRAIN[0])
    queue_ids = [q[0] for q in QUEUES]
    queue_shares = [q[1] for q in QUEUES]
    levels = [lvl for lvl, _ in MIN_LEVELS]
    level_shares = [share for _, share in MIN_LEVELS]
    plans = []
    at = start
    for i in range(calls):
        load = WARM_UP[1] if i < warm_up else DRAIN[1] if i >= drain_from else overload
        at += rng.expovariate(load * capacity)
        template = rng.choice(profiles)
        own = sorted(template.skills)
        primary = rng.choice(own)
        level = min(rng.choices(levels, level_shares)[0], template.skills[primary])
        requirements = [SkillRequirement(primary, level)]
        if len(own) > 1 and rng.random() < TWO_SKILL_CALLS:
            requirements.append(SkillRequirement(rng.choice([s for s in own if s != primary])))
        event = CallArrived(
            at=at,
            call_id=f"c{i}",
            queue_id=rng.choices(queue_ids, queue_shares)[0],
            requirements=tuple(requirements),
            language=rng.choice(sorted(template.languages)),
            priority=1 if rng.random() < PRIORITY_CALLS else 0,
        )
        talk = MIN_TALK_SECONDS + rng.expovariate(1 / (MEAN_TALK_SECONDS - MIN_TALK_SECONDS))
        patience = rng.expovariate(1 / MEAN_PATIENCE_SECONDS) if rng.random() < IMPATIENT else None
        plans.append(_CallPlan(event, talk, patience))
    return plans


def build_router(
    skill_names: Sequence[str], profiles: Sequence[AgentProfile], start: float
) -> Router:
    router = Router(TIME_ZONE, explain=True, start=start)
    for name in skill_names:
        router.add_skill(name)
    for queue_id, _, wrap, weight, relaxation in QUEUES:
        router.add_queue(
            QueueConfig(queue_id, wrap_up_seconds=wrap, weight=weight, relaxation=relaxation)
        )
    for profile in profiles:
        router.add_agent(profile)
        router.handle(AgentLoggedIn(start, profile.agent_id))
    return router


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile of an ascending sequence (0 when empty)."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def _stats(ns: Sequence[int]) -> dict[str, Any]:
    values = sorted(ns)
    return {
        "decisions": len(values),
        "p50_us": round(percentile(values, 0.50) / 1000, 1),
        "p99_us": round(percentile(values, 0.99) / 1000, 1),
        "max_us": round(values[-1] / 1000, 1) if values else 0.0,
        "mean_us": round(sum(values) / len(values) / 1000, 1) if values else 0.0,
    }


def _brief(ns: Sequence[int]) -> dict[str, Any]:
    stats = _stats(ns)
    return {key: stats[key] for key in ("decisions", "p50_us", "p99_us")}


def runqueue_wait_ns() -> int | None:
    """Nanoseconds this process has waited for a CPU so far (Linux ``schedstat``), or None."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class _GcPauses:
    """Counts the collector's pauses while active: they land inside timed decisions too."""

    def __init__(self) -> None:
        self.count = 0
        self.longest_ns = 0
        self._began = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter_ns()
        else:
            self.count += 1
            self.longest_ns = max(self.longest_ns, time.perf_counter_ns() - self._began)

    def __enter__(self) -> _GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


@dataclass(slots=True)
class _Samples:
    """One entry per decision: nanoseconds, waiting calls before it, side, whether it rang."""

    took: array[int] = field(default_factory=lambda: array("q"))
    cpu: array[int] = field(default_factory=lambda: array("q"))  # thread CPU time
    waited: array[int] = field(default_factory=lambda: array("q"))
    agent_side: array[int] = field(default_factory=lambda: array("b"))
    rang: array[int] = field(default_factory=lambda: array("b"))
    offers: dict[str, int] = field(default_factory=dict)
    handled: int = 0
    peak_waiting: int = 0
    answered: int = 0
    abandoned: int = 0


def _drive(router: Router, plans: Sequence[_CallPlan], rng: random.Random) -> _Samples:
    """Feed arrivals, answers, hang-ups, abandons, early ready and timer ticks in time order.

    Only ``router.handle`` of the events that can route is timed.
    """
    samples = _Samples()
    wrap_of = {q[0]: q[2] for q in QUEUES}
    waiting: set[str] = set()
    agent_of: dict[str, str] = {}
    pending: list[tuple[float, int, int, str]] = []  # (at, seq, kind, call or agent id)
    seq = 0
    next_arrival = 0
    available = AgentState.AVAILABLE
    handle = router.handle
    clock = time.perf_counter_ns
    cpu_clock = time.thread_time_ns
    while True:
        t_arrival = plans[next_arrival].event.at if next_arrival < len(plans) else math.inf
        t_pending = pending[0][0] if pending else math.inf
        t_next = min(t_arrival, t_pending)
        deadline = router.next_deadline()
        event: Event
        if deadline is not None and deadline <= t_next:
            event = Tick(deadline)
        elif t_next == math.inf:
            return samples
        elif t_pending <= t_arrival:
            at, _, kind, ident = heapq.heappop(pending)
            if kind == _END:
                event = CallEnded(at, ident)
            elif kind == _READY:
                event = WrapUpDone(at, ident)
            elif ident in waiting:
                event = CallAbandoned(at, ident)
                waiting.discard(ident)
                samples.abandoned += 1
            else:
                continue  # the caller was connected before running out of patience
        else:
            plan = plans[next_arrival]
            next_arrival += 1
            event = plan.event
            if plan.patience is not None:
                seq += 1
                heapq.heappush(pending, (event.at + plan.patience, seq, _ABANDON, event.call_id))

        queued = len(waiting)
        cpu_began = cpu_clock()
        began = clock()
        out = handle(event)
        elapsed = clock() - began
        cpu_elapsed = cpu_clock() - cpu_began
        samples.handled += 1
        arrived = False
        if isinstance(event, CallArrived):
            arrived = True
            waiting.add(event.call_id)

        freed = rang = False
        for command in out:
            if type(command) is RingAgent:
                rang = True
                call_id, agent_id = command.call_id, command.agent_id
                explanation = command.explanation
                trigger = explanation.trigger if explanation is not None else "unexplained"
                samples.offers[trigger] = samples.offers.get(trigger, 0) + 1
                waiting.discard(call_id)
                agent_of[call_id] = agent_id
                samples.answered += 1
                handle(OfferAnswered(command.at, call_id, agent_id))
                samples.handled += 1
                seq += 1
                talk = plans[int(call_id[1:])].talk
                heapq.heappush(pending, (command.at + talk, seq, _END, call_id))
            elif type(command) is AgentStateChanged and command.new is available:
                freed = True

        if arrived or freed or rang:
            samples.took.append(elapsed)
            samples.cpu.append(cpu_elapsed)
            samples.waited.append(queued)
            samples.agent_side.append(freed)
            samples.rang.append(rang)
            samples.peak_waiting = max(samples.peak_waiting, len(waiting))
        if isinstance(event, CallEnded):
            agent_id = agent_of.pop(event.call_id)
            wrap = wrap_of[plans[int(event.call_id[1:])].event.queue_id]
            if wrap > 0 and rng.random() < EARLY_READY:
                seq += 1
                ready_at = event.at + rng.uniform(0.2, 0.8) * wrap
                heapq.heappush(pending, (ready_at, seq, _READY, agent_id))


def _breakdown(samples: _Samples) -> dict[str, Any]:
    ns = samples.took.tolist()
    rows = list(zip(ns, samples.waited, samples.agent_side, samples.rang, strict=True))
    by_waiting = []
    for label, low, high in BUCKETS:
        inside = [r for r in rows if low <= r[1] < high]
        by_waiting.append(
            {
                "waiting": label,
                **_stats([r[0] for r in inside]),
                "call_side": _brief([r[0] for r in inside if not r[2]]),
                "agent_side": _brief([r[0] for r in inside if r[2]]),
                "offered": _brief([r[0] for r in inside if r[3]]),
            }
        )
    return {
        "by_side": {
            "call_side": _stats([r[0] for r in rows if not r[2]]),
            "agent_side": _stats([r[0] for r in rows if r[2]]),
        },
        "by_outcome": {
            "offered": _stats([r[0] for r in rows if r[3]]),
            "no_offer": _stats([r[0] for r in rows if not r[3]]),
        },
        "by_waiting": by_waiting,
    }


def run(
    agents: int = 10_000,
    skills: int = 100,
    calls: int = 100_000,
    seed: int = 1,
    waiting_target: int | None = None,
) -> dict[str, Any]:
    """Drive the router through ``calls`` arrivals and time every routing decision.

    ``waiting_target`` (default: a fifth of ``calls``) is roughly how many calls wait at the
    peak of the overload. Raises :class:`ValueError` on bad sizes.
    """
    for name, value in (("agents", agents), ("skills", skills), ("calls", calls)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if waiting_target is None:
        waiting_target = calls // 5
    if not isinstance(waiting_target, int) or not 0 <= waiting_target <= calls:
        raise ValueError(f"waiting_target must be between 0 and calls, got {waiting_target!r}")

    setup_started = time.perf_counter()
    rng = random.Random(seed)
    start = _start_time()
    skill_names = [f"s{i:03d}" for i in range(skills)]
    profiles = build_agents(rng, agents, skill_names)
    plans = build_calls(rng, profiles, calls, waiting_target, start)
    router = build_router(skill_names, profiles, start)
    # The setup's objects (agents, pre-built events) are not the router's garbage: keep the
    # collector from rescanning them during the timed run, as a daemon should after start-up.
    gc.collect()
    gc.freeze()
    setup_s = time.perf_counter() - setup_started

    waited_before = runqueue_wait_ns()
    run_started = time.perf_counter()
    try:
        with _GcPauses() as pauses:
            samples = _drive(router, plans, rng)
    finally:
        gc.unfreeze()
    run_s = time.perf_counter() - run_started
    waited_after = runqueue_wait_ns()
    if waited_before is None or waited_after is None:
        runqueue_wait_s = None
    else:
        runqueue_wait_s = round((waited_after - waited_before) / 1e9, 2)

    left = router.waiting_calls()
    if left or samples.answered + samples.abandoned != calls:
        raise RuntimeError(
            f"bench: {len(left)} calls still waiting, {samples.answered} answered + "
            f"{samples.abandoned} abandoned != {calls} calls"
        )

    ns = samples.took.tolist()
    overall = _stats(ns)
    cpu = _stats(samples.cpu.tolist())
    total_s = sum(ns) / 1e9
    breakdown = _breakdown(samples)
    return {
        "bench": "routing",
        "agents": agents,
        "skills": skills,
        "calls": calls,
        "seed": seed,
        "explain": router.explain,
        "explain_candidates": router.explain_candidates,
        "explain_sample": router.explain_sample,
        "decisions": overall["decisions"],
        "decisions_call_side": breakdown["by_side"]["call_side"]["decisions"],
        "decisions_agent_side": breakdown["by_side"]["agent_side"]["decisions"],
        "offers_call_waiting": samples.offers.get("call_waiting", 0),
        "offers_agent_free": samples.offers.get("agent_free", 0),
        "decisions_per_s": round(overall["decisions"] / total_s) if total_s else 0,
        "p50_us": overall["p50_us"],
        "p99_us": overall["p99_us"],
        "max_us": overall["max_us"],
        "mean_us": overall["mean_us"],
        "cpu_p50_us": cpu["p50_us"],
        "cpu_p99_us": cpu["p99_us"],
        **breakdown,
        "peak_waiting": samples.peak_waiting,
        "waiting_target": waiting_target,
        "answered": samples.answered,
        "abandoned": samples.abandoned,
        "events_handled": samples.handled,
        "virtual_seconds": round(router.now - start, 1),
        "gc_collections": pauses.count,
        "gc_max_pause_ms": round(pauses.longest_ns / 1e6, 1),
        "setup_s": round(setup_s, 2),
        "run_s": round(run_s, 2),
        "runqueue_wait_s": runqueue_wait_s,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run()))
