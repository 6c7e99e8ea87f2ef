"""Building the API for tests: call centre, database, users, client."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from acd.call_events import CallEvent, MemorySink
from acd.callcenter import CallCenter, CallInfo
from acd.config import Settings
from acd.core.calls import SkillRequirement
from acd.http import EventHub, HttpDeps, build_http_app
from acd.http.auth import hash_password
from acd.routing_config import AgentSettings, QueueSettings, RoutingSettings, build_router
from acd.storage.db import create_schema, make_engine, make_sessions
from acd.storage.models import User

#: Cheap argon2 parameters: tests log in often.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
START = 1_790_000_000.0  # 2026-09-21 ~ 17:33 Moscow
PASSWORDS = {
    "admin": "admin-secret",
    "sup": "supervisor-secret",
    "qa": "qa-secret",
    "agent1": "agent1-secret",
    "agent2": "agent2-secret",
}
ROLES = {"admin": "admin", "sup": "supervisor", "qa": "qa", "agent1": "agent", "agent2": "agent"}
AGENT_OF = {"agent1": "a1", "agent2": "a2"}


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeTelephony:
    """Rings nobody; remembers what it was asked."""

    def __init__(self) -> None:
        self.rung: list[tuple[str, str]] = []

    async def ring(self, call: CallInfo, agent: AgentSettings, timeout: float) -> None:
        self.rung.append((call.call_id, agent.id))

    async def stop_ringing(self, call: CallInfo, agent: AgentSettings) -> None:
        return None

    async def announce(self, call: CallInfo) -> None:
        return None


class Sink:
    """The call centre's sink in tests: keeps events, and feeds the hub."""

    def __init__(self, hub: EventHub) -> None:
        self.memory = MemorySink()
        self.hub = hub

    def emit(self, event: CallEvent) -> None:
        self.memory.emit(event)
        self.hub.emit(event)


def routing() -> RoutingSettings:
    return RoutingSettings(
        skills=["operator", "billing"],
        queues=[
            QueueSettings(id="hotline", skills={"operator": 1}, wrap_up_seconds=30.0),
            QueueSettings(id="billing", skills={"billing": 1}),
        ],
        agents=[
            AgentSettings(id="a1", name="Anna", phone="1001", skills={"operator": 3, "billing": 2}),
            AgentSettings(id="a2", name="Boris", phone="1002", skills={"operator": 1}),
        ],
    )


@dataclass
class Api:
    client: TestClient[Any, Any]
    app: web.Application
    center: CallCenter
    clock: FakeClock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    sink: Sink
    hub: EventHub
    settings: Settings
    recordings: Path
    tokens: dict[str, str] = field(default_factory=dict)

    async def login(self, username: str) -> dict[str, str]:
        """Bearer headers for ``username`` (logged in once, then cached)."""
        if username not in self.tokens:
            response = await self.client.post(
                "/api/login", json={"username": username, "password": PASSWORDS[username]}
            )
            assert response.status == 200, await response.text()
            self.tokens[username] = (await response.json())["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def agent_login(self, username: str) -> dict[str, str]:
        agent_id = AGENT_OF[username]
        response = await self.client.post(
            "/api/agent/login", json={"agent_id": agent_id, "password": PASSWORDS[username]}
        )
        assert response.status == 200, await response.text()
        self.tokens[username] = (await response.json())["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def queue_call(
        self, call_id: str, caller: str = "+79161234567", topic: str | None = "registration"
    ) -> CallInfo:
        info = CallInfo(
            call_id=call_id,
            channel=f"PJSIP/trunk-{call_id}",
            queue_id="hotline",
            language="ru",
            priority=0,
            requirements=(SkillRequirement("operator", 1),),
            arrived_at=self.clock() - 20.0,
            caller_number=caller,
            scenario="hotline" if topic else None,
            scenario_version="3+abc",
            topic=topic,
            ivr_path=("welcome", "1", "menu", "2"),
        )
        self.center.queue_call(info)
        return info

    def answer(self, call_id: str, agent_id: str) -> None:
        assert self.center.offer_accepted(call_id, agent_id)
        self.center.entered_bridge(call_id, caller=True)
        self.center.entered_bridge(call_id, caller=False)

    async def close(self) -> None:
        await self.client.close()
        await self.engine.dispose()


async def make_api(
    url: str,
    tmp_path: Path,
    hasher: PasswordHasher,
    prepare_database: bool = True,
    **overrides: Any,
) -> Api:
    clock = FakeClock()
    settings = Settings(
        routing=routing(),
        scenarios={"directory": tmp_path / "scenarios"},  # type: ignore[arg-type]
        recordings={"directory": tmp_path / "recordings"},  # type: ignore[arg-type]
    )
    (tmp_path / "recordings").mkdir(exist_ok=True)
    hub = EventHub()
    sink = Sink(hub)
    router = build_router(settings.routing, settings.business.time_zone, start=clock())
    center = CallCenter(router, settings.routing, sink, clock=clock)
    center.telephony = FakeTelephony()
    engine = make_engine(url)
    sessions = make_sessions(engine)
    if prepare_database:
        await create_schema(engine)
        async with sessions() as session, session.begin():
            for username, password in PASSWORDS.items():
                session.add(
                    User(
                        username=username,
                        password_hash=hash_password(password, hasher),
                        role=ROLES[username],
                        agent_id=AGENT_OF.get(username),
                        active=True,
                    )
                )
    options: dict[str, Any] = {
        "center": center,
        "sessions": sessions,
        "settings": settings,
        "clock": clock,
        "recordings_dir": tmp_path / "recordings",
        "ami_connected": lambda: True,
        "fastagi_serving": lambda: True,
        "events": hub,
        "password_hasher": hasher,
        "push_interval": 3600.0,
    }
    options.update(overrides)
    app = build_http_app(HttpDeps(**options))
    client = TestClient(TestServer(app))
    await client.start_server()
    return Api(
        client, app, center, clock, engine, sessions, sink, hub, settings, tmp_path / "recordings"
    )
