"""QA: call search, a call's record and timeline, recordings streamed with HTTP ranges."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from http_support import Api

from acd.storage.models import AgentStateLog, Call, CallEventRow, Recording

DAY = datetime(2026, 9, 10, 9, 0, tzinfo=UTC)  # 12:00 Moscow


async def _calls(api: Api) -> None:
    async with api.sessions() as session, session.begin():
        for n in range(12):
            session.add(
                Call(
                    id=f"1789000000.{n}",
                    arrived_at=DAY + timedelta(days=n % 3, minutes=n),
                    caller_number="+79161234567" if n % 2 else "+74950000000",
                    queue_id="hotline",
                    agent_id="a1" if n < 8 else "a2",
                    topic="billing" if n % 4 == 0 else "registration",
                    ticket=f"SP-{n}",
                    outcome="answered" if n != 5 else "abandoned",
                    wait_seconds=float(n),
                    talk_seconds=60.0,
                )
            )
        session.add_all(
            [
                CallEventRow(
                    call_id="1789000000.1",
                    at=DAY - timedelta(seconds=2),
                    kind="digits",
                    data={"node": "menu", "keys": "2", "prompts": ["hotline/menu"]},
                ),
                CallEventRow(
                    call_id="1789000000.1",
                    at=DAY,
                    kind="queued",
                    data={"queue": "hotline", "skills": "operator:1"},
                ),
                CallEventRow(
                    call_id="1789000000.1",
                    at=DAY + timedelta(seconds=1),
                    kind="offered",
                    data={
                        "agent_id": "a1",
                        "trigger": "call_waiting",
                        "candidates": ["a1", "a3"],
                        "candidate_count": 2,
                        "excluded": {"a2": "on_break"},
                        "excluded_counts": {"on_break": 1},
                    },
                ),
                CallEventRow(
                    call_id="1789000000.1",
                    at=DAY + timedelta(seconds=5),
                    kind="connected",
                    data={"agent_id": "a1"},
                ),
                CallEventRow(
                    call_id="1789000000.1",
                    at=DAY + timedelta(seconds=65),
                    kind="disposition",
                    data={"disposition": "resolved", "agent_id": "a1"},
                ),
                # The wrap-up that followed (the writer's agent_states row), and another
                # call's, which is not this call's timeline.
                AgentStateLog(
                    agent_id="a1",
                    state="wrap_up",
                    call_id="1789000000.1",
                    started_at=DAY + timedelta(seconds=60),
                    ended_at=DAY + timedelta(seconds=75.5),
                ),
                AgentStateLog(
                    agent_id="a1",
                    state="wrap_up",
                    call_id="1789000000.2",
                    started_at=DAY + timedelta(seconds=90),
                ),
            ]
        )


async def test_search_filters_and_pages(any_db_api: Api) -> None:
    api = any_db_api
    await _calls(api)
    headers = await api.login("qa")
    client = api.client

    async def search(query: str) -> dict:  # type: ignore[type-arg]
        response = await client.get(f"/api/calls?{query}", headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()  # type: ignore[no-any-return]

    everything = await search("page_size=5")
    assert everything["total"] == 12 and len(everything["items"]) == 5
    ids = [item["id"] for item in everything["items"]]
    assert ids[0] == "1789000000.11"  # newest first
    page3 = await search("page_size=5&page=3")
    assert len(page3["items"]) == 2
    assert (await search("agent=a2"))["total"] == 4
    assert (await search("topic=billing"))["total"] == 3
    assert (await search("outcome=abandoned"))["total"] == 1
    assert (await search("caller=9161234567"))["total"] == 6
    assert (await search("from=2026-09-11&to=2026-09-11"))["total"] == 4
    assert (await search("from=2026-09-12"))["total"] == 4
    assert (await search("to=2026-09-10"))["total"] == 4
    item = (await search("agent=a2&topic=billing"))["items"][0]
    assert item["ticket"] == "SP-8" and item["outcome"] == "answered"
    for bad in ("page=0", "page_size=1000", "outcome=lost", "from=yesterday", "caller=abc"):
        response = await client.get(f"/api/calls?{bad}", headers=headers)
        assert response.status == 400, bad
        assert (await response.json())["fields"]


async def test_agents_see_only_their_own_calls(api: Api) -> None:
    await _calls(api)
    headers = await api.login("agent2")
    body = await (await api.client.get("/api/calls", headers=headers)).json()
    assert body["total"] == 4
    assert {item["agent_id"] for item in body["items"]} == {"a2"}
    assert (await api.client.get("/api/calls?agent=a1", headers=headers)).status == 403
    for path in ("", "/timeline", "/recording"):
        response = await api.client.get(f"/api/calls/1789000000.1{path}", headers=headers)
        assert response.status == 404, path
    assert (await api.client.get("/api/calls/1789000000.9", headers=headers)).status == 200


async def test_call_detail_and_timeline_with_explanation(any_db_api: Api) -> None:
    api = any_db_api
    await _calls(api)
    headers = await api.login("sup")
    detail = await (await api.client.get("/api/calls/1789000000.1", headers=headers)).json()
    assert detail["ticket"] == "SP-1"
    assert detail["disposition"] == "resolved"
    assert detail["recording"] is None
    response = await api.client.get("/api/calls/1789000000.1/timeline", headers=headers)
    assert response.status == 200
    events = (await response.json())["events"]
    assert events[0]["summary"] == "pressed 2 at menu"
    events = events[1:]
    assert [e["kind"] for e in events] == [
        "queued",
        "offered",
        "connected",
        "wrap_up",
        "disposition",
        "wrap_up_ended",
    ]
    assert events[3]["data"] == {"agent_id": "a1"}
    assert events[5]["data"] == {"agent_id": "a1", "seconds": 15.5}
    assert events[5]["summary"] == "a1 finished wrap-up after 15.5 s"
    offered = events[1]
    assert offered["data"]["excluded"] == {"a2": "on_break"}
    assert "offered to a1" in offered["summary"]
    assert "1 on_break" in offered["summary"]
    assert "a1, a3" in offered["summary"]
    for path in ("/api/calls/1789000000.99", "/api/calls/1789000000.99/timeline"):
        assert (await api.client.get(path, headers=headers)).status == 404


def _write(directory: Path, name: str, size: int) -> bytes:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    (directory / name).write_bytes(data)
    return data


async def test_recording_streams_with_ranges(any_db_api: Api) -> None:
    api = any_db_api
    await _calls(api)
    data = _write(api.recordings, "1789000000.1.wav", 200_000)
    headers = await api.login("qa")
    url = "/api/calls/1789000000.1/recording"
    response = await api.client.get(url, headers=headers)
    assert response.status == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == "audio/wav"
    assert int(response.headers["Content-Length"]) == len(data)
    assert await response.read() == data

    response = await api.client.get(url, headers={**headers, "Range": "bytes=100-199"})
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert await response.read() == data[100:200]

    response = await api.client.get(url, headers={**headers, "Range": "bytes=-10"})
    assert response.status == 206
    assert await response.read() == data[-10:]

    response = await api.client.get(url, headers={**headers, "Range": "bytes=150000-"})
    assert response.status == 206
    assert await response.read() == data[150000:]

    response = await api.client.get(url, headers={**headers, "Range": "bytes=999999-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(data)}"

    response = await api.client.get(url, headers={**headers, "Range": "bytes=9-1"})
    assert response.status == 200  # a malformed range is ignored
    assert len(await response.read()) == len(data)


async def test_recording_from_the_index_and_deleted_ones(api: Api) -> None:
    await _calls(api)
    (api.recordings / "2026").mkdir()
    data = _write(api.recordings / "2026", "x.ogg", 1000)
    async with api.sessions() as session, session.begin():
        session.add(
            Recording(call_id="1789000000.2", path="2026/x.ogg", created_at=DAY, size_bytes=1000)
        )
        session.add(
            Recording(
                call_id="1789000000.3",
                path="gone.wav",
                created_at=DAY,
                deleted_at=DAY + timedelta(days=700),
            )
        )
    headers = await api.login("qa")
    response = await api.client.get("/api/calls/1789000000.2/recording", headers=headers)
    assert response.status == 200 and response.headers["Content-Type"] == "audio/ogg"
    assert await response.read() == data
    detail = await (await api.client.get("/api/calls/1789000000.2", headers=headers)).json()
    assert detail["recording"]["url"] == "/api/calls/1789000000.2/recording"
    response = await api.client.get("/api/calls/1789000000.3/recording", headers=headers)
    assert response.status == 410
    response = await api.client.get("/api/calls/1789000000.4/recording", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"] == "no_recording"


async def test_no_path_leaves_the_recordings_directory(api: Api, tmp_path: Path) -> None:
    await _calls(api)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"secret")
    os.symlink(secret, api.recordings / "1789000000.6.wav")  # a link pointing outside
    async with api.sessions() as session, session.begin():
        session.add(Recording(call_id="1789000000.7", path="../secret.wav", created_at=DAY))
    headers = await api.login("admin")
    for call_id in (
        "1789000000.6",
        "1789000000.7",
        "..",
        "%2e%2e",
        "..%2fsecret",
        "%2e%2e%2fsecret.wav",
        ".hidden",
        "a..b",
    ):
        response = await api.client.get(f"/api/calls/{call_id}/recording", headers=headers)
        assert response.status == 404, call_id
        assert await response.read() != b"secret"
    response = await api.client.get("/api/calls/../../etc/passwd", headers=headers)
    assert response.status == 404
