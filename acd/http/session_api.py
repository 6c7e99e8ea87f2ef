"""Logging in and out: ``/api/login``, ``/api/logout``, ``/api/me``, and the agent's shift
(``/api/agent/login``, ``/api/agent/logout``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import select, update

from acd.core.agents import AgentState
from acd.core.errors import RoutingError
from acd.http.auth import COOKIE_NAME, hash_password, needs_rehash, verify_password
from acd.http.errors import ApiError, Conflict, TooManyRequests
from acd.http.live import agent_view, instant
from acd.http.models import (
    AgentLoginRequest,
    AgentStateView,
    LoginRequest,
    LoginResponse,
    Me,
    UserInfo,
)
from acd.http.routes import ALL_ROLES, Ctx, Endpoint, json_response
from acd.http.state import ApiState
from acd.storage.models import Role, User

log = logging.getLogger(__name__)

TAG = "session"


def user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        agent_id=user.agent_id,
        active=user.active,
    )


def _invalid() -> ApiError:
    return ApiError("wrong user name or password", code="invalid_credentials", status=401)


def _client(request: web.Request) -> str:
    return f"ip:{request.remote or 'unknown'}"


def _check_rate(state: ApiState, user_key: str, address_key: str) -> None:
    waits = [
        w
        for w in (
            state.user_limiter.retry_after(user_key),
            state.address_limiter.retry_after(address_key),
        )
        if w is not None
    ]
    if waits:
        wait = max(waits)
        raise TooManyRequests(f"too many failed logins: try again in {wait} s", wait)


async def _verify(state: ApiState, user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.active else None
    return await asyncio.to_thread(verify_password, stored, password, state.hasher)


async def _rehash_if_needed(state: ApiState, user: User, password: str) -> None:
    if not needs_rehash(user.password_hash, state.hasher):
        return
    new_hash = await asyncio.to_thread(hash_password, password, state.hasher)
    async with state.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))


def _start_session(state: ApiState, user: User, response_data: dict[str, Any]) -> web.Response:
    token, expires_at = state.tokens.issue(user.id, user.username, Role(user.role), user.agent_id)
    body = LoginResponse(
        token=token, expires_at=instant(expires_at), user=user_info(user), **response_data
    )
    response = json_response(body)
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="Strict",
        secure=state.deps.secure_cookie,
        max_age=int(state.deps.token_ttl),
        path="/",
    )
    return response


async def login(ctx: Ctx[LoginRequest, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    user_key = f"user:{body.username.casefold()}"
    address_key = _client(ctx.request)
    _check_rate(state, user_key, address_key)
    async with state.sessions() as session:
        user = (
            await session.execute(select(User).where(User.username == body.username))
        ).scalar_one_or_none()
    if not await _verify(state, user, body.password) or user is None:
        state.user_limiter.fail(user_key)
        state.address_limiter.fail(address_key)
        log.info("failed login for %r from %s", body.username, ctx.request.remote)
        raise _invalid()
    state.user_limiter.clear(user_key)
    await _rehash_if_needed(state, user, body.password)
    log.info("user %s (%s) logged in", user.username, user.role)
    return _start_session(state, user, {})


async def logout(ctx: Ctx[None, None]) -> web.StreamResponse:
    ctx.state.tokens.revoke(ctx.principal.token_digest)
    response = web.Response(status=204)
    response.del_cookie(COOKIE_NAME, path="/")
    return response


async def me(ctx: Ctx[None, None]) -> web.StreamResponse:
    user = ctx.principal
    async with ctx.state.sessions() as session:
        row = await session.get(User, user.user_id)
    if row is None:
        raise _invalid()
    return json_response(Me(user=user_info(row), expires_at=instant(user.expires_at)))


async def agent_login(ctx: Ctx[AgentLoginRequest, None]) -> web.StreamResponse:
    """Log in as an agent (agent ID + password): starts the shift in the router."""
    state, body = ctx.state, ctx.body
    user_key = f"agent:{body.agent_id.casefold()}"
    address_key = _client(ctx.request)
    _check_rate(state, user_key, address_key)
    async with state.sessions() as session:
        user = (
            await session.execute(
                select(User)
                .where(User.role == Role.AGENT.value, User.agent_id == body.agent_id)
                .order_by(User.active.desc(), User.id)
                .limit(1)
            )
        ).scalar_one_or_none()
    if not await _verify(state, user, body.password) or user is None:
        state.user_limiter.fail(user_key)
        state.address_limiter.fail(address_key)
        log.info("failed agent login for %r from %s", body.agent_id, ctx.request.remote)
        raise _invalid()
    state.user_limiter.clear(user_key)
    center = state.center
    if body.agent_id not in center.router.agents:
        raise Conflict(
            f"agent {body.agent_id} is not routed (no phone, inactive, or not configured)",
            code="agent_not_routed",
        )
    if center.router.agent(body.agent_id).state is AgentState.LOGGED_OUT:
        try:
            center.agent_command(body.agent_id, "login")
        except RoutingError as exc:
            raise Conflict(str(exc), code="illegal_transition") from None
    await _rehash_if_needed(state, user, body.password)
    log.info("agent %s logged in through the API (user %s)", body.agent_id, user.username)
    view = agent_view(center, body.agent_id, state.now())
    return _start_session(state, user, {"agent": view})


async def agent_logout(ctx: Ctx[None, None]) -> web.StreamResponse:
    """End the shift (after the current call and its wrap-up, if any) and the session."""
    state, user = ctx.state, ctx.principal
    agent_id = user.agent_id
    center = state.center
    if agent_id is None or agent_id not in center.router.agents:
        raise Conflict("this user is not linked to a routed agent", code="agent_not_routed")
    if center.router.agent(agent_id).state is not AgentState.LOGGED_OUT:
        try:
            center.agent_command(agent_id, "logout")
        except RoutingError as exc:
            raise Conflict(str(exc), code="illegal_transition") from None
    state.tokens.revoke(user.token_digest)
    response = json_response(agent_view(center, agent_id, state.now()))
    response.del_cookie(COOKIE_NAME, path="/")
    return response


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/login",
        login,
        "Log in with user name and password: a bearer token and the session cookie",
        TAG,
        None,
        body=LoginRequest,
        response=LoginResponse,
        responses={401: "wrong user name or password", 429: "too many failed logins"},
        headers={429: {"Retry-After": "seconds to wait"}},
    ),
    Endpoint(
        "POST",
        "/api/logout",
        logout,
        "End this session (the token and the cookie stop working)",
        TAG,
        ALL_ROLES,
        status=204,
    ),
    Endpoint("GET", "/api/me", me, "Who is logged in", TAG, ALL_ROLES, response=Me),
    Endpoint(
        "POST",
        "/api/agent/login",
        agent_login,
        "Agent log-in with agent ID and password: starts the shift",
        "agent",
        None,
        body=AgentLoginRequest,
        response=LoginResponse,
        responses={
            401: "wrong agent ID or password",
            409: "the agent is not routed",
            429: "too many failed logins",
        },
        headers={429: {"Retry-After": "seconds to wait"}},
    ),
    Endpoint(
        "POST",
        "/api/agent/logout",
        agent_logout,
        "Agent log-out: ends the shift (after the current call's wrap-up) and the session",
        "agent",
        frozenset({Role.AGENT}),
        response=AgentStateView,
        responses={409: "not linked to a routed agent"},
    ),
]
