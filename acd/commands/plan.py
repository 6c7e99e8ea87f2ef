"""``acd plan``: how many agents a queue needs, by Erlang C or (with ``--patience``) Erlang A."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from acd.core.erlang import InvalidPlanInput, StaffingResult, agents_needed, staffing

# Parameter names in core error messages, as the user typed them.
_FLAGS = {
    "calls_per_hour": "--calls-per-hour",
    "aht_seconds": "--aht",
    "patience_seconds": "--patience",
    "target_fraction": "--target percent",
    "target_seconds": "--target seconds",
    "max_occupancy": "--max-occupancy",
}

# Rows shown around the answer: needed-2 .. needed+3.
_ROWS_BELOW = 2
_ROWS_ABOVE = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``plan`` sub-command."""
    parser = subparsers.add_parser(
        "plan",
        help="agents needed for a service-level target (Erlang C / Erlang A)",
        description=(
            "Compute the number of agents needed so that PERCENT of all calls are answered "
            "within SECONDS. Uses Erlang C, or Erlang A (callers hang up after an "
            "exponential patience) when --patience is given."
        ),
    )
    parser.add_argument(
        "--calls-per-hour", type=float, required=True, help="offered calls per hour"
    )
    parser.add_argument("--aht", type=float, required=True, help="average handling time, seconds")
    parser.add_argument(
        "--target",
        required=True,
        metavar="PERCENT/SECONDS",
        help="service-level target, e.g. 80/20 = 80%% answered within 20 s",
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=None,
        help="mean caller patience in seconds; switches to Erlang A",
    )
    parser.add_argument(
        "--max-occupancy",
        type=float,
        default=None,
        metavar="PERCENT",
        help="also keep agent occupancy at or below this percentage",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the table"
    )
    parser.set_defaults(func=run)


def parse_target(text: str) -> tuple[float, float]:
    """``"80/20"`` -> (0.8, 20.0): fraction answered and the threshold in seconds."""
    percent_text, sep, seconds_text = text.partition("/")
    if not sep:
        raise InvalidPlanInput(
            f"--target must look like PERCENT/SECONDS (e.g. 80/20), got {text!r}"
        )
    try:
        percent = float(percent_text)
        seconds = float(seconds_text)
    except ValueError:
        raise InvalidPlanInput(
            f"--target must look like PERCENT/SECONDS (e.g. 80/20), got {text!r}"
        ) from None
    if not (math.isfinite(percent) and 0 < percent <= 100):
        raise InvalidPlanInput(f"--target percent must be in (0, 100], got {percent_text!r}")
    if not (math.isfinite(seconds) and seconds >= 0):
        raise InvalidPlanInput(f"--target seconds must be 0 or more, got {seconds_text!r}")
    return percent / 100.0, seconds


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _row(result: StaffingResult) -> dict[str, Any]:
    return {
        "agents": result.agents,
        "probability_of_waiting": result.probability_of_waiting,
        "service_level": result.service_level,
        "asa_seconds": _finite_or_none(result.asa_seconds),
        "mean_wait_seconds": _finite_or_none(result.mean_wait_seconds),
        "abandonment_probability": result.abandonment_probability,
        "occupancy": result.occupancy,
    }


def _format_seconds(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "inf"


def _table(rows: list[StaffingResult], needed: int, erlang_a: bool, seconds: float) -> list[str]:
    sl_header = f"SL({seconds:g}s)"
    header = f"{'agents':>6}  {'P(wait)':>7}  {sl_header:>9}  {'ASA s':>7}"
    if erlang_a:
        header += f"  {'abandon':>7}"
    header += f"  {'occupancy':>9}"
    lines = [header]
    for r in rows:
        line = (
            f"{r.agents:>6}  {r.probability_of_waiting:>7.3f}  {r.service_level * 100:>8.1f}%"
            f"  {_format_seconds(r.asa_seconds):>7}"
        )
        if erlang_a:
            line += f"  {r.abandonment_probability * 100:>6.1f}%"
        line += f"  {r.occupancy * 100:>8.1f}%"
        if r.agents == needed:
            line += "  <- needed"
        lines.append(line)
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the plan; 0 on success, 2 on bad input."""
    try:
        fraction, seconds = parse_target(args.target)
        max_occupancy = None
        if args.max_occupancy is not None:
            if not (math.isfinite(args.max_occupancy) and 0 < args.max_occupancy <= 100):
                raise InvalidPlanInput(
                    f"--max-occupancy must be in (0, 100], got {args.max_occupancy!r}"
                )
            max_occupancy = args.max_occupancy / 100.0
        result = agents_needed(
            args.calls_per_hour,
            args.aht,
            fraction,
            seconds,
            patience_seconds=args.patience,
            max_occupancy=max_occupancy,
        )
        rows = [
            staffing(args.calls_per_hour, args.aht, n, seconds, args.patience)
            for n in range(max(1, result.agents - _ROWS_BELOW), result.agents + _ROWS_ABOVE + 1)
        ]
    except InvalidPlanInput as exc:
        message = str(exc)
        name = message.split(" ", 1)[0]
        if name in _FLAGS:
            message = _FLAGS[name] + message[len(name) :]
        print(f"acd plan: error: {message}", file=sys.stderr)
        return 2

    erlang_a = result.model == "erlang_a"
    if args.json:
        payload = {
            "model": result.model,
            "calls_per_hour": args.calls_per_hour,
            "aht_seconds": args.aht,
            "target_fraction": fraction,
            "target_seconds": seconds,
            "patience_seconds": args.patience,
            "max_occupancy": max_occupancy,
            "offered_load_erlangs": result.offered_load_erlangs,
            "agents_needed": result.agents,
            "result": _row(result),
            "table": [_row(r) for r in rows],
        }
        print(json.dumps(payload, allow_nan=False))
        return 0

    model = "Erlang A" if erlang_a else "Erlang C"
    print(
        f"{model}: {args.calls_per_hour:g} calls/hour, AHT {args.aht:g} s, "
        f"target {fraction * 100:g}% answered within {seconds:g} s"
        + (f", mean patience {args.patience:g} s" if erlang_a else "")
    )
    print(f"Offered load: {result.offered_load_erlangs:.2f} Erlangs")
    print(f"Agents needed: {result.agents}")
    print()
    for line in _table(rows, result.agents, erlang_a, seconds):
        print(line)
    return 0
