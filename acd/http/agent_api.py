"""The agent's desk: presence (ready, break, end of wrap-up), what they record about a call,
transfer to a skill group, callbacks, and the screen-pop WebSocket.

Presence changes go through :meth:`CallCenter.agent_command` (an illegal change is a 409
with the router's reason). Call notes go to the ``calls`` row (topic, ticket, notes) and as
a ``disposition`` call event (all of them, the disposition too) into the timeline.
"""

from __future__ import annotations

import inspect
import logging
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from acd.call_events import CallEvent
from acd.core.agents import AgentState
from acd.core.calls import CallStatus
from acd.core.errors import RoutingError
from acd.http.deps import TransferRequest
from acd.http.errors import ApiError, BadRequest, Conflict, NotFound
from acd.http.live import agent_view, instant
from acd.http.models import (
    AgentStateView,
    BreakRequest,
    CallbackRequest,
    CallbackView,
    DispositionRequest,
    DispositionResponse,
    TransferBody,
    TransferResponse,
)
from acd.http.routes import Ctx, Endpoint, json_response
from acd.http.screenpop import screen_pop
from acd.http.state import ApiState
from acd.http.ws import CLOSE_SESSION_ENDED, dumps, open_websocket, serve_socket
from acd.storage.models import Call, Callback, Role
from acd.storage.recordings import is_valid_call_id

log = logging.getLogger(__name__)

TAG = "agent"
AGENT = frozenset({Role.AGENT})
CALLBACK_HORIZON = timedelta(days=366)


def my_agent(ctx: Ctx[Any, Any]) -> str:
    agent_id = ctx.principal.agent_id
    if agent_id is None or agent_id not in ctx.state.center.router.agents:
        raise Conflict("this user is not linked to a routed agent", code="agent_not_routed")
    return agent_id


def _command(ctx: Ctx[Any, Any], action: str, reason: str = "") -> web.StreamResponse:
    agent_id = my_agent(ctx)
    center = ctx.state.center
    try:
        center.agent_command(agent_id, action, reason)
    except RoutingError as exc:
        raise Conflict(str(exc), code="illegal_transition") from None
    return json_response(agent_view(center, agent_id, ctx.state.now()))


async def get_state(ctx: Ctx[None, None]) -> web.StreamResponse:
    agent_id = my_agent(ctx)
    return json_response(agent_view(ctx.state.center, agent_id, ctx.state.now()))


async def ready(ctx: Ctx[None, None]) -> web.StreamResponse:
    return _command(ctx, "ready")


async def take_break(ctx: Ctx[BreakRequest, None]) -> web.StreamResponse:
    return _command(ctx, "break", ctx.body.reason)


async def end_wrap_up(ctx: Ctx[None, None]) -> web.StreamResponse:
    return _command(ctx, "wrapup-done")


# --------------------------------------------------------------------------- which call


async def _owns(state: ApiState, agent_id: str, call_id: str) -> bool:
    center = state.center
    call = center.router.calls.get(call_id)
    if call is not None and call.agent_id == agent_id:
        return True
    info = center.calls.get(call_id)
    if info is not None and agent_id in (info.agent_id, info.accepted_by):
        return True
    if state.last_call.get(agent_id) == call_id:
        return True
    async with state.sessions() as session:
        owner = (
            await session.execute(select(Call.agent_id).where(Call.id == call_id))
        ).scalar_one_or_none()
    return owner == agent_id


async def call_of(state: ApiState, agent_id: str, call_id: str | None) -> str:
    """``call_id`` if it is the agent's, else the agent's current call, else their last."""
    if call_id is not None:
        if is_valid_call_id(call_id) and await _owns(state, agent_id, call_id):
            return call_id
        raise NotFound(f"no call {call_id} of yours")
    current = state.center.router.agent(agent_id).call_id
    if current is not None:
        return current
    last = state.last_call.get(agent_id)
    if last is not None:
        return last
    async with state.sessions() as session:
        found = (
            await session.execute(
                select(Call.id)
                .where(Call.agent_id == agent_id)
                .order_by(Call.arrived_at.desc(), Call.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    if found is None:
        raise NotFound("you have no current or last call", code="no_call")
    return found


async def set_disposition(ctx: Ctx[DispositionRequest, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    agent_id = my_agent(ctx)
    call_id = await call_of(state, agent_id, body.call_id)
    columns = {
        name: value
        for name, value in (("topic", body.topic), ("ticket", body.ticket), ("notes", body.notes))
        if value is not None
    }
    async with state.sessions() as session, session.begin():
        if columns:
            result = await session.execute(update(Call).where(Call.id == call_id).values(**columns))
            stored = bool(result.rowcount)  # type: ignore[attr-defined]
        else:
            stored = (
                await session.execute(select(Call.id).where(Call.id == call_id))
            ).scalar_one_or_none() is not None
    state.emit(
        call_id,
        "disposition",
        agent_id=agent_id,
        by=ctx.principal.username,
        topic=body.topic,
        disposition=body.disposition,
        notes=body.notes,
        ticket=body.ticket,
    )
    return json_response(
        DispositionResponse(
            call_id=call_id,
            stored=stored,
            topic=body.topic,
            disposition=body.disposition,
            notes=body.notes,
            ticket=body.ticket,
        )
    )


# --------------------------------------------------------------------------- transfer


async def transfer(ctx: Ctx[TransferBody, None]) -> web.StreamResponse:
    """Ask the telephony layer to move the connected call to a skill group."""
    state, body = ctx.state, ctx.body
    agent_id = my_agent(ctx)
    center = state.center
    agent = center.router.agent(agent_id)
    call = center.router.calls.get(agent.call_id or "")
    if (
        agent.state is not AgentState.ON_CALL
        or call is None
        or call.status is not CallStatus.CONNECTED
    ):
        raise Conflict("you have no connected call to transfer", code="no_call")
    if body.skill not in center.router.skills:
        known = ", ".join(sorted(center.router.skills))
        raise BadRequest(
            "unknown skill",
            fields=[{"field": "skill", "message": f"unknown skill {body.skill!r}; known: {known}"}],
        )
    info = center.calls.get(call.call_id)
    request = TransferRequest(
        call_id=call.call_id,
        agent_id=agent_id,
        skill=body.skill,
        min_level=body.min_level,
        requested_at=instant(state.now()),
        requested_by=ctx.principal.username,
        caller_channel=info.channel if info else None,
        agent_channel=info.agent_channel if info else None,
        queue_id=call.queue_id,
        reason=body.reason,
    )
    state.emit(
        call.call_id,
        "transfer_requested",
        agent_id=agent_id,
        skill=body.skill,
        min_level=body.min_level,
        reason=body.reason,
        by=ctx.principal.username,
    )
    status = "requested"
    hook = state.deps.transfer
    if hook is not None:
        try:
            result = hook(request)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            log.warning("transfer of %s to %s failed: %s", call.call_id, body.skill, exc)
            raise ApiError(
                f"the transfer could not be started: {exc}", code="transfer_failed", status=502
            ) from None
        status = "handed_over"
    return json_response(
        TransferResponse(
            call_id=call.call_id, skill=body.skill, min_level=body.min_level, status=status
        ),
        status=202,
    )


# --------------------------------------------------------------------------- callbacks


async def _caller_number(state: ApiState, call_id: str) -> str | None:
    info = state.center.calls.get(call_id)
    if info is not None and info.caller_number:
        return info.caller_number
    async with state.sessions() as session:
        return (
            await session.execute(select(Call.caller_number).where(Call.id == call_id))
        ).scalar_one_or_none()


async def book_callback(ctx: Ctx[CallbackRequest, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    agent_id = my_agent(ctx)
    now = instant(state.now())
    if body.due_at <= now:
        raise BadRequest(
            "the callback time is in the past",
            fields=[{"field": "due_at", "message": "must be in the future"}],
        )
    if body.due_at > now + CALLBACK_HORIZON:
        raise BadRequest(
            "the callback time is too far ahead",
            fields=[{"field": "due_at", "message": "must be within a year"}],
        )
    if body.queue_id is not None and body.queue_id not in state.center.router.queues:
        raise BadRequest(
            "unknown queue", fields=[{"field": "queue_id", "message": "no such queue"}]
        )
    call_id: str | None
    if body.call_id is not None:
        call_id = await call_of(state, agent_id, body.call_id)
    else:
        try:
            call_id = await call_of(state, agent_id, None)
        except NotFound:
            call_id = None
    number = body.number
    if number is None and call_id is not None:
        number = await _caller_number(state, call_id)
    if not number:
        raise BadRequest(
            "whom to call back?",
            fields=[{"field": "number", "message": "required: the call has no caller number"}],
        )
    queue_id = body.queue_id
    if queue_id is None and call_id is not None:
        call = state.center.router.calls.get(call_id)
        queue_id = call.queue_id if call is not None else None
    row = Callback(
        call_id=call_id,
        number=number[:64],
        email=body.email,
        queue_id=queue_id,
        requested_at=now,
        due_at=body.due_at,
        attempts=0,
        status="pending",
    )
    async with state.sessions() as session, session.begin():
        session.add(row)
        await session.flush()
        view = CallbackView(
            id=row.id,
            call_id=row.call_id,
            number=row.number,
            email=row.email,
            queue_id=row.queue_id,
            requested_at=now,
            due_at=body.due_at,
            status=row.status,
            attempts=row.attempts,
        )
    if call_id is not None:
        state.emit(
            call_id,
            "callback_booked",
            agent_id=agent_id,
            callback_id=view.id,
            number=number,
            due_at=body.due_at.isoformat(),
        )
    return json_response(view, status=201)


# --------------------------------------------------------------------------- screen pop


async def agent_socket(ctx: Ctx[None, None]) -> web.StreamResponse:
    """Screen pops and the agent's own state changes, pushed as JSON messages."""
    state = ctx.state
    agent_id = my_agent(ctx)
    digest = ctx.principal.token_digest
    ws = await open_websocket(ctx)
    subscription = state.hub.subscribe()

    async def send(message: dict[str, Any]) -> None:
        await ws.send_str(dumps(message))

    async def handle(event: CallEvent) -> None:
        data = event.data
        if event.kind == "agent_state":
            if data.get("agent_id") == agent_id:
                view = agent_view(state.center, agent_id, state.now())
                await send({"type": "state", "agent": view.model_dump(mode="json")})
            return
        if data.get("agent_id") != agent_id:
            return
        if event.kind in ("offered", "connected"):
            await send(await screen_pop(state, event.call_id, event.kind))
        elif event.kind == "ring_ended":
            await send(
                {"type": "offer_ended", "call_id": event.call_id, "reason": data.get("reason")}
            )
        elif event.kind == "finished":
            await send(
                {"type": "call_ended", "call_id": event.call_id, "outcome": data.get("outcome")}
            )

    async def pump() -> None:
        view = agent_view(state.center, agent_id, state.now())
        await send({"type": "hello", "agent": view.model_dump(mode="json")})
        current = state.center.router.agent(agent_id)
        if current.call_id is not None:  # reconnected during a call: show it again
            stage = "connected" if current.state is AgentState.ON_CALL else "offered"
            await send(await screen_pop(state, current.call_id, stage))
        while True:
            event = await subscription.get()
            if not state.tokens.valid(digest):
                await ws.close(code=CLOSE_SESSION_ENDED, message=b"session ended")
                return
            try:
                await handle(event)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("screen pop for %s failed: %s", agent_id, exc)

    async def on_message(data: Any) -> None:
        if isinstance(data, dict) and data.get("type") == "ping":
            await send({"type": "pong"})

    try:
        await serve_socket(ws, pump, on_message)
    finally:
        subscription.close()
    return ws


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/agent/state",
        get_state,
        "My state: presence, time in it, break reason, current call",
        TAG,
        AGENT,
        response=AgentStateView,
        responses={409: "not linked to a routed agent"},
    ),
    Endpoint(
        "POST",
        "/api/agent/ready",
        ready,
        "Become ready (from a break or wrap-up)",
        TAG,
        AGENT,
        response=AgentStateView,
        responses={409: "not possible in the current state"},
    ),
    Endpoint(
        "POST",
        "/api/agent/break",
        take_break,
        "Take a break with a reason (after the current call, if any)",
        TAG,
        AGENT,
        body=BreakRequest,
        response=AgentStateView,
        responses={409: "not possible in the current state"},
    ),
    Endpoint(
        "POST",
        "/api/agent/wrap-up/end",
        end_wrap_up,
        "End after-call work early",
        TAG,
        AGENT,
        response=AgentStateView,
        responses={409: "not in wrap-up"},
    ),
    Endpoint(
        "POST",
        "/api/agent/disposition",
        set_disposition,
        "Record topic, disposition, notes and ticket number of the current or last call",
        TAG,
        AGENT,
        body=DispositionRequest,
        response=DispositionResponse,
        responses={404: "no such call of yours, or no current or last call"},
    ),
    Endpoint(
        "POST",
        "/api/agent/transfer",
        transfer,
        "Transfer the connected call to a skill group (handed to the telephony layer)",
        TAG,
        AGENT,
        body=TransferBody,
        response=TransferResponse,
        status=202,
        responses={409: "no connected call", 502: "the telephony layer refused"},
    ),
    Endpoint(
        "POST",
        "/api/agent/callbacks",
        book_callback,
        "Book a callback at a time the caller chose",
        TAG,
        AGENT,
        body=CallbackRequest,
        response=CallbackView,
        status=201,
        responses={404: "no such call of yours"},
    ),
    Endpoint(
        "GET",
        "/api/ws/agent",
        agent_socket,
        "WebSocket: screen pops (offered, connected) and my state changes",
        TAG,
        AGENT,
        websocket=True,
        responses={409: "not linked to a routed agent"},
        extra_query=[("access_token", "the token, for clients that cannot send a header")],
    ),
]
