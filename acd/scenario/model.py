"""The IVR scenario format: pydantic models over a YAML file.

A scenario is a graph of *nodes* keyed by ID. A call enters at the node its dialled number
names in ``entry_points`` and walks the graph: every node does one thing (play a prompt, ask
for a key, branch on the clock, put the call in a queue...) and names the node that follows.
See ``docs/scenarios.md`` for the format with examples.

The models check each value on its own (types, ranges, spelling of names). Rules between
values — targets that exist, prompts for every offered language, known skills, schedules that
always lead somewhere — are in :mod:`acd.scenario.check`, which locates each problem in the
file; load scenarios with :func:`acd.scenario.load_scenario`, which runs both.

Every node class offers :meth:`Node.targets` and :meth:`Node.prompts`, so tools (checker,
simulator, the FastAGI executor) can walk any node without knowing its type.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from acd.config import _check_time_zone, _not_bool, _plain_error
from acd.core.announce import SUPPORTED_LANGUAGES
from acd.routing_config import Level, Name

__all__ = [
    "DAY_NAMES",
    "DTMF_KEYS",
    "LANGUAGE_NAMES",
    "NODE_TYPES",
    "WEEKDAYS",
    "CallbackNode",
    "GotoNode",
    "HangupNode",
    "Hours",
    "LanguageNode",
    "MenuNode",
    "Node",
    "NodeBase",
    "PlayNode",
    "QueueAnnouncements",
    "QueueMessages",
    "QueueNode",
    "Scenario",
    "ScheduleNode",
    "SetNode",
    "TimeRange",
    "TransferNode",
    "VoicemailNode",
    "format_hours",
    "parse_day_key",
]

LANGUAGE_NAMES = {"ru": "Russian", "kk": "Kazakh", "en": "English"}
assert tuple(LANGUAGE_NAMES) == SUPPORTED_LANGUAGES

DTMF_KEYS = "0123456789*#"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_DAY = 24 * 60

# Type of a location path inside the file: mapping keys (as text) and list indexes.
FieldPath = tuple[str | int, ...]


# --------------------------------------------------------------------------- value types


def _text(value: Any, what: str) -> str:
    if value is None:
        bare = what.removeprefix("an ").removeprefix("a ")
        raise _plain_error(f"no {bare} given")
    if not isinstance(value, str):
        raise _plain_error(f"must be {what} (text), got {_show(value)}")
    return value


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'" if isinstance(value, str) else text


_NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def _node_id(value: Any) -> str:
    if value is None:
        raise _plain_error("no target node given; name the node the call goes to")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _plain_error(f"node IDs are names, not numbers: got {value}; use e.g. 'step_{value}'")
    text = _text(value, "a node ID")
    if not _NODE_ID.match(text):
        raise _plain_error(
            f"'{text[:40]}' is not a valid node ID: use letters, digits, '_', '-' and '.', "
            "starting with a letter (at most 64 characters)"
        )
    return text


NodeId = Annotated[str, BeforeValidator(_node_id)]


def _language(value: Any) -> str:
    text = _text(value, "a language code")
    if text in LANGUAGE_NAMES:
        return text
    offered = ", ".join(f"'{code}' ({name})" for code, name in LANGUAGE_NAMES.items())
    if text.lower() in ("kz", "kaz", "kazakh", "қаз"):
        hint = " (Kazakh is 'kk', its ISO 639-1 code; 'kz' is the country)"
    elif text.lower() in LANGUAGE_NAMES:
        hint = f" (did you mean '{text.lower()}'?)"
    else:
        close = difflib.get_close_matches(text.lower(), list(LANGUAGE_NAMES), n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise _plain_error(f"unknown language '{text[:20]}'{hint}; languages: {offered}")


LanguageCode = Annotated[str, BeforeValidator(_language)]

_PROMPT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_SOUND_EXTENSIONS = (".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".g722", ".mp3", ".ogg", ".g729")


def _prompt_name(value: Any) -> str:
    text = _text(value, "a prompt file name")
    if not text:
        raise _plain_error("the prompt file name is empty")
    lowered = text.lower()
    for extension in _SOUND_EXTENSIONS:
        if lowered.endswith(extension):
            stem = text[: -len(extension)]
            raise _plain_error(
                f"leave the extension out of the prompt name: '{stem}' "
                "(Asterisk picks the best format it has)"
            )
    if not _PROMPT_NAME.match(text) or ".." in text.split("/"):
        raise _plain_error(
            f"'{text[:40]}' is not a prompt name: use a sound file path relative to the "
            "Asterisk sounds directory, such as 'hotline/welcome' (letters, digits, '_', '-', "
            "'.', '/')"
        )
    return text


PromptName = Annotated[str, BeforeValidator(_prompt_name)]


def _prompt_files(value: Any) -> Any:
    if value is None:
        raise _plain_error("no prompt file given for this language")
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple):
        raise _plain_error(f"must be a prompt file name or a list of names, got {_show(value)}")
    return value


PromptFiles = Annotated[
    tuple[PromptName, ...], BeforeValidator(_prompt_files), Field(min_length=1, max_length=20)
]


def _prompt_mapping(value: Any) -> Any:
    if value is None:
        raise _plain_error("no prompt given; write one file name per language, e.g. 'ru: welcome'")
    if isinstance(value, str | list):
        raise _plain_error(
            "must give a prompt file per language, e.g. '{ru: hotline/welcome, kk: "
            "hotline/welcome-kk}', not a single name"
        )
    return value


LocalizedPrompt = Annotated[
    dict[LanguageCode, PromptFiles], BeforeValidator(_prompt_mapping), Field(min_length=1)
]
"""Prompt files to play, per language: ``{ru: [hotline/welcome], kk: [...]}``."""


def _dtmf(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return str(value)
    if isinstance(value, str) and len(value) == 1 and value in DTMF_KEYS:
        return value
    shown = _show(value)
    raise _plain_error(
        f"{shown} is not a phone key: use one of 0-9, '*' or '#' (quote '*' and '#')"
    )


DtmfKey = Annotated[str, BeforeValidator(_dtmf)]


def _finite(value: Any) -> Any:
    """Reject true/false and infinite or undefined numbers (YAML .inf, .nan) up front."""
    value = _not_bool(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _plain_error(f"must be a finite number, got {value}")
    return value


MenuTimeout = Annotated[float, BeforeValidator(_finite), Field(gt=0, le=60)]
LongSeconds = Annotated[float, BeforeValidator(_finite), Field(gt=0, le=86400)]
Retries = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=10)]
Priority = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=100)]
Skills = dict[Name, Level]
MusicClass = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")]


def _category(value: Any) -> str:
    text = _text(value, "a category letter")
    if text in ("A", "B", "C", "D", "E"):
        return text
    hint = f" (did you mean '{text.upper()}'?)" if text.upper() in "ABCDE" and text else ""
    raise _plain_error(f"'{text[:20]}' is not a category{hint}; categories are A, B, C, D and E")


Category = Annotated[str, BeforeValidator(_category)]


def _topic(value: Any) -> str:
    text = _text(value, "a topic")
    if not text.strip():
        raise _plain_error("the topic is empty")
    if len(text) > 100:
        raise _plain_error("the topic is too long (at most 100 characters)")
    return text


Topic = Annotated[str, BeforeValidator(_topic)]

_DIALLED = re.compile(r"^\+?[0-9]{1,20}$")


def _dialled_number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise _plain_error(
            f'put the number in quotes: "{value}" '
            "(without quotes YAML drops a leading '+' or '0')"
        )
    text = _text(value, "a phone number")
    if not _DIALLED.match(text):
        raise _plain_error(
            f"'{text[:30]}' is not a phone number: use digits with an optional leading '+', "
            "without spaces or dashes"
        )
    return text


DialledNumber = Annotated[str, BeforeValidator(_dialled_number)]


def _entry_key(value: Any) -> str:
    if value == "default":
        return "default"
    return _dialled_number(value)


EntryKey = Annotated[str, BeforeValidator(_entry_key)]

_MAILBOX = re.compile(r"^[A-Za-z0-9_.-]{1,40}(@[A-Za-z0-9_.-]{1,40})?$")


def _mailbox(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _text(value, "a mailbox")
    if not _MAILBOX.match(text):
        raise _plain_error(f"'{text[:40]}' is not a voicemail box: use 'box' or 'box@context'")
    return text


Mailbox = Annotated[str, BeforeValidator(_mailbox)]

_SCENARIO_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(\.ya?ml)?$")


def _scenario_ref(value: Any) -> str:
    text = _text(value, "a scenario file name")
    if not _SCENARIO_REF.match(text):
        raise _plain_error(
            f"'{text[:40]}' is not a scenario file name: give the name of a scenario file in "
            "the same directory, e.g. 'general_line' for general_line.yaml"
        )
    return text


ScenarioRef = Annotated[str, BeforeValidator(_scenario_ref)]

_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def _scenario_name(value: Any) -> str:
    text = _text(value, "a scenario name")
    if not _SCENARIO_NAME.match(text):
        raise _plain_error(
            f"'{text[:40]}' is not a valid scenario name: use letters, digits, '_', '-' and '.'"
        )
    return text


def _version(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool | float):
        raise _plain_error(f"must be a whole number or text in quotes, got {_show(value)}")
    if isinstance(value, int):
        if not 0 <= value < 10**9:
            raise _plain_error(f"must be a whole number from 0 to 999999999, got {value}")
        return str(value)
    return _text(value, "a version")


TimeZone = Annotated[
    str, BeforeValidator(lambda v: _text(v, "a time zone")), AfterValidator(_check_time_zone)
]


# --------------------------------------------------------------------------- hours


class TimeRange(NamedTuple):
    """Opening hours within one day, in minutes after local midnight; ``end`` may be 1440."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


_RANGE = re.compile(r"^\s*(\S+?)\s*[-–]\s*(\S+)\s*$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _minute(text: str, *, end: bool) -> int:
    match = _TIME.match(text)
    if not match:
        raise _plain_error(f"'{text[:20]}' is not a time of day; write it as HH:MM, e.g. 09:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise _plain_error(
            f"'{text}' is not a time of day; times go from 00:00 to 24:00 (24:00 only as an end)"
        )
    if hours == 24 and not end:
        raise _plain_error("a range cannot start at 24:00; use 00:00 of the next day")
    return hours * 60 + minutes


def _time_range(value: Any) -> TimeRange:
    if isinstance(value, TimeRange):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _plain_error(f'got the number {_show(value)}; write hours as text like "09:00-18:00"')
    text = _text(value, "opening hours")
    match = _RANGE.match(text)
    if not match:
        raise _plain_error(
            f"'{text[:30]}' is not a range of hours; write \"09:00-18:00\", or 'closed'"
        )
    start = _minute(match.group(1), end=False)
    end = _minute(match.group(2), end=True)
    if end == start:
        raise _plain_error(f"the range '{text}' is empty: it ends when it starts")
    if end < start:
        raise _plain_error(
            f"the range '{text}' ends before it starts; a range cannot cross midnight: "
            f'split it into "{_clock(start)}-24:00" and "00:00-{_clock(end)}" of the next day'
        )
    return TimeRange(start, end)


def _hours_input(value: Any) -> Any:
    if value is None:
        raise _plain_error("no hours given; write a range such as \"09:00-18:00\", or 'closed'")
    if isinstance(value, str):
        if value.strip().lower() == "closed":
            return []
        return [value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]  # a single number: the range check explains how to write hours
    if isinstance(value, list) and any(
        isinstance(item, str) and item.strip().lower() == "closed" for item in value
    ):
        raise _plain_error("'closed' cannot be mixed with hours in a list")
    if isinstance(value, bool) or not isinstance(value, list | tuple):
        raise _plain_error(
            f"must be 'closed', a range such as \"09:00-18:00\" or a list of ranges, got "
            f"{_show(value)}"
        )
    return value


def _hours_order(ranges: tuple[TimeRange, ...]) -> tuple[TimeRange, ...]:
    ordered = tuple(sorted(ranges))
    for first, second in itertools.pairwise(ordered):
        if second.start < first.end:
            raise _plain_error(f"the ranges {first} and {second} overlap")
    return ordered


Hours = Annotated[
    tuple[Annotated[TimeRange, BeforeValidator(_time_range)], ...],
    BeforeValidator(_hours_input),
    AfterValidator(_hours_order),
    Field(max_length=24),
]
"""Opening hours of one day: ranges sorted by start time; empty means closed all day."""

CLOSED: tuple[TimeRange, ...] = ()
ALL_DAY: tuple[TimeRange, ...] = (TimeRange(0, MINUTES_PER_DAY),)


def format_hours(hours: tuple[TimeRange, ...]) -> str:
    """``09:00-13:00, 14:00-18:00``; ``closed`` for no hours."""
    return ", ".join(str(r) for r in hours) if hours else "closed"


def parse_day_key(text: str) -> tuple[int, ...]:
    """``mon`` -> (0,), ``mon-fri`` -> (0, 1, 2, 3, 4). Raises ValueError with a message."""
    parts = [p.strip() for p in text.split("-")]
    if len(parts) > 2 or not all(parts):
        raise ValueError(f"'{text}' is not a weekday or a range of weekdays such as 'mon-fri'")
    indexes: list[int] = []
    for part in parts:
        if part not in WEEKDAYS:
            close = difflib.get_close_matches(part.lower()[:3], WEEKDAYS, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(
                f"'{part}' is not a weekday{hint}; use mon, tue, wed, thu, fri, sat, sun "
                "or a range such as 'mon-fri'"
            )
        indexes.append(WEEKDAYS.index(part))
    if len(indexes) == 2 and indexes[1] < indexes[0]:
        raise ValueError(
            f"the range '{text}' goes backwards; write it from Monday on, e.g. 'mon-fri'"
        )
    return tuple(range(indexes[0], indexes[-1] + 1))


def _day_key(value: Any) -> str:
    text = _text(value, "a weekday")
    try:
        parse_day_key(text)
    except ValueError as exc:
        raise _plain_error(str(exc)) from None
    return text


DayKey = Annotated[str, BeforeValidator(_day_key)]

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _date_key(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    text = _text(value, "a date")
    if match := _FULL_DATE.match(text):
        try:
            return date(*(int(g) for g in match.groups())).isoformat()
        except ValueError as exc:
            raise _plain_error(f"'{text}' is not a date: {exc}") from None
    if match := _MONTH_DAY.match(text):
        try:
            date(2024, int(match.group(1)), int(match.group(2)))  # 2024: leap year, 02-29 ok
        except ValueError as exc:
            raise _plain_error(f"'{text}' is not a day of the year: {exc}") from None
        return text
    raise _plain_error(
        f"'{text[:20]}' is not a date; use YYYY-MM-DD for one day or MM-DD for every year"
    )


DateKey = Annotated[str, BeforeValidator(_date_key)]


def _country(value: Any) -> str:
    text = _text(value, "a country code")
    import holidays  # deferred: the package loads its country tables lazily anyway

    supported = holidays.list_supported_countries()
    if text in supported:
        return text
    if text.upper() in supported:
        hint = f" (did you mean '{text.upper()}'?)"
    else:
        hint = " (use 'RU' for Russia, 'KZ' for Kazakhstan)"
    raise _plain_error(
        f"'{text[:20]}' is not a country the holidays calendar knows{hint}; "
        "use a two-letter ISO country code"
    )


CountryCode = Annotated[str, BeforeValidator(_country)]


# --------------------------------------------------------------------------- nodes


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeBase(_Model):
    """Fields and helpers every node has."""

    TARGET_FIELDS: ClassVar[tuple[str, ...]] = ()
    """Fields holding a node ID (or a mapping of keys to node IDs)."""
    PROMPT_FIELDS: ClassVar[tuple[str, ...]] = ()
    """Fields holding a :data:`LocalizedPrompt`."""
    WAITS: ClassVar[bool] = False
    """True when the node waits for the caller (so a loop through it is not endless)."""

    type: str
    description: str | None = None

    def targets(self) -> Iterator[tuple[FieldPath, str]]:
        """Every node this one can lead to, with the field path that names it."""
        for name in self.TARGET_FIELDS:
            value = getattr(self, name)
            if isinstance(value, dict):
                for key, target in value.items():
                    yield (name, key), target
            elif value is not None:
                yield (name,), value

    def prompts(self) -> Iterator[tuple[FieldPath, dict[str, tuple[str, ...]]]]:
        """Every per-language prompt of the node, with its field path."""
        for name in self.PROMPT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                yield (name,), value


class PlayNode(NodeBase):
    """Play a prompt in the call's language, then go to ``next``."""

    TARGET_FIELDS = ("next",)
    PROMPT_FIELDS = ("prompt",)

    type: Literal["play"]
    prompt: LocalizedPrompt
    next: NodeId


class MenuNode(NodeBase):
    """Play ``prompt`` and wait ``timeout`` seconds for one key.

    A listed key goes to its node. A key not listed plays ``invalid_prompt`` (no key plays
    ``timeout_prompt``) and asks again, up to ``retries`` more times; after the last retry
    the call goes to ``after_retries``.
    """

    TARGET_FIELDS = ("options", "after_retries")
    PROMPT_FIELDS = ("prompt", "invalid_prompt", "timeout_prompt")
    WAITS = True

    type: Literal["menu"]
    prompt: LocalizedPrompt
    options: Annotated[dict[DtmfKey, NodeId], Field(min_length=1)]
    timeout: MenuTimeout = 5.0
    retries: Retries = 2
    invalid_prompt: LocalizedPrompt | None = None
    timeout_prompt: LocalizedPrompt | None = None
    after_retries: NodeId


class LanguageNode(NodeBase):
    """Let the caller choose a language. ``prompt`` is played in every language the scenario
    offers (each language's file in turn); the chosen language sticks to the call, its
    prompts and its queue announcements. No valid choice after ``retries`` keeps the current
    language (the scenario's default). Then go to ``next``."""

    TARGET_FIELDS = ("next",)
    PROMPT_FIELDS = ("prompt", "invalid_prompt")
    WAITS = True

    type: Literal["language"]
    prompt: LocalizedPrompt
    options: Annotated[dict[DtmfKey, LanguageCode], Field(min_length=1)]
    timeout: MenuTimeout = 5.0
    retries: Retries = 1
    invalid_prompt: LocalizedPrompt | None = None
    next: NodeId


class ScheduleNode(NodeBase):
    """Branch on the local time: ``open`` during opening hours, ``closed`` otherwise.

    The hours of a day come from, in order: ``dates`` (a specific day, or MM-DD every year);
    a public holiday of ``calendar`` -> ``holiday_hours``; a weekend day made a working day by
    decree -> ``transferred_workday_hours`` (default: Monday's hours); otherwise ``hours`` of
    its weekday (a weekday left out is closed).
    """

    TARGET_FIELDS = ("open", "closed")

    type: Literal["schedule"]
    time_zone: TimeZone | None = None
    calendar: CountryCode | None = None
    hours: dict[DayKey, Hours] = Field(default_factory=dict)
    holiday_hours: Hours = CLOSED
    transferred_workday_hours: Hours | None = None
    dates: dict[DateKey, Hours] = Field(default_factory=dict)
    open: NodeId | None = None
    closed: NodeId | None = None

    def weekday_hours(self) -> list[tuple[TimeRange, ...]]:
        """Hours of Monday..Sunday (index 0..6)."""
        week: list[tuple[TimeRange, ...]] = [CLOSED] * 7
        for key, hours in self.hours.items():
            for day in parse_day_key(key):
                week[day] = hours
        return week

    def workday_hours(self) -> tuple[TimeRange, ...]:
        """Hours on a weekend day made a working day."""
        if self.transferred_workday_hours is not None:
            return self.transferred_workday_hours
        return self.weekday_hours()[0]


class SetNode(NodeBase):
    """Set what the call is about — topic, required skills, priority, category (A–E),
    language — then go to ``next``. Later nodes add to or override these values."""

    TARGET_FIELDS = ("next",)

    type: Literal["set"]
    topic: Topic | None = None
    skills: Skills | None = None
    priority: Priority | None = None
    category: Category | None = None
    language: LanguageCode | None = None
    next: NodeId


class QueueAnnouncements(_Model):
    """Tell a waiting caller their position and estimated wait every ``every`` seconds."""

    every: Annotated[float, BeforeValidator(_finite), Field(ge=10, le=3600)]
    first_after: Annotated[float, BeforeValidator(_finite), Field(ge=0, le=3600)] = 0.0
    position: bool = True
    wait: bool = True


class QueueMessages(_Model):
    """Play ``prompts`` in turn, one every ``every`` seconds, while the caller waits."""

    every: Annotated[float, BeforeValidator(_finite), Field(ge=10, le=3600)]
    prompts: Annotated[list[LocalizedPrompt], Field(min_length=1, max_length=50)]


class QueueNode(NodeBase):
    """Put the call in a queue for agents with ``skills`` (at least the given levels).

    ``skills`` add to those set by ``set`` nodes (the higher level wins); ``priority`` applies
    when no ``set`` node gave one. After ``max_wait`` seconds the call leaves for ``overflow``;
    a key of ``exit_keys`` leaves for its node (callback, voicemail, the menu).
    """

    TARGET_FIELDS = ("overflow", "no_agents", "exit_keys")
    WAITS = True

    type: Literal["queue"]
    queue: Name | None = None
    skills: Skills = Field(default_factory=dict)
    priority: Priority | None = None
    max_wait: LongSeconds | None = None
    overflow: NodeId | None = None
    no_agents: NodeId | None = None
    service_level: LongSeconds | None = None
    announce: QueueAnnouncements | None = None
    messages: QueueMessages | None = None
    exit_keys: dict[DtmfKey, NodeId] = Field(default_factory=dict)
    music: MusicClass | None = None

    def prompts(self) -> Iterator[tuple[FieldPath, dict[str, tuple[str, ...]]]]:
        yield from super().prompts()
        if self.messages is not None:
            for index, prompt in enumerate(self.messages.prompts):
                yield ("messages", "prompts", index), prompt


class VoicemailNode(NodeBase):
    """Play ``prompt``, record a message into ``mailbox``; then ``next``, or hang up."""

    TARGET_FIELDS = ("next",)
    PROMPT_FIELDS = ("prompt",)
    WAITS = True

    type: Literal["voicemail"]
    mailbox: Mailbox
    prompt: LocalizedPrompt
    max_seconds: Annotated[int, BeforeValidator(_not_bool), Field(ge=5, le=3600)] = 180
    next: NodeId | None = None


class CallbackNode(NodeBase):
    """Book a callback. ``number: caller_id`` calls back the caller's number; ``entered``
    asks for a number with ``enter_prompt`` (also used when ``caller_id`` is unknown).
    ``confirm_prompt`` is played once booked; then ``next``, or hang up. When no number can be
    had, the call goes to ``fallback`` (or hangs up)."""

    TARGET_FIELDS = ("next", "fallback")
    PROMPT_FIELDS = ("enter_prompt", "invalid_prompt", "confirm_prompt")
    WAITS = True

    type: Literal["callback"]
    number: Literal["caller_id", "entered"] = "caller_id"
    enter_prompt: LocalizedPrompt | None = None
    invalid_prompt: LocalizedPrompt | None = None
    confirm_prompt: LocalizedPrompt
    min_digits: Annotated[int, BeforeValidator(_not_bool), Field(ge=3, le=20)] = 5
    max_digits: Annotated[int, BeforeValidator(_not_bool), Field(ge=3, le=20)] = 15
    timeout: MenuTimeout = 10.0
    retries: Retries = 2
    next: NodeId | None = None
    fallback: NodeId | None = None


class TransferNode(NodeBase):
    """Hand the call over: to a phone ``number``, or to another ``scenario`` file in the same
    directory (e.g. the general line), which the call enters by its dialled number."""

    type: Literal["transfer"]
    number: DialledNumber | None = None
    scenario: ScenarioRef | None = None


class HangupNode(NodeBase):
    """End the call."""

    type: Literal["hangup"]


class GotoNode(NodeBase):
    """Continue at ``target`` (e.g. back to the main menu)."""

    TARGET_FIELDS = ("target",)

    type: Literal["goto"]
    target: NodeId


NODE_TYPES: dict[str, type[NodeBase]] = {
    "play": PlayNode,
    "menu": MenuNode,
    "language": LanguageNode,
    "schedule": ScheduleNode,
    "set": SetNode,
    "queue": QueueNode,
    "voicemail": VoicemailNode,
    "callback": CallbackNode,
    "transfer": TransferNode,
    "hangup": HangupNode,
    "goto": GotoNode,
}

Node = Annotated[
    PlayNode
    | MenuNode
    | LanguageNode
    | ScheduleNode
    | SetNode
    | QueueNode
    | VoicemailNode
    | CallbackNode
    | TransferNode
    | HangupNode
    | GotoNode,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------- the scenario


class Scenario(_Model):
    """One scenario file.

    Build it with :func:`acd.scenario.load_scenario`: validating the model alone checks the
    values, not that targets exist or that prompts cover every language.
    """

    name: Annotated[str, BeforeValidator(_scenario_name)]
    version: Annotated[str | None, BeforeValidator(_version)] = None
    description: str | None = None
    languages: Annotated[list[LanguageCode], Field(min_length=1, max_length=3)]
    default_language: LanguageCode | None = None
    time_zone: TimeZone
    entry_points: Annotated[dict[EntryKey, NodeId], Field(min_length=1)]
    nodes: Annotated[dict[NodeId, Node], Field(min_length=1)]

    @property
    def language(self) -> str:
        """The language a call starts in."""
        return self.default_language or self.languages[0]

    def entry_for(self, dialled: str | None) -> str | None:
        """The node a call to ``dialled`` starts at: its own entry, else ``default``."""
        if dialled and dialled in self.entry_points:
            return self.entry_points[dialled]
        return self.entry_points.get("default")

    def node(self, node_id: str) -> NodeBase:
        node: NodeBase = self.nodes[node_id]
        return node
