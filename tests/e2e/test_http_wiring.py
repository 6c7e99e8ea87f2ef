"""The daemon serves its HTTP API: health of the real AMI link, FastAGI and database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from e2e_stack import Stack


async def test_healthz_and_metrics_reflect_the_running_daemon(stack: Stack) -> None:
    app = await stack.start_app()
    assert app.http_port
    base = f"http://127.0.0.1:{app.http_port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
            health = await response.json()
        assert health["status"] == "ok"
        assert {"ami", "fastagi", "database"} <= set(health["checks"])
        # A call in progress shows in the metrics.
        caller = await stack.pbx.place_call("+79167000000")
        ringing = await stack.pbx.phone("1002").wait_ringing()
        stack.pbx.phone("1002").answer(ringing)
        await caller.wait_bridged()
        async with http.get(f"{base}/metrics") as response:
            assert response.status == 200
            metrics = await response.text()
        assert "acd_" in metrics
        # The AMI link going down is reported.
        await stack.pbx.ami.stop_listening()
        stack.pbx.ami.drop_connections()

        async def degraded() -> bool:
            async with http.get(f"{base}/healthz") as reply:
                return reply.status == 503

        await eventually_async(degraded)
        await stack.pbx.ami.start_listening()


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll an async condition until it holds, failing after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)
