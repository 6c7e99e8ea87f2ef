"""The example scenarios in ivr_scripts/: valid, and they do what REQUIREMENTS.md asks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from scenario_support import ALMATY, EXAMPLES, FACTS, ROUTING_CONFIG, SKILLS, at, run

from acd.core.calls import SkillRequirement
from acd.scenario import load_scenario
from acd.scenario.check import resolve_scenario_ref
from acd.scenario.model import Scenario
from acd.scenario.simulate import Simulation, simulate

NAMES = ["hotline.yaml", "bilingual_kz.yaml", "general_line.yaml"]


@pytest.mark.parametrize("name", NAMES)
def test_the_examples_pass_the_check(name: str) -> None:
    code, out, err = run("check", "--skills", ",".join(sorted(SKILLS)), str(EXAMPLES / name))
    assert (code, err) == (0, ""), out
    assert out.startswith(f"{EXAMPLES / name}: OK")


def test_the_examples_pass_with_a_routing_configuration() -> None:
    files = [str(EXAMPLES / name) for name in NAMES]
    code, out, err = run("check", "--config", str(ROUTING_CONFIG), *files)
    assert (code, err) == (0, ""), out
    assert out.count(": OK (") == len(NAMES)


def hotline() -> Scenario:
    return load_scenario(EXAMPLES / "hotline.yaml", FACTS)


def kz() -> Scenario:
    return load_scenario(EXAMPLES / "bilingual_kz.yaml", FACTS)


def call(scenario: Scenario, when: datetime, *digits: str, **kwargs: object) -> Simulation:
    return simulate(scenario, at=when, digits=digits, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the hotline


@pytest.mark.parametrize(
    ("key", "topic", "skill", "level"),
    [
        ("1", "registration", "operator", 1),
        ("2", "e-signature", "technical_support", 1),
        ("3", "accreditation", "operator", 1),
        ("4", "procedures", "account_manager", 1),
        ("5", "workstation set-up", "technical_support", 2),
        ("0", "other", "operator", 1),
    ],
)
def test_hotline_topics(key: str, topic: str, skill: str, level: int) -> None:
    sim = call(hotline(), at("2026-11-23 10:00"), "1", key, dialled="+73422921960")
    assert sim.queue is not None
    assert sim.queue.queue == "hotline"
    assert sim.queue.requirements == (SkillRequirement(skill, level),)
    assert sim.queue.topic == topic
    assert sim.queue.service_level == 300  # the 5-minute target
    assert sim.queue.language == "ru"


def test_hotline_callers_who_are_not_customers_go_to_the_general_line() -> None:
    sim = call(hotline(), at("2026-11-23 10:00"), "2")
    assert sim.outcome.kind == "transfer"
    assert sim.outcome.scenario == "general_line"
    target = resolve_scenario_ref(EXAMPLES / "hotline.yaml", "general_line")
    assert target == EXAMPLES / "general_line.yaml"
    general = load_scenario(target, FACTS)
    assert call(general, at("2026-11-23 10:00")).queue is not None


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        ("2026-11-23 09:00", True),
        ("2026-11-23 17:59", True),
        ("2026-11-23 18:00", False),
        ("2026-11-21 12:00", False),  # Saturday
        ("2026-01-05 12:00", False),  # New Year break
        ("2026-06-12 12:00", False),  # Russia Day
        ("2025-11-01 12:00", True),  # a Saturday made a working day
    ],
)
def test_hotline_hours(when: str, open_: bool) -> None:
    sim = call(hotline(), at(when), "1", "1")
    assert (sim.queue is not None) is open_
    if not open_:
        assert sim.path[-2:] == ["after_hours", "after_hours_voicemail"]
        assert "hotline/closed-write-email" in [f for p in sim.prompts for f in p.files]


def test_hotline_queue_exits_and_overflow() -> None:
    sim = call(hotline(), at("2026-11-23 10:00"), "1", "1", "1", caller="+79161234567")
    assert sim.callback is not None and sim.callback.number == "+79161234567"
    assert sim.callback.topic == "registration"
    sim = call(hotline(), at("2026-11-23 10:00"), "1", "1", "2")
    assert sim.outcome.kind == "voicemail"
    sim = call(hotline(), at("2026-11-23 10:00"), "1", "1", wait=600)
    assert sim.queue_exit is not None and sim.queue_exit.reason == "overflow"
    assert sim.path[-3:] == ["wait", "offer_callback", "queue_voicemail"]


# --------------------------------------------------------------------------- Kazakhstan


def test_kz_language_choice_sticks() -> None:
    sim = call(kz(), at("2026-11-23 10:00", ALMATY), "2", "2")
    assert sim.call.language == "kk"
    assert sim.queue is not None
    assert sim.queue.language == "kk"
    assert sim.queue.requirements == (SkillRequirement("technical_support", 1),)
    assert sim.queue.messages == (("kz/hold-message-kk",),)
    assert all(p.language == "kk" for p in sim.prompts[1:])


def test_kz_kazakh_number_starts_in_kazakh() -> None:
    sim = call(kz(), at("2026-11-23 10:00", ALMATY), "1", dialled="+77272000001")
    assert sim.path[0] == "kazakh_line"
    assert sim.queue is not None and sim.queue.language == "kk"


def test_kz_no_choice_is_russian() -> None:
    sim = call(kz(), at("2026-11-23 10:00", ALMATY))
    assert sim.call.language == "ru"


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        ("2026-11-23 18:59", True),  # weekday until 19:00
        ("2026-11-23 19:00", False),
        ("2026-11-21 14:59", True),  # weekend until 15:00
        ("2026-11-21 15:00", False),
        ("2026-03-23 14:00", True),  # Nowruz: holiday hours
        ("2026-03-23 16:00", False),
        ("2026-12-16 16:00", False),  # Independence Day
        ("2025-01-05 18:00", True),  # a Sunday made a working day
    ],
)
def test_kz_hours(when: str, open_: bool) -> None:
    sim = call(kz(), at(when, ALMATY), "1", "1")
    assert (sim.queue is not None) is open_


def test_kz_time_zone_is_utc_plus_5() -> None:
    assert kz().time_zone == "Asia/Almaty"
    assert datetime(2026, 6, 1, tzinfo=ZoneInfo("Asia/Almaty")).utcoffset() == timedelta(hours=5)
    # 13:30 UTC is 18:30 in Almaty (open); it would be 19:30 (closed) under the old UTC+6
    open_ = call(kz(), datetime.fromisoformat("2026-06-01T13:30+00:00"), "1", "1")
    assert open_.queue is not None
    assert open_.started.astimezone(ALMATY).hour == 18
