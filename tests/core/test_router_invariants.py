"""Stateful property tests: whatever happens, the router's invariants hold."""

from __future__ import annotations

import hypothesis.strategies as st
from full_explain import check_summary, full_explanation
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from acd.core.agents import Agent, AgentProfile, AgentState
from acd.core.calls import Call, CallStatus, SkillRequirement
from acd.core.commands import Command, RingAgent
from acd.core.errors import RoutingError
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
    OfferRejected,
    PhoneStatusChanged,
    Tick,
    WrapUpDone,
)
from acd.core.explain import OfferExplanation
from acd.core.queues import QueueConfig, RelaxationStep
from acd.core.router import Router

SKILLS = ("sales", "support")
LANGS = ("ru", "kk")
AGENTS = tuple(f"a{i}" for i in range(5))
T0 = 1_795_849_200.0

agent_profiles = st.tuples(
    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), min_size=1),
    st.sets(st.sampled_from(LANGS), min_size=1),
)


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Small explanation limits, so that five agents already overflow them.
        self.router = Router(
            "Europe/Moscow", skills=SKILLS, start=T0, explain_candidates=2, explain_sample=1
        )
        self.router._explain = self._checked_explain  # type: ignore[method-assign]
        self.explained = 0
        self.router.add_queue(
            QueueConfig(
                "q1",
                wrap_up_seconds=20,
                ring_timeout_seconds=10,
                max_misses=2,
                relaxation=(RelaxationStep(30, 1), RelaxationStep(60, 3, "support")),
            )
        )
        self.router.add_queue(QueueConfig("q2", wrap_up_seconds=0, weight=5))
        self.t = T0
        self.n_calls = 0
        self.last_out: list[Command] = []
        self.before_step: dict[str, bool] = {}
        self.last_event: Event | None = None

    def _checked_explain(
        self, call: Call, chosen: Agent, trigger: str, at: float
    ) -> OfferExplanation:
        """Every explanation summarises a full scan of the skill group at the same moment."""
        candidates, excluded = full_explanation(self.router, call, chosen.agent_id, at)
        got = Router._explain(self.router, call, chosen, trigger, at)
        check_summary(got, candidates, excluded, top=2, sample=1)
        self.explained += 1
        return got

    def send(self, event: Event) -> None:
        self.before_step = {a.agent_id: a.offerable for a in self.router.agents.values()}
        self.last_event = event
        try:
            self.last_out = self.router.handle(event)
        except RoutingError:
            self.last_out = []
            raise

    def advance(self, dt: float) -> float:
        self.t += dt
        return self.t

    # ---------------------------------------------------------------- rules

    @rule(index=st.integers(0, len(AGENTS) - 1), profile=agent_profiles)
    def add_agent(self, index: int, profile: tuple[dict[str, int], set[str]]) -> None:
        agent_id = AGENTS[index]
        if agent_id not in self.router.agents:
            skills, langs = profile
            self.router.add_agent(AgentProfile(agent_id, agent_id, skills, frozenset(langs)))

    def _agent_in(self, states: set[AgentState]) -> list[str]:
        return sorted(a.agent_id for a in self.router.agents.values() if a.state in states)

    def _calls_in(self, status: CallStatus) -> list[str]:
        return sorted(c.call_id for c in self.router.calls.values() if c.status is status)

    @rule(data=st.data(), dt=st.floats(0, 5))
    def login(self, data: st.DataObject, dt: float) -> None:
        choices = self._agent_in({AgentState.LOGGED_OUT})
        if choices:
            self.send(AgentLoggedIn(self.advance(dt), data.draw(st.sampled_from(choices))))

    @rule(data=st.data(), dt=st.floats(0, 5))
    def logout(self, data: st.DataObject, dt: float) -> None:
        choices = sorted(self.router.agents)
        agent_id = data.draw(st.sampled_from(choices)) if choices else None
        if agent_id and self.router.agents[agent_id].state is not AgentState.LOGGED_OUT:
            self.send(AgentLoggedOut(self.advance(dt), agent_id))

    @rule(data=st.data(), reason=st.sampled_from(["lunch", "coffee"]), dt=st.floats(0, 5))
    def take_break(self, data: st.DataObject, reason: str, dt: float) -> None:
        choices = sorted(set(self.router.agents) - set(self._agent_in({AgentState.LOGGED_OUT})))
        if choices:
            self.send(AgentBreak(self.advance(dt), data.draw(st.sampled_from(choices)), reason))

    @rule(data=st.data(), dt=st.floats(0, 5))
    def ready(self, data: st.DataObject, dt: float) -> None:
        choices = sorted(set(self.router.agents) - set(self._agent_in({AgentState.LOGGED_OUT})))
        if choices:
            self.send(AgentReady(self.advance(dt), data.draw(st.sampled_from(choices))))

    @rule(data=st.data(), dt=st.floats(0, 5))
    def end_wrap_up(self, data: st.DataObject, dt: float) -> None:
        choices = self._agent_in({AgentState.WRAP_UP})
        if choices:
            self.send(WrapUpDone(self.advance(dt), data.draw(st.sampled_from(choices))))

    @rule(
        data=st.data(),
        registered=st.one_of(st.none(), st.booleans()),
        busy=st.one_of(st.none(), st.booleans()),
        dt=st.floats(0, 5),
    )
    def phone(self, data: st.DataObject, registered: bool | None, busy: bool | None, dt: float):
        if self.router.agents:
            agent_id = data.draw(st.sampled_from(sorted(self.router.agents)))
            self.send(PhoneStatusChanged(self.advance(dt), agent_id, registered, busy))

    @rule(
        queue=st.sampled_from(["q1", "q2"]),
        skill=st.sampled_from(SKILLS),
        level=st.integers(1, 10),
        lang=st.sampled_from(LANGS),
        priority=st.integers(0, 2),
        second=st.one_of(st.none(), st.tuples(st.sampled_from(SKILLS), st.integers(1, 10))),
        dt=st.floats(0, 5),
    )
    def call_arrives(
        self,
        queue: str,
        skill: str,
        level: int,
        lang: str,
        priority: int,
        second: tuple[str, int] | None,
        dt: float,
    ) -> None:
        self.n_calls += 1
        reqs = [SkillRequirement(skill, level)]
        if second and second[0] != skill:
            reqs.append(SkillRequirement(*second))
        event = CallArrived(
            self.advance(dt), f"c{self.n_calls}", queue, tuple(reqs), lang, priority
        )
        self.send(event)

    @rule(data=st.data(), dt=st.floats(0, 5))
    def answer(self, data: st.DataObject, dt: float) -> None:
        ringing = self._calls_in(CallStatus.RINGING)
        if ringing:
            call = self.router.calls[data.draw(st.sampled_from(ringing))]
            self.send(OfferAnswered(self.advance(dt), call.call_id, call.agent_id or ""))

    @rule(data=st.data(), dt=st.floats(0, 5))
    def reject(self, data: st.DataObject, dt: float) -> None:
        ringing = self._calls_in(CallStatus.RINGING)
        if ringing:
            call = self.router.calls[data.draw(st.sampled_from(ringing))]
            self.send(OfferRejected(self.advance(dt), call.call_id, call.agent_id or ""))

    @rule(data=st.data(), dt=st.floats(0, 5))
    def abandon(self, data: st.DataObject, dt: float) -> None:
        calls = self._calls_in(CallStatus.WAITING) + self._calls_in(CallStatus.RINGING)
        if calls:
            self.send(CallAbandoned(self.advance(dt), data.draw(st.sampled_from(calls))))

    @rule(data=st.data(), dt=st.floats(0, 300))
    def hang_up(self, data: st.DataObject, dt: float) -> None:
        calls = self._calls_in(CallStatus.CONNECTED)
        if calls:
            self.send(CallEnded(self.advance(dt), data.draw(st.sampled_from(calls))))

    @rule(dt=st.floats(0, 90))
    def tick(self, dt: float) -> None:
        self.send(Tick(self.advance(dt)))

    @precondition(lambda self: self.router.next_deadline() is not None)
    @rule()
    def tick_to_next_deadline(self) -> None:
        deadline = self.router.next_deadline()
        assert deadline is not None
        self.t = max(self.t, deadline)
        self.send(Tick(self.t))

    # ---------------------------------------------------------------- invariants

    @invariant()
    def an_agent_never_holds_two_calls(self) -> None:
        holders: dict[str, str] = {}
        for call in self.router.calls.values():
            if call.status is CallStatus.WAITING:
                assert call.agent_id is None
                continue
            assert call.agent_id is not None
            assert call.agent_id not in holders, (call.call_id, holders)
            holders[call.agent_id] = call.call_id
            agent = self.router.agents[call.agent_id]
            assert agent.call_id == call.call_id
            expected = (
                AgentState.RINGING if call.status is CallStatus.RINGING else (AgentState.ON_CALL)
            )
            assert agent.state is expected
        for agent in self.router.agents.values():
            if agent.state in (AgentState.RINGING, AgentState.ON_CALL):
                assert holders.get(agent.agent_id) == agent.call_id
            else:
                assert agent.agent_id not in holders

    @invariant()
    def offers_go_only_to_free_qualified_agents(self) -> None:
        for ring in self.last_out:
            if not isinstance(ring, RingAgent):
                continue
            phone_back = (
                isinstance(self.last_event, PhoneStatusChanged)
                and self.last_event.agent_id == ring.agent_id
            )
            assert (
                self.before_step.get(ring.agent_id)
                or phone_back
                or any(
                    # became free during this very step (wrap-up ended, ready, ...)
                    getattr(c, "agent_id", None) == ring.agent_id
                    and getattr(c, "new", None) is AgentState.AVAILABLE
                    for c in self.last_out
                )
            )
            call = self.router.calls.get(ring.call_id)
            agent = self.router.agents[ring.agent_id]
            if call is not None and call.agent_id == ring.agent_id:
                assert self.router.qualifies(agent, call) is not None
                assert agent.phone_registered and not agent.phone_busy

    @invariant()
    def no_call_waits_while_a_qualified_agent_is_free(self) -> None:
        free = [a for a in self.router.agents.values() if a.offerable]
        for call in self.router.waiting_calls():
            for agent in free:
                assert self.router.qualifies(agent, call) is None, (call, agent)

    @invariant()
    def fifo_within_a_priority_among_calls_with_the_same_agents(self) -> None:
        waiting = self.router.waiting_calls()
        for ring in self.last_out:
            if not isinstance(ring, RingAgent):
                continue
            offered = self.router.calls.get(ring.call_id)
            if offered is None or offered.status is CallStatus.WAITING:
                continue
            pool = self.router.eligible_agents(offered)
            for other in waiting:
                same = (
                    other.priority == offered.priority
                    and other.queue_id == offered.queue_id
                    and self.router.eligible_agents(other) == pool
                    and ring.agent_id not in other.missed_by
                )
                if same:
                    assert other.arrived_at >= offered.arrived_at, (other, offered)

    @invariant()
    def transient_states_end_by_their_deadline(self) -> None:
        for agent in self.router.agents.values():
            if agent.state in (AgentState.RINGING, AgentState.WRAP_UP):
                assert agent.deadline is not None
                assert agent.deadline > self.t or self.router.next_deadline() is not None
        deadline = self.router.next_deadline()
        if deadline is not None and deadline <= self.t:
            # A due deadline is allowed only until the next Tick; deliver it and check.
            self.send(Tick(self.t))
            for agent in self.router.agents.values():
                if agent.state in (AgentState.RINGING, AgentState.WRAP_UP):
                    assert agent.deadline is not None and agent.deadline > self.t


RouterMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouterInvariants = RouterMachine.TestCase
