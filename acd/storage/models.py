"""The database schema (SQLAlchemy 2 declarative models), for SQLite and PostgreSQL alike.

Times are stored as UTC instants (``DateTime(timezone=True)``; SQLite keeps them as text in
UTC). Durations are seconds (float). Reports bucket by the business time zone.
Schema changes go through Alembic migrations in ``migrations/``: never edit a released
migration, add one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones, so UTC is stored there without an offset; a naive datetime is
    refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (e.g. UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: An integer primary key that autoincrements on SQLite too (BIGINT does not there).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SHORT_ABANDON = "short_abandon"
    OVERFLOW = "overflow"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    TRANSFERRED = "transferred"
    OUT_OF_HOURS = "out_of_hours"
    HOOLIGANISM = "hooliganism"  # the agent's disposition: an abusive call
    IVR_ENDED = "ivr_ended"  # the scenario ended the call (a message, no route), in hours
    IVR_ABANDONED = "ivr_abandoned"  # the caller hung up in the IVR, before any queue


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    QA = "qa"
    AGENT = "agent"


class Call(Base):
    """One call: its identity, its path and its timing. ``id`` is also the recording's ID."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller_number: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(200))
    dialled_number: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    scenario: Mapped[str | None] = mapped_column(String(100))
    scenario_version: Mapped[str | None] = mapped_column(String(64))  # "7+74952f896c0f"
    ivr_path: Mapped[list[Any] | None] = mapped_column(JSON)  # node IDs and digits, in order
    topic: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(1))  # A-E
    priority: Mapped[int] = mapped_column(Integer, default=0)
    queue_id: Mapped[str | None] = mapped_column(String(100))
    skills: Mapped[str | None] = mapped_column(String(400))  # "operator:3,billing:2"
    agent_id: Mapped[str | None] = mapped_column(String(64))
    ticket: Mapped[str | None] = mapped_column(String(100))
    previous_ticket: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)

    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ivr_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_offer_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    wrap_up_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    wait_seconds: Mapped[float | None] = mapped_column(Float)  # queue entry -> answer or end
    ring_seconds: Mapped[float | None] = mapped_column(Float)  # all offers rung
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    wrap_up_seconds: Mapped[float | None] = mapped_column(Float)
    handle_seconds: Mapped[float | None] = mapped_column(Float)  # talk + wrap-up
    outcome: Mapped[str | None] = mapped_column(String(20))  # an Outcome value
    announced_wait_seconds: Mapped[float | None] = mapped_column(Float)  # first estimate said
    end_known: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index(None, "arrived_at"),
        Index(None, "agent_id", "arrived_at"),
        Index(None, "caller_number", "arrived_at"),
        Index(None, "queue_id", "arrived_at"),
    )


class CallEventRow(Base):
    """The timeline of a call: IVR nodes and digits, prompts, offers with their
    explanation, connect, transfer, wrap-up. ``data`` is the event's own fields."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Unique per event the writer accepted (``<writer run>-<sequence>``): replaying the spool
    #: after a crash skips what was already written (acd.storage.writer).
    event_key: Mapped[str | None] = mapped_column(String(40), index=True, unique=True)


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))  # argon2
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)


class AgentShift(Base):
    """A login-to-logout span."""

    __tablename__ = "agent_shifts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    login_at: Mapped[datetime] = mapped_column(UtcDateTime())
    logout_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AgentStateLog(Base):
    """Every agent state with its start and end (break reason included)."""

    __tablename__ = "agent_states"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(100))
    call_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The key of the state-change event this row comes from (see CallEventRow.event_key).
    event_key: Mapped[str | None] = mapped_column(String(40), index=True, unique=True)

    __table_args__ = (
        Index(None, "agent_id", "started_at"),
        # Each agent's open state (one row per agent), which the next change closes.
        Index(
            "ix_agent_states_open",
            "agent_id",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        # A call's wrap-up, for its timeline.
        Index(
            "ix_agent_states_wrap_up_call",
            "call_id",
            postgresql_where=text("state = 'wrap_up'"),
            sqlite_where=text("state = 'wrap_up'"),
        ),
    )


class Callback(Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    number: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))
    queue_id: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # a time the caller chose
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What routes it, kept across a restart (NULL: the queue's default).
    skills: Mapped[str | None] = mapped_column(String(400))  # "operator:3,billing:2"
    priority: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))
    queued_since: Mapped[datetime | None] = mapped_column(UtcDateTime())  # its place
    caller_name: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(1))


class Voicemail(Base):
    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    number: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))
    left_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())  # handled within 24 h
    status: Mapped[str] = mapped_column(String(20), default="new")
    handled_by: Mapped[str | None] = mapped_column(String(64))
    skills: Mapped[str | None] = mapped_column(String(400))  # the caller's, for the callback
    language: Mapped[str | None] = mapped_column(String(8))


class ScenarioVersion(Base):
    __tablename__ = "scenario_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scenario: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    content: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("scenario", "version"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2
    role: Mapped[str] = mapped_column(String(20))  # a Role value
    agent_id: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiSession(Base):
    """A logged-in API session: the SHA-256 of its bearer token (never the token), its user
    and expiry; kept so that a restart of the daemon logs nobody out."""

    __tablename__ = "api_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Recording(Base):
    """The recording index: call ID -> file (relative to the recordings directory)."""

    __tablename__ = "recordings"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(500))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # by retention
