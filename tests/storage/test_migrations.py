"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection

from acd import cli
from acd.storage.db import make_engine
from acd.storage.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    script_location,
    upgrade,
)
from acd.storage.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _schema(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted(
                (i["name"], tuple(i["column_names"]), i["unique"])
                for i in inspector.get_indexes(table)
            ),
        )
        for table in sorted(inspector.get_table_names())
    }


async def test_an_empty_database_migrates_to_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        result = await upgrade(engine)
        assert (result.before, result.after) == (None, head_revision())
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            schema = await connection.run_sync(_schema)
        assert tables == set(Base.metadata.tables) | {"alembic_version"}

        # Twice is a no-op: no statement but reading the version.
        statements: list[str] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement.strip().split()[0].upper())

        again = await upgrade(engine)
        assert not again.changed and again.after == head_revision()
        assert not {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"} & set(statements), statements
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema) == schema
    finally:
        await engine.dispose()


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_downgrade_to_nothing_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await upgrade(engine, "0001")
        assert await current_revision(engine) == "0001"
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade, "base")
        assert await current_revision(engine) is None
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert set(names) <= {"alembic_version"}
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_scenario_versions_become_text_and_back(db_url: str) -> None:
    """0003: a number stored by 0001 survives as text; going back keeps plain numbers only."""
    engine = make_engine(db_url)

    def insert(connection: Connection, call_id: str, version: Any) -> None:
        connection.execute(
            text(
                "INSERT INTO calls (id, arrived_at, priority, end_known, scenario_version) "
                "VALUES (:id, :at, 0, true, :version)"
            ),
            {"id": call_id, "at": datetime(2026, 12, 1, tzinfo=UTC), "version": version},
        )

    def versions(connection: Connection) -> dict[str, Any]:
        rows = connection.execute(text("SELECT id, scenario_version FROM calls ORDER BY id"))
        return dict(rows.all())

    try:
        await upgrade(engine, "0002")
        async with engine.begin() as connection:
            await connection.run_sync(insert, "old", 7)
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.run_sync(insert, "new", "7+74952f896c0f")
            assert await connection.run_sync(versions) == {"new": "7+74952f896c0f", "old": "7"}
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade, "0002")
        async with engine.connect() as connection:
            assert await connection.run_sync(versions) == {"new": None, "old": 7}
    finally:
        await engine.dispose()


def test_the_scripts_are_the_installed_migrations_package() -> None:
    location = script_location()
    assert (location / "env.py").is_file() and (location / "versions").is_dir()
    spec = importlib.util.find_spec("migrations")  # what `pip install .` puts beside acd
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).parent == location
    # A migration is frozen: it must not import the models, which go on changing.
    for script in (location / "versions").glob("0*.py"):
        source = script.read_text(encoding="utf-8")
        assert "from acd" not in source and "import acd" not in source, script.name


def test_acd_db_upgrade_and_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "cli.sqlite3"
    config = tmp_path / "acd.yaml"
    config.write_text(f"database:\n  url: sqlite+aiosqlite:///{database}\n", encoding="utf-8")
    monkeypatch.delenv("ACD_DATABASE__URL", raising=False)
    head = head_revision()

    assert cli.main(["db", "current", "--config", str(config)]) == 0
    assert "no schema yet" in capsys.readouterr().out
    assert cli.main(["db", "upgrade", "--config", str(config)]) == 0
    assert f"upgraded from an empty database to {head}" in capsys.readouterr().out
    assert cli.main(["db", "upgrade", "-c", str(config)]) == 0
    assert f"already at {head}" in capsys.readouterr().out
    assert cli.main(["db", "current", "-c", str(config)]) == 0
    assert f"{head} (the latest)" in capsys.readouterr().out


def test_acd_db_upgrade_unreachable_database_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_DATABASE__URL", "postgresql+asyncpg://acd:hunter2@127.0.0.1:1/acd")
    assert cli.main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach or migrate the database" in err
    assert "hunter2" not in err and "acd:********@" in err
