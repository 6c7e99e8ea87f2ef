"""A call's wrap-up is found by the call: a small partial index of the ``wrap_up`` rows of
``agent_states`` by ``call_id``, for the call's timeline (``GET /api/calls/{id}/timeline``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_agent_states_wrap_up_call",
        "agent_states",
        ["call_id"],
        postgresql_where=sa.text("state = 'wrap_up'"),
        sqlite_where=sa.text("state = 'wrap_up'"),
    )


def downgrade() -> None:
    op.drop_index("ix_agent_states_wrap_up_call", table_name="agent_states")
