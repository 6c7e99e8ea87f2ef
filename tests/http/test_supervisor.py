"""The wallboard (queues, agents, service level), its WebSocket, and report downloads."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import WSMsgType
from http_support import Api

from acd.storage.models import Call

TIMEOUT = 5.0


async def _calls_today(api: Api) -> None:
    """Three calls today: answered after 10 s, answered after 400 s, abandoned."""
    now = datetime.fromtimestamp(api.clock(), UTC)
    async with api.sessions() as session, session.begin():
        for n, (wait, outcome, topic) in enumerate(
            [
                (10.0, "answered", "billing"),
                (400.0, "answered", "billing"),
                (30.0, "abandoned", None),
            ]
        ):
            arrived = now - timedelta(hours=1, minutes=n)
            session.add(
                Call(
                    id=f"1789990000.{n}",
                    arrived_at=arrived,
                    queued_at=arrived,
                    queue_id="hotline",
                    caller_number=f"+7916000000{n}",
                    agent_id="a1" if outcome == "answered" else None,
                    wait_seconds=wait,
                    talk_seconds=120.0 if outcome == "answered" else None,
                    answered_at=arrived + timedelta(seconds=wait)
                    if outcome == "answered"
                    else None,
                    ended_at=arrived + timedelta(seconds=wait + 120),
                    outcome=outcome,
                    topic=topic,
                )
            )


async def test_queues_show_waiting_calls_with_estimates(api: Api) -> None:
    headers = await api.login("sup")
    api.queue_call("1790000000.1")  # nobody logged in: it waits
    api.clock.advance(15)
    api.queue_call("1790000000.2", caller="+79990000000")
    await api.agent_login("agent2")  # a2 takes the first
    body = await (await api.client.get("/api/supervisor/queues", headers=headers)).json()
    hotline = next(q for q in body["queues"] if q["id"] == "hotline")
    assert (hotline["waiting"], hotline["ringing"], hotline["connected"]) == (1, 1, 0)
    assert hotline["longest_wait_seconds"] == 20.0
    waiting = next(c for c in hotline["calls"] if c["status"] == "waiting")
    assert waiting["call_id"] == "1790000000.2"
    assert waiting["estimate"]["position"] == 1
    assert waiting["estimate"]["eligible_agents"] == 1
    assert waiting["estimate"]["mean_seconds"] > 0
    ringing = next(c for c in hotline["calls"] if c["status"] == "ringing")
    assert ringing["agent_id"] == "a2" and ringing["estimate"] is None


async def test_agents_by_state_with_time_and_reason(api: Api) -> None:
    headers = await api.login("admin")
    await api.agent_login("agent1")
    api.center.agent_command("a1", "break", "lunch")
    api.clock.advance(125)
    body = await (await api.client.get("/api/supervisor/agents", headers=headers)).json()
    assert body["by_state"]["break"] == 1 and body["by_state"]["logged_out"] == 1
    a1 = next(a for a in body["agents"] if a["agent_id"] == "a1")
    assert (a1["state"], a1["reason"], a1["seconds_in_state"]) == ("break", "lunch", 125.0)


async def test_service_level_today(any_db_api: Api) -> None:
    api = any_db_api
    await _calls_today(api)
    headers = await api.login("sup")
    body = await (await api.client.get("/api/supervisor/service-level", headers=headers)).json()
    overall = body["overall"]
    assert (overall["received"], overall["answered"], overall["lost"]) == (3, 2, 1)
    assert overall["threshold_seconds"] == 300.0
    assert overall["answered_within"] == 1
    assert overall["service_level_pct"] == 50.0
    hotline = next(q for q in body["queues"] if q["queue"] == "hotline")
    assert hotline["threshold_seconds"] == 20.0 and hotline["answered_within"] == 1


async def test_the_wallboard_socket_pushes_on_change(api: Api) -> None:
    headers = await api.login("sup")
    async with api.client.ws_connect("/api/ws/supervisor", headers=headers) as ws:
        first = await ws.receive(timeout=TIMEOUT)
        assert first.type is WSMsgType.TEXT
        snap: dict[str, Any] = first.json()
        assert snap["type"] == "snapshot"
        assert snap["agents"]["by_state"]["logged_out"] == 2
        assert snap["service_level"]["overall"]["received"] == 0
        await api.agent_login("agent1")
        second = (await ws.receive(timeout=TIMEOUT)).json()
        assert second["agents"]["by_state"]["available"] == 1
        api.queue_call("1790000000.3")
        third = (await ws.receive(timeout=TIMEOUT)).json()
        hotline = next(q for q in third["queues"]["queues"] if q["id"] == "hotline")
        assert hotline["ringing"] == 1


async def test_the_wallboard_socket_pushes_every_interval(
    api_factory: Any, sqlite_url: str
) -> None:
    api = await api_factory(sqlite_url, push_interval=0.01)
    try:
        headers = await api.login("admin")
        async with api.client.ws_connect("/api/ws/supervisor", headers=headers) as ws:
            for _ in range(3):  # no event at all: still pushed
                assert (await ws.receive(timeout=TIMEOUT)).json()["type"] == "snapshot"
    finally:
        await api.close()


async def test_agents_cannot_open_the_wallboard(api: Api) -> None:
    response = await api.client.get("/api/ws/supervisor", headers=await api.login("agent1"))
    assert response.status == 403


async def test_report_downloads_csv_and_xlsx(any_db_api: Api) -> None:
    api = any_db_api
    await _calls_today(api)
    headers = await api.login("qa")
    day = datetime.fromtimestamp(api.clock(), UTC).date().isoformat()
    response = await api.client.get(
        f"/api/reports/calls?from={day}&to={day}&format=csv", headers=headers
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert any("3" in row for row in rows)  # received
    response = await api.client.get(
        f"/api/reports/topics?from={day}&to={day}&format=xlsx", headers=headers
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(await response.read())) as book:
        assert "xl/workbook.xml" in book.namelist()
    for name in ("detail", "agents"):
        response = await api.client.get(f"/api/reports/{name}?from={day}&to={day}", headers=headers)
        assert response.status == 200, name
    detail = await (
        await api.client.get(
            f"/api/reports/detail?from={day}&to={day}&caller=9160000001", headers=headers
        )
    ).text()
    assert "+79160000001" in detail and "+79160000000" not in detail


async def test_report_input_is_checked(api: Api) -> None:
    headers = await api.login("sup")
    for query in (
        "from=2026-09-30&to=2026-09-01",  # backwards
        "from=2026-02-30&to=2026-03-01",  # not a date
        "from=2026-09-01",  # no end
        "from=2026-09-01&to=2026-09-02&format=pdf",
        "from=2026-09-01&to=2026-09-02&by=year",
    ):
        response = await api.client.get(f"/api/reports/calls?{query}", headers=headers)
        assert response.status == 400, query
        assert (await response.json())["error"] == "invalid_request"
    response = await api.client.get(
        "/api/reports/nonsense?from=2026-09-01&to=2026-09-02", headers=headers
    )
    assert response.status == 404
    response = await api.client.get(
        "/api/reports/calls?from=2026-09-01&to=2026-09-02", headers=await api.login("agent1")
    )
    assert response.status == 403
