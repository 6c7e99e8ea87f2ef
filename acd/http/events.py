"""The call-event stream for the API: a sink that fans events out to subscribers.

:class:`EventHub` is a :class:`~acd.call_events.CallEventSink`. The App adds it beside the
journal and the writer (``FanOutSink(journal, writer, hub)``), so every event the call centre
emits reaches it, on the event loop's thread, synchronously. It never blocks and never
raises into the call centre:

* *listeners* (plain callables, e.g. the metrics counters) are called at once; one that
  raises is logged and left in place;
* *subscriptions* (WebSocket connections) each get a bounded queue; a subscriber that does
  not keep up loses its oldest events and is told so (:attr:`Subscription.dropped`).

``emit`` must be called from the loop's thread (the call centre runs there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Self

from acd.call_events import CallEvent

__all__ = ["EventHub", "Subscription"]

log = logging.getLogger(__name__)

Listener = Callable[[CallEvent], None]


class Subscription:
    """Events for one consumer, in order; use as an async context manager or ``close()``."""

    def __init__(self, hub: EventHub, size: int) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[CallEvent] = asyncio.Queue(size)
        self.dropped = 0
        self.closed = False

    def _put(self, event: CallEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> CallEvent:
        return await self._queue.get()

    def get_nowait(self) -> CallEvent | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._subscriptions.discard(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventHub:
    """A call-event sink that hands every event to listeners and subscriptions."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._listeners: list[Listener] = []
        self._subscriptions: set[Subscription] = set()
        self.emitted = 0

    def emit(self, event: CallEvent) -> None:
        self.emitted += 1
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("call-event listener %r failed on %s", listener, event.kind)
        for subscription in list(self._subscriptions):
            subscription._put(event)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self, self.queue_size)
        self._subscriptions.add(subscription)
        return subscription

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
