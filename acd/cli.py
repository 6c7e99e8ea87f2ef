"""The ``acd`` command: one entry point, one module per sub-command in :mod:`acd.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes ``register(subparsers) -> None``; the parser it adds sets ``func``.
COMMAND_MODULES: tuple[str, ...] = (
    "acd.commands.demo",
    "acd.commands.plan",
    "acd.commands.bench",
    "acd.commands.config",
    "acd.commands.serve",
    "acd.commands.db",
    "acd.commands.recording",
    "acd.commands.report",
    "acd.commands.scenario",
    "acd.commands.prompts",
    "acd.commands.user",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acd", description="ACD/IVR call-routing service for Asterisk."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
