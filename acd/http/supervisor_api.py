"""The supervisor's wallboard (queues, agents, today's service level), live over a
WebSocket, and the report downloads (CSV/XLSX of :mod:`acd.storage.reports`)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from acd.http.errors import ApiError, BadRequest
from acd.http.live import agents_view, queues_view, service_level_today
from acd.http.models import (
    AgentsResponse,
    QueuesResponse,
    ReportQuery,
    ServiceLevelResponse,
    SupervisorSnapshot,
)
from acd.http.routes import STAFF, Ctx, Endpoint, PathParam, json_response
from acd.http.state import ApiState
from acd.http.ws import dumps, open_websocket, serve_socket
from acd.report_output import (
    Table,
    agents_table,
    calls_table,
    detail_table,
    topics_table,
    write_csv,
    write_xlsx,
)
from acd.storage.models import Role
from acd.storage.reports import (
    Bucket,
    ReportError,
    ServiceLevelFormula,
    StatsOptions,
    agent_activity,
    call_detail,
    call_statistics,
    parse_period,
    time_zone,
    topic_counts,
)

log = logging.getLogger(__name__)

TAG = "supervisor"
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
REPORT_ROLES = STAFF
REPORTS = ("calls", "topics", "detail", "agents")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def engine_of(state: ApiState) -> Any:
    engine = state.sessions.kw.get("bind")
    if engine is None:
        raise ApiError("the database is not configured", code="database_unavailable", status=503)
    return engine


async def service_level(state: ApiState) -> ServiceLevelResponse:
    """Today's service level, read from the database at most every ``service_level_ttl``."""
    now = state.now()
    cached = state.service_level_cache.get("today")
    if cached is not None and 0 <= now - cached[0] < state.deps.service_level_ttl:
        return cached[1]  # type: ignore[no-any-return]
    value = await service_level_today(
        engine_of(state), state.center, state.deps.settings.business.time_zone, now
    )
    state.service_level_cache["today"] = (now, value)
    return value


async def get_queues(ctx: Ctx[None, None]) -> web.StreamResponse:
    return json_response(queues_view(ctx.state.center, ctx.state.now()))


async def get_agents(ctx: Ctx[None, None]) -> web.StreamResponse:
    return json_response(agents_view(ctx.state.center, ctx.state.now()))


async def get_service_level(ctx: Ctx[None, None]) -> web.StreamResponse:
    return json_response(await service_level(ctx.state))


async def snapshot(state: ApiState) -> SupervisorSnapshot:
    now = state.now()
    try:
        level: ServiceLevelResponse | None = await service_level(state)
    except (SQLAlchemyError, OSError, ApiError) as exc:
        log.warning("service level unavailable: %s", exc)
        level = None
    return SupervisorSnapshot(
        queues=queues_view(state.center, now),
        agents=agents_view(state.center, now),
        service_level=level,
    )


def _comparable(snap: SupervisorSnapshot) -> Any:
    """What counts as a change: everything but the times that tick on by themselves."""
    queues = [
        (
            q.id,
            q.waiting,
            q.ringing,
            q.connected,
            [(c.call_id, c.status, c.agent_id) for c in q.calls],
        )
        for q in snap.queues.queues
    ]
    agents = [(a.agent_id, a.state, a.reason, a.call_id) for a in snap.agents.agents]
    return queues, agents, snap.service_level


async def supervisor_socket(ctx: Ctx[None, None]) -> web.StreamResponse:
    """Pushes the snapshot (queues, agents, service level) on every change, and at least
    every ``push_interval`` seconds."""
    state = ctx.state
    digest = ctx.principal.token_digest
    ws = await open_websocket(ctx)
    subscription = state.hub.subscribe()
    interval = state.deps.push_interval

    async def pump() -> None:
        while True:
            snap = await snapshot(state)
            await ws.send_str(dumps({"type": "snapshot", **snap.model_dump(mode="json")}))
            last = _comparable(snap)
            deadline = asyncio.get_running_loop().time() + interval
            while True:  # wait for a change, or for the interval to pass
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        await subscription.get()
                except TimeoutError:
                    break
                while subscription.get_nowait() is not None:  # take the whole burst
                    pass
                if _comparable(await snapshot(state)) != last:
                    break
            if not state.tokens.valid(digest):
                await ws.close(code=4401, message=b"session ended")
                return

    try:
        await serve_socket(ws, pump)
    finally:
        subscription.close()
    return ws


# --------------------------------------------------------------------------- reports


async def _report_table(state: ApiState, name: str, q: ReportQuery) -> Table:
    settings = state.deps.settings
    try:
        period = parse_period(q.date_from, q.date_to, time_zone(settings.business.time_zone))
        options = StatsOptions(q.threshold, q.short_abandon, ServiceLevelFormula(q.sl))
    except (ReportError, ValueError, OverflowError) as exc:
        raise BadRequest(str(exc), fields=[{"field": "query", "message": str(exc)}]) from None
    engine = engine_of(state)
    generated = datetime.fromtimestamp(state.now(), UTC)
    if name == "calls":
        report = await call_statistics(engine, period, Bucket(q.by), options, queue=q.queue)
        return calls_table(report, generated)
    if name == "topics":
        return topics_table(await topic_counts(engine, period, queue=q.queue), generated)
    if name == "detail":
        detail = await call_detail(engine, period, agent=q.agent, caller=q.caller, queue=q.queue)
        return detail_table(detail, generated)
    return agents_table(await agent_activity(engine, period, now=generated), generated)


def _xlsx_bytes(table: Table) -> bytes:
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        write_xlsx(table, path)
        return path.read_bytes()
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


async def download_report(ctx: Ctx[None, ReportQuery]) -> web.StreamResponse:
    name = ctx.path["name"]
    q = ctx.query
    table = await _report_table(ctx.state, name, q)
    stamp = f"{q.date_from[:10]}_{q.date_to[:10]}"
    if q.format == "xlsx":
        data = await asyncio.to_thread(_xlsx_bytes, table)
        content_type, filename = XLSX, f"acd-{name}-{stamp}.xlsx"
    else:
        buffer = io.StringIO()
        write_csv(table, buffer)
        data = buffer.getvalue().encode("utf-8")
        content_type, filename = CSV, f"acd-{name}-{stamp}.csv"
    return web.Response(
        body=data,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/supervisor/queues",
        get_queues,
        "Live queues: waiting calls, longest wait, estimated waits",
        TAG,
        SUPERVISORS,
        response=QueuesResponse,
    ),
    Endpoint(
        "GET",
        "/api/supervisor/agents",
        get_agents,
        "Agents by state, with time in state and break reason",
        TAG,
        SUPERVISORS,
        response=AgentsResponse,
    ),
    Endpoint(
        "GET",
        "/api/supervisor/service-level",
        get_service_level,
        "Today's service level, overall (5-minute target) and per queue",
        TAG,
        SUPERVISORS,
        response=ServiceLevelResponse,
        responses={503: "the database is unavailable"},
    ),
    Endpoint(
        "GET",
        "/api/ws/supervisor",
        supervisor_socket,
        "WebSocket: the wallboard snapshot on every change and every second",
        TAG,
        SUPERVISORS,
        websocket=True,
        extra_query=[("access_token", "the token, for clients that cannot send a header")],
    ),
    Endpoint(
        "GET",
        "/api/reports/{name}",
        download_report,
        "Download a report (calls, topics, detail, agents) as CSV or XLSX",
        "reports",
        REPORT_ROLES,
        query=ReportQuery,
        media_types=(CSV, XLSX),
        path_params={"name": PathParam("|".join(REPORTS), "report", choices=REPORTS)},
        responses={503: "the database is unavailable"},
    ),
]
