"""Quality assurance: search the calls, read a call's timeline with the routing
explanation, and stream its recording (HTTP ranges: 206/416).

Agents may use these too, for their own calls only: the search is narrowed to them and any
other call answers 404 (not 403, so that call IDs do not leak).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import and_, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from acd.http.errors import ApiError, BadRequest, Forbidden, NotFound
from acd.http.models import (
    CallDetail,
    CallSearchQuery,
    CallSearchResponse,
    CallSummary,
    RecordingInfo,
    TimelineEvent,
    TimelineResponse,
)
from acd.http.routes import ALL_ROLES, Ctx, Endpoint, PathParam, json_response
from acd.http.state import ApiState
from acd.storage.models import AgentStateLog, Call, CallEventRow, Recording, Role
from acd.storage.recordings import (
    InvalidCallId,
    InvalidRange,
    RangeNotSatisfiable,
    RecordingDeleted,
    RecordingError,
    RecordingNotFound,
    RecordingsDirectoryMissing,
    UnsafeRecordingPath,
    content_range,
    find_recording,
    is_valid_call_id,
    iter_file,
    parse_range,
)
from acd.storage.reports import ReportError, parse_period, time_zone

log = logging.getLogger(__name__)

TAG = "qa"
CALL_ID_PARAM = {"call_id": PathParam(r"[0-9A-Za-z_-][0-9A-Za-z._-]{0,63}", "call")}
EARLIEST, LATEST = "2000-01-01", "2999-12-31"
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".gsm": "audio/x-gsm",
}


def _agent_scope(ctx: Ctx[Any, Any]) -> str | None:
    """The agent ID an agent is limited to; None for QA, supervisors and admins."""
    user = ctx.principal
    if user.role is Role.AGENT:
        if user.agent_id is None:
            raise Forbidden("this user is not linked to an agent")
        return user.agent_id
    return None


def summary(row: Call) -> dict[str, Any]:
    return {
        "id": row.id,
        "arrived_at": row.arrived_at,
        "caller_number": row.caller_number,
        "queue_id": row.queue_id,
        "agent_id": row.agent_id,
        "language": row.language,
        "topic": row.topic,
        "ticket": row.ticket,
        "outcome": row.outcome,
        "wait_seconds": row.wait_seconds,
        "talk_seconds": row.talk_seconds,
    }


def _filters(state: ApiState, q: CallSearchQuery, scope: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if q.date_from is not None or q.date_to is not None:
        zone = time_zone(state.deps.settings.business.time_zone)
        try:
            period = parse_period(q.date_from or EARLIEST, q.date_to or LATEST, zone)
        except (ReportError, ValueError, OverflowError) as exc:
            raise BadRequest(
                str(exc), fields=[{"field": "query.from", "message": str(exc)}]
            ) from None
        conditions += [Call.arrived_at >= period.start, Call.arrived_at < period.end]
    if scope is not None:
        conditions.append(Call.agent_id == scope)
    if q.agent is not None:
        conditions.append(Call.agent_id == q.agent)
    if q.topic is not None:
        conditions.append(Call.topic == q.topic)
    if q.caller is not None:
        conditions.append(Call.caller_number.contains(q.caller, autoescape=True))
    if q.outcome is not None:
        conditions.append(Call.outcome == q.outcome.value)
    if q.queue is not None:
        conditions.append(Call.queue_id == q.queue)
    return conditions


async def search_calls(ctx: Ctx[None, CallSearchQuery]) -> web.StreamResponse:
    q = ctx.query
    scope = _agent_scope(ctx)
    if scope is not None and q.agent is not None and q.agent != scope:
        raise Forbidden("agents see only their own calls")
    conditions = _filters(ctx.state, q, scope)
    where = and_(*conditions) if conditions else true()
    async with ctx.state.sessions() as session:
        total = (
            await session.execute(select(func.count()).select_from(Call).where(where))
        ).scalar_one()
        rows = (
            await session.execute(
                select(Call)
                .where(where)
                .order_by(Call.arrived_at.desc(), Call.id.desc())
                .offset((q.page - 1) * q.page_size)
                .limit(q.page_size)
            )
        ).scalars()
        items = [CallSummary(**summary(row)) for row in rows]
    return json_response(
        CallSearchResponse(items=items, page=q.page, page_size=q.page_size, total=total)
    )


async def _visible_call(ctx: Ctx[Any, Any], call_id: str) -> Call | None:
    """The call's row; NotFound if an agent asks for a call that is not theirs."""
    if not is_valid_call_id(call_id):
        raise NotFound(f"no call {call_id}")
    async with ctx.state.sessions() as session:
        row = await session.get(Call, call_id)
    scope = _agent_scope(ctx)
    if scope is not None and (row is None or row.agent_id != scope):
        raise NotFound(f"no call {call_id} of yours")
    return row


async def get_call(ctx: Ctx[None, None]) -> web.StreamResponse:
    call_id = ctx.path["call_id"]
    row = await _visible_call(ctx, call_id)
    if row is None:
        raise NotFound(f"no call {call_id}")
    async with ctx.state.sessions() as session:
        recording = await session.get(Recording, call_id)
        disposition = (
            await session.execute(
                select(CallEventRow.data)
                .where(CallEventRow.call_id == call_id, CallEventRow.kind == "disposition")
                .order_by(CallEventRow.at.desc(), CallEventRow.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    value = disposition.get("disposition") if isinstance(disposition, dict) else None
    detail = CallDetail(
        **summary(row),
        caller_name=row.caller_name,
        dialled_number=row.dialled_number,
        scenario=row.scenario,
        ivr_path=row.ivr_path,
        category=row.category,
        priority=row.priority or 0,
        skills=row.skills,
        previous_ticket=row.previous_ticket,
        notes=row.notes,
        disposition=value if isinstance(value, str) else None,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        wrap_up_seconds=row.wrap_up_seconds,
        handle_seconds=row.handle_seconds,
        recording=None
        if recording is None
        else RecordingInfo(
            url=f"/api/calls/{call_id}/recording",
            size_bytes=recording.size_bytes,
            duration_seconds=recording.duration_seconds,
            deleted_at=recording.deleted_at,
        ),
    )
    return json_response(detail)


def explain(kind: str, data: dict[str, Any]) -> str | None:
    """The routing explanation of an event, in words."""
    if kind == "offered":
        agent = data.get("agent_id")
        trigger = {
            "call_waiting": "the call looked for a free agent",
            "agent_free": "the agent became free",
        }.get(str(data.get("trigger")), str(data.get("trigger") or "unknown"))
        text = f"offered to {agent} ({trigger}); {data.get('candidate_count', 0)} candidate(s)"
        candidates = data.get("candidates") or []
        if isinstance(candidates, list) and candidates:
            text += ", best first: " + ", ".join(str(c) for c in candidates)
        counts = data.get("excluded_counts") or {}
        if isinstance(counts, dict) and counts:
            text += "; left out: " + ", ".join(
                f"{n} {reason}" for reason, n in sorted(counts.items())
            )
        return text
    if kind == "ring_ended":
        rang = data.get("ring_seconds")
        after = f" after {rang} s" if rang is not None else ""
        return f"{data.get('agent_id')} stopped ringing{after}: {data.get('reason')}"
    if kind == "requeued":
        return f"back in the queue ({data.get('reason')})"
    if kind == "connected":
        rang = data.get("ring_seconds")
        return f"connected to {data.get('agent_id')}" + (
            f" (answered after {rang} s of ringing)" if rang is not None else ""
        )
    if kind == "finished":
        return f"finished: {data.get('outcome')}"
    if kind == "transfer_requested":
        return f"{data.get('agent_id')} asked to transfer to skill {data.get('skill')}"
    if kind == "digits":
        keys = data.get("keys") or "nothing"
        return f"pressed {keys} at {data.get('node')}"
    if kind == "prompt" and isinstance(data.get("prompts"), list):
        return "played " + ", ".join(str(p) for p in data["prompts"])
    if kind == "wrap_up":
        return f"{data.get('agent_id')} in wrap-up"
    if kind == "wrap_up_ended":
        return f"{data.get('agent_id')} finished wrap-up after {data.get('seconds')} s"
    return None


async def get_timeline(ctx: Ctx[None, None]) -> web.StreamResponse:
    """The call's events, with its wrap-up (from ``agent_states``) in its place."""
    call_id = ctx.path["call_id"]
    row = await _visible_call(ctx, call_id)
    async with ctx.state.sessions() as session:
        events = (
            (
                await session.execute(
                    select(CallEventRow)
                    .where(CallEventRow.call_id == call_id)
                    .order_by(CallEventRow.at, CallEventRow.id)
                )
            )
            .scalars()
            .all()
        )
        wrap_ups = (
            (
                await session.execute(
                    select(AgentStateLog)
                    .where(AgentStateLog.call_id == call_id, AgentStateLog.state == "wrap_up")
                    .order_by(AgentStateLog.started_at, AgentStateLog.id)
                )
            )
            .scalars()
            .all()
        )
    if row is None and not events:
        raise NotFound(f"no call {call_id}")
    timeline = [
        TimelineEvent(
            at=e.at,
            kind=e.kind,
            data=e.data if isinstance(e.data, dict) else {"value": e.data},
            summary=explain(e.kind, e.data if isinstance(e.data, dict) else {}),
        )
        for e in events
    ]
    for wrap in wrap_ups:
        data: dict[str, Any] = {"agent_id": wrap.agent_id}
        timeline.append(
            TimelineEvent(
                at=wrap.started_at, kind="wrap_up", data=data, summary=explain("wrap_up", data)
            )
        )
        if wrap.ended_at is not None:
            seconds = round((wrap.ended_at - wrap.started_at).total_seconds(), 3)
            ended = {"agent_id": wrap.agent_id, "seconds": seconds}
            timeline.append(
                TimelineEvent(
                    at=wrap.ended_at,
                    kind="wrap_up_ended",
                    data=ended,
                    summary=explain("wrap_up_ended", ended),
                )
            )
    timeline.sort(key=lambda event: event.at)  # stable: the events' own order is kept
    return json_response(TimelineResponse(call_id=call_id, events=timeline))


async def get_recording(ctx: Ctx[None, None]) -> web.StreamResponse:
    """The recording, whole (200) or a byte range (206); 416 past the end."""
    call_id = ctx.path["call_id"]
    await _visible_call(ctx, call_id)
    state = ctx.state
    try:
        path, size, _ = await find_recording(state.sessions, state.recordings_dir, call_id)
    except InvalidCallId:
        raise NotFound(f"no call {call_id}") from None
    except RecordingDeleted as exc:
        raise ApiError(str(exc), code="recording_deleted", status=410) from None
    except RecordingNotFound as exc:
        raise NotFound(str(exc), code="no_recording") from None
    except UnsafeRecordingPath as exc:
        log.warning("recording of %s refused: %s", call_id, exc)
        raise NotFound(f"no recording for call {call_id}", code="no_recording") from None
    except RecordingsDirectoryMissing as exc:
        raise ApiError(str(exc), code="recordings_unavailable", status=503) from None
    except RecordingError as exc:
        raise ApiError(str(exc), code="recordings_unavailable", status=503) from None
    try:
        byte_range = parse_range(ctx.request.headers.get("Range"), size)
    except InvalidRange:
        byte_range = None  # RFC 7233: a bad Range header is ignored
    except RangeNotSatisfiable:
        return web.Response(
            status=416,
            headers={"Content-Range": content_range(size), "Accept-Ranges": "bytes"},
        )
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": AUDIO_TYPES.get(Path(path).suffix.lower(), "application/octet-stream"),
        "Content-Disposition": f'inline; filename="{call_id}{Path(path).suffix.lower()}"',
    }
    if byte_range is None:
        start, end, status = 0, size - 1, 200
    else:
        start, end = byte_range
        status = 206
        headers["Content-Range"] = content_range(size, byte_range)
    headers["Content-Length"] = str(max(0, end - start + 1))
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(ctx.request)
    if end >= start:
        chunks = iter_file(path, start, end)
        try:
            while True:
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    break
                await response.write(chunk)
        finally:
            chunks.close()
    await response.write_eof()
    return response


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/calls",
        search_calls,
        "Search calls (date range, agent, topic, caller number, outcome), newest first",
        TAG,
        ALL_ROLES,
        query=CallSearchQuery,
        response=CallSearchResponse,
        description="Agents see only their own calls.",
    ),
    Endpoint(
        "GET",
        "/api/calls/{call_id}",
        get_call,
        "One call: its record, disposition and recording",
        TAG,
        ALL_ROLES,
        response=CallDetail,
        path_params=CALL_ID_PARAM,
    ),
    Endpoint(
        "GET",
        "/api/calls/{call_id}/timeline",
        get_timeline,
        "A call's timeline with the routing explanation of each offer",
        TAG,
        ALL_ROLES,
        response=TimelineResponse,
        path_params=CALL_ID_PARAM,
    ),
    Endpoint(
        "GET",
        "/api/calls/{call_id}/recording",
        get_recording,
        "The call's recording, streamed; supports Range (206, 416)",
        TAG,
        ALL_ROLES,
        path_params=CALL_ID_PARAM,
        media_types=tuple(dict.fromkeys(AUDIO_TYPES.values())),
        responses={
            206: "part of the recording (Range)",
            410: "deleted by retention",
            416: "the range is past the end",
            503: "the recordings directory is unavailable",
        },
        headers={
            200: {"Accept-Ranges": "bytes", "Content-Length": "the size"},
            206: {"Content-Range": "bytes START-END/SIZE", "Accept-Ranges": "bytes"},
            416: {"Content-Range": "bytes */SIZE"},
        },
    ),
]
