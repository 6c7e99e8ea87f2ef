"""Agents the admin saved in the database are routed again after a restart, with their log-in
state; and as soon as the database answers when it did not at start."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from e2e_stack import Stack, eventually

from acd.call_events import MemorySink
from acd.callcenter import CallCenter
from acd.core.agents import AgentState
from acd.routing_config import AgentSettings, QueueSettings, RoutingSettings, build_router
from acd.saved_agents import keep_loading, load_saved_agents
from acd.storage.db import make_engine, make_sessions
from acd.storage.migrate import upgrade
from acd.storage.models import Agent, AgentSkill, Skill


async def test_agents_saved_by_the_admin_are_routed_after_a_restart(stack: Stack) -> None:
    app = await stack.start_app()
    stack.pbx.add_phone("1004")
    async with app.db_sessions() as session, session.begin():
        session.add_all(
            [Skill(id="billing", name="Billing"), Skill(id="legal", name=""), Skill(id="operator")]
        )
        session.add(Agent(id="a9", name="New agent", phone="1004", languages=["ru", "kk"]))
        session.add(Agent(id="a3", name="Changed", phone="1003", languages=["ru"]))
        session.add(Agent(id="off", name="Inactive", phone="1005", active=False))
    async with app.db_sessions() as session, session.begin():
        session.add(AgentSkill(agent_id="a9", skill_id="billing", level=4))
        session.add(AgentSkill(agent_id="a3", skill_id="operator", level=9))
    # What POST /api/admin/agents did to the running router, then the agent logs in.
    assert sorted(await load_saved_agents(app.center, app.db_sessions)) == ["a3", "a9"]
    app.center.agent_command("a9", "login")
    app.center.agent_command("a9", "break", "training")
    await stack.stop_app()

    app = await stack.start_app()
    router = app.center.router
    assert {"billing", "legal"} <= set(router.skills)
    a9 = router.agent("a9")
    assert dict(a9.profile.skills) == {"billing": 4}
    assert a9.profile.languages == frozenset({"ru", "kk"})
    assert (a9.state, a9.break_reason) == (AgentState.BREAK, "training")
    assert app.center.agents_by_phone["1004"].id == "a9"
    assert dict(router.agent("a3").profile.skills) == {"operator": 9}
    assert router.agent("a3").state is AgentState.AVAILABLE  # auto_login, as configured
    assert "off" not in router.agents


async def test_saved_agents_are_loaded_once_the_database_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At start the database has no schema yet (or is down): the loader keeps trying, and
    routes the saved agents as soon as it can, logging them back in."""
    routing = RoutingSettings(
        skills=["operator"],
        queues=[QueueSettings(id="hotline", skills={"operator": 1})],
        agents=[AgentSettings(id="a1", phone="1001", skills={"operator": 1})],
        default_queue="hotline",
    )
    router = build_router(routing, "Europe/Moscow", start=time.time())
    center = CallCenter(router, routing, MemorySink())
    # The database is not there at start: its directory appears, whole, later.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db' / 'acd.sqlite3'}")
    sessions = make_sessions(engine)
    ready = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'ready' / 'acd.sqlite3'}")
    loaded: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

    def done(agent_ids: list[str]) -> None:
        loaded.set_result(agent_ids)
        center.restore_presence(only=agent_ids)

    task = asyncio.get_running_loop().create_task(
        keep_loading(center, sessions, done, retry_seconds=0.01)
    )
    try:
        with caplog.at_level(logging.WARNING, logger="acd.saved_agents"):
            await eventually(  # no database: it fails, and says it will try again
                lambda: "saved agents not loaded" in caplog.text, what="a failed attempt"
            )
        assert not loaded.done() and "a9" not in center.router.agents
        (tmp_path / "ready").mkdir()
        await upgrade(ready)
        async with make_sessions(ready)() as session, session.begin():
            session.add(Skill(id="operator", name=""))
            session.add(Agent(id="a9", name="Late", phone="1009", languages=["ru"]))
        async with make_sessions(ready)() as session, session.begin():
            session.add(AgentSkill(agent_id="a9", skill_id="operator", level=2))
        await ready.dispose()
        (tmp_path / "ready").rename(tmp_path / "db")
        assert await asyncio.wait_for(loaded, 10) == ["a9"]
        assert dict(center.router.agent("a9").profile.skills) == {"operator": 2}
        assert center.router.agent("a9").state is AgentState.LOGGED_OUT  # no saved presence
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await center.aclose()
        await engine.dispose()
        await ready.dispose()
