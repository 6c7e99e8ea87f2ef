"""The in-process entry points other code starts the simulated PBX with."""

from __future__ import annotations

import asyncio
from pathlib import Path

from acd.sim.pbx import DEFAULT_DIALPLAN, SimulatedPBX, run_pbx, start_pbx
from acd.sim.pbx.testing import AgiConnection, RawAmiClient, ScriptedAgiServer


async def test_run_pbx_serves_until_stopped(tmp_path: Path) -> None:
    started: list[SimulatedPBX] = []
    ready = asyncio.Event()
    stop = asyncio.Event()

    def on_start(pbx: SimulatedPBX) -> None:
        started.append(pbx)
        ready.set()

    runner = asyncio.ensure_future(
        run_pbx(
            0,
            "daemon",
            "s3cret",
            DEFAULT_DIALPLAN,
            started=on_start,
            stop=stop,
            phones=["1001", "1002"],
            answer_after=0.0,
            spool_dir=tmp_path,
        )
    )
    await asyncio.wait_for(ready.wait(), 5)
    [pbx] = started
    assert sorted(pbx.phones) == ["1001", "1002"]
    async with RawAmiClient(pbx.ami_port) as ami:
        refused = await RawAmiClient(pbx.ami_port).connect()
        denied = await refused.login("acd", "acdsecret")
        assert denied["Message"] == "Authentication failed"
        await refused.close()
        ok = await ami.login("daemon", "s3cret")
        assert ok["Message"] == "Authentication accepted"
        _, items, _ = await ami.list_action("DeviceStateList")
        assert {i["Device"]: i["State"] for i in items}["PJSIP/1002"] == "NOT_INUSE"
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert not pbx.ami.listening


async def test_start_pbx_points_fastagi_at_the_daemon(tmp_path: Path) -> None:
    async def queue(conn: AgiConnection) -> None:
        await conn.command("SET VARIABLE ACD_NEXT queue")

    async with ScriptedAgiServer(queue) as agi:
        pbx = await start_pbx(agi_target=("127.0.0.1", agi.port), spool_dir=tmp_path)
        try:
            call = await pbx.place_call("79001234567")
            await call.wait_moh()
            [conn] = agi.connections
            assert conn.env["agi_request"] == "agi://127.0.0.1:4573/inbound"
        finally:
            await pbx.stop()
    assert call.is_hung_up


async def test_global_override_points_fastagi_elsewhere(tmp_path: Path) -> None:
    async def queue(conn: AgiConnection) -> None:
        await conn.command("SET VARIABLE ACD_NEXT queue")

    async with ScriptedAgiServer(queue) as agi:
        address = f"agi://127.0.0.1:{agi.port}"
        async with SimulatedPBX(spool_dir=tmp_path, global_overrides={"ACD_AGI": address}) as pbx:
            call = await pbx.place_call("79001234567")
            await call.wait_moh()
            [conn] = agi.connections
            assert conn.env["agi_request"] == f"{address}/inbound"
