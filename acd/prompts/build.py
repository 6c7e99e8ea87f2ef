"""Synthesise the missing prompts of the catalogue: espeak-ng, then sox to what Asterisk
plays without transcoding from signed linear: ``.wav``, 8 kHz, mono, 16-bit PCM.

Files go into Asterisk's sounds layout, ``<out>/<language>/<name>.wav`` — e.g.
``sounds/ru/acd/greeting.wav`` for the prompt ``acd/greeting`` in Russian. A prompt that
already has a file there, in any format Asterisk reads (a recording, say), is kept unless
``force`` is set; with ``force`` only the ``.wav`` is rewritten.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from acd.prompts.catalogue import Catalogue, Text

__all__ = [
    "SOUND_EXTENSIONS",
    "BuildError",
    "BuildResult",
    "Job",
    "Tools",
    "ToolsMissing",
    "available_voices",
    "build",
    "existing_files",
    "find_tools",
    "plan",
    "prompt_path",
    "synthesise",
]

SAMPLE_RATE = 8000
DEFAULT_SPEED = 150  # words per minute; espeak-ng's default, 175, is fast on the phone
INSTALL_HINT = "install the Debian packages espeak-ng and sox (apt-get install espeak-ng sox)"
TOOLS = ("espeak-ng", "sox")
# File extensions of the formats Asterisk can play a prompt from (its format modules).
SOUND_EXTENSIONS = (
    "wav",
    "WAV",
    "wav16",
    "sln",
    "raw",
    "sln16",
    "ulaw",
    "pcm",
    "mu",
    "alaw",
    "al",
    "gsm",
    "g722",
    "g729",
    "g723",
    "ilbc",
    "siren7",
    "siren14",
    "ogg",
    "opus",
)
_TIMEOUT = 60.0
_SOX_OUTPUT = ("-t", "wav", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer")
# Trim espeak's leading and trailing silence (prompts are played back to back, a number from
# several files), normalise to -3 dBFS, leave 50 ms before and 100 ms after the words. No
# dither (-D): the same text and voice always give the same file.
_SOX_EFFECTS = (
    *("silence", "1", "0.02", "0.1%", "reverse", "silence", "1", "0.02", "0.1%", "reverse"),
    *("norm", "-3", "pad", "0.05", "0.1"),
)


class ToolsMissing(RuntimeError):
    """espeak-ng or sox is not installed."""


class BuildError(RuntimeError):
    """One prompt could not be synthesised."""


@dataclass(frozen=True, slots=True)
class Tools:
    espeak: str
    sox: str


def find_tools() -> Tools:
    """The paths of espeak-ng and sox, or :class:`ToolsMissing` saying how to install them."""
    found = {name: shutil.which(name) for name in TOOLS}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        what = " and ".join(missing)
        verb = "is" if len(missing) == 1 else "are"
        raise ToolsMissing(f"{what} {verb} not installed (not on PATH): {INSTALL_HINT}")
    return Tools(espeak=found["espeak-ng"] or "", sox=found["sox"] or "")


def available_voices(tools: Tools) -> set[str]:
    """The names ``espeak-ng -v`` accepts: each voice's language and its file's name."""
    try:
        listing = subprocess.run(
            [tools.espeak, "--voices"], capture_output=True, timeout=_TIMEOUT, check=True
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolsMissing(f"cannot run {tools.espeak} --voices: {exc}") from exc
    voices: set[str] = set()
    for line in listing.splitlines()[1:]:  # "Pty Language Age/Gender VoiceName File ..."
        columns = line.split()
        if len(columns) >= 5:
            voices.update({columns[1], columns[4], columns[4].rsplit("/", 1)[-1]})
    return voices


def prompt_path(out: Path, language: str, name: str, extension: str = "wav") -> Path:
    """``<out>/<language>/<name>.<extension>``: where Asterisk looks for ``name``."""
    return out / language / f"{name}.{extension}"


def existing_files(out: Path, language: str, name: str) -> list[Path]:
    """The files of prompt ``name`` in ``language`` under ``out``, in any sound format."""
    return [
        path
        for ext in SOUND_EXTENSIONS
        if (path := prompt_path(out, language, name, ext)).is_file()
    ]


@dataclass(frozen=True, slots=True)
class Job:
    """One file to synthesise (or kept because it exists)."""

    name: str
    language: str  # the sounds directory it goes into
    text: Text
    voice: str  # the espeak-ng voice
    path: Path
    existing: tuple[Path, ...] = ()


def plan(
    catalogue: Catalogue,
    out: Path,
    languages: Sequence[str],
    *,
    only: Sequence[str] = (),
    force: bool = False,
    voices: dict[str, str] | None = None,
) -> tuple[list[Job], list[Job]]:
    """``(to_build, kept)``: the jobs for every prompt of ``languages`` whose name matches one
    of the ``only`` patterns (``fnmatch``; all if empty). Kept: those with a file already,
    unless ``force`` (then only a recording in another format keeps them)."""
    voice_of = {**catalogue.voices, **(voices or {})}
    to_build: list[Job] = []
    kept: list[Job] = []
    for entry in catalogue:
        if only and not any(fnmatch.fnmatchcase(entry.name, p) for p in only):
            continue
        for language in languages:
            text = entry.texts.get(language)
            if text is None:
                continue
            path = prompt_path(out, language, entry.name)
            existing = tuple(existing_files(out, language, entry.name))
            job = Job(entry.name, language, text, voice_of[text.voice], path, existing)
            if existing and not (force and existing == (path,)):
                kept.append(job)
            else:
                to_build.append(job)
    return to_build, kept


def synthesise(
    tools: Tools, text: str, voice: str, dest: Path, speed: int = DEFAULT_SPEED
) -> float:
    """Speak ``text`` with espeak-ng into ``dest`` (8 kHz mono 16-bit WAV), replacing it
    atomically; returns the duration in seconds. :class:`BuildError` if anything fails."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".acd-prompt-", dir=dest.parent) as tmp:
        raw, converted = Path(tmp, "espeak.wav"), Path(tmp, "prompt.wav")
        _run(
            [tools.espeak, "-v", voice, "-s", str(speed), "-b", "1", "-w", str(raw), "--stdin"],
            text.encode("utf-8"),
        )
        _run([tools.sox, "-q", "-D", str(raw), *_SOX_OUTPUT, str(converted), *_SOX_EFFECTS])
        duration = _check_wav(converted)
        os.replace(converted, dest)
    return duration


def _run(command: list[str], stdin: bytes | None = None) -> None:
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, timeout=_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BuildError(f"{Path(command[0]).name}: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise BuildError(f"{Path(command[0]).name}: {message}")


def _check_wav(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as wav:
            params = wav.getparams()
    except (OSError, EOFError, wave.Error) as exc:
        raise BuildError(f"sox wrote no readable WAV: {exc}") from exc
    if (params.framerate, params.nchannels, params.sampwidth) != (SAMPLE_RATE, 1, 2):
        raise BuildError(f"sox wrote {params.framerate} Hz, {params.nchannels} channels")
    if params.nframes < SAMPLE_RATE // 5:  # the padding alone is 150 ms
        raise BuildError("the synthesiser produced no speech")
    return params.nframes / params.framerate


@dataclass
class BuildResult:
    built: list[tuple[Job, float]] = field(default_factory=list)  # with the duration
    failed: list[tuple[Job, str]] = field(default_factory=list)


def build(
    jobs: Iterable[Job],
    tools: Tools,
    *,
    speed: int = DEFAULT_SPEED,
    workers: int | None = None,
    progress: Callable[[Job, float | None, str | None], None] | None = None,
) -> BuildResult:
    """Synthesise every job, several at a time; a failure does not stop the others.
    ``progress(job, duration, error)`` is called as each one ends."""
    jobs = list(jobs)
    result = BuildResult()

    def one(job: Job) -> tuple[Job, float | None, str | None]:
        try:
            return job, synthesise(tools, job.text.spoken, job.voice, job.path, speed), None
        except BuildError as exc:
            return job, None, str(exc)
        except OSError as exc:  # the output directory cannot be written, say
            return job, None, f"{exc.strerror or exc}: {exc.filename or job.path}"

    workers = max(1, min(workers or os.cpu_count() or 1, 16, len(jobs) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job, duration, error in pool.map(one, jobs):
            if error is None and duration is not None:
                result.built.append((job, duration))
            else:
                result.failed.append((job, error or "failed"))
            if progress is not None:
                progress(job, duration, error)
    return result
