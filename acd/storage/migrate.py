"""Bring a database to the schema of :mod:`acd.storage.models` with the Alembic migrations.

The migration scripts live in ``migrations/`` at the top of the repository. That directory
is also a Python package (``migrations/__init__.py``; ``pyproject.toml`` installs it beside
``acd``), so a non-editable ``pip install .`` (the Docker image) carries the scripts, and
:func:`script_location` finds them through importlib wherever they were installed. In a source
tree that was never installed it falls back to ``<repository>/migrations``.

Alembic runs on a connection of our own async engine (``run_sync``), so it works inside a
running event loop (``App.start``) and from the command line (``acd db upgrade``) alike.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.db import make_engine


class MigrationsNotFound(RuntimeError):
    pass


def script_location() -> Path:
    """The ``migrations`` directory: the installed package's, else the source tree's."""
    spec = importlib.util.find_spec("migrations")
    if spec is not None and spec.origin:
        found = Path(spec.origin).parent
        if _is_ours(found):
            return found
    source = Path(__file__).resolve().parents[2] / "migrations"
    if _is_ours(source):
        return source
    raise MigrationsNotFound(
        "the acd migration scripts ('migrations' package) are not installed; "
        "reinstall acd (pip install .)"
    )


def _is_ours(directory: Path) -> bool:
    init = directory / "__init__.py"
    try:
        marked = "ACD_MIGRATIONS = True" in init.read_text(encoding="utf-8")
    except OSError:
        return False
    return marked and (directory / "env.py").is_file() and (directory / "versions").is_dir()


def alembic_config() -> Config:
    """An Alembic configuration without an ini file: just where the scripts are."""
    config = Config()
    config.set_main_option("script_location", str(script_location()).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise MigrationsNotFound("no migration revisions found")
    return head


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    before: str | None  # None: an empty database (or one never migrated)
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


async def upgrade(target: str | AsyncEngine, revision: str = "head") -> UpgradeResult:
    """Migrate the database at ``target`` (a URL or an engine) to ``revision``.

    Idempotent: a database already there is left alone (no DDL runs).
    """
    config = alembic_config()

    def run(connection: Connection) -> UpgradeResult:
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
        return UpgradeResult(before, after)

    return await _with_connection(target, run)


async def current_revision(target: str | AsyncEngine) -> str | None:
    """The revision the database is at; None if it was never migrated."""

    def run(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _with_connection(target, run)


async def _with_connection(target: str | AsyncEngine, work: Any) -> Any:
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        if isinstance(target, str):
            await engine.dispose()
