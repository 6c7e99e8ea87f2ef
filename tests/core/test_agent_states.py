"""The agent state machine: legal moves, illegal ones, deferred breaks, start times."""

from __future__ import annotations

import pytest
from desk import T0, Desk, of

from acd.core.agents import TRANSITIONS, AgentAction, AgentState
from acd.core.commands import AgentStateChanged, RingAgent
from acd.core.errors import IllegalTransition, InvalidValue
from acd.core.events import (
    AgentBreak,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    CallEnded,
    OfferAnswered,
    Tick,
    WrapUpDone,
)

S = AgentState


def test_table_covers_the_documented_life_cycle() -> None:
    assert TRANSITIONS[(S.LOGGED_OUT, AgentAction.LOGIN)] is S.AVAILABLE
    assert TRANSITIONS[(S.AVAILABLE, AgentAction.OFFER)] is S.RINGING
    assert TRANSITIONS[(S.RINGING, AgentAction.ANSWER)] is S.ON_CALL
    assert TRANSITIONS[(S.ON_CALL, AgentAction.HANG_UP)] is S.WRAP_UP
    assert TRANSITIONS[(S.WRAP_UP, AgentAction.END_WRAP_UP)] is S.AVAILABLE
    assert TRANSITIONS[(S.AVAILABLE, AgentAction.TAKE_BREAK)] is S.BREAK
    assert TRANSITIONS[(S.BREAK, AgentAction.READY)] is S.AVAILABLE
    # No way to jump from logged out straight into call work or a break.
    assert (S.LOGGED_OUT, AgentAction.TAKE_BREAK) not in TRANSITIONS
    assert (S.LOGGED_OUT, AgentAction.OFFER) not in TRANSITIONS


def test_full_cycle_keeps_start_time_of_every_state() -> None:
    d = Desk(wrap_up_seconds=30)
    d.agent("anna")
    assert d.state("anna") == "available"
    assert d.router.agent("anna").state_since == T0
    ring = of(d.call("c1", dt=5), RingAgent)[0]
    assert d.state("anna") == "ringing" and d.router.agent("anna").state_since == T0 + 5
    assert ring.deadline == T0 + 5 + 15
    d.send(OfferAnswered, "c1", "anna", dt=3)
    assert d.state("anna") == "on_call" and d.router.agent("anna").state_since == T0 + 8
    d.send(CallEnded, "c1", dt=100)
    agent = d.router.agent("anna")
    assert agent.state is S.WRAP_UP and agent.state_since == T0 + 108
    assert agent.deadline == T0 + 138
    assert d.router.next_deadline() == T0 + 138
    d.send(Tick, dt=30)
    assert d.state("anna") == "available" and d.router.agent("anna").state_since == T0 + 138


def test_every_state_change_is_reported() -> None:
    d = Desk()
    out = d.agent("anna")
    assert [(c.old, c.new) for c in of(out, AgentStateChanged)] == [(S.LOGGED_OUT, S.AVAILABLE)]
    out = d.send(AgentBreak, "anna", "lunch")
    changes = of(out, AgentStateChanged)
    assert [(c.old, c.new, c.reason) for c in changes] == [(S.AVAILABLE, S.BREAK, "lunch")]


@pytest.mark.parametrize(
    ("event", "args"),
    [
        (AgentBreak, ("anna", "lunch")),
        (AgentReady, ("anna",)),
        (AgentLoggedOut, ("anna",)),
        (WrapUpDone, ("anna",)),
    ],
)
def test_logged_out_agent_cannot_do_anything_but_log_in(event: type, args: tuple) -> None:
    d = Desk()
    d.agent("anna", login=False)
    before = d.router.snapshot()
    with pytest.raises(IllegalTransition):
        d.send(event, *args, dt=1)
    assert d.router.snapshot() == before


def test_double_login_is_illegal_and_changes_nothing() -> None:
    d = Desk()
    d.agent("anna")
    before = d.router.snapshot()
    with pytest.raises(IllegalTransition, match="cannot log in while available"):
        d.send(AgentLoggedIn, "anna")
    assert d.router.snapshot() == before


def test_wrap_up_done_outside_wrap_up_is_illegal() -> None:
    d = Desk()
    d.agent("anna")
    with pytest.raises(IllegalTransition):
        d.send(WrapUpDone, "anna")
    assert d.state("anna") == "available"


def test_break_needs_a_reason() -> None:
    d = Desk()
    d.agent("anna")
    with pytest.raises(InvalidValue):
        d.send(AgentBreak, "anna", "")
    assert d.state("anna") == "available"


def test_break_during_a_call_applies_when_wrap_up_ends() -> None:
    d = Desk(wrap_up_seconds=20)
    d.agent("anna")
    d.call("c1")
    d.send(OfferAnswered, "c1", "anna")
    d.send(AgentBreak, "anna", "training", dt=10)
    assert d.state("anna") == "on_call"
    d.send(CallEnded, "c1", dt=10)
    assert d.state("anna") == "wrap_up"
    out = d.send(Tick, dt=20)
    agent = d.router.agent("anna")
    assert agent.state is S.BREAK and agent.break_reason == "training"
    assert [(c.old, c.new) for c in of(out, AgentStateChanged)] == [(S.WRAP_UP, S.BREAK)]


def test_break_requested_in_wrap_up_applies_at_its_end_and_ready_cancels_it() -> None:
    d = Desk(wrap_up_seconds=20)
    d.agent("anna")
    d.call("c1")
    d.send(OfferAnswered, "c1", "anna")
    d.send(CallEnded, "c1", dt=10)
    d.send(AgentBreak, "anna", "coffee", dt=1)
    assert d.state("anna") == "wrap_up"
    d.send(WrapUpDone, "anna", dt=1)
    assert d.state("anna") == "break"
    assert d.router.agent("anna").break_reason == "coffee"

    d.send(AgentReady, "anna", dt=1)
    d.call("c2")
    d.send(OfferAnswered, "c2", "anna")
    d.send(AgentBreak, "anna", "coffee")
    d.send(AgentReady, "anna")  # changed their mind during the call
    d.send(CallEnded, "c2", dt=10)
    d.send(Tick, dt=20)
    assert d.state("anna") == "available"


def test_logout_during_a_call_applies_after_wrap_up() -> None:
    d = Desk(wrap_up_seconds=5)
    d.agent("anna")
    d.call("c1")
    d.send(OfferAnswered, "c1", "anna")
    d.send(AgentLoggedOut, "anna")
    assert d.state("anna") == "on_call"
    d.send(CallEnded, "c1", dt=10)
    d.send(Tick, dt=5)
    assert d.state("anna") == "logged_out"


def test_ready_in_wrap_up_ends_it_early() -> None:
    d = Desk(wrap_up_seconds=60)
    d.agent("anna")
    d.call("c1")
    d.send(OfferAnswered, "c1", "anna")
    d.send(CallEnded, "c1", dt=10)
    d.send(AgentReady, "anna", dt=2)
    assert d.state("anna") == "available"
    assert d.router.next_deadline() is None


def test_zero_wrap_up_goes_straight_back_to_available() -> None:
    d = Desk(wrap_up_seconds=0)
    d.agent("anna")
    d.call("c1")
    d.send(OfferAnswered, "c1", "anna")
    out = d.send(CallEnded, "c1", dt=10)
    assert d.state("anna") == "available"
    assert [c.new for c in of(out, AgentStateChanged)] == [S.WRAP_UP, S.AVAILABLE]


def test_break_reason_can_change_while_on_break() -> None:
    d = Desk()
    d.agent("anna")
    d.send(AgentBreak, "anna", "lunch")
    d.send(AgentBreak, "anna", "meeting", dt=60)
    agent = d.router.agent("anna")
    assert agent.break_reason == "meeting" and agent.state_since == T0 + 60
