"""Unauthenticated operations endpoints: ``/healthz``, ``/metrics``, ``/api/openapi.json``."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from acd.http.metrics import CONTENT_TYPE, probe
from acd.http.models import HealthCheckView, HealthResponse
from acd.http.routes import Ctx, Endpoint, json_response
from acd.http.state import ApiState

TAG = "operations"
DATABASE_TIMEOUT = 3.0


async def _database(state: ApiState) -> HealthCheckView:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT), state.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure is "down", with why
        return HealthCheckView(ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])
    return HealthCheckView(ok=True)


async def healthz(ctx: Ctx[None, None]) -> web.StreamResponse:
    """200 when the AMI link, the database and the FastAGI server are up, else 503."""
    state = ctx.state
    checks: dict[str, HealthCheckView] = {}
    for name, check in (("ami", state.deps.ami_connected), ("fastagi", state.deps.fastagi_serving)):
        ok, detail = await probe(check)
        checks[name] = HealthCheckView(ok=ok, detail=detail)
    checks["database"] = await _database(state)
    healthy = all(c.ok is not False for c in checks.values())
    body = HealthResponse(status="ok" if healthy else "degraded", checks=checks)
    return json_response(body, status=200 if healthy else 503)


async def metrics(ctx: Ctx[None, None]) -> web.StreamResponse:
    data = await ctx.state.metrics.render()
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE})


async def openapi(ctx: Ctx[None, None]) -> web.StreamResponse:
    return json_response(ctx.state.openapi)


ENDPOINTS = [
    Endpoint(
        "GET",
        "/healthz",
        healthz,
        "Health: AMI link, database, FastAGI server (503 when one is down)",
        TAG,
        None,
        response=HealthResponse,
        responses={503: "something is down (same body)"},
        other_models={503: HealthResponse},
    ),
    Endpoint(
        "GET",
        "/metrics",
        metrics,
        "Prometheus metrics",
        TAG,
        None,
        media_types=("text/plain",),
    ),
    Endpoint(
        "GET",
        "/api/openapi.json",
        openapi,
        "This API's OpenAPI document",
        TAG,
        None,
        media_types=("application/json",),
    ),
]
