"""Skills, queues and agents read from the configuration file (``routing:`` section).

Until agents and skills are kept in the database, ``acd serve`` and ``acd demo`` read them
from here. :func:`build_router` turns the section into a ready :class:`Router`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from acd.core.agents import AgentProfile
from acd.core.calls import SkillRequirement
from acd.core.queues import QueueConfig, RelaxationStep
from acd.core.router import Router

Level = Annotated[int, Field(ge=1, le=10, strict=True)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RelaxationSettings(_Section):
    after_seconds: PositiveSeconds
    min_level: Level
    skill: Name | None = None


class QueueSettings(_Section):
    id: Name
    skills: dict[Name, Level] = Field(min_length=1)
    language: str | None = None  # None: the call's language (from the IVR or the default)
    priority: int = 0
    numbers: list[str] = Field(default_factory=list)  # dialled numbers routed to this queue
    wrap_up_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 10.0
    ring_timeout_seconds: PositiveSeconds = 15.0
    max_misses: Annotated[int, Field(ge=1)] = 3
    service_level_seconds: PositiveSeconds = 20.0
    # a caller who hangs up within this many seconds of queueing is a short abandon
    short_abandon_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 5.0
    weight: int = 0
    announce_every_seconds: PositiveSeconds = 45.0
    relaxation: list[RelaxationSettings] = Field(default_factory=list)

    def requirements(self) -> tuple[SkillRequirement, ...]:
        return tuple(SkillRequirement(skill, level) for skill, level in self.skills.items())

    def to_core(self) -> QueueConfig:
        return QueueConfig(
            self.id,
            wrap_up_seconds=self.wrap_up_seconds,
            ring_timeout_seconds=self.ring_timeout_seconds,
            max_misses=self.max_misses,
            service_level_seconds=self.service_level_seconds,
            weight=self.weight,
            relaxation=tuple(
                RelaxationStep(r.after_seconds, r.min_level, r.skill) for r in self.relaxation
            ),
        )


class AgentSettings(_Section):
    id: Name
    name: str = ""
    phone: Name  # the PJSIP endpoint of the agent's phone, e.g. "1001"
    pin: SecretStr | None = None
    skills: dict[Name, Level] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["ru"], min_length=1)
    auto_login: bool = False  # logged in when the daemon starts (demo, tests)

    def to_core(self) -> AgentProfile:
        return AgentProfile(
            self.id, self.name or self.id, dict(self.skills), frozenset(self.languages)
        )


def _default_queues() -> list[QueueSettings]:
    return [QueueSettings(id="hotline", skills={"operator": 1})]


class RoutingSettings(_Section):
    skills: list[Name] = Field(default_factory=lambda: ["operator"])
    queues: list[QueueSettings] = Field(default_factory=_default_queues, min_length=1)
    agents: list[AgentSettings] = Field(default_factory=list)
    default_queue: Name = "hotline"
    presence_file: Path = Path("./acd-presence.json")  # agents' presence across restarts
    journal_file: Path = Path("./acd-calls.jsonl")  # call events, for restarts and records

    @model_validator(mode="after")
    def _references_exist(self) -> RoutingSettings:
        problems: list[str] = []
        known = set(self.skills)
        seen: dict[str, set[str]] = {"queue": set(), "agent": set(), "phone": set()}

        def unique(kind: str, value: str) -> None:
            if value in seen[kind]:
                problems.append(f"{kind} '{value}' is defined twice")
            seen[kind].add(value)

        for queue in self.queues:
            unique("queue", queue.id)
            for skill in [*queue.skills, *(r.skill for r in queue.relaxation if r.skill)]:
                if skill not in known:
                    problems.append(f"queue '{queue.id}' uses unknown skill '{skill}'")
        for agent in self.agents:
            unique("agent", agent.id)
            unique("phone", agent.phone)
            for skill in agent.skills:
                if skill not in known:
                    problems.append(f"agent '{agent.id}' has unknown skill '{skill}'")
        if self.default_queue not in seen["queue"]:
            problems.append(f"default_queue '{self.default_queue}' is not one of the queues")
        if problems:
            raise ValueError("; ".join(problems) + f" (known skills: {', '.join(self.skills)})")
        return self

    def queue_for_number(self, dialled: str | None) -> QueueSettings:
        for queue in self.queues:
            if dialled and dialled in queue.numbers:
                return queue
        return next(q for q in self.queues if q.id == self.default_queue)

    def agent_by_phone(self, endpoint: str) -> AgentSettings | None:
        return next((a for a in self.agents if a.phone == endpoint), None)


def build_router(routing: RoutingSettings, time_zone: str, *, start: float) -> Router:
    router = Router(time_zone, skills=routing.skills, start=start)
    for queue in routing.queues:
        router.add_queue(queue.to_core())
    for agent in routing.agents:
        router.add_agent(agent.to_core())
    return router


def describe(routing: RoutingSettings) -> dict[str, Any]:
    return {
        "skills": routing.skills,
        "queues": [q.id for q in routing.queues],
        "agents": [a.id for a in routing.agents],
    }
