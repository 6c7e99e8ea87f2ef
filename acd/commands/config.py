"""``acd config check|show [FILE]``: validate or display the daemon configuration."""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from acd.commands.common import EXIT_INVALID, EXIT_OK
from acd.commands.common import usage as _usage
from acd.config import CONFIG_ENV_VAR, ConfigError, Settings, load_settings


def register(subparsers: Any) -> None:
    """Add the ``config`` command to the ``acd`` sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "config",
        help="check or show the daemon configuration",
        description=(
            "Validate or display the configuration: defaults, then the YAML FILE "
            f"(or ${CONFIG_ENV_VAR}), then ACD_* environment variables."
        ),
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION")
    file_help = f"YAML configuration file (default: ${CONFIG_ENV_VAR}, else defaults only)"

    check = actions.add_parser(
        "check",
        help="validate the configuration; exit 2 and list every problem if it is invalid",
        description="Validate the configuration. Exit 0 if valid, 2 with every problem listed.",
    )
    check.add_argument("file", nargs="?", type=Path, metavar="FILE", help=file_help)
    check.set_defaults(func=_check)

    show = actions.add_parser(
        "show",
        help="print the effective settings as YAML (secrets masked)",
        description="Print the effective settings as YAML, with secrets masked.",
    )
    show.add_argument("file", nargs="?", type=Path, metavar="FILE", help=file_help)
    show.set_defaults(func=_show)

    parser.set_defaults(func=_usage(parser))


def _source(path: Path | None) -> str:
    """What is being checked, for messages."""
    if path is not None:
        return str(path)
    if os.environ.get(CONFIG_ENV_VAR):
        return os.environ[CONFIG_ENV_VAR]
    return "defaults and environment (no file given)"


def _load(path: Path | None) -> Settings | None:
    """Load settings, or print every problem to stderr and return None."""
    try:
        return load_settings(path)
    except ConfigError as error:
        print(error, file=sys.stderr)
        count = len(error.problems)
        noun = "problem" if count == 1 else "problems"
        print(f"{count} {noun} in {_source(path)}", file=sys.stderr)
        return None


def _check(args: argparse.Namespace) -> int:
    if _load(args.file) is None:
        return EXIT_INVALID
    print(f"ok: {_source(args.file)}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    settings = _load(args.file)
    if settings is None:
        return EXIT_INVALID
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # keep the model's field order
    buffer = io.StringIO()
    yaml.dump(settings.masked_dict(), buffer)
    print(f"# effective settings from {_source(args.file)}; secrets masked")
    sys.stdout.write(buffer.getvalue())
    return EXIT_OK
