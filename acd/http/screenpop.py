"""The screen pop: what an agent sees when a call is offered to them and when it connects.

Who is calling (number, name, the number they dialled), what they chose in the IVR (the
scenario's path, topic and category), their language, how long they have waited so far,
their previous calls (topics, tickets, outcomes: the ``calls`` table, newest first) and the
hints for the topic (:mod:`acd.http.hints`).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from acd.http.state import ApiState
from acd.storage.models import Call

log = logging.getLogger(__name__)

HISTORY_LIMIT = 10


async def previous_calls(
    state: ApiState, number: str, exclude: str, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    async with state.sessions() as session:
        rows = (
            await session.execute(
                select(
                    Call.id,
                    Call.arrived_at,
                    Call.topic,
                    Call.ticket,
                    Call.outcome,
                    Call.agent_id,
                    Call.category,
                )
                .where(Call.caller_number == number, Call.id != exclude)
                .order_by(Call.arrived_at.desc(), Call.id.desc())
                .limit(limit)
            )
        ).all()
    return [
        {
            "call_id": row.id,
            "arrived_at": row.arrived_at.isoformat(),
            "topic": row.topic,
            "ticket": row.ticket,
            "outcome": row.outcome,
            "agent_id": row.agent_id,
            "category": row.category,
        }
        for row in rows
    ]


async def screen_pop(state: ApiState, call_id: str, stage: str) -> dict[str, Any]:
    """The screen pop of ``call_id`` at ``stage`` ("offered" or "connected")."""
    center = state.center
    now = state.now()
    info = center.calls.get(call_id)
    call = center.router.calls.get(call_id)
    arrived = call.arrived_at if call is not None else info.arrived_at if info else None
    number = info.caller_number if info is not None else None
    topic = info.topic if info is not None else None
    pop: dict[str, Any] = {
        "type": "screen_pop",
        "stage": stage,
        "call_id": call_id,
        "caller_number": number,
        "caller_name": info.caller_name if info else None,
        "dialled": info.dialled if info else None,
        "queue_id": info.queue_id if info else (call.queue_id if call else None),
        "language": info.language if info else (call.language if call else None),
        "priority": info.priority if info else (call.priority if call else None),
        "ivr": {
            "scenario": info.scenario if info else None,
            "version": info.scenario_version if info else None,
            "path": list(info.ivr_path) if info else [],
            "topic": topic,
            "category": info.category if info else None,
        },
        "wait_seconds": None if arrived is None else round(max(0.0, now - arrived), 1),
        "history": [],
        "hints": state.hints.for_topic(topic).as_dict(),
    }
    if number:
        try:
            pop["history"] = await previous_calls(state, number, call_id)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("screen pop of %s: previous calls unavailable: %s", call_id, exc)
            pop["history_error"] = "previous calls are unavailable (database)"
    return pop
