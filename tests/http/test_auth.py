"""Logging in, tokens, the session cookie, roles, and the login rate limits."""

from __future__ import annotations

from typing import Any

from http_support import FAST_HASHER, PASSWORDS, Api, FakeClock

from acd.http.auth import COOKIE_NAME, RateLimiter, TokenStore, hash_password, verify_password
from acd.storage.models import Role


async def test_login_gives_a_token_that_works(any_db_api: Api) -> None:
    client = any_db_api.client
    response = await client.post("/api/login", json={"username": "qa", "password": PASSWORDS["qa"]})
    assert response.status == 200
    body = await response.json()
    assert body["token_type"] == "bearer" and len(body["token"]) >= 40
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "qa",
        "role": "qa",
        "agent_id": None,
        "active": True,
    }
    cookie = response.cookies[COOKIE_NAME]
    assert cookie.value == body["token"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status == 200
    assert (await me.json())["user"]["username"] == "qa"


async def test_wrong_password_and_unknown_user_look_the_same(any_db_api: Api) -> None:
    client = any_db_api.client
    wrong = await client.post("/api/login", json={"username": "qa", "password": "nope"})
    unknown = await client.post("/api/login", json={"username": "ghost", "password": "nope"})
    assert wrong.status == unknown.status == 401
    assert await wrong.json() == await unknown.json()
    assert (await wrong.json())["error"] == "invalid_credentials"


async def test_no_token_is_401_and_wrong_role_is_403(api: Api) -> None:
    client = api.client
    response = await client.get("/api/admin/users")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"] == "unauthorized"
    response = await client.get("/api/admin/users", headers={"Authorization": "Bearer forged"})
    assert response.status == 401
    response = await client.get("/api/admin/users", headers=await api.login("qa"))
    assert response.status == 403
    assert (await response.json())["error"] == "forbidden"
    response = await client.get("/api/supervisor/queues", headers=await api.login("agent1"))
    assert response.status == 403
    response = await client.get("/api/agent/state", headers=await api.login("sup"))
    assert response.status == 403


async def test_every_protected_operation_refuses_without_a_token(api: Api) -> None:
    from acd.http.app import ENDPOINTS

    for endpoint in ENDPOINTS:
        if endpoint.roles is None:
            continue
        path = endpoint.path
        for name in endpoint.path_params:
            path = path.replace("{" + name + "}", "1" if name == "version" else "calls")
        response = await api.client.request(endpoint.method, path)
        assert response.status == 401, (endpoint.method, path)


async def test_logout_ends_the_token(api: Api) -> None:
    headers = await api.login("sup")
    assert (await api.client.post("/api/logout", headers=headers)).status == 204
    assert (await api.client.get("/api/me", headers=headers)).status == 401


async def test_tokens_expire(api: Api) -> None:
    headers = await api.login("sup")
    api.clock.advance(8 * 3600 + 1)
    assert (await api.client.get("/api/me", headers=headers)).status == 401


async def test_cookie_works_and_unsafe_requests_need_the_csrf_header(api: Api) -> None:
    client = api.client
    response = await client.post(
        "/api/login", json={"username": "admin", "password": PASSWORDS["admin"]}
    )
    assert response.status == 200
    # The test client keeps the cookie: GET works with it alone.
    assert (await client.get("/api/admin/users")).status == 200
    refused = await client.post("/api/admin/skills", json={"id": "sales"})
    assert refused.status == 403
    assert (await refused.json())["error"] == "csrf"
    allowed = await client.post(
        "/api/admin/skills", json={"id": "sales"}, headers={"X-Requested-With": "fetch"}
    )
    assert allowed.status == 201
    client.session.cookie_jar.clear()


async def test_inactive_user_cannot_log_in(any_db_api: Api) -> None:
    admin = await any_db_api.login("admin")
    response = await any_db_api.client.patch(
        "/api/admin/users/qa", json={"active": False}, headers=admin
    )
    assert response.status == 200
    response = await any_db_api.client.post(
        "/api/login", json={"username": "qa", "password": PASSWORDS["qa"]}
    )
    assert response.status == 401


async def test_failed_logins_are_limited_per_user(api: Api) -> None:
    client = api.client
    for _ in range(5):
        response = await client.post("/api/login", json={"username": "qa", "password": "x"})
        assert response.status == 401
    response = await client.post("/api/login", json={"username": "qa", "password": PASSWORDS["qa"]})
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    body = await response.json()
    assert body["error"] == "too_many_requests" and body["retry_after"] >= 1
    api.clock.advance(61)
    response = await client.post("/api/login", json={"username": "qa", "password": PASSWORDS["qa"]})
    assert response.status == 200


async def test_failed_logins_are_limited_per_address(api: Api) -> None:
    client = api.client
    for name in ("u1", "u2", "u3", "u4", "u5"):
        await client.post("/api/login", json={"username": name, "password": "x"})
    response = await client.post(
        "/api/login", json={"username": "sup", "password": PASSWORDS["sup"]}
    )
    assert response.status == 429
    assert "Retry-After" in response.headers


async def test_agent_logins_are_limited_too(api: Api) -> None:
    for _ in range(5):
        response = await api.client.post(
            "/api/agent/login", json={"agent_id": "a1", "password": "x"}
        )
        assert response.status == 401
    response = await api.client.post(
        "/api/agent/login", json={"agent_id": "a1", "password": PASSWORDS["agent1"]}
    )
    assert response.status == 429


async def test_bad_login_payloads_are_400_with_fields(api: Api) -> None:
    client = api.client
    cases: list[tuple[Any, str]] = [
        ({"username": "qa"}, "password"),
        ({"username": "qa", "password": "p", "extra": 1}, "extra"),
        ({"username": "a b", "password": "p"}, "username"),
        ({"username": 5, "password": "p"}, "username"),
    ]
    for payload, field in cases:
        response = await client.post("/api/login", json=payload)
        assert response.status == 400, payload
        body = await response.json()
        assert body["error"] == "invalid_request"
        assert field in {f["field"] for f in body["fields"]}
    response = await client.post("/api/login", data=b"{not json")
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_json"
    response = await client.post("/api/login", data=b"")
    assert response.status == 400


async def test_unknown_route_and_method_are_json(api: Api) -> None:
    response = await api.client.get("/api/nothing-here")
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"
    response = await api.client.delete("/api/login")
    assert response.status == 405
    assert (await response.json())["error"] == "method_not_allowed"


# --------------------------------------------------------------------------- units


def test_password_hashes_are_argon2_and_verify() -> None:
    stored = hash_password("correct horse", FAST_HASHER)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse", FAST_HASHER)
    assert not verify_password(stored, "wrong", FAST_HASHER)
    assert not verify_password(None, "anything", FAST_HASHER)
    assert not verify_password("not a hash", "anything", FAST_HASHER)


def test_token_store_keeps_only_digests() -> None:
    clock = FakeClock()
    store = TokenStore(clock, ttl=60)
    token, expires = store.issue(1, "u", Role.QA, None)
    assert expires == clock() + 60
    assert token not in repr(store._sessions)
    principal = store.lookup(token)
    assert principal is not None and principal.username == "u"
    assert store.revoke_user(1) == 1
    assert store.lookup(token) is None


def test_rate_limiter_slides() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, limit=2, window=10)
    limiter.fail("k")
    clock.advance(4)
    limiter.fail("k")
    assert limiter.retry_after("k") == 6
    clock.advance(6)
    assert limiter.retry_after("k") is None
    limiter.clear("k")
    assert len(limiter) == 0
