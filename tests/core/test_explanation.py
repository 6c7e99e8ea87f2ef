"""Each offer records the candidates and why every other agent of the skill group was left out."""

from __future__ import annotations

from desk import Desk, of

from acd.core.commands import RingAgent
from acd.core.events import AgentBreak, CallEnded, OfferAnswered, PhoneStatusChanged


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
