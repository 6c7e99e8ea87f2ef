"""For the call-record writer: every call event and agent state row carries the unique key
of the event it comes from, so replaying the writer's spool never stores anything twice; and
each agent's open state (``ended_at`` null, one row per agent) has a small partial index, so
closing it at the next change never scans the agent's history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("call_events", "agent_states")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("event_key", sa.String(length=40), nullable=True))
            batch.create_index(batch.f(f"ix_{table}_event_key"), ["event_key"], unique=True)
    op.create_index(
        "ix_agent_states_open",
        "agent_states",
        ["agent_id"],
        postgresql_where=sa.text("ended_at IS NULL"),
        sqlite_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_agent_states_open", table_name="agent_states")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_event_key"))
            batch.drop_column("event_key")
