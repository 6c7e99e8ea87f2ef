"""Who gets which call: qualification, fairness, priority, FIFO, misses, relaxation."""

from __future__ import annotations

from desk import T0, Desk, of

from acd.core.agents import AgentProfile
from acd.core.calls import CallOutcome, SkillRequirement
from acd.core.commands import (
    AgentStateChanged,
    CallFinished,
    CallRequeued,
    ConnectCall,
    RingAgent,
    StopRinging,
)
from acd.core.events import (
    AgentBreak,
    AgentLoggedIn,
    AgentReady,
    CallAbandoned,
    CallEnded,
    CallWithdrawn,
    OfferAnswered,
    OfferRejected,
    PhoneStatusChanged,
    Tick,
    WrapUpDone,
)
from acd.core.queues import QueueConfig, RelaxationStep


def rung(commands: list) -> list[tuple[str, str]]:
    return [(c.call_id, c.agent_id) for c in of(commands, RingAgent)]


def serve(d: Desk, call_id: str, agent_id: str, talk: float) -> None:
    """Answer, talk for ``talk`` seconds, hang up and finish wrap-up at once."""
    d.send(OfferAnswered, call_id, agent_id)
    d.send(CallEnded, call_id, dt=talk)
    d.send(WrapUpDone, agent_id)


def test_most_qualified_free_agent_gets_the_call() -> None:
    d = Desk()
    d.agent("junior", {"sales": 3})
    d.agent("senior", {"sales": 9})
    d.agent("middle", {"sales": 6})
    assert rung(d.call("c1")) == [("c1", "senior")]


def test_tie_on_level_goes_to_least_talk_time_today() -> None:
    d = Desk()
    d.agent("anna", {"sales": 7})
    d.agent("boris", {"sales": 7})
    first = rung(d.call("c1"))[0][1]
    serve(d, "c1", first, talk=300)
    other = "boris" if first == "anna" else "anna"
    # The agent who just talked 300 s is free again and idle longer than nobody, but the
    # other one has talked less today.
    assert rung(d.call("c2", dt=1)) == [("c2", other)]


def test_talk_time_does_not_reset_when_the_agent_returns_to_available() -> None:
    d = Desk()
    d.agent("anna", {"sales": 7})
    d.agent("boris", {"sales": 7})
    d.send(AgentBreak, "boris", "lunch")
    rung(d.call("c1"))
    serve(d, "c1", "anna", talk=600)
    d.send(AgentReady, "boris", dt=5)
    d.call("c2")
    serve(d, "c2", "boris", talk=60)
    # Break, ready, wrap-up: anna still has 600 s today, boris 60 s.
    d.send(AgentBreak, "anna", "coffee", dt=1)
    d.send(AgentReady, "anna", dt=1)
    assert d.router.talk_today("anna") == 600
    assert rung(d.call("c3")) == [("c3", "boris")]


def test_talk_time_resets_at_local_midnight_not_utc_midnight() -> None:
    d = Desk()
    d.agent("anna", {"sales": 7})
    d.call("c1")
    serve(d, "c1", "anna", talk=120)
    assert d.router.talk_today("anna") == 120
    # T0 is 10:00 Moscow; 13 h later it is 23:00 Moscow (20:00 UTC): still the same day.
    d.send(Tick, dt=13 * 3600)
    assert d.router.talk_today("anna") == 120
    # Past 00:00 Moscow (21:00 UTC) the counter starts again.
    d.send(Tick, dt=1 * 3600 + 1)
    assert d.router.talk_today("anna") == 0


def test_call_spanning_midnight_counts_only_todays_part() -> None:
    d = Desk(wrap_up_seconds=0)
    d.agent("anna", {"sales": 7})
    d.send(Tick, dt=14 * 3600 - 100 - 1)  # 23:58:20 Moscow
    d.call("c1")  # +1 s
    d.send(OfferAnswered, "c1", "anna")
    d.send(CallEnded, "c1", dt=400)  # 00:05:00 Moscow
    assert d.router.talk_today("anna") == 300


def test_longest_idle_breaks_remaining_ties() -> None:
    d = Desk()
    d.agent("anna", {"sales": 7})
    d.send(Tick, dt=10)
    d.agent("boris", {"sales": 7})
    assert rung(d.call("c1")) == [("c1", "anna")]


def test_unqualified_agents_are_never_offered() -> None:
    d = Desk()
    d.agent("low", {"sales": 2})
    d.agent("kazakh", {"sales": 9}, languages=["kk"])
    d.agent("support", {"support": 9})
    assert rung(d.call("c1", "sales", level=5)) == []
    assert [c.call_id for c in d.router.waiting_calls()] == ["c1"]


def test_language_must_match() -> None:
    d = Desk()
    d.agent("ru_only", {"sales": 9}, languages=["ru"])
    d.agent("bilingual", {"sales": 4}, languages=["ru", "kk"])
    assert rung(d.call("c1", language="kk")) == [("c1", "bilingual")]


def test_all_required_skills_must_be_met() -> None:
    d = Desk()
    d.agent("sales_only", {"sales": 9})
    d.agent("both", {"sales": 5, "billing": 4})
    out = d.call("c1", "sales", 3, extra=(SkillRequirement("billing", 3),))
    assert rung(out) == [("c1", "both")]


def test_free_agent_takes_highest_priority_then_longest_wait() -> None:
    d = Desk()
    d.agent("anna", {"sales": 5}, login=False)
    d.call("old_low", priority=0)
    d.call("new_high", priority=5, dt=10)
    d.call("older_high", priority=5, dt=-0.0)
    d.call("newest_high", priority=5, dt=1)
    from acd.core.events import AgentLoggedIn

    out = d.send(AgentLoggedIn, "anna", dt=1)
    assert rung(out) == [("new_high", "anna")]
    serve(d, "new_high", "anna", talk=10)
    assert d.router.agent("anna").call_id == "older_high"


def test_queue_weight_ranks_queues_within_a_priority() -> None:
    d = Desk()
    d.router.add_queue(QueueConfig("vip", weight=10))
    d.agent("anna", {"sales": 5}, login=False)
    d.call("normal_first")
    d.call("vip_later", queue="vip", dt=30)
    d.call("normal_urgent", priority=1, dt=30)
    from acd.core.events import AgentLoggedIn

    d.send(AgentLoggedIn, "anna", dt=1)
    assert d.router.agent("anna").call_id == "normal_urgent"
    serve(d, "normal_urgent", "anna", talk=1)
    assert d.router.agent("anna").call_id == "vip_later"


def test_agent_free_takes_only_calls_it_qualifies_for() -> None:
    d = Desk()
    d.agent("anna", {"sales": 4})
    d.send(AgentBreak, "anna", "lunch")
    d.call("needs_expert", level=8)
    d.call("kazakh", language="kk")
    d.call("fits")
    out = d.send(AgentReady, "anna", dt=1)
    assert rung(out) == [("fits", "anna")]


def test_agent_free_looks_past_multi_skill_calls_it_cannot_take_in_queue_order() -> None:
    d = Desk()
    d.agent("anna", {"sales": 5})
    d.send(AgentBreak, "anna", "lunch")
    billing = (SkillRequirement("billing", 3),)
    for i in range(30):  # in front: calls that also need billing, which anna lacks
        d.call(f"two{i}", extra=billing)
    d.call("gone")
    d.send(CallAbandoned, "gone")  # a stale entry deep in the queue
    for i in range(3):
        d.call(f"plain{i}")
    d.call("two_late", extra=billing)
    d.call("urgent_late", priority=1, extra=billing)
    assert rung(d.send(AgentReady, "anna", dt=1)) == [("plain0", "anna")]
    serve(d, "plain0", "anna", talk=1)
    assert d.router.agent("anna").call_id == "plain1"


def test_agent_free_takes_the_first_call_it_fits_whatever_the_heap_shape() -> None:
    """The in-order walk past calls an agent cannot take agrees with a full sort."""
    import random

    rng = random.Random(5)
    for _ in range(20):
        d = Desk()
        d.agent("anna", {"sales": 5, "support": 2})
        d.send(AgentBreak, "anna", "lunch")
        for i in range(rng.randint(1, 60)):
            needs = rng.choice([(), (SkillRequirement("billing"),), (SkillRequirement("support"),)])
            d.call(f"c{i}", priority=rng.randint(0, 2), extra=needs, dt=rng.choice([0, 1]))
            if rng.random() < 0.2:
                d.send(CallAbandoned, f"c{i}")
        fits = [
            c for c in d.router.waiting_calls() if all(r.skill != "billing" for r in c.requirements)
        ]
        got = rung(d.send(AgentReady, "anna", dt=1))
        assert got == ([(fits[0].call_id, "anna")] if fits else [])


def test_ring_no_answer_requeues_in_place_and_tries_the_next_agent() -> None:
    d = Desk(ring_timeout_seconds=10, max_misses=3)
    d.agent("best", {"sales": 9})
    d.agent("second", {"sales": 5})
    d.call("c1")
    d.send(AgentBreak, "second", "x")
    d.call("c2")  # waits behind c1 in arrival order (second on break)
    d.send(AgentReady, "second")
    assert d.router.agent("second").call_id == "c2"
    d.send(OfferAnswered, "c2", "second")
    out = d.send(Tick, dt=10)
    assert of(out, StopRinging)[0].reason == "no_answer"
    assert of(out, CallRequeued)[0].call_id == "c1"
    # Nobody else is free: best is tried again (it has missed only once).
    assert rung(out) == [("c1", "best")]
    d.send(CallEnded, "c2", dt=2)
    # c1 kept its original arrival time, so it still ranks first in the queue.
    assert d.router.call("c1").sort_key[2] == T0 + 1


def test_missed_agent_is_skipped_for_that_call_while_others_are_free() -> None:
    d = Desk(ring_timeout_seconds=10)
    d.agent("best", {"sales": 9})
    d.agent("second", {"sales": 5})
    d.send(AgentBreak, "second", "x")
    d.call("c1")
    d.send(AgentReady, "second", dt=1)  # c1 is ringing best; second is free
    out = d.send(OfferRejected, "c1", "best", dt=1)
    assert rung(out) == [("c1", "second")]
    assert d.state("best") == "available"


def test_agent_who_missed_a_call_takes_an_earlier_waiting_call_first() -> None:
    """Found by the state machine: a1 misses c2 while c1 (earlier, same agents) waits; the
    freed a1 must take c1, not be rung again for c2 (FIFO; a miss moves the call on)."""
    d = Desk(ring_timeout_seconds=10, max_misses=2)
    d.router.add_agent(AgentProfile("a0", "A0", {"sales": 1}))
    d.router.add_agent(AgentProfile("a1", "A1", {"sales": 1}))
    d.call("c1", dt=0)
    d.send(AgentLoggedIn, "a0")
    d.send(AgentBreak, "a0", "lunch", dt=1)  # after the call
    d.call("c2", dt=0)
    assert rung(d.send(AgentLoggedIn, "a1")) == [("c2", "a1")]
    assert rung(d.send(Tick, dt=9)) == []  # a0 misses c1 and goes on break
    out = d.send(Tick, dt=1)  # a1 misses c2
    assert rung(out) == [("c1", "a1")]
    assert d.router.call("c2").status.value == "waiting"


def test_n_consecutive_misses_set_the_agent_not_ready() -> None:
    d = Desk(ring_timeout_seconds=10, max_misses=2)
    d.agent("anna", {"sales": 9})
    d.call("c1")
    d.send(Tick, dt=10)
    assert d.state("anna") == "ringing"  # re-offered: nobody else
    out = d.send(Tick, dt=10)
    agent = d.router.agent("anna")
    assert agent.state.value == "break" and agent.break_reason == "missed_offers"
    assert [c.new.value for c in of(out, AgentStateChanged)] == ["break"]
    assert [c.call_id for c in d.router.waiting_calls()] == ["c1"]
    d.send(AgentReady, "anna", dt=1)
    assert d.router.agent("anna").consecutive_misses == 0
    assert d.state("anna") == "ringing"


def test_answer_resets_the_miss_count() -> None:
    d = Desk(ring_timeout_seconds=10, max_misses=2)
    d.agent("anna", {"sales": 9})
    d.call("c1")
    d.send(Tick, dt=10)
    d.send(OfferAnswered, "c1", "anna", dt=1)
    assert d.router.agent("anna").consecutive_misses == 0


def test_caller_hanging_up_while_ringing_frees_the_agent_without_a_miss() -> None:
    d = Desk()
    d.agent("anna")
    d.call("c1")
    out = d.send(CallAbandoned, "c1", dt=3)
    assert of(out, StopRinging)[0].reason == "caller_abandoned"
    finished = of(out, CallFinished)[0]
    assert finished.outcome is CallOutcome.ABANDONED and finished.wait_seconds == 3
    assert d.state("anna") == "available"
    assert d.router.agent("anna").consecutive_misses == 0


def test_abandon_while_waiting_and_withdrawal() -> None:
    d = Desk()
    d.call("c1")
    d.call("c2")
    out = d.send(CallAbandoned, "c1", dt=40)
    assert of(out, CallFinished)[0].wait_seconds == 41
    out = d.send(CallWithdrawn, "c2", "overflow")
    assert of(out, CallFinished)[0].outcome is CallOutcome.WITHDRAWN
    assert d.router.waiting_calls() == []


def test_answer_connects_and_end_reports_wait_and_talk() -> None:
    d = Desk()
    d.call("c1")
    d.agent("anna")
    out = d.send(OfferAnswered, "c1", "anna", dt=4)
    assert of(out, ConnectCall) == [ConnectCall(T0 + 5, "c1", "anna")]
    out = d.send(CallEnded, "c1", dt=50)
    finished = of(out, CallFinished)[0]
    assert (finished.outcome, finished.wait_seconds, finished.talk_seconds) == (
        CallOutcome.ANSWERED,
        4,
        50,
    )


def test_unregistered_phone_gets_no_offers_until_it_returns() -> None:
    d = Desk()
    d.agent("anna")
    d.send(PhoneStatusChanged, "anna", registered=False)
    assert rung(d.call("c1")) == []
    out = d.send(PhoneStatusChanged, "anna", registered=True, dt=5)
    assert rung(out) == [("c1", "anna")]


def test_phone_busy_on_a_foreign_call_gets_no_offers() -> None:
    d = Desk()
    d.agent("anna")
    d.send(PhoneStatusChanged, "anna", busy=True)
    assert rung(d.call("c1")) == []
    assert rung(d.send(PhoneStatusChanged, "anna", busy=False, dt=5)) == [("c1", "anna")]


def test_phone_unregistering_while_ringing_requeues_without_a_miss() -> None:
    d = Desk()
    d.agent("anna")
    d.call("c1")
    out = d.send(PhoneStatusChanged, "anna", registered=False, dt=2)
    assert of(out, StopRinging)[0].reason == "phone_unregistered"
    assert d.router.call("c1").status.value == "waiting"
    assert d.router.agent("anna").consecutive_misses == 0


def test_relaxation_accepts_a_lower_level_after_the_wait_threshold() -> None:
    d = Desk(relaxation=(RelaxationStep(after_seconds=60, min_level=3),))
    d.agent("junior", {"sales": 4})
    assert rung(d.call("c1", level=8)) == []
    assert d.router.next_deadline() == T0 + 61
    assert rung(d.send(Tick, dt=59)) == []
    assert rung(d.send(Tick, dt=1)) == [("c1", "junior")]


def test_relaxation_to_another_skill_ranks_below_the_original_requirement() -> None:
    d = Desk(
        ring_timeout_seconds=120,
        relaxation=(RelaxationStep(after_seconds=30, min_level=5, skill="support"),),
    )
    d.agent("ringer", {"sales": 9})
    d.agent("seller", {"sales": 2})
    d.agent("helper", {"support": 9})
    d.send(AgentBreak, "seller", "x")
    d.send(AgentBreak, "helper", "x")
    assert rung(d.call("c1", level=2)) == [("c1", "ringer")]
    d.send(Tick, dt=31)  # the support step applies now
    d.send(AgentReady, "seller")
    d.send(AgentReady, "helper")
    out = d.send(OfferRejected, "c1", "ringer", dt=1)
    ring = of(out, RingAgent)[0]
    # seller meets the original requirement (tier 0) at level 2 and beats helper's level 9
    # reached only through relaxation (tier 1); ringer just missed this call: last.
    assert ring.agent_id == "seller"
    ranked = [
        (c.agent_id, c.tier, c.level, c.missed_this_call) for c in ring.explanation.candidates
    ]
    assert ranked == [
        ("seller", 0, 2, False),
        ("helper", 1, 9, False),
        ("ringer", 0, 9, True),
    ]


def test_relaxation_to_another_skill_is_used_when_nobody_else_fits() -> None:
    d = Desk(relaxation=(RelaxationStep(after_seconds=30, min_level=5, skill="support"),))
    d.agent("helper", {"support": 9})
    assert rung(d.call("c1", level=2)) == []
    assert rung(d.send(Tick, dt=30)) == [("c1", "helper")]


def test_every_transient_state_has_a_deadline_that_ends_it() -> None:
    d = Desk(ring_timeout_seconds=7, wrap_up_seconds=9)
    d.agent("anna")
    d.call("c1")
    assert d.router.next_deadline() == d.t + 7
    d.send(OfferAnswered, "c1", "anna", dt=1)
    assert d.router.next_deadline() is None
    d.send(CallEnded, "c1", dt=5)
    assert d.router.next_deadline() == d.t + 9
    d.send(Tick, dt=9)
    assert d.state("anna") == "available" and d.router.next_deadline() is None


def test_a_restored_call_keeps_its_original_place_and_relaxation() -> None:
    from acd.core.events import AgentLoggedIn, CallArrived

    d = Desk(relaxation=(RelaxationStep(after_seconds=60, min_level=2),))
    d.agent("anna", {"sales": 3}, login=False)
    d.call("new", level=3, dt=100)
    # After a restart, a caller who arrived 90 s ago is put back with its original time.
    d.send(
        CallArrived,
        "restored",
        "main",
        (SkillRequirement("sales", 5),),
        arrived_at=d.t - 90,
    )
    restored = d.router.call("restored")
    assert restored.arrived_at == d.t - 90
    assert restored.active_tiers == 2  # its 60 s relaxation step already applies
    assert [c.call_id for c in d.router.waiting_calls()] == ["restored", "new"]
    assert rung(d.send(AgentLoggedIn, "anna", dt=1)) == [("restored", "anna")]


def test_a_call_cannot_arrive_in_the_future() -> None:
    import pytest

    from acd.core.errors import InvalidValue
    from acd.core.events import CallArrived

    d = Desk()
    with pytest.raises(InvalidValue):
        d.send(CallArrived, "c1", "main", (SkillRequirement("sales"),), arrived_at=d.t + 5)
    assert d.router.calls == {}


def test_a_call_talking_across_a_restart_is_resumed_and_ends_normally() -> None:
    """After a restart the router takes over a call that is still talking: the agent is on
    call (no offer), and the call's end counts its talk from the original answer, with
    wrap-up as usual."""
    import pytest

    from acd.core.agents import AgentState
    from acd.core.commands import AgentStateChanged, CallFinished
    from acd.core.errors import IllegalTransition, InvalidValue
    from acd.core.events import AgentBreak, CallEnded, CallResumed

    d = Desk(wrap_up_seconds=30.0)
    d.agent("anna", {"sales": 5})
    d.agent("boris", {"sales": 9})
    d.send(AgentBreak, "boris", "lunch")
    reqs = (SkillRequirement("sales", 1),)
    arrived, answered = d.t - 100, d.t - 40
    commands = d.send(CallResumed, "talking", "main", reqs, "anna", arrived, answered, dt=1)
    assert [(c.old, c.new) for c in of(commands, AgentStateChanged)] == [
        (AgentState.AVAILABLE, AgentState.ON_CALL)
    ]
    assert not rung(commands)
    assert d.router.agent("anna").call_id == "talking"
    assert rung(d.call("next")) == []  # anna is busy: the next caller waits

    with pytest.raises(IllegalTransition):  # boris is on a break, not talking for us
        d.send(CallResumed, "other", "main", reqs, "boris", arrived, answered)
    with pytest.raises(InvalidValue):
        d.send(CallResumed, "later", "main", reqs, "anna", arrived, d.t + 5)
    assert "other" not in d.router.calls and "later" not in d.router.calls

    [finished] = of(d.send(CallEnded, "talking", dt=20), CallFinished)
    assert (finished.outcome, finished.agent_id) == (CallOutcome.ANSWERED, "anna")
    assert finished.wait_seconds == pytest.approx(60.0)
    assert finished.talk_seconds == pytest.approx(d.t - answered)
    assert d.state("anna") == "wrap_up"
    assert d.router.talk_today("anna") == pytest.approx(d.t - answered)
