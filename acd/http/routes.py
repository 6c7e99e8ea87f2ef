"""Declaring the API: one :class:`Endpoint` per operation, from which both the aiohttp routes
and the OpenAPI document (:mod:`acd.http.openapi`) are made, so the two cannot drift apart.

An endpoint names its method and path, the roles allowed (``None``: no login needed), the
pydantic models of its query string and JSON body, and the model of its answer. The wrapper
made by :func:`wrap` runs, in order: authentication (401), the role check (403), path
parameters (404 when one is not an ID at all), the query string and the body (400 with the
field errors), then the handler with a :class:`Ctx`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from acd.http.errors import BadRequest, Forbidden, NotFound, Unauthorized, validation_fields
from acd.storage.models import Role

if TYPE_CHECKING:
    from acd.http.auth import Principal
    from acd.http.state import ApiState

__all__ = [
    "ALL_ROLES",
    "STAFF",
    "Ctx",
    "Endpoint",
    "PathParam",
    "json_response",
    "wrap",
]

ALL_ROLES: frozenset[Role] = frozenset(Role)
STAFF: frozenset[Role] = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.QA})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Sent with every cookie-authenticated request that changes something (see docs/api.md).
CSRF_HEADER = "X-Requested-With"

B = TypeVar("B")
Q = TypeVar("Q")


@dataclass(frozen=True, slots=True)
class PathParam:
    """A path parameter: a pattern it must match (else 404) and its OpenAPI schema."""

    pattern: str
    description: str
    integer: bool = False
    maximum: int = 2**31 - 1
    choices: tuple[str, ...] = ()

    def parse(self, text: str) -> str | int:
        if re.fullmatch(self.pattern, text) is None:
            raise NotFound(f"no such {self.description}: {text[:80]!r}")
        if self.integer:
            value = int(text)
            if not 1 <= value <= self.maximum:
                raise NotFound(f"no such {self.description}: {text[:80]!r}")
            return value
        return text

    def schema(self) -> dict[str, Any]:
        if self.integer:
            return {"type": "integer", "minimum": 1, "maximum": self.maximum}
        if self.choices:
            return {"type": "string", "enum": list(self.choices)}
        return {"type": "string", "pattern": f"^(?:{self.pattern})$"}


@dataclass(slots=True)
class Ctx(Generic[B, Q]):
    """What a handler gets: the request, the API's state, the logged-in user (``None`` on a
    public endpoint), and the validated path, query and body."""

    request: web.Request
    state: ApiState
    user: Principal | None
    path: dict[str, Any]
    query: Q
    body: B

    @property
    def principal(self) -> Principal:
        """The user; only on endpoints that require a login."""
        assert self.user is not None
        return self.user


Handler = Callable[[Ctx[Any, Any]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    roles: frozenset[Role] | None  # None: public
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    #: The answer is a JSON array of ``response``.
    many: bool = False
    status: int = 200
    #: The answer's media type when it is not JSON (e.g. "text/csv"); binary or text.
    media_types: tuple[str, ...] = ()
    path_params: Mapping[str, PathParam] = field(default_factory=dict)
    #: Other answers worth documenting: status -> description.
    responses: Mapping[int, str] = field(default_factory=dict)
    #: The body model of one of those answers when it is not the error shape.
    other_models: Mapping[int, type[BaseModel]] = field(default_factory=dict)
    websocket: bool = False
    #: Extra answer headers by status, for the document: status -> {name: description}.
    headers: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    #: Query parameters outside the model (documented only), e.g. the WebSocket token.
    extra_query: Sequence[tuple[str, str]] = ()

    @property
    def operation_id(self) -> str:
        name = getattr(self.handler, "__name__", "handler").strip("_")
        return name


def json_response(
    data: BaseModel | Mapping[str, Any] | Sequence[Any], status: int = 200
) -> web.Response:
    """A JSON answer (UTF-8, non-ASCII kept as is)."""
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    return web.json_response(
        payload, status=status, dumps=lambda value: json.dumps(value, ensure_ascii=False)
    )


def _parse_query(model: type[BaseModel], request: web.Request) -> BaseModel:
    data: dict[str, str] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in request.query:
            data[key] = request.query[key]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(
            "invalid query parameters", fields=validation_fields(exc, "query")
        ) from None


async def _parse_body(model: type[BaseModel], request: web.Request) -> BaseModel:
    raw = await request.read()
    if not raw.strip():
        raise BadRequest(
            "a JSON body is required", fields=[{"field": "(body)", "message": "empty body"}]
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(error.get("type") == "json_invalid" for error in exc.errors()):
            raise BadRequest(
                "the body is not valid JSON",
                code="invalid_json",
                fields=[{"field": "(body)", "message": "not valid JSON"}],
            ) from None
        raise BadRequest("invalid payload", fields=validation_fields(exc)) from None


def wrap(endpoint: Endpoint, state: ApiState) -> Callable[[web.Request], Awaitable[Any]]:
    """The aiohttp handler of ``endpoint``: checks, validation, then the endpoint's handler."""

    async def handle(request: web.Request) -> web.StreamResponse:
        user = None
        if endpoint.roles is not None:
            user = state.auth.authenticate(request, allow_query=endpoint.websocket)
            if user is None:
                raise Unauthorized()
            if user.role not in endpoint.roles:
                allowed = ", ".join(sorted(r.value for r in endpoint.roles))
                raise Forbidden(f"this needs one of the roles {allowed}; you are {user.role.value}")
            if (
                user.via_cookie
                and request.method not in SAFE_METHODS
                and not request.headers.get(CSRF_HEADER)
            ):
                raise Forbidden(
                    f"a request authenticated by the session cookie must send {CSRF_HEADER}",
                    code="csrf",
                )
        path = {
            name: param.parse(request.match_info[name])
            for name, param in endpoint.path_params.items()
        }
        query = _parse_query(endpoint.query, request) if endpoint.query is not None else None
        body = await _parse_body(endpoint.body, request) if endpoint.body is not None else None
        return await endpoint.handler(Ctx(request, state, user, path, query, body))

    handle.__name__ = endpoint.operation_id
    return handle
