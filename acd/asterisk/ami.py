"""AMI client: panoramisk's ``Manager`` wrapped to cover the known defects of panoramisk 1.4.

What stays panoramisk's: the ``Manager`` (its configuration and ``Manager.connect()``, which
opens the TCP connection with ``loop.create_connection``) and the protocol class, a subclass of
its ``AMIProtocol``. What is ours, point by point, and why:

* **Framing/decoding** (``AMIProtocol.data_received`` decodes each TCP chunk on its own with
  errors ignored, so a Cyrillic name split across two reads loses letters):
  ``_AmiProtocol.data_received`` feeds :class:`~acd.asterisk.ami_codec.AmiFramer`, which splits
  on ``b"\\r\\n\\r\\n"`` first and decodes whole frames, caps frame size and header count and
  reports damaged frames instead of raising.
* **Dispatch** (``Manager.dispatch`` calls handlers inside ``data_received``; one exception
  there makes asyncio close the transport): :meth:`AmiClient._on_messages` calls each handler
  in its own ``try``; async handlers run as tasks whose failures are logged. A last-resort
  ``try`` around all of ``data_received`` keeps even our own bugs from closing the link. It is
  also a dict lookup by event name instead of panoramisk's regex match per registered pattern.
* **Timeouts** (``send_action`` returns a bare future): every action is awaited with
  ``asyncio.wait_for``; :class:`AmiTimeout` on expiry.
* **Half-open TCP** (``Manager.ping`` sends ``Ping`` and never looks at the reply): a watchdog
  task sends ``Ping`` every ``ping_interval`` and aborts the transport if no reply comes within
  ``ping_timeout``, which starts a reconnect.
* **Reconnection** (``Manager.connection_lost`` retries every ``int(reconnect_timeout)``
  seconds - 0.2 s becomes a busy loop of 0 s - and the connect attempt has no timeout):
  one supervisor task connects with ``connect_timeout``, logs in, runs ``on_connected`` hooks,
  and on loss runs ``on_disconnected`` hooks and retries with exponential backoff and jitter
  until :meth:`AmiClient.stop`. So ``Manager.connection_made``/``connection_lost``/``ping``
  are overridden to do bookkeeping only.
* **Replayed actions** (``AMIProtocol.close`` queues unanswered actions and ``Manager`` sends
  them again after the next ``FullyBooted`` - an ``Originate`` would dial twice): unanswered
  actions fail with :class:`AmiNotConnected`; the caller decides. panoramisk's ``FullyBooted``
  callback is unregistered.
* **Login** (a refused login only sets ``authenticated = False``): :class:`AmiLoginError` with
  Asterisk's message, logged at ERROR, retried with backoff.
* **Encoding** (``Action.__str__`` writes CR/LF inside values as is): ``encode_action`` refuses
  them (:class:`~acd.asterisk.ami_codec.HeaderInjectionError`) before anything is sent.
* **``panoramisk.testing``** patches ``panoramisk.utils.EOL`` process-wide: never imported
  here, and neither our framer nor our encoder reads ``utils.EOL``, so a test that imports it
  elsewhere cannot break this client.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import logging
import random
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from panoramisk.ami_protocol import AMIProtocol
from panoramisk.manager import Manager

from acd.asterisk.ami_codec import (
    EVENT,
    AmiFramer,
    AmiMessage,
    FrameError,
    HeaderInjectionError,
    HeaderValue,
    encode_action,
)

__all__ = [
    "AmiActionError",
    "AmiClient",
    "AmiError",
    "AmiList",
    "AmiLoginError",
    "AmiMessage",
    "AmiNotConnected",
    "AmiTimeout",
    "HeaderInjectionError",
]

log = logging.getLogger(__name__)

EventHandler = Callable[[AmiMessage], Any]
"""``handler(message)``; may return an awaitable (async def), which is run as a task."""
Hook = Callable[[], Any]
Headers = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]

_HANDLER_CACHE_MAX = 4096
_FRAME_ERRORS_LOGGED = 100  # then one line per 1000
_DRAIN_MAX = 1024


# -- errors --------------------------------------------------------------------------------


class AmiError(Exception):
    """Base of every error of the AMI client."""


class AmiActionError(AmiError):
    """Asterisk answered the action with ``Response: Error`` (or another failure)."""

    def __init__(self, action: str, response: AmiMessage, text: str | None = None) -> None:
        self.action = action
        self.response = response
        self.message = response.get("Message") or ""
        super().__init__(text or f"{action}: Response: {response.name}: {self.message}")


class AmiLoginError(AmiActionError):
    """Login refused (wrong user or secret, or ACL); Asterisk closes the socket after it."""


class AmiTimeout(AmiError, TimeoutError):
    """No answer within the timeout (action, connect, or ``wait_connected``)."""


class AmiNotConnected(AmiError, ConnectionError):
    """The AMI link is down (or was lost before the answer came)."""


class AmiList(list[AmiMessage]):
    """Items of a list action, plus its first ``response`` and closing ``complete`` event."""

    def __init__(
        self,
        items: Iterable[AmiMessage] = (),
        response: AmiMessage | None = None,
        complete: AmiMessage | None = None,
    ) -> None:
        super().__init__(items)
        self.response = response
        self.complete = complete


# -- panoramisk pieces ---------------------------------------------------------------------


class _Pending:
    __slots__ = ("action", "collect", "future", "items", "protocol", "response")

    def __init__(
        self, action: str, future: asyncio.Future[Any], collect: bool, protocol: _AmiProtocol
    ) -> None:
        self.action = action
        self.future = future
        self.collect = collect
        self.protocol = protocol
        self.items: list[AmiMessage] = []
        self.response: AmiMessage | None = None


class _AmiProtocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol with our framing in ``data_received`` and byte-level ``send``."""

    def __init__(self, client: AmiClient) -> None:
        self.client = client
        self.framer = AmiFramer(on_error=client._on_frame_error)
        self.lost = asyncio.Event()
        self.closed = False
        self.close_reason: str | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # panoramisk's bookkeeping (transport, closed, ...)
        self.log = log

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.framer.feed(data)
            if messages:
                self.client._on_messages(messages)
        except Exception:
            # Nothing may escape: asyncio would close the transport.
            self.client._internal_error("processing data from Asterisk")

    def send(self, data: Any, as_list: bool = False) -> None:
        if not isinstance(data, bytes):
            raise TypeError("send raw frames only; use AmiClient.action()")
        transport = self.transport
        if transport is None or self.closed or transport.is_closing():
            raise AmiNotConnected("AMI link is closed")
        transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.framer.feed_eof()
        self.lost.set()
        self.client._on_link_lost(self, exc)

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def abort(self, reason: str) -> None:
        """Drop the link now, unsent data included (a half-open socket never drains)."""
        if self.close_reason is None:
            self.close_reason = reason
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager, used for its config and ``connect()``; the rest is AmiClient's."""

    def __init__(self, client: AmiClient, host: str, port: int) -> None:
        super().__init__(
            host=host,
            port=port,
            ssl=False,
            encoding="utf-8",
            log=log,
            protocol_factory=functools.partial(_AmiProtocol, client),
        )
        # panoramisk re-sends actions from before a reconnect on FullyBooted: never wanted.
        self.callbacks.clear()
        self.patterns.clear()
        self.awaiting_actions.clear()

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        # Done-callback of connect()'s task. The supervisor awaits the same task and handles
        # failures and retries; panoramisk would schedule its own retry here.
        if f.cancelled() or f.exception() is not None:
            return
        _transport, protocol = f.result()
        self.protocol = protocol
        self._connected = True

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.protocol = None

    def ping(self) -> None:
        """Never scheduled: AmiClient's watchdog sends Ping and checks the reply."""

    def send_action(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("use AmiClient.action() / list_action()")

    def close(self) -> None:
        if self.protocol is not None:
            self.protocol.close()


# -- client --------------------------------------------------------------------------------


def _is_list_end(msg: AmiMessage) -> bool:
    event_list = msg.get("EventList")
    if event_list is not None:
        return event_list.lower() == "complete"
    return msg.name.endswith("Complete")


async def _call_hooks(hooks: list[Hook], what: str) -> int:
    """Run hooks in order (sync or async); log failures; return how many failed."""
    failed = 0
    for hook in list(hooks):
        try:
            result = hook()
            if inspect.isawaitable(result):
                await result
        except Exception:
            failed += 1
            log.exception("AMI %s hook %r failed", what, hook)
    return failed


class AmiClient:
    """Asterisk Manager Interface client: one link, logged in, kept alive, resynchronisable.

    ``start()`` returns at once and connects in the background (forever, with backoff, until
    ``stop()``); ``wait_connected()`` waits for the first login and the ``on_connected`` hooks.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ping_interval: float = 20.0,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        ping_timeout: float | None = None,
        backoff_jitter: float = 0.2,
        events: str = "on",
    ) -> None:
        for label, value in (
            ("action_timeout", action_timeout),
            ("connect_timeout", connect_timeout),
            ("ping_interval", ping_interval),
            ("backoff_initial", backoff_initial),
        ):
            if not value > 0:
                raise ValueError(f"{label} must be > 0, got {value!r}")
        if backoff_max < backoff_initial:
            raise ValueError("backoff_max must be >= backoff_initial")
        if not 0 <= backoff_jitter < 1:
            raise ValueError("backoff_jitter must be in [0, 1)")
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self._events = events
        self._action_timeout = float(action_timeout)
        self._connect_timeout = float(connect_timeout)
        self._ping_interval = float(ping_interval)
        self._ping_timeout = float(ping_timeout if ping_timeout is not None else action_timeout)
        self._backoff_initial = float(backoff_initial)
        self._backoff_max = float(backoff_max)
        self._backoff_jitter = float(backoff_jitter)

        self._manager = _Manager(self, host, port)
        self._handlers: dict[str, list[EventHandler]] = {}
        self._handler_cache: dict[str, tuple[EventHandler, ...]] = {}
        self._connected_hooks: list[Hook] = []
        self._disconnected_hooks: list[Hook] = []
        self._pending: dict[str, _Pending] = {}
        # ActionIDs whose list events must not reach handlers: a list answered to action(),
        # or any action that timed out (its late answer may still come). Insertion-ordered,
        # capped; emptied when the link goes.
        self._draining: dict[str, None] = {}
        self._ids = itertools.count(1)
        self._id_prefix = f"acd-{secrets.token_hex(4)}-"

        self._protocol: _AmiProtocol | None = None  # the logged-in link
        self._session: _AmiProtocol | None = None  # link whose on_disconnected is still owed
        self._connected = False
        self._ready = asyncio.Event()
        self._stop_event = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._watchdog_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._last_error: BaseException | None = None
        self.ami_version: str | None = None

        self._n_frames = 0
        self._n_events = 0
        self._n_responses = 0
        self._n_unmatched = 0
        self._n_frame_errors = 0
        self._n_handler_errors = 0
        self._n_internal_errors = 0
        self._n_hook_errors = 0
        self._n_timeouts = 0
        self._n_logins = 0
        self._n_reconnects = 0
        self._n_connect_failures = 0
        self._n_login_failures = 0
        self._n_watchdog_drops = 0

    # -- subscriptions ---------------------------------------------------------------------

    def on_event(self, name: str, handler: EventHandler) -> None:
        """Call ``handler(message)`` for every event ``name`` (any case), or all with ``"*"``.

        Sync handlers run in wire order inside the read loop (keep them short); an async
        handler is started as a task. A handler that raises is logged and counted, nothing else.
        Handlers for a name run before ``"*"`` handlers. List-action items are not dispatched.
        """
        if not callable(handler):
            raise TypeError("handler must be callable")
        key = "*" if name == "*" else name.lower()
        self._handlers.setdefault(key, []).append(handler)
        self._handler_cache.clear()

    def off_event(self, name: str, handler: EventHandler) -> None:
        key = "*" if name == "*" else name.lower()
        handlers = self._handlers.get(key, [])
        if handler in handlers:
            handlers.remove(handler)
        self._handler_cache.clear()

    def on_connected(self, callback: Hook) -> None:
        """``callback()`` (sync or async) after every successful login, before
        ``wait_connected()`` returns: the place to resynchronise state. Events arriving
        meanwhile are dispatched as usual. Keep it bounded: reconnection waits for it."""
        self._connected_hooks.append(callback)

    def on_disconnected(self, callback: Hook) -> None:
        """``callback()`` (sync or async) once each logged-in link is lost or stopped."""
        self._disconnected_hooks.append(callback)

    # -- state -----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Logged in and the link is up (true already while ``on_connected`` hooks run)."""
        return self._connected

    @property
    def last_error(self) -> BaseException | None:
        """Why the last connect/login attempt failed (None once logged in)."""
        return self._last_error

    @property
    def stats(self) -> dict[str, int]:
        errors = (
            self._n_frame_errors
            + self._n_handler_errors
            + self._n_internal_errors
            + self._n_hook_errors
        )
        return {
            "frames": self._n_frames,
            "events": self._n_events,
            "responses": self._n_responses,
            "errors": errors,
            "frame_errors": self._n_frame_errors,
            "handler_errors": self._n_handler_errors,
            "hook_errors": self._n_hook_errors,
            "internal_errors": self._n_internal_errors,
            "unmatched_responses": self._n_unmatched,
            "timeouts": self._n_timeouts,
            "logins": self._n_logins,
            "reconnects": self._n_reconnects,
            "connect_failures": self._n_connect_failures,
            "login_failures": self._n_login_failures,
            "watchdog_drops": self._n_watchdog_drops,
        }

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background; returns at once."""
        if self._task is not None:
            raise RuntimeError("AmiClient already started")
        loop = asyncio.get_running_loop()
        self._manager.loop = loop
        self._stopping = False
        self._ready = asyncio.Event()  # fresh: a restart may run in another event loop
        self._stop_event = asyncio.Event()
        self._task = loop.create_task(self._run(), name=f"ami-{self.host}:{self.port}")

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until logged in and the ``on_connected`` hooks ran; ``AmiTimeout`` (with the
        last connect/login error) after ``timeout`` seconds; ``None`` waits forever."""
        if self._ready.is_set():
            return
        if self._task is None:
            raise AmiNotConnected("AmiClient is not started")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            last = f"; last error: {self._last_error}" if self._last_error else ""
            raise AmiTimeout(
                f"not connected to AMI at {self.host}:{self.port} after {timeout:g}s{last}"
            ) from None

    async def stop(self) -> None:
        """Log off (best effort, 1 s at most), close the link, stop reconnecting.

        Pending actions fail with ``AmiNotConnected``; ``on_disconnected`` hooks run if a
        link was up; async handler tasks still running are cancelled.
        """
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._stop_event.set()
        protocol = self._protocol
        if protocol is not None and self._connected and not protocol.closed:
            with contextlib.suppress(AmiError):
                timeout = min(1.0, self._action_timeout)
                await self._request("Logoff", None, timeout, collect=False, protocol=protocol)
        self._task = None
        if task is asyncio.current_task():
            # Called from a hook: the supervisor winds down by itself once the hook returns
            # (the link is aborted below, the loop sees _stopping).
            pass
        else:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        # the manager's protocol too: a connect that completed while stop() cancelled it
        links = (self._protocol, self._session, protocol, self._manager.protocol)
        aborted = {p for p in links if isinstance(p, _AmiProtocol) and p.transport is not None}
        for proto in aborted:
            proto.abort("client stopped")
        if aborted:  # let connection_lost run (a call_soon away) so nothing dangles
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(p.lost.wait() for p in aborted)), 1.0)
        self._fail_pending(None, "client stopped")
        if self._session is not None and task is not asyncio.current_task():
            await self._end_session(self._session)
        if self._watchdog_task is not None:
            self._watchdog_task.cancel()
            self._watchdog_task = None
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- actions ---------------------------------------------------------------------------

    async def action(
        self, name: str, headers: Headers | None = None, *, timeout: float | None = None
    ) -> AmiMessage:
        """Send one action and return its response.

        Raises ``HeaderInjectionError`` (CR/LF in a name or value; nothing is sent),
        ``AmiNotConnected``, ``AmiTimeout`` after ``timeout`` (default ``action_timeout``),
        ``AmiActionError`` for ``Response: Error``. A list value sends the header once per
        item (``Variable``). For actions answering with a list of events use ``list_action``;
        here those events are swallowed so that handlers never see them.
        """
        result: AmiMessage = await self._request(name, headers, timeout, collect=False)
        return result

    async def list_action(
        self, name: str, headers: Headers | None = None, *, timeout: float | None = None
    ) -> AmiList:
        """Send a list action (CoreShowChannels, Status, QueueStatus, DeviceStateList,
        PJSIPShowContacts, ...) and return its item events, collected until the event with
        ``EventList: Complete``; ``timeout`` covers the whole list."""
        result: AmiList = await self._request(name, headers, timeout, collect=True)
        return result

    async def _request(
        self,
        name: str,
        headers: Headers | None,
        timeout: float | None,
        *,
        collect: bool,
        protocol: _AmiProtocol | None = None,
    ) -> Any:
        action_id = f"{self._id_prefix}{next(self._ids)}"
        data = encode_action(name, headers, action_id)  # raises before anything is sent
        if protocol is None:
            protocol = self._protocol
            if protocol is None or not self._connected:
                raise AmiNotConnected(f"{name}: not connected to AMI at {self.host}:{self.port}")
        if protocol.closed:
            raise AmiNotConnected(f"{name}: AMI link is closed")
        if timeout is None:
            timeout = self._action_timeout
        pending = _Pending(name, asyncio.get_running_loop().create_future(), collect, protocol)
        self._pending[action_id] = pending
        try:
            protocol.send(data)
            return await asyncio.wait_for(pending.future, timeout)
        except TimeoutError:
            self._n_timeouts += 1
            self._drain(action_id)
            raise AmiTimeout(
                f"{name}: no answer from Asterisk within {timeout:g}s (ActionID {action_id})"
            ) from None
        finally:
            self._pending.pop(action_id, None)

    # -- incoming --------------------------------------------------------------------------

    def _on_messages(self, messages: list[AmiMessage]) -> None:
        """Route a batch of frames: responses and list items to their actions, events to
        handlers. Hot path: keep it lean."""
        self._n_frames += len(messages)
        pending = self._pending
        cache = self._handler_cache
        for msg in messages:
            if msg.kind == EVENT:
                self._n_events += 1
                if pending or self._draining:
                    action_id = msg.action_id
                    if action_id is not None and self._route_item(action_id, msg):
                        continue
                handlers = cache.get(msg.name)
                if handlers is None:
                    handlers = self._resolve_handlers(msg.name)
                for handler in handlers:
                    try:
                        result = handler(msg)
                        if result is not None and inspect.isawaitable(result):
                            self._spawn(result, handler, msg)
                    except Exception:
                        self._n_handler_errors += 1
                        log.exception("AMI handler %r failed on event %s", handler, msg.name)
            else:
                self._n_responses += 1
                self._route_response(msg)

    def _resolve_handlers(self, name: str) -> tuple[EventHandler, ...]:
        handlers = tuple(self._handlers.get(name.lower(), ())) + tuple(self._handlers.get("*", ()))
        if len(self._handler_cache) >= _HANDLER_CACHE_MAX:
            self._handler_cache.clear()
        self._handler_cache[name] = handlers
        return handlers

    def _spawn(self, awaitable: Any, handler: EventHandler, msg: AmiMessage) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(functools.partial(self._handler_done, handler, msg.name))

    def _handler_done(self, handler: EventHandler, event: str, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._n_handler_errors += 1
            log.error("AMI handler %r failed on event %s", handler, event, exc_info=exc)

    def _route_item(self, action_id: str, msg: AmiMessage) -> bool:
        """A list item or the list's end; True if it belonged to an action."""
        pending = self._pending.get(action_id)
        if pending is not None and pending.collect:
            if _is_list_end(msg):
                if not pending.future.done():
                    pending.future.set_result(AmiList(pending.items, pending.response, msg))
            else:
                pending.items.append(msg)
            return True
        if action_id in self._draining:
            if _is_list_end(msg):
                self._draining.pop(action_id, None)
            return True
        return False

    def _route_response(self, msg: AmiMessage) -> None:
        action_id = msg.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        if pending is None:
            self._n_unmatched += 1
            log.debug("AMI response without a waiting action: %r", msg)
            # a late answer to a timed-out action: keep swallowing only if a list follows
            if (
                action_id is not None
                and action_id in self._draining
                and (msg.get("EventList") or "").lower() != "start"
            ):
                self._draining.pop(action_id, None)
            return
        future = pending.future
        if future.done():
            return
        starts_list = (msg.get("EventList") or "").lower() == "start"
        if not msg.ok:
            future.set_exception(AmiActionError(pending.action, msg))
        elif not pending.collect:
            future.set_result(msg)
            if starts_list:
                assert action_id is not None
                self._drain(action_id)
        elif starts_list:
            pending.response = msg
        else:  # a list action that answered without a list
            future.set_result(AmiList(pending.items, msg, None))

    def _drain(self, action_id: str) -> None:
        if len(self._draining) >= _DRAIN_MAX:
            del self._draining[next(iter(self._draining))]
        self._draining[action_id] = None

    def _on_frame_error(self, error: FrameError) -> None:
        self._n_frame_errors += 1
        n = self._n_frame_errors
        if n <= _FRAME_ERRORS_LOGGED or n % 1000 == 0:
            log.warning("AMI %s:%d: bad frame (#%d): %s", self.host, self.port, n, error)

    def _internal_error(self, what: str) -> None:
        self._n_internal_errors += 1
        log.exception("AMI client error while %s", what)

    def _on_link_lost(self, protocol: _AmiProtocol, exc: Exception | None) -> None:
        if protocol is self._protocol:
            self._protocol = None
            self._connected = False
            self._ready.clear()
            self._draining.clear()
            if not self._stopping:
                why = exc or protocol.close_reason or "closed by Asterisk"
                log.warning("AMI link to %s:%d lost: %s", self.host, self.port, why)
        self._fail_pending(protocol, "AMI link lost")
        if self._manager.protocol is protocol:
            self._manager.connection_lost(exc)

    def _fail_pending(self, protocol: _AmiProtocol | None, why: str) -> None:
        for pending in list(self._pending.values()):
            if (protocol is None or pending.protocol is protocol) and not pending.future.done():
                pending.future.set_exception(AmiNotConnected(f"{pending.action}: {why}"))

    # -- supervisor ------------------------------------------------------------------------

    async def _run(self) -> None:
        """Connect, log in, serve the link, and again after every loss, until stop()."""
        delay = self._backoff_initial
        while not self._stopping:
            try:
                protocol = await self._connect_once()
            except Exception as exc:
                self._last_error = exc
                self._n_connect_failures += 1
                pause = delay * (1.0 - self._backoff_jitter * random.random())
                if isinstance(exc, AmiLoginError):
                    self._n_login_failures += 1
                    log.error("%s; retrying in %.2fs", exc, pause)
                elif isinstance(exc, AmiError | OSError):
                    log.warning(
                        "AMI %s:%d: %s; retrying in %.2fs", self.host, self.port, exc, pause
                    )
                else:
                    log.exception("AMI connect failed unexpectedly; retrying in %.2fs", pause)
                delay = min(delay * 2.0, self._backoff_max)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), pause)
                continue
            delay = self._backoff_initial
            await self._serve(protocol)

    async def _connect_once(self) -> _AmiProtocol:
        task = self._manager.connect()  # panoramisk: loop.create_connection(protocol_factory...)
        try:
            _transport, protocol = await asyncio.wait_for(task, self._connect_timeout)
        except TimeoutError:
            raise AmiTimeout(
                f"connect: no answer within {self._connect_timeout:g}s (SYN dropped?)"
            ) from None
        except OSError as exc:
            raise AmiNotConnected(f"connect failed: {exc}") from exc
        try:
            await self._request(
                "Login",
                {"Username": self.username, "Secret": self._secret, "Events": self._events},
                self._connect_timeout,
                collect=False,
                protocol=protocol,
            )
        except AmiActionError as exc:
            protocol.abort("login refused")
            raise AmiLoginError(
                "Login",
                exc.response,
                f"AMI login as {self.username!r} to {self.host}:{self.port} refused: "
                f"{exc.message or exc.response.name}",
            ) from None
        except BaseException:
            protocol.abort("login failed")
            raise
        return protocol

    async def _serve(self, protocol: _AmiProtocol) -> None:
        if protocol.closed:
            return
        self._protocol = protocol
        self._session = protocol
        self._connected = True
        self._last_error = None
        self._n_logins += 1
        if self._n_logins > 1:
            self._n_reconnects += 1
        self.ami_version = protocol.framer.version
        log.info(
            "AMI logged in to %s:%d as %r (AMI %s)",
            self.host,
            self.port,
            self.username,
            self.ami_version or "?",
        )
        self._watchdog_task = asyncio.get_running_loop().create_task(
            self._watchdog(protocol), name="ami-watchdog"
        )
        self._n_hook_errors += await _call_hooks(self._connected_hooks, "on_connected")
        if self._protocol is protocol and not protocol.closed:
            self._ready.set()
        await protocol.lost.wait()
        await self._end_session(protocol)

    async def _end_session(self, protocol: _AmiProtocol) -> None:
        if self._session is not protocol:
            return
        self._session = None
        if self._protocol is protocol:
            self._protocol = None
            self._connected = False
            self._ready.clear()
        watchdog, self._watchdog_task = self._watchdog_task, None
        if watchdog is not None:
            watchdog.cancel()
        self._n_hook_errors += await _call_hooks(self._disconnected_hooks, "on_disconnected")

    async def _watchdog(self, protocol: _AmiProtocol) -> None:
        """Ping every ping_interval; no Pong within ping_timeout means the link is dead even
        if TCP does not know it yet (half-open): abort it so that the supervisor reconnects."""
        while not protocol.closed:
            await asyncio.sleep(self._ping_interval)
            if protocol.closed:
                return
            try:
                await self._request(
                    "Ping", None, self._ping_timeout, collect=False, protocol=protocol
                )
            except AmiTimeout:
                self._n_watchdog_drops += 1
                log.warning(
                    "AMI %s:%d: no answer to Ping within %.1fs; dropping the link "
                    "(half-open TCP?) to reconnect",
                    self.host,
                    self.port,
                    self._ping_timeout,
                )
                protocol.abort(f"no answer to Ping within {self._ping_timeout:g}s")
                return
            except AmiNotConnected:
                return
            except AmiError as exc:  # an error answer still proves the link is alive
                log.warning("AMI Ping answered with an error: %s", exc)
