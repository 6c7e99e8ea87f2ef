"""``acd scenario check|simulate``: validate IVR scenario files, or dry-run a call through one.

Exit status: 0 when every file is valid (check) or the dry run ran (simulate); 1 when a
scenario has problems (each printed as ``file:line:col: message``); 2 for usage errors (bad
options, an unusable ``--config``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from acd.commands.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from acd.commands.common import usage as _usage
from acd.config import CONFIG_ENV_VAR, ConfigError, load_settings
from acd.scenario.check import RoutingFacts, check_file
from acd.scenario.load import LoadedScenario
from acd.scenario.simulate import format_simulation, simulate

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_KEYS = re.compile(r"^[0-9*#]*$")


class UsageError(Exception):
    """A bad option: printed without a traceback, exit status 2."""


def register(subparsers: Any) -> None:
    """Add the ``scenario`` command to the ``acd`` sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scenario",
        help="check IVR scenario files, or dry-run a call through one",
        description="Check IVR scenario files (YAML), or simulate a call through one.",
    )
    actions = parser.add_subparsers(dest="scenario_action", metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="check scenario files; every problem as file:line:col: message",
        description=(
            "Check scenario files. Prints every problem as 'file:line:col: message' and exits "
            "1 if there are any, else prints one OK line per file and exits 0. Skills and "
            "queues are checked against the routing configuration (--config, else "
            f"${CONFIG_ENV_VAR}, else the built-in defaults) or --skills."
        ),
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE", help="scenario file")
    _routing_options(check)
    check.set_defaults(func=_guarded(_check))

    sim = actions.add_parser(
        "simulate",
        help="dry-run one call: the path, the prompts and where the call ends up",
        description=(
            "Walk the scenario for one call with a fake clock and a list of keys, and print "
            "the nodes visited, the prompts played and the queue (skills, priority, topic, "
            "category) or voicemail, callback, transfer or hang-up the call reaches."
        ),
    )
    sim.add_argument("file", type=Path, metavar="FILE", help="scenario file")
    sim.add_argument(
        "--at",
        metavar="TIME",
        help=(
            "when the call arrives, e.g. '2026-11-23 10:00' (in the scenario's time zone) or "
            "'2026-11-23T07:00Z'; default: now"
        ),
    )
    sim.add_argument(
        "--digits",
        default="",
        metavar="KEYS",
        help=(
            "keys pressed at each prompt that reads keys, comma-separated, e.g. '1,2'; an "
            "empty item is a timeout ('1,,2'); keys left over when the call is queued are "
            "pressed while waiting"
        ),
    )
    sim.add_argument("--caller", metavar="NUMBER", help="the caller's number (caller ID)")
    sim.add_argument(
        "--number",
        metavar="DIALLED",
        help="the dialled number (default: the scenario's 'default' entry point)",
    )
    sim.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long the call waits in a queue (overflows if it reaches max_wait)",
    )
    sim.add_argument("--json", action="store_true", help="print the result as JSON")
    _routing_options(sim, for_simulate=True)
    sim.set_defaults(func=_guarded(_simulate))

    parser.set_defaults(func=_usage(parser))


def _routing_options(parser: argparse.ArgumentParser, *, for_simulate: bool = False) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="daemon configuration whose routing.skills and routing.queues the scenario uses",
    )
    parser.add_argument(
        "--skills",
        metavar="LIST",
        help="comma-separated skill names to check against instead, e.g. 'operator,support'",
    )
    if for_simulate:
        parser.set_defaults(skip_routing_by_default=True)


def _guarded(function: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return function(args)
        except UsageError as error:
            print(f"acd scenario: {error}", file=sys.stderr)
            return EXIT_INVALID

    return run


# --------------------------------------------------------------------------- routing facts


def _facts(args: argparse.Namespace) -> RoutingFacts:
    """Skills and queues to check against. Raises UsageError."""
    skills: frozenset[str] | None = None
    if args.skills is not None:
        names = [name.strip() for name in args.skills.split(",") if name.strip()]
        bad = [name for name in names if not _NAME.match(name)]
        if not names or bad:
            raise UsageError(
                "--skills takes comma-separated skill names (letters, digits, '_', '.', '-'), "
                f"got {args.skills!r}"
            )
        skills = frozenset(names)
    config: Path | None = args.config
    if config is None and (skills is not None or getattr(args, "skip_routing_by_default", False)):
        return RoutingFacts(skills=skills, origin="--skills" if skills is not None else "")
    try:
        settings = load_settings(config)
    except ConfigError as error:
        what = f"the configuration {config}" if config else "the default configuration"
        raise UsageError(f"{what} has problems (fix it, or give --skills):\n{error}") from None
    if config is not None:
        origin = str(config)
    else:
        origin = os.environ.get(CONFIG_ENV_VAR) or "the built-in default configuration"
    routing = settings.routing
    return RoutingFacts(
        skills=skills if skills is not None else frozenset(routing.skills),
        queues=frozenset(queue.id for queue in routing.queues),
        origin="--skills" if skills is not None else origin,
    )


# --------------------------------------------------------------------------- check


def _check_one(path: Path, facts: RoutingFacts) -> LoadedScenario | None:
    try:
        return check_file(path, facts)
    except Exception as error:  # a bug, not the file's fault: still no traceback
        print(f"{path}: internal error while checking this file: {error!r}")
        return None


def _check(args: argparse.Namespace) -> int:
    facts = _facts(args)
    total = 0
    bad_files = 0
    for path in args.files:
        loaded = _check_one(path, facts)
        if loaded is None:
            total += 1
            bad_files += 1
            continue
        if loaded.problems:
            total += len(loaded.problems)
            bad_files += 1
            for problem in loaded.problems:
                print(problem)
            continue
        scenario = loaded.scenario
        assert scenario is not None
        print(
            f"{path}: OK (scenario {scenario.name}: {len(scenario.nodes)} nodes, "
            f"languages {', '.join(scenario.languages)})"
        )
    if total:
        noun = "problem" if total == 1 else "problems"
        files = "file" if bad_files == 1 else "files"
        print(f"{total} {noun} in {bad_files} {files}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


# --------------------------------------------------------------------------- simulate


def _parse_at(text: str | None, zone: str) -> datetime:
    if text is None:
        return datetime.now(ZoneInfo(zone))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--at {text!r} is not a date and time; write e.g. '2026-11-23 10:00'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment


def _parse_digits(text: str) -> list[str]:
    if not text:
        return []
    items = [item.strip() for item in text.split(",")]
    bad = [item for item in items if not _KEYS.match(item)]
    if bad:
        raise UsageError(
            f"--digits takes phone keys (0-9, *, #) separated by commas, got {bad[0]!r}"
        )
    return items


def _simulate(args: argparse.Namespace) -> int:
    if args.wait < 0 or args.wait != args.wait:
        raise UsageError("--wait must be a number of seconds, 0 or more")
    digits = _parse_digits(args.digits)
    facts = _facts(args)
    loaded = _check_one(args.file, facts)
    if loaded is None:
        return EXIT_FAILED
    if loaded.problems or loaded.scenario is None:
        for problem in loaded.problems:
            print(problem, file=sys.stderr)
        print(f"{args.file}: fix these problems to simulate a call", file=sys.stderr)
        return EXIT_FAILED
    scenario = loaded.scenario
    at = _parse_at(args.at, scenario.time_zone)
    dialled = args.number
    if dialled is None and "default" not in scenario.entry_points:
        numbers = list(scenario.entry_points)
        if len(numbers) != 1:
            raise UsageError(
                f"say which number is dialled with --number: the scenario answers "
                f"{', '.join(numbers)} and has no 'default' entry point"
            )
        dialled = numbers[0]
    if scenario.entry_for(dialled) is None:
        raise UsageError(
            f"the scenario has no entry point for {dialled} and no 'default' one; "
            f"its numbers: {', '.join(scenario.entry_points)}"
        )
    result = simulate(
        scenario, at=at, digits=digits, caller=args.caller, dialled=dialled, wait=args.wait
    )
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_simulation(result, str(args.file)))
    return EXIT_OK
