"""A discrete-event simulation in virtual time that drives the real routing core.

Synthetic callers and agents talk to :class:`acd.core.router.Router` exactly as the adapters
do: events in, commands out. The simulation only adds what a PBX and people would do:

* callers arrive as a Poisson process, pick a call type (queue, skills, language) by its
  share, and hang up after an exponential patience unless an agent answered first
  (:class:`~acd.core.events.CallAbandoned`, also while an agent is being rung);
* a rung agent answers after a random delay, or does not answer at all; then the router's
  own ring timeout ends the offer (a :class:`~acd.core.events.Tick` is scheduled at
  ``router.next_deadline()`` after every event, so ring and wrap-up timers fire on time);
* a connected call ends after its talk time; wrap-up is ended by the router's deadline;
* agents ask for a break now and then (deferred by the router while they are on a call), come
  back after a while, and notice after a minute when the router set them not-ready for
  missed offers; agents may log in late and log out early.

Everything random comes from one seed (one :class:`random.Random` stream per purpose, so a
change in, say, agent behaviour does not reshuffle the arrivals): the same configuration and
seed give the same run, event for event.

Times: the calendar and the router use epoch seconds (``SimConfig.start`` is virtual time 0);
the public API speaks in seconds *elapsed* since the start.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from acd.core.agents import AgentProfile, AgentState
from acd.core.calls import CallOutcome, CallStatus, SkillRequirement
from acd.core.commands import (
    AgentStateChanged,
    CallFinished,
    CallRequeued,
    Command,
    ConnectCall,
    RingAgent,
    StopRinging,
)
from acd.core.events import (
    AgentBreak,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    CallAbandoned,
    CallArrived,
    CallEnded,
    Event,
    OfferAnswered,
    Tick,
)
from acd.core.queues import QueueConfig
from acd.core.router import MISSED_OFFERS_REASON, Router

__all__ = [
    "AgentSpec",
    "AgentSummary",
    "CallType",
    "Distribution",
    "SimConfig",
    "Simulation",
    "SimulationError",
    "Snapshot",
    "Summary",
    "deterministic",
    "exponential",
    "lognormal",
    "spread",
]

# ------------------------------------------------------------------------- distributions

#: ``(rng, mean) -> sample``: every random duration is drawn through one of these.
Distribution = Callable[[random.Random, float], float]


def exponential(rng: random.Random, mean: float) -> float:
    """Exponential with the given mean (0 or infinity pass through unchanged)."""
    if mean <= 0 or math.isinf(mean):
        return mean
    return rng.expovariate(1.0 / mean)


def deterministic(rng: random.Random, mean: float) -> float:
    """Always the mean."""
    return mean


def lognormal(cv: float) -> Distribution:
    """Log-normal with the given mean and coefficient of variation (talk times often are)."""
    sigma2 = math.log1p(cv * cv)
    sigma = math.sqrt(sigma2)

    def draw(rng: random.Random, mean: float) -> float:
        if mean <= 0 or math.isinf(mean):
            return mean
        return rng.lognormvariate(math.log(mean) - sigma2 / 2.0, sigma)

    return draw


# ------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """One synthetic agent: who they are (the router's profile) and how they behave.

    Times are seconds; ``login_at``/``logout_at`` are elapsed since the start.
    """

    profile: AgentProfile
    answer_delay_seconds: float = 4.0  # mean time to pick up a ringing phone
    no_answer_probability: float = 0.02  # chance of letting an offer ring out
    break_every_seconds: float | None = 5400.0  # mean time between breaks; None: never
    break_seconds: float = 600.0  # mean length of a break
    login_at: float = 0.0
    logout_at: float | None = None


@dataclass(frozen=True, slots=True)
class CallType:
    """A kind of call: where it queues, what it needs, how long it talks, how patient it is."""

    name: str
    queue_id: str
    requirements: tuple[SkillRequirement, ...]
    language: str = "ru"
    share: float = 1.0  # relative share of the arrivals
    priority: int = 0
    talk_seconds: float = 300.0  # mean talk time
    patience_seconds: float = 180.0  # mean patience; math.inf: never hangs up


@dataclass(frozen=True)
class SimConfig:
    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentSpec, ...]
    call_types: tuple[CallType, ...]
    calls_per_hour: float
    seed: int = 1
    start: float = 0.0  # epoch seconds of virtual time 0
    time_zone: str = "Europe/Moscow"
    skills: tuple[str, ...] = ()  # extra skills; those used by agents and calls are added
    talk_distribution: Distribution = exponential
    patience_distribution: Distribution = exponential
    answer_distribution: Distribution = exponential
    break_distribution: Distribution = exponential
    max_arrivals: int | None = None  # stop the arrivals after this many callers
    # An agent set not-ready for missed offers notices after about this long.
    missed_offers_break_seconds: float = 60.0
    break_reason: str = "break"
    explain: bool = False  # ask the router for routing explanations (slower)

    def __post_init__(self) -> None:
        if not self.call_types:
            raise ValueError("at least one call type is needed")
        if self.calls_per_hour < 0 or not math.isfinite(self.calls_per_hour):
            raise ValueError(f"calls_per_hour must be >= 0, got {self.calls_per_hour!r}")
        if any(t.share < 0 for t in self.call_types) or sum(t.share for t in self.call_types) <= 0:
            raise ValueError("call type shares must be >= 0 and not all zero")
        queue_ids = {q.queue_id for q in self.queues}
        for t in self.call_types:
            if t.queue_id not in queue_ids:
                raise ValueError(f"call type {t.name!r}: unknown queue {t.queue_id!r}")


# ------------------------------------------------------------------------- results


class SimulationError(AssertionError):
    """The router did something the simulation's invariants forbid (a bug in the core)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The picture at one moment, for a live status line."""

    elapsed: float  # seconds since the start
    at: float  # epoch seconds
    waiting: int  # callers in queue, not being rung
    ringing: int  # callers whose agent is being rung
    talking: int  # connected calls
    longest_wait_seconds: float  # of the callers in queue now (0 if none)
    agents: dict[str, int]  # AgentState value -> number of agents
    offered: int
    answered: int
    abandoned: int
    service_level: float | None  # answered within threshold / answered, so far
    asa_seconds: float | None  # mean wait of answered calls, so far
    arrivals_open: bool


@dataclass(frozen=True, slots=True)
class AgentSummary:
    agent_id: str
    name: str
    calls: int  # calls answered (connected)
    talk_seconds: float  # talk time of calls ended
    missed_offers: int  # offers that rang out
    state_seconds: dict[str, float]  # AgentState value -> seconds spent in it


@dataclass(frozen=True, slots=True)
class Summary:
    """Totals of a run. Waits are from arrival to answer (connect)."""

    elapsed: float  # simulated seconds
    offered: int  # callers who arrived
    answered: int  # connected to an agent
    abandoned: int  # hung up before being connected
    in_queue: int  # still waiting or being rung at the end
    talking: int  # still connected at the end
    completed: int  # connected calls that also ended
    answered_within_threshold: int  # wait <= the queue's service_level_seconds
    service_level: float | None  # answered within threshold / answered
    service_level_offered: float | None  # answered within threshold / (answered + abandoned)
    abandon_rate: float | None  # abandoned / (answered + abandoned)
    asa_seconds: float | None  # average speed of answer: mean wait of answered calls
    mean_abandon_wait_seconds: float | None  # mean wait of callers who hung up
    max_wait_seconds: float  # longest wait of anyone: answered, abandoned or still waiting
    mean_talk_seconds: float | None  # over calls ended
    ring_no_answer: int  # offers that rang out (requeued)
    requeued: int  # every failed offer (ring-no-answer, rejection, logout)
    occupancy: float | None  # (ringing + on call + wrap-up) / staffed agent-time
    mean_agents_by_state: dict[str, float]  # time-weighted average number of agents per state
    agents: tuple[AgentSummary, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        out: dict[str, Any] = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["agents"] = [
            {f: getattr(a, f) for f in AgentSummary.__dataclass_fields__} for a in self.agents
        ]
        return out


# ------------------------------------------------------------------------- the simulation

# Calendar entry kinds. A plain int keeps heap entries cheap to compare.
_ARRIVAL, _ABANDON, _ANSWER, _HANGUP, _TICK, _BREAK_ASK, _BREAK_END, _LOGIN, _LOGOUT = range(9)

#: How long ``drain`` goes on at most after the doors close.
DRAIN_LIMIT_SECONDS = 24 * 3600.0

_STAFFED = (AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
_BUSY = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)

#: ``listener(sim, command)``, called for every command the router returns.
Listener = Callable[["Simulation", Command], None]
#: ``arrival_listener(sim, call_id)``, called right after a caller's ``CallArrived`` is routed.
ArrivalListener = Callable[["Simulation", str], None]


@dataclass(slots=True)
class _SimCall:
    call_id: str
    arrived: float  # epoch
    talk: float
    threshold: float
    answered: float | None = None
    agent_id: str | None = None


@dataclass(slots=True)
class _AgentStats:
    calls: int = 0
    talk: float = 0.0
    missed: int = 0
    since: float = 0.0
    state: AgentState = AgentState.LOGGED_OUT
    state_seconds: dict[str, float] = field(default_factory=dict)


class Simulation:
    """Drive a :class:`Router` with synthetic callers and agents in virtual time.

    ``Simulation(config).run(until=8 * 3600)`` returns a :class:`Summary`;
    ``for snap in sim.steps(until=..., every=600): ...`` yields a :class:`Snapshot` every
    ``every`` simulated seconds (for a live status line); ``sim.summary()`` then gives totals.
    ``advance(until)`` moves the clock without yielding. Listeners see every command.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.start = float(config.start)
        skills = set(config.skills)
        for spec in config.agents:
            skills.update(spec.profile.skills)
        for ctype in config.call_types:
            skills.update(r.skill for r in ctype.requirements)
        for queue in config.queues:
            skills.update(s.skill for s in queue.relaxation if s.skill)
        self.router = Router(
            config.time_zone, skills=sorted(skills), explain=config.explain, start=self.start
        )
        for queue in config.queues:
            self.router.add_queue(queue)
        self._specs = {spec.profile.agent_id: spec for spec in config.agents}
        for spec in config.agents:
            self.router.add_agent(spec.profile)
        self._queues = {q.queue_id: q for q in config.queues}

        # One stream per purpose, all from the seed.
        seeder = random.Random(config.seed)
        self._rng_arrival = random.Random(seeder.getrandbits(64))
        self._rng_caller = random.Random(seeder.getrandbits(64))
        self._rng_agent = random.Random(seeder.getrandbits(64))
        self._rng_break = random.Random(seeder.getrandbits(64))

        self.now = self.start
        self._calendar: list[tuple[float, int, int, str, int]] = []
        self._seq = 0
        self._ticks: set[float] = set()
        self._arrivals_open = True
        self._arrival_count = 0
        self._types = config.call_types
        self._type_cum: list[float] = []
        total = 0.0
        for ctype in self._types:
            total += ctype.share
            self._type_cum.append(total)
        self._type_total = total
        self._mean_gap = 3600.0 / config.calls_per_hour if config.calls_per_hour > 0 else math.inf

        self.listeners: list[Listener] = []
        self.arrival_listeners: list[ArrivalListener] = []

        # Bookkeeping and statistics.
        self._calls: dict[str, _SimCall] = {}
        self._ringing: dict[str, tuple[str, int]] = {}  # agent -> (call, ring serial)
        self._on_call: dict[str, str] = {}  # agent -> call
        self._ring_serial = 0
        self._break_serial: dict[str, int] = dict.fromkeys(self._specs, 0)
        self._break_ask_pending: set[str] = set()
        self._leaving: set[str] = set()  # agents whose logout is requested
        self._agent_stats = {aid: _AgentStats(since=self.start) for aid in self._specs}
        self._state_count: dict[AgentState, int] = dict.fromkeys(AgentState, 0)
        self._state_count[AgentState.LOGGED_OUT] = len(self._specs)
        self._state_area: dict[AgentState, float] = dict.fromkeys(AgentState, 0.0)
        self._area_at = self.start
        self.offered = 0
        self.answered = 0
        self.abandoned = 0
        self.completed = 0
        self.within_threshold = 0
        self.ring_no_answer = 0
        self.requeued = 0
        self._sum_wait = 0.0
        self._sum_abandon_wait = 0.0
        self._max_wait = 0.0
        self._sum_talk = 0.0

        if config.calls_per_hour > 0 and config.max_arrivals != 0:
            self._push(self.start + exponential(self._rng_arrival, self._mean_gap), _ARRIVAL)
        for spec in config.agents:
            aid = spec.profile.agent_id
            self._push(self.start + max(0.0, spec.login_at), _LOGIN, aid)
            if spec.logout_at is not None:
                self._push(self.start + max(0.0, spec.logout_at), _LOGOUT, aid)

    # ------------------------------------------------------------------ public API

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    @property
    def calls_in_system(self) -> int:
        """Callers who arrived and have not hung up yet (waiting, rung or talking)."""
        return len(self._calls)

    def close(self) -> None:
        """Stop the arrivals (the callers already in the system stay)."""
        self._arrivals_open = False

    def run(self, until: float, *, drain: bool = False) -> Summary:
        """Simulate up to ``until`` seconds elapsed; with ``drain``, then close the doors and
        go on until the last caller has hung up."""
        self.advance(until)
        if drain:
            self.drain()
        return self.summary()

    def steps(self, until: float, every: float, *, drain: bool = False) -> Iterator[Snapshot]:
        """Advance in steps of ``every`` seconds up to ``until``, yielding a snapshot after
        each; with ``drain``, go on (arrivals closed) in the same steps until nobody is left."""
        if every <= 0:
            raise ValueError(f"every must be > 0, got {every!r}")
        mark = self.elapsed
        while mark < until:
            mark = min(mark + every, until)
            self.advance(mark)
            yield self.snapshot()
        if drain:
            self.close()
            stop = mark + DRAIN_LIMIT_SECONDS
            while self._calls and self._calendar and mark < stop:
                mark += every
                self._run_to(self.start + mark, until_empty=True)
                yield self.snapshot()

    def advance(self, until: float) -> None:
        """Process every event up to ``until`` seconds elapsed, then set the clock there."""
        limit = self.start + until
        if limit < self.now:
            raise ValueError(f"cannot go back from {self.elapsed:g} s to {until:g} s")
        self._run_to(limit)

    def drain(self, limit: float = DRAIN_LIMIT_SECONDS) -> None:
        """Close the arrivals and run until the last caller has hung up (the clock stops
        there), or until ``limit`` more seconds have passed: callers who never give up may
        wait for nobody."""
        self.close()
        self._run_to(self.now + limit, until_empty=True)

    def snapshot(self) -> Snapshot:
        waiting = ringing = talking = 0
        oldest = self.now
        for call in self.router.calls.values():
            if call.status is CallStatus.CONNECTED:
                talking += 1
            else:
                oldest = min(oldest, call.arrived_at)
                if call.status is CallStatus.RINGING:
                    ringing += 1
                else:
                    waiting += 1
        return Snapshot(
            elapsed=self.elapsed,
            at=self.now,
            waiting=waiting,
            ringing=ringing,
            talking=talking,
            longest_wait_seconds=self.now - oldest,
            agents={s.value: n for s, n in self._state_count.items()},
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            service_level=_ratio(self.within_threshold, self.answered),
            asa_seconds=_ratio(self._sum_wait, self.answered),
            arrivals_open=self._arrivals_open,
        )

    def summary(self) -> Summary:
        self._integrate(self.now)
        in_queue = sum(1 for c in self._calls.values() if c.answered is None)
        max_wait = self._max_wait
        for call in self._calls.values():
            if call.answered is None:
                max_wait = max(max_wait, self.now - call.arrived)
        duration = self.now - self.start
        staffed = sum(self._state_area[s] for s in _STAFFED)
        busy = sum(self._state_area[s] for s in _BUSY)
        agents = []
        for aid, spec in self._specs.items():
            stats = self._agent_stats[aid]
            seconds = dict(stats.state_seconds)
            seconds[stats.state.value] = seconds.get(stats.state.value, 0.0) + (
                self.now - stats.since
            )
            agents.append(
                AgentSummary(
                    agent_id=aid,
                    name=spec.profile.name,
                    calls=stats.calls,
                    talk_seconds=stats.talk,
                    missed_offers=stats.missed,
                    state_seconds={s.value: seconds.get(s.value, 0.0) for s in AgentState},
                )
            )
        finished = self.answered + self.abandoned
        return Summary(
            elapsed=duration,
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            in_queue=in_queue,
            talking=len(self._calls) - in_queue,
            completed=self.completed,
            answered_within_threshold=self.within_threshold,
            service_level=_ratio(self.within_threshold, self.answered),
            service_level_offered=_ratio(self.within_threshold, finished),
            abandon_rate=_ratio(self.abandoned, finished),
            asa_seconds=_ratio(self._sum_wait, self.answered),
            mean_abandon_wait_seconds=_ratio(self._sum_abandon_wait, self.abandoned),
            max_wait_seconds=max_wait,
            mean_talk_seconds=_ratio(self._sum_talk, self.completed),
            ring_no_answer=self.ring_no_answer,
            requeued=self.requeued,
            occupancy=_ratio(busy, staffed),
            mean_agents_by_state={
                s.value: (self._state_area[s] / duration if duration > 0 else 0.0)
                for s in AgentState
            },
            agents=tuple(agents),
        )

    def call_arrived_at(self, call_id: str) -> float:
        """Epoch arrival time of a caller still in the system."""
        return self._calls[call_id].arrived

    # ------------------------------------------------------------------ the event loop

    def _push(self, at: float, kind: int, ident: str = "", token: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._calendar, (at, self._seq, kind, ident, token))

    def _run_to(self, limit: float, *, until_empty: bool = False) -> None:
        """Process events up to ``limit`` (epoch) and move the clock there; ``until_empty``:
        stop as soon as no caller is left, with the clock at that moment."""
        calendar = self._calendar
        while calendar and calendar[0][0] <= limit:
            if until_empty and not self._calls:
                return
            self._step()
        if until_empty and not self._calls:
            return
        self._move_clock(limit)

    def _step(self) -> None:
        at, _, kind, ident, token = heapq.heappop(self._calendar)
        self._move_clock(at)
        if kind == _TICK:
            self._ticks.discard(at)
            deadline = self.router.next_deadline()
            if deadline is not None and deadline <= at:
                self._send(Tick(at))
        elif kind == _ARRIVAL:
            self._arrive(at)
        elif kind == _ABANDON:
            call = self.router.calls.get(ident)
            if call is not None and call.status is not CallStatus.CONNECTED:
                self._send(CallAbandoned(at, ident))
        elif kind == _ANSWER:
            ringing = self._ringing.get(ident)
            if ringing is not None and ringing[1] == token:
                self._send(OfferAnswered(at, ringing[0], ident))
        elif kind == _HANGUP:
            if ident in self.router.calls:
                self._send(CallEnded(at, ident))
        elif kind == _BREAK_ASK:
            self._break_ask_pending.discard(ident)
            self._ask_break(at, ident)
        elif kind == _BREAK_END:
            state = self.router.agent(ident).state
            if state is AgentState.BREAK and self._break_serial[ident] == token:
                self._send(AgentReady(at, ident))
        elif kind == _LOGIN:
            if self.router.agent(ident).state is AgentState.LOGGED_OUT:
                self._send(AgentLoggedIn(at, ident))
                self._schedule_break_ask(at, ident)
        elif kind == _LOGOUT and self.router.agent(ident).state is not AgentState.LOGGED_OUT:
            self._leaving.add(ident)  # no more breaks: a break would cancel a deferred logout
            self._send(AgentLoggedOut(at, ident))

    def _send(self, event: Event) -> list[Command]:
        commands = self.router.handle(event)
        for command in commands:
            self._on_command(command)
            for listener in self.listeners:
                listener(self, command)
        deadline = self.router.next_deadline()
        if deadline is not None and deadline not in self._ticks:
            self._ticks.add(deadline)
            self._push(deadline, _TICK)
        return commands

    def _arrive(self, at: float) -> None:
        if not self._arrivals_open:
            return
        cfg = self.config
        self._arrival_count += 1
        if cfg.max_arrivals is None or self._arrival_count < cfg.max_arrivals:
            self._push(at + exponential(self._rng_arrival, self._mean_gap), _ARRIVAL)
        pick = self._rng_arrival.random() * self._type_total
        index = 0
        while index < len(self._type_cum) - 1 and pick >= self._type_cum[index]:
            index += 1
        ctype = self._types[index]
        # Drawn at arrival so a caller's patience and talk time do not depend on routing.
        patience = cfg.patience_distribution(self._rng_caller, ctype.patience_seconds)
        talk = cfg.talk_distribution(self._rng_caller, ctype.talk_seconds)
        call_id = f"c{self._arrival_count}"
        threshold = self._queues[ctype.queue_id].service_level_seconds
        self._calls[call_id] = _SimCall(call_id, at, talk, threshold)
        self.offered += 1
        self._send(
            CallArrived(
                at, call_id, ctype.queue_id, ctype.requirements, ctype.language, ctype.priority
            )
        )
        if math.isfinite(patience):
            self._push(at + patience, _ABANDON, call_id)
        for listener in self.arrival_listeners:
            listener(self, call_id)

    def _ask_break(self, at: float, agent_id: str) -> None:
        state = self.router.agent(agent_id).state
        if state is AgentState.LOGGED_OUT or agent_id in self._leaving:
            return
        if state is AgentState.BREAK:  # already away (e.g. set not-ready): ask again later
            self._schedule_break_ask(at, agent_id)
            return
        # Deferred by the router until the call work ends if the agent is busy.
        self._send(AgentBreak(at, agent_id, self.config.break_reason))

    def _schedule_break_ask(self, at: float, agent_id: str) -> None:
        every = self._specs[agent_id].break_every_seconds
        if every is not None and every > 0 and agent_id not in self._break_ask_pending:
            self._break_ask_pending.add(agent_id)
            gap = self.config.break_distribution(self._rng_break, every)
            self._push(at + gap, _BREAK_ASK, agent_id)

    # ------------------------------------------------------------------ commands

    def _on_command(self, command: Command) -> None:
        at = command.at
        if isinstance(command, AgentStateChanged):
            self._agent_state_changed(command)
        elif isinstance(command, RingAgent):
            agent_id = command.agent_id
            if agent_id in self._ringing or agent_id in self._on_call:
                raise SimulationError(f"agent {agent_id} rung while holding another call")
            self._ring_serial += 1
            self._ringing[agent_id] = (command.call_id, self._ring_serial)
            spec = self._specs[agent_id]
            rng = self._rng_agent
            if rng.random() >= spec.no_answer_probability:
                delay = self.config.answer_distribution(rng, spec.answer_delay_seconds)
                if at + delay < command.deadline:  # else it rings out: the router's timeout
                    self._push(at + delay, _ANSWER, agent_id, self._ring_serial)
        elif isinstance(command, StopRinging):
            self._ringing.pop(command.agent_id, None)
            if command.reason == "no_answer":
                self.ring_no_answer += 1
                self._agent_stats[command.agent_id].missed += 1
        elif isinstance(command, ConnectCall):
            agent_id = command.agent_id
            if agent_id in self._on_call:
                raise SimulationError(f"agent {agent_id} connected while on another call")
            self._ringing.pop(agent_id, None)
            self._on_call[agent_id] = command.call_id
            call = self._calls[command.call_id]
            call.answered = at
            call.agent_id = agent_id
            wait = at - call.arrived
            self.answered += 1
            self._sum_wait += wait
            self._max_wait = max(self._max_wait, wait)
            if wait <= call.threshold:
                self.within_threshold += 1
            self._agent_stats[agent_id].calls += 1
            self._push(at + call.talk, _HANGUP, command.call_id)
        elif isinstance(command, CallRequeued):
            self.requeued += 1
        elif isinstance(command, CallFinished):
            call = self._calls.pop(command.call_id)
            if command.outcome is CallOutcome.ANSWERED:
                agent_id = command.agent_id or ""
                self._on_call.pop(agent_id, None)
                self.completed += 1
                self._sum_talk += command.talk_seconds
                self._agent_stats[agent_id].talk += command.talk_seconds
            else:
                wait = at - call.arrived
                self.abandoned += 1
                self._sum_abandon_wait += wait
                self._max_wait = max(self._max_wait, wait)

    def _agent_state_changed(self, command: AgentStateChanged) -> None:
        at = command.at
        agent_id = command.agent_id
        self._integrate(at)
        self._state_count[command.old] -= 1
        self._state_count[command.new] += 1
        stats = self._agent_stats[agent_id]
        key = stats.state.value
        stats.state_seconds[key] = stats.state_seconds.get(key, 0.0) + (at - stats.since)
        stats.state = command.new
        stats.since = at
        if command.new is AgentState.BREAK:
            spec = self._specs[agent_id]
            self._break_serial[agent_id] += 1
            if command.reason == MISSED_OFFERS_REASON:
                mean = self.config.missed_offers_break_seconds
            else:
                mean = spec.break_seconds
            length = self.config.break_distribution(self._rng_break, mean)
            self._push(at + length, _BREAK_END, agent_id, self._break_serial[agent_id])
        if command.old is AgentState.BREAK and command.new is AgentState.AVAILABLE:
            self._schedule_break_ask(at, agent_id)

    # ------------------------------------------------------------------ time accounting

    def _move_clock(self, at: float) -> None:
        if at > self.now:
            self.now = at

    def _integrate(self, at: float) -> None:
        dt = at - self._area_at
        if dt > 0:
            for state, count in self._state_count.items():
                if count:
                    self._state_area[state] += count * dt
            self._area_at = at


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def spread(values: Iterable[float]) -> dict[str, float | None]:
    """Min, max, max/min and coefficient of variation of per-agent figures (e.g. talk time)."""
    xs = list(values)
    if not xs:
        return {"min": None, "max": None, "max_over_min": None, "cv": None}
    lo, hi = min(xs), max(xs)
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / len(xs)
    return {
        "min": lo,
        "max": hi,
        "max_over_min": hi / lo if lo > 0 else None,
        "cv": math.sqrt(var) / mean if mean > 0 else None,
    }
