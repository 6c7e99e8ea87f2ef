"""The API's sessions in the database (``api_sessions``), so a restart of the daemon logs
nobody out.

:class:`~acd.http.auth.TokenStore` stays the source of truth while the daemon runs (a token
is checked in memory, on every request); this writes its changes through, in order, by a
task of its own, and reads the live sessions back at start. Only SHA-256 digests of tokens
are stored: a database copy cannot be used to log in. A database that does not answer costs
nothing but the persistence (a warning is logged); the sessions go on working in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.http.live import instant
from acd.storage.models import ApiSession, User

log = logging.getLogger(__name__)

#: A session read back: (token digest, user id, user name, role, agent id, expiry).
StoredSession = tuple[str, int, str, str, str | None, float]


class SessionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def aclose(self, timeout: float = 2.0) -> None:
        """Let the queued writes finish (briefly), then stop."""
        if self._worker is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._queue.join()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    async def flush(self) -> None:
        """Wait until every change handed over so far is written (or failed)."""
        await self._queue.join()

    def added(self, digest: str, user_id: int, expires_at: float) -> None:
        async def add() -> None:
            async with self.sessions() as session, session.begin():
                session.add(
                    ApiSession(token_digest=digest, user_id=user_id, expires_at=instant(expires_at))
                )

        self._queue.put_nowait(add)

    def removed(self, digests: Iterable[str]) -> None:
        gone = list(digests)
        if not gone:
            return

        async def remove() -> None:
            async with self.sessions() as session, session.begin():
                await session.execute(delete(ApiSession).where(ApiSession.token_digest.in_(gone)))

        self._queue.put_nowait(remove)

    async def load(self, now: float) -> list[StoredSession]:
        """The sessions not yet expired of active users; the expired ones are deleted."""
        async with self.sessions() as session, session.begin():
            await session.execute(delete(ApiSession).where(ApiSession.expires_at <= instant(now)))
            rows = await session.execute(
                select(
                    ApiSession.token_digest,
                    User.id,
                    User.username,
                    User.role,
                    User.agent_id,
                    ApiSession.expires_at,
                )
                .join(User, User.id == ApiSession.user_id)
                .where(User.active.is_(True))
            )
            return [
                (digest, user_id, name, role, agent, expires.timestamp())
                for digest, user_id, name, role, agent, expires in rows
            ]

    async def _work(self) -> None:
        while True:
            change = await self._queue.get()
            try:
                await change()
            except Exception as exc:  # the database is down: the session lives in memory
                log.warning(
                    "API session not stored: %s", str(exc).splitlines()[0] if str(exc) else exc
                )
            finally:
                self._queue.task_done()
