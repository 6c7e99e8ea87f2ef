"""Who is calling: passwords (argon2), bearer tokens, the session cookie, login rate limits.

* Passwords are stored as argon2id hashes (:func:`hash_password`); verifying one costs tens
  of milliseconds of CPU, so the API does it in a worker thread.
* A login gives an opaque random token (32 bytes, URL-safe). Only its SHA-256 is kept, in
  memory, with the user and an expiry (``token_ttl``, 8 hours by default): a restart of the
  daemon logs everyone out. The same token is set as the ``acd_session`` cookie (HttpOnly,
  SameSite=Strict) for pages; API clients send ``Authorization: Bearer <token>``.
* Failed logins are counted per user name and per client address over a sliding window
  (5 per minute by default); past that, logins answer 429 with ``Retry-After`` until the
  oldest failure leaves the window, whether the password is right or not.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from acd.http.session_store import SessionStore, StoredSession
from acd.storage.models import Role

__all__ = [
    "COOKIE_NAME",
    "Auth",
    "Principal",
    "RateLimiter",
    "TokenStore",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

COOKIE_NAME = "acd_session"
TOKEN_QUERY = "access_token"  # WebSocket clients that cannot set a header

_DEFAULT_HASHER = PasswordHasher()
#: Per hasher's parameters: a hash verified against when the user does not exist, so that
#: the answer takes as long as for a user who does.
_DUMMY_HASHES: dict[tuple[int, int, int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
    )
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash("not a password of anyone")
    return _DUMMY_HASHES[key]


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return (hasher or _DEFAULT_HASHER).hash(password)


def verify_password(
    stored: str | None, password: str, hasher: PasswordHasher | None = None
) -> bool:
    """Whether ``password`` matches the argon2 hash ``stored``; a missing or broken hash never
    matches (and takes as long to say so)."""
    hasher = hasher or _DEFAULT_HASHER
    try:
        return hasher.verify(stored or _dummy_hash(hasher), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, hasher: PasswordHasher | None = None) -> bool:
    try:
        return (hasher or _DEFAULT_HASHER).check_needs_rehash(stored)
    except InvalidHashError:
        return True


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """A logged-in user, as the token says."""

    user_id: int
    username: str
    role: Role
    agent_id: str | None
    token_digest: str
    expires_at: float
    via_cookie: bool = False


@dataclass(slots=True)
class _Session:
    user_id: int
    username: str
    role: Role
    agent_id: str | None
    expires_at: float


class TokenStore:
    """Tokens by their SHA-256, in memory, each with its user and expiry; every change is
    handed to ``persist`` (:class:`~acd.http.session_store.SessionStore`), if any."""

    def __init__(
        self, clock: Callable[[], float], ttl: float, persist: SessionStore | None = None
    ) -> None:
        self.clock = clock
        self.ttl = ttl
        self.persist = persist
        self._sessions: dict[str, _Session] = {}

    def restore(self, stored: Iterable[StoredSession]) -> int:
        """Sessions read back from the database at start (those not expired)."""
        now = self.clock()
        count = 0
        for digest, user_id, username, role, agent_id, expires_at in stored:
            if expires_at <= now or role not in Role.__members__.values():
                continue
            self._sessions[digest] = _Session(user_id, username, Role(role), agent_id, expires_at)
            count += 1
        return count

    def issue(
        self, user_id: int, username: str, role: Role, agent_id: str | None
    ) -> tuple[str, float]:
        """A new token and its expiry (epoch seconds)."""
        self._purge()
        token = secrets.token_urlsafe(32)
        expires_at = self.clock() + self.ttl
        digest = token_digest(token)
        self._sessions[digest] = _Session(user_id, username, role, agent_id, expires_at)
        if self.persist is not None:
            self.persist.added(digest, user_id, expires_at)
        return token, expires_at

    def lookup(self, token: str, *, via_cookie: bool = False) -> Principal | None:
        digest = token_digest(token)
        session = self._sessions.get(digest)
        if session is None:
            return None
        if session.expires_at <= self.clock():
            self._forget([digest])
            return None
        return Principal(
            session.user_id,
            session.username,
            session.role,
            session.agent_id,
            digest,
            session.expires_at,
            via_cookie,
        )

    def valid(self, digest: str) -> bool:
        session = self._sessions.get(digest)
        return session is not None and session.expires_at > self.clock()

    def revoke(self, digest: str) -> None:
        self._forget([digest] if digest in self._sessions else [])

    def revoke_user(self, user_id: int) -> int:
        """End every session of a user (deactivated, deleted, password or role changed)."""
        gone = [d for d, s in self._sessions.items() if s.user_id == user_id]
        self._forget(gone)
        return len(gone)

    def _forget(self, digests: list[str]) -> None:
        for digest in digests:
            del self._sessions[digest]
        if digests and self.persist is not None:
            self.persist.removed(digests)

    def __len__(self) -> int:
        return len(self._sessions)

    def _purge(self) -> None:
        now = self.clock()
        self._forget([d for d, s in self._sessions.items() if s.expires_at <= now])


class RateLimiter:
    """At most ``limit`` failures per key within ``window`` seconds (a sliding window)."""

    MAX_KEYS = 10_000

    def __init__(self, clock: Callable[[], float], limit: int, window: float) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait before trying again, or None if the key may try now."""
        times = self._recent(key)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - self.clock()))

    def fail(self, key: str) -> None:
        if len(self._failures) >= self.MAX_KEYS:  # many names tried: forget the stale ones
            for stale in list(self._failures):
                self._recent(stale)
        times = self._recent(key)
        if times is None:
            times = self._failures[key] = deque()
        times.append(self.clock())
        while len(times) > self.limit:
            times.popleft()

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)


class Auth:
    """Finds the :class:`Principal` of a request: bearer token, else session cookie (else,
    on WebSocket endpoints only, the ``access_token`` query parameter)."""

    def __init__(self, tokens: TokenStore) -> None:
        self.tokens = tokens

    def authenticate(self, request: web.Request, *, allow_query: bool = False) -> Principal | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return self.tokens.lookup(value.strip())
        cookie = request.cookies.get(COOKIE_NAME)
        if cookie:
            return self.tokens.lookup(cookie, via_cookie=True)
        if allow_query:
            token = request.query.get(TOKEN_QUERY)
            if token:
                return self.tokens.lookup(token)
        return None
