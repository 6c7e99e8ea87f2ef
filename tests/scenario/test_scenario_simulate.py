"""Dry runs through every node type: the path, the prompts, and where the call ends up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from scenario_support import MINIMAL, at, everything, scenario_of

from acd.core.calls import SkillRequirement
from acd.scenario.engine import (
    MAX_STEPS,
    BookCallback,
    CallState,
    Collect,
    EnterQueue,
    Play,
    QueueExit,
    SetLanguage,
    walk,
)
from acd.scenario.model import Scenario
from acd.scenario.simulate import Simulation, format_simulation, simulate

MONDAY = "2026-11-23 10:00"


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return everything(tmp_path)


def run(scenario: Scenario, when: str = MONDAY, *digits: str, **kwargs: object) -> Simulation:
    return simulate(scenario, at=at(when), digits=digits, **kwargs)  # type: ignore[arg-type]


def files(sim: Simulation) -> list[str]:
    return [f for prompt in sim.prompts for f in prompt.files]


def test_menu_choice_reaches_the_queue(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "1", caller="+79161234567")
    assert sim.path == ["lang", "hello", "hours", "main", "sales", "wait"]
    assert files(sim) == ["e/lang-ru", "e/lang-kk", "e/hello", "e/hello-2", "e/main"]
    assert sim.outcome.kind == "answered"
    queue = sim.queue
    assert queue is not None
    assert queue.queue == "hotline"
    # the set node asked operator >= 2; the queue's own operator >= 1 does not lower it
    assert queue.requirements == (SkillRequirement("operator", 2),)
    assert queue.priority == 5  # set by the set node; the queue's priority is a default
    assert (queue.topic, queue.category, queue.language) == ("sales", "B", "ru")
    assert (queue.max_wait, queue.service_level) == (300, 120)
    assert (queue.announce_every, queue.announce_first_after) == (60, 15)
    assert (queue.announce_position, queue.announce_wait) == (True, False)
    assert queue.messages == (("e/msg1",),) and queue.messages_every == 45
    assert queue.exit_keys == frozenset({"1", "2"}) and queue.music == "default"
    assert sim.ended == sim.started


def test_the_language_choice_sticks_to_the_call(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "2", "2")
    assert sim.call.language == "kk"
    assert [p.language for p in sim.prompts] == ["ru", "kk", "kk"]
    assert files(sim)[2:] == ["e/hello-kk", "e/main-kk"]
    assert sim.queue is not None
    assert sim.queue.language == "kk"  # announcements in Kazakh
    assert sim.queue.messages == (("e/msg1-kk",),)
    assert set(sim.queue.requirements) == {
        SkillRequirement("technical_support", 1),
        SkillRequirement("operator", 1),
    }
    assert sim.queue.priority == 1  # no set node gave one: the queue's default


def test_no_language_choice_keeps_the_default(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "7", "", "1")
    assert sim.call.language == "ru"
    # 7 is not an option: the invalid prompt (all languages), then a timeout; retries: 1
    assert files(sim)[:5] == ["e/lang-ru", "e/lang-kk", "e/bad-ru", "e/bad-kk", "e/lang-ru"]
    assert sim.call.steps[0].note == "keys: 7, timeout; no choice, kept ru"
    assert sim.ended - sim.started == timedelta(seconds=5)


def test_menu_retries_then_after_retries(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1")  # then nothing: two timeouts at the main menu
    main = [p for p in sim.prompts if p.node == "main"]
    assert [p.files for p in main] == [("e/main",), ("e/timeout",), ("e/main",)]
    assert [p.response for p in main] == ["timeout", "", "timeout"]
    assert sim.path[-2:] == ["sales", "wait"]  # after_retries
    assert sim.ended - sim.started == timedelta(seconds=8)  # 2 x the 4 s timeout


def test_an_invalid_key_plays_the_invalid_prompt(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "9", "2")
    assert [p.files for p in sim.prompts if p.node == "main"] == [
        ("e/main",),
        ("e/invalid",),
        ("e/main",),
    ]
    assert sim.path[-2:] == ["support", "wait"]


def test_goto_returns_to_the_menu(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "*", "1")
    assert sim.path == ["lang", "hello", "hours", "main", "again", "main", "sales", "wait"]


def test_out_of_hours_goes_to_voicemail(scenario: Scenario) -> None:
    sim = run(scenario, "2026-11-22 10:00", "1")  # a Sunday
    assert sim.path == ["lang", "hello", "hours", "after_hours", "vm"]
    assert sim.outcome.kind == "voicemail"
    assert sim.voicemail is not None and sim.voicemail.mailbox == "100@default"
    assert files(sim)[-2:] == ["e/closed", "e/leave"]
    assert "closed at 2026-11-22 10:00 MSK: Sunday" in sim.call.steps[2].note


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        ("2026-11-21 11:00", True),  # Saturday hours
        ("2026-11-21 14:00", False),
        ("2026-01-07 11:00", False),  # Orthodox Christmas
        ("2026-12-31 14:00", True),  # a custom date wins over the RU day off
        ("2026-12-31 15:30", False),
    ],
)
def test_schedule_branches(scenario: Scenario, when: str, open_: bool) -> None:
    sim = run(scenario, when, "1", "#")
    assert ("main" in sim.path) is open_


def test_leaving_the_queue_with_a_key(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "1", "5", "2")  # 5 is not an exit key; 2 is
    assert sim.path[-2:] == ["wait", "vm"]
    assert sim.queue_exit == QueueExit("key", "2")
    assert sim.outcome.kind == "voicemail"


def test_overflow_after_max_wait(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "1", wait=300)
    assert sim.queue_exit == QueueExit("overflow")
    assert sim.path[-1] == "vm"
    assert sim.ended - sim.started == timedelta(seconds=300)
    stays = run(scenario, MONDAY, "1", "1", wait=299)
    assert stays.outcome.kind == "answered"


def test_callback_to_the_caller_id(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "3", caller="+79161234567")
    assert sim.callback is not None
    assert sim.callback.number == "+79161234567"
    assert files(sim)[-1] == "e/booked"
    assert sim.path[-2:] == ["cb", "bye"]  # next: bye
    assert sim.outcome.kind == "hangup"


def test_callback_to_an_entered_number(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "3", "12", "89161234567#")  # no caller ID
    assert sim.callback is not None and sim.callback.number == "89161234567"
    assert [p.files for p in sim.prompts if p.node == "cb"] == [
        ("e/enter",),
        ("e/bad-number",),
        ("e/enter",),
        ("e/booked",),
    ]


def test_callback_without_a_number_falls_back(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "3")
    assert sim.callback is None
    assert sim.path[-2:] == ["cb", "vm"]
    assert sim.call.steps[-2].note == "no number to call back"


def test_transfers(scenario: Scenario) -> None:
    to_scenario = run(scenario, MONDAY, dialled="+74950000002")
    assert to_scenario.path == ["to_general"]
    assert (to_scenario.outcome.kind, to_scenario.outcome.scenario) == ("transfer", "general")
    to_number = run(scenario, MONDAY, "1", "5")
    assert (to_number.outcome.kind, to_number.outcome.number) == ("transfer", "+74951112233")


def test_hangup(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "#")
    assert sim.outcome.kind == "hangup" and sim.outcome.node == "bye"


def test_the_text_report(scenario: Scenario) -> None:
    text = format_simulation(run(scenario, MONDAY, "2", "1", caller="+79161234567"), "x.yaml")
    assert "scenario everything (x.yaml)" in text
    assert "at 2026-11-23 10:00 MSK (Monday), entry lang" in text
    assert "path: lang -> hello -> hours -> main -> sales -> wait" in text
    assert "(kk) e/main-kk  [pressed 1]" in text
    assert "result: queue hotline (node wait)" in text
    assert "skills:   operator >= 2" in text
    assert "priority: 5" in text
    assert "topic:    sales" in text
    assert "category: B" in text
    assert "language: kk" in text


def test_the_json_report(scenario: Scenario) -> None:
    data = run(scenario, MONDAY, "1", "1", "9").to_dict()
    assert data["outcome"] == "queue"
    assert data["queue"]["skills"] == {"operator": 2}
    assert data["digits_left"] == []  # 9 was pressed in the queue (not an exit key)
    assert data["path"][-1] == "wait"


def test_keys_left_over(scenario: Scenario) -> None:
    sim = run(scenario, MONDAY, "1", "#", "5", "5")
    assert sim.digits_left == ["5", "5"]
    assert "keys not used: 5,5" in format_simulation(sim)


def test_a_naive_time_is_refused(scenario: Scenario) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        simulate(scenario, at=at(MONDAY).replace(tzinfo=None))


# --------------------------------------------------------------------------- the engine


def test_the_engine_protocol_for_an_executor(scenario: Scenario) -> None:
    """What the FastAGI executor sees: actions, one at a time, answered by the channel."""
    call = CallState(language=scenario.language, caller="+79161234567", dialled="+74950000001")
    steps = walk(scenario, call, lambda: at(MONDAY))
    action = next(steps)
    assert isinstance(action, Collect) and action.node == "lang" and action.max_digits == 1
    action = steps.send("2")
    assert action == SetLanguage("kk")
    action = steps.send(None)
    assert action == Play("hello", ("e/hello-kk",), "kk")
    action = steps.send(None)
    assert isinstance(action, Collect) and action.node == "main" and action.timeout == 4
    action = steps.send("1")
    assert isinstance(action, EnterQueue)
    action = steps.send(QueueExit("no_agents"))  # nobody logged in: offer a callback
    assert isinstance(action, BookCallback) and action.number == "+79161234567"
    assert action.topic == "sales" and action.language == "kk"
    assert action.requirements == (SkillRequirement("operator", 2),)
    action = steps.send(None)
    assert action == Play("cb", ("e/booked-kk",), "kk")
    with pytest.raises(StopIteration) as stop:
        steps.send(None)
    assert stop.value.value.kind == "hangup"
    assert call.path == ["lang", "hello", "hours", "main", "sales", "wait", "cb", "bye"]


def test_a_call_that_left_the_queue_by_hanging_up(scenario: Scenario) -> None:
    steps = walk(scenario, CallState(language="ru"), lambda: at(MONDAY), entry="sales")
    assert isinstance(next(steps), EnterQueue)
    with pytest.raises(StopIteration) as stop:
        steps.send(QueueExit("key", "7"))  # not an exit key
    assert stop.value.value.kind == "hangup"


def test_no_entry_point(tmp_path: Path) -> None:
    scenario = scenario_of(tmp_path, MINIMAL.replace("  default: start", '  "100": start'))
    sim = simulate(scenario, at=at(MONDAY), dialled="200")
    assert sim.outcome.kind == "hangup"
    assert "no entry point" in sim.outcome.reason


def test_the_step_guard() -> None:
    """The checker refuses loops a caller cannot leave; the engine stops anyway."""
    looping = Scenario.model_validate(
        {
            "name": "loop",
            "languages": ["ru"],
            "time_zone": "UTC",
            "entry_points": {"default": "a"},
            "nodes": {"a": {"type": "goto", "target": "b"}, "b": {"type": "goto", "target": "a"}},
        }
    )
    sim = simulate(looping, at=at(MONDAY))
    assert sim.outcome.kind == "hangup"
    assert f"visited {MAX_STEPS} nodes" in sim.outcome.reason
