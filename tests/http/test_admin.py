"""Administration: skills, agents (applied to the running router), users, scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from http_support import PASSWORDS, Api

from acd.core.agents import AgentState
from acd.http import directory_scenario_hook
from acd.scenario import RoutingFacts
from acd.scenario.registry import ScenarioRegistry

SCENARIO = """\
name: support
version: {version}
languages: [ru]
time_zone: Europe/Moscow
entry_points:
  default: hello
nodes:
  hello: {{type: play, prompt: {{ru: support/hello-{version}}}, next: wait}}
  wait: {{type: queue, skills: {{operator: 1}}}}
"""

BROKEN = """\
name: support
languages: [ru]
time_zone: Europe/Moscow
entry_points:
  default: hello
nodes:
  hello: {type: play, prompt: {ru: support/hello}, next: nowhere}
  wait: {type: queue, skills: {sales: 1}}
"""


async def test_skills_crud(any_db_api: Api) -> None:
    api = any_db_api
    headers = await api.login("admin")
    client = api.client
    listed = await (await client.get("/api/admin/skills", headers=headers)).json()
    assert {s["id"]: s["source"] for s in listed} == {"billing": "config", "operator": "config"}
    assert next(s for s in listed if s["id"] == "operator")["agents"] == 2
    response = await client.post(
        "/api/admin/skills", json={"id": "sales", "name": "Продажи"}, headers=headers
    )
    assert response.status == 201
    assert await response.json() == {
        "id": "sales",
        "name": "Продажи",
        "agents": 0,
        "source": "database",
    }
    assert "sales" in api.center.router.skills
    again = await client.post("/api/admin/skills", json={"id": "sales"}, headers=headers)
    assert again.status == 409
    response = await client.patch(
        "/api/admin/skills/sales", json={"name": "Sales"}, headers=headers
    )
    assert (await response.json())["name"] == "Sales"
    assert (await client.delete("/api/admin/skills/operator", headers=headers)).status == 409
    assert (await client.delete("/api/admin/skills/sales", headers=headers)).status == 204
    assert (await client.delete("/api/admin/skills/sales", headers=headers)).status == 404
    assert (
        await client.patch("/api/admin/skills/zz", json={"name": "x"}, headers=headers)
    ).status == 404
    response = await client.post("/api/admin/skills", json={"id": "bad id!"}, headers=headers)
    assert response.status == 400


async def test_agents_crud_reaches_the_router(any_db_api: Api) -> None:
    api = any_db_api
    headers = await api.login("admin")
    client = api.client
    router = api.center.router
    payload = {
        "id": "a3",
        "name": "Vera",
        "phone": "1003",
        "languages": ["ru", "kk"],
        "skills": {"billing": 3},
    }
    response = await client.post("/api/admin/agents", json=payload, headers=headers)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["source"] == "database" and body["live_state"] == "logged_out"
    assert router.agent("a3").profile.skills == {"billing": 3}
    assert api.center.agents_by_phone["1003"].id == "a3"
    # Levels change at once.
    response = await client.patch(
        "/api/admin/agents/a3", json={"skills": {"billing": 5, "operator": 2}}, headers=headers
    )
    assert response.status == 200
    assert router.agent("a3").profile.skills == {"billing": 5, "operator": 2}
    listed = await (await client.get("/api/admin/agents", headers=headers)).json()
    assert [a["id"] for a in listed] == ["a1", "a2", "a3"]
    assert listed[0]["source"] == "config"
    # A taken phone, an unknown skill, a duplicate.
    conflict = await client.post(
        "/api/admin/agents", json={**payload, "id": "a4", "phone": "1001"}, headers=headers
    )
    assert conflict.status == 409
    unknown = await client.post(
        "/api/admin/agents", json={**payload, "id": "a4", "skills": {"sales": 1}}, headers=headers
    )
    assert unknown.status == 400
    assert (await unknown.json())["fields"][0]["field"] == "skills.sales"
    assert (await client.post("/api/admin/agents", json=payload, headers=headers)).status == 409
    # Logged in: not deleted.
    api.center.agent_command("a3", "login")
    assert (await client.delete("/api/admin/agents/a3", headers=headers)).status == 409
    api.center.agent_command("a3", "logout")
    assert (await client.delete("/api/admin/agents/a3", headers=headers)).status == 204
    assert "a3" not in router.agents and "1003" not in api.center.agents_by_phone
    assert (await client.get("/api/admin/agents/a3", headers=headers)).status == 404


async def test_configured_agents_can_be_edited_not_deleted(api: Api) -> None:
    headers = await api.login("admin")
    response = await api.client.patch(
        "/api/admin/agents/a2", json={"name": "Boris B."}, headers=headers
    )
    assert response.status == 200
    body = await response.json()
    assert body["source"] == "database" and body["skills"] == {"operator": 1}
    assert api.center.router.agent("a2").profile.name == "Boris B."
    response = await api.client.delete("/api/admin/agents/a1", headers=headers)
    assert response.status == 409
    # Deactivated while logged out: out of routing.
    response = await api.client.patch(
        "/api/admin/agents/a2", json={"active": False}, headers=headers
    )
    assert response.status == 200
    assert "a2" not in api.center.router.agents


async def test_a_logged_in_agent_keeps_routing_until_logout(api: Api) -> None:
    headers = await api.login("admin")
    api.center.agent_command("a1", "login")
    response = await api.client.patch("/api/admin/agents/a1", json={"phone": None}, headers=headers)
    assert response.status == 200
    assert "logged in" in response.headers["X-ACD-Note"]
    assert api.center.router.agent("a1").state is AgentState.AVAILABLE


async def test_users_crud(any_db_api: Api) -> None:
    api = any_db_api
    headers = await api.login("admin")
    client = api.client
    response = await client.post(
        "/api/admin/users",
        json={"username": "olga", "password": "olga-password", "role": "supervisor"},
        headers=headers,
    )
    assert response.status == 201
    assert (await response.json())["role"] == "supervisor"
    olga = await client.post("/api/login", json={"username": "olga", "password": "olga-password"})
    assert olga.status == 200
    olga_headers = {"Authorization": f"Bearer {(await olga.json())['token']}"}
    assert (await client.get("/api/supervisor/agents", headers=olga_headers)).status == 200
    # Changing the role ends her sessions.
    response = await client.patch("/api/admin/users/olga", json={"role": "qa"}, headers=headers)
    assert response.status == 200 and (await response.json())["role"] == "qa"
    assert (await client.get("/api/me", headers=olga_headers)).status == 401
    users = await (await client.get("/api/admin/users", headers=headers)).json()
    assert "olga" in [u["username"] for u in users]
    assert "password_hash" not in str(users)
    checks = [
        ({"username": "olga", "password": "olga-password", "role": "qa"}, 409),
        ({"username": "x1", "password": "short", "role": "qa"}, 400),
        ({"username": "x1", "password": "long-enough", "role": "agent"}, 400),
        ({"username": "x1", "password": "long-enough", "role": "agent", "agent_id": "zz"}, 400),
        ({"username": "x1", "password": "long-enough", "role": "qa", "agent_id": "a1"}, 400),
        ({"username": "x1", "password": "long-enough", "role": "boss"}, 400),
    ]
    for payload, status in checks:
        response = await client.post("/api/admin/users", json=payload, headers=headers)
        assert response.status == status, payload
    assert (await client.delete("/api/admin/users/olga", headers=headers)).status == 204
    assert (await client.get("/api/admin/users/olga", headers=headers)).status == 404


async def test_the_last_admin_stays(api: Api) -> None:
    headers = await api.login("admin")
    client = api.client
    response = await client.delete("/api/admin/users/admin", headers=headers)
    assert response.status == 409
    response = await client.patch("/api/admin/users/admin", json={"role": "qa"}, headers=headers)
    assert response.status == 409
    assert (await response.json())["error"] == "last_admin"
    response = await client.patch("/api/admin/users/admin", json={"active": False}, headers=headers)
    assert response.status == 409
    # With a second admin, the first may go (but not by their own hand).
    await client.patch("/api/admin/users/sup", json={"role": "admin"}, headers=headers)
    response = await client.patch(
        "/api/admin/users/admin", json={"password": "a-new-password"}, headers=headers
    )
    assert response.status == 200
    assert (await client.get("/api/me", headers=headers)).status == 401  # sessions ended
    login = await client.post("/api/login", json={"username": "sup", "password": PASSWORDS["sup"]})
    sup = {"Authorization": f"Bearer {(await login.json())['token']}"}
    assert (await client.delete("/api/admin/users/sup", headers=sup)).status == 409
    assert (await client.delete("/api/admin/users/admin", headers=sup)).status == 204


async def test_scenario_upload_reports_line_and_column(api: Api) -> None:
    headers = await api.login("admin")
    response = await api.client.post(
        "/api/admin/scenarios", json={"content": BROKEN}, headers=headers
    )
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "invalid_scenario"
    problems = body["problems"]
    nowhere = next(p for p in problems if "nowhere" in p["message"])
    assert nowhere["line"] == 7 and nowhere["column"] > 1
    assert any(p["line"] == 8 and "sales" in p["message"] for p in problems)
    assert body["fields"][0]["field"].startswith("content:")
    response = await api.client.post(
        "/api/admin/scenarios", json={"content": "name: [unclosed"}, headers=headers
    )
    assert response.status == 400
    assert (await response.json())["problems"][0]["line"] == 1


async def _upload(api: Api, headers: dict[str, str], version: int, activate: bool) -> Any:
    response = await api.client.post(
        "/api/admin/scenarios",
        json={"content": SCENARIO.format(version=version), "activate": activate},
        headers=headers,
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def test_scenario_versions_activate_and_roll_back(
    api_factory: Any, db_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "served"
    registry = ScenarioRegistry(
        directory, RoutingFacts(skills=frozenset({"operator", "billing"}), queues=None)
    )
    registry.reload()
    api = await api_factory(db_url, scenario_hook=directory_scenario_hook(registry))
    try:
        admin = await api.login("admin")
        first = await _upload(api, admin, 1, activate=True)
        assert first["version"]["version"] == 1 and first["activation"]["applied"] is True
        assert registry.get("support") is not None
        assert registry.get("support").scenario.version == "1"  # type: ignore[union-attr]
        second = await _upload(api, admin, 2, activate=False)
        assert second["version"]["active"] is False and second["activation"] is None
        assert registry.get("support").scenario.version == "1"  # type: ignore[union-attr]
        response = await api.client.post(
            "/api/admin/scenarios/support/versions/2/activate", headers=admin
        )
        assert response.status == 200
        assert (await response.json())["previous_version"] == 1
        assert registry.get("support").scenario.version == "2"  # type: ignore[union-attr]
        response = await api.client.post("/api/admin/scenarios/support/rollback", headers=admin)
        assert response.status == 200
        body = await response.json()
        assert (body["version"], body["previous_version"]) == (1, 2)
        assert registry.get("support").scenario.version == "1"  # type: ignore[union-attr]
        history = await (
            await api.client.get("/api/admin/scenarios/support/versions", headers=admin)
        ).json()
        assert [(v["version"], v["author"], v["active"]) for v in history["versions"]] == [
            (1, "admin", True),
            (2, "admin", False),
        ]
        assert [(a["version"], a["action"], a["by"]) for a in history["activations"]] == [
            (1, "activate", "admin"),
            (2, "activate", "admin"),
            (1, "rollback", "admin"),
        ]
        content = await (
            await api.client.get("/api/admin/scenarios/support/versions/2", headers=admin)
        ).json()
        assert "hello-2" in content["content"]
        listed = await (await api.client.get("/api/admin/scenarios", headers=admin)).json()
        assert listed == [
            {
                "name": "support",
                "active_version": 1,
                "latest_version": 2,
                "updated_at": listed[0]["updated_at"],
            }
        ]
        for path in (
            "/api/admin/scenarios/support/versions/9",
            "/api/admin/scenarios/other/versions",
            "/api/admin/scenarios/support/versions/0",
        ):
            assert (await api.client.get(path, headers=admin)).status == 404, path
    finally:
        await api.close()


async def test_rollback_needs_an_earlier_version(api: Api) -> None:
    headers = await api.login("admin")
    await _upload(api, headers, 1, activate=False)
    response = await api.client.post("/api/admin/scenarios/support/rollback", headers=headers)
    assert response.status == 409  # nothing active
    await api.client.post("/api/admin/scenarios/support/versions/1/activate", headers=headers)
    response = await api.client.post("/api/admin/scenarios/support/rollback", headers=headers)
    assert response.status == 409
    assert (await response.json())["error"] == "no_previous"
    response = await api.client.get("/api/admin/scenarios/support/versions", headers=headers)
    activation = (await response.json())["activations"][0]
    assert activation["applied"] is False  # no hook: the database only


async def test_a_refusing_hook_changes_nothing(api_factory: Any, sqlite_url: str) -> None:
    api = await api_factory(sqlite_url, scenario_hook=lambda name, content: ["it is Friday"])
    try:
        headers = await api.login("admin")
        await _upload(api, headers, 1, activate=False)
        response = await api.client.post(
            "/api/admin/scenarios/support/versions/1/activate", headers=headers
        )
        assert response.status == 409
        assert (await response.json())["problems"][0]["message"] == "it is Friday"
        history = await (
            await api.client.get("/api/admin/scenarios/support/versions", headers=headers)
        ).json()
        assert history["versions"][0]["active"] is False and history["activations"] == []
    finally:
        await api.close()


async def test_admin_endpoints_are_admin_only(api: Api) -> None:
    for user in ("sup", "qa", "agent1"):
        headers = await api.login(user)
        for path in ("/api/admin/skills", "/api/admin/agents", "/api/admin/users"):
            assert (await api.client.get(path, headers=headers)).status == 403
