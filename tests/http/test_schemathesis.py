"""Stateless fuzzing of every operation of the OpenAPI document with schemathesis.

The API runs on a real socket in a thread of its own (schemathesis calls it with
``requests``), over SQLite with a few calls, a recording and a scenario in it. Each case
is sent with a fresh token: an admin's, or an agent's for the agent-only operations. A
bounded number of examples per operation keeps this fast. What must hold: no 5xx (except
the documented 503 of a missing dependency, which does not happen here), and every answer
is one the document declares, with the declared media type and body schema. Invalid data
(schemathesis' negative mode) must be refused with a 4xx, never a 5xx.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from http_support import FAST_HASHER, Api, make_api
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from acd.http.app import ENDPOINTS, STATE
from acd.http.openapi import build_openapi
from acd.storage.models import Call, CallEventRow, Role, ScenarioVersion

MAX_EXAMPLES = 6
NEGATIVE_EXAMPLES = 4

schema = schemathesis.openapi.from_dict(build_openapi(ENDPOINTS))
schema.config.generation.update(modes=[GenerationMode.POSITIVE], max_examples=MAX_EXAMPLES)
#: The same operations with data the document says is wrong: 4xx, never 5xx. (Those that
#: take no input at all cannot get wrong input.)
NO_INPUT = [e.operation_id for e in ENDPOINTS if not (e.path_params or e.query or e.body)]
negative = schemathesis.openapi.from_dict(build_openapi(ENDPOINTS)).exclude(operation_id=NO_INPUT)
negative.config.generation.update(modes=[GenerationMode.NEGATIVE], max_examples=NEGATIVE_EXAMPLES)


class Live:
    """The API in a background event loop."""

    def __init__(self, directory: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        url = f"sqlite+aiosqlite:///{directory / 'fuzz.sqlite3'}"
        self.api: Api = self.run(make_api(url, directory, FAST_HASHER))
        self.run(self._seed())
        self.base_url = str(self.api.client.make_url("")).rstrip("/")

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def _seed(self) -> None:
        api = self.api
        api.center.agent_command("a1", "login")
        at = datetime(2026, 9, 20, 9, tzinfo=UTC)
        async with api.sessions() as session, session.begin():
            session.add(Call(id="1790000000.1", arrived_at=at, agent_id="a1", topic="billing"))
            session.add(CallEventRow(call_id="1790000000.1", at=at, kind="queued", data={}))
            session.add(
                ScenarioVersion(
                    scenario="support", version=1, author="admin", created_at=at, content="x: 1"
                )
            )
        (api.recordings / "1790000000.1.wav").write_bytes(b"RIFF" + bytes(400))

    async def _token(self, username: str, role: Role, agent_id: str | None) -> str:
        token, _ = self.api.app[STATE].tokens.issue(1, username, role, agent_id)
        return token

    def headers(self, roles: list[str]) -> dict[str, str]:
        if not roles or "admin" in roles:
            token = self.run(self._token("admin", Role.ADMIN, None))
        else:
            token = self.run(self._token("agent1", Role.AGENT, "a1"))
        return {"Authorization": f"Bearer {token}"}

    def close(self) -> None:
        self.run(self.api.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    server = Live(tmp_path_factory.mktemp("fuzz"))
    try:
        yield server
    finally:
        server.close()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_no_server_errors(case: schemathesis.Case, live: Live) -> None:
    roles = case.operation.definition.raw.get("x-roles", [])
    response = case.call(base_url=live.base_url, headers=live.headers(roles), timeout=30)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


@negative.parametrize()
@settings(
    max_examples=NEGATIVE_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_invalid_input_is_refused_not_crashed(case: schemathesis.Case, live: Live) -> None:
    roles = case.operation.definition.raw.get("x-roles", [])
    response = case.call(base_url=live.base_url, headers=live.headers(roles), timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
