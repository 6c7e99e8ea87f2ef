"""The router: events in, commands out, no I/O and no clock (sans-I/O, like h11).

Indexes keep every decision cheap whatever the number of agents and waiting calls:

* free agents live in one heap per (skill, language), ordered by level (highest first), then
  talk time today (least first), then the time they became free (longest idle first);
* waiting calls live in one heap per (skill, language, minimum level) of each requirement tier
  they currently accept, ordered by priority (highest first), queue weight (highest first),
  then arrival (first come, first served).

Entries are invalidated lazily (a token on the agent, a generation on the call) and dropped
when they reach the top of their heap. See ``docs/routing.md`` for the rules.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import tzinfo
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
from acd.core.queues import QueueConfig

S = AgentState
A = AgentAction

MISSED_OFFERS_REASON = "missed_offers"
STAFFED_STATES = frozenset({S.AVAILABLE, S.RINGING, S.ON_CALL, S.WRAP_UP})

# (skill, min level, the other requirements that must hold too)
TierRequirement = tuple[str, int, tuple[SkillRequirement, ...]]
AgentEntry = tuple[int, float, float, str, int]  # (-level, talk today, free since, id, token)
CallEntry = tuple[tuple[int, int, float, int], str, int]  # (sort key, call id, generation)


class Router:
    def __init__(
        self,
        time_zone: str | tzinfo = "Europe/Moscow",
        *,
        skills: Iterable[str] = (),
        explain: bool = True,
        start: float = 0.0,
    ) -> None:
        self.day = BusinessDay(time_zone)
        self.explain = explain
        self.now = self._check_time(start, 0.0)
        self.skills: set[str] = set(skills)
        self.queues: dict[str, QueueConfig] = {}
        self.rates: dict[str, RateTracker] = {}
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, Call] = {}
        self._agents_by_skill: dict[str, set[str]] = {}
        self._agent_heaps: dict[tuple[str, str], list[AgentEntry]] = {}
        self._call_heaps: dict[tuple[str, str, int], list[CallEntry]] = {}
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
        self.agents[profile.agent_id] = Agent(profile=profile, state_since=self.now)
        for skill in profile.skills:
            self._agents_by_skill.setdefault(skill, set()).add(profile.agent_id)

    def update_agent(self, profile: AgentProfile) -> list[Command]:
        """Change an agent's skills, languages or name; takes effect for the next decision."""
        agent = self._agent(profile.agent_id)
        self._check_skills(profile.skills)
        for skill in agent.profile.skills:
            self._agents_by_skill[skill].discard(agent.agent_id)
        for skill in profile.skills:
            self._agents_by_skill.setdefault(skill, set()).add(agent.agent_id)
        agent.profile = profile
        agent.state_seq += 1
        self._index_agent(agent)
        return self._finish(self.now)

    def remove_agent(self, agent_id: str) -> None:
        agent = self._agent(agent_id)
        if agent.state is not S.LOGGED_OUT:
            raise IllegalTransition(f"agent {agent_id!r}", agent.state.value, "be removed")
        for skill in agent.profile.skills:
            self._agents_by_skill[skill].discard(agent_id)
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
        if agent.state is S.RINGING and not agent.phone_registered:
            self._offer_failed(agent, event.at, "phone_unregistered", miss=False)
        else:
            self._index_agent(agent)

    def _on_call_arrived(self, event: CallArrived) -> None:
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
        arrived = event.at if event.arrived_at is None else event.arrived_at
        if not isinstance(arrived, int | float) or not math.isfinite(arrived) or arrived < 0:
            raise InvalidValue(f"arrival time must be a finite time >= 0, got {arrived!r}")
        if arrived > event.at:
            raise InvalidValue(f"call {event.call_id!r} cannot arrive after it is queued")
        self._seq += 1
        call = Call(
            call_id=event.call_id,
            queue_id=event.queue_id,
            requirements=tuple(event.requirements),
            language=event.language,
            priority=event.priority,
            arrived_at=arrived,
            seq=self._seq,
            sort_key=(-event.priority, -queue.weight, arrived, self._seq),
        )
        self.calls[call.call_id] = call
        for index, step in enumerate(queue.relaxation, start=1):
            due = arrived + step.after_seconds
            if due <= event.at:
                call.active_tiers = index + 1
            else:
                self._push_timer(due, "relax", call.call_id, index)
        self._enqueue(call)

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
        ring-no-answer moves on to the next agent.
        """
        fallback: Agent | None = None
        for tier in range(call.active_tiers):
            skill, min_level, others = self._tier_requirement(call, tier)
            heap = self._agent_heaps.get((skill, call.language))
            if not heap:
                continue
            set_aside: list[AgentEntry] = []
            found: Agent | None = None
            while heap:
                entry = heap[0]
                agent = self.agents.get(entry[3])
                if agent is None or agent.state_seq != entry[4] or not agent.offerable:
                    heapq.heappop(heap)
                    continue
                if -entry[0] < min_level:
                    break
                if _meets(agent.profile.skills, others):
                    if agent.agent_id not in call.missed_by:
                        found = agent
                        break
                    if fallback is None:
                        fallback = agent
                set_aside.append(heapq.heappop(heap))
            for entry in set_aside:
                heapq.heappush(heap, entry)
            if found is not None:
                return found
        return fallback

    def _best_call_for(self, agent: Agent) -> Call | None:
        """The waiting call this agent fits with the highest priority, then longest wait."""
        best: Call | None = None
        skills = agent.profile.skills
        for skill, level in skills.items():
            for language in agent.profile.languages:
                for min_level in range(1, level + 1):
                    heap = self._call_heaps.get((skill, language, min_level))
                    if not heap:
                        continue
                    call = self._top_call(heap, skills)
                    if call is not None and (best is None or call.sort_key < best.sort_key):
                        best = call
        return best

    def _top_call(self, heap: list[CallEntry], skills: dict[str, int] | Any) -> Call | None:
        while heap:
            _, call_id, generation = heap[0]
            call = self.calls.get(call_id)
            if (
                call is None
                or call.status is not CallStatus.WAITING
                or (call.generation != generation)
            ):
                heapq.heappop(heap)
                continue
            if len(call.requirements) == 1 or _meets(skills, call.requirements[1:]):
                return call
            break
        else:
            return None
        # Multi-skill call at the top that this agent cannot take: look deeper, in order.
        for _, call_id, generation in sorted(heap)[1:]:
            call = self.calls.get(call_id)
            if (
                call is not None
                and call.status is CallStatus.WAITING
                and call.generation == generation
                and _meets(skills, call.requirements[1:])
            ):
                return call
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
        skill, min_level, _ = self._tier_requirement(call, tier)
        heap = self._call_heaps.setdefault((skill, call.language, min_level), [])
        heapq.heappush(heap, (call.sort_key, call.call_id, call.generation))

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

    def _explain(self, call: Call, chosen: Agent, trigger: str, at: float) -> OfferExplanation:
        tiers = [self._tier_requirement(call, t) for t in range(call.active_tiers)]
        pool: set[str] = set()
        for skill, _, _ in tiers:
            pool |= self._agents_by_skill.get(skill, set())
        day = self.day.day_number(at)
        candidates: list[Candidate] = []
        excluded: list[Exclusion] = []
        for agent_id in pool:
            agent = self.agents[agent_id]
            exclusion = self._exclusion(agent, call, tiers)
            if exclusion is not None:
                excluded.append(exclusion)
                continue
            tier = self.qualifies(agent, call)
            skill = tiers[tier or 0][0]
            candidates.append(
                Candidate(
                    agent_id,
                    agent_id in call.missed_by,
                    tier or 0,
                    agent.profile.skills[skill],
                    agent.talk_today(day),
                    at - agent.available_since,
                )
            )
        candidates.sort(
            key=lambda c: (
                c.agent_id != chosen.agent_id,
                c.missed_this_call,
                c.tier,
                -c.level,
                c.talk_today_seconds,
                -c.idle_seconds,
                c.agent_id,
            )
        )
        excluded.sort(key=lambda e: e.agent_id)
        return OfferExplanation(
            call.call_id, chosen.agent_id, trigger, tuple(candidates), tuple(excluded)
        )

    def _exclusion(
        self, agent: Agent, call: Call, tiers: list[TierRequirement]
    ) -> Exclusion | None:
        aid = agent.agent_id
        state = agent.state
        if state is S.LOGGED_OUT:
            return Exclusion(aid, ExclusionReason.LOGGED_OUT)
        if state is S.BREAK:
            return Exclusion(aid, ExclusionReason.ON_BREAK, agent.break_reason or "")
        if state is S.WRAP_UP:
            return Exclusion(aid, ExclusionReason.WRAP_UP)
        if state is S.RINGING:
            return Exclusion(aid, ExclusionReason.RINGING_ELSEWHERE, agent.call_id or "")
        if state is S.ON_CALL:
            return Exclusion(aid, ExclusionReason.ON_CALL, agent.call_id or "")
        if not agent.phone_registered:
            return Exclusion(aid, ExclusionReason.PHONE_UNREGISTERED)
        if agent.phone_busy:
            return Exclusion(aid, ExclusionReason.PHONE_BUSY)
        if call.language not in agent.profile.languages:
            return Exclusion(aid, ExclusionReason.WRONG_LANGUAGE, f"needs {call.language}")
        if self.qualifies(agent, call) is None:
            skills = agent.profile.skills
            for req in call.requirements[1:]:
                if skills.get(req.skill, 0) < req.min_level:
                    return Exclusion(
                        aid,
                        ExclusionReason.MISSING_SKILL
                        if req.skill not in skills
                        else ExclusionReason.BELOW_LEVEL,
                        f"{req.skill}: has {skills.get(req.skill, 0)}, needs {req.min_level}",
                    )
            best_needed = min(level for _, level, _ in tiers)
            skill = tiers[0][0]
            return Exclusion(
                aid,
                ExclusionReason.BELOW_LEVEL,
                f"{skill}: has {skills.get(skill, 0)}, needs {best_needed}",
            )
        return None

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


def iter_commands(commands: Iterable[Command], kind: type[Command]) -> Iterator[Any]:
    """The commands of one type, in order (a convenience for adapters and tests)."""
    return (c for c in commands if isinstance(c, kind))


__all__ = ["Router", "iter_commands"]
