"""The initial schema: calls and their events, agents and skills, shifts and state log,
callbacks, voicemails, scenario versions, users, recordings.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    """An autoincrementing BIGINT key (INTEGER on SQLite, where only that autoincrements)."""
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _instant(name: str, *, nullable: bool = True) -> sa.Column[object]:
    """A UTC instant (acd.storage.models.UtcDateTime stores DateTime(timezone=True))."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=True),
        sa.Column("caller_name", sa.String(length=200), nullable=True),
        sa.Column("dialled_number", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("scenario", sa.String(length=100), nullable=True),
        sa.Column("scenario_version", sa.Integer(), nullable=True),
        sa.Column("ivr_path", sa.JSON(), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=1), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.String(length=100), nullable=True),
        sa.Column("skills", sa.String(length=400), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("ticket", sa.String(length=100), nullable=True),
        sa.Column("previous_ticket", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        _instant("arrived_at", nullable=False),
        _instant("ivr_ended_at"),
        _instant("queued_at"),
        _instant("first_offer_at"),
        _instant("answered_at"),
        _instant("ended_at"),
        _instant("wrap_up_ended_at"),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("ring_seconds", sa.Float(), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("wrap_up_seconds", sa.Float(), nullable=True),
        sa.Column("handle_seconds", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("announced_wait_seconds", sa.Float(), nullable=True),
        sa.Column("end_known", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_arrived_at"), "calls", ["arrived_at"])
    op.create_index(op.f("ix_calls_agent_id_arrived_at"), "calls", ["agent_id", "arrived_at"])
    op.create_index(
        op.f("ix_calls_caller_number_arrived_at"), "calls", ["caller_number", "arrived_at"]
    )
    op.create_index(op.f("ix_calls_queue_id_arrived_at"), "calls", ["queue_id", "arrived_at"])

    op.create_table(
        "call_events",
        _id(),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        _instant("at", nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
    )
    op.create_index(op.f("ix_call_events_call_id"), "call_events", ["call_id"])

    op.create_table(
        "skills",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skills")),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("phone", name=op.f("uq_agents_phone")),
    )
    op.create_table(
        "agent_skills",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("skill_id", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_skills_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skills.id"], name=op.f("fk_agent_skills_skill_id_skills")
        ),
        sa.PrimaryKeyConstraint("agent_id", "skill_id", name=op.f("pk_agent_skills")),
    )

    op.create_table(
        "agent_shifts",
        _id(),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        _instant("login_at", nullable=False),
        _instant("logout_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_shifts")),
    )
    op.create_index(op.f("ix_agent_shifts_agent_id"), "agent_shifts", ["agent_id"])

    op.create_table(
        "agent_states",
        _id(),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        _instant("started_at", nullable=False),
        _instant("ended_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_states")),
    )
    op.create_index(
        op.f("ix_agent_states_agent_id_started_at"), "agent_states", ["agent_id", "started_at"]
    )

    op.create_table(
        "callbacks",
        _id(),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("queue_id", sa.String(length=100), nullable=True),
        _instant("requested_at", nullable=False),
        _instant("due_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        _instant("done_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_call_id"), "callbacks", ["call_id"])

    op.create_table(
        "voicemails",
        _id(),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("path", sa.String(length=500), nullable=False),
        _instant("left_at", nullable=False),
        _instant("due_at", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("handled_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemails")),
    )
    op.create_index(op.f("ix_voicemails_call_id"), "voicemails", ["call_id"])

    op.create_table(
        "scenario_versions",
        _id(),
        sa.Column("scenario", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        _instant("created_at", nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_versions")),
        sa.UniqueConstraint(
            "scenario", "version", name=op.f("uq_scenario_versions_scenario_version")
        ),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "recordings",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        _instant("created_at", nullable=False),
        _instant("deleted_at"),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_recordings")),
    )


def downgrade() -> None:
    for table in (
        "recordings",
        "users",
        "scenario_versions",
        "voicemails",
        "callbacks",
        "agent_states",
        "agent_shifts",
        "agent_skills",
        "agents",
        "skills",
        "call_events",
        "calls",
    ):
        op.drop_table(table)  # their indexes go with them
