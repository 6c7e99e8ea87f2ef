"""Engines and sessions for the configured database (SQLite embedded, or PostgreSQL)."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from acd.storage.models import Base


def json_dumps(value: Any) -> str:
    """JSON columns: text kept readable (no \\u escapes), anything else as its ``str``,
    and NaN or infinity (which PostgreSQL's json refuses) as null."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys on and a busy timeout (one writer at a time)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, json_serializer=json_dumps
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    # asyncpg waits 60 s for a connection by default; a down server should be noticed sooner.
    return create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        json_serializer=json_dumps,
        connect_args={"timeout": 10},
    )


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Create every table straight from the models (tests; production runs migrations)."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
