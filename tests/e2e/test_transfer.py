"""An agent transfers a connected call to another skill group through the API: the caller
goes back to the music on hold keeping their place, the first agent's leg ends (wrap-up),
the specialist is rung and bridged; the recording holds both parts; the call record says
``transferred`` with the first wait and both agents' talk."""

from __future__ import annotations

import wave
from typing import Any

import aiohttp
from argon2 import PasswordHasher
from e2e_stack import Stack, eventually, make_settings, recordings_directory, stored_calls

from acd.app import App
from acd.core.agents import AgentState
from acd.core.calls import CallStatus, SkillRequirement
from acd.http.auth import hash_password
from acd.routing_config import AgentSettings, RoutingSettings
from acd.storage.models import User

PASSWORD = "first-line-1"


async def start(stack: Stack) -> App:
    base = make_settings(stack.tmp_path, stack.pbx)
    routing = RoutingSettings(
        skills=["operator", "billing"],
        queues=base.routing.queues,
        agents=[
            AgentSettings(id="a1", phone="1001", skills={"operator": 9}, auto_login=True),
            AgentSettings(
                id="a2", phone="1002", skills={"operator": 1, "billing": 5}, auto_login=True
            ),
        ],
        presence_file=base.routing.presence_file,
        journal_file=base.routing.journal_file,
    )
    app = App(base.model_copy(update={"routing": routing}), sink=stack.sink)
    await app.start()
    stack.pbx.point_agi_at("127.0.0.1", app.fastagi.port)
    await app.ami.wait_connected(timeout=5)
    stack.app = app
    async with app.db_sessions() as session, session.begin():
        session.add(
            User(
                username="first",
                password_hash=hash_password(PASSWORD, PasswordHasher(time_cost=1)),
                role="agent",
                agent_id="a1",
                active=True,
            )
        )
    return app


async def api(app: App, method: str, path: str, token: str | None = None, **body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{app.http_port}{path}"
        async with http.request(method, url, json=body, headers=headers) as response:
            return response.status, await response.json()


async def test_an_agent_transfers_a_call_to_a_skill_group(stack: Stack) -> None:
    app = await start(stack)
    pbx = stack.pbx
    first, specialist = pbx.phone("1001"), pbx.phone("1002")
    status, login = await api(app, "POST", "/api/login", username="first", password=PASSWORD)
    assert status == 200, login
    token = login["token"]

    caller = await pbx.place_call("+79161234567", dnid="88005553535")
    first.answer(await first.wait_ringing(timeout=5))  # a1 is the most qualified operator
    await caller.wait_bridged(timeout=5)
    call_id = caller.var("ACD_CALL_ID")
    assert call_id
    await eventually(lambda: app.center.router.agent("a1").state is AgentState.ON_CALL)
    arrived_at = app.center.router.calls[call_id].arrived_at

    status, answer = await api(
        app, "POST", "/api/agent/transfer", token, skill="billing", min_level=3, reason="refund"
    )
    assert status == 202, answer
    assert answer["status"] == "handed_over"
    # a1's part is over; the caller waits with music, for billing >= 3, in their old place
    await eventually(lambda: app.center.router.agent("a1").state is AgentState.WRAP_UP)
    ringing = await specialist.wait_ringing(timeout=5)
    call = app.center.router.calls[call_id]
    assert call.requirements == (SkillRequirement("billing", 3),)
    assert call.arrived_at == arrived_at and call.agent_id == "a2"
    assert caller.var("ACD_SKILLS") == "billing:3"
    await caller.wait_moh()
    await eventually(lambda: not first.channels)  # a1's leg is hung up

    specialist.answer(ringing)
    assert (await caller.wait_bridged(timeout=5)).startswith("PJSIP/1002-")
    await eventually(lambda: app.center.router.calls[call_id].status is CallStatus.CONNECTED)
    caller.hangup()
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.WRAP_UP)

    finished = stack.events(call_id, "finished")
    assert [(f.data["outcome"], f.data["agent_id"]) for f in finished] == [
        ("transferred", "a1"),
        ("answered", "a2"),
    ]
    [moved] = stack.events(call_id, "transferred")
    assert (moved.data["agent_id"], moved.data["skills"], moved.data["reason"]) == (
        "a1",
        "billing:3",
        "refund",
    )
    # One recording with both parts (MixMonitor's "a" option appends the second).
    path = recordings_directory(pbx) / f"{call_id}.wav"
    await eventually(lambda: len([r for r in pbx.recordings if r.finished]) == 2)
    with wave.open(str(path), "rb") as audio:
        seconds = audio.getnframes() / audio.getframerate()
    parts = [r.seconds for r in pbx.recordings if call_id in str(r.path)]
    assert len(parts) == 2 and min(parts) > 0
    assert abs(seconds - sum(parts)) <= 2 / 8000  # whole 8 kHz frames, each part rounded

    # The call record: transferred, the first answer's wait, both agents' talk.
    row = (await stored_calls(stack.tmp_path, stack.events(call_id)))[call_id]
    assert (row.outcome, row.agent_id) == ("transferred", "a2")
    assert row.wait_seconds == finished[0].data["wait_seconds"]
    total = finished[0].data["talk_seconds"] + finished[1].data["talk_seconds"]
    assert abs(row.talk_seconds - total) < 1e-6
    first_answer = stack.events(call_id, "connected")[0].at  # microseconds in the database
    assert abs(row.answered_at.timestamp() - first_answer) < 1e-5


async def test_a_transfer_without_a_connected_call_is_refused(stack: Stack) -> None:
    app = await start(stack)
    status, login = await api(app, "POST", "/api/login", username="first", password=PASSWORD)
    status, answer = await api(app, "POST", "/api/agent/transfer", login["token"], skill="billing")
    assert status == 409 and answer["error"] == "no_call"
