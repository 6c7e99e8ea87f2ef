"""``acd recording index|get|info|retention``: call recordings on disk and their index.

Exit status: 0 done; 1 the recording (or the database, or the directory) is not there or
something could not be done; 2 bad input (arguments, call ID, configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from acd.commands.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from acd.commands.common import CommandFailed as _Failed
from acd.commands.common import usage as _usage
from acd.config import CONFIG_ENV_VAR, ConfigError, Settings, load_settings, mask_database_url

T = TypeVar("T")


def register(subparsers: Any) -> None:
    """Add the ``recording`` command to the ``acd`` sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "recording",
        help="index, fetch and expire call recordings",
        description=(
            "Call recordings: the files Asterisk's MixMonitor writes as <call id>.wav in "
            "recordings.directory, and their index in the database. See docs/recordings.md."
        ),
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        "-c",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"YAML configuration file (default: ${CONFIG_ENV_VAR}, else built-in)",
    )
    actions = parser.add_subparsers(dest="recording_action", metavar="ACTION")

    index = actions.add_parser(
        "index",
        parents=[common],
        help="index the recordings directory (size, SHA-256, duration)",
        description=(
            "Add or update an index row for every <call id>.wav/.ogg/.mp3/.gsm in the "
            "recordings directory. Files whose size has not changed and that were last "
            "modified more than a day ago are not re-read unless --full is given."
        ),
    )
    index.add_argument("--full", action="store_true", help="re-read and re-hash every file")
    index.set_defaults(func=_index)

    get = actions.add_parser(
        "get",
        parents=[common],
        help="write the recording of a call to a file or stdout",
        description="Write the recording of CALL_ID to FILE (default: its own name, here).",
    )
    get.add_argument("call_id", type=_call_id, metavar="CALL_ID", help="e.g. 1700000000.12")
    get.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=None,
        help="where to write: a file, a directory, or '-' for stdout",
    )
    get.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    get.set_defaults(func=_get)

    info = actions.add_parser(
        "info",
        parents=[common],
        help="show the index row of a call's recording",
        description="Show the index row of the recording of CALL_ID and whether its file is there.",
    )
    info.add_argument("call_id", type=_call_id, metavar="CALL_ID", help="e.g. 1700000000.12")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=_info)

    retention = actions.add_parser(
        "retention",
        parents=[common],
        help="delete recordings older than the retention period",
        description=(
            "Delete recordings made more than N days ago (recordings.retention_days unless "
            "--days is given) and mark their index rows deleted. Only files inside the "
            "recordings directory are ever deleted."
        ),
    )
    retention.add_argument(
        "--days", type=_days, default=None, metavar="N", help="retention period in days (≥ 1)"
    )
    retention.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )
    retention.set_defaults(func=_retention)

    parser.set_defaults(func=_usage(parser))


def _call_id(text: str) -> str:
    from acd.storage.recordings import InvalidCallId, validate_call_id

    try:
        return validate_call_id(text)
    except InvalidCallId as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, got {text!r}") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 day, got {days}")
    return days


# --------------------------------------------------------------------------- running


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.config)
    except ConfigError as error:
        raise _Failed(str(error), EXIT_INVALID) from None


def _run(
    args: argparse.Namespace, work: Callable[[Settings, Any], Awaitable[T]]
) -> tuple[Settings, T]:
    """Load the settings, open the database and run ``work(settings, sessions)``; turn every
    expected failure into :class:`_Failed`."""
    from sqlalchemy.exc import SQLAlchemyError

    from acd.storage.db import make_engine, make_sessions
    from acd.storage.recordings import InvalidCallId, RecordingError

    settings = _settings(args)

    async def main() -> T:
        engine = make_engine(settings.database.url)
        try:
            return await work(settings, make_sessions(engine))
        finally:
            await engine.dispose()

    try:
        with _problems_to_stderr():
            return settings, asyncio.run(main())
    except InvalidCallId as exc:
        raise _Failed(str(exc), EXIT_INVALID) from None
    except RecordingError as exc:
        raise _Failed(str(exc)) from None
    except OSError as exc:
        if exc.filename is not None:  # a file, not the database connection
            raise _Failed(f"cannot access {exc.filename}: {exc.strerror or exc}") from None
        raise _Failed(_database_problem(settings, exc)) from None
    except SQLAlchemyError as exc:
        raise _Failed(_database_problem(settings, exc)) from None


@contextlib.contextmanager
def _problems_to_stderr() -> Iterator[None]:
    """Show the library's warnings and errors (files refused, not indexed, not deleted,
    symlinks) on stderr while a command runs; its INFO lines (each deletion) stay quiet,
    the command prints what it did itself."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("acd recording: %(message)s"))
    logger = logging.getLogger("acd.storage.recordings")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _database_problem(settings: Settings, exc: Exception) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = detail[0] if detail else type(exc).__name__
    where = mask_database_url(settings.database.url)
    message = f"database error ({where}): {text}"
    if "no such table" in text or "does not exist" in text:
        message += (
            "\nthe database has no recordings table: run the database migrations first "
            "(acd serve runs them when it starts)"
        )
    return message


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _command(body: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return body(args)
        except _Failed as failure:
            print(f"acd recording: {failure}", file=sys.stderr)
            return failure.status

    run.__doc__ = body.__doc__
    return run


# --------------------------------------------------------------------------- index


@_command
def _index(args: argparse.Namespace) -> int:
    from acd.storage.recordings import index_recordings

    async def work(settings: Settings, sessions: Any) -> Any:
        return await index_recordings(sessions, settings.recordings.directory, full=args.full)

    settings, result = _run(args, work)
    parts = [f"{len(result.added)} new", f"{len(result.updated)} updated"]
    parts.append(f"{result.unchanged} unchanged")
    print(f"indexed {settings.recordings.directory}: {', '.join(parts)}")
    if result.ignored:
        print(
            f"{_count(result.ignored, 'other entry', 'other entries')} ignored "
            "(not named <call id>.wav/.ogg/.mp3/.gsm)"
        )
    if result.missing:
        print(f"{_count(len(result.missing), 'indexed recording')} without a file (above)")
    if result.errors:
        print(
            f"acd recording: {_count(len(result.errors), 'file')} not indexed (reasons above)",
            file=sys.stderr,
        )
    return EXIT_FAILED if result.errors else EXIT_OK


# --------------------------------------------------------------------------- get / info


@_command
def _get(args: argparse.Namespace) -> int:
    from acd.storage.recordings import find_recording, iter_file

    to_stdout = args.output == "-"
    if to_stdout and sys.stdout.isatty():
        raise _Failed(
            "refusing to write audio to a terminal: redirect stdout or use -o FILE", EXIT_INVALID
        )

    async def work(settings: Settings, sessions: Any) -> Path:
        path, _, _ = await find_recording(sessions, settings.recordings.directory, args.call_id)
        return path

    _, path = _run(args, work)
    if to_stdout:
        try:
            for chunk in iter_file(path):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # the reader went away (| head): stop quietly, without a flush error at exit
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FAILED
        except OSError as exc:
            raise _Failed(f"cannot read {path}: {exc.strerror or exc}") from None
        return EXIT_OK

    target = Path(args.output) if args.output else Path(path.name)
    if target.is_dir():
        target = target / path.name
    if target.exists() and not args.force:
        raise _Failed(f"{target} exists; use --force to overwrite it")
    written = _write_atomically(target, path)
    print(f"wrote {target} ({written} bytes, recording of call {args.call_id})")
    return EXIT_OK


def _write_atomically(target: Path, source: Path) -> int:
    """Copy ``source`` to ``target`` through a temporary file beside it, so a failure never
    leaves half a recording behind."""
    from acd.storage.recordings import iter_file

    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    except OSError as exc:
        raise _Failed(f"cannot write {target}: {exc.strerror or exc}") from None
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in iter_file(source):
                out.write(chunk)
                written += len(chunk)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise _Failed(f"cannot write {target}: {exc.strerror or exc}") from None
    return written


@_command
def _info(args: argparse.Namespace) -> int:
    from acd.storage.recordings import (
        RecordingError,
        RecordingNotFound,
        get_recording,
        open_recording,
    )

    async def work(settings: Settings, sessions: Any) -> dict[str, Any]:
        directory = settings.recordings.directory
        row = await get_recording(sessions, args.call_id)
        if row is None:
            try:
                path, _ = open_recording(directory, args.call_id)
            except RecordingNotFound:
                raise _Failed(f"no recording for call {args.call_id}") from None
            raise _Failed(
                f"recording of call {args.call_id} is not indexed yet (the file {path.name} "
                "is there): run 'acd recording index'"
            )
        if row.deleted_at is not None:
            status = "deleted by retention"
        else:
            try:
                open_recording(directory, args.call_id, row.path)
                status = "present"
            except RecordingError as exc:
                status = f"unavailable: {exc}"
        return {
            "call_id": row.call_id,
            "path": row.path,
            "file": os.path.abspath(Path(directory) / row.path),
            "status": status,
            "duration_seconds": row.duration_seconds,
            "size_bytes": row.size_bytes,
            "sha256": row.sha256,
            "created_at": row.created_at.isoformat(),
            "deleted_at": None if row.deleted_at is None else row.deleted_at.isoformat(),
        }

    _, data = _run(args, work)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            print(f"{key + ':':<18}{'-' if value is None else value}")
    return EXIT_OK if data["status"] in ("present", "deleted by retention") else EXIT_FAILED


# --------------------------------------------------------------------------- retention


@_command
def _retention(args: argparse.Namespace) -> int:
    from acd.storage.recordings import apply_retention

    async def work(settings: Settings, sessions: Any) -> Any:
        days = args.days or settings.recordings.retention_days
        return days, await apply_retention(
            sessions, settings.recordings.directory, days, dry_run=args.dry_run
        )

    _, (days, result) = _run(args, work)
    verb = "would delete" if args.dry_run else "deleted"
    for item in result.expired:
        recorded = item.created_at.isoformat(timespec="seconds")
        for name in item.files:
            print(f"{verb} {name} (call {item.call_id}, recorded {recorded})")
        if not item.files:
            mark = "would mark" if args.dry_run else "marked"
            print(f"{mark} call {item.call_id} deleted: its file was already gone")
    before = result.cutoff.isoformat(timespec="seconds")
    print(
        f"retention {_count(days, 'day')} (recorded before {before}): "
        f"{_count(len(result.expired), 'recording')} expired, "
        f"{_count(result.files_deleted, 'file')} {'to delete' if args.dry_run else 'deleted'}"
        + (" (dry run: nothing changed)" if args.dry_run else "")
    )
    if result.problems:
        print(
            f"acd recording: {_count(len(result.problems), 'file')} not deleted (reasons "
            "above); their recordings stay as they are and the next run tries again",
            file=sys.stderr,
        )
    return EXIT_FAILED if result.problems else EXIT_OK
