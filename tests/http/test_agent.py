"""The agent's desk: shift, presence, call notes, transfer, callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from http_support import PASSWORDS, Api
from sqlalchemy import select

from acd.core.agents import AgentState
from acd.core.calls import CallStatus, SkillRequirement
from acd.core.errors import RoutingError
from acd.http.deps import TransferRequest
from acd.storage.models import Call, Callback


def _at(api: Api, seconds: float = 0.0) -> datetime:
    return datetime.fromtimestamp(api.clock() + seconds, UTC)


async def _call_row(api: Api, call_id: str, agent_id: str | None, **values: Any) -> None:
    async with api.sessions() as session, session.begin():
        session.add(
            Call(
                id=call_id,
                arrived_at=_at(api, -60),
                agent_id=agent_id,
                caller_number=values.pop("caller_number", "+79161234567"),
                **values,
            )
        )


async def _on_call(api: Api, call_id: str = "1790000000.7") -> dict[str, str]:
    headers = await api.agent_login("agent1")
    api.queue_call(call_id)
    api.answer(call_id, "a1")
    assert api.center.router.agent("a1").state is AgentState.ON_CALL
    return headers


async def test_agent_login_starts_the_shift_and_logout_ends_it(api: Api) -> None:
    router = api.center.router
    assert router.agent("a1").state is AgentState.LOGGED_OUT
    response = await api.client.post(
        "/api/agent/login", json={"agent_id": "a1", "password": PASSWORDS["agent1"]}
    )
    assert response.status == 200
    body = await response.json()
    assert body["agent"]["state"] == "available"
    assert body["user"]["agent_id"] == "a1"
    assert router.agent("a1").state is AgentState.AVAILABLE
    states = [e.data for e in api.sink.memory.events if e.kind == "agent_state"]
    assert states[-1]["old"] == "logged_out" and states[-1]["new"] == "available"
    headers = {"Authorization": f"Bearer {body['token']}"}
    response = await api.client.post("/api/agent/logout", headers=headers)
    assert response.status == 200
    assert (await response.json())["state"] == "logged_out"
    assert router.agent("a1").state is AgentState.LOGGED_OUT
    assert (await api.client.get("/api/agent/state", headers=headers)).status == 401


async def test_agent_login_with_the_wrong_password_or_agent(api: Api) -> None:
    response = await api.client.post(
        "/api/agent/login", json={"agent_id": "a1", "password": PASSWORDS["agent2"]}
    )
    assert response.status == 401
    response = await api.client.post(
        "/api/agent/login", json={"agent_id": "zz", "password": PASSWORDS["agent1"]}
    )
    assert response.status == 401
    assert api.center.router.agent("a1").state is AgentState.LOGGED_OUT


async def test_break_ready_and_illegal_changes(api: Api) -> None:
    headers = await api.agent_login("agent1")
    response = await api.client.post("/api/agent/break", json={"reason": "обед"}, headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["state"] == "break" and body["reason"] == "обед"
    api.clock.advance(90)
    state = await (await api.client.get("/api/agent/state", headers=headers)).json()
    assert state["seconds_in_state"] == 90.0
    response = await api.client.post("/api/agent/ready", headers=headers)
    assert (await response.json())["state"] == "available"
    response = await api.client.post("/api/agent/wrap-up/end", headers=headers)
    assert response.status == 409
    assert (await response.json())["error"] == "illegal_transition"
    response = await api.client.post("/api/agent/break", json={"reason": ""}, headers=headers)
    assert response.status == 400


async def test_end_wrap_up_early(api: Api) -> None:
    headers = await _on_call(api)
    api.clock.advance(30)
    api.center.caller_hung_up("1790000000.7")
    assert api.center.router.agent("a1").state is AgentState.WRAP_UP
    response = await api.client.post("/api/agent/wrap-up/end", headers=headers)
    assert response.status == 200
    assert (await response.json())["state"] == "available"


async def test_an_agent_user_without_a_routed_agent_is_409(api: Api) -> None:
    admin = await api.login("admin")
    response = await api.client.post(
        "/api/admin/agents", json={"id": "a9", "skills": {"operator": 1}}, headers=admin
    )
    assert response.status == 201  # no phone: not routed
    response = await api.client.post(
        "/api/admin/users",
        json={"username": "nine", "password": "nine-secret", "role": "agent", "agent_id": "a9"},
        headers=admin,
    )
    assert response.status == 201
    response = await api.client.post(
        "/api/agent/login", json={"agent_id": "a9", "password": "nine-secret"}
    )
    assert response.status == 409
    assert (await response.json())["error"] == "agent_not_routed"


async def test_disposition_of_the_current_call(any_db_api: Api) -> None:
    api = any_db_api
    headers = await _on_call(api)
    await _call_row(api, "1790000000.7", "a1", topic="registration")
    payload = {
        "topic": "e-signature",
        "disposition": "resolved",
        "notes": "Сертификат просрочен.\nПодсказал, где продлить.",
        "ticket": "SP-1234",
    }
    response = await api.client.post("/api/agent/disposition", json=payload, headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body == {"call_id": "1790000000.7", "stored": True, **payload}
    async with api.sessions() as session:
        row = await session.get(Call, "1790000000.7")
    assert row is not None
    assert (row.topic, row.ticket, row.notes) == ("e-signature", "SP-1234", payload["notes"])
    events = api.sink.memory.timeline("1790000000.7")
    disposition = [e for e in events if e.kind == "disposition"]
    assert disposition and disposition[0].data["disposition"] == "resolved"
    assert disposition[0].data["agent_id"] == "a1"


async def test_disposition_of_the_last_call_and_of_a_named_one(api: Api) -> None:
    headers = await _on_call(api)
    api.center.caller_hung_up("1790000000.7")
    api.center.agent_command("a1", "wrapup-done")
    assert api.center.router.agent("a1").call_id is None
    # The row is not written yet: the event is recorded, the row is not changed.
    response = await api.client.post(
        "/api/agent/disposition", json={"ticket": "SP-9"}, headers=headers
    )
    assert response.status == 200
    body = await response.json()
    assert body["call_id"] == "1790000000.7" and body["stored"] is False
    # Someone else's call, and a made-up one, are not found.
    await _call_row(api, "1790000000.8", "a2")
    for call_id in ("1790000000.8", "1790000000.99", "..", "a/b"):
        response = await api.client.post(
            "/api/agent/disposition", json={"call_id": call_id, "topic": "x"}, headers=headers
        )
        assert response.status in (400, 404), call_id
    response = await api.client.post("/api/agent/disposition", json={}, headers=headers)
    assert response.status == 400


async def test_disposition_without_any_call_is_404(api: Api) -> None:
    headers = await api.agent_login("agent2")
    response = await api.client.post(
        "/api/agent/disposition", json={"topic": "other"}, headers=headers
    )
    assert response.status == 404
    assert (await response.json())["error"] == "no_call"


async def test_transfer_goes_to_the_hook(api_factory: Any, sqlite_url: str) -> None:
    requests: list[TransferRequest] = []

    async def hook(request: TransferRequest) -> None:
        requests.append(request)

    api = await api_factory(sqlite_url, transfer=hook)
    try:
        headers = await api.agent_login("agent1")
        response = await api.client.post(
            "/api/agent/transfer", json={"skill": "billing"}, headers=headers
        )
        assert response.status == 409  # no call yet
        api.queue_call("1790000000.7")
        api.answer("1790000000.7", "a1")
        response = await api.client.post(
            "/api/agent/transfer", json={"skill": "sales"}, headers=headers
        )
        assert response.status == 400
        assert (await response.json())["fields"][0]["field"] == "skill"
        response = await api.client.post(
            "/api/agent/transfer",
            json={"skill": "billing", "min_level": 2, "reason": "счёт"},
            headers=headers,
        )
        assert response.status == 202
        assert (await response.json())["status"] == "handed_over"
        [request] = requests
        assert (request.call_id, request.agent_id, request.skill, request.min_level) == (
            "1790000000.7",
            "a1",
            "billing",
            2,
        )
        assert request.caller_channel == "PJSIP/trunk-1790000000.7"
        kinds = [e.kind for e in api.sink.memory.timeline("1790000000.7")]
        assert "transfer_requested" in kinds
    finally:
        await api.close()


async def test_a_failing_transfer_hook_is_502(api_factory: Any, sqlite_url: str) -> None:
    def hook(request: TransferRequest) -> None:
        raise RuntimeError("no AMI link")

    api = await api_factory(sqlite_url, transfer=hook)
    try:
        headers = await _on_call(api)
        response = await api.client.post(
            "/api/agent/transfer", json={"skill": "billing"}, headers=headers
        )
        assert response.status == 502
        assert (await response.json())["error"] == "transfer_failed"
    finally:
        await api.close()


async def test_transfer_without_hook_is_only_recorded(api: Api) -> None:
    headers = await _on_call(api)
    response = await api.client.post(
        "/api/agent/transfer", json={"skill": "billing"}, headers=headers
    )
    assert response.status == 202
    assert (await response.json())["status"] == "requested"


async def test_book_a_callback(any_db_api: Api) -> None:
    api = any_db_api
    headers = await _on_call(api)
    due = (_at(api) + timedelta(hours=3)).astimezone(ZoneInfo("Europe/Moscow"))
    response = await api.client.post(
        "/api/agent/callbacks",
        json={"due_at": due.isoformat(), "email": "user@example.org"},
        headers=headers,
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["number"] == "+79161234567"
    assert body["call_id"] == "1790000000.7"
    assert body["status"] == "pending" and body["queue_id"] == "hotline"
    async with api.sessions() as session:
        rows = (await session.execute(select(Callback))).scalars().all()
    assert len(rows) == 1
    assert rows[0].due_at == due.astimezone(UTC)
    assert rows[0].email == "user@example.org"
    assert "callback_booked" in [e.kind for e in api.sink.memory.timeline("1790000000.7")]


async def test_callback_times_are_checked(api: Api) -> None:
    headers = await api.agent_login("agent2")
    past = (_at(api) - timedelta(minutes=1)).isoformat()
    naive = (_at(api) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    far = (_at(api) + timedelta(days=400)).isoformat()
    for due in (past, naive, far):
        response = await api.client.post(
            "/api/agent/callbacks", json={"due_at": due, "number": "+79990001122"}, headers=headers
        )
        assert response.status == 400, due
        assert "due_at" in {f["field"] for f in (await response.json())["fields"]}
    soon = (_at(api) + timedelta(hours=1)).isoformat()
    response = await api.client.post("/api/agent/callbacks", json={"due_at": soon}, headers=headers)
    assert response.status == 400  # no call, no number
    response = await api.client.post(
        "/api/agent/callbacks", json={"due_at": soon, "number": "+79990001122"}, headers=headers
    )
    assert response.status == 201
    assert (await response.json())["call_id"] is None


async def test_the_call_centre_transfer_requeues_the_call_in_its_place(api: Api) -> None:
    """``CallCenter.transfer`` (what the daemon's hook calls before moving the caller): the
    agent's part ends as ``transferred`` and wrap-up follows; the call waits again for the
    new skill with its original arrival time and its IVR data; refusals are RoutingErrors."""
    center = api.center
    await api.agent_login("agent1")
    info = api.queue_call("1790000000.8")
    assert center.router.calls["1790000000.8"].status is CallStatus.RINGING
    with pytest.raises(RoutingError, match="no connected call"):
        center.transfer("1790000000.8", "a1", (SkillRequirement("billing", 2),))
    api.answer("1790000000.8", "a1")
    with pytest.raises(RoutingError, match="no connected call"):
        center.transfer("1790000000.8", "a2", (SkillRequirement("billing", 2),))  # not theirs
    with pytest.raises(RoutingError, match="unknown skill"):
        center.transfer("1790000000.8", "a1", (SkillRequirement("sales", 1),))
    assert center.router.calls["1790000000.8"].status is CallStatus.CONNECTED  # untouched

    again = center.transfer("1790000000.8", "a1", (SkillRequirement("billing", 2),), "refund")
    assert center.router.agent("a1").state is AgentState.WRAP_UP
    call = center.router.calls["1790000000.8"]
    assert (call.status, call.arrived_at) == (CallStatus.WAITING, info.arrived_at)
    assert call.requirements == (SkillRequirement("billing", 2),)
    assert (again.topic, again.scenario, again.accepted_by) == ("registration", "hotline", None)
    assert center.calls["1790000000.8"] is again
    assert center.call_by_channel[info.channel] == "1790000000.8"
    events = api.sink.memory.timeline("1790000000.8")
    finished = [e for e in events if e.kind == "finished"]
    assert [(e.data["outcome"], e.data["agent_id"]) for e in finished] == [("transferred", "a1")]
    assert finished[0].data["transfer_skills"] == "billing:2"
    kinds = [e.kind for e in events]
    assert kinds[kinds.index("finished") :][:3] == ["finished", "transferred", "queued"]
