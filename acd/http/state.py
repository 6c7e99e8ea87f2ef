"""The API's own state, built once per application from :class:`~acd.http.deps.HttpDeps`."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from argon2 import PasswordHasher

from acd.call_events import CallEvent
from acd.http.auth import Auth, RateLimiter, TokenStore
from acd.http.deps import HttpDeps
from acd.http.events import EventHub
from acd.http.hints import Hints

if TYPE_CHECKING:
    from acd.http.metrics import Metrics


@dataclass
class ApiState:
    deps: HttpDeps
    hub: EventHub
    tokens: TokenStore
    auth: Auth
    user_limiter: RateLimiter
    address_limiter: RateLimiter
    hints: Hints
    metrics: Metrics
    recordings_dir: Path
    #: agent ID -> the call they last talked on (from "connected" events)
    last_call: dict[str, str] = field(default_factory=dict)
    #: (queue or None) -> (read at, value): today's service level, cached
    service_level_cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    websockets: weakref.WeakSet[web.WebSocketResponse] = field(default_factory=weakref.WeakSet)
    openapi: dict[str, Any] = field(default_factory=dict)

    @property
    def center(self) -> Any:
        return self.deps.center

    @property
    def sessions(self) -> Any:
        return self.deps.sessions

    @property
    def hasher(self) -> PasswordHasher:
        return self.deps.password_hasher

    def now(self) -> float:
        return self.deps.clock()

    def on_event(self, event: CallEvent) -> None:
        """Remember each agent's last call (for "the current or last call")."""
        if event.kind == "connected":
            agent = event.data.get("agent_id")
            if isinstance(agent, str) and event.call_id:
                self.last_call[agent] = event.call_id

    def emit(self, call_id: str, kind: str, **data: Any) -> None:
        """A call event from the API, into the call centre's sink (journal, writer, hub)."""
        self.deps.center.sink.emit(CallEvent(call_id, self.now(), kind, data))
