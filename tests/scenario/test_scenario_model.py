"""The scenario format: every node type, value types and their plain-English errors."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from scenario_support import JARGON, check_text, everything

from acd.core.announce import SUPPORTED_LANGUAGES
from acd.scenario.model import (
    ALL_DAY,
    CLOSED,
    LANGUAGE_NAMES,
    NODE_TYPES,
    CallbackNode,
    GotoNode,
    HangupNode,
    Hours,
    LanguageNode,
    MenuNode,
    PlayNode,
    QueueNode,
    Scenario,
    ScheduleNode,
    SetNode,
    TimeRange,
    TransferNode,
    VoicemailNode,
    format_hours,
    parse_day_key,
)

HOURS: TypeAdapter[tuple[TimeRange, ...]] = TypeAdapter(Hours)


def test_the_languages_are_the_announcement_languages() -> None:
    assert tuple(LANGUAGE_NAMES) == SUPPORTED_LANGUAGES == ("ru", "kk", "en")


def test_every_node_type_is_known() -> None:
    assert set(NODE_TYPES) == {
        "play",
        "menu",
        "language",
        "schedule",
        "set",
        "queue",
        "voicemail",
        "callback",
        "transfer",
        "hangup",
        "goto",
    }


def test_a_scenario_with_every_node_type(tmp_path: Path) -> None:
    scenario = everything(tmp_path)
    kinds = {type(node) for node in scenario.nodes.values()}
    assert kinds == set(NODE_TYPES.values())
    assert scenario.version == "2"
    assert scenario.language == "ru"
    assert scenario.entry_for("+74950000002") == "to_general"
    assert scenario.entry_for("+70000000000") == "lang"
    assert scenario.entry_for(None) == "lang"

    play = scenario.node("hello")
    assert isinstance(play, PlayNode)
    assert play.prompt == {"ru": ("e/hello", "e/hello-2"), "kk": ("e/hello-kk",)}
    assert list(play.targets()) == [(("next",), "hours")]

    menu = scenario.node("main")
    assert isinstance(menu, MenuNode)
    assert menu.options["*"] == "again" and menu.options["#"] == "bye"
    assert menu.options["1"] == "sales"  # YAML 1: becomes the key "1"
    assert (menu.timeout, menu.retries) == (4.0, 1)
    assert [path for path, _ in menu.prompts()] == [
        ("prompt",),
        ("invalid_prompt",),
        ("timeout_prompt",),
    ]
    assert (("options", "3"), "cb") in list(menu.targets())
    assert (("after_retries",), "sales") in list(menu.targets())

    language = scenario.node("lang")
    assert isinstance(language, LanguageNode)
    assert language.options == {"1": "ru", "2": "kk"}

    schedule = scenario.node("hours")
    assert isinstance(schedule, ScheduleNode)
    assert schedule.calendar == "RU"
    assert schedule.weekday_hours()[0] == (TimeRange(540, 1080),)
    assert schedule.weekday_hours()[5] == (TimeRange(600, 840),)
    assert schedule.weekday_hours()[6] == CLOSED
    assert schedule.workday_hours() == (TimeRange(540, 1080),)  # Monday's by default
    assert schedule.dates == {"2026-12-31": (TimeRange(540, 900),)}

    sales = scenario.node("sales")
    assert isinstance(sales, SetNode)
    assert (sales.topic, sales.skills, sales.priority, sales.category) == (
        "sales",
        {"operator": 2},
        5,
        "B",
    )

    queue = scenario.node("wait")
    assert isinstance(queue, QueueNode)
    assert queue.exit_keys == {"1": "cb", "2": "vm"}
    assert queue.announce is not None and queue.announce.position and not queue.announce.wait
    assert ("messages", "prompts", 0) in [path for path, _ in queue.prompts()]
    assert {target for _, target in queue.targets()} == {"vm", "cb"}

    voicemail = scenario.node("vm")
    assert isinstance(voicemail, VoicemailNode)
    assert (voicemail.mailbox, voicemail.max_seconds, voicemail.next) == ("100@default", 60, None)

    callback = scenario.node("cb")
    assert isinstance(callback, CallbackNode)
    assert callback.number == "caller_id" and callback.fallback == "vm"

    general = scenario.node("to_general")
    assert isinstance(general, TransferNode) and general.scenario == "general"
    number = scenario.node("to_number")
    assert isinstance(number, TransferNode) and number.number == "+74951112233"
    assert isinstance(scenario.node("bye"), HangupNode)
    goto = scenario.node("again")
    assert isinstance(goto, GotoNode) and list(goto.targets()) == [(("target",), "main")]


def test_models_forbid_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        PlayNode.model_validate({"type": "play", "prompt": {"ru": "x"}, "next": "y", "nxet": "z"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("closed", CLOSED),
        ("Closed", CLOSED),
        ("09:00-18:00", (TimeRange(540, 1080),)),
        ("9:00 - 18:00", (TimeRange(540, 1080),)),
        ("00:00-24:00", ALL_DAY),
        (["14:00-18:00", "09:00-13:00"], (TimeRange(540, 780), TimeRange(840, 1080))),
        (["00:00-12:00", "12:00-24:00"], (TimeRange(0, 720), TimeRange(720, 1440))),
    ],
)
def test_hours(text: object, expected: tuple[TimeRange, ...]) -> None:
    assert HOURS.validate_python(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("25:00-26:00", "'25:00' is not a time of day"),
        ("09:00-24:30", "'24:30' is not a time of day"),
        ("09:60-10:00", "'09:60' is not a time of day"),
        ("24:00-24:00", "cannot start at 24:00"),
        ("18:00-09:00", "ends before it starts"),
        ("09:00-09:00", "is empty"),
        ("nine to six", "is not a range of hours"),
        ("9-18", "is not a time of day"),
        (900, "write hours as text"),
        (None, "no hours given"),
        (True, "must be 'closed'"),
        (["09:00-12:00", "11:00-13:00"], "overlap"),
        (["closed", "09:00-12:00"], "cannot be mixed"),
    ],
)
def test_bad_hours(text: object, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        HOURS.validate_python(text)
    assert words in str(caught.value)


def test_format_hours() -> None:
    assert format_hours(CLOSED) == "closed"
    assert format_hours((TimeRange(540, 780), TimeRange(840, 1440))) == "09:00-13:00, 14:00-24:00"


def test_day_keys() -> None:
    assert parse_day_key("mon") == (0,)
    assert parse_day_key("mon-fri") == (0, 1, 2, 3, 4)
    assert parse_day_key("sat-sun") == (5, 6)
    for bad, words in [
        ("fri-mon", "goes backwards"),
        ("monday", "did you mean 'mon'"),
        ("mon-tue-wed", "not a weekday or a range"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_day_key(bad)


def _schedule(**fields: object) -> ScheduleNode:
    return ScheduleNode.model_validate({"type": "schedule", "open": "a", "closed": "b", **fields})


def test_date_keys() -> None:
    node = _schedule(dates={date(2026, 12, 31): "closed", "02-29": "10:00-12:00"})
    assert set(node.dates) == {"2026-12-31", "02-29"}
    for bad, words in [
        ("2026-13-01", "is not a date"),
        ("13-01", "not a day of the year"),
        ("31.12.2026", "use YYYY-MM-DD"),
    ]:
        with pytest.raises(ValidationError, match=words):
            _schedule(dates={bad: "closed"})


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            {"type": "menu", "prompt": {"ru": "x"}, "options": {10: "a"}, "after_retries": "a"},
            "10 is not a phone key",
        ),
        (
            {"type": "menu", "prompt": {"ru": "x"}, "options": {"1": None}, "after_retries": "a"},
            "no target node given",
        ),
        ({"type": "play", "prompt": {"en-GB": "x"}, "next": "a"}, "unknown language 'en-GB'"),
        ({"type": "play", "prompt": {"RU": "x"}, "next": "a"}, "did you mean 'ru'"),
        ({"type": "play", "prompt": {"ru": "../etc/passwd"}, "next": "a"}, "is not a prompt name"),
        ({"type": "play", "prompt": {"ru": []}, "next": "a"}, "must not be empty"),
        ({"type": "play", "prompt": {"ru": "x"}, "next": "9lives"}, "is not a valid node ID"),
        ({"type": "set", "category": "b", "next": "a"}, "did you mean 'B'"),
        ({"type": "set", "priority": 101, "next": "a"}, "at most 100"),
        ({"type": "set", "priority": True, "next": "a"}, "must be a number"),
        ({"type": "set", "skills": {"operator": 11}, "next": "a"}, "at most 10"),
        ({"type": "set", "topic": " ", "next": "a"}, "the topic is empty"),
        ({"type": "queue", "announce": {"every": 5}}, "at least 10"),
        ({"type": "queue", "max_wait": float("inf")}, "must be a finite number, got inf"),
        ({"type": "queue", "max_wait": float("nan")}, "must be a finite number"),
        ({"type": "voicemail", "mailbox": "a b", "prompt": {"ru": "x"}}, "not a voicemail box"),
        ({"type": "transfer", "number": "8 (495) 123"}, "is not a phone number"),
        ({"type": "transfer", "scenario": "../x"}, "is not a scenario file name"),
        ({"type": "schedule", "time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"type": "schedule", "calendar": "ru"}, "did you mean 'RU'"),
        ({"type": "callback", "number": "mobile", "confirm_prompt": {"ru": "x"}}, "caller_id"),
    ],
)
def test_node_value_errors(tmp_path: Path, data: dict[str, object], words: str) -> None:
    loaded = check_text(tmp_path, scenario_with_node(data))
    found = [str(p) for p in loaded.problems]
    assert any(words in line for line in found), found
    for line in found:
        for jargon in JARGON:
            assert jargon not in line


def scenario_with_node(node: dict[str, object]) -> str:
    """A scenario whose entry point is ``node`` (as node ``n``); node ``a`` hangs up."""
    data = {
        "name": "t",
        "languages": ["ru"],
        "time_zone": "UTC",
        "entry_points": {"default": "n"},
        "nodes": {"n": node, "a": {"type": "hangup"}},
    }
    yaml = YAML(typ="safe", pure=True)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def test_scenario_header_values() -> None:
    base = {
        "name": "x",
        "languages": ["ru"],
        "time_zone": "UTC",
        "entry_points": {"default": "a"},
        "nodes": {"a": {"type": "hangup"}},
    }
    assert Scenario.model_validate(base).language == "ru"
    for change, words in [
        ({"version": 1.5}, "whole number or text"),
        ({"name": "my scenario"}, "not a valid scenario name"),
        ({"entry_points": {"+7 495": "a"}}, "not a phone number"),
        ({"languages": []}, "at least 1"),
    ]:
        with pytest.raises(ValidationError, match=words):
            Scenario.model_validate({**base, **change})
