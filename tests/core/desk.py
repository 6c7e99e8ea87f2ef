"""A small driver for the routing core, shared by its tests."""

from __future__ import annotations

from collections.abc import Iterable

from acd.core.agents import AgentProfile
from acd.core.calls import SkillRequirement
from acd.core.commands import Command
from acd.core.events import AgentLoggedIn, CallArrived
from acd.core.queues import QueueConfig
from acd.core.router import Router

# 2026-11-23 10:00 Moscow (07:00 UTC), a Monday.
T0 = 1_795_849_200.0


class Desk:
    """A router with a clock that only moves forward, and short ways to drive it."""

    def __init__(self, **queue_options: object) -> None:
        self.router = Router("Europe/Moscow", skills=["sales", "support", "billing"], start=T0)
        self.router.add_queue(QueueConfig("main", **queue_options))  # type: ignore[arg-type]
        self.t = T0

    def agent(
        self,
        agent_id: str,
        skills: dict[str, int] | None = None,
        languages: Iterable[str] = ("ru",),
        login: bool = True,
    ) -> list[Command]:
        profile = AgentProfile(
            agent_id, agent_id.title(), skills or {"sales": 5}, frozenset(languages)
        )
        self.router.add_agent(profile)
        return self.send(AgentLoggedIn, agent_id) if login else []

    def send(self, event_type: type, *args: object, dt: float = 0.0, **kw: object) -> list[Command]:
        self.t += dt
        return self.router.handle(event_type(self.t, *args, **kw))

    def call(
        self,
        call_id: str,
        skill: str = "sales",
        level: int = 1,
        *,
        language: str = "ru",
        priority: int = 0,
        dt: float = 1.0,
        queue: str = "main",
        extra: tuple[SkillRequirement, ...] = (),
    ) -> list[Command]:
        reqs = (SkillRequirement(skill, level), *extra)
        return self.send(CallArrived, call_id, queue, reqs, language, priority, dt=dt)

    def state(self, agent_id: str) -> str:
        return self.router.agent(agent_id).state.value


def of(commands: Iterable[Command], kind: type) -> list:
    return [c for c in commands if isinstance(c, kind)]
