"""The checker: every problem of a file at once, located; the rules across the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_support import (
    FACTS,
    MINIMAL,
    ROUTING_CONFIG,
    check_text,
    everything,
    messages,
    write,
)

from acd.config import load_settings
from acd.scenario import RoutingFacts, ScenarioError, check_file, load_scenario

MANY_PROBLEMS = """\
name: broken
languages: [ru, kk, ru]
default_language: en
time_zone: Europe/Moscow
entry_points:
  default: welcom
nodes:
  welcome:
    type: play
    prompt: {ru: w/hello}
    nxt: menu
  menu:
    type: menu
    prompt: {ru: w/menu, kk: w/menu-kk, en: w/menu-en}
    options:
      1: sales
      2: nowhere
      2: sales
    after_retries: sales
  sales:
    type: queue
    skills: {sales: 1}
    overflow: menu
    messages: {every: 60, prompts: [{ru: w/wait}]}
  lonely:
    type: hangup
"""


def test_every_problem_is_listed_in_file_order(tmp_path: Path) -> None:
    loaded = check_text(tmp_path, MANY_PROBLEMS)
    found = [(p.line, p.column, p.message) for p in loaded.problems]
    assert [line for line, _, _ in found] == sorted(line for line, _, _ in found)
    text = "\n".join(f"{line}:{column}: {message}" for line, column, message in found)
    expected = [
        "2:21: languages: 'ru' is listed twice",
        "3:19: default_language: 'en' is not one of the languages offered (ru, kk)",
        "6:12: entry_points: calls to other numbers go to 'welcom', which is not a node "
        "(did you mean 'welcome'?)",
        "24:37: node 'sales' (queue), messages.prompts.0: no prompt for kk (Kazakh)",
        "11:5: node 'welcome' (play): unknown key 'nxt' (did you mean 'next'?)",
        "14:41: node 'menu' (menu), prompt: a prompt for 'en', which the scenario does not offer",
        "18:7: duplicate key '2' (first set on line 17)",
        "22:14: node 'sales' (queue), skills: unknown skill 'sales'",
        "23:5: node 'sales' (queue) has 'overflow' but no 'max_wait'",
        "25:3: node 'lonely' is never reached",
    ]
    for piece in expected:
        assert piece in text, f"{piece!r} not in\n{text}"
    assert "8:3: node 'welcome' (play) has no 'next'" in text
    # the invalid 'welcome' node still leads to 'menu', and 'nowhere' is not a node
    assert "never reached" not in text.replace("'lonely' is never reached", "")
    assert "'nowhere', which is not a node" in text
    assert loaded.scenario is None


def test_a_valid_file(tmp_path: Path) -> None:
    everything(tmp_path)  # asserts no problems


def test_load_scenario(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL, "good.yaml")
    assert load_scenario(good).name == "t"
    bad = write(tmp_path, MANY_PROBLEMS, "bad.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad, FACTS)
    assert len(caught.value.problems) >= 10
    assert str(caught.value).startswith(f"{bad}:2:21: ")


def test_skills_and_queues_from_a_routing_configuration(tmp_path: Path) -> None:
    routing = load_settings(ROUTING_CONFIG).routing
    facts = RoutingFacts(
        skills=frozenset(routing.skills),
        queues=frozenset(q.id for q in routing.queues),
        origin=str(ROUTING_CONFIG),
    )
    everything(tmp_path)
    assert not check_file(tmp_path / "scenario.yaml", facts).problems
    text = MINIMAL.replace(
        "  bye:\n    type: hangup\n",
        "  bye:\n    type: queue\n    queue: hotlnie\n    skills: {operator: 1, sales: 2}\n",
    )
    found = messages(check_text(tmp_path, text, facts))
    assert any("unknown queue 'hotlnie' (did you mean 'hotline'?)" in m for m in found)
    assert any(
        f"known skills (from {ROUTING_CONFIG}): account_manager, operator" in m for m in found
    )


def test_without_routing_facts_skills_are_not_checked(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  bye:\n    type: hangup\n", "  bye:\n    type: queue\n    skills: {x: 1}\n"
    )
    assert not check_text(tmp_path, text, RoutingFacts()).problems


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            ("    next: bye\n", "    next: hours\n"),
            "is closed on Monday (all day) but has no 'closed' branch",
        ),
    ],
)
def test_schedule_routes(tmp_path: Path, change: tuple[str, str], words: str) -> None:
    text = MINIMAL.replace(*change) + (
        "  hours:\n    type: schedule\n    hours: {sat: '10:00-12:00'}\n    open: bye\n"
    )
    assert any(words in m for m in messages(check_text(tmp_path, text)))


def schedule_problems(tmp_path: Path, body: str) -> list[str]:
    text = MINIMAL.replace("    next: bye\n", "    next: hours\n") + (
        "  hours:\n    type: schedule\n" + body
    )
    return messages(check_text(tmp_path, text))


def test_schedule_rules(tmp_path: Path) -> None:
    always = "    hours: {mon-sun: '00:00-24:00'}\n    open: bye\n"
    assert schedule_problems(tmp_path, always) == []
    holidays_closed = "    calendar: RU\n" + always
    assert any(
        "closed on public holidays (all day) but has no 'closed' branch" in m
        for m in schedule_problems(tmp_path, holidays_closed)
    )
    no_open = "    hours: {mon: '09:00-10:00'}\n    closed: bye\n"
    assert any(
        "is open on Monday 09:00-10:00 but has no 'open' branch" in m
        for m in schedule_problems(tmp_path, no_open)
    )
    never = "    hours: {mon: closed}\n    open: bye\n    closed: bye\n"
    assert any("is never open" in m for m in schedule_problems(tmp_path, never))
    twice = "    hours: {mon-fri: '09:00-18:00', wed: closed}\n    open: bye\n    closed: bye\n"
    assert any(
        "'wed' gives hours for a day that 'mon-fri' already gives" in m
        for m in schedule_problems(tmp_path, twice)
    )
    no_calendar = (
        "    hours: {mon-sun: '00:00-24:00'}\n    transferred_workday_hours: closed\n"
        "    open: bye\n"
    )
    assert any(
        "'transferred_workday_hours' has no effect without 'calendar'" in m
        for m in schedule_problems(tmp_path, no_calendar)
    )


def test_more_rules(tmp_path: Path) -> None:
    def problems_with(node: str) -> list[str]:
        text = MINIMAL.replace("    next: bye\n", "    next: extra\n") + node
        return messages(check_text(tmp_path, text))

    assert any(
        "min_digits (9) is more than max_digits (5)" in m
        for m in problems_with(
            "  extra:\n    type: callback\n    confirm_prompt: {ru: x}\n"
            "    min_digits: 9\n    max_digits: 5\n"
        )
    )
    assert any(
        "language: 'kk' is not one of the languages offered (ru)" in m
        for m in problems_with("  extra:\n    type: set\n    language: kk\n    next: bye\n")
    )
    write(tmp_path, MINIMAL, "other.yml")
    assert problems_with("  extra:\n    type: transfer\n    scenario: other\n") == [
        "node 'bye' is never reached: no entry point or other node leads to it"
    ]
    assert any(
        "transfers the call to this same scenario" in m
        for m in problems_with("  extra:\n    type: transfer\n    scenario: scenario.yaml\n")
    )
    assert any(
        "needs exactly one of 'number'" in m
        for m in problems_with("  extra:\n    type: transfer\n")
    )


def test_a_loop_through_a_menu_is_fine(tmp_path: Path) -> None:
    text = MINIMAL.replace("    next: bye\n", "    next: menu\n") + (
        "  menu:\n    type: menu\n    prompt: {ru: m}\n    options: {1: start, 2: bye}\n"
        "    after_retries: start\n"
    )
    assert check_text(tmp_path, text).problems == []


def test_a_scalar_file(tmp_path: Path) -> None:
    found = messages(check_text(tmp_path, "hello\n"))
    assert found == [
        "a scenario file must be a mapping (name:, languages:, time_zone:, entry_points:, "
        "nodes:), not the value 'hello'"
    ]


def test_a_file_that_does_not_exist(tmp_path: Path) -> None:
    loaded = check_file(tmp_path / "missing.yaml")
    assert [str(p) for p in loaded.problems] == [f"{tmp_path / 'missing.yaml'}: file not found"]


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace("    next: bye\n", "    next: bye\n    next: bye\n").replace(
        "  bye:\n    type: hangup\n", "  bye:\n    type: hangup\n    type: hangup\n"
    )
    loaded = check_text(tmp_path, text)
    assert [(p.line, p.message[:20]) for p in loaded.problems] == [
        (11, "duplicate key 'next'"),
        (14, "duplicate key 'type'"),
    ]


def test_aliases_that_expand_too_much(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    found = messages(check_text(tmp_path, "\n".join(lines) + "\n"))
    assert found == [
        "the file expands to more than 200000 values (through aliases); a scenario is much smaller"
    ]


def test_extension_keys_hold_anchors(tmp_path: Path) -> None:
    text = "x-prompts:\n  hello: &hello {ru: t/hello}\n" + MINIMAL.replace(
        "prompt: {ru: t/hello}", "prompt: *hello"
    )
    assert check_text(tmp_path, text).problems == []
    assert any(
        "unknown key 'prompts'" in m
        for m in messages(check_text(tmp_path, text.replace("x-prompts", "prompts")))
    )
