"""Pending callbacks and voicemail tasks keep what routes them across a restart: the skills
the caller needs, the language, the priority, the place in the queue (the original call's
arrival) and what the screen pop shows (name, topic, category). Before, a restored callback
got its queue's defaults.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("skills", sa.String(length=400), nullable=True))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("queued_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("caller_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("topic", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("category", sa.String(length=1), nullable=True))
    with op.batch_alter_table("voicemails") as batch:
        batch.add_column(sa.Column("skills", sa.String(length=400), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voicemails") as batch:
        batch.drop_column("language")
        batch.drop_column("skills")
    with op.batch_alter_table("callbacks") as batch:
        for column in (
            "category",
            "topic",
            "caller_name",
            "queued_since",
            "language",
            "priority",
            "skills",
        ):
            batch.drop_column(column)
