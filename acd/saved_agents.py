"""Agents and skills the admin saved in the database (``POST /api/admin/agents``), routed
again after a restart.

The router is built from the configuration file; the admin API changes the running router
and the ``agents`` / ``agent_skills`` / ``skills`` tables together. At start the daemon
applies the saved rows on top of the configuration, as the API did (a saved row of an agent
of the configuration file is the admin's change to it, and wins). If the database cannot be
read then, it tries again in the background until it can: the saved agents are routed as
soon as the database answers, and their log-in state comes back from the presence file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.callcenter import CallCenter
from acd.core.errors import RoutingError
from acd.http.live import apply_agent, saved_agent_rows
from acd.storage.models import Skill

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


async def load_saved_agents(
    center: CallCenter, sessions: async_sessionmaker[AsyncSession]
) -> list[str]:
    """Apply the saved skills and agents to the running router; the IDs of the agents that
    are routed now (an inactive agent, or one without a phone, is not)."""
    async with sessions() as session:
        skills = [row.id for row in (await session.execute(select(Skill))).scalars()]
        agents = await saved_agent_rows(session)
    router = center.router
    for skill in skills:
        if skill not in router.skills:
            router.add_skill(skill)
    routed = []
    for row, levels in agents:
        try:
            note = apply_agent(
                center,
                row.id,
                row.name or "",
                row.phone,
                [str(code) for code in row.languages or []],
                levels,
                row.active,
            )
        except RoutingError as exc:  # a row the API would not have saved (edited by hand)
            note = str(exc)
        if note:
            log.warning("saved agent %s is not routed: %s", row.id, note)
        elif row.id in router.agents:
            routed.append(row.id)
    if agents:
        log.info("%d saved agent(s) from the database, %d routed", len(agents), len(routed))
    return routed


async def keep_loading(
    center: CallCenter,
    sessions: async_sessionmaker[AsyncSession],
    loaded: Callable[[list[str]], None],
    retry_seconds: float = RETRY_SECONDS,
) -> None:
    """:func:`load_saved_agents` until it succeeds, then ``loaded(agent_ids)``."""
    while True:
        try:
            routed = await load_saved_agents(center, sessions)
        except Exception as exc:  # the database is down or not migrated yet
            log.warning(
                "saved agents not loaded (%s); trying again in %.0f s",
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                retry_seconds,
            )
            await asyncio.sleep(retry_seconds)
            continue
        loaded(routed)
        return
