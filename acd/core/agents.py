"""Agents and their state machine.

The legal moves are one table (:data:`TRANSITIONS`); anything else raises
:class:`~acd.core.errors.IllegalTransition` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from acd.core.errors import IllegalTransition, InvalidValue
from acd.core.queues import check_level


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class AgentAction(StrEnum):
    LOGIN = "log in"
    LOGOUT = "log out"
    OFFER = "be offered a call"
    ANSWER = "answer"
    MISS = "miss an offer"
    WITHDRAW_OFFER = "have an offer withdrawn"
    HANG_UP = "end a call"
    END_WRAP_UP = "end wrap-up"
    TAKE_BREAK = "take a break"
    READY = "become ready"
    RESUME_CALL = "resume a call it was talking on"


S = AgentState
A = AgentAction

#: (state, action) -> next state. The single source of truth for legal moves.
TRANSITIONS: Mapping[tuple[AgentState, AgentAction], AgentState] = {
    (S.LOGGED_OUT, A.LOGIN): S.AVAILABLE,
    (S.AVAILABLE, A.OFFER): S.RINGING,
    (S.AVAILABLE, A.TAKE_BREAK): S.BREAK,
    (S.AVAILABLE, A.LOGOUT): S.LOGGED_OUT,
    (S.AVAILABLE, A.RESUME_CALL): S.ON_CALL,  # after a restart of the daemon
    (S.RINGING, A.ANSWER): S.ON_CALL,
    (S.RINGING, A.MISS): S.AVAILABLE,
    (S.RINGING, A.WITHDRAW_OFFER): S.AVAILABLE,
    (S.ON_CALL, A.HANG_UP): S.WRAP_UP,
    (S.WRAP_UP, A.END_WRAP_UP): S.AVAILABLE,
    (S.BREAK, A.READY): S.AVAILABLE,
    (S.BREAK, A.TAKE_BREAK): S.BREAK,  # change of reason
    (S.BREAK, A.LOGOUT): S.LOGGED_OUT,
}

#: Where an agent in a call-related state may park a request until the call work is done.
DEFERRABLE_STATES = frozenset({S.RINGING, S.ON_CALL, S.WRAP_UP})


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """What an admin configures about an agent."""

    agent_id: str
    name: str
    skills: Mapping[str, int]
    languages: frozenset[str] = frozenset({"ru"})
    pin_hash: str | None = None

    def __post_init__(self) -> None:
        if not self.agent_id:
            raise InvalidValue("agent_id must not be empty")
        for skill, level in self.skills.items():
            check_level(level, f"agent {self.agent_id!r} skill {skill!r}")
        if not self.languages:
            raise InvalidValue(f"agent {self.agent_id!r} must speak at least one language")


@dataclass(slots=True)
class Agent:
    """Router-side mutable record of one agent. Only the router changes it."""

    profile: AgentProfile
    state: AgentState = AgentState.LOGGED_OUT
    state_since: float = 0.0
    break_reason: str | None = None
    call_id: str | None = None
    deadline: float | None = None  # end of ringing or wrap-up
    pending_break: str | None = None  # applied when the current call's wrap-up ends
    pending_logout: bool = False
    consecutive_misses: int = 0
    talk_day: int = 0
    talk_seconds: float = 0.0  # talk time on local day ``talk_day``
    phone_registered: bool = True
    phone_busy: bool = False
    available_since: float = 0.0
    state_seq: int = 0  # bumps on every change that can invalidate an index entry
    work_started: float | None = None  # answer time of the call being talked or wrapped up
    work_queue: str | None = None

    @property
    def agent_id(self) -> str:
        return self.profile.agent_id

    def next_state(self, action: AgentAction) -> AgentState:
        """The state ``action`` leads to, or :class:`IllegalTransition`; changes nothing."""
        try:
            return TRANSITIONS[(self.state, action)]
        except KeyError:
            raise IllegalTransition(
                f"agent {self.agent_id!r}", self.state.value, action.value
            ) from None

    def talk_today(self, day: int) -> float:
        return self.talk_seconds if self.talk_day == day else 0.0

    @property
    def offerable(self) -> bool:
        return self.state is AgentState.AVAILABLE and self.phone_registered and not self.phone_busy
