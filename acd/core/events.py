"""Events the routing core accepts. Every event carries ``at``: seconds since the epoch."""

from __future__ import annotations

from dataclasses import dataclass

from acd.core.calls import SkillRequirement


@dataclass(frozen=True, slots=True)
class Event:
    at: float


@dataclass(frozen=True, slots=True)
class Tick(Event):
    """Time passed: ends ringing and wrap-up at their deadlines, applies relaxation steps."""


@dataclass(frozen=True, slots=True)
class AgentLoggedIn(Event):
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentLoggedOut(Event):
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentReady(Event):
    """Back from a break, or done with wrap-up early; also cancels a pending break/logout."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentBreak(Event):
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class WrapUpDone(Event):
    agent_id: str


@dataclass(frozen=True, slots=True)
class PhoneStatusChanged(Event):
    """The agent's phone (un)registered, or became busy/idle on a call that is not ours."""

    agent_id: str
    registered: bool | None = None
    busy: bool | None = None


@dataclass(frozen=True, slots=True)
class CallArrived(Event):
    """A call enters the queue. ``arrived_at`` (default: ``at``) is when the caller really
    arrived: a daemon rebuilding its picture after a restart passes the original time so the
    caller keeps their place."""

    call_id: str
    queue_id: str
    requirements: tuple[SkillRequirement, ...]
    language: str = "ru"
    priority: int = 0
    arrived_at: float | None = None


@dataclass(frozen=True, slots=True)
class CallResumed(Event):
    """A call that was already connected to ``agent_id`` when the daemon (re)started: the
    router takes it over as connected (the agent on call), so that its end is a normal
    :class:`CallEnded` (talk time, wrap-up). The agent must be available."""

    call_id: str
    queue_id: str
    requirements: tuple[SkillRequirement, ...]
    agent_id: str
    arrived_at: float
    answered_at: float
    language: str = "ru"
    priority: int = 0


@dataclass(frozen=True, slots=True)
class CallAbandoned(Event):
    """The caller hung up before being connected (waiting or while an agent was rung)."""

    call_id: str


@dataclass(frozen=True, slots=True)
class CallWithdrawn(Event):
    """The system took the call out of the queue (overflow, callback, voicemail, transfer)."""

    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OfferAnswered(Event):
    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OfferRejected(Event):
    """The agent's phone declined or failed the offer: counts as a miss, like no answer."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class CallEnded(Event):
    """A connected call hung up."""

    call_id: str
