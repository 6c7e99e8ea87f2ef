"""The writer's durable spool: records the database could not take yet, on local disk.

Append-only JSON Lines in numbered segment files (``spool-00000001.jsonl``, ...) under one
directory. Each :meth:`Spool.append` writes a whole batch and fsyncs it before returning, so
a record is either durably spooled or its batch was never acknowledged. The reader goes
through the segments oldest first; a segment read to its end is deleted once the database
has committed what it held (:meth:`Spool.consume`). After a crash everything still on disk
is read again from the start of its segment: the database side skips what it already has
(each record carries a unique key), so a replay never writes anything twice.

A new owner never appends to a segment left by an older one (its last line may be torn by a
crash): it starts a new segment. Torn or foreign lines are skipped with a warning. One owner
at a time: the directory is locked while a spool is open.

All methods are blocking file I/O; the writer calls them in a worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^spool-(\d{8})\.jsonl$")
SEGMENT_BYTES = 16 * 1024 * 1024  # start a new segment past this size
REJECTED_FILE = "rejected.jsonl"
LOCK_FILE = ".lock"


class Record(NamedTuple):
    """One accepted event with its unique key, as the writer stores and spools it."""

    key: str
    call_id: str
    at: float
    kind: str
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {"k": self.key, "c": self.call_id, "t": self.at, "e": self.kind, "d": self.data},
            ensure_ascii=False,
            default=str,
        )

    @classmethod
    def from_json(cls, line: str) -> Record:
        raw = json.loads(line)
        data = raw["d"]
        return cls(
            str(raw["k"]),
            str(raw["c"]),
            float(raw["t"]),
            str(raw["e"]),
            data if isinstance(data, dict) else {},
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """Records read from the spool, and where reading stopped (see :meth:`Spool.consume`)."""

    records: list[Record]
    segment: int
    end: int  # byte offset in ``segment`` after the last line read
    finished: bool  # ``end`` is the end of a segment no one appends to any more


class Spool:
    """One spool directory, used by one writer at a time: :meth:`open` takes an exclusive
    lock (``.lock`` in the directory, ``flock``), waiting for a previous owner to let go
    (a writer process still finishing after its daemon restarted, say). Every other
    method opens the spool first if needed; :meth:`close` lets go."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock: IO[bytes] | None = None
        self._file: IO[bytes] | None = None
        self._writing: int | None = None  # the segment this process appends to
        self._segments: list[int] = []  # every segment on disk, oldest first
        self._read_segment: int | None = None
        self._read_offset = 0

    def open(self) -> None:
        """Lock the directory (blocking until it is free) and see what it holds."""
        self._open(blocking=True)

    def try_open(self) -> bool:
        """Like :meth:`open`, but False at once if another owner has the directory."""
        return self._open(blocking=False)

    def _open(self, *, blocking: bool) -> bool:
        if self._lock is not None:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = (self.directory / LOCK_FILE).open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            lock.close()
            return False
        except BaseException:
            lock.close()
            raise
        self._lock = lock
        self._segments = self._scan()
        self._read_segment, self._read_offset = None, 0
        return True

    # ------------------------------------------------------------------ segments

    def _scan(self) -> list[int]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for n in names if (m := _SEGMENT.match(n)))

    def _path(self, number: int) -> Path:
        return self.directory / f"spool-{number:08d}.jsonl"

    @property
    def pending(self) -> bool:
        """Is anything spooled and not yet consumed? (Consumed segments are deleted.)"""
        self.open()
        return bool(self._segments)

    @property
    def pending_known(self) -> bool:
        """``pending`` as last seen, without opening (or reopening) the spool."""
        return bool(self._segments)

    def pending_bytes(self) -> int:
        total = 0
        for number in self._segments:
            offset = self._read_offset if number == self._read_segment else 0
            try:
                total += max(0, self._path(number).stat().st_size - offset)
            except FileNotFoundError:  # pragma: no cover
                continue
        return total

    # ------------------------------------------------------------------ writing

    def append(self, records: Sequence[Record]) -> None:
        """Write ``records`` at the end of the spool and fsync them."""
        if not records:
            return
        self.open()
        payload = "".join(record.to_json() + "\n" for record in records).encode("utf-8")
        handle = self._writable(len(payload))
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())

    def _writable(self, size: int) -> IO[bytes]:
        if self._file is not None and self._file.tell() + size > SEGMENT_BYTES:
            self._close_segment()
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            number = max(self._segments + self._scan(), default=0) + 1
            self._file = self._path(number).open("ab")
            _fsync_directory(self.directory)  # the new file's name is durable too
            self._writing = number
            self._segments.append(number)
        return self._file

    def close(self) -> None:
        """Close the segment being written and let go of the directory."""
        self._close_segment()
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def _close_segment(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writing = None

    # ------------------------------------------------------------------ reading

    def read(self, max_records: int) -> Chunk | None:
        """The oldest records not yet consumed (up to ``max_records``); None if none."""
        self.open()
        while self._segments:
            number = self._segments[0]
            if number != self._read_segment:
                self._read_segment, self._read_offset = number, 0
            records, end, size = self._read_lines(number, self._read_offset, max_records)
            finished = end >= size and number != self._writing  # no more lines will come
            if records:
                return Chunk(records, number, end, finished)
            if not finished:
                return None  # our own segment, read to its end
            self._drop(number)  # left by an older process, empty or only a torn line
        return None

    def _read_lines(self, number: int, offset: int, limit: int) -> tuple[list[Record], int, int]:
        records: list[Record] = []
        end = offset
        try:
            handle = self._path(number).open("rb")
        except FileNotFoundError:  # pragma: no cover - deleted by hand
            return records, end, end
        with handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(offset)
            while len(records) < limit:
                line = handle.readline()
                if not line:
                    break
                end += len(line)
                if not line.endswith(b"\n"):
                    log.warning("%s: torn last line skipped", self._path(number))
                    break
                try:
                    records.append(Record.from_json(line.decode("utf-8")))
                except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                    log.warning("%s: unreadable spool line skipped", self._path(number))
        return records, end, size

    def consume(self, chunk: Chunk) -> None:
        """The database has committed ``chunk``: it is never read again."""
        self._read_segment, self._read_offset = chunk.segment, chunk.end
        # A segment is dropped once read to its end: an old one, or ours when all we spooled
        # is in the database (the next append starts a new segment).
        ours_done = (
            chunk.segment == self._writing
            and self._file is not None
            and self._file.tell() <= chunk.end
        )
        if chunk.finished or ours_done:
            self._drop(chunk.segment)

    def _drop(self, number: int) -> None:
        if number == self._writing:
            self._close_segment()
        with contextlib.suppress(FileNotFoundError):
            self._path(number).unlink()
        if number in self._segments:
            self._segments.remove(number)
        if self._read_segment == number:
            self._read_segment, self._read_offset = None, 0

    # ------------------------------------------------------------------ rejects

    def reject(self, rejected: Iterable[tuple[Record, str]]) -> None:
        """Keep records the database refuses for good, with why, never to be retried."""
        lines = "".join(
            json.dumps({"record": json.loads(record.to_json()), "error": error}, ensure_ascii=False)
            + "\n"
            for record, error in rejected
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / REJECTED_FILE).open("a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. not supported on this platform
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
