"""What every ``acd`` sub-command shares: exit statuses and the way to stop with a message."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

EXIT_OK = 0
EXIT_FAILED = 1  # something missing or failing (a file, the database)
EXIT_INVALID = 2  # bad input: the message says which option or value


class CommandFailed(Exception):
    """Stop with a message on stderr and an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """A command's action when no sub-command is given: its help on stderr, exit status 2."""

    def show_usage(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_INVALID

    return show_usage
