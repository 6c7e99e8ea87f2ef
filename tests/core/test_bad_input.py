"""Unknown IDs, bad times and illegal changes raise named errors and change nothing."""

from __future__ import annotations

import math

import pytest
from desk import Desk

from acd.core.agents import AgentProfile
from acd.core.calls import SkillRequirement
from acd.core.errors import (
    DuplicateId,
    IllegalTransition,
    InvalidValue,
    RoutingError,
    TimeWentBackwards,
    UnknownAgent,
    UnknownCall,
    UnknownQueue,
    UnknownSkill,
)
from acd.core.events import (
    AgentLoggedIn,
    CallAbandoned,
    CallArrived,
    CallEnded,
    OfferAnswered,
    OfferRejected,
    Tick,
)
from acd.core.queues import QueueConfig, RelaxationStep


@pytest.fixture
def busy_desk() -> Desk:
    d = Desk()
    d.agent("anna")
    d.agent("boris")
    d.call("c1")
    d.call("c2")
    d.call("c3")
    return d


@pytest.mark.parametrize(
    ("make_event", "error"),
    [
        (lambda t: AgentLoggedIn(t, "nobody"), UnknownAgent),
        (lambda t: CallAbandoned(t, "no-such-call"), UnknownCall),
        (lambda t: CallArrived(t, "c9", "no-queue", (SkillRequirement("sales"),)), UnknownQueue),
        (lambda t: CallArrived(t, "c9", "main", (SkillRequirement("juggling"),)), UnknownSkill),
        (lambda t: CallArrived(t, "c9", "main", ()), InvalidValue),
        (lambda t: CallArrived(t, "c1", "main", (SkillRequirement("sales"),)), DuplicateId),
        (lambda t: Tick(t - 1), TimeWentBackwards),
        (lambda t: Tick(-5.0), InvalidValue),
        (lambda t: Tick(math.nan), InvalidValue),
        (lambda t: Tick(math.inf), InvalidValue),
        (lambda t: OfferAnswered(t, "c3", "anna"), IllegalTransition),  # c3 is waiting
        (lambda t: OfferAnswered(t, "c1", "boris"), IllegalTransition),  # rung anna, not boris
        (lambda t: OfferRejected(t, "c2", "anna"), IllegalTransition),
        (lambda t: CallEnded(t, "c1"), IllegalTransition),  # not connected yet
        (lambda t: AgentLoggedIn(t, "anna"), IllegalTransition),
    ],
)
def test_bad_event_raises_and_leaves_state_unchanged(
    busy_desk: Desk, make_event: object, error: type[RoutingError]
) -> None:
    before = busy_desk.router.snapshot()
    deadline = busy_desk.router.next_deadline()
    with pytest.raises(error):
        busy_desk.router.handle(make_event(busy_desk.t))  # type: ignore[operator]
    assert busy_desk.router.snapshot() == before
    assert busy_desk.router.next_deadline() == deadline
    # And the router still works afterwards.
    busy_desk.send(OfferAnswered, "c1", "anna", dt=1)


def test_all_errors_are_routing_errors_with_plain_messages() -> None:
    d = Desk()
    with pytest.raises(RoutingError, match="unknown agent 'ghost'"):
        d.send(AgentLoggedIn, "ghost")
    with pytest.raises(RoutingError, match="time went backwards"):
        d.router.handle(Tick(d.t - 10))


def test_configuration_errors() -> None:
    d = Desk()
    with pytest.raises(UnknownSkill):
        d.router.add_agent(AgentProfile("x", "X", {"juggling": 3}))
    with pytest.raises(InvalidValue):
        AgentProfile("x", "X", {"sales": 11})
    with pytest.raises(InvalidValue):
        AgentProfile("x", "X", {"sales": 0})
    with pytest.raises(InvalidValue):
        AgentProfile("x", "X", {"sales": 3}, frozenset())
    with pytest.raises(InvalidValue):
        SkillRequirement("sales", 12)
    with pytest.raises(InvalidValue):
        QueueConfig("q", ring_timeout_seconds=0)
    with pytest.raises(InvalidValue):
        QueueConfig("q", wrap_up_seconds=-1)
    with pytest.raises(InvalidValue):
        QueueConfig("q", max_misses=0)
    with pytest.raises(InvalidValue):
        QueueConfig(
            "q",
            relaxation=(RelaxationStep(60, 3), RelaxationStep(30, 2)),
        )
    with pytest.raises(UnknownSkill):
        d.router.add_queue(QueueConfig("q2", relaxation=(RelaxationStep(30, 2, "juggling"),)))
    with pytest.raises(DuplicateId):
        d.router.add_queue(QueueConfig("main"))
    d.agent("anna")
    with pytest.raises(DuplicateId):
        d.router.add_agent(AgentProfile("anna", "Anna", {"sales": 3}))
    with pytest.raises(IllegalTransition):
        d.router.remove_agent("anna")  # logged in


def test_removing_and_updating_agents() -> None:
    d = Desk()
    d.agent("anna", {"sales": 3}, login=False)
    d.router.remove_agent("anna")
    with pytest.raises(UnknownAgent):
        d.router.agent("anna")
    d.agent("boris", {"sales": 3})
    d.call("c1", level=5)
    out = d.router.update_agent(AgentProfile("boris", "Boris", {"sales": 6}))
    assert [type(c).__name__ for c in out] == ["AgentStateChanged", "RingAgent"]
