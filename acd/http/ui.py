"""The pages: a small static front end (plain HTML and vanilla JavaScript, no build step)
served by the API's own aiohttp application under ``/ui/``.

The pages talk to the JSON API and its WebSockets with the session cookie that
``/api/login`` and ``/api/agent/login`` set (changing requests send ``X-Requested-With``).
They are not API operations: they are left out of the OpenAPI document (see docs/api.md,
"Pages"), and every one is public — the data behind them is not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

__all__ = ["PAGES", "UI_PREFIX", "add_ui_routes"]

UI_PREFIX = "/ui"

#: Page path -> its HTML file in ``acd/http/static``.
PAGES: dict[str, str] = {
    "/ui/login": "login.html",
    "/ui/agent": "agent.html",
    "/ui/wallboard": "wallboard.html",
    "/ui/qa": "qa.html",
    "/ui/admin/scenarios": "scenarios.html",
}

_ASSET = re.compile(r"^[a-z0-9_-]{1,64}\.(js|css)$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_TYPES = {"html": "text/html", "js": "text/javascript", "css": "text/css"}

#: No inline scripts or styles, nothing from elsewhere, not framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@functools.cache
def _read(name: str) -> bytes | None:
    item = resources.files("acd.http").joinpath("static", name)
    try:
        return item.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _file_response(name: str) -> web.Response:
    body = _read(name)
    if body is None:
        raise web.HTTPNotFound()
    kind = name.rsplit(".", 1)[-1]
    response = web.Response(body=body, content_type=_TYPES[kind], charset="utf-8")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _page(name: str) -> Handler:
    async def page(_: web.Request) -> web.StreamResponse:
        return _file_response(name)

    return page


async def _asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if _ASSET.fullmatch(name) is None:
        raise web.HTTPNotFound()
    return _file_response(name)


async def _home(_: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/login")


def add_ui_routes(app: web.Application) -> None:
    """Register the pages and their scripts and styles (GET only, no implicit HEAD)."""
    app.router.add_route("GET", "/ui", _home, name="ui_home")
    app.router.add_route("GET", "/ui/", _home, name="ui_home_slash")
    for path, name in PAGES.items():
        app.router.add_route("GET", path, _page(name), name="ui_" + name.split(".")[0])
    app.router.add_route("GET", "/ui/static/{name}", _asset, name="ui_static")
