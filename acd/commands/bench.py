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


def one_of(*choices: str) -> Callable[[str], str]:
    """An option type that takes one of ``choices`` and nothing else."""

    def parse(text: str) -> str:
        if text not in choices:
            expected = ", ".join(choices[:-1]) + f" or {choices[-1]}"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return text

    return parse


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


def _explanations(result: dict[str, Any]) -> str:
    if not result["explain"]:
        return "off"
    if "explain_candidates" not in result:
        return "on"
    return (
        f"on: top {result['explain_candidates']} candidates, "
        f"{result['explain_sample']} named per reason"
    )


def routing_summary(result: dict[str, Any]) -> list[str]:
    r = result
    lines = [
        f"routing: {r['agents']:,} agents, {r['skills']:,} skills, {r['calls']:,} calls "
        f"(seed {r['seed']}, explanations {_explanations(r)})",
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
    if "cpu_p99_us" in r:
        waited = r.get("runqueue_wait_s")
        line = (
            f"  CPU time       p50 {_us(r['cpu_p50_us'])}, p99 {_us(r['cpu_p99_us'])} per "
            f"decision; waited for a CPU {'n/a' if waited is None else f'{waited:.1f} s'}"
        )
        if waited is not None and waited > 0.05 * r["run_s"]:
            line += " (a busy host: the wall-clock tail includes others' time slices)"
        lines.append(line)
    verdict = "met" if r["p99_us"] < 1000 else "NOT met"
    lines.append(f"  target p99 < 1 ms per decision: {verdict}")
    return lines


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def e2e_summary(result: dict[str, Any]) -> list[str]:
    r = result
    cpu = r["cpu_s_per_1000_calls"]
    rss = r["peak_rss_mb"]
    pressure = r["host_cpu_pressure"]
    verdict = "met" if r["target_met"] else "NOT met"
    lines = [
        f"e2e: {r['calls']:,} calls, {r['agents']:,} agents, talk {r['talk_s'][0]:g}-"
        f"{r['talk_s'][1]:g} s ({r['rate']:g} calls/s when all are busy); acd serve against "
        f"the simulated PBX over TCP (seed {r['seed']})",
        f"  calls          {r['answered']:,} answered ({r['answered_journal']:,} in the "
        f"daemon's journal), {r['not_answered']:,} not; {r['offer_failures']} failed offers; "
        f"peak {r['peak_waiting']:,} waiting",
        f"  agent freed -> next agent rung, on the wire ({r['samples']:,} samples: the "
        f"hang-ups of {r['agent_frees']:,} that found a caller waiting)",
        f"                 p50 {_ms(r['dispatch_p50_ms'])}, p90 {_ms(r['dispatch_p90_ms'])}, "
        f"p99 {_ms(r['dispatch_p99_ms'])}, max {_ms(r['dispatch_max_ms'])}",
        f"                 as the simulator's loop saw it: p50 "
        f"{_ms(r['sim_dispatch_p50_ms'])}, p99 {_ms(r['sim_dispatch_p99_ms'])}",
        f"  daemon         {'n/a' if cpu is None else f'{cpu:.2f}'} CPU s per 1,000 calls "
        f"(busy {r['daemon_cpu_share']} of a core), peak RSS "
        f"{'n/a' if rss is None else f'{rss:.0f} MB'}",
        f"  simulator      busy {r['sim_cpu_share']} of a core; its loop lag in the drain p50 "
        f"{_ms(r['sim_loop_lag_p50_ms'])}, p99 {_ms(r['sim_loop_lag_p99_ms'])}, "
        f"max {_ms(r['sim_loop_lag_max_ms'])}",
        f"  host           {r['host_cpus']} CPUs; something waited for a CPU "
        f"{'n/a' if pressure is None else f'{pressure:.0%}'} of the time",
        f"  run {r['duration_s']:.1f} s (fill {r['fill_s']:.1f} s, then the drain), daemon "
        f"start-up {r['startup_s']:.1f} s",
        f"  target p50 <= {r['target_p50_ms']:g} ms, p99 <= {r['target_p99_ms']:g} ms: {verdict} "
        "(app_queue rechecks every 1 s, mod_callcenter every 100 ms)",
    ]
    if r["daemon_exit_code"] != 0:
        lines.append(
            f"  warning: the daemon did not stop cleanly on SIGTERM (exit {r['daemon_exit_code']})"
        )
    if r.get("profile"):
        written = "written to" if r.get("profile_written") else "NOT written to"
        lines.append(f"  daemon profile {written} {r['profile']} (cProfile slows the daemon)")
    return lines


def optional_path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file name")
    return text


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
    Benchmark(
        "ami",
        "acd.bench.ami",
        "AMI parse + dispatch speed, ours against panoramisk's parser (one core, no network)",
        (Option("--events", positive_int, 200_000, "event frames (default: %(default)s)"),),
    ),
    Benchmark(
        "e2e",
        "acd.bench.e2e",
        "the daemon against the simulated PBX over TCP: agent freed -> next agent rung",
        (
            Option("--calls", positive_int, 1000, "calls (default: %(default)s)"),
            Option("--agents", positive_int, 500, "agents (default: %(default)s)"),
            Option(
                "--rate",
                positive_float,
                25.0,
                "calls/s the agents finish when all are busy; talk times are 0.5-1.5 x "
                "agents/rate s (default: %(default)s)",
                "X",
            ),
            SEED,
            Option(
                "--profile",
                optional_path,
                None,
                "run the daemon under cProfile (slower), write its stats to FILE",
                "FILE",
            ),
        ),
        e2e_summary,
    ),
    Benchmark(
        "report",
        "acd.bench.report",
        "a month of daily call statistics over N calls on the local PostgreSQL",
        (Option("--calls", positive_int, 1_000_000, "calls (default: %(default)s)"), SEED),
    ),
    Benchmark(
        "persist",
        "acd.bench.persist",
        "call records written per second on PostgreSQL while the router runs",
        (
            Option("--url", optional_path, None, "database URL (default: a fresh one)", "URL"),
            Option("--calls", positive_int, 20_000, "calls (default: %(default)s)"),
            Option("--rate", positive_float, 2500.0, "calls/s (default: %(default)s)", "X"),
            Option(
                "--cpus",
                one_of("split", "shared"),
                "split",
                "split: this process on one CPU, the writer process and a local PostgreSQL "
                "on the others (shared with a single CPU); shared: no pinning "
                "(default: %(default)s)",
                "{split,shared}",
            ),
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
        help=f"run a benchmark ({', '.join(b.name for b in BENCHMARKS)})",
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
