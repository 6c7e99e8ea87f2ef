"""Send one :class:`~acd.storage.call_rows.Batch` to the database, inside the caller's
transaction.

PostgreSQL gets one set-based statement per table and kind of change: the batch's rows go as
one JSON array of arrays (``json.dumps``, in C) and ``jsonb_array_elements`` turns them back
into rows (``INSERT ... SELECT``, ``UPDATE ... FROM``). That is one round trip and one plan
per table, however many rows: tens of thousands of rows a second, where a statement per row
manages a few thousand. (asyncpg's array parameters cost several times the client CPU of the
JSON; ``json`` rather than ``jsonb`` re-parses a row for every field taken from it.) Times
travel as epoch seconds and become ``timestamptz`` with ``to_timestamp`` (microseconds, as
Python's ``fromtimestamp``).

Any other database (SQLite) gets the same statements as SQLAlchemy Core executemany.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import JSON, bindparam, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.storage.call_rows import INSTANTS, STORED, STORED_VALUES, Batch, instant
from acd.storage.db import json_dumps
from acd.storage.models import AgentShift, AgentStateLog, Call, CallEventRow

CALLS = Call.__table__
EVENTS = CallEventRow.__table__
STATES = AgentStateLog.__table__
SHIFTS = AgentShift.__table__


async def write_batch(conn: AsyncConnection, batch: Batch) -> None:
    if conn.dialect.name == "postgresql":
        await _postgresql(conn, batch)
    else:
        await _generic(conn, batch)


# --------------------------------------------------------------------------- any database


async def _generic(conn: AsyncConnection, batch: Batch) -> None:
    if batch.events:
        await conn.execute(
            insert(EVENTS),
            [
                {"call_id": c, "at": instant(at), "kind": k, "data": d, "event_key": key}
                for c, at, k, d, key in batch.events
            ],
        )
    new = [row.values() for row in batch.calls.values() if not row.in_db]
    if new:
        await conn.execute(insert(CALLS), new)
    changed = []
    for row in batch.calls.values():
        if row.in_db:
            values = row.values()
            values["b_id"] = values.pop("id")
            changed.append(values)
    if changed:
        await conn.execute(update(CALLS).where(CALLS.c.id == bindparam("b_id")), changed)

    if batch.state_closes:
        await conn.execute(
            update(STATES)
            .where(STATES.c.agent_id == bindparam("b_agent"), STATES.c.ended_at.is_(None))
            .values(ended_at=bindparam("b_at")),
            [{"b_agent": a, "b_at": instant(at)} for a, at in batch.state_closes],
        )
    if batch.states:
        await conn.execute(
            insert(STATES),
            [
                {
                    "agent_id": s.agent_id,
                    "state": s.state,
                    "reason": s.reason,
                    "call_id": s.call_id,
                    "started_at": instant(s.started_at),
                    "ended_at": None if s.ended_at is None else instant(s.ended_at),
                    "event_key": s.event_key,
                }
                for s in batch.states
            ],
        )
    await _shifts(conn, batch)


async def _shifts(conn: AsyncConnection, batch: Batch) -> None:
    """Log-ins and log-outs: a few a day per agent, the same statements everywhere."""
    if batch.shift_closes:
        await conn.execute(
            update(SHIFTS)
            .where(SHIFTS.c.agent_id == bindparam("b_agent"), SHIFTS.c.logout_at.is_(None))
            .values(logout_at=bindparam("b_at")),
            [{"b_agent": a, "b_at": instant(at)} for a, at in batch.shift_closes],
        )
    if batch.shifts:
        await conn.execute(
            insert(SHIFTS),
            [
                {
                    "agent_id": s.agent_id,
                    "login_at": instant(s.login_at),
                    "logout_at": None if s.logout_at is None else instant(s.logout_at),
                }
                for s in batch.shifts
            ],
        )


# --------------------------------------------------------------------------- PostgreSQL


def _sql_type(name: str) -> str:
    if name in INSTANTS:
        return "instant"
    if isinstance(CALLS.c[name].type, JSON):
        return "json"
    python = CALLS.c[name].type.python_type
    return {bool: "boolean", int: "int4", float: "float8"}.get(python, "text")


def _field(index: int, kind: str) -> str:
    """Field ``index`` of a JSON array row ``e`` as SQL of type ``kind``."""
    if kind == "json":
        return f"CAST(e->{index} AS json)"
    if kind == "text":
        return f"e->>{index}"
    if kind == "instant":
        return f"to_timestamp(CAST(e->>{index} AS float8))"
    return f"CAST(e->>{index} AS {kind})"


def _rows(columns: Sequence[tuple[str, str]]) -> str:
    """``SELECT <field> AS "name", ... FROM json_array_elements(:rows) AS e``."""
    fields = ", ".join(f'{_field(i, kind)} AS "{name}"' for i, (name, kind) in enumerate(columns))
    return f"SELECT {fields} FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS e"


def _insert(table: str, columns: Sequence[tuple[str, str]]) -> Any:
    names = ", ".join(f'"{name}"' for name, _ in columns)
    return text(f"INSERT INTO {table} ({names}) {_rows(columns)}")


_CALL_COLUMNS = [(name, _sql_type(name)) for name in STORED]
_INSERT_CALLS = _insert("calls", _CALL_COLUMNS)
_UPDATE_CALLS = text(
    "UPDATE calls AS t SET "
    + ", ".join(f'"{name}" = v."{name}"' for name in STORED if name != "id")
    + f' FROM ({_rows(_CALL_COLUMNS)}) AS v WHERE t."id" = v."id"'
)
_INSERT_EVENTS = _insert(
    "call_events",
    [
        ("call_id", "text"),
        ("at", "instant"),
        ("kind", "text"),
        ("data", "json"),
        ("event_key", "text"),
    ],
)
_STATE_FIELDS = ("agent_id", "state", "reason", "call_id", "started_at", "ended_at", "event_key")
_STATE_VALUES = attrgetter(*_STATE_FIELDS)
_INSERT_STATES = _insert(
    "agent_states",
    [(name, "instant" if name.endswith("_at") else "text") for name in _STATE_FIELDS],
)
# The open rows are found through the partial index ix_agent_states_open (ended_at null).
_CLOSE_STATES = text(
    'UPDATE agent_states AS s SET "ended_at" = v."at" '
    f"FROM ({_rows([('agent', 'text'), ('at', 'instant')])}) AS v "
    'WHERE s."agent_id" = v."agent" AND s."ended_at" IS NULL'
)


#: Rows encoded between two yields to the event loop (about a millisecond of work).
SLICE = 500


async def _json_rows(rows: Sequence[Any]) -> dict[str, str]:
    """``{"rows": <JSON array>}``, encoded a slice at a time so that calls are routed
    meanwhile (a big batch would otherwise hold the event loop for milliseconds)."""
    if len(rows) <= SLICE:
        return {"rows": json_dumps(rows)}
    parts = []
    for start in range(0, len(rows), SLICE):
        parts.append(json_dumps(rows[start : start + SLICE])[1:-1])
        await asyncio.sleep(0)
    return {"rows": "[" + ",".join(parts) + "]"}


async def _postgresql(conn: AsyncConnection, batch: Batch) -> None:
    """Each statement gets its rows as one JSON array of arrays: ``json.dumps`` (in C)
    here, ``jsonb_array_elements`` there."""
    if batch.events:
        await conn.execute(_INSERT_EVENTS, await _json_rows(batch.events))
    new = [STORED_VALUES(row) for row in batch.calls.values() if not row.in_db]
    if new:
        await conn.execute(_INSERT_CALLS, await _json_rows(new))
    changed = [STORED_VALUES(row) for row in batch.calls.values() if row.in_db]
    if changed:
        await conn.execute(_UPDATE_CALLS, await _json_rows(changed))
    if batch.state_closes:
        await conn.execute(_CLOSE_STATES, await _json_rows(batch.state_closes))
    if batch.states:
        rows = [_STATE_VALUES(state) for state in batch.states]
        await conn.execute(_INSERT_STATES, await _json_rows(rows))
    await _shifts(conn, batch)
