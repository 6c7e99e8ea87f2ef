"""The daemon (``acd.app.App``) against the simulated PBX, over real TCP: AMI and FastAGI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from acd.app import App
from acd.call_events import MemorySink
from acd.config import (
    AmiSettings,
    DatabaseSettings,
    RecordingsSettings,
    ScenarioSettings,
    Settings,
)
from acd.routing_config import AgentSettings, QueueSettings, RoutingSettings
from acd.sim.pbx import SimulatedPBX
from acd.storage.db import make_engine
from acd.storage.models import Call as CallRecord
from acd.storage.writer import CallRecordWriter

AGENTS = {"a1": ("1001", 5), "a2": ("1002", 8), "a3": ("1003", 3)}


def make_settings(tmp_path: Path, pbx: SimulatedPBX, **queue: Any) -> Settings:
    queue_fields: dict[str, Any] = {
        "id": "hotline",
        "skills": {"operator": 1},
        "wrap_up_seconds": 0.3,
        "ring_timeout_seconds": 2.0,
        "max_misses": 2,
        "announce_every_seconds": 60.0,
    }
    queue_fields.update(queue)
    routing = RoutingSettings(
        skills=["operator"],
        queues=[QueueSettings(**queue_fields)],
        agents=[
            AgentSettings(
                id=agent_id,
                name=f"Agent {phone}",
                phone=phone,
                pin="1234",
                skills={"operator": level},
                auto_login=True,
            )
            for agent_id, (phone, level) in AGENTS.items()
        ],
        presence_file=tmp_path / "presence.json",
        journal_file=tmp_path / "calls.jsonl",
    )
    settings = Settings(
        ami=AmiSettings(
            host=pbx.ami_host,
            port=pbx.ami_port,
            connect_timeout=2.0,
            action_timeout=2.0,
            ping_interval=1.0,
        ),
        database=DatabaseSettings(
            url=f"sqlite+aiosqlite:///{tmp_path / 'acd.sqlite3'}",
            spool_directory=tmp_path / "db-spool",
        ),
        routing=routing,
        # Where the simulated PBX's MixMonitor writes (the dialplan's ACD_RECORDINGS, rerooted).
        recordings=RecordingsSettings(directory=recordings_directory(pbx)),
        # No scenario files: the built-in greeting (tests/e2e/test_scenarios.py has its own).
        scenarios=ScenarioSettings(directory=tmp_path / "scenarios", reload_interval=0),
    )
    # FastAGI and HTTP on ephemeral ports (the validator wants 1..65535; tests want 0).
    return settings.model_copy(
        update={
            "fastagi": settings.fastagi.model_copy(update={"port": 0}),
            "http": settings.http.model_copy(update={"port": 0}),
        }
    )


def recordings_directory(pbx: SimulatedPBX) -> Path:
    return pbx.spool_dir / "var/spool/asterisk/monitor/acd"


class Stack:
    """A simulated PBX and the daemon wired to it."""

    def __init__(self, tmp_path: Path, pbx: SimulatedPBX) -> None:
        self.tmp_path = tmp_path
        self.pbx = pbx
        self.sink = MemorySink()
        self.app: App | None = None

    async def start_app(self, **queue: Any) -> App:
        app = App(make_settings(self.tmp_path, self.pbx, **queue), sink=self.sink)
        await app.start()
        self.pbx.point_agi_at("127.0.0.1", app.fastagi.port)
        await app.ami.wait_connected(timeout=5)
        self.app = app
        return app

    async def stop_app(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    def events(self, call_id: str | None = None, kind: str | None = None) -> list[Any]:
        return [
            e
            for e in self.sink.events
            if (call_id is None or e.call_id == call_id) and (kind is None or e.kind == kind)
        ]

    async def wait_for(
        self, condition: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
    ) -> Any:
        return await eventually(condition, timeout, what)


async def eventually(
    condition: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
) -> Any:
    """Poll ``condition`` until it is truthy (returning it) or fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.005)


async def stored_calls(tmp_path: Path, events: list[Any]) -> dict[str, Any]:
    """The ``calls`` rows the call-record writer makes of ``events`` (a fresh SQLite)."""
    writer = CallRecordWriter(
        f"sqlite+aiosqlite:///{tmp_path / 'records.sqlite3'}", tmp_path / "records-spool"
    )
    await writer.start()
    try:
        for event in events:
            writer.emit(event)
        assert await writer.drain(10)
    finally:
        await writer.aclose()
    engine = make_engine(writer.url)
    try:
        async with engine.connect() as conn:
            return {row.id: row for row in await conn.execute(select(CallRecord))}
    finally:
        await engine.dispose()
