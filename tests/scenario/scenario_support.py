"""Helpers of the scenario tests: writing small scenarios and running ``acd scenario``."""

from __future__ import annotations

import argparse
import contextlib
import io
import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from acd.commands import scenario as scenario_command
from acd.scenario.check import RoutingFacts, check_file
from acd.scenario.load import LoadedScenario
from acd.scenario.model import Scenario

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
EXAMPLES = PROJECT / "ivr_scripts"
MALFORMED = HERE / "malformed"
ROUTING_CONFIG = HERE / "routing.yaml"

SKILLS = frozenset({"operator", "technical_support", "account_manager"})
FACTS = RoutingFacts(skills=SKILLS, origin="tests")

MOSCOW = ZoneInfo("Europe/Moscow")
ALMATY = ZoneInfo("Asia/Almaty")

JARGON = ("Traceback", "Input should", "validation error", "type=", "errors.pydantic.dev")

MINIMAL = """\
name: t
languages: [ru]
time_zone: Europe/Moscow
entry_points:
  default: start
nodes:
  start:
    type: play
    prompt: {ru: t/hello}
    next: bye
  bye:
    type: hangup
"""


def write(folder: Path, text: str | bytes, name: str = "scenario.yaml") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check_text(folder: Path, text: str, facts: RoutingFacts = FACTS) -> LoadedScenario:
    return check_file(write(folder, text), facts)


def scenario_of(folder: Path, text: str, facts: RoutingFacts = FACTS) -> Scenario:
    loaded = check_text(folder, text, facts)
    assert not loaded.problems, "\n".join(str(p) for p in loaded.problems)
    assert loaded.scenario is not None
    return loaded.scenario


def messages(loaded: LoadedScenario) -> list[str]:
    return [p.message for p in loaded.problems]


def at(text: str, zone: ZoneInfo = MOSCOW) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def run(*argv: str) -> tuple[int, str, str]:
    """``acd scenario ARGV`` in-process, through this command's own parser only."""
    parser = argparse.ArgumentParser(prog="acd")
    scenario_command.register(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            args = parser.parse_args(["scenario", *argv])
            code = int(args.func(args))
        except SystemExit as exit_:  # argparse usage errors
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


EVERYTHING = """\
name: everything
version: 2
description: every node type once
languages: [ru, kk]
default_language: ru
time_zone: Europe/Moscow
entry_points:
  "+74950000001": lang
  "+74950000002": to_general
  default: lang
nodes:
  lang:
    type: language
    prompt: {ru: e/lang-ru, kk: e/lang-kk}
    options: {1: ru, 2: kk}
    invalid_prompt: {ru: e/bad-ru, kk: e/bad-kk}
    next: hello
  hello:
    type: play
    prompt: {ru: [e/hello, e/hello-2], kk: e/hello-kk}
    next: hours
  hours:
    type: schedule
    calendar: RU
    hours: {mon-fri: "09:00-18:00", sat: "10:00-14:00"}
    dates: {"2026-12-31": "09:00-15:00"}
    open: main
    closed: after_hours
  main:
    type: menu
    prompt: {ru: e/main, kk: e/main-kk}
    options:
      1: sales
      2: support
      3: cb
      4: to_general
      5: to_number
      "*": again
      "#": bye
    timeout: 4
    retries: 1
    invalid_prompt: {ru: e/invalid, kk: e/invalid-kk}
    timeout_prompt: {ru: e/timeout, kk: e/timeout-kk}
    after_retries: sales
  again:
    type: goto
    target: main
  sales:
    type: set
    topic: sales
    skills: {operator: 2}
    priority: 5
    category: B
    next: wait
  support:
    type: set
    topic: support
    skills: {technical_support: 1}
    next: wait
  wait:
    type: queue
    queue: hotline
    skills: {operator: 1}
    priority: 1
    max_wait: 300
    overflow: vm
    no_agents: cb
    service_level: 120
    announce: {every: 60, first_after: 15, position: true, wait: false}
    messages: {every: 45, prompts: [{ru: e/msg1, kk: e/msg1-kk}]}
    exit_keys: {1: cb, 2: vm}
    music: default
  after_hours:
    type: play
    prompt: {ru: e/closed, kk: e/closed-kk}
    next: vm
  vm:
    type: voicemail
    mailbox: "100@default"
    prompt: {ru: e/leave, kk: e/leave-kk}
    max_seconds: 60
  cb:
    type: callback
    number: caller_id
    enter_prompt: {ru: e/enter, kk: e/enter-kk}
    invalid_prompt: {ru: e/bad-number, kk: e/bad-number-kk}
    confirm_prompt: {ru: e/booked, kk: e/booked-kk}
    fallback: vm
    next: bye
  to_general:
    type: transfer
    scenario: general
  to_number:
    type: transfer
    number: "+74951112233"
  bye:
    type: hangup
"""

GENERAL = MINIMAL.replace("name: t", "name: general")


def everything(folder: Path) -> Scenario:
    """The scenario with every node type (and the general line it transfers to)."""
    write(folder, GENERAL, "general.yaml")
    return scenario_of(folder, EVERYTHING)
