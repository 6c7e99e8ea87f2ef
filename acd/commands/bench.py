"""``acd bench NAME``: run one benchmark of :mod:`acd.bench`, print a summary (and JSON).

Every benchmark is one :class:`Benchmark` row in :data:`BENCHMARKS`: its module (imported only
when that benchmark runs, so a missing or broken one does not break the others), its options
(passed to the module's ``run(**options) -> dict`` by keyword) and, optionally, a summary
formatter. With ``--json`` the result is also printed as one JSON object on the last line of
stdout, so scripts can take ``tail -n 1``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

Summary = Callable[[dict[str, Any]], list[str]]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text!r}")
    return value


def any_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class Option:
    """One ``--flag VALUE`` of a benchmark; its name without dashes is ``run``'s keyword."""

    flag: str
    type: Callable[[str], Any]
    default: Any
    help: str
    metavar: str = "N"

    @property
    def keyword(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    module: str  # exposes ``run(**options) -> dict``
    help: str
    options: tuple[Option, ...] = ()
    summary: Summary | None = None  # default: one "key: value" line per result entry


def _us(value: float) -> str:
    return f"{value:,.0f} us" if value >= 100 else f"{value:.1f} us"


def routing_summary(result: dict[str, Any]) -> list[str]:
    r = result
    lines = [
        f"routing: {r['agents']:,} agents, {r['skills']:,} skills, {r['calls']:,} calls "
        f"(seed {r['seed']}, explanations {'on' if r['explain'] else 'off'})",
        f"  decisions      {r['decisions']:,} ({r['decisions_call_side']:,} call looks for agent,"
        f" {r['decisions_agent_side']:,} agent looks for call); "
        f"{r['decisions_per_s']:,} decisions/s",
        f"  offers         {r['offers_call_waiting']:,} on call arrival/relaxation, "
        f"{r['offers_agent_free']:,} to a freed agent",
        f"  per decision   p50 {_us(r['p50_us'])}, p99 {_us(r['p99_us'])}, max {_us(r['max_us'])}",
    ]
    outcome = r.get("by_outcome", {})
    if outcome:
        lines.append(
            f"  with an offer  p50 {_us(outcome['offered']['p50_us'])}, "
            f"p99 {_us(outcome['offered']['p99_us'])}; "
            f"no offer p50 {_us(outcome['no_offer']['p50_us'])}, "
            f"p99 {_us(outcome['no_offer']['p99_us'])}"
        )
    lines += [
        f"  calls          peak {r['peak_waiting']:,} waiting; {r['answered']:,} answered, "
        f"{r['abandoned']:,} abandoned",
        "  by waiting calls   decisions      p50      p99   with an offer: p50      p99  (us)",
    ]
    for row in r.get("by_waiting", []):
        if row["decisions"]:
            offered = row["offered"]
            lines.append(
                f"    {row['waiting']:>8} {row['decisions']:>15,} {row['p50_us']:>8.1f} "
                f"{row['p99_us']:>8.1f} {offered['p50_us']:>20.1f} {offered['p99_us']:>8.1f}"
            )
    lines.append(
        f"  peak RSS {r['peak_rss_mb']:.0f} MB; run {r['run_s']:.1f} s "
        f"(setup {r['setup_s']:.1f} s); GC {r['gc_collections']} pauses, "
        f"longest {r['gc_max_pause_ms']} ms"
    )
    verdict = "met" if r["p99_us"] < 1000 else "NOT met"
    lines.append(f"  target p99 < 1 ms per decision: {verdict}")
    return lines


def generic_summary(result: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in result.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, allow_nan=False)
        lines.append(f"  {key}: {value}")
    return lines


SEED = Option("--seed", any_int, 1, "random seed (default: %(default)s)")

#: Every ``acd bench`` benchmark. A new one is one more row (and its module in acd.bench).
#: Defaults are the CLI's and always passed; keep them in step with each ``run``'s own.
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "routing",
        "acd.bench.routing",
        "routing decision latency of the router in virtual time (explanations on)",
        (
            Option("--agents", positive_int, 10_000, "agents (default: %(default)s)"),
            Option("--skills", positive_int, 100, "skills (default: %(default)s)"),
            Option("--calls", positive_int, 100_000, "call arrivals (default: %(default)s)"),
            SEED,
        ),
        routing_summary,
    ),
    Benchmark(
        "ewt",
        "acd.bench.ewt",
        "accuracy of the estimated wait time announced to callers",
        (
            Option(
                "--load",
                positive_float,
                1.1,
                "offered load per agent, e.g. 0.9, 1.1, 1.3 (default: %(default)s)",
                "X",
            ),
            Option("--agents", positive_int, 50, "agents (default: %(default)s)"),
            Option("--arrivals", positive_int, 100_000, "call arrivals (default: %(default)s)"),
            SEED,
        ),
    ),
)


class _PlainParser(argparse.ArgumentParser):
    """Reports bad arguments as one line (no usage block), exit status 2.

    Unknown arguments are refused here too: left to the top-level ``acd`` parser they would
    be reported with its usage block.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bench`` and one sub-command per row of :data:`BENCHMARKS`."""
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark (routing, ewt)",
        description="Run one benchmark; --json adds its result as one JSON line at the end.",
    )
    # add_parser builds the top-level parser's class; give ``bench`` the plain errors too.
    parser.__class__ = _PlainParser
    parser.set_defaults(func=_missing_benchmark, bench_parser=parser)
    benches = parser.add_subparsers(
        dest="benchmark", metavar="BENCHMARK", parser_class=_PlainParser
    )
    for bench in BENCHMARKS:
        sub = benches.add_parser(bench.name, help=bench.help, description=bench.help)
        for option in bench.options:
            sub.add_argument(
                option.flag,
                dest=option.keyword,
                type=option.type,
                default=option.default,
                metavar=option.metavar,
                help=option.help,
            )
        sub.add_argument(
            "--json", action="store_true", help="also print the result as one JSON line, last"
        )
        sub.set_defaults(func=run, bench=bench)


def _missing_benchmark(args: argparse.Namespace) -> int:
    names = ", ".join(b.name for b in BENCHMARKS)
    print(f"acd bench: error: choose a benchmark: {names}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Run the chosen benchmark: 0 on success, 2 on bad input, 1 if it cannot run."""
    bench: Benchmark = args.bench
    prog = f"acd bench {bench.name}"
    options = {option.keyword: getattr(args, option.keyword) for option in bench.options}
    try:
        module = importlib.import_module(bench.module)
    except ImportError as exc:
        print(f"{prog}: error: benchmark not available ({exc})", file=sys.stderr)
        return 1
    print(f"{prog}: running...", file=sys.stderr, flush=True)
    try:
        result = module.run(**options)
    except ValueError as exc:  # the benchmark's own check of its parameters
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    lines = bench.summary(result) if bench.summary else [f"{bench.name}:", *generic_summary(result)]
    for line in lines:
        print(line)
    if args.json:
        print(json.dumps(result, allow_nan=False), flush=True)
    return 0
