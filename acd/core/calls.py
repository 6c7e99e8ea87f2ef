"""Calls as the router sees them: requirements, priority, arrival and where they are now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from acd.core.queues import check_level


class CallStatus(StrEnum):
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    WITHDRAWN = "withdrawn"  # taken out of the queue by the system (overflow, callback, ...)


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    skill: str
    min_level: int = 1

    def __post_init__(self) -> None:
        check_level(self.min_level, f"requirement {self.skill!r}")


def format_requirements(requirements: Iterable[SkillRequirement]) -> str:
    """``"operator:3,billing:2"``: how call events, channel variables (``ACD_SKILLS``) and
    stored rows carry a call's requirements."""
    return ",".join(f"{r.skill}:{r.min_level}" for r in requirements)


@dataclass(slots=True)
class Call:
    """Mutable router-side record of one call. Only the router changes it."""

    call_id: str
    queue_id: str
    requirements: tuple[SkillRequirement, ...]
    language: str
    priority: int
    arrived_at: float
    seq: int
    sort_key: tuple[int, int, float, int]
    status: CallStatus = CallStatus.WAITING
    agent_id: str | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    active_tiers: int = 1  # 1 = only the original requirement; k+1 once step k applies
    generation: int = 0
    missed_by: set[str] = field(default_factory=set)
    offers: int = 0
