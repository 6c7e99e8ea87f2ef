"""Walk a scenario node by node: the IVR's logic, without any telephony.

:func:`walk` is a generator. It yields *actions* — play these files, collect a key, put the
call in a queue — and receives the result of each (the key pressed, how the call left the
queue); when the call's way through the scenario ends it returns an :class:`Outcome`. The
dry-run simulator (:mod:`acd.scenario.simulate`) drives it with a fake clock and a list of
keys; the FastAGI executor drives it with a real channel::

    steps = walk(scenario, call, clock)
    reply = None
    try:
        while True:
            action = steps.send(reply)
            reply = await perform(action)   # STREAM FILE, GET DATA, queue, VoiceMail...
    except StopIteration as stop:
        outcome = stop.value

So both follow exactly the same rules. Replies: ``None`` for :class:`Play`,
:class:`SetLanguage`, :class:`RecordVoicemail` and :class:`BookCallback`; the keys pressed
(``""`` or ``None`` for none before the timeout) for :class:`Collect`; a :class:`QueueExit`
for :class:`EnterQueue`. A caller who hangs up ends the walk: close the generator.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from acd.core.calls import SkillRequirement
from acd.scenario.model import (
    CallbackNode,
    GotoNode,
    HangupNode,
    LanguageNode,
    MenuNode,
    NodeBase,
    PlayNode,
    QueueNode,
    Scenario,
    ScheduleNode,
    SetNode,
    TransferNode,
    VoicemailNode,
)
from acd.scenario.schedule import decide

__all__ = [
    "MAX_STEPS",
    "Action",
    "BookCallback",
    "CallState",
    "Clock",
    "Collect",
    "EnterQueue",
    "Outcome",
    "Play",
    "QueueExit",
    "RecordVoicemail",
    "SetLanguage",
    "Step",
    "walk",
]

MAX_STEPS = 1000
"""Nodes one call may visit; the checker rejects loops a caller cannot leave, this is a guard."""

Clock = Callable[[], datetime]
"""The current time, timezone-aware."""


# --------------------------------------------------------------------------- call state


@dataclass(frozen=True, slots=True)
class Step:
    """One node the call went through, and what happened there (for logs and screen pop)."""

    node: str
    type: str
    note: str = ""


@dataclass(slots=True)
class CallState:
    """What the scenario learnt about the call so far."""

    language: str
    caller: str | None = None
    dialled: str | None = None
    topic: str | None = None
    skills: dict[str, int] = field(default_factory=dict)
    priority: int | None = None
    category: str | None = None
    out_of_hours: bool = False  # the last schedule the call passed said closed
    steps: list[Step] = field(default_factory=list)

    @property
    def path(self) -> list[str]:
        return [step.node for step in self.steps]

    def requirements(self) -> tuple[SkillRequirement, ...]:
        return tuple(SkillRequirement(skill, level) for skill, level in self.skills.items())


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class Play:
    """Play ``files`` in order (``STREAM FILE``). Reply: None."""

    node: str
    files: tuple[str, ...]
    language: str


@dataclass(frozen=True, slots=True)
class Collect:
    """Play ``files`` and read up to ``max_digits`` keys, waiting ``timeout`` seconds after
    the prompt (``GET DATA``). Reply: the keys pressed, ``""``/None for none."""

    node: str
    files: tuple[str, ...]
    language: str
    timeout: float
    max_digits: int = 1


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """The caller chose a language: set ``CHANNEL(language)``. Reply: None."""

    language: str


@dataclass(frozen=True, slots=True)
class EnterQueue:
    """Put the call in the queue and wait. Reply: a :class:`QueueExit`."""

    node: str
    queue: str | None  # None: the routing configuration's default queue
    requirements: tuple[SkillRequirement, ...]
    priority: int
    topic: str | None
    category: str | None
    language: str
    max_wait: float | None
    service_level: float | None
    announce_every: float | None
    announce_first_after: float
    announce_position: bool
    announce_wait: bool
    messages_every: float | None
    messages: tuple[tuple[str, ...], ...]  # prompt files of each periodic message
    exit_keys: frozenset[str]
    music: str | None


@dataclass(frozen=True, slots=True)
class QueueExit:
    """How a call left the queue."""

    reason: Literal["answered", "overflow", "no_agents", "key"]
    key: str | None = None


@dataclass(frozen=True, slots=True)
class RecordVoicemail:
    """Play ``files`` then record a message into ``mailbox``. Reply: None."""

    node: str
    mailbox: str
    files: tuple[str, ...]
    language: str
    max_seconds: int
    topic: str | None


@dataclass(frozen=True, slots=True)
class BookCallback:
    """Register a callback to ``number``. Reply: None."""

    node: str
    number: str
    requirements: tuple[SkillRequirement, ...]
    topic: str | None
    category: str | None
    language: str


Action = Play | Collect | SetLanguage | EnterQueue | RecordVoicemail | BookCallback
Reply = str | QueueExit | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where the call's way through the scenario ended."""

    kind: Literal["answered", "voicemail", "callback", "transfer", "hangup"]
    node: str
    number: str | None = None  # transfer: the number
    scenario: str | None = None  # transfer: the scenario file
    reason: str = ""


# --------------------------------------------------------------------------- the walk


def walk(
    scenario: Scenario, call: CallState, clock: Clock, entry: str | None = None
) -> Generator[Action, Reply, Outcome]:
    """Walk ``scenario`` from ``entry`` (default: the node for ``call.dialled``)."""
    node_id = entry or scenario.entry_for(call.dialled)
    if node_id is None:
        return Outcome("hangup", "", reason=f"no entry point for {call.dialled or 'this call'}")
    for _ in range(MAX_STEPS):
        node = scenario.node(node_id)
        handler = _HANDLERS[type(node)]
        result = yield from handler(scenario, node_id, node, call, clock)
        if isinstance(result, Outcome):
            return result
        node_id = result
    return Outcome("hangup", node_id, reason=f"visited {MAX_STEPS} nodes; stopped")


Steps = Generator[Action, Reply, "str | Outcome"]


def _files(prompt: dict[str, tuple[str, ...]] | None, call: CallState) -> tuple[str, ...]:
    if prompt is None:
        return ()
    if call.language in prompt:
        return prompt[call.language]
    return next(iter(prompt.values()))  # the checker requires every language; a fallback


def _play(scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock) -> Steps:
    assert isinstance(node, PlayNode)
    files = _files(node.prompt, call)
    call.steps.append(Step(node_id, node.type, " ".join(files)))
    yield Play(node_id, files, call.language)
    return node.next


def _keys(reply: Reply) -> str:
    return reply if isinstance(reply, str) else ""


def _menu(scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock) -> Steps:
    assert isinstance(node, MenuNode)
    pressed: list[str] = []
    for attempt in range(node.retries + 1):
        keys = _keys(
            (yield Collect(node_id, _files(node.prompt, call), call.language, node.timeout))
        )
        key = keys[:1]
        pressed.append(key or "timeout")
        if key in node.options:
            call.steps.append(Step(node_id, node.type, f"keys: {', '.join(pressed)}"))
            return node.options[key]
        retry_prompt = node.invalid_prompt if key else node.timeout_prompt
        if retry_prompt is not None and attempt < node.retries:
            yield Play(node_id, _files(retry_prompt, call), call.language)
    call.steps.append(
        Step(node_id, node.type, f"keys: {', '.join(pressed)}; no valid choice, after_retries")
    )
    return node.after_retries


def _language(
    scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock
) -> Steps:
    assert isinstance(node, LanguageNode)
    files = tuple(f for code in scenario.languages for f in node.prompt.get(code, ()))
    pressed: list[str] = []
    for attempt in range(node.retries + 1):
        keys = _keys((yield Collect(node_id, files, call.language, node.timeout)))
        key = keys[:1]
        pressed.append(key or "timeout")
        if key in node.options:
            call.language = node.options[key]
            call.steps.append(
                Step(node_id, node.type, f"keys: {', '.join(pressed)}; language {call.language}")
            )
            yield SetLanguage(call.language)
            return node.next
        if node.invalid_prompt is not None and attempt < node.retries and key:
            invalid = tuple(
                f for code in scenario.languages for f in node.invalid_prompt.get(code, ())
            )
            yield Play(node_id, invalid, call.language)
    call.steps.append(
        Step(node_id, node.type, f"keys: {', '.join(pressed)}; no choice, kept {call.language}")
    )
    return node.next


def _schedule(
    scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock
) -> Steps:
    assert isinstance(node, ScheduleNode)
    decision = decide(node, clock(), scenario.time_zone)
    call.steps.append(Step(node_id, node.type, decision.describe()))
    call.out_of_hours = not decision.open
    target = node.open if decision.open else node.closed
    if target is None:  # the checker rejects schedules with no route at some hours
        return Outcome("hangup", node_id, reason=f"no route: {decision.describe()}")
    return target
    yield  # pragma: no cover - makes this a generator


def _set(scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock) -> Steps:
    assert isinstance(node, SetNode)
    notes: list[str] = []
    if node.topic is not None:
        call.topic = node.topic
        notes.append(f"topic {node.topic}")
    if node.skills:
        call.skills.update(node.skills)
        notes.append("skills " + ", ".join(f"{s}>={lvl}" for s, lvl in node.skills.items()))
    if node.priority is not None:
        call.priority = node.priority
        notes.append(f"priority {node.priority}")
    if node.category is not None:
        call.category = node.category
        notes.append(f"category {node.category}")
    if node.language is not None and node.language != call.language:
        call.language = node.language
        notes.append(f"language {node.language}")
        yield SetLanguage(node.language)
    call.steps.append(Step(node_id, node.type, "; ".join(notes)))
    return node.next


def _queue(
    scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock
) -> Steps:
    assert isinstance(node, QueueNode)
    skills = dict(call.skills)
    for skill, level in node.skills.items():
        skills[skill] = max(level, skills.get(skill, 0))
    priority = call.priority if call.priority is not None else (node.priority or 0)
    announce = node.announce
    messages = node.messages
    action = EnterQueue(
        node=node_id,
        queue=node.queue,
        requirements=tuple(SkillRequirement(s, lvl) for s, lvl in skills.items()),
        priority=priority,
        topic=call.topic,
        category=call.category,
        language=call.language,
        max_wait=node.max_wait,
        service_level=node.service_level,
        announce_every=announce.every if announce else None,
        announce_first_after=announce.first_after if announce else 0.0,
        announce_position=announce.position if announce else False,
        announce_wait=announce.wait if announce else False,
        messages_every=messages.every if messages else None,
        messages=tuple(_files(p, call) for p in messages.prompts) if messages else (),
        exit_keys=frozenset(node.exit_keys),
        music=node.music,
    )
    exit_ = yield action
    if not isinstance(exit_, QueueExit) or exit_.reason == "answered":
        call.steps.append(Step(node_id, node.type, f"queue {node.queue or '(default)'}"))
        return Outcome("answered", node_id)
    if exit_.reason == "key" and exit_.key in node.exit_keys:
        call.steps.append(Step(node_id, node.type, f"left the queue with key {exit_.key}"))
        return node.exit_keys[exit_.key]
    if exit_.reason == "overflow" and node.overflow is not None:
        call.steps.append(Step(node_id, node.type, f"waited {node.max_wait:g} s: overflow"))
        return node.overflow
    if exit_.reason == "no_agents" and node.no_agents is not None:
        call.steps.append(Step(node_id, node.type, "no agent can take the call"))
        return node.no_agents
    call.steps.append(Step(node_id, node.type, f"left the queue ({exit_.reason})"))
    return Outcome("hangup", node_id, reason=f"left the queue: {exit_.reason}")


def _voicemail(
    scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock
) -> Steps:
    assert isinstance(node, VoicemailNode)
    call.steps.append(Step(node_id, node.type, f"mailbox {node.mailbox}"))
    yield RecordVoicemail(
        node_id,
        node.mailbox,
        _files(node.prompt, call),
        call.language,
        node.max_seconds,
        call.topic,
    )
    return node.next if node.next is not None else Outcome("voicemail", node_id)


def _callback(
    scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock
) -> Steps:
    assert isinstance(node, CallbackNode)
    number: str | None = None
    if node.number == "caller_id" and _usable_number(call.caller):
        number = call.caller
    elif node.enter_prompt is not None:
        for attempt in range(node.retries + 1):
            keys = _keys(
                (
                    yield Collect(
                        node_id,
                        _files(node.enter_prompt, call),
                        call.language,
                        node.timeout,
                        node.max_digits,
                    )
                )
            )
            digits = keys.rstrip("#")
            if node.min_digits <= len(digits) <= node.max_digits and digits.isdigit():
                number = digits
                break
            if node.invalid_prompt is not None and attempt < node.retries:
                yield Play(node_id, _files(node.invalid_prompt, call), call.language)
    if number is None:
        call.steps.append(Step(node_id, node.type, "no number to call back"))
        if node.fallback is not None:
            return node.fallback
        return Outcome("hangup", node_id, reason="no number to call back")
    call.steps.append(Step(node_id, node.type, f"callback to {number}"))
    yield BookCallback(
        node_id, number, call.requirements(), call.topic, call.category, call.language
    )
    yield Play(node_id, _files(node.confirm_prompt, call), call.language)
    return node.next if node.next is not None else Outcome("callback", node_id, number=number)


def _usable_number(caller: str | None) -> bool:
    if not caller:
        return False
    digits = caller.removeprefix("+")
    return digits.isdigit() and 3 <= len(digits) <= 20


def _transfer(
    scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock
) -> Steps:
    assert isinstance(node, TransferNode)
    target = node.number or f"scenario {node.scenario}"
    call.steps.append(Step(node_id, node.type, f"transfer to {target}"))
    return Outcome("transfer", node_id, number=node.number, scenario=node.scenario)
    yield  # pragma: no cover - makes this a generator


def _hangup(
    scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock
) -> Steps:
    assert isinstance(node, HangupNode)
    call.steps.append(Step(node_id, node.type))
    return Outcome("hangup", node_id)
    yield  # pragma: no cover - makes this a generator


def _goto(scenario: Scenario, node_id: str, node: NodeBase, call: CallState, clock: Clock) -> Steps:
    assert isinstance(node, GotoNode)
    call.steps.append(Step(node_id, node.type, f"to {node.target}"))
    return node.target
    yield  # pragma: no cover - makes this a generator


_Handler = Callable[[Scenario, str, NodeBase, CallState, Clock], Steps]

_HANDLERS: dict[type[NodeBase], _Handler] = {
    PlayNode: _play,
    MenuNode: _menu,
    LanguageNode: _language,
    ScheduleNode: _schedule,
    SetNode: _set,
    QueueNode: _queue,
    VoicemailNode: _voicemail,
    CallbackNode: _callback,
    TransferNode: _transfer,
    HangupNode: _hangup,
    GotoNode: _goto,
}
