"""Each offer records the candidates and why every other agent of the skill group was left out:
the best candidates in full, every left-out agent counted by reason, a few named per reason."""

from __future__ import annotations

import random

import pytest
from desk import Desk, of
from full_explain import check_summary, full_explanation

from acd.core.agents import Agent, AgentProfile
from acd.core.calls import Call, SkillRequirement
from acd.core.commands import RingAgent
from acd.core.errors import InvalidValue
from acd.core.events import (
    AgentBreak,
    AgentReady,
    CallAbandoned,
    CallEnded,
    OfferAnswered,
    OfferRejected,
    PhoneStatusChanged,
    Tick,
)
from acd.core.explain import ExclusionReason, OfferExplanation
from acd.core.queues import QueueConfig, RelaxationStep
from acd.core.router import Router


def test_explanation_names_every_left_out_agent_with_its_reason() -> None:
    d = Desk(wrap_up_seconds=60)
    # Busy agents first, each the only free one when its call arrives.
    d.agent("wrapping", {"sales": 9})
    d.call("call_wrapping")
    d.send(OfferAnswered, "call_wrapping", "wrapping")
    d.send(CallEnded, "call_wrapping")
    d.agent("talking", {"sales": 9})
    d.call("call_talking")
    d.send(OfferAnswered, "call_talking", "talking")
    d.agent("ringing", {"sales": 9})
    d.call("call_ringing")
    # Then everyone else.
    d.agent("chosen", {"sales": 6})
    d.agent("second", {"sales": 5})
    d.agent("out", {"sales": 9}, login=False)
    d.agent("lunch", {"sales": 9})
    d.send(AgentBreak, "lunch", "lunch")
    d.agent("weak", {"sales": 2})
    d.agent("kazakh", {"sales": 9}, languages=["kk"])
    d.agent("unplugged", {"sales": 9})
    d.send(PhoneStatusChanged, "unplugged", registered=False)
    d.agent("busy", {"sales": 9})
    d.send(PhoneStatusChanged, "busy", busy=True)
    d.agent("support_only", {"support": 9})  # not in the skill group: not listed

    ring = of(d.call("target", level=3), RingAgent)[0]
    exp = ring.explanation
    assert exp.chosen_agent_id == "chosen" and exp.trigger == "call_waiting"
    assert [c.agent_id for c in exp.candidates] == ["chosen", "second"]
    reasons = {e.agent_id: (e.reason.value, e.detail) for e in exp.excluded}
    assert reasons == {
        "out": ("logged_out", ""),
        "lunch": ("on_break", "lunch"),
        "wrapping": ("wrap_up", ""),
        "talking": ("on_call", "call_talking"),
        "ringing": ("ringing_elsewhere", "call_ringing"),
        "weak": ("below_level", "sales: has 2, needs 3"),
        "kazakh": ("wrong_language", "needs ru"),
        "unplugged": ("phone_unregistered", ""),
        "busy": ("phone_busy", ""),
    }


def test_agent_side_decision_is_explained_too() -> None:
    d = Desk()
    d.call("c1")
    ring = of(d.agent("anna"), RingAgent)[0]
    assert ring.explanation.trigger == "agent_free"
    assert [c.agent_id for c in ring.explanation.candidates] == ["anna"]


def test_candidates_carry_score_components_in_rank_order() -> None:
    d = Desk()
    d.agent("a", {"sales": 5})
    d.agent("b", {"sales": 8})
    d.agent("c", {"sales": 8})
    d.send(AgentBreak, "c", "x")
    from acd.core.events import AgentReady

    d.send(AgentReady, "c", dt=30)
    exp = of(d.call("c1", dt=10), RingAgent)[0].explanation
    assert [(c.agent_id, c.level, c.idle_seconds) for c in exp.candidates] == [
        ("b", 8, 40.0),
        ("c", 8, 10.0),
        ("a", 5, 40.0),
    ]


def test_missing_second_skill_is_explained() -> None:
    d = Desk()
    d.agent("x", {"sales": 5, "billing": 2})
    d.agent("y", {"sales": 5, "billing": 6})
    d.agent("z", {"sales": 5})
    from acd.core.calls import SkillRequirement

    ring = of(d.call("c1", extra=(SkillRequirement("billing", 4),)), RingAgent)[0]
    reasons = {e.agent_id: (e.reason.value, e.detail) for e in ring.explanation.excluded}
    assert ring.agent_id == "y"
    assert reasons == {
        "x": ("below_level", "billing: has 2, needs 4"),
        "z": ("missing_skill", "billing: has 0, needs 4"),
    }


def test_explanations_can_be_switched_off() -> None:
    from acd.core.router import Router

    d = Desk()
    d.router = Router("Europe/Moscow", skills=["sales"], explain=False, start=d.t)
    from acd.core.queues import QueueConfig

    d.router.add_queue(QueueConfig("main"))
    d.agent("a")
    assert of(d.call("c1"), RingAgent)[0].explanation is None


def test_a_small_group_is_listed_completely() -> None:
    d = Desk()
    d.agent("a", {"sales": 5})
    d.agent("b", {"sales": 5})
    d.send(AgentBreak, "b", "lunch")
    exp = of(d.call("c1"), RingAgent)[0].explanation
    assert exp.complete
    assert exp.candidate_count == 1 and exp.excluded_total == 1
    assert dict(exp.excluded_counts) == {"on_break": 1}


def test_a_large_group_is_counted_in_full_and_named_in_part() -> None:
    d = Desk(wrap_up_seconds=600)
    d.router = Router(
        "Europe/Moscow", skills=["sales", "support"], start=d.t, explain_candidates=3,
        explain_sample=2,
    )  # fmt: skip
    d.router.add_queue(QueueConfig("main", wrap_up_seconds=600))
    for i in range(7):  # in wrap-up after a call each
        d.agent(f"w{i}", {"sales": 9})
        d.call(f"done{i}")
        d.send(OfferAnswered, f"done{i}", f"w{i}")
        d.send(CallEnded, f"done{i}")
    for i in range(5):
        d.agent(f"lunch{i}", {"sales": 9})
        d.send(AgentBreak, f"lunch{i}", "lunch")
    for i in range(4):
        d.agent(f"kk{i}", {"sales": 9}, languages=["kk"])
    for i in range(3):
        d.agent(f"weak{i}", {"sales": 1})
    for i in range(6):
        d.agent(f"free{i}", {"sales": 2 + i})
    d.agent("other_skill", {"support": 9})  # not in the group

    exp = of(d.call("target", level=2), RingAgent)[0].explanation
    assert exp.chosen_agent_id == "free5"
    assert [c.agent_id for c in exp.candidates] == ["free5", "free4", "free3"]
    assert [c.level for c in exp.candidates] == [7, 6, 5]
    assert exp.candidate_count == 6
    assert dict(exp.excluded_counts) == {
        "on_break": 5,
        "wrap_up": 7,
        "below_level": 3,
        "wrong_language": 4,
    }
    # The counts add up to everyone of the group who is not a candidate.
    assert exp.excluded_total == 7 + 5 + 4 + 3 == 25 - exp.candidate_count
    named = [(e.reason.value, e.agent_id) for e in exp.excluded]
    assert len(named) == 2 * 4  # two per reason
    assert [r for r, _ in named] == sorted((r for r, _ in named), key=list(ExclusionReason).index)
    assert {e.detail for e in exp.excluded if e.reason is ExclusionReason.BELOW_LEVEL} == {
        "sales: has 1, needs 2"
    }
    assert not exp.complete


def test_top_candidates_are_ordered_by_score() -> None:
    d = Desk()
    for i in range(15):  # levels 1..5, then less talk time, then longer idle
        d.agent(f"a{i:02d}", {"sales": 1 + i % 5})
        d.t += 1
    exp = of(d.call("c1"), RingAgent)[0].explanation
    keys = [(c.tier, -c.level, c.talk_today_seconds, -c.idle_seconds) for c in exp.candidates]
    assert len(keys) == 10 and exp.candidate_count == 15
    assert keys == sorted(keys)
    assert exp.candidates[0].agent_id == exp.chosen_agent_id == "a04"
    assert [c.level for c in exp.candidates] == [5, 5, 5, 4, 4, 4, 3, 3, 3, 2]


def test_an_explanation_stays_as_it_was_at_the_offer() -> None:
    d = Desk()
    d.agent("a", {"sales": 5})
    d.agent("b", {"sales": 4})
    ring = of(d.call("c1"), RingAgent)[0]
    before = (ring.explanation.candidates, ring.explanation.excluded_counts)
    d.send(AgentBreak, "b", "lunch")
    d.send(OfferAnswered, "c1", "a")
    assert [c.agent_id for c in before[0]] == ["a", "b"]
    assert (ring.explanation.candidates, ring.explanation.excluded_counts) == before
    assert ring.explanation.excluded_counts == {}


def test_changed_or_removed_agents_leave_their_old_skill_groups() -> None:
    d = Desk()
    d.agent("mover", {"support": 5})
    d.agent("helper", {"support": 4})
    d.agent("gone", {"sales": 5}, login=False)
    d.router.remove_agent("gone")
    d.router.update_agent(AgentProfile("mover", "Mover", {"sales": 3}))  # while free
    exp = of(d.call("c1", "support"), RingAgent)[0].explanation
    assert exp.chosen_agent_id == "helper"
    assert (exp.candidate_count, exp.excluded_counts) == (1, {})
    d.agent("stays", {"sales": 6})
    d.send(AgentBreak, "stays", "x")
    d.router.update_agent(AgentProfile("mover", "Mover", {"sales": 7}))  # a new level
    exp = of(d.call("c2"), RingAgent)[0].explanation
    assert exp.chosen_agent_id == "mover"
    assert [(c.agent_id, c.level) for c in exp.candidates] == [("mover", 7)]
    assert (exp.candidate_count, dict(exp.excluded_counts)) == (1, {"on_break": 1})
    d.send(AgentBreak, "mover", "y")  # still ringing: the break waits for the call work
    d.router.handle(CallAbandoned(d.t, "c2"))
    d.router.update_agent(AgentProfile("mover", "Mover", {"support": 3}))  # while on break
    d.send(AgentReady, "stays")
    exp = of(d.call("c3"), RingAgent)[0].explanation
    assert exp.complete and exp.excluded_counts == {} and exp.candidate_count == 1


@pytest.mark.parametrize("seed", range(12))
def test_explanations_summarise_a_full_scan_of_the_group(seed: int) -> None:
    """Random agents in random states; every offer is checked against a scan of everyone."""
    _check_against_a_full_scan(seed, agents=60, calls=150)


@pytest.mark.parametrize("seed", range(6))
def test_large_groups_read_their_best_candidates_off_the_heap(seed: int) -> None:
    """Hundreds of free agents (the explanation then reads its best candidates off the
    agents' heap, past stale entries and agents who missed the call): the same summary as
    a scan of everyone."""
    _check_against_a_full_scan(seed, agents=240, calls=200, rejects=True)


def _check_against_a_full_scan(seed: int, agents: int, calls: int, rejects: bool = False) -> None:
    rng = random.Random(seed)
    d = Desk(ring_timeout_seconds=600, wrap_up_seconds=600)
    d.router = Router(
        "Europe/Moscow", skills=["sales", "support", "billing"], start=d.t,
        explain_candidates=4, explain_sample=3,
    )  # fmt: skip
    d.router.add_queue(
        QueueConfig(
            "main",
            ring_timeout_seconds=600,
            wrap_up_seconds=600,
            relaxation=(RelaxationStep(20, 1), RelaxationStep(40, 4, "support")),
        )
    )
    checked: list[str] = []

    def explain(call: Call, chosen: Agent, trigger: str, at: float) -> OfferExplanation:
        candidates, excluded = full_explanation(d.router, call, chosen.agent_id, at)
        got = Router._explain(d.router, call, chosen, trigger, at)
        check_summary(got, candidates, excluded, top=4, sample=3)
        checked.append(call.call_id)
        return got

    d.router._explain = explain  # type: ignore[method-assign]
    skills = ["sales", "support", "billing"]
    for i in range(agents):
        own = rng.sample(skills, rng.randint(1, 3))
        langs = rng.sample(["ru", "kk"], rng.randint(1, 2))
        d.agent(f"a{i}", {s: rng.randint(1, 10) for s in own}, langs, login=rng.random() < 0.9)
    for n in range(calls):
        agent_id = f"a{rng.randrange(agents)}"
        agent = d.router.agent(agent_id)
        roll = rng.random()
        if roll < 0.1 and agent.state.value != "logged_out":
            d.send(AgentBreak, agent_id, rng.choice(["lunch", "coffee"]))
        elif roll < 0.2:
            d.send(PhoneStatusChanged, agent_id, busy=rng.random() < 0.5)
        elif roll < 0.25:
            d.send(PhoneStatusChanged, agent_id, registered=rng.random() < 0.7)
        elif roll < 0.35 and agent.state.value in ("break", "wrap_up"):
            d.send(AgentReady, agent_id)
        else:
            extra = () if rng.random() < 0.7 else (SkillRequirement("billing", 3),)
            out = d.call(
                f"c{n}", rng.choice(skills[:2]), rng.randint(1, 8),
                language=rng.choice(["ru", "kk"]), extra=extra, dt=rng.uniform(0, 15),
            )  # fmt: skip
            for ring in of(out, RingAgent):
                if rejects and rng.random() < 0.3:  # missed: the call goes to the next one
                    d.send(OfferRejected, ring.call_id, ring.agent_id)
                elif rng.random() < 0.6:
                    d.send(OfferAnswered, ring.call_id, ring.agent_id)
                    if rng.random() < 0.5:
                        d.send(CallEnded, ring.call_id)
    d.send(Tick, dt=60)
    assert len(checked) > 10


@pytest.mark.parametrize(
    "limits", [{"explain_candidates": 0}, {"explain_sample": -1}, {"explain_candidates": 2.5}]
)
def test_explanation_limits_are_checked(limits: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        Router("Europe/Moscow", **limits)  # type: ignore[arg-type]
