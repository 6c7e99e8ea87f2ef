"""``acd serve``: run the daemon beside Asterisk."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the ACD daemon (AMI client, FastAGI server, routing)",
        description="Run the ACD daemon beside Asterisk.",
    )
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        default=None,
        help="YAML configuration file (default: $ACD_CONFIG, else built-in)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from acd.config import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from acd.app import App

    try:
        asyncio.run(App(settings).serve_forever())
    except OSError as exc:  # e.g. the FastAGI port is taken
        print(f"acd serve: {exc}", file=sys.stderr)
        return 1
    return 0
