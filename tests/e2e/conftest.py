"""Fixtures for the end-to-end tests: the daemon against the simulated PBX over TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_stack import AGENTS, Stack

from acd.sim.pbx import SimulatedPBX


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    pbx = SimulatedPBX(spool_dir=tmp_path / "spool")
    await pbx.start()
    for _agent, (phone, _level) in AGENTS.items():
        pbx.add_phone(phone)
    result = Stack(tmp_path, pbx)
    try:
        yield result
    finally:
        await result.stop_app()
        await pbx.stop()
