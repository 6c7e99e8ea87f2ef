"""What the HTTP API needs from the rest of the daemon, passed in by the App.

:class:`HttpDeps` is the one argument of :func:`acd.http.build_http_app`. Only ``center``,
``sessions`` and ``settings`` are required; the rest have working defaults or switch a
feature off when absent (see each field).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.callcenter import CallCenter
from acd.config import Settings
from acd.http.events import EventHub

__all__ = ["HealthCheck", "HttpDeps", "ScenarioHook", "TransferHook", "TransferRequest"]

#: A health probe: true when the part is up (sync or async).
HealthCheck = Callable[[], bool | Awaitable[bool]]

#: Puts a scenario version live: ``(name, YAML text) -> problems`` (empty: it is served now).
#: See :func:`acd.http.scenarios.directory_scenario_hook` for the one the App uses.
ScenarioHook = Callable[[str, str], list[str] | Awaitable[list[str]]]


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """An agent asked to transfer their connected call to a skill group.

    The API checks the request (the call is the agent's and connected, the skill exists),
    records a ``transfer_requested`` call event and hands this to the ``transfer`` hook; the
    telephony layer carries it out (e.g. re-queue the caller with this requirement and
    release the agent) and reports the outcome as call events of its own.
    """

    call_id: str
    agent_id: str
    skill: str
    min_level: int
    requested_at: datetime
    requested_by: str  # the API user name
    caller_channel: str | None
    agent_channel: str | None
    queue_id: str | None
    reason: str | None = None


#: Carries out a transfer (sync or async); an exception is answered as 502.
TransferHook = Callable[[TransferRequest], Any]


@dataclass
class HttpDeps:
    center: CallCenter
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    #: Wall-clock seconds (the call centre's clock in the daemon; a fake one in tests).
    clock: Callable[[], float] = time.time
    #: Where recordings are; default ``settings.recordings.directory``.
    recordings_dir: Path | None = None
    #: Puts an activated scenario version live; None: versions are only kept in the database.
    scenario_hook: ScenarioHook | None = None
    #: AMI link and FastAGI server probes for /healthz and /metrics; None: reported unknown.
    ami_connected: HealthCheck | None = None
    fastagi_serving: HealthCheck | None = None
    #: The call-event fan-out the App added to the call centre's sink. None: the API wraps
    #: ``center.sink`` with a hub of its own.
    events: EventHub | None = None
    #: Carries out agents' transfer requests; None: the request is only recorded.
    transfer: TransferHook | None = None
    #: Topic hints for screen pops; default acd/http/hints.yaml.
    hints_file: Path | None = None
    token_ttl: float = 8 * 3600.0
    #: Keep the sessions in the database (``api_sessions``): a restart logs nobody out.
    keep_sessions: bool = True
    login_limit: int = 5  # failed logins per user name and per address ...
    login_window: float = 60.0  # ... within this many seconds
    #: The supervisor WebSocket pushes at least this often (and on every change).
    push_interval: float = 1.0
    #: Today's service level is read from the database at most this often.
    service_level_ttl: float = 5.0
    #: Argon2 parameters; tests use cheap ones.
    password_hasher: PasswordHasher = field(default_factory=PasswordHasher)
    #: Mark the session cookie Secure (behind HTTPS).
    secure_cookie: bool = False
