"""The router: events in, commands out, no I/O and no clock (sans-I/O, like h11).

Indexes keep every decision cheap whatever the number of agents and waiting calls:

* free agents live in one heap per (skill, language), ordered by level (highest first), then
  talk time today (least first), then the time they became free (longest idle first);
* waiting calls live in one heap per (skill, language, minimum level) of each requirement tier
  they currently accept and the other skills they need too (none for most calls), ordered by
  priority (highest first), queue weight (highest first), then arrival (first come, first
  served).

Entries are invalidated lazily (a token on the agent, a generation on the call) and dropped
when they reach the top of their heap. For the routing explanation, every skill group also
keeps its agents by what keeps them from an offer whatever the call (logged out, on break,
..., or free), so an offer counts the left-out agents without looking at each of them. See
``docs/routing.md`` for the rules.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import tzinfo
from itertools import islice
from typing import Any

from acd.core.agents import Agent, AgentAction, AgentProfile, AgentState
from acd.core.business_day import BusinessDay
from acd.core.calls import Call, CallOutcome, CallStatus, SkillRequirement
from acd.core.commands import (
    AgentStateChanged,
    CallFinished,
    CallRequeued,
    Command,
    ConnectCall,
    RingAgent,
    StopRinging,
)
from acd.core.errors import (
    DuplicateId,
    IllegalTransition,
    InvalidValue,
    TimeWentBackwards,
    UnknownAgent,
    UnknownCall,
    UnknownQueue,
    UnknownSkill,
)
from acd.core.events import (
    AgentBreak,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    CallAbandoned,
    CallArrived,
    CallEnded,
    CallResumed,
    CallWithdrawn,
    Event,
    OfferAnswered,
    OfferRejected,
    PhoneStatusChanged,
    Tick,
    WrapUpDone,
)
from acd.core.ewt import RateTracker, WaitEstimate, estimate_wait
from acd.core.explain import Candidate, Exclusion, ExclusionReason, OfferExplanation
from acd.core.queues import MAX_LEVEL, QueueConfig

S = AgentState
A = AgentAction

MISSED_OFFERS_REASON = "missed_offers"
STAFFED_STATES = frozenset({S.AVAILABLE, S.RINGING, S.ON_CALL, S.WRAP_UP})

# (skill, min level, the other requirements that must hold too)
TierRequirement = tuple[str, int, tuple[SkillRequirement, ...]]
AgentEntry = tuple[int, float, float, str, int]  # (-level, talk today, free since, id, token)
#: From this many free candidates on, an explanation's best candidates are read off the
#: agents' heap (a walk of about as many entries as listed) instead of ranking them all.
WALK_FROM = 64
CallEntry = tuple[tuple[int, int, float, int], str, int]  # (sort key, call id, generation)
Needs = tuple[SkillRequirement, ...]  # a call's other requirements: () for most calls
# (skill, language) -> min level -> other requirements -> heap of the waiting calls
CallHeaps = dict[tuple[str, str], dict[int, dict[Needs, list[CallEntry]]]]
# (tier, -level, talk today, -idle seconds, agent id): how candidates rank, best first
CandidateKey = tuple[int, int, float, float, str]
# An agent in a skill group: (its languages as bits, its level in the skill, the agent); what
# an explanation needs of a free agent, without touching the agent's records.
GroupEntry = tuple[int, int, Agent]

R = ExclusionReason
#: Where an agent stands in the explanation index of each of its skill groups: the reason it
#: is left out of every offer, or ``None`` when it is free and the call decides.
Category = ExclusionReason | None
FREE: Category = None
STATE_REASONS: dict[AgentState, ExclusionReason] = {
    S.LOGGED_OUT: R.LOGGED_OUT,
    S.BREAK: R.ON_BREAK,
    S.WRAP_UP: R.WRAP_UP,
    S.RINGING: R.RINGING_ELSEWHERE,
    S.ON_CALL: R.ON_CALL,
}
#: Reasons that do not depend on the call, in the order they are checked.
AGENT_REASONS: tuple[ExclusionReason, ...] = (
    *STATE_REASONS.values(),
    R.PHONE_UNREGISTERED,
    R.PHONE_BUSY,
)
CATEGORIES: tuple[Category, ...] = (FREE, *AGENT_REASONS)
Group = dict[Category, dict[str, GroupEntry]]  # category -> agent ID -> entry
ALL_REASONS: tuple[ExclusionReason, ...] = tuple(R)
REASON_ORDER: dict[ExclusionReason, int] = {reason: i for i, reason in enumerate(ALL_REASONS)}


class Router:
    def __init__(
        self,
        time_zone: str | tzinfo = "Europe/Moscow",
        *,
        skills: Iterable[str] = (),
        explain: bool = True,
        explain_candidates: int = 10,
        explain_sample: int = 5,
        start: float = 0.0,
    ) -> None:
        """``explain_candidates`` (at least 1) is how many candidates an explanation lists in
        full, best first; ``explain_sample`` how many left-out agents it names per reason
        (all of them are counted)."""
        for name, value, least in (
            ("explain_candidates", explain_candidates, 1),
            ("explain_sample", explain_sample, 0),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise InvalidValue(f"{name} must be an integer >= {least}, got {value!r}")
        self.day = BusinessDay(time_zone)
        self.explain = explain
        self.explain_candidates = explain_candidates
        self.explain_sample = explain_sample
        self.now = self._check_time(start, 0.0)
        self.skills: set[str] = set(skills)
        self.queues: dict[str, QueueConfig] = {}
        self.rates: dict[str, RateTracker] = {}
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, Call] = {}
        self._agents_by_skill: dict[str, set[str]] = {}
        # skill -> category -> the agents in it, in the order they entered it
        self._groups: dict[str, Group] = {}
        self._category: dict[str, Category] = {}
        self._entries: dict[str, dict[str, GroupEntry]] = {}  # agent ID -> skill -> entry
        # skill -> language -> level -> the free agents of the group who speak it
        self._free_index: dict[str, dict[str, list[dict[str, GroupEntry]]]] = {}
        self._language_bits: dict[str, int] = {}
        self._agent_heaps: dict[tuple[str, str], list[AgentEntry]] = {}
        self._call_heaps: CallHeaps = {}  # only heaps that may hold calls: see _best_call_for
        self._timers: list[tuple[float, int, str, str, int]] = []
        self._seq = 0
        self._dirty_calls: list[str] = []
        self._dirty_agents: list[str] = []
        self._out: list[Command] = []
        self._day_number = self.day.day_number(self.now)
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            Tick: self._on_tick,
            AgentLoggedIn: self._on_login,
            AgentLoggedOut: self._on_logout,
            AgentReady: self._on_ready,
            AgentBreak: self._on_break,
            WrapUpDone: self._on_wrap_up_done,
            PhoneStatusChanged: self._on_phone_status,
            CallArrived: self._on_call_arrived,
            CallAbandoned: self._on_call_abandoned,
            CallWithdrawn: self._on_call_withdrawn,
            OfferAnswered: self._on_offer_answered,
            OfferRejected: self._on_offer_rejected,
            CallEnded: self._on_call_ended,
            CallResumed: self._on_call_resumed,
        }

    # ------------------------------------------------------------------ configuration

    def add_skill(self, skill: str) -> None:
        if not skill:
            raise InvalidValue("skill name must not be empty")
        self.skills.add(skill)

    def add_queue(self, queue: QueueConfig) -> None:
        if queue.queue_id in self.queues:
            raise DuplicateId("queue", queue.queue_id)
        for step in queue.relaxation:
            if step.skill is not None and step.skill not in self.skills:
                raise UnknownSkill(step.skill)
        self.queues[queue.queue_id] = queue
        self.rates[queue.queue_id] = RateTracker(
            queue.prior_handle_seconds, queue.prior_patience_seconds
        )

    def add_agent(self, profile: AgentProfile) -> None:
        if profile.agent_id in self.agents:
            raise DuplicateId("agent", profile.agent_id)
        self._check_skills(profile.skills)
        agent = self.agents[profile.agent_id] = Agent(profile=profile, state_since=self.now)
        for skill in profile.skills:
            self._agents_by_skill.setdefault(skill, set()).add(profile.agent_id)
        self._join_groups(agent)

    def update_agent(self, profile: AgentProfile) -> list[Command]:
        """Change an agent's skills, languages or name; takes effect for the next decision."""
        agent = self._agent(profile.agent_id)
        self._check_skills(profile.skills)
        for skill in agent.profile.skills:
            self._agents_by_skill[skill].discard(agent.agent_id)
        for skill in profile.skills:
            self._agents_by_skill.setdefault(skill, set()).add(agent.agent_id)
        self._leave_groups(agent)
        agent.profile = profile
        self._join_groups(agent)
        agent.state_seq += 1
        self._index_agent(agent)
        return self._finish(self.now)

    def remove_agent(self, agent_id: str) -> None:
        agent = self._agent(agent_id)
        if agent.state is not S.LOGGED_OUT:
            raise IllegalTransition(f"agent {agent_id!r}", agent.state.value, "be removed")
        for skill in agent.profile.skills:
            self._agents_by_skill[skill].discard(agent_id)
        self._leave_groups(agent)
        del self.agents[agent_id]

    # ------------------------------------------------------------------ the one entry point

    def handle(self, event: Event) -> list[Command]:
        """Apply ``event`` and return the commands it causes.

        Raises a :class:`~acd.core.errors.RoutingError` and changes nothing if the event is
        invalid (unknown IDs, time going backwards, illegal state change).
        """
        handler = self._handlers.get(type(event))
        if handler is None:
            raise InvalidValue(f"unsupported event {type(event).__name__}")
        at = self._check_time(event.at, self.now)
        handler(event)
        return self._finish(at)

    def next_deadline(self) -> float | None:
        """When the next :class:`Tick` is due (end of a ring or wrap-up, a relaxation step)."""
        while self._timers and not self._timer_valid(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    # ------------------------------------------------------------------ read-only views

    def agent(self, agent_id: str) -> Agent:
        return self._agent(agent_id)

    def call(self, call_id: str) -> Call:
        return self._call(call_id)

    def waiting_calls(self) -> list[Call]:
        """Calls waiting for an agent, best first."""
        waiting = [c for c in self.calls.values() if c.status is CallStatus.WAITING]
        waiting.sort(key=lambda c: c.sort_key)
        return waiting

    def talk_today(self, agent_id: str) -> float:
        return self._agent(agent_id).talk_today(self.day.day_number(self.now))

    def qualifies(self, agent: Agent, call: Call) -> int | None:
        """The best tier through which ``agent``'s skills and languages fit ``call``, if any."""
        if call.language not in agent.profile.languages:
            return None
        skills = agent.profile.skills
        for tier in range(call.active_tiers):
            skill, min_level, others = self._tier_requirement(call, tier)
            if skills.get(skill, 0) >= min_level and _meets(skills, others):
                return tier
        return None

    def snapshot(self) -> tuple[Any, ...]:
        """A comparable picture of everything observable, for tests of "nothing changed"."""
        return (
            self.now,
            sorted((a.agent_id, repr(a)) for a in self.agents.values()),
            sorted((c.call_id, repr(c)) for c in self.calls.values()),
        )

    # ------------------------------------------------------------------ wait estimates

    def eligible_agents(self, call: Call) -> set[str]:
        """Staffed agents (not logged out, not on break, phone registered) who fit ``call``."""
        pool: set[str] = set()
        for tier in range(call.active_tiers):
            skill, _, _ = self._tier_requirement(call, tier)
            for agent_id in self._agents_by_skill.get(skill, ()):
                agent = self.agents[agent_id]
                if (
                    agent.state in STAFFED_STATES
                    and agent.phone_registered
                    and self.qualifies(agent, call) is not None
                ):
                    pool.add(agent_id)
        return pool

    def wait_estimates(self, coverage: float = 0.8) -> dict[str, WaitEstimate]:
        """Position and estimated wait of every waiting call.

        Only calls that compete for the same agents count as ahead: a call is ahead of
        another if it ranks higher and their eligible agents overlap. Pools are computed once
        per distinct requirement signature, so the cost is O(calls x signatures).
        """
        waiting = self.waiting_calls()
        pools: dict[tuple[Any, ...], frozenset[str]] = {}
        signature_of: list[tuple[Any, ...]] = []
        for call in waiting:
            sig = (call.queue_id, call.requirements, call.language, call.active_tiers)
            if sig not in pools:
                pools[sig] = frozenset(self.eligible_agents(call))
            signature_of.append(sig)
        overlaps = {a: [b for b in pools if pools[a] & pools[b] or a == b] for a in pools}
        seen: dict[tuple[Any, ...], int] = dict.fromkeys(pools, 0)
        result: dict[str, WaitEstimate] = {}
        for call, sig in zip(waiting, signature_of, strict=True):
            ahead = sum(seen[other] for other in overlaps[sig])
            rates = self.rates[call.queue_id]
            result[call.call_id] = estimate_wait(
                ahead, len(pools[sig]), rates.mu, rates.theta, coverage
            )
            seen[sig] += 1
        return result

    def estimate_wait(self, call_id: str, coverage: float = 0.8) -> WaitEstimate:
        call = self._call(call_id)
        if call.status is not CallStatus.WAITING:
            raise IllegalTransition(f"call {call_id!r}", call.status.value, "be estimated")
        pool = self.eligible_agents(call)
        ahead = 0
        pool_cache: dict[tuple[Any, ...], bool] = {}
        for other in self.calls.values():
            if other.status is not CallStatus.WAITING or other.sort_key >= call.sort_key:
                continue
            sig = (other.queue_id, other.requirements, other.language, other.active_tiers)
            competes = pool_cache.get(sig)
            if competes is None:
                competes = pool_cache[sig] = bool(pool & self.eligible_agents(other))
            ahead += competes
        rates = self.rates[call.queue_id]
        return estimate_wait(ahead, len(pool), rates.mu, rates.theta, coverage)

    # ------------------------------------------------------------------ event handlers
    # Each handler validates everything first and only then changes state.

    def _on_tick(self, event: Tick) -> None:
        at = event.at
        while self._timers and self._timers[0][0] <= at:
            timer = heapq.heappop(self._timers)
            if not self._timer_valid(timer):
                continue
            _, _, kind, ident, token = timer
            if kind == "ringing":
                agent = self.agents[ident]
                self._offer_failed(agent, at, "no_answer", miss=True)
            elif kind == "wrap_up":
                self._end_wrap_up(self.agents[ident], at)
            elif kind == "relax":
                self._activate_tier(self.calls[ident], token)

    def _on_login(self, event: AgentLoggedIn) -> None:
        agent = self._agent(event.agent_id)
        new = agent.next_state(A.LOGIN)
        agent.consecutive_misses = 0
        agent.pending_break = None
        agent.pending_logout = False
        self._set_state(agent, new, event.at)

    def _on_logout(self, event: AgentLoggedOut) -> None:
        agent = self._agent(event.agent_id)
        if agent.state in (S.ON_CALL, S.WRAP_UP):
            agent.pending_logout = True
            return
        if agent.state is S.RINGING:
            self._offer_failed(agent, event.at, "agent_logged_out", miss=False, then=S.LOGGED_OUT)
            return
        self._set_state(agent, agent.next_state(A.LOGOUT), event.at)

    def _on_ready(self, event: AgentReady) -> None:
        agent = self._agent(event.agent_id)
        state = agent.state
        if state is S.LOGGED_OUT:
            raise IllegalTransition(f"agent {agent.agent_id!r}", state.value, A.READY.value)
        agent.pending_break = None
        agent.pending_logout = False
        if state is S.BREAK:
            agent.consecutive_misses = 0
            self._set_state(agent, agent.next_state(A.READY), event.at)
        elif state is S.WRAP_UP:
            self._end_wrap_up(agent, event.at)

    def _on_break(self, event: AgentBreak) -> None:
        agent = self._agent(event.agent_id)
        if not event.reason:
            raise InvalidValue("a break needs a reason code")
        if agent.state in (S.RINGING, S.ON_CALL, S.WRAP_UP):
            agent.pending_break = event.reason
            agent.pending_logout = False
            return
        self._set_state(agent, agent.next_state(A.TAKE_BREAK), event.at, event.reason)

    def _on_wrap_up_done(self, event: WrapUpDone) -> None:
        agent = self._agent(event.agent_id)
        agent.next_state(A.END_WRAP_UP)
        self._end_wrap_up(agent, event.at)

    def _on_phone_status(self, event: PhoneStatusChanged) -> None:
        agent = self._agent(event.agent_id)
        if event.registered is not None:
            agent.phone_registered = event.registered
        if event.busy is not None:
            agent.phone_busy = event.busy
        agent.state_seq += 1
        self._regroup(agent)
        if agent.state is S.RINGING and not agent.phone_registered:
            self._offer_failed(agent, event.at, "phone_unregistered", miss=False)
        else:
            self._index_agent(agent)

    def _new_call(self, event: CallArrived | CallResumed, arrived: float) -> Call:
        """A call checked and numbered (not yet in :attr:`calls`)."""
        if event.call_id in self.calls:
            raise DuplicateId("call", event.call_id)
        queue = self.queues.get(event.queue_id)
        if queue is None:
            raise UnknownQueue(event.queue_id)
        if not event.requirements:
            raise InvalidValue(f"call {event.call_id!r} needs at least one skill requirement")
        for req in event.requirements:
            if req.skill not in self.skills:
                raise UnknownSkill(req.skill)
        if not isinstance(event.priority, int):
            raise InvalidValue(f"priority must be an integer, got {event.priority!r}")
        if not isinstance(arrived, int | float) or not math.isfinite(arrived) or arrived < 0:
            raise InvalidValue(f"arrival time must be a finite time >= 0, got {arrived!r}")
        if arrived > event.at:
            raise InvalidValue(f"call {event.call_id!r} cannot arrive after it is queued")
        self._seq += 1
        return Call(
            call_id=event.call_id,
            queue_id=event.queue_id,
            requirements=tuple(event.requirements),
            language=event.language,
            priority=event.priority,
            arrived_at=arrived,
            seq=self._seq,
            sort_key=(-event.priority, -queue.weight, arrived, self._seq),
        )

    def _on_call_arrived(self, event: CallArrived) -> None:
        arrived = event.at if event.arrived_at is None else event.arrived_at
        call = self._new_call(event, arrived)
        queue = self.queues[call.queue_id]
        self.calls[call.call_id] = call
        for index, step in enumerate(queue.relaxation, start=1):
            due = arrived + step.after_seconds
            if due <= event.at:
                call.active_tiers = index + 1
            else:
                self._push_timer(due, "relax", call.call_id, index)
        self._enqueue(call)

    def _on_call_resumed(self, event: CallResumed) -> None:
        """A call already talking (after a restart) taken over as connected."""
        agent = self._agent(event.agent_id)
        call = self._new_call(event, event.arrived_at)
        answered = event.answered_at
        if not isinstance(answered, int | float) or not event.arrived_at <= answered <= event.at:
            raise InvalidValue(
                f"call {event.call_id!r}: answer time must be between arrival and now, "
                f"got {answered!r}"
            )
        agent.next_state(A.RESUME_CALL)
        call.status = CallStatus.CONNECTED
        call.agent_id = agent.agent_id
        call.answered_at = float(answered)
        self.calls[call.call_id] = call
        agent.call_id = call.call_id
        agent.work_started = float(answered)
        agent.work_queue = call.queue_id
        self._set_state(agent, S.ON_CALL, event.at)

    def _on_call_abandoned(self, event: CallAbandoned) -> None:
        self._leave_queue(event.call_id, event.at, CallOutcome.ABANDONED, "caller_abandoned")

    def _on_call_withdrawn(self, event: CallWithdrawn) -> None:
        self._leave_queue(event.call_id, event.at, CallOutcome.WITHDRAWN, event.reason)

    def _on_offer_answered(self, event: OfferAnswered) -> None:
        call, agent = self._ringing_pair(event.call_id, event.agent_id, A.ANSWER)
        agent.consecutive_misses = 0
        agent.work_started = event.at
        agent.work_queue = call.queue_id
        self._set_state(agent, S.ON_CALL, event.at)
        call.status = CallStatus.CONNECTED
        call.answered_at = event.at
        self.rates[call.queue_id].record_exit(event.at - call.arrived_at, abandoned=False)
        self._out.append(ConnectCall(event.at, call.call_id, agent.agent_id))

    def _on_offer_rejected(self, event: OfferRejected) -> None:
        _, agent = self._ringing_pair(event.call_id, event.agent_id, A.MISS)
        self._offer_failed(agent, event.at, "rejected", miss=True)

    def _on_call_ended(self, event: CallEnded) -> None:
        call = self._call(event.call_id)
        if call.status is not CallStatus.CONNECTED:
            raise IllegalTransition(f"call {call.call_id!r}", call.status.value, "end")
        at = event.at
        agent = self.agents[call.agent_id]  # type: ignore[index]
        answered = call.answered_at if call.answered_at is not None else at
        day = self.day.day_number(at)
        counted = at - max(answered, self.day.day_start(at))  # only today's part of the call
        if agent.talk_day != day:
            agent.talk_day, agent.talk_seconds = day, 0.0
        agent.talk_seconds += counted
        del self.calls[call.call_id]
        self._out.append(
            CallFinished(
                at,
                call.call_id,
                CallOutcome.ANSWERED,
                agent.agent_id,
                answered - call.arrived_at,
                at - answered,
            )
        )
        agent.call_id = None
        self._set_state(agent, S.WRAP_UP, at)
        wrap = self.queues[call.queue_id].wrap_up_seconds
        if wrap <= 0:
            self._end_wrap_up(agent, at)
        else:
            agent.deadline = at + wrap
            self._push_timer(agent.deadline, "wrap_up", agent.agent_id, 0)

    # ------------------------------------------------------------------ transitions

    def _set_state(
        self, agent: Agent, new: AgentState, at: float, reason: str | None = None
    ) -> None:
        old = agent.state
        agent.state = new
        agent.state_since = at
        agent.state_seq += 1
        agent.deadline = None
        agent.break_reason = reason if new is S.BREAK else None
        self._regroup(agent)
        self._out.append(AgentStateChanged(at, agent.agent_id, old, new, reason))
        if new is S.AVAILABLE:
            agent.available_since = at
            self._index_agent(agent)

    def _settle(self, agent: Agent, at: float, missed_enough: bool = False) -> None:
        """Leave call work: honour a pending logout or break, else become available."""
        queue_reason = MISSED_OFFERS_REASON if missed_enough else None
        if agent.pending_logout:
            new, reason = S.LOGGED_OUT, None
        elif agent.pending_break is not None:
            new, reason = S.BREAK, agent.pending_break
        elif queue_reason:
            new, reason = S.BREAK, queue_reason
        else:
            new, reason = S.AVAILABLE, None
        agent.pending_break = None
        agent.pending_logout = False
        agent.call_id = None
        self._set_state(agent, new, at, reason)

    def _end_wrap_up(self, agent: Agent, at: float) -> None:
        if agent.work_started is not None and agent.work_queue in self.rates:
            self.rates[agent.work_queue].record_handle(at - agent.work_started)
        agent.work_started = None
        agent.work_queue = None
        self._settle(agent, at)

    def _offer_failed(
        self, agent: Agent, at: float, reason: str, *, miss: bool, then: AgentState | None = None
    ) -> None:
        call = self.calls[agent.call_id]  # type: ignore[index]
        self._out.append(StopRinging(at, call.call_id, agent.agent_id, reason))
        missed_enough = False
        if miss:
            agent.consecutive_misses += 1
            call.missed_by.add(agent.agent_id)
            missed_enough = agent.consecutive_misses >= self.queues[call.queue_id].max_misses
        if then is S.LOGGED_OUT:
            agent.pending_logout = True
        self._settle(agent, at, missed_enough)
        call.status = CallStatus.WAITING
        call.agent_id = None
        self._out.append(CallRequeued(at, call.call_id, agent.agent_id, reason))
        self._enqueue(call)

    def _leave_queue(self, call_id: str, at: float, outcome: CallOutcome, reason: str) -> None:
        call = self._call(call_id)
        if call.status is CallStatus.CONNECTED:
            raise IllegalTransition(f"call {call_id!r}", call.status.value, "leave the queue")
        if call.status is CallStatus.RINGING:
            agent = self.agents[call.agent_id]  # type: ignore[index]
            self._out.append(StopRinging(at, call.call_id, agent.agent_id, reason))
            self._settle(agent, at)
        del self.calls[call_id]
        self.rates[call.queue_id].record_exit(
            at - call.arrived_at, abandoned=outcome is CallOutcome.ABANDONED
        )
        self._out.append(CallFinished(at, call_id, outcome, None, at - call.arrived_at, 0.0))

    def _offer(self, call: Call, agent: Agent, at: float, trigger: str) -> None:
        explanation = self._explain(call, agent, trigger, at) if self.explain else None
        self._set_state(agent, S.RINGING, at)
        agent.call_id = call.call_id
        agent.deadline = at + self.queues[call.queue_id].ring_timeout_seconds
        self._push_timer(agent.deadline, "ringing", agent.agent_id, 0)
        call.status = CallStatus.RINGING
        call.agent_id = agent.agent_id
        call.offers += 1
        if call.offered_at is None:
            call.offered_at = at
        self._out.append(RingAgent(at, call.call_id, agent.agent_id, agent.deadline, explanation))

    # ------------------------------------------------------------------ matching

    def _finish(self, at: float) -> list[Command]:
        self.now = at
        day = self.day.day_number(at)
        if day != self._day_number:  # local midnight: talk time today starts again from zero
            self._day_number = day
            self._rebuild_agent_index()
        while self._dirty_calls or self._dirty_agents:
            calls, self._dirty_calls = self._dirty_calls, []
            for call in sorted(
                (self.calls[c] for c in set(calls) if c in self.calls), key=lambda c: c.sort_key
            ):
                if call.status is CallStatus.WAITING:
                    agent = self._best_agent_for(call)
                    if agent is not None:
                        self._offer(call, agent, at, "call_waiting")
            agents, self._dirty_agents = self._dirty_agents, []
            for agent_id in agents:
                agent = self.agents.get(agent_id)
                if agent is not None and agent.offerable:
                    best = self._best_call_for(agent)
                    if best is not None:
                        self._offer(best, agent, at, "agent_free")
        out, self._out = self._out, []
        return out

    def _best_agent_for(self, call: Call) -> Agent | None:
        """Most qualified free agent: lowest tier, highest level, least talk, longest idle.

        Agents who already missed this call are taken only when nobody else is free, so a
        ring-no-answer moves on to the next agent; and only if this is the call they would pick
        themselves: one who just missed this call and has an earlier call waiting takes that
        one (as an agent looking for a call) and this call waits.
        """
        fallbacks: list[Agent] = []
        for tier in range(call.active_tiers):
            skill, min_level, others = self._tier_requirement(call, tier)
            heap = self._agent_heaps.get((skill, call.language))
            if not heap:
                continue
            set_aside: list[AgentEntry] = []
            found: Agent | None = None
            while heap:
                entry = heap[0]
                agent = self._free_agent(entry)
                if agent is None:
                    heapq.heappop(heap)
                    continue
                if -entry[0] < min_level:
                    break
                if _meets(agent.profile.skills, others):
                    if agent.agent_id not in call.missed_by:
                        found = agent
                        break
                    if agent not in fallbacks:
                        fallbacks.append(agent)
                set_aside.append(heapq.heappop(heap))
            for entry in set_aside:
                heapq.heappush(heap, entry)
            if found is not None:
                return found
        for agent in fallbacks:
            if self._best_call_for(agent) is call:
                return agent
        self._dirty_agents.extend(agent.agent_id for agent in fallbacks)
        return None

    def _best_call_for(self, agent: Agent) -> Call | None:
        """The waiting call this agent fits with the highest priority, then longest wait.

        Calls are kept apart by what else they need besides the heap's skill, so the top of
        every heap whose other needs the agent meets is a call it can take: one peek per heap,
        whatever the length of the queue.
        """
        best: Call | None = None
        skills = agent.profile.skills
        languages = agent.profile.languages
        call_heaps = self._call_heaps
        emptied: list[tuple[dict[int, dict[Needs, list[CallEntry]]], int, Needs]] = []
        for skill, level in skills.items():
            for language in languages:
                by_level = call_heaps.get((skill, language))
                if not by_level:
                    continue
                for min_level, by_needs in by_level.items():
                    if min_level > level:
                        continue
                    for needs, heap in by_needs.items():
                        if needs and not _meets(skills, needs):
                            continue
                        call = self._top_call(heap)
                        if call is None:
                            emptied.append((by_level, min_level, needs))
                        elif best is None or call.sort_key < best.sort_key:
                            best = call
        for by_level, min_level, needs in emptied:  # keep only heaps with calls to look at
            by_needs = by_level[min_level]
            del by_needs[needs]
            if not by_needs:
                del by_level[min_level]
        return best

    def _top_call(self, heap: list[CallEntry]) -> Call | None:
        """The first call of ``heap`` still waiting; drops the entries no longer valid."""
        calls = self.calls
        waiting = CallStatus.WAITING
        while heap:
            _, call_id, generation = heap[0]
            call = calls.get(call_id)
            if call is not None and call.status is waiting and call.generation == generation:
                return call
            heapq.heappop(heap)
        return None

    def _tier_requirement(self, call: Call, tier: int) -> TierRequirement:
        primary = call.requirements[0]
        others = call.requirements[1:]
        if tier == 0:
            return primary.skill, primary.min_level, others
        step = self.queues[call.queue_id].relaxation[tier - 1]
        return step.skill or primary.skill, step.min_level, others

    # ------------------------------------------------------------------ indexes

    def _index_agent(self, agent: Agent) -> None:
        if not agent.offerable:
            return
        agent.state_seq += 1
        talk = agent.talk_today(self.day.day_number(self.now))
        token = agent.state_seq
        for skill, level in agent.profile.skills.items():
            for language in agent.profile.languages:
                heap = self._agent_heaps.setdefault((skill, language), [])
                heapq.heappush(heap, (-level, talk, agent.available_since, agent.agent_id, token))
        self._dirty_agents.append(agent.agent_id)

    def _rebuild_agent_index(self) -> None:
        self._agent_heaps.clear()
        for agent in self.agents.values():
            self._index_agent(agent)

    def _enqueue(self, call: Call) -> None:
        call.generation += 1
        for tier in range(call.active_tiers):
            self._push_call_entry(call, tier)
        self._dirty_calls.append(call.call_id)

    def _push_call_entry(self, call: Call, tier: int) -> None:
        skill, min_level, needs = self._tier_requirement(call, tier)
        by_level = self._call_heaps.setdefault((skill, call.language), {})
        by_needs = by_level.setdefault(min_level, {})
        entry = (call.sort_key, call.call_id, call.generation)
        heapq.heappush(by_needs.setdefault(needs, []), entry)

    def _activate_tier(self, call: Call, tier: int) -> None:
        if tier < call.active_tiers:
            return
        call.active_tiers = tier + 1
        if call.status is CallStatus.WAITING:
            self._push_call_entry(call, tier)
            self._dirty_calls.append(call.call_id)

    def _push_timer(self, deadline: float, kind: str, ident: str, token: int) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (deadline, self._seq, kind, ident, token))

    def _timer_valid(self, timer: tuple[float, int, str, str, int]) -> bool:
        deadline, _, kind, ident, _ = timer
        if kind == "relax":
            return ident in self.calls
        agent = self.agents.get(ident)
        return agent is not None and agent.state.value == kind and agent.deadline == deadline

    # ------------------------------------------------------------------ explanation
    # Every skill group keeps its agents by category (``_groups``) as entries of (languages as
    # bits, level in the skill, agent); its free agents are also kept by language and level
    # (``_free_index``). The usual offer is then explained from the sizes of those dicts,
    # looking only at the agents it lists.

    def _join_groups(self, agent: Agent) -> None:
        bits = self._language_bits
        mask = 0
        for language in agent.profile.languages:
            bit = bits.get(language)
            if bit is None:
                bit = bits[language] = 1 << len(bits)
            mask |= bit
        entries = {skill: (mask, level, agent) for skill, level in agent.profile.skills.items()}
        self._entries[agent.agent_id] = entries
        category = self._category[agent.agent_id] = _category(agent)
        for skill, entry in entries.items():
            group = self._groups.get(skill)
            if group is None:
                group = self._groups[skill] = {c: {} for c in CATEGORIES}
            group[category][agent.agent_id] = entry
        if category is FREE:
            self._index_free(agent, entries)

    def _leave_groups(self, agent: Agent) -> None:
        """Take ``agent`` out of its skill groups (before its profile changes)."""
        category = self._category.pop(agent.agent_id)
        entries = self._entries.pop(agent.agent_id)
        for skill in entries:
            del self._groups[skill][category][agent.agent_id]
        if category is FREE:
            self._unindex_free(agent, entries)

    def _regroup(self, agent: Agent) -> None:
        """Move ``agent`` to its new category in its skill groups, if it changed."""
        agent_id = agent.agent_id
        old = self._category[agent_id]
        new = _category(agent)
        if new is old:
            return
        self._category[agent_id] = new
        groups = self._groups
        entries = self._entries[agent_id]
        for skill, entry in entries.items():
            group = groups[skill]
            del group[old][agent_id]
            group[new][agent_id] = entry
        if old is FREE:
            self._unindex_free(agent, entries)
        elif new is FREE:
            self._index_free(agent, entries)

    def _index_free(self, agent: Agent, entries: dict[str, GroupEntry]) -> None:
        agent_id = agent.agent_id
        for skill, entry in entries.items():
            by_language = self._free_index.setdefault(skill, {})
            for language in agent.profile.languages:
                by_level = by_language.get(language)
                if by_level is None:
                    by_level = by_language[language] = [{} for _ in range(MAX_LEVEL + 1)]
                by_level[entry[1]][agent_id] = entry

    def _unindex_free(self, agent: Agent, entries: dict[str, GroupEntry]) -> None:
        agent_id = agent.agent_id
        for skill, entry in entries.items():
            by_language = self._free_index[skill]
            for language in agent.profile.languages:
                del by_language[language][entry[1]][agent_id]

    def _explain(self, call: Call, chosen: Agent, trigger: str, at: float) -> OfferExplanation:
        """The offer of ``call`` to ``chosen`` as it stands now, before the agent rings.

        The skill group is every agent with a skill of one of the call's active tiers. Agents
        left out whatever the call are counted from the group's index. So are the free ones
        for a call that needs one skill; for one that needs more (or is relaxed to another
        skill) each free agent of the group is looked at. Either way, only the agents listed
        are looked at in full.
        """
        tiers = [self._tier_requirement(call, t) for t in range(call.active_tiers)]
        groups: list[Group] = []
        seen: set[str] = set()
        for skill, _, _ in tiers:
            group = self._groups.get(skill)
            if group is not None and skill not in seen:
                seen.add(skill)
                groups.append(group)

        def members(category: Category) -> dict[str, GroupEntry]:
            if len(groups) == 1:
                return groups[0][category]
            merged: dict[str, GroupEntry] = {}  # an agent with two of the skills counts once
            for group in groups:
                merged.update(group[category])
            return merged

        sample = self.explain_sample
        counts: dict[ExclusionReason, int] = {}
        excluded: list[Exclusion] = []
        for reason in AGENT_REASONS:
            agents = members(reason)
            if agents:
                counts[reason] = len(agents)
                for _, _, agent in islice(agents.values(), sample):
                    excluded.append(Exclusion(agent.agent_id, reason, _detail(reason, agent)))

        # Free agents: the call decides. Each is a candidate, or left out for its language or a
        # level; only ``sample`` of those are named. Candidates are bucketed by (tier, level):
        # the full score is worked out for the few that make the list.
        language = call.language
        others = call.requirements[1:]
        primary = tiers[0][0]
        free = members(FREE)
        buckets: dict[int, dict[str, GroupEntry]] = {}  # tier * 16 - level -> candidates
        wrong_language: list[str] = []
        below_level: list[Agent] = []  # below the call's own skill level in every tier
        n_wrong_language = n_below_level = 0
        unmet_other: list[tuple[Agent, SkillRequirement]] = []  # lacking another skill
        ranked_heap: tuple[list[AgentEntry], tuple[int | None, ...]] | None = None
        if not others and all(skill == primary for skill, _, _ in tiers):
            tier_of = _tier_table(tuple(min_level for _, min_level, _ in tiers))
            ranked_heap = (self._agent_heaps.get((primary, language), []), tier_of)
            speakers = 0
            for level, agents in enumerate(self._free_index.get(primary, {}).get(language, ())):
                if not agents:
                    continue
                speakers += len(agents)
                tier = tier_of[level]
                if tier is not None:
                    buckets[tier * 16 - level] = agents
                else:
                    n_below_level += len(agents)
                    for _, _, agent in islice(agents.values(), sample - len(below_level)):
                        below_level.append(agent)
            n_wrong_language = len(free) - speakers
            bit = self._language_bits.get(language, 0)
            wanted = min(sample, n_wrong_language)
            for agent_id, (languages, _, _) in free.items():
                if len(wrong_language) >= wanted:
                    break
                if not languages & bit:
                    wrong_language.append(agent_id)
        else:
            levels = [(t, skill, min_level) for t, (skill, min_level, _) in enumerate(tiers)]
            for agent_id, entry in free.items():
                agent = entry[2]
                profile = agent.profile
                if language not in profile.languages:
                    n_wrong_language += 1
                    if len(wrong_language) < sample:
                        wrong_language.append(agent_id)
                    continue
                skills = profile.skills
                unmet = None
                for req in others:
                    if skills.get(req.skill, 0) < req.min_level:
                        unmet = req
                        break
                if unmet is not None:
                    unmet_other.append((agent, unmet))
                    continue
                for tier, skill, min_level in levels:
                    level = skills.get(skill, 0)
                    if level >= min_level:
                        bucket = buckets.get(tier * 16 - level)
                        if bucket is None:
                            buckets[tier * 16 - level] = {agent_id: entry}
                        else:
                            bucket[agent_id] = entry
                        break
                else:
                    n_below_level += 1
                    if len(below_level) < sample:
                        below_level.append(agent)

        if n_wrong_language:
            counts[R.WRONG_LANGUAGE] = n_wrong_language
            detail = f"needs {language}"
            excluded += [
                Exclusion(agent_id, R.WRONG_LANGUAGE, detail) for agent_id in wrong_language
            ]
        if n_below_level:
            counts[R.BELOW_LEVEL] = n_below_level
        lowest = min(level for _, level, _ in tiers)
        unfit = [(agent, R.BELOW_LEVEL, primary, lowest) for agent in below_level]
        for agent, req in unmet_other:
            reason = R.BELOW_LEVEL if req.skill in agent.profile.skills else R.MISSING_SKILL
            counts[reason] = counts.get(reason, 0) + 1
            unfit.append((agent, reason, req.skill, req.min_level))
        named: dict[ExclusionReason, int] = {}
        for agent, reason, skill, need in unfit:
            if named.get(reason, 0) < sample:
                named[reason] = named.get(reason, 0) + 1
                has = agent.profile.skills.get(skill, 0)
                detail = f"{skill}: has {has}, needs {need}"
                excluded.append(Exclusion(agent.agent_id, reason, detail))

        excluded.sort(key=lambda e: (REASON_ORDER[e.reason], e.agent_id))
        return OfferExplanation(
            call.call_id,
            chosen.agent_id,
            trigger,
            self._top_candidates(call, chosen, buckets, at, ranked_heap),
            tuple(excluded),
            sum(map(len, buckets.values())),
            {reason: counts[reason] for reason in ALL_REASONS if reason in counts},
        )

    def _top_candidates(
        self,
        call: Call,
        chosen: Agent,
        buckets: dict[int, dict[str, GroupEntry]],
        at: float,
        ranked_heap: tuple[list[AgentEntry], tuple[int | None, ...]] | None = None,
    ) -> tuple[Candidate, ...]:
        """The chosen agent, then the best of the others: those who have not missed this call
        bucket by bucket, then those who have; at most ``explain_candidates``.

        ``ranked_heap`` (a call needing one skill): the free agents' heap of that skill and
        the call's language, already in candidate order (level, talk today, free since), and
        which tier each level meets. The best others are then read off the heap, best first,
        looking at about as many entries as are listed, instead of ranking every free agent
        of the group."""
        limit = self.explain_candidates
        day = self.day.day_number(at)
        missed_by = call.missed_by
        chosen_id = chosen.agent_id

        def key(agent_id: str, agent: Agent, tier: int, level: int) -> CandidateKey:
            talk = agent.talk_seconds if agent.talk_day == day else 0.0
            return (tier, -level, talk, agent.available_since - at, agent_id)

        ranks = sorted(buckets)
        picked: list[tuple[bool, CandidateKey]] = []
        missed: list[CandidateKey] = []
        for rank in ranks:
            bucket = buckets[rank]
            tier, level = _tier_and_level(rank)
            if chosen_id in bucket:
                picked.append((chosen_id in missed_by, key(chosen_id, chosen, tier, level)))
            for agent_id in missed_by:
                entry = bucket.get(agent_id)
                if entry is not None and agent_id != chosen_id:
                    missed.append(key(agent_id, entry[2], tier, level))
        if ranked_heap is not None and sum(map(len, buckets.values())) < WALK_FROM:
            ranked_heap = None  # few free agents: ranking them all is cheaper than a walk
        if ranked_heap is not None:
            heap, tier_of = ranked_heap
            need = limit - len(picked)
            best = [
                key(agent.agent_id, agent, tier, level)
                for agent, tier, level in self._best_free(heap, tier_of, need, chosen_id, missed_by)
            ]
            picked += [(False, k) for k in sorted(best)]
        for rank in ranks if ranked_heap is None else ():
            need = limit - len(picked)
            if need <= 0:
                break
            tier, level = _tier_and_level(rank)
            ranked = [
                key(agent_id, agent, tier, level)
                for agent_id, (_, _, agent) in buckets[rank].items()
                if agent_id != chosen_id and agent_id not in missed_by
            ]
            best = sorted(ranked) if len(ranked) <= need else heapq.nsmallest(need, ranked)
            picked += [(False, k) for k in best]
        picked += [(True, k) for k in sorted(missed)[: max(0, limit - len(picked))]]
        return tuple(
            Candidate(agent_id, was_missed, tier, -level, talk, -idle)
            for was_missed, (tier, level, talk, idle, agent_id) in picked
        )

    def _best_free(
        self,
        heap: list[AgentEntry],
        tier_of: tuple[int | None, ...],
        count: int,
        chosen_id: str,
        missed_by: set[str],
    ) -> list[tuple[Agent, int, int]]:
        """Up to ``count`` free agents of ``heap`` best first, as (agent, tier, level), without
        ``chosen_id`` and ``missed_by``: a best-first walk of the heap's tree (a parent is never
        worse than its children), so only the entries ahead of the last one taken are looked
        at. Entries no longer valid are stepped over (their children may still be valid)."""
        found: list[tuple[Agent, int, int]] = []
        if count <= 0 or not heap:
            return found
        frontier: list[tuple[AgentEntry, int]] = [(heap[0], 0)]
        size = len(heap)
        while frontier and len(found) < count:
            entry, index = heapq.heappop(frontier)
            level = -entry[0]
            tier = tier_of[level] if 0 <= level < len(tier_of) else None
            if tier is None:
                break  # below every tier's level: so is everything after it
            for child in (2 * index + 1, 2 * index + 2):
                if child < size:
                    heapq.heappush(frontier, (heap[child], child))
            agent = self._free_agent(entry)
            if agent is None or entry[3] == chosen_id or entry[3] in missed_by:
                continue
            found.append((agent, tier, level))
        return found

    def _free_agent(self, entry: AgentEntry) -> Agent | None:
        """The agent of a free-agents heap entry, if the entry is still valid (the agent's
        latest, and the agent can be offered a call)."""
        agent = self.agents.get(entry[3])
        if agent is None or agent.state_seq != entry[4] or not agent.offerable:
            return None
        return agent

    # ------------------------------------------------------------------ lookups and checks

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def _call(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise UnknownCall(call_id)
        return call

    def _ringing_pair(self, call_id: str, agent_id: str, action: AgentAction) -> tuple[Call, Agent]:
        call = self._call(call_id)
        agent = self._agent(agent_id)
        if call.status is not CallStatus.RINGING or call.agent_id != agent_id:
            raise IllegalTransition(
                f"call {call_id!r}", f"{call.status.value} (agent {call.agent_id})", action.value
            )
        agent.next_state(action)
        return call, agent

    def _check_skills(self, skills: Iterable[str]) -> None:
        for skill in skills:
            if skill not in self.skills:
                raise UnknownSkill(skill)

    @staticmethod
    def _check_time(at: float, last: float) -> float:
        if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
            raise InvalidValue(f"time must be a finite number of seconds, got {at!r}")
        if at < 0:
            raise InvalidValue(f"time must not be negative, got {at!r}")
        if at < last:
            raise TimeWentBackwards(at, last)
        return float(at)


def _meets(skills: Any, requirements: Iterable[SkillRequirement]) -> bool:
    return all(skills.get(r.skill, 0) >= r.min_level for r in requirements)


def _category(agent: Agent) -> Category:
    """Why ``agent`` is left out of any offer now (``FREE``: it is not, the call decides)."""
    state = agent.state
    if state is not S.AVAILABLE:
        return STATE_REASONS[state]
    if not agent.phone_registered:
        return R.PHONE_UNREGISTERED
    if agent.phone_busy:
        return R.PHONE_BUSY
    return FREE


@functools.lru_cache(maxsize=256)
def _tier_table(min_levels: tuple[int, ...]) -> tuple[int | None, ...]:
    """For each level 0-10 of the one skill of all tiers, the first tier it meets, if any."""
    return tuple(
        next((tier for tier, least in enumerate(min_levels) if level >= least), None)
        for level in range(MAX_LEVEL + 1)
    )


def _tier_and_level(rank: int) -> tuple[int, int]:
    """Back from a candidate bucket's ``tier * 16 - level`` (level 1-10)."""
    tier = -(-rank // 16)
    return tier, tier * 16 - rank


def _detail(reason: ExclusionReason, agent: Agent) -> str:
    if reason is R.ON_BREAK:
        return agent.break_reason or ""
    if reason is R.RINGING_ELSEWHERE or reason is R.ON_CALL:
        return agent.call_id or ""
    return ""


def iter_commands(commands: Iterable[Command], kind: type[Command]) -> Iterator[Any]:
    """The commands of one type, in order (a convenience for adapters and tests)."""
    return (c for c in commands if isinstance(c, kind))


__all__ = ["Router", "iter_commands"]
