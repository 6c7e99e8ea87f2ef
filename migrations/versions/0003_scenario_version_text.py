"""``calls.scenario_version`` holds the version a call's scenario was served at as text
(``<declared version>+<12 hex digits of the file's hash>``, e.g. ``7+74952f896c0f``): the
integer column of 0001 could not hold it. Existing values (numbers) become their text.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.alter_column(
            "scenario_version",
            existing_type=sa.Integer(),
            type_=sa.String(length=64),
            existing_nullable=True,
            postgresql_using="scenario_version::text",
        )


def downgrade() -> None:
    """Back to an integer: a version that is not a plain number is lost (NULL)."""
    not_a_number = (
        "scenario_version !~ '^[0-9]{1,9}$'"
        if op.get_bind().dialect.name == "postgresql"
        else "(scenario_version GLOB '*[^0-9]*' OR length(scenario_version) > 9)"
    )
    op.execute(f"UPDATE calls SET scenario_version = NULL WHERE {not_a_number}")
    with op.batch_alter_table("calls") as batch:
        batch.alter_column(
            "scenario_version",
            existing_type=sa.String(length=64),
            type_=sa.Integer(),
            existing_nullable=True,
            postgresql_using="scenario_version::integer",
        )
