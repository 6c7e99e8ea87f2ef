"""Reader of the real Asterisk wire captures in ``tests/fixtures/asterisk/``.

Every record is a ``Record(direction, data)``: ``direction`` names where the bytes went, as in
the file, ``data`` is the bytes (Python bytes literal in the file, evaluated safely):

==================  =====================================================================
``<<< BANNER``      AMI greeting line from Asterisk
``<<< RAW``         one AMI frame from Asterisk
``>>> RAW``         one AMI frame sent to Asterisk
``<<< CLOSED``      Asterisk closed the AMI socket (``data`` is ``b""``)
``AGI <<< ENV``     one ``agi_*`` environment line (the last one is ``b"\\n"``)
``AGI <<<``         one FastAGI line from Asterisk (reply, ``HANGUP``)
``AGI >>>``         one FastAGI command sent to Asterisk
``AGI CONNECT``     Asterisk connected to the FastAGI server (``data`` is ``b""``)
``AGI CLOSE``       the FastAGI socket was closed (``data`` is ``b""``)
==================  =====================================================================

CLI output and ``#`` comments are skipped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from acd.asterisk.agi_codec import encode_command, split_command_line

FIXTURES = Path(__file__).parent / "fixtures" / "asterisk"

AMI_BANNER = "<<< BANNER"
AMI_IN = "<<< RAW"
AMI_OUT = ">>> RAW"
AMI_CLOSED = "<<< CLOSED"
AGI_ENV = "AGI <<< ENV"
AGI_IN = "AGI <<<"
AGI_OUT = "AGI >>>"
AGI_CONNECT = "AGI CONNECT"
AGI_CLOSE = "AGI CLOSE"

# longest prefixes first: "AGI <<< ENV " before "AGI <<< "
_PREFIXES = (
    ("AGI <<< ENV ", AGI_ENV),
    ("AGI <<< ", AGI_IN),
    ("AGI >>> ", AGI_OUT),
    ("<<< BANNER ", AMI_BANNER),
    ("<<< RAW ", AMI_IN),
    (">>> RAW ", AMI_OUT),
)
_MARKERS = (
    ("<<< [connection closed]", AMI_CLOSED),
    ("AGI [conn from", AGI_CONNECT),
    ("AGI [closing socket]", AGI_CLOSE),
)


class Record(NamedTuple):
    direction: str
    data: bytes


def capture_files() -> list[Path]:
    """The numbered capture files (``00_*`` CLI listings included; they hold no records)."""
    return sorted(FIXTURES.glob("[0-9][0-9]_*.txt"))


def read_capture(path: Path | str) -> Iterator[Record]:
    """Yield the records of one capture file in order."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            for prefix, direction in _PREFIXES:
                if line.startswith(prefix):
                    literal = line[len(prefix) :]
                    try:
                        data = ast.literal_eval(literal)
                    except (ValueError, SyntaxError) as exc:
                        raise ValueError(f"{path.name}:{lineno}: bad bytes literal") from exc
                    if not isinstance(data, bytes):
                        raise ValueError(f"{path.name}:{lineno}: not a bytes literal")
                    yield Record(direction, data)
                    break
            else:
                for prefix, direction in _MARKERS:
                    if line.startswith(prefix):
                        yield Record(direction, b"")
                        break


def ami_frames_from(path: Path | str) -> list[bytes]:
    """Every AMI frame Asterisk sent in one capture (``<<< RAW`` records)."""
    return [r.data for r in read_capture(path) if r.direction == AMI_IN]


def all_ami_frames() -> list[tuple[str, bytes]]:
    """(file name, frame) for every ``<<< RAW`` frame of every capture."""
    return [(p.name, data) for p in capture_files() for data in ami_frames_from(p)]


def action_exchanges(path: Path | str) -> list[tuple[bytes, list[bytes]]]:
    """(action frame sent, frames Asterisk sent back carrying the same ActionID) in order.

    The replies are the response and any list items / ``OriginateResponse`` with that
    ActionID, up to the next action; unsolicited events are not included.
    """
    out: list[tuple[bytes, list[bytes]]] = []
    current_id: bytes | None = None
    for direction, data in read_capture(path):
        if direction == AMI_OUT:
            current_id = _action_id(data)
            out.append((data, []))
        elif (
            direction == AMI_IN
            and out
            and current_id is not None
            and _action_id(data) == current_id
        ):
            out[-1][1].append(data)
    return out


def _action_id(frame: bytes) -> bytes | None:
    for line in frame.split(b"\r\n"):
        if line[:10].lower() == b"actionid: ":
            return line[10:]
    return None


# --------------------------------------------------------------------------- FastAGI sessions

ENV, FROM_ASTERISK, TO_ASTERISK, CLOSE = "env", "in", "out", "close"
_AGI_PREFIXES = (("AGI <<< ENV ", ENV), ("AGI <<< ", FROM_ASTERISK), ("AGI >>> ", TO_ASTERISK))

# Keyword phrases of the commands in the captures, to rebuild the canonical form.
KEYWORDS = (
    "ANSWER",
    "CHANNEL STATUS",
    "DATABASE GET",
    "DATABASE PUT",
    "EXEC",
    "GET DATA",
    "GET FULL VARIABLE",
    "GET VARIABLE",
    "HANGUP",
    "NOSUCH COMMAND",
    "SAY NUMBER",
    "SET CONTEXT",
    "SET EXTENSION",
    "SET MUSIC",
    "SET PRIORITY",
    "SET VARIABLE",
    "STREAM FILE",
    "VERBOSE",
    "WAIT FOR DIGIT",
)


def agi_sessions(name: str) -> list[list[tuple[str, bytes]]]:
    """The FastAGI sessions of a capture file, each a list of (kind, bytes)."""
    sessions: list[list[tuple[str, bytes]]] = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("AGI [conn from"):
            sessions.append([])
        elif line.startswith("AGI [closing socket]"):
            sessions[-1].append((CLOSE, b""))
        else:
            for prefix, kind in _AGI_PREFIXES:
                if line.startswith(prefix):
                    data = ast.literal_eval(line[len(prefix) :])
                    assert isinstance(data, bytes)
                    sessions[-1].append((kind, data))
                    break
    return sessions


def split_captured(captured: bytes) -> tuple[str, list[str]]:
    """A captured command as (keyword phrase, arguments), the way Asterisk reads it."""
    words = split_command_line(captured.decode())
    keyword = max(
        (k for k in KEYWORDS if words[: len(k.split())] == k.split()), key=len, default=None
    )
    assert keyword is not None, captured
    return keyword, words[len(keyword.split()) :]


def canonical(captured: bytes) -> bytes:
    """A captured command as our encoder writes it: bare keywords, every argument quoted."""
    keyword, args = split_captured(captured)
    return encode_command(keyword, *args)
