"""Named errors of the routing core.

Every error is raised *before* anything is changed, so a caller that catches one can rely on
the core being exactly as it was.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of every error the routing core raises."""


class UnknownAgent(RoutingError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent {agent_id!r}")
        self.agent_id = agent_id


class UnknownQueue(RoutingError):
    def __init__(self, queue_id: str) -> None:
        super().__init__(f"unknown queue {queue_id!r}")
        self.queue_id = queue_id


class UnknownSkill(RoutingError):
    def __init__(self, skill: str) -> None:
        super().__init__(f"unknown skill {skill!r}")
        self.skill = skill


class UnknownCall(RoutingError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"unknown call {call_id!r}")
        self.call_id = call_id


class DuplicateId(RoutingError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} already exists")
        self.kind = kind
        self.ident = ident


class IllegalTransition(RoutingError):
    """An agent or call was asked to do something its current state does not allow."""

    def __init__(self, subject: str, state: str, action: str) -> None:
        super().__init__(f"{subject}: cannot {action} while {state}")
        self.subject = subject
        self.state = state
        self.action = action


class TimeWentBackwards(RoutingError):
    def __init__(self, now: float, last: float) -> None:
        super().__init__(f"time went backwards: {now!r} is before {last!r}")
        self.now = now
        self.last = last


class InvalidValue(RoutingError):
    """A value outside its allowed range (negative time, skill level 0, ...)."""
