"""A dry run of a scenario: walk it with a fake clock and a list of keys.

:func:`simulate` is pure: it drives :func:`acd.scenario.engine.walk` — the same walk the
FastAGI executor performs — answering each action from its inputs:

* the clock starts at ``at`` and moves on by a menu's ``timeout`` each time the caller
  presses nothing (and by ``max_wait`` when the call overflows from a queue);
* each prompt that reads keys takes the next item of ``digits`` (``"1"``, ``"12#"``); an empty
  item, or no items left, is a timeout, so the menus' retry rules apply;
* in a queue, the remaining items are keys pressed while waiting: the first one that is an
  exit key leaves the queue; otherwise, if ``wait`` reaches the queue's ``max_wait``, the
  call overflows, else the call stays in the queue — where the dry run stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from acd.scenario.engine import (
    BookCallback,
    CallState,
    Collect,
    EnterQueue,
    Outcome,
    Play,
    QueueExit,
    RecordVoicemail,
    Reply,
    SetLanguage,
    walk,
)
from acd.scenario.model import Scenario

__all__ = ["PlayedPrompt", "Simulation", "format_simulation", "simulate"]


@dataclass(frozen=True, slots=True)
class PlayedPrompt:
    node: str
    files: tuple[str, ...]
    language: str
    response: str = ""  # for prompts that read keys: "pressed 1", "timeout"


@dataclass
class Simulation:
    """What happened in a dry run."""

    scenario: Scenario
    started: datetime
    ended: datetime
    entry: str | None
    call: CallState
    outcome: Outcome
    prompts: list[PlayedPrompt] = field(default_factory=list)
    queue: EnterQueue | None = None
    queue_exit: QueueExit | None = None
    voicemail: RecordVoicemail | None = None
    callback: BookCallback | None = None
    digits_left: list[str] = field(default_factory=list)

    @property
    def path(self) -> list[str]:
        return self.call.path

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        result: dict[str, Any] = {
            "scenario": self.scenario.name,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "caller": self.call.caller,
            "dialled": self.call.dialled,
            "entry": self.entry,
            "path": self.path,
            "steps": [{"node": s.node, "type": s.type, "note": s.note} for s in self.call.steps],
            "prompts": [
                {
                    "node": p.node,
                    "files": list(p.files),
                    "language": p.language,
                    "response": p.response,
                }
                for p in self.prompts
            ],
            "outcome": self.outcome.kind if self.outcome.kind != "answered" else "queue",
            "outcome_node": self.outcome.node,
            "reason": self.outcome.reason,
            "language": self.call.language,
            "topic": self.call.topic,
            "category": self.call.category,
            "digits_left": self.digits_left,
        }
        if self.queue is not None:
            result["queue"] = {
                "node": self.queue.node,
                "queue": self.queue.queue,
                "skills": {r.skill: r.min_level for r in self.queue.requirements},
                "priority": self.queue.priority,
                "max_wait": self.queue.max_wait,
                "exit": self.queue_exit.reason if self.queue_exit else None,
            }
        if self.voicemail is not None:
            result["voicemail"] = {"node": self.voicemail.node, "mailbox": self.voicemail.mailbox}
        if self.callback is not None:
            result["callback"] = {"node": self.callback.node, "number": self.callback.number}
        if self.outcome.kind == "transfer":
            result["transfer"] = {"number": self.outcome.number, "scenario": self.outcome.scenario}
        return result


def simulate(
    scenario: Scenario,
    *,
    at: datetime,
    digits: Sequence[str] = (),
    caller: str | None = None,
    dialled: str | None = None,
    wait: float = 0.0,
) -> Simulation:
    """Walk ``scenario`` for one call. ``at`` must be timezone-aware."""
    if at.tzinfo is None:
        raise ValueError("'at' must be a timezone-aware datetime")
    now = at
    feed = list(digits)
    call = CallState(language=scenario.language, caller=caller, dialled=dialled)
    entry = scenario.entry_for(dialled)
    result = Simulation(scenario, at, at, entry, call, Outcome("hangup", "", reason="not started"))

    def clock() -> datetime:
        return now

    steps = walk(scenario, call, clock)
    reply: Reply = None
    try:
        while True:
            action = steps.send(reply)
            reply = None
            if isinstance(action, Play):
                result.prompts.append(PlayedPrompt(action.node, action.files, action.language))
            elif isinstance(action, Collect):
                keys = feed.pop(0) if feed else ""
                if not keys:
                    now += timedelta(seconds=action.timeout)
                response = f"pressed {keys}" if keys else "timeout"
                result.prompts.append(
                    PlayedPrompt(action.node, action.files, action.language, response)
                )
                reply = keys
            elif isinstance(action, SetLanguage):
                pass
            elif isinstance(action, EnterQueue):
                result.queue = action
                exit_ = _queue_exit(action, feed, wait)
                if exit_.reason == "overflow" and action.max_wait is not None:
                    now += timedelta(seconds=action.max_wait)
                result.queue_exit = exit_
                reply = exit_
            elif isinstance(action, RecordVoicemail):
                result.voicemail = action
                result.prompts.append(PlayedPrompt(action.node, action.files, action.language))
            elif isinstance(action, BookCallback):
                result.callback = action
    except StopIteration as stop:
        result.outcome = stop.value
    result.ended = now
    result.digits_left = feed
    return result


def _queue_exit(action: EnterQueue, feed: list[str], wait: float) -> QueueExit:
    while feed:
        key = feed.pop(0)[:1]
        if key in action.exit_keys:
            return QueueExit("key", key)
    if action.max_wait is not None and wait >= action.max_wait:
        return QueueExit("overflow")
    return QueueExit("answered")


# --------------------------------------------------------------------------- text report


def format_simulation(sim: Simulation, source: str = "") -> str:
    """The dry run as text for people."""
    scenario = sim.scenario
    lines: list[str] = []
    where = f" ({source})" if source else ""
    lines.append(f"scenario {scenario.name}{where}")
    when = sim.started.strftime("%Y-%m-%d %H:%M %Z (%A)")
    dialled = sim.call.dialled or "a number without its own entry point"
    lines.append(
        f"call from {sim.call.caller or 'an unknown number'} to {dialled} at {when}, "
        f"entry {sim.entry or '(none)'}"
    )
    lines.append("path: " + (" -> ".join(sim.path) if sim.path else "(none)"))
    if sim.call.steps:
        lines.append("steps:")
        width = max(len(step.node) for step in sim.call.steps)
        for step in sim.call.steps:
            note = f"  {step.note}" if step.note else ""
            lines.append(f"  {step.node:<{width}}  {step.type:<9}{note}".rstrip())
    if sim.prompts:
        lines.append("prompts played:")
        for prompt in sim.prompts:
            response = f"  [{prompt.response}]" if prompt.response else ""
            lines.append(f"  ({prompt.language}) {', '.join(prompt.files) or '(none)'}{response}")
    lines.extend(_result_lines(sim))
    if sim.digits_left:
        lines.append(f"keys not used: {','.join(sim.digits_left)}")
    return "\n".join(lines)


def _result_lines(sim: Simulation) -> list[str]:
    outcome = sim.outcome
    call = sim.call
    details = [
        f"  language: {call.language}",
        f"  topic:    {call.topic or '-'}",
        f"  category: {call.category or '-'}",
    ]
    if outcome.kind == "answered" and sim.queue is not None:
        queue = sim.queue
        skills = ", ".join(f"{r.skill} >= {r.min_level}" for r in queue.requirements) or "none"
        lines = [f"result: queue {queue.queue or '(the default queue)'} (node {queue.node})"]
        lines.append(f"  skills:   {skills}")
        lines.append(f"  priority: {queue.priority}")
        lines.extend(details)
        if queue.max_wait is not None:
            lines.append(f"  max wait: {queue.max_wait:g} s")
        if queue.exit_keys:
            lines.append(f"  exit keys: {', '.join(sorted(queue.exit_keys))}")
        return lines
    if outcome.kind == "voicemail" and sim.voicemail is not None:
        return [
            f"result: voicemail, mailbox {sim.voicemail.mailbox} (node {outcome.node})",
            *details,
        ]
    if outcome.kind == "callback" and sim.callback is not None:
        return [f"result: callback to {sim.callback.number} (node {outcome.node})", *details]
    if outcome.kind == "transfer":
        target = outcome.number or f"scenario {outcome.scenario}"
        return [f"result: transfer to {target} (node {outcome.node})", *details]
    reason = f": {outcome.reason}" if outcome.reason else ""
    node = f" (node {outcome.node})" if outcome.node else ""
    return [f"result: hang up{node}{reason}", *details]
