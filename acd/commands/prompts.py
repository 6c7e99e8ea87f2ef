"""``acd prompts list|build``: the prompt catalogue, and synthesising the missing files.

Exit status: 0 done; 1 something could not be done (espeak-ng or sox missing, a prompt that
failed to build) or, for ``list --missing``, some files are missing; 2 bad input (options,
an unusable catalogue file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from acd.commands.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from acd.commands.common import CommandFailed as _Failed
from acd.commands.common import usage as _usage
from acd.prompts.build import (
    DEFAULT_SPEED,
    INSTALL_HINT,
    Job,
    ToolsMissing,
    available_voices,
    build,
    existing_files,
    find_tools,
    plan,
    prompt_path,
)
from acd.prompts.catalogue import Catalogue, CatalogueError, default_catalogue, load_catalogue

DEFAULT_OUT = Path("sounds")


def register(subparsers: Any) -> None:
    """Add the ``prompts`` command to the ``acd`` sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "prompts",
        help="the sound prompts: list the catalogue, synthesise the missing files",
        description=(
            "The sound prompts the daemon, the dialplan and the scenarios play, with their "
            "text in each language (acd/prompts/catalogue.yaml). See docs/prompts.md."
        ),
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--lang",
        type=_languages,
        default=None,
        metavar="LIST",
        help="languages, comma-separated, e.g. ru,kk (default: all of the catalogue's)",
    )
    common.add_argument(
        "--catalogue",
        type=Path,
        default=None,
        metavar="FILE",
        help="a catalogue file of your own (default: the one shipped with acd)",
    )
    actions = parser.add_subparsers(dest="prompts_action", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        parents=[common],
        help="the catalogue: every prompt and its text per language",
        description=(
            "Print every prompt of the catalogue with its text per language. With --missing "
            "DIR, only those that have no file in DIR/<language>/<name>.<ext> (any format "
            "Asterisk reads), and exit 1 if there are any."
        ),
    )
    listing.add_argument(
        "--missing",
        type=Path,
        default=None,
        metavar="DIR",
        help="a sounds directory (DIR/ru/acd/greeting.wav ...): list the prompts it lacks",
    )
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(func=_guarded(_list))

    builder = actions.add_parser(
        "build",
        parents=[common],
        help="synthesise the missing prompts (espeak-ng, sox) as 8 kHz mono WAV",
        description=(
            "Synthesise every prompt of the catalogue that has no file yet, with espeak-ng, "
            "converted by sox to 8 kHz mono 16-bit WAV, into DIR/<language>/<name>.wav "
            "(Asterisk's layout: DIR/ru/acd/greeting.wav). Existing files, in any format, "
            "are kept unless --force. Needs the Debian packages espeak-ng and sox."
        ),
    )
    builder.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"the sounds directory to write into (default: ./{DEFAULT_OUT})",
    )
    builder.add_argument(
        "--force", action="store_true", help="rewrite the .wav files that exist already"
    )
    builder.add_argument(
        "--only",
        type=_patterns,
        default=(),
        metavar="PATTERNS",
        help="only the prompts whose name matches, comma-separated globs: 'acd/*,kz/welcome-*'",
    )
    builder.add_argument(
        "--voice",
        type=_voice,
        action="append",
        default=[],
        metavar="LANG=VOICE",
        help="the espeak-ng voice for a language (default: the catalogue's; e.g. kk=kk)",
    )
    builder.add_argument(
        "--speed",
        type=_int_in(80, 400, "words per minute"),
        default=DEFAULT_SPEED,
        metavar="WPM",
        help=f"speaking rate in words per minute (default {DEFAULT_SPEED})",
    )
    builder.add_argument(
        "--jobs",
        type=_int_in(1, 64, "jobs"),
        default=None,
        metavar="N",
        help="how many prompts to synthesise at a time (default: the number of CPUs)",
    )
    builder.add_argument("-v", "--verbose", action="store_true", help="print every file")
    builder.set_defaults(func=_guarded(_build))

    parser.set_defaults(func=_usage(parser))


def _guarded(
    action: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return action(args)
        except _Failed as exc:
            print(f"acd prompts: {exc}", file=sys.stderr)
            return exc.status
        except BrokenPipeError:  # `acd prompts list | head`
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
            return EXIT_OK

    return run


# --------------------------------------------------------------------------- option types


def _languages(text: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))
    if not items:
        raise argparse.ArgumentTypeError("give at least one language, e.g. ru,kk")
    return items


def _patterns(text: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise argparse.ArgumentTypeError("give at least one name or pattern, e.g. 'acd/*'")
    return items


def _voice(text: str) -> tuple[str, str]:
    language, sep, voice = text.partition("=")
    if not sep or not language.strip() or not voice.strip():
        raise argparse.ArgumentTypeError(f"expected LANG=VOICE, e.g. kk=kk, got {text!r}")
    return language.strip(), voice.strip()


def _int_in(low: int, high: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be {low}..{high}, got {value}")
        return value

    return parse


# --------------------------------------------------------------------------- shared


def _catalogue(args: argparse.Namespace) -> Catalogue:
    try:
        return default_catalogue() if args.catalogue is None else load_catalogue(args.catalogue)
    except CatalogueError as exc:
        raise _Failed(str(exc), EXIT_INVALID) from None


def _chosen_languages(args: argparse.Namespace, catalogue: Catalogue) -> tuple[str, ...]:
    if args.lang is None:
        return catalogue.languages
    unknown = [lang for lang in args.lang if lang not in catalogue.languages]
    if unknown:
        raise _Failed(
            f"unknown language {', '.join(map(repr, unknown))}: "
            f"the catalogue has {', '.join(catalogue.languages)}",
            EXIT_INVALID,
        )
    return tuple(args.lang)


def _directory(path: Path, option: str, *, must_exist: bool) -> Path:
    if path.exists() and not path.is_dir():
        raise _Failed(f"{option} {path}: not a directory", EXIT_INVALID)
    if must_exist and not path.is_dir():
        raise _Failed(f"{option} {path}: no such directory", EXIT_INVALID)
    return path


# --------------------------------------------------------------------------- list


def _list(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args)
    languages = _chosen_languages(args, catalogue)
    sounds = (
        None if args.missing is None else _directory(args.missing, "--missing", must_exist=True)
    )
    rows: list[dict[str, Any]] = []
    total = 0
    for entry in catalogue:
        for language in languages:
            text = entry.texts.get(language)
            if text is None:
                continue
            total += 1
            row: dict[str, Any] = {"name": entry.name, "language": language, "text": text.text}
            if text.voice != language:
                row["voice"] = text.voice
            if sounds is not None:
                if existing_files(sounds, language, entry.name):
                    continue
                row["file"] = str(prompt_path(sounds, language, entry.name))
            rows.append(row)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        width = max((len(row["name"]) for row in rows), default=0)
        for row in rows:
            voice = f" [spoken in {row['voice']}]" if "voice" in row else ""
            where = f"  -> {row['file']}" if "file" in row else ""
            print(f"{row['name']:<{width}}  {row['language']}  {row['text']}{voice}{where}")
        if sounds is None:
            print(f"{len(catalogue)} prompts, {total} files in {', '.join(languages)}")
        elif rows:
            print(f"{len(rows)} of {total} prompt files missing in {sounds}")
        else:
            print(f"all {total} prompt files present in {sounds}")
    return EXIT_FAILED if sounds is not None and rows else EXIT_OK


# --------------------------------------------------------------------------- build


def _build(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args)
    languages = _chosen_languages(args, catalogue)
    out = _directory(args.out, "--out", must_exist=False)
    voices = dict(args.voice)
    for language in voices:
        if language not in catalogue.languages:
            raise _Failed(
                f"--voice {language}=...: unknown language, the catalogue has "
                f"{', '.join(catalogue.languages)}",
                EXIT_INVALID,
            )
    to_build, kept = plan(
        catalogue, out, languages, only=args.only, force=args.force, voices=voices
    )
    if args.only and not to_build and not kept:
        raise _Failed(
            f"--only {','.join(args.only)}: no prompt of the catalogue matches "
            f"in {', '.join(languages)}",
            EXIT_INVALID,
        )
    if not to_build:
        print(
            f"nothing to build: all {len(kept)} prompt files exist in {out} "
            "(--force rewrites the .wav files)"
        )
        return EXIT_OK

    try:
        tools = find_tools()
        known = available_voices(tools)
    except ToolsMissing as exc:
        raise _Failed(str(exc)) from None
    _check_voices(to_build, known)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _Failed(f"cannot create {out}: {exc.strerror or exc}") from None

    def progress(job: Job, duration: float | None, error: str | None) -> None:
        if error is not None:
            print(f"acd prompts: {job.path}: {error}", file=sys.stderr)
        elif args.verbose:
            print(f"wrote {job.path} ({duration:.1f} s): {job.text.text}")

    result = build(to_build, tools, speed=args.speed, workers=args.jobs, progress=progress)
    per_language = _count_by_language(job for job, _ in result.built)
    summary = f"built {len(result.built)} prompt files in {out}"
    if per_language:
        summary += f" ({per_language})"
    if kept:
        summary += f"; kept {len(kept)} that exist (--force rewrites the .wav files)"
    print(summary)
    if args.verbose:
        for job in kept:
            print(f"kept {', '.join(str(p) for p in job.existing)}")
    if result.failed:
        print(f"acd prompts: {len(result.failed)} prompt files failed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _check_voices(jobs: Sequence[Job], known: set[str]) -> None:
    missing: dict[str, set[str]] = {}
    for job in jobs:
        if job.voice.split("+", 1)[0] not in known:  # "kk+f3": voice kk, variant f3
            missing.setdefault(job.voice, set()).add(job.text.voice)
    if missing:
        problems = "; ".join(
            f"no voice {voice!r} (for {', '.join(sorted(langs))})"
            for voice, langs in sorted(missing.items())
        )
        raise _Failed(
            f"espeak-ng has {problems}: choose another with --voice LANG=VOICE (see "
            f"'espeak-ng --voices'), leave the language out with --lang, or {INSTALL_HINT} "
            "from a release that has it; docs/prompts.md has the fallbacks"
        )


def _count_by_language(jobs: Any) -> str:
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.language] = counts.get(job.language, 0) + 1
    return ", ".join(f"{language} {count}" for language, count in counts.items())
