"""WebSocket plumbing shared by the agent and supervisor sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from acd.http.errors import ApiError, Forbidden
from acd.http.routes import Ctx

log = logging.getLogger(__name__)

#: Close codes: the session ended (logged out or expired); the server is stopping.
CLOSE_SESSION_ENDED = 4401
CLOSE_GOING_AWAY = 1001


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def open_websocket(ctx: Ctx[Any, Any]) -> web.WebSocketResponse:
    """Accept the WebSocket upgrade (426 for a plain HTTP request).

    A socket authenticated by the session cookie must come from a page of this server
    (``Origin`` on the same host), against cross-site WebSocket hijacking.
    """
    request = ctx.request
    ws = web.WebSocketResponse(heartbeat=30.0)
    if not ws.can_prepare(request).ok:
        raise ApiError(
            "this is a WebSocket endpoint: connect with a WebSocket client",
            code="upgrade_required",
            status=426,
            headers={"Upgrade": "websocket", "Connection": "Upgrade"},
        )
    origin = request.headers.get("Origin")
    foreign = origin is not None and urlsplit(origin).netloc.lower() != request.host.lower()
    if ctx.principal.via_cookie and foreign:
        raise Forbidden("cross-origin WebSocket refused", code="bad_origin")
    await ws.prepare(request)
    ctx.state.websockets.add(ws)
    return ws


async def serve_socket(
    ws: web.WebSocketResponse,
    pump: Callable[[], Awaitable[None]],
    on_message: Callable[[Any], Awaitable[None]] | None = None,
) -> None:
    """Run ``pump`` (which sends) while reading what the client sends, until either ends."""
    task = asyncio.get_running_loop().create_task(pump())

    closing: set[asyncio.Task[Any]] = set()

    def stop_reading(_: asyncio.Task[None]) -> None:
        if not ws.closed:  # the sender ended: end the reading loop too
            closer = asyncio.get_running_loop().create_task(ws.close())
            closing.add(closer)
            closer.add_done_callback(closing.discard)

    task.add_done_callback(stop_reading)
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT and on_message is not None:
                try:
                    data = json.loads(message.data)
                except ValueError:
                    await ws.send_str(dumps({"type": "error", "message": "send JSON"}))
                    continue
                await on_message(data)
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, ConnectionError):
            pass
        except Exception:
            log.exception("a WebSocket sender failed")
        if not ws.closed:
            with contextlib.suppress(ConnectionError):
                await ws.close()
