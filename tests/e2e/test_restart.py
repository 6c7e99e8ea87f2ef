"""The daemon is killed while callers wait: nobody is dropped, everyone is accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon import Daemon, free_port, journal, write_config
from e2e_stack import eventually

from acd.sim.pbx import SimulatedPBX

pytestmark = pytest.mark.timeout(90)

AGENTS = {"a1": "1001", "a2": "1002", "a3": "1003"}


async def test_killed_daemon_with_50_waiting_callers_drops_nobody(tmp_path: Path) -> None:
    async with SimulatedPBX(spool_dir=tmp_path / "spool") as pbx:
        phones = [pbx.add_phone(phone, register=False) for phone in AGENTS.values()]
        config = write_config(tmp_path / "acd.yaml", pbx, free_port(), AGENTS)
        pbx.point_agi_at("127.0.0.1", int(config.read_text().split('"port": ')[2].split()[0]))
        first = await Daemon(config).start()
        try:
            await first.wait_log("resynchronised")
            callers = [await pbx.place_call(f"+7916000{i:04d}") for i in range(50)]
            for caller in callers:
                await caller.wait_in_context("acd-wait", timeout=10)
            call_ids = [caller.var("ACD_CALL_ID") for caller in callers]
            assert all(call_ids) and len(set(call_ids)) == 50
            await first.kill()
        finally:
            await first.stop()
            print("\n".join(first.lines))  # shown when the test fails

        # While the daemon is down, the music goes on; five callers give up.
        assert all(not c.is_hung_up for c in callers)
        for caller in callers[:5]:
            caller.hangup()

        second = await Daemon(config).start()
        try:
            await second.wait_log("resynchronised")
            line = await second.wait_log("waiting callers restored")
            assert "45 waiting callers restored" in line, line
            for phone in phones:  # agents come on line and take the calls
                phone.answer_after = 0.0
                phone.talk_time = 0.02
                phone.register()
            for caller in callers[5:]:
                await caller.wait_hangup(timeout=30)

            def finished() -> dict[str, dict[str, object]]:
                return {
                    e["call_id"]: e["data"]
                    for e in journal(tmp_path / "calls.jsonl")
                    if e["kind"] == "finished"
                }

            await eventually(lambda: len(finished()) == 50, timeout=10, what="50 finished calls")
            outcomes = finished()
            for call_id in call_ids[:5]:
                assert outcomes[call_id]["outcome"] == "abandoned"
                assert outcomes[call_id]["recovered"] is True
            for call_id in call_ids[5:]:
                assert outcomes[call_id]["outcome"] == "answered", outcomes[call_id]
                assert outcomes[call_id]["agent_id"] in AGENTS
            # Each of them really talked to an agent (an agent who hangs up before the bridge
            # does not count: that caller is offered again).
            bridged = {e.get("Channel") for e in pbx.events("BridgeEnter")}
            assert all(caller.channel in bridged for caller in callers[5:])
            assert sum(len(phone.answered) for phone in phones) >= 45
        finally:
            code = await second.stop()
            print("\n".join(second.lines))
        assert code == 0
