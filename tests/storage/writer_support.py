"""Helpers for the call-record writer tests: call timelines, a failing database, a TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.call_events import CallEvent
from acd.storage.db import make_engine
from acd.storage.models import AgentShift, AgentStateLog, Call, CallEventRow

T0 = 1_795_845_600.0  # 2026-11-23 09:00 Moscow


def agent_state(at: float, agent: str, old: str, new: str, **data: Any) -> CallEvent:
    return CallEvent("", at, "agent_state", {"agent_id": agent, "old": old, "new": new, **data})


def answered_call(call_id: str, agent: str, t0: float, *, talk: float = 60.0) -> list[CallEvent]:
    """The events the daemon emits for a call answered at once by ``agent``."""
    return [
        CallEvent(
            call_id,
            t0,
            "arrived",
            {"channel": f"PJSIP/trunk-{call_id}", "caller": "+79161234567", "dialled": "8800"},
        ),
        CallEvent(call_id, t0 + 0.5, "prompt", {"prompt": "acd/greeting"}),
        CallEvent(
            call_id,
            t0 + 1.0,
            "queued",
            {"queue": "hotline", "language": "ru", "priority": 0, "skills": "operator:1"},
        ),
        agent_state(t0 + 1.0, agent, "available", "ringing", call_id=call_id),
        CallEvent(call_id, t0 + 1.0, "offered", {"agent_id": agent, "candidates": [agent]}),
        agent_state(t0 + 4.0, agent, "ringing", "on_call", call_id=call_id),
        CallEvent(call_id, t0 + 4.0, "connected", {"agent_id": agent}),
        CallEvent(
            call_id,
            t0 + 4.0 + talk,
            "finished",
            {"outcome": "answered", "agent_id": agent, "wait_seconds": 4.0, "talk_seconds": talk},
        ),
        agent_state(t0 + 4.0 + talk, agent, "on_call", "wrap_up"),
        agent_state(t0 + 14.0 + talk, agent, "wrap_up", "available"),
    ]


@dataclass
class Stored:
    """What the database holds, for comparing."""

    events: list[tuple[str, str, str | None]]  # (call_id, kind, event_key)
    calls: dict[str, dict[str, Any]]
    states: list[dict[str, Any]]
    shifts: list[dict[str, Any]]


async def stored(url: str) -> Stored:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            events = (
                await conn.execute(
                    select(
                        CallEventRow.call_id, CallEventRow.kind, CallEventRow.event_key
                    ).order_by(CallEventRow.id)
                )
            ).all()
            calls = (await conn.execute(select(Call.__table__))).mappings().all()
            states = (
                (await conn.execute(select(AgentStateLog.__table__).order_by(AgentStateLog.id)))
                .mappings()
                .all()
            )
            shifts = (
                (await conn.execute(select(AgentShift.__table__).order_by(AgentShift.id)))
                .mappings()
                .all()
            )
    finally:
        await engine.dispose()
    return Stored(
        [tuple(e) for e in events],  # type: ignore[misc]
        {c["id"]: dict(c) for c in calls},
        [dict(s) for s in states],
        [dict(s) for s in shifts],
    )


def epoch(value: datetime | None) -> float | None:
    return None if value is None else round(value.timestamp(), 3)


class FaultyDatabase:
    """An engine factory whose engines fail every statement while ``down`` (as a database
    that stopped answering would), or the statements carrying ``refuse`` (a record the
    database will never take)."""

    def __init__(self) -> None:
        self.down = False
        self.refuse: str | None = None
        self.engines: list[AsyncEngine] = []

    def __call__(self, url: str) -> AsyncEngine:
        engine = make_engine(url)

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _fail(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if self.down:
                raise OperationalError(statement, parameters, ConnectionError("database down"))
            if self.refuse is not None and self.refuse in str(parameters):
                raise OperationalError(statement, parameters, ValueError("refused"))

        self.engines.append(engine)
        return engine


class TcpProxy:
    """A TCP relay to ``target`` that a test can cut (connections reset, new ones refused)
    and restore on the same port: a database server going away and coming back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._links):
            task.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)

    async def stop(self) -> None:
        await self.cut()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        tasks = [
            asyncio.ensure_future(pipe(reader, up_writer)),
            asyncio.ensure_future(pipe(up_reader, writer)),
        ]
        self._links.update(tasks)
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._links.difference_update(tasks)
            self._writers.difference_update((writer, up_writer))


async def eventually(
    condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
) -> Any:
    """Poll ``condition`` until it is truthy or fail after ``timeout`` (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.005)
    return value
