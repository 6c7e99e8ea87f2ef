"""Why an offer went to the agent it went to, and why every other agent of the skill group
did not get it. Recorded with each offer so QA and supervisors can audit routing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ExclusionReason(StrEnum):
    LOGGED_OUT = "logged_out"
    ON_BREAK = "on_break"
    WRAP_UP = "wrap_up"
    RINGING_ELSEWHERE = "ringing_elsewhere"
    ON_CALL = "on_call"
    BELOW_LEVEL = "below_level"
    WRONG_LANGUAGE = "wrong_language"
    MISSING_SKILL = "missing_skill"
    PHONE_UNREGISTERED = "phone_unregistered"
    PHONE_BUSY = "phone_busy"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A free, qualified agent and its score components, best first in the explanation.

    Ranking: agents that have not already missed this call first, then lower ``tier`` (0 =
    meets the original requirement, k = reached through relaxation step k), higher ``level``,
    less ``talk_today_seconds``, longer ``idle_seconds``.
    """

    agent_id: str
    missed_this_call: bool
    tier: int
    level: int
    talk_today_seconds: float
    idle_seconds: float


@dataclass(frozen=True, slots=True)
class Exclusion:
    agent_id: str
    reason: ExclusionReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OfferExplanation:
    call_id: str
    chosen_agent_id: str
    trigger: str  # "call_waiting" (a call looked for an agent) or "agent_free"
    candidates: tuple[Candidate, ...]
    excluded: tuple[Exclusion, ...]
