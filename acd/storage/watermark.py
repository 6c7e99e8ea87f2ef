"""A counter of events that reached a stage (in the database, in a spool), to wait on.

Its own light module: the writer process imports it before its database libraries."""

from __future__ import annotations

import asyncio


class Watermark:
    """How many accepted events (in order) have reached a stage; wait for a number."""

    def __init__(self) -> None:
        self.value = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def advance_to(self, value: int) -> None:
        self.value = max(self.value, value)
        keep = []
        for target, waiter in self._waiters:
            if target <= self.value:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                keep.append((target, waiter))
        self._waiters = keep

    async def wait(self, target: int, timeout: float | None) -> bool:
        if self.value >= target:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(waiter)
        except TimeoutError:
            return False
        return True


__all__ = ["Watermark"]
