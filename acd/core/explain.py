"""Why an offer went to the agent it went to, and why the other agents of the skill group
did not get it. Recorded with each offer so QA and supervisors can audit routing.

An explanation is built at the moment of the offer and never changes afterwards. To keep a
decision cheap whatever the size of the skill group, it is bounded: the best
``Router.explain_candidates`` candidates in full (with their score components), every left-out
agent *counted* by reason, and up to ``Router.explain_sample`` left-out agents *named* per
reason. Small groups are therefore listed completely (:attr:`OfferExplanation.complete`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    """One offer: who got it, the best candidates, and why the others did not.

    * ``candidates`` - the chosen agent first, then the other free qualified agents best first;
      at most ``Router.explain_candidates`` of the ``candidate_count`` there were;
    * ``excluded_counts`` - every left-out agent of the skill group, counted by reason (only
      reasons that occurred; the counts add up to :attr:`excluded_total`);
    * ``excluded`` - a sample naming up to ``Router.explain_sample`` left-out agents per reason
      with the detail ("lunch", the other call's ID, "sales: has 2, needs 3"), ordered by
      reason, then agent ID.
    """

    call_id: str
    chosen_agent_id: str
    trigger: str  # "call_waiting" (a call looked for an agent) or "agent_free"
    candidates: tuple[Candidate, ...]
    excluded: tuple[Exclusion, ...]
    candidate_count: int
    excluded_counts: Mapping[ExclusionReason, int] = field(hash=False)

    @property
    def excluded_total(self) -> int:
        """How many agents of the skill group were left out, whatever the reason."""
        return sum(self.excluded_counts.values())

    @property
    def complete(self) -> bool:
        """Whether every candidate and every left-out agent is listed by name."""
        return (
            len(self.candidates) == self.candidate_count
            and len(self.excluded) == self.excluded_total
        )
