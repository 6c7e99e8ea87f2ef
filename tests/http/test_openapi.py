"""The OpenAPI document is served and is exactly the routes of the application."""

from __future__ import annotations

from typing import Any

import schemathesis
from http_support import Api

from acd.http.app import ENDPOINTS
from acd.http.openapi import build_openapi
from acd.http.ui import UI_PREFIX

METHODS = {"get", "post", "put", "patch", "delete"}


def _routes(api: Api) -> set[tuple[str, str]]:
    out = set()
    for route in api.app.router.routes():
        resource = route.resource
        assert resource is not None
        if resource.canonical == UI_PREFIX or resource.canonical.startswith(UI_PREFIX + "/"):
            continue  # the pages (acd/http/ui.py) are not API operations
        out.add((route.method.lower(), resource.canonical))
    return out


def _operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


async def test_every_route_is_in_the_spec_and_back(api: Api) -> None:
    response = await api.client.get("/api/openapi.json")
    assert response.status == 200
    spec = await response.json()
    assert spec["openapi"].startswith("3.")
    assert _routes(api) == _operations(spec)
    assert len(_routes(api)) == len(ENDPOINTS)  # no HEAD or other implicit routes


def test_operation_ids_are_unique_and_documented() -> None:
    spec = build_openapi(ENDPOINTS)
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for item in spec["paths"].values():
        for op in item.values():
            assert op["summary"]
            assert op["responses"]
            if op["security"]:  # needs a login: 401 and 403 are documented
                assert {"401", "403"} <= set(op["responses"])


def test_path_parameters_match_the_path() -> None:
    spec = build_openapi(ENDPOINTS)
    for path, item in spec["paths"].items():
        for op in item.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            in_path = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert declared == in_path, path


def test_schemathesis_loads_the_document() -> None:
    schema = schemathesis.openapi.from_dict(build_openapi(ENDPOINTS))
    operations = list(schema.get_all_operations())
    assert len(operations) == len(ENDPOINTS)
    assert all(op.ok() for op in operations)


def test_roles_are_in_the_document() -> None:
    spec = build_openapi(ENDPOINTS)
    admin_only = spec["paths"]["/api/admin/users"]["get"]
    assert admin_only["x-roles"] == ["admin"]
    public = spec["paths"]["/healthz"]["get"]
    assert public["security"] == [] and public["x-roles"] == []
