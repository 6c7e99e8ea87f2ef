"""``acd db upgrade`` / ``acd db current``: the database schema (Alembic migrations).

``acd serve`` upgrades the database itself at start; ``acd db upgrade`` does it beforehand
(e.g. from a deployment script), ``acd db current`` tells where a database stands.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "db",
        help="database schema: upgrade to the latest migration, or show the current one",
        description="Manage the database schema (database.url of the configuration).",
    )
    parser.set_defaults(func=_missing, db_parser=parser)
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION")
    for name, help_text, func in (
        ("upgrade", "migrate the database to the latest schema (idempotent)", run_upgrade),
        ("current", "show the database's schema revision and the latest one", run_current),
    ):
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--config",
            "-c",
            type=Path,
            default=None,
            help="YAML configuration file (default: $ACD_CONFIG, else built-in)",
        )
        sub.set_defaults(func=func)


def _missing(args: argparse.Namespace) -> int:
    print("acd db: error: choose an action: upgrade, current", file=sys.stderr)
    return 2


def _url(args: argparse.Namespace) -> str | None:
    from acd.config import ConfigError, load_settings

    try:
        return load_settings(args.config).database.url
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def run_upgrade(args: argparse.Namespace) -> int:
    from acd.config import mask_database_url
    from acd.storage.migrate import upgrade

    url = _url(args)
    if url is None:
        return 2
    shown = mask_database_url(url)
    try:
        result = asyncio.run(upgrade(url))
    except Exception as exc:
        print(f"acd db upgrade: {shown}: {_reason(exc)}", file=sys.stderr)
        return 1
    if result.changed:
        print(f"{shown}: upgraded from {result.before or 'an empty database'} to {result.after}")
    else:
        print(f"{shown}: already at {result.after} (the latest)")
    return 0


def run_current(args: argparse.Namespace) -> int:
    from acd.config import mask_database_url
    from acd.storage.migrate import current_revision, head_revision

    url = _url(args)
    if url is None:
        return 2
    shown = mask_database_url(url)
    try:
        current = asyncio.run(current_revision(url))
    except Exception as exc:
        print(f"acd db current: {shown}: {_reason(exc)}", file=sys.stderr)
        return 1
    head = head_revision()
    if current is None:
        print(f"{shown}: no schema yet (latest is {head}); run 'acd db upgrade'")
    elif current == head:
        print(f"{shown}: {current} (the latest)")
    else:
        print(f"{shown}: {current}; the latest is {head}: run 'acd db upgrade'")
    return 0


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"cannot reach or migrate the database ({first})"
