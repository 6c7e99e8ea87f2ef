"""Call recordings: the index, fetching a file by call ID, HTTP byte ranges, retention.

Asterisk's MixMonitor writes one file per answered call, ``<recordings>/<call id>.wav``
(``asterisk_conf/extensions.conf``), where the call ID is the caller channel's UNIQUEID
(``1700000000.12``). This module keeps the ``recordings`` table in step with that
directory, finds a call's file without ever leaving the directory, and deletes files older
than the retention period. See ``docs/recordings.md``.

Path safety, in one place:

* a call ID is validated strictly (:func:`validate_call_id`) before it is used in a path;
* a path read back from the index must be relative, without ``..``/``.``/empty parts,
  backslashes or NUL (:func:`_safe_parts`);
* every path is resolved (symlinks followed) and must lie inside the resolved recordings
  directory, and be a regular file, before it is opened (:func:`open_recording`);
* retention unlinks directory *entries* whose parent resolves inside the directory; a
  symlink is removed as a link, its target is never touched.

File work (scanning, hashing, deleting) runs in a worker thread so the daemon's event loop
is not blocked by a large directory or file.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import io
import logging
import os
import re
import stat
import struct
import wave
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.storage.models import Call, Recording

__all__ = [
    "EXTENSIONS",
    "Expired",
    "IndexResult",
    "InvalidCallId",
    "InvalidRange",
    "RangeNotSatisfiable",
    "RecordingDeleted",
    "RecordingError",
    "RecordingFileMissing",
    "RecordingNotFound",
    "RecordingsDirectoryMissing",
    "RetentionResult",
    "UnsafeRecordingPath",
    "apply_retention",
    "content_range",
    "find_recording",
    "get_recording",
    "index_one",
    "index_recordings",
    "is_valid_call_id",
    "iter_file",
    "open_recording",
    "parse_range",
    "validate_call_id",
]

log = logging.getLogger(__name__)

#: File name extensions of recordings, in order of preference when a call has several.
EXTENSIONS: tuple[str, ...] = (".wav", ".ogg", ".mp3", ".gsm")

_CALL_ID_RE = re.compile(r"[0-9A-Za-z._-]{1,64}")
#: An Asterisk UNIQUEID, ``<epoch>.<sequence>``, with ``<systemname>-`` in front if set.
_UNIQUEID_RE = re.compile(r"(?:.*-)?([0-9]{9,11})\.[0-9]+")
_EARLIEST_EPOCH = 946684800  # 2000-01-01: an older "UNIQUEID" is not one
_CLOCK_SLACK = timedelta(days=1)

#: Files modified this recently are re-read by every index run, even if their size has not
#: changed: MixMonitor rewrites the WAV header when it closes the file.
RECENT = timedelta(days=1)
_HASH_CHUNK = 1 << 20
_BATCH = 200


# --------------------------------------------------------------------------- errors


class RecordingError(Exception):
    """A recording cannot be indexed, found or deleted; ``str()`` is a plain message."""


class InvalidCallId(RecordingError, ValueError):
    """The text is not a call ID (bad input)."""


class RecordingsDirectoryMissing(RecordingError):
    """The configured recordings directory does not exist or is not a directory."""


class RecordingNotFound(RecordingError, LookupError):
    """No recording is known for the call, neither in the index nor on disk."""

    def __init__(self, call_id: str, message: str | None = None) -> None:
        self.call_id = call_id
        super().__init__(message or f"no recording for call {call_id}")


class RecordingFileMissing(RecordingNotFound):
    """The index names a file that is not there."""

    def __init__(self, call_id: str, path: Path) -> None:
        self.path = path
        super().__init__(
            call_id, f"recording of call {call_id} is indexed but the file is missing: {path}"
        )


class RecordingDeleted(RecordingNotFound):
    """The recording was deleted by retention."""

    def __init__(self, call_id: str, deleted_at: datetime) -> None:
        self.deleted_at = deleted_at
        super().__init__(
            call_id,
            f"recording of call {call_id} was deleted by retention at "
            f"{deleted_at.isoformat(timespec='seconds')}",
        )


class UnsafeRecordingPath(RecordingError):
    """A path that would leave the recordings directory, or is not a regular file."""


# --------------------------------------------------------------------------- call IDs


def is_valid_call_id(call_id: object) -> bool:
    return (
        isinstance(call_id, str)
        and _CALL_ID_RE.fullmatch(call_id) is not None
        and not call_id.startswith(".")
        and ".." not in call_id
    )


def validate_call_id(call_id: object) -> str:
    """``call_id`` if it is a safe call ID, else :class:`InvalidCallId`.

    A call ID is 1 to 64 characters from ``A-Z a-z 0-9 . _ -``, does not start with a dot
    and contains no ``..``: it can name a file in the recordings directory and nothing else.
    """
    if is_valid_call_id(call_id):
        assert isinstance(call_id, str)
        return call_id
    shown = repr(call_id[:77]) + "..." if isinstance(call_id, str) and len(call_id) > 80 else None
    shown = shown or repr(call_id)
    raise InvalidCallId(
        f"invalid call ID {shown}: a call ID is 1 to 64 characters from A-Z, a-z, 0-9, "
        "'.', '_' and '-', not starting with '.' and without '..' (e.g. 1700000000.12)"
    )


def _split_name(name: str) -> tuple[str, str] | None:
    """``(call_id, extension)`` for a recording file name, else None."""
    for extension in EXTENSIONS:
        if name.endswith(extension):
            call_id = name[: -len(extension)]
            if is_valid_call_id(call_id):
                return call_id, extension
    return None


# --------------------------------------------------------------------------- paths


def _root(directory: Path | str) -> Path:
    """The recordings directory, resolved; it must exist."""
    try:
        root = Path(directory).resolve(strict=True)
    except FileNotFoundError:
        raise RecordingsDirectoryMissing(
            f"the recordings directory {directory} does not exist"
        ) from None
    except (OSError, RuntimeError) as exc:
        raise RecordingsDirectoryMissing(
            f"the recordings directory {directory} cannot be used: {exc}"
        ) from None
    if not root.is_dir():
        raise RecordingsDirectoryMissing(f"the recordings directory {directory} is not a directory")
    return root


def _safe_parts(relative: str) -> list[str]:
    """The components of a relative path from the index; UnsafeRecordingPath if it could
    name anything but a file below the directory."""
    if not isinstance(relative, str) or not relative:
        raise UnsafeRecordingPath(f"empty recording path {relative!r}")
    if "\x00" in relative or "\\" in relative:
        raise UnsafeRecordingPath(f"recording path {relative!r} contains NUL or '\\'")
    if relative.startswith("/") or re.match(r"[A-Za-z]:", relative):
        raise UnsafeRecordingPath(f"recording path {relative!r} is absolute")
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeRecordingPath(f"recording path {relative!r} has an empty, '.' or '..' part")
    return parts


def _inside(root: Path, relative: str) -> tuple[Path, os.stat_result]:
    """The real path of ``relative`` under ``root`` and its stat, checked to be a regular
    file inside ``root``. FileNotFoundError if it does not exist; every other problem is a
    :class:`RecordingError`."""
    candidate = root.joinpath(*_safe_parts(relative))
    try:
        real = candidate.resolve(strict=True)
        if real == root or not real.is_relative_to(root):
            raise UnsafeRecordingPath(
                f"{candidate} resolves to {real}, outside the recordings directory"
            )
        st = os.stat(real)
    except RuntimeError:  # a symlink loop (Python < 3.13)
        raise UnsafeRecordingPath(f"{candidate} is a symlink loop") from None
    except (FileNotFoundError, NotADirectoryError):  # "a.wav/b.wav" is not there either
        raise FileNotFoundError(errno.ENOENT, "No such file", str(candidate)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeRecordingPath(f"{candidate} is a symlink loop") from None
        raise RecordingError(f"cannot access {candidate}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeRecordingPath(f"{candidate} is not a regular file")
    return real, st


def _open_regular(path: Path) -> BinaryIO:
    """Open a file for reading without following a symlink put in its place meanwhile and
    without blocking on a FIFO; the open file must be a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeRecordingPath(f"{path} is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_recording(
    directory: Path | str, call_id: str, relative_path: str | None = None
) -> tuple[Path, int]:
    """The real path and size of the recording of ``call_id``.

    With ``relative_path`` (the index's ``path``), that file; without, the first of
    ``<call_id>.wav``, ``.ogg``, ``.mp3``, ``.gsm`` in the directory. The path is inside the
    directory (symlinks resolved) and is a regular file.

    Raises :class:`InvalidCallId`, :class:`RecordingsDirectoryMissing`,
    :class:`RecordingNotFound` (nothing on disk), :class:`RecordingFileMissing` (the
    indexed file is gone) or :class:`UnsafeRecordingPath`.
    """
    call_id = validate_call_id(call_id)
    root = _root(directory)
    if relative_path is not None:
        try:
            real, st = _inside(root, relative_path)
        except FileNotFoundError:
            raise RecordingFileMissing(call_id, root / relative_path) from None
        return real, st.st_size
    for extension in EXTENSIONS:
        name = call_id + extension
        if os.path.lexists(root / name):
            try:
                real, st = _inside(root, name)
            except FileNotFoundError:  # a dangling symlink
                raise RecordingFileMissing(call_id, root / name) from None
            return real, st.st_size
    raise RecordingNotFound(call_id)


def iter_file(
    path: Path, start: int = 0, end: int | None = None, chunk_size: int = 1 << 16
) -> Iterator[bytes]:
    """The bytes ``start..end`` (inclusive; ``end=None``: to the end of the file) of ``path``,
    in chunks: for streaming a recording, a Range too."""
    with _open_regular(path) as file:
        file.seek(start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            data = file.read(chunk_size if remaining is None else min(chunk_size, remaining))
            if not data:
                return
            if remaining is not None:
                remaining -= len(data)
            yield data


# --------------------------------------------------------------------------- HTTP ranges


class InvalidRange(ValueError):
    """A syntactically invalid Range header. RFC 7233 §2.1/§3.1: ignore the header and
    answer ``200`` with the whole file."""


class RangeNotSatisfiable(Exception):
    """No requested range overlaps the file: answer ``416`` with
    ``Content-Range: bytes */<size>`` (:func:`content_range` with no range)."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"range not satisfiable for {size} bytes")


_BYTE_RANGE_RE = re.compile(r"([0-9]*)-([0-9]*)")
_TOKEN_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HUGE = 1 << 62  # more bytes than any file; stands in for absurdly long numbers


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else _HUGE


def _ordered(first: str, last: str) -> bool:
    """``int(first) <= int(last)`` for digit strings of any length."""
    a, b = first.lstrip("0") or "0", last.lstrip("0") or "0"
    return (len(a), a) <= (len(b), b)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The byte range a ``Range`` header asks for, as inclusive ``(start, end)`` offsets
    within a file of ``size`` bytes (RFC 7233).

    * no header, an empty one, or a unit other than ``bytes`` (which RFC 7233 §3.1 says to
      ignore): ``None``, answer ``200`` with the whole file;
    * ``bytes=0-99``: ``(0, 99)``; an end past the file is clamped to ``size - 1``;
    * ``bytes=100-``: from 100 to the end; ``bytes=-500``: the last 500 bytes (the whole
      file if it is shorter);
    * several ranges: the first satisfiable one (answered as a single-part ``206`` whose
      ``Content-Range`` says which bytes they are);
    * a syntax error anywhere (``bytes=5-1``, ``bytes=abc``, ``bytes=``): :class:`InvalidRange`;
    * nothing satisfiable (a start at or past the end, ``bytes=-0``, an empty file):
      :class:`RangeNotSatisfiable`.
    """
    if size < 0:
        raise ValueError(f"negative size {size}")
    if header is None:
        return None
    header = header.strip(" \t")
    if not header:
        return None
    unit, equals, range_set = header.partition("=")
    if not equals or not _TOKEN_RE.fullmatch(unit):
        raise InvalidRange(f"not a range header: {header[:80]!r}")
    if unit.lower() != "bytes":
        return None
    specs: list[tuple[int | None, int | None]] = []
    for element in range_set.split(","):
        element = element.strip(" \t")
        if not element:  # RFC 7230 §7: empty list elements are allowed
            continue
        match = _BYTE_RANGE_RE.fullmatch(element)
        if match is None or not (match[1] or match[2]):
            raise InvalidRange(f"not a byte range: {element[:80]!r}")
        first, last = match[1], match[2]
        if first and last and not _ordered(first, last):
            raise InvalidRange(f"range {element[:80]!r} ends before it starts")
        specs.append((_position(first) if first else None, _position(last) if last else None))
    if not specs:
        raise InvalidRange("no byte ranges")
    for start, end in specs:
        if start is None:  # suffix: the last ``end`` bytes
            assert end is not None
            if end == 0 or size == 0:
                continue
            return max(size - end, 0), size - 1
        if start >= size:
            continue
        return start, size - 1 if end is None or end >= size else end
    raise RangeNotSatisfiable(size)


def content_range(size: int, byte_range: tuple[int, int] | None = None) -> str:
    """The ``Content-Range`` value: ``bytes 0-99/1000``, or ``bytes */1000`` for a 416."""
    if byte_range is None:
        return f"bytes */{size}"
    return f"bytes {byte_range[0]}-{byte_range[1]}/{size}"


# --------------------------------------------------------------------------- reading files


@dataclass(frozen=True)
class _FileFacts:
    name: str
    size: int
    mtime: datetime
    sha256: str | None = None
    duration_seconds: float | None = None


class _RiffSizeFilledIn(io.RawIOBase):
    """A WAV file read as if its RIFF size were filled in. Asterisk writes the RIFF and data
    sizes as 0 until it closes the file; ``wave`` cannot read a RIFF chunk of size 0."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        super().__init__()
        self._file = file
        self._head = b"RIFF" + struct.pack("<I", max(size - 8, 0))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._file.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def readinto(self, buffer: Any) -> int:
        position = self._file.tell()
        data = self._file.read(len(buffer))
        if position < len(self._head):
            patch = self._head[position : position + len(data)]
            data = patch + data[len(patch) :]
        buffer[: len(data)] = data
        return len(data)


def _wav_duration(file: BinaryIO, size: int) -> float | None:
    """Seconds of audio in a PCM WAV file, from its header; ``None`` if it is no WAV that
    the ``wave`` module reads. A header not yet finalised (a recording still being written:
    zero sizes, or more frames than the file holds) counts the frames actually present."""
    file.seek(0)
    head = file.read(12)
    file.seek(0)
    source: Any = file
    if len(head) == 12 and head[:4] == b"RIFF" and head[8:] == b"WAVE" and head[4:8] == bytes(4):
        source = _RiffSizeFilledIn(file, size)
    try:
        with wave.open(source) as audio:
            rate = audio.getframerate()
            frame_size = audio.getnchannels() * audio.getsampwidth()
            frames = audio.getnframes()
            data_start = source.tell()  # wave stops reading at the start of the data chunk
    except (wave.Error, EOFError, ValueError) as exc:
        log.debug("no WAV duration: %s", exc)
        return None
    if rate <= 0 or frame_size <= 0:
        return None
    present = max(size - data_start, 0) // frame_size
    if frames <= 0 or frames > present:
        frames = present
    return round(frames / rate, 3)


def _read_facts(path: Path, name: str) -> _FileFacts:
    """Size, modification time, SHA-256 (streamed) and duration of a file."""
    with _open_regular(path) as file:
        mtime = datetime.fromtimestamp(os.fstat(file.fileno()).st_mtime, UTC)
        digest = hashlib.sha256()
        size = 0
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        duration = _wav_duration(file, size) if name.endswith(".wav") else None
    return _FileFacts(name, size, mtime, digest.hexdigest(), duration)


def _scan(root: Path) -> tuple[dict[str, list[str]], int]:
    """Recording files in the directory by call ID (best extension first), and how many
    other entries were ignored. Subdirectories are not entered."""
    ranked: dict[str, list[tuple[int, str]]] = {}
    ignored = 0
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                split = _split_name(entry.name)
                if split is None:
                    ignored += 1
                    continue
                call_id, extension = split
                ranked.setdefault(call_id, []).append((EXTENSIONS.index(extension), entry.name))
    except OSError as exc:
        raise RecordingError(
            f"cannot read the recordings directory {root}: {exc.strerror or exc}"
        ) from None
    found = {call_id: [name for _, name in sorted(names)] for call_id, names in ranked.items()}
    return found, ignored


def _probe(root: Path, call_id: str) -> list[str]:
    """Recording files of one call in the directory, best extension first."""
    return [call_id + ext for ext in EXTENSIONS if os.path.lexists(root / (call_id + ext))]


def _created_at(call_id: str, mtime: datetime, arrival: datetime | None) -> datetime:
    """When a recording came to be: the call's arrival if known, else the time in its
    Asterisk UNIQUEID, else the file's modification time."""
    if arrival is not None:
        return arrival
    match = _UNIQUEID_RE.fullmatch(call_id)
    if match:
        epoch = int(match[1])
        if _EARLIEST_EPOCH <= epoch <= (mtime + _CLOCK_SLACK).timestamp():
            return datetime.fromtimestamp(epoch, UTC)
    return mtime


# --------------------------------------------------------------------------- the index


@dataclass
class IndexResult:
    """What an index run did; lists hold call IDs."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)  # indexed, not deleted, file gone
    ignored: int = 0  # entries not named <call id>.<extension>
    errors: list[str] = field(default_factory=list)  # "<name>: <reason>"


@dataclass(frozen=True)
class _Known:
    path: str
    size: int | None
    sha256: str | None
    duration_seconds: float | None
    deleted: bool


def _chunks(items: Sequence[str], size: int = _BATCH) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _arrivals(session: AsyncSession, call_ids: Iterable[str]) -> dict[str, datetime]:
    ids = list(call_ids)
    if not ids:
        return {}
    rows = await session.execute(select(Call.id, Call.arrived_at).where(Call.id.in_(ids)))
    return {call_id: arrived for call_id, arrived in rows.all() if arrived is not None}


async def _upsert(
    session: AsyncSession, rows: list[dict[str, Any]], columns: Sequence[str]
) -> None:
    """Insert the rows; for a call ID already indexed, update ``columns`` only (so its
    ``created_at`` stays)."""
    if not rows:
        return
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the config allows only these two
        raise NotImplementedError(f"no upsert for {dialect}")
    statement = insert(Recording)
    statement = statement.on_conflict_do_update(
        index_elements=[Recording.call_id],
        set_={column: statement.excluded[column] for column in columns},
    )
    # executemany through the Core connection: batched within each backend's limits
    await (await session.connection()).execute(statement, rows)


def _inspect(
    root: Path,
    batch: Sequence[str],
    files: Mapping[str, list[str]],
    known: Mapping[str, _Known],
    full: bool,
    now: datetime,
) -> dict[str, _FileFacts | str | None]:
    """Per call ID: facts of its file, ``None`` if unchanged (not re-read), or an error."""
    out: dict[str, _FileFacts | str | None] = {}
    for call_id in batch:
        names = files[call_id]
        row = known.get(call_id)
        name = row.path if row is not None and not row.deleted and row.path in names else names[0]
        try:
            real, st = _inside(root, name)
            if (
                not full
                and row is not None
                and not row.deleted
                and row.path == name
                and row.size == st.st_size
                and row.sha256 is not None
                and datetime.fromtimestamp(st.st_mtime, UTC) < now - RECENT
            ):
                out[call_id] = None
                continue
            if len(names) > 1:
                log.warning("call %s has several recordings %s: indexing %s", call_id, names, name)
            out[call_id] = _read_facts(real, name)
        except (RecordingError, OSError) as exc:
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            log.warning("cannot index %s: %s", name, message)
            out[call_id] = f"{name}: {message}"
    return out


async def _index_batch(
    session: AsyncSession,
    root: Path,
    batch: Sequence[str],
    files: Mapping[str, list[str]],
    full: bool,
    now: datetime,
    result: IndexResult,
) -> None:
    rows = await session.execute(select(Recording).where(Recording.call_id.in_(list(batch))))
    known = {
        row.call_id: _Known(
            row.path, row.size_bytes, row.sha256, row.duration_seconds, row.deleted_at is not None
        )
        for row in rows.scalars()
    }
    arrivals = await _arrivals(session, [cid for cid in batch if cid not in known])
    inspected = await asyncio.to_thread(_inspect, root, batch, files, known, full, now)
    upserts: list[dict[str, Any]] = []
    for call_id in batch:
        facts = inspected[call_id]
        if facts is None:
            result.unchanged += 1
            continue
        if isinstance(facts, str):
            result.errors.append(facts)
            continue
        row = known.get(call_id)
        if (
            row is not None
            and not row.deleted
            and (
                row.path,
                row.size,
                row.sha256,
                row.duration_seconds,
            )
            == (facts.name, facts.size, facts.sha256, facts.duration_seconds)
        ):
            result.unchanged += 1
            continue
        (result.added if row is None else result.updated).append(call_id)
        if row is not None:
            log.info("recording of call %s changed: %s, re-indexed", call_id, facts.name)
        upserts.append(
            {
                "call_id": call_id,
                "path": facts.name,
                "duration_seconds": facts.duration_seconds,
                "size_bytes": facts.size,
                "sha256": facts.sha256,
                "created_at": _created_at(call_id, facts.mtime, arrivals.get(call_id)),
                "deleted_at": None,
            }
        )
    await _upsert(
        session, upserts, ("path", "duration_seconds", "size_bytes", "sha256", "deleted_at")
    )


async def index_recordings(
    sessions: async_sessionmaker[AsyncSession],
    directory: Path | str,
    *,
    full: bool = False,
    now: datetime | None = None,
) -> IndexResult:
    """Bring the ``recordings`` table in step with the files in ``directory``.

    Every ``<call id>.wav`` (``.ogg``, ``.mp3``, ``.gsm``) gets a row with its size,
    SHA-256 and (WAV) duration; a row whose file changed is updated, ``created_at`` kept.
    Idempotent. Without ``full``, a file is not re-read if its row has the same size and the
    file was last modified more than :data:`RECENT` ago; ``full`` re-reads every file.
    Rows whose file is gone are reported in ``missing`` and left as they are.
    """
    now = now or datetime.now(UTC)
    root = _root(directory)
    files, ignored = await asyncio.to_thread(_scan, root)
    result = IndexResult(ignored=ignored)
    for batch in _chunks(sorted(files)):
        async with sessions() as session, session.begin():
            await _index_batch(session, root, batch, files, full, now, result)
    async with sessions() as session:
        live = (
            await session.execute(
                select(Recording.call_id, Recording.path).where(Recording.deleted_at.is_(None))
            )
        ).all()
    unseen = [(cid, path) for cid, path in live if path not in files.get(cid, ())]
    result.missing = await asyncio.to_thread(_gone, root, unseen)
    for call_id in result.missing:
        log.warning("recording of call %s is indexed but its file is missing", call_id)
    return result


def _gone(root: Path, rows: Iterable[tuple[str, str]]) -> list[str]:
    gone = []
    for call_id, path in rows:
        try:
            _inside(root, path)
        except FileNotFoundError:
            gone.append(call_id)
        except (RecordingError, OSError):
            pass  # there is something, if not something servable: not "missing"
    return sorted(gone)


async def index_one(
    sessions: async_sessionmaker[AsyncSession],
    directory: Path | str,
    call_id: str,
    *,
    now: datetime | None = None,
) -> Recording | None:
    """Index the recording of one call (when it has ended): always re-read. ``None`` if
    there is no file; raises :class:`RecordingError` if it cannot be read safely."""
    call_id = validate_call_id(call_id)
    now = now or datetime.now(UTC)
    root = _root(directory)
    names = await asyncio.to_thread(_probe, root, call_id)
    if not names:
        return None
    result = IndexResult()
    async with sessions() as session, session.begin():
        await _index_batch(session, root, [call_id], {call_id: names}, True, now, result)
    if result.errors:
        raise RecordingError(f"cannot index the recording of call {call_id}: {result.errors[0]}")
    return await get_recording(sessions, call_id)


async def get_recording(
    sessions: async_sessionmaker[AsyncSession], call_id: str
) -> Recording | None:
    """The index row of a call, deleted or not."""
    call_id = validate_call_id(call_id)
    async with sessions() as session:
        return await session.get(Recording, call_id)


async def find_recording(
    sessions: async_sessionmaker[AsyncSession], directory: Path | str, call_id: str
) -> tuple[Path, int, Recording | None]:
    """The file of a call's recording: ``(real path, size, index row or None)``.

    The index row's path if the call is indexed, else a not yet indexed
    ``<call id>.<extension>`` in the directory. Raises :class:`RecordingNotFound` (or its
    kinds :class:`RecordingFileMissing`, :class:`RecordingDeleted`), :class:`InvalidCallId`,
    :class:`UnsafeRecordingPath`, :class:`RecordingsDirectoryMissing`.
    """
    row = await get_recording(sessions, call_id)
    if row is not None and row.deleted_at is not None:
        raise RecordingDeleted(call_id, row.deleted_at)
    path, size = await asyncio.to_thread(
        open_recording, directory, call_id, None if row is None else row.path
    )
    return path, size, row


# --------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class Expired:
    """A recording past retention: its files were deleted (or, in a dry run, would be)."""

    call_id: str
    created_at: datetime
    files: tuple[str, ...]  # relative to the directory; empty if the file was already gone
    indexed: bool  # it had a row (otherwise a row is added, marked deleted)


@dataclass
class RetentionResult:
    cutoff: datetime
    dry_run: bool
    expired: list[Expired] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # refused or failed deletions

    @property
    def files_deleted(self) -> int:
        return sum(len(item.files) for item in self.expired)


def _unlink_inside(root: Path, relative: str, dry_run: bool) -> bool:
    """Delete the directory entry ``relative`` (never a symlink's target); False if there is
    none. UnsafeRecordingPath if the entry would be outside ``root`` or is not a file."""
    entry = root.joinpath(*_safe_parts(relative))
    try:
        parent = entry.parent.resolve(strict=True)
    except FileNotFoundError:
        return False
    except RuntimeError:
        raise UnsafeRecordingPath(f"{entry.parent} is a symlink loop") from None
    if not parent.is_relative_to(root):
        raise UnsafeRecordingPath(f"{entry} is outside the recordings directory ({parent})")
    target = parent / entry.name
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        log.warning("%s is a symlink: removing the link only, not its target", target)
    elif not stat.S_ISREG(st.st_mode):
        raise UnsafeRecordingPath(f"{target} is not a regular file")
    if not dry_run:
        os.unlink(target)
    return True


def _entry_mtimes(root: Path, names: Iterable[str]) -> dict[str, datetime]:
    out = {}
    for name in names:
        try:
            out[name] = datetime.fromtimestamp(os.lstat(root / name).st_mtime, UTC)
        except OSError:
            continue
    return out


def _delete_files(
    root: Path, plan: Sequence[tuple[str, list[str]]], dry_run: bool
) -> dict[str, tuple[list[str], list[str]]]:
    """Per call ID: (deleted names, problems)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for call_id, names in plan:
        deleted: list[str] = []
        problems: list[str] = []
        for name in names:
            try:
                if _unlink_inside(root, name, dry_run):
                    deleted.append(name)
            except (RecordingError, OSError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                problems.append(f"{name}: {reason}")
        out[call_id] = (deleted, problems)
    return out


async def apply_retention(
    sessions: async_sessionmaker[AsyncSession],
    directory: Path | str,
    days: int,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
) -> RetentionResult:
    """Delete recordings made before ``now - days`` and mark their rows ``deleted_at``.

    A recording's age is its row's ``created_at``; a file not (yet) indexed is dated like the
    index would date it (the call's arrival, its UNIQUEID, its modification time) and gets a
    row marked deleted. Only entries inside the directory are deleted, a symlink as a link.
    A row is marked only when every file of its call is gone, so a failed deletion is
    retried next run. ``dry_run``: report, change nothing. Every deletion is logged.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"retention days must be a whole number of at least 1, got {days!r}")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    cutoff = now - timedelta(days=days)
    root = _root(directory)
    result = RetentionResult(cutoff=cutoff, dry_run=dry_run)
    files, _ = await asyncio.to_thread(_scan, root)

    async with sessions() as session:
        expired_rows = {
            call_id
            for (call_id,) in (
                await session.execute(
                    select(Recording.call_id).where(
                        Recording.deleted_at.is_(None), Recording.created_at < cutoff
                    )
                )
            ).all()
        }
    candidates = sorted(expired_rows | set(files))
    for batch in _chunks(candidates):
        async with sessions() as session, session.begin():
            rows = {
                row.call_id: row
                for row in (
                    await session.execute(
                        select(Recording).where(Recording.call_id.in_(list(batch)))
                    )
                ).scalars()
            }
            unindexed = [cid for cid in batch if cid not in rows]
            arrivals = await _arrivals(session, unindexed)
            mtimes = await asyncio.to_thread(
                _entry_mtimes, root, [files[cid][0] for cid in unindexed]
            )
            plan: list[tuple[str, list[str]]] = []
            created: dict[str, datetime] = {}
            for call_id in batch:
                row = rows.get(call_id)
                if row is not None:
                    created[call_id] = row.created_at
                else:
                    mtime = mtimes.get(files[call_id][0])
                    if mtime is None:  # vanished meanwhile
                        continue
                    created[call_id] = _created_at(call_id, mtime, arrivals.get(call_id))
                if created[call_id] >= cutoff:
                    continue
                names = list(files.get(call_id, ()))
                if row is not None and row.deleted_at is None and row.path not in names:
                    names.insert(0, row.path)
                if row is not None and row.deleted_at is not None and not names:
                    continue
                plan.append((call_id, names))
            outcome = await asyncio.to_thread(_delete_files, root, plan, dry_run)
            new_rows: list[dict[str, Any]] = []
            for call_id, _names in plan:
                deleted, problems = outcome[call_id]
                row = rows.get(call_id)
                verb = "would delete" if dry_run else "deleted"
                for name in deleted:
                    log.info(
                        "retention: %s %s (call %s, recorded %s, before %s)",
                        verb,
                        root / name,
                        call_id,
                        created[call_id].isoformat(timespec="seconds"),
                        cutoff.isoformat(timespec="seconds"),
                    )
                for problem in problems:
                    log.error("retention: not deleted: %s", problem)
                result.problems.extend(problems)
                if problems:
                    continue
                result.expired.append(
                    Expired(call_id, created[call_id], tuple(deleted), row is not None)
                )
                if dry_run:
                    continue
                if row is None:
                    new_rows.append(
                        {
                            "call_id": call_id,
                            "path": files[call_id][0],
                            "duration_seconds": None,
                            "size_bytes": None,
                            "sha256": None,
                            "created_at": created[call_id],
                            "deleted_at": now,
                        }
                    )
                elif row.deleted_at is None:
                    if not deleted:
                        log.info(
                            "retention: recording of call %s was already gone: %s",
                            call_id,
                            row.path,
                        )
                    await session.execute(
                        update(Recording)
                        .where(Recording.call_id == call_id, Recording.deleted_at.is_(None))
                        .values(deleted_at=now)
                    )
            await _upsert(session, new_rows, ("deleted_at",))
    return result
