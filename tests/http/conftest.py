"""The HTTP API under test: a call centre on a fake clock, a database (SQLite, and PostgreSQL
through ``db_url``), users of every role, and aiohttp's test client."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from http_support import FAST_HASHER, Api, make_api

# The storage tests' ``db_url`` (SQLite and PostgreSQL, a database per test), reused as is.
_spec = importlib.util.spec_from_file_location(
    "acd_storage_conftest", Path(__file__).parents[1] / "storage" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_storage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_storage)
db_url = _storage.db_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'api.sqlite3'}"


@pytest.fixture
def api_factory(tmp_path: Path) -> Callable[..., Any]:
    """``await api_factory(url, **deps_overrides)`` -> a started :class:`Api`."""
    made: list[Api] = []

    async def make(url: str, prepare_database: bool = True, **overrides: Any) -> Api:
        api = await make_api(url, tmp_path, FAST_HASHER, prepare_database, **overrides)
        made.append(api)
        return api

    make.made = made  # type: ignore[attr-defined]
    return make


@pytest.fixture
async def api(api_factory: Callable[..., Any], sqlite_url: str) -> AsyncIterator[Api]:
    instance = await api_factory(sqlite_url)
    try:
        yield instance
    finally:
        await instance.close()


@pytest.fixture
async def any_db_api(api_factory: Callable[..., Any], db_url: str) -> AsyncIterator[Api]:
    """The API over each database backend."""
    instance = await api_factory(db_url)
    try:
        yield instance
    finally:
        await instance.close()


__all__ = ["db_url"]
