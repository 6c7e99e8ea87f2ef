"""Recording housekeeping inside the daemon: index each answered call's recording once the
call has ended, and apply the retention period once a day (``docs/recordings.md``)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.call_events import CallEvent
from acd.storage.recordings import apply_retention, index_one

log = logging.getLogger(__name__)

#: Calls with a recording: answered ones, and an agent's part of a transferred one (the next
#: agent's part is appended to the same file and indexed again when it ends).
INDEXED_OUTCOMES = frozenset({"answered", "transferred"})

DAY_SECONDS = 86_400.0


class RecordingJobs:
    """A call-event sink: ``finished`` answered calls get their recording indexed after
    ``index_delay`` seconds (Asterisk closes the file at hang-up); retention runs at start and
    every ``retention_every`` seconds."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: Path,
        retention_days: int,
        *,
        index_delay: float = 2.0,
        retention_every: float = DAY_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.directory = directory
        self.retention_days = retention_days
        self.index_delay = index_delay
        self.retention_every = retention_every
        self.indexed: list[str] = []  # call IDs whose recording was indexed (for status/tests)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retention: asyncio.Task[None] | None = None

    def emit(self, event: CallEvent) -> None:
        if event.kind != "finished" or event.data.get("outcome") not in INDEXED_OUTCOMES:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._index_later(event.call_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _index_later(self, call_id: str) -> None:
        await asyncio.sleep(self.index_delay)  # a scheduled job, not a wait in a test
        try:
            row = await index_one(self.sessions, self.directory, call_id)
        except Exception as exc:  # a missing file or a database outage must not stop the daemon
            log.warning("recording of call %s not indexed: %s", call_id, exc)
            return
        if row is not None:
            self.indexed.append(call_id)

    async def start(self) -> None:
        self._retention = asyncio.get_running_loop().create_task(self._retention_loop())

    async def _retention_loop(self) -> None:
        while True:
            try:
                await apply_retention(self.sessions, self.directory, self.retention_days)
            except Exception as exc:
                log.warning("recording retention failed: %s", exc)
            await asyncio.sleep(self.retention_every)

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._retention] if self._retention else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retention = None
