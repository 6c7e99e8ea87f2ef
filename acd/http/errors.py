"""Errors of the HTTP API: one JSON shape for every failure.

Every error answer is ``{"error": CODE, "message": TEXT}``, plus ``"fields"`` (a list of
``{"field": "a.b", "message": ...}``) when a payload or a query string is invalid. Handlers
raise :class:`ApiError` (or one of the named kinds below); the error middleware
(:func:`acd.http.app.error_middleware`) turns it, aiohttp's own ``HTTPException``\\ s and any
unexpected exception into that shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "TooManyRequests",
    "Unauthorized",
    "error_body",
    "validation_fields",
]

FieldError = dict[str, str]


class ApiError(Exception):
    """An answer other than success: HTTP ``status``, a stable ``code`` and a message."""

    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = list(fields) if fields else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.fields, self.extra)


class BadRequest(ApiError):
    status = 400
    code = "invalid_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "log in first: send 'Authorization: Bearer <token>'") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="acd"'})


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(
            message,
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after},
        )


def error_body(
    code: str,
    message: str,
    fields: Iterable[FieldError] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if fields:
        body["fields"] = list(fields)
    if extra:
        body.update(extra)
    return body


def _location(loc: Sequence[int | str], prefix: str) -> str:
    parts = [str(part) for part in loc]
    if prefix:
        parts.insert(0, prefix)
    return ".".join(parts) or "(body)"


def validation_fields(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as ``[{"field": "skills.billing", "message": ...}]``."""
    out: list[FieldError] = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        message = str(error.get("msg", "invalid value"))
        out.append({"field": _location(error.get("loc", ()), prefix), "message": message})
    return out
