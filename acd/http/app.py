"""The aiohttp application of the API: :func:`build_http_app`.

It registers every endpoint of :mod:`acd.http` (agent, supervisor, QA, admin, operations),
makes the OpenAPI document from the same declarations, and adds the middlewares: errors as
JSON, request metrics, and a few headers (no caching, no MIME sniffing).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from acd.call_journal import FanOutSink
from acd.http import admin_api, agent_api, ops_api, qa_api, session_api, supervisor_api
from acd.http.auth import Auth, RateLimiter, TokenStore
from acd.http.deps import HttpDeps
from acd.http.errors import ApiError, error_body
from acd.http.events import EventHub
from acd.http.hints import Hints
from acd.http.metrics import Metrics
from acd.http.openapi import build_openapi
from acd.http.routes import Endpoint, json_response, wrap
from acd.http.session_store import SessionStore
from acd.http.state import ApiState
from acd.http.ui import add_ui_routes
from acd.http.ws import CLOSE_GOING_AWAY

__all__ = ["ENDPOINTS", "STATE", "build_http_app"]

log = logging.getLogger(__name__)

STATE = web.AppKey("acd_api_state", ApiState)

ENDPOINTS: list[Endpoint] = [
    *ops_api.ENDPOINTS,
    *session_api.ENDPOINTS,
    *agent_api.ENDPOINTS,
    *supervisor_api.ENDPOINTS,
    *qa_api.ENDPOINTS,
    *admin_api.ENDPOINTS,
]

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _unavailable(exc: BaseException) -> bool:
    """A database that cannot be reached (as opposed to a query that is wrong)."""
    if isinstance(exc, OperationalError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return type(exc).__module__.startswith("asyncpg") and "Connection" in type(exc).__name__


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        response = json_response(exc.body(), status=exc.status)
        response.headers.update(exc.headers)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        response = json_response(error_body(code, exc.reason), status=exc.status)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except asyncio.CancelledError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        if not _unavailable(exc):
            log.exception("%s %s failed", request.method, request.path)
            return json_response(error_body("internal_error", "internal error"), status=500)
        log.warning("%s %s: database unavailable: %s", request.method, request.path, exc)
        return json_response(
            error_body("database_unavailable", "the database is unavailable; try again"),
            status=503,
        )
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_response(error_body("internal_error", "internal error"), status=500)


def _metrics_middleware(
    state: ApiState,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        route = request.match_info.route.resource
        pattern = route.canonical if route is not None else "(unmatched)"
        state.metrics.http_requests.labels(request.method, pattern, str(response.status)).inc()
        return response

    return count


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")


@functools.cache
def _openapi() -> dict[str, Any]:
    return build_openapi(ENDPOINTS)


def build_http_app(deps: HttpDeps) -> web.Application:
    """The API as an aiohttp application; serve it with ``web.AppRunner`` (see docs/api.md)."""
    hub = deps.events
    if hub is None:  # the App did not add a hub to the call centre's sink: add one here
        hub = EventHub()
        deps.center.sink = FanOutSink(deps.center.sink, hub)
    persisted = SessionStore(deps.sessions) if deps.keep_sessions else None
    tokens = TokenStore(deps.clock, deps.token_ttl, persisted)
    subscribers = hub
    metrics = Metrics(
        deps.center, deps.ami_connected, deps.fastagi_serving, lambda: subscribers.subscribers
    )
    state = ApiState(
        deps=deps,
        hub=hub,
        tokens=tokens,
        auth=Auth(tokens),
        user_limiter=RateLimiter(deps.clock, deps.login_limit, deps.login_window),
        address_limiter=RateLimiter(deps.clock, deps.login_limit, deps.login_window),
        hints=Hints.load(deps.hints_file),
        metrics=metrics,
        recordings_dir=deps.recordings_dir or deps.settings.recordings.directory,
    )
    hub.add_listener(metrics.on_event)
    hub.add_listener(state.on_event)

    app = web.Application(middlewares=[_metrics_middleware(state), error_middleware])
    app[STATE] = state
    for endpoint in ENDPOINTS:
        app.router.add_route(
            endpoint.method, endpoint.path, wrap(endpoint, state), name=endpoint.operation_id
        )
    add_ui_routes(app)  # the pages (/ui/...): not API operations, not in the document
    state.openapi = _openapi()
    app.on_response_prepare.append(_headers)

    async def close_sockets(_: web.Application) -> None:
        for ws in list(state.websockets):
            with contextlib.suppress(Exception):
                await ws.close(code=CLOSE_GOING_AWAY, message=b"server shutdown")

    async def detach(_: web.Application) -> None:
        hub.remove_listener(metrics.on_event)
        hub.remove_listener(state.on_event)

    async def restore_sessions(_: web.Application) -> None:
        if persisted is None:
            return
        persisted.start()
        try:
            restored = tokens.restore(await persisted.load(deps.clock()))
        except Exception as exc:  # no database yet: the sessions start empty
            log.warning("API sessions not restored: %s", str(exc).splitlines()[0] or exc)
            return
        if restored:
            log.info("%d API session(s) restored", restored)

    async def store_sessions(_: web.Application) -> None:
        if persisted is not None:
            await persisted.aclose()

    app.on_startup.append(restore_sessions)
    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(detach)
    app.on_cleanup.append(store_sessions)
    return app
