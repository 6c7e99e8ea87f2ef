"""``acd report calls|topics|detail|agents|queue-log``: reports over the call database.

The database is the configuration's (``--config FILE``, else ``$ACD_CONFIG``, else the
defaults) unless ``--db URL`` names one; the business time zone is the configuration's
``business.time_zone`` unless ``--tz`` is given. Output is a table on the terminal, or a file
with ``--csv FILE`` / ``--xlsx FILE`` (``--csv -`` writes CSV to stdout). ``queue-log``
writes Asterisk ``queue_log`` lines to stdout (or ``--output FILE``).

Bad input (a date that is not one, ``--to`` before ``--from``, an unknown ``--by``) is one line
``acd report NAME: error: ...`` on stderr and exit status 2; an unreadable database is exit
status 1. See ``docs/reports.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.commands.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from acd.config import ConfigError, load_settings, mask_database_url
from acd.report_output import (
    Table,
    agents_table,
    calls_table,
    detail_table,
    render_text,
    topics_table,
    write_csv,
    write_xlsx,
)
from acd.storage.db import make_engine
from acd.storage.queue_log import export_queue_log
from acd.storage.reports import (
    Bucket,
    Period,
    ReportError,
    ServiceLevelFormula,
    StatsOptions,
    agent_activity,
    call_detail,
    call_statistics,
    parse_period,
    time_zone,
    topic_counts,
)

REPORTS = ("calls", "topics", "detail", "agents", "queue-log")


class _PlainParser(argparse.ArgumentParser):
    """Bad arguments are one line (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


class UsageError(Exception):
    """Bad input found after parsing: exit status 2."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be 0 seconds or more, got {text!r}")
    return value


def _bucket(text: str) -> str:
    value = text.strip().lower()
    if value not in {b.value for b in Bucket}:
        raise argparse.ArgumentTypeError(
            f"unknown period {text!r}: use one of {', '.join(b.value for b in Bucket)}"
        )
    return value


def _formula(text: str) -> str:
    value = text.strip().lower()
    if value not in {f.value for f in ServiceLevelFormula}:
        raise argparse.ArgumentTypeError(
            f"unknown formula {text!r}: use " + " or ".join(f.value for f in ServiceLevelFormula)
        )
    return value


def _common(parser: argparse.ArgumentParser, *, outputs: bool = True) -> None:
    parser.add_argument(
        "--from", dest="date_from", required=True, metavar="DATE", help="first day, YYYY-MM-DD"
    )
    parser.add_argument(
        "--to", dest="date_to", required=True, metavar="DATE", help="last day (included)"
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (default: $ACD_CONFIG)"
    )
    parser.add_argument("--db", metavar="URL", help="database URL instead of the configuration's")
    parser.add_argument(
        "--tz", metavar="ZONE", help="time zone instead of business.time_zone, e.g. Asia/Almaty"
    )
    if outputs:
        parser.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-': stdout)")
        parser.add_argument("--xlsx", type=Path, metavar="FILE", help="write an Excel workbook")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` and its sub-commands."""
    parser = subparsers.add_parser(
        "report",
        help="call statistics, topics, per-call detail, agents, queue_log export",
        description="Reports over the call database; see docs/reports.md.",
    )
    parser.__class__ = _PlainParser
    parser.set_defaults(func=_missing_report)
    reports = parser.add_subparsers(dest="report", metavar="REPORT", parser_class=_PlainParser)

    calls = reports.add_parser(
        "calls",
        help="call statistics per hour/day/week/month (annex 2 form)",
        description="Received, answered, lost, service level, averages and maxima per period.",
    )
    _common(calls)
    calls.add_argument(
        "--by",
        type=_bucket,
        default="day",
        metavar="UNIT",
        help="hour, day, week or month (default: day)",
    )
    calls.add_argument("--queue", metavar="Q", help="only this queue")
    calls.add_argument(
        "--threshold",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="service-level threshold (default: 300 s, the 5-minute target)",
    )
    calls.add_argument(
        "--short-abandon",
        type=_seconds,
        default=5.0,
        metavar="SECONDS",
        help="a lost call that waited less than this is short (default: 5 s)",
    )
    calls.add_argument(
        "--sl",
        type=_formula,
        default="answered",
        metavar="FORMULA",
        help="service level over 'answered' calls (default) or 'inclusive' of lost ones",
    )
    calls.set_defaults(func=_run, produce=_calls)

    topics = reports.add_parser(
        "topics",
        help="topics and their number of calls (annex 1 form)",
        description="The most frequent topics of the period.",
    )
    _common(topics)
    topics.add_argument("--queue", metavar="Q", help="only this queue")
    topics.set_defaults(func=_run, produce=_topics)

    detail = reports.add_parser(
        "detail",
        help="every call: number, date, time, wait, talk, topic, agent",
        description="Per-call detail (004 §5): caller number, date, time, wait, talk, topic.",
    )
    _common(detail)
    detail.add_argument("--agent", metavar="A", help="only calls taken by this agent ID")
    detail.add_argument("--caller", metavar="N", help="only numbers containing N")
    detail.add_argument("--queue", metavar="Q", help="only this queue")
    detail.set_defaults(func=_run, produce=_detail)

    agents = reports.add_parser(
        "agents",
        help="shift time, calls, talk, wrap-up, breaks by reason per agent",
        description="Per agent: shift time, calls, talk, wrap-up, breaks; evenness of talk.",
    )
    _common(agents)
    agents.set_defaults(func=_run, produce=_agents)

    queue_log = reports.add_parser(
        "queue-log",
        help="export as an Asterisk queue_log",
        description="Write the period as Asterisk queue_log lines (stdout by default).",
    )
    _common(queue_log, outputs=False)
    queue_log.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE")
    queue_log.set_defaults(func=_run, produce=_queue_log)


def _missing_report(args: argparse.Namespace) -> int:
    print(f"acd report: error: choose a report: {', '.join(REPORTS)}", file=sys.stderr)
    return EXIT_INVALID


# --------------------------------------------------------------------------- running


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` and ``sqlite:///`` spellings; check the scheme."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise UsageError(
            f"--db: {url!r} is not a database URL; use 'sqlite+aiosqlite:///path/acd.sqlite3' "
            "or 'postgresql+asyncpg://user:password@host/dbname'"
        )
    scheme = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}.get(
        scheme, scheme
    )
    scheme = {"sqlite": "sqlite+aiosqlite"}.get(scheme, scheme)
    if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise UsageError(f"--db: unsupported database scheme {scheme!r}")
    return f"{scheme}://{rest}"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite+aiosqlite:///./acd.sqlite3`` -> ``./acd.sqlite3``)."""
    if not url.startswith("sqlite"):
        return None
    rest = url.partition("://")[2].partition("?")[0]
    if not rest.startswith("/") or rest[1:] in ("", ":memory:"):
        return None
    return Path(rest[1:])


def _settings(args: argparse.Namespace) -> tuple[str, str]:
    """(database URL, time zone name) from the options and the configuration."""
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        raise UsageError(f"the configuration is invalid:\n{error}") from None
    url = normalise_url(args.db) if args.db else settings.database.url
    return url, args.tz or settings.business.time_zone


def _run(args: argparse.Namespace) -> int:
    prog = f"acd report {args.report}"
    try:
        url, zone = _settings(args)
        period = parse_period(args.date_from, args.date_to, time_zone(zone))
        sqlite_file = _sqlite_file(url)
        if sqlite_file is not None and not sqlite_file.exists():
            print(f"{prog}: error: no database file {sqlite_file}", file=sys.stderr)
            return EXIT_FAILED
        produce: Callable[..., Any] = args.produce
        generated_at = datetime.now(UTC)
        result = asyncio.run(_with_engine(url, produce, args, period, generated_at))
    except (ReportError, UsageError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except _DatabaseError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        return _emit(prog, args, result)
    except OSError as exc:
        print(f"{prog}: error: cannot write: {exc}", file=sys.stderr)
        return EXIT_FAILED


class _DatabaseError(Exception):
    pass


async def _with_engine(
    url: str,
    produce: Callable[..., Any],
    args: argparse.Namespace,
    period: Period,
    generated_at: datetime,
) -> Any:
    engine = make_engine(url)
    try:
        return await produce(engine, args, period, generated_at)
    except (SQLAlchemyError, OSError) as exc:
        raise _DatabaseError(_database_message(url, exc)) from None
    except Exception as exc:  # asyncpg errors not wrapped by SQLAlchemy (e.g. at connect)
        if type(exc).__module__.startswith("asyncpg"):
            raise _DatabaseError(_database_message(url, exc)) from None
        raise
    finally:
        await engine.dispose()


def _database_message(url: str, exc: BaseException) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    where = mask_database_url(url)
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return (
            f"the database {where} has no report tables ({first}); "
            "create the schema with 'acd db upgrade'"
        )
    return f"cannot read the database {where}: {first}"


def _emit(prog: str, args: argparse.Namespace, result: Table | list[str]) -> int:
    if isinstance(result, list):  # queue_log lines
        text = "".join(line + "\n" for line in result)
        if args.output is not None:
            args.output.write_text(text, encoding="utf-8")
            print(f"{prog}: {len(result)} lines written to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    wrote = False
    if args.csv:
        if args.csv == "-":
            write_csv(result, sys.stdout)
        else:
            write_csv(result, Path(args.csv))
            print(f"{prog}: CSV written to {args.csv}", file=sys.stderr)
        wrote = True
    if args.xlsx is not None:
        write_xlsx(result, args.xlsx)
        print(f"{prog}: XLSX written to {args.xlsx}", file=sys.stderr)
        wrote = True
    if not wrote:
        sys.stdout.write(render_text(result))
    return EXIT_OK


# --------------------------------------------------------------------------- the reports


async def _calls(
    engine: AsyncEngine, args: argparse.Namespace, period: Period, now: datetime
) -> Table:
    options = StatsOptions(args.threshold, args.short_abandon, ServiceLevelFormula(args.sl))
    report = await call_statistics(engine, period, Bucket(args.by), options, queue=args.queue)
    return calls_table(report, now)


async def _topics(
    engine: AsyncEngine, args: argparse.Namespace, period: Period, now: datetime
) -> Table:
    return topics_table(await topic_counts(engine, period, queue=args.queue), now)


async def _detail(
    engine: AsyncEngine, args: argparse.Namespace, period: Period, now: datetime
) -> Table:
    report = await call_detail(
        engine, period, agent=args.agent, caller=args.caller, queue=args.queue
    )
    return detail_table(report, now)


async def _agents(
    engine: AsyncEngine, args: argparse.Namespace, period: Period, now: datetime
) -> Table:
    return agents_table(await agent_activity(engine, period, now=now), now)


async def _queue_log(
    engine: AsyncEngine, args: argparse.Namespace, period: Period, now: datetime
) -> list[str]:
    return await export_queue_log(engine, period)
