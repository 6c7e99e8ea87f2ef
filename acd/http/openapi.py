"""The OpenAPI 3.1 document, made from the endpoint declarations and their pydantic models.

Nothing here is written by hand per operation: paths, methods, parameters (path patterns,
query models), request bodies, answers and the roles allowed all come from
:class:`~acd.http.routes.Endpoint`, so the document is what the server does. A test checks
that every aiohttp route is in the document and every operation of the document is a route.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from acd import __version__ as _version
from acd.http.models import ErrorModel
from acd.http.routes import Endpoint

__all__ = ["build_openapi"]

REF = "#/components/schemas/{model}"
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    206: "Partial content",
    400: "Invalid input: the fields that are wrong",
    401: "Not logged in, or the token expired",
    403: "The role may not do this",
    404: "No such thing",
    409: "Conflict with the current state",
    410: "Gone",
    416: "Range not satisfiable",
    426: "Upgrade to WebSocket required",
    429: "Too many attempts",
    502: "The telephony layer failed",
    503: "A dependency is unavailable",
}


@functools.cache
def _model_schema(model: type[BaseModel], mode: str) -> dict[str, Any]:
    return model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def _schema(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = copy.deepcopy(_model_schema(model, mode))
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        return schema

    def ref(self, model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
        self.components[model.__name__] = self._schema(model, mode)
        return {"$ref": REF.format(model=model.__name__)}

    def properties(self, model: type[BaseModel]) -> dict[str, Any]:
        return self._schema(model, "validation")


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: absent means None, so no ``null`` branch."""
    schema = copy.deepcopy(schema)
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            del schema["anyOf"]
            schema.update(rest[0])
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


def _query_parameters(endpoint: Endpoint, schemas: _Schemas) -> list[dict[str, Any]]:
    if endpoint.query is None:
        return []
    model = schemas.properties(endpoint.query)
    required = set(model.get("required", ()))
    out = []
    for name, schema in model.get("properties", {}).items():
        parameter = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_null(schema),
        }
        if "description" in schema:
            parameter["description"] = schema["description"]
        out.append(parameter)
    return out


def _error(schemas: _Schemas, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schemas.ref(ErrorModel, "serialization")}},
    }


def _media(media: str) -> dict[str, Any]:
    if media.startswith("application/json"):
        return {"schema": {"type": "object"}}
    if media.startswith("text/"):
        return {"schema": {"type": "string"}}
    return {"schema": {"type": "string", "format": "binary"}}


def _operation(endpoint: Endpoint, schemas: _Schemas) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
    }
    roles = sorted(r.value for r in endpoint.roles) if endpoint.roles is not None else []
    description = endpoint.description
    if endpoint.roles is None:
        description = ("No login needed. " + description).strip()
        op["security"] = []
    else:
        description = (f"Roles: {', '.join(roles)}. " + description).strip()
        op["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
    op["description"] = description
    op["x-roles"] = roles
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": param.description,
            "schema": param.schema(),
        }
        for name, param in endpoint.path_params.items()
    ]
    parameters += _query_parameters(endpoint, schemas)
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text in endpoint.extra_query
    ]
    if parameters:
        op["parameters"] = parameters
    if endpoint.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.ref(endpoint.body)}},
        }
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": STATUS_TEXT.get(endpoint.status, "OK")}
    if endpoint.websocket:
        responses["101"] = {"description": "Switching to the WebSocket protocol"}
        responses["426"] = _error(schemas, STATUS_TEXT[426])
    elif endpoint.media_types:
        success["content"] = {media: _media(media) for media in endpoint.media_types}
        responses[str(endpoint.status)] = success
    elif endpoint.response is not None:
        schema = schemas.ref(endpoint.response, "serialization")
        if endpoint.many:
            schema = {"type": "array", "items": schema}
        success["content"] = {"application/json": {"schema": schema}}
        responses[str(endpoint.status)] = success
    else:
        responses[str(endpoint.status)] = success
    for status, text in endpoint.responses.items():
        if status < 300 and status != 101:
            entry: dict[str, Any] = {"description": text}
            if endpoint.media_types:
                entry["content"] = {media: _media(media) for media in endpoint.media_types}
            responses[str(status)] = entry
        elif status in endpoint.other_models:
            model = schemas.ref(endpoint.other_models[status], "serialization")
            responses[str(status)] = {
                "description": text,
                "content": {"application/json": {"schema": model}},
            }
        elif status == 416:
            responses[str(status)] = {"description": text}
        else:
            responses[str(status)] = _error(schemas, text)
    if endpoint.body is not None or endpoint.query is not None:
        responses.setdefault("400", _error(schemas, STATUS_TEXT[400]))
    if endpoint.roles is not None:
        responses.setdefault("401", _error(schemas, STATUS_TEXT[401]))
        responses.setdefault("403", _error(schemas, STATUS_TEXT[403]))
    if endpoint.path_params:
        responses.setdefault("404", _error(schemas, STATUS_TEXT[404]))
    for status, headers in endpoint.headers.items():
        if str(status) in responses:
            responses[str(status)]["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in headers.items()
            }
    op["responses"] = dict(sorted(responses.items()))
    return op


def build_openapi(endpoints: Iterable[Endpoint], *, title: str = "acd API") -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": _version,
            "description": (
                "The ACD's HTTP API: agents, supervisors, QA and admins. See docs/api.md. "
                "Errors are {error, message, fields?}."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "acd_session"},
            },
        },
    }
