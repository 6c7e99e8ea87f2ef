"""Commands the routing core asks the adapters to carry out (or to record)."""

from __future__ import annotations

from dataclasses import dataclass

from acd.core.agents import AgentState
from acd.core.calls import CallOutcome
from acd.core.explain import OfferExplanation


@dataclass(frozen=True, slots=True)
class Command:
    at: float


@dataclass(frozen=True, slots=True)
class RingAgent(Command):
    """Ring ``agent_id``'s phone for ``call_id`` while the caller keeps hearing music."""

    call_id: str
    agent_id: str
    deadline: float
    explanation: OfferExplanation | None


@dataclass(frozen=True, slots=True)
class StopRinging(Command):
    call_id: str
    agent_id: str
    reason: str  # "no_answer", "rejected", "caller_abandoned", "agent_logged_out", ...


@dataclass(frozen=True, slots=True)
class ConnectCall(Command):
    """The agent answered: bridge the caller to the agent and start recording."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged(Command):
    agent_id: str
    old: AgentState
    new: AgentState
    reason: str | None = None  # break reason, "missed_offers", ...


@dataclass(frozen=True, slots=True)
class CallRequeued(Command):
    """An offer failed; the call is back in its original place."""

    call_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallFinished(Command):
    call_id: str
    outcome: CallOutcome
    agent_id: str | None
    wait_seconds: float
    talk_seconds: float
