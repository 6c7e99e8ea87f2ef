"""Alembic environment for the acd database: SQLite (embedded) and PostgreSQL (asyncpg).

Run three ways:

* from the daemon and ``acd db upgrade`` (:mod:`acd.storage.migrate`): the caller opens the
  connection and passes it in ``config.attributes["connection"]``; nothing else is read;
* from the ``alembic`` command in a source checkout (``alembic.ini`` at the repository root),
  e.g. ``alembic revision --autogenerate -m "..."``: the URL is ``-x url=...``, else
  ``sqlalchemy.url``, else the acd settings (``$ACD_CONFIG``, ``ACD_DATABASE__URL``);
* offline (``alembic upgrade head --sql``) to print the SQL.

SQLite cannot alter most of a table in place, so migrations run in Alembic's batch mode there
(``render_as_batch``): a changed table is copied into a new one. Write every ``op`` that alters
a table as ``with op.batch_alter_table(...)``; on PostgreSQL that is a plain ALTER TABLE.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from acd.storage.models import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(kind: str, item: Any, autogen: AutogenContext) -> str | bool:
    """Autogenerate writes UtcDateTime as its plain column type: a migration must not import
    the models (they change; the migration must not)."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from acd.config import load_settings

    return load_settings().database.url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    from acd.storage.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_with_own_engine(_url()))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
