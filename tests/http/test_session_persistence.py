"""API sessions outlive a restart of the daemon: kept in ``api_sessions`` as token digests,
restored at start unless logged out, expired or the user was deactivated."""

from __future__ import annotations

from typing import Any

from http_support import START, Api, FakeClock
from sqlalchemy import select, update

from acd.http.app import STATE
from acd.http.auth import token_digest
from acd.storage.models import ApiSession, Role, User


async def _stored(api: Api) -> None:
    persist = api.app[STATE].tokens.persist
    assert persist is not None
    await persist.flush()


async def _digests(api: Api) -> set[str]:
    async with api.sessions() as session:
        return set((await session.execute(select(ApiSession.token_digest))).scalars())


async def test_sessions_survive_a_restart_but_not_a_logout(api_factory: Any, db_url: str) -> None:
    first: Api = await api_factory(db_url)
    sup = await first.login("sup")
    admin = await first.login("admin")
    qa = await first.login("qa")
    assert (await first.client.post("/api/logout", headers=admin)).status in (200, 204)
    await _stored(first)
    tokens = {name: first.tokens[name] for name in ("sup", "qa")}
    assert await _digests(first) == {token_digest(t) for t in tokens.values()}
    async with first.sessions() as session, session.begin():  # qa is deactivated meanwhile
        await session.execute(update(User).where(User.username == "qa").values(active=False))
    await first.close()

    second: Api = await api_factory(db_url, prepare_database=False)  # the daemon restarted
    try:
        me = await second.client.get("/api/me", headers=sup)
        assert me.status == 200
        assert (await me.json())["user"]["username"] == "sup"
        assert (await second.client.get("/api/me", headers=admin)).status == 401
        assert (await second.client.get("/api/me", headers=qa)).status == 401
    finally:
        await second.close()


async def test_expired_sessions_are_not_restored_and_are_deleted(
    api_factory: Any, db_url: str
) -> None:
    first: Api = await api_factory(db_url)
    headers = await first.login("sup")
    await _stored(first)
    await first.close()

    later = FakeClock(START + 9 * 3600)  # past the 8 h token lifetime
    second: Api = await api_factory(db_url, prepare_database=False, clock=later)
    try:
        assert (await second.client.get("/api/me", headers=headers)).status == 401
        assert await _digests(second) == set()
    finally:
        await second.close()


async def test_without_a_database_sessions_still_work_in_memory(
    api_factory: Any, tmp_path: Any
) -> None:
    """No schema (the database is not there yet): logging in works, storing it is skipped
    with a warning."""
    api: Api = await api_factory(
        f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}", prepare_database=False
    )
    try:
        tokens = api.app[STATE].tokens
        token, _ = tokens.issue(1, "ghost", Role.SUPERVISOR, None)
        await _stored(api)
        assert tokens.lookup(token) is not None
    finally:
        await api.close()
