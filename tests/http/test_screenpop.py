"""The agent's WebSocket: hello, screen pops when a call is offered and when it connects
(with the caller's previous calls and the topic hints), state changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType
from http_support import Api

from acd.call_events import CallEvent
from acd.http.events import EventHub
from acd.http.hints import Hints
from acd.storage.models import Call

TIMEOUT = 5.0


async def _receive(ws: Any) -> dict[str, Any]:
    message = await ws.receive(timeout=TIMEOUT)
    assert message.type is WSMsgType.TEXT, message
    return message.json()  # type: ignore[no-any-return]


async def _history(api: Api) -> None:
    async with api.sessions() as session, session.begin():
        for n, (topic, ticket) in enumerate([("billing", "SP-1"), ("e-signature", "SP-2")]):
            session.add(
                Call(
                    id=f"1780000000.{n}",
                    arrived_at=datetime(2026, 9, 1 + n, 10, tzinfo=UTC),
                    caller_number="+79161234567",
                    topic=topic,
                    ticket=ticket,
                    outcome="answered",
                    agent_id="a2",
                )
            )
        session.add(
            Call(
                id="1780000000.9",
                arrived_at=datetime(2026, 9, 5, tzinfo=UTC),
                caller_number="+7000",
            )
        )


async def test_screen_pop_on_offer_and_connect(any_db_api: Api) -> None:
    api = any_db_api
    await _history(api)
    headers = await api.agent_login("agent1")
    async with api.client.ws_connect("/api/ws/agent", headers=headers) as ws:
        hello = await _receive(ws)
        assert hello["type"] == "hello" and hello["agent"]["state"] == "available"
        api.queue_call("1790000000.5", topic="e-signature")
        # The offer changes the agent's state first, then the pop follows.
        messages = [await _receive(ws), await _receive(ws)]
        pop = next(m for m in messages if m["type"] == "screen_pop")
        assert pop["stage"] == "offered"
        assert pop["call_id"] == "1790000000.5"
        assert pop["caller_number"] == "+79161234567"
        assert pop["language"] == "ru"
        assert pop["wait_seconds"] == 20.0
        assert pop["ivr"]["path"] == ["welcome", "1", "menu", "2"]
        assert pop["ivr"]["topic"] == "e-signature"
        assert [h["ticket"] for h in pop["history"]] == ["SP-2", "SP-1"]
        assert [h["topic"] for h in pop["history"]] == ["e-signature", "billing"]
        assert pop["hints"]["title"] == "Электронная подпись"
        assert pop["hints"]["hints"]
        api.answer("1790000000.5", "a1")
        kinds = set()
        while "connected" not in kinds:
            message = await _receive(ws)
            kinds.add(message.get("stage") or message["type"])
        assert "state" in kinds
        await ws.send_json({"type": "ping"})
        assert (await _receive(ws))["type"] == "pong"


async def test_reconnecting_during_a_call_shows_it_again(api: Api) -> None:
    headers = await api.agent_login("agent1")
    api.queue_call("1790000000.6", topic=None)
    api.answer("1790000000.6", "a1")
    async with api.client.ws_connect("/api/ws/agent", headers=headers) as ws:
        assert (await _receive(ws))["type"] == "hello"
        pop = await _receive(ws)
        assert pop["type"] == "screen_pop" and pop["stage"] == "connected"
        assert pop["hints"]["topic"] is None and pop["hints"]["hints"]  # the default hints


async def test_other_agents_calls_are_not_shown(api: Api) -> None:
    headers = await api.agent_login("agent2")
    await api.agent_login("agent1")
    api.center.agent_command("a2", "break", "training")
    async with api.client.ws_connect("/api/ws/agent", headers=headers) as ws:
        assert (await _receive(ws))["type"] == "hello"
        api.queue_call("1790000000.7")  # goes to a1
        api.center.agent_command("a2", "ready")
        message = await _receive(ws)
        assert message["type"] == "state" and message["agent"]["state"] == "available"


async def test_the_socket_closes_when_the_session_ends(api: Api) -> None:
    headers = await api.agent_login("agent1")
    async with api.client.ws_connect("/api/ws/agent", headers=headers) as ws:
        assert (await _receive(ws))["type"] == "hello"
        response = await api.client.post("/api/logout", headers=headers)
        assert response.status == 204
        api.center.agent_command("a1", "break", "x")  # any event wakes the socket
        message = await ws.receive(timeout=TIMEOUT)
        assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
        assert ws.close_code == 4401


async def test_websocket_needs_a_token_and_the_role(api: Api) -> None:
    response = await api.client.get("/api/ws/agent")
    assert response.status == 401
    response = await api.client.get("/api/ws/agent", headers=await api.login("sup"))
    assert response.status == 403
    # A plain GET with a token is not a WebSocket.
    response = await api.client.get("/api/ws/agent", headers=await api.agent_login("agent1"))
    assert response.status == 426
    # The token may come in the query string, for browsers' WebSocket.
    token = api.tokens["agent1"]
    async with api.client.ws_connect(f"/api/ws/agent?access_token={token}") as ws:
        assert (await _receive(ws))["type"] == "hello"


def test_hub_drops_the_oldest_for_a_slow_subscriber() -> None:
    hub = EventHub(queue_size=2)
    seen: list[str] = []
    hub.add_listener(lambda e: seen.append(e.kind))
    hub.add_listener(lambda e: 1 / 0)  # a broken listener is logged, not raised
    subscription = hub.subscribe()
    for kind in ("a", "b", "c"):
        hub.emit(CallEvent("1", 0.0, kind))
    assert seen == ["a", "b", "c"]
    assert subscription.dropped == 1
    assert [subscription.get_nowait().kind, subscription.get_nowait().kind] == ["b", "c"]  # type: ignore[union-attr]
    subscription.close()
    assert hub.subscribers == 0


def test_hints_match_names_and_aliases() -> None:
    hints = Hints.load()
    assert hints.for_topic("E-Signature").title == "Электронная подпись"
    assert hints.for_topic("ЭП").title == "Электронная подпись"
    assert hints.for_topic("unknown").topic is None
    assert Hints.from_data({"topics": "nonsense"}).for_topic("x").hints == ()
