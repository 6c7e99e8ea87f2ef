"""What the call centre looks like now (queues, agents, today's service level), and the
admin's changes to agents and skills applied to the running router."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acd.callcenter import CallCenter
from acd.core.agents import AgentProfile, AgentState
from acd.core.calls import CallStatus
from acd.core.errors import RoutingError
from acd.core.ewt import WaitEstimate
from acd.http.models import (
    AgentsResponse,
    AgentStateView,
    Estimate,
    LiveCall,
    QueuesResponse,
    QueueView,
    ServiceLevelResponse,
    ServiceLevelView,
)
from acd.routing_config import AgentSettings
from acd.storage.models import Agent, AgentSkill
from acd.storage.reports import (
    DEFAULT_SHORT_ABANDON_SECONDS,
    DEFAULT_THRESHOLD_SECONDS,
    Bucket,
    Period,
    StatsOptions,
    call_statistics,
    time_zone,
)

log = logging.getLogger(__name__)


def instant(at: float) -> datetime:
    return datetime.fromtimestamp(at if math.isfinite(at) else 0.0, UTC)


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def agent_view(center: CallCenter, agent_id: str, now: float) -> AgentStateView:
    agent = center.router.agent(agent_id)
    return AgentStateView(
        agent_id=agent_id,
        name=agent.profile.name,
        state=agent.state.value,
        since=instant(agent.state_since),
        seconds_in_state=round(max(0.0, now - agent.state_since), 3),
        reason=agent.break_reason,
        call_id=agent.call_id,
        pending_break=agent.pending_break,
        pending_logout=agent.pending_logout,
        talk_today_seconds=round(center.router.talk_today(agent_id), 3),
        phone_registered=agent.phone_registered,
        transfer_skills=sorted(center.router.skills),
    )


def agents_view(center: CallCenter, now: float) -> AgentsResponse:
    agents = [agent_view(center, agent_id, now) for agent_id in sorted(center.router.agents)]
    by_state = dict.fromkeys((s.value for s in AgentState), 0)
    for agent in agents:
        by_state[agent.state] += 1
    return AgentsResponse(at=instant(now), by_state=by_state, agents=agents)


def _estimate(estimate: WaitEstimate | None) -> Estimate | None:
    if estimate is None:
        return None
    return Estimate(
        position=estimate.position,
        eligible_agents=estimate.eligible_agents,
        mean_seconds=_finite(estimate.mean_seconds),
        low_seconds=_finite(estimate.low_seconds),
        high_seconds=_finite(estimate.high_seconds),
    )


def queues_view(center: CallCenter, now: float) -> QueuesResponse:
    router = center.router
    try:
        estimates = router.wait_estimates()
    except (RoutingError, ValueError, ZeroDivisionError) as exc:  # never fail the view
        log.warning("wait estimates failed: %s", exc)
        estimates = {}
    queues: dict[str, QueueView] = {
        queue_id: QueueView(
            id=queue_id, waiting=0, ringing=0, connected=0, longest_wait_seconds=None, calls=[]
        )
        for queue_id in router.queues
    }
    calls = sorted(router.calls.values(), key=lambda c: c.sort_key)
    for call in calls:
        view = queues.get(call.queue_id)
        if view is None:
            continue
        info = center.calls.get(call.call_id)
        waited = max(0.0, now - call.arrived_at)
        if call.status is CallStatus.WAITING:
            view.waiting += 1
            longest = view.longest_wait_seconds or 0.0
            view.longest_wait_seconds = round(max(longest, waited), 3)
        elif call.status is CallStatus.RINGING:
            view.ringing += 1
        else:
            view.connected += 1
        view.calls.append(
            LiveCall(
                call_id=call.call_id,
                status=call.status.value,
                caller_number=info.caller_number if info else None,
                language=call.language,
                priority=call.priority,
                waited_seconds=round(waited, 3),
                agent_id=call.agent_id,
                estimate=_estimate(estimates.get(call.call_id)),
            )
        )
    return QueuesResponse(at=instant(now), queues=list(queues.values()))


def today(now: float, zone_name: str) -> Period:
    tz = time_zone(zone_name)
    local = datetime.fromtimestamp(now, tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    return Period(start.astimezone(UTC), end.astimezone(UTC), tz)


async def service_level_today(
    engine: Any, center: CallCenter, zone_name: str, now: float
) -> ServiceLevelResponse:
    """Today's calls (business day, local time) with the service level: overall against the
    5-minute target (000 §2.2), each queue against its own ``service_level_seconds``."""
    period = today(now, zone_name)

    async def one(queue: str | None, threshold: float) -> ServiceLevelView:
        options = StatsOptions(threshold, DEFAULT_SHORT_ABANDON_SECONDS)
        report = await call_statistics(engine, period, Bucket.DAY, options, queue=queue)
        total = report.total
        return ServiceLevelView(
            queue=queue,
            threshold_seconds=threshold,
            received=total.received,
            answered=total.answered,
            answered_within=total.answered - total.answered_after,
            lost=total.lost,
            service_level_pct=None
            if total.service_level is None
            else round(total.service_level, 2),
        )

    overall = await one(None, DEFAULT_THRESHOLD_SECONDS)
    queues = [await one(queue.id, queue.service_level_seconds) for queue in center.routing.queues]
    return ServiceLevelResponse(
        date=period.first_day.isoformat(), time_zone=zone_name, overall=overall, queues=queues
    )


# --------------------------------------------------------------------------- admin changes


def add_skill(center: CallCenter, skill: str) -> None:
    center.router.add_skill(skill)


async def saved_agent_rows(session: AsyncSession) -> list[tuple[Agent, dict[str, int]]]:
    """The agents saved in the database (``agents``), each with its skill levels."""
    rows = (await session.execute(select(Agent).order_by(Agent.id))).scalars().all()
    levels: dict[str, dict[str, int]] = {}
    for link in (await session.execute(select(AgentSkill))).scalars():
        levels.setdefault(link.agent_id, {})[link.skill_id] = link.level
    return [(row, levels.get(row.id, {})) for row in rows]


def apply_agent(
    center: CallCenter,
    agent_id: str,
    name: str,
    phone: str | None,
    languages: list[str],
    skills: dict[str, int],
    active: bool,
) -> str | None:
    """Make the running router match an agent as the admin saved it. Returns why it could
    not (the change is then kept in the database only), or None.

    An agent without a phone, or inactive, is taken out of routing when logged out (an agent
    who is logged in stays until they log out)."""
    router = center.router
    for skill in skills:
        if skill not in router.skills:
            router.add_skill(skill)
    profile = AgentProfile(agent_id, name or agent_id, dict(skills), frozenset(languages))
    routable = active and phone is not None
    try:
        if agent_id in router.agents:
            if not routable:
                if router.agent(agent_id).state is AgentState.LOGGED_OUT:
                    _forget(center, agent_id)
                    return None
                return "the agent is logged in: they stay routed until they log out"
            router.update_agent(profile)
        elif routable:
            router.add_agent(profile)
        else:
            return None
    except RoutingError as exc:
        return str(exc)
    assert phone is not None
    old = center.agents_by_id.get(agent_id)
    if old is not None and center.agents_by_phone.get(old.phone) is old:
        del center.agents_by_phone[old.phone]
    settings = AgentSettings(
        id=agent_id, name=name, phone=phone, skills=skills, languages=languages
    )
    center.agents_by_id[agent_id] = settings
    center.agents_by_phone[phone] = settings
    return None


def remove_agent(center: CallCenter, agent_id: str) -> str | None:
    """Take an agent out of the running router; why not (logged in), or None."""
    router = center.router
    if agent_id not in router.agents:
        return None
    if router.agent(agent_id).state is not AgentState.LOGGED_OUT:
        return "the agent is logged in; log them out first"
    _forget(center, agent_id)
    return None


def _forget(center: CallCenter, agent_id: str) -> None:
    center.router.remove_agent(agent_id)
    old = center.agents_by_id.pop(agent_id, None)
    if old is not None and center.agents_by_phone.get(old.phone) is old:
        del center.agents_by_phone[old.phone]
