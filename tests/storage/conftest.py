"""Databases for the storage tests: embedded SQLite and a real PostgreSQL 15.

Every test that takes ``db_url`` runs twice, once per backend. PostgreSQL tests each get a
database of their own (created from the ``acd_test`` role that ``.ci/run`` sets up, dropped
afterwards). Without a reachable server they skip with the reason — except under CI
(``CI=true``), where a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

PG_ADMIN_DSN = os.environ.get(
    "ACD_TEST_PG_DSN", "postgresql://acd_test:acd_test@127.0.0.1:5432/postgres"
)


async def _pg_admin() -> object:
    import asyncpg

    return await asyncpg.connect(PG_ADMIN_DSN, timeout=5)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database of each kind, for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'acd.sqlite3'}"
        return
    try:
        admin = await _pg_admin()
    except (OSError, Exception) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}")
    name = f"acd_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    try:
        dsn = PG_ADMIN_DSN.rsplit("/", 1)[0]
        yield f"{dsn.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    finally:
        await drop_database(admin, name)
        await admin.close()  # type: ignore[attr-defined]


async def drop_database(admin: object, name: str) -> None:
    """DROP ... WITH (FORCE), retried while an autovacuum worker (a superuser's process,
    which acd_test may not end) is still busy in the database after a test's writes."""
    import asyncpg

    for attempt in range(100):
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
            return
        except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
            if attempt == 99:
                raise
            await asyncio.sleep(0.1)
