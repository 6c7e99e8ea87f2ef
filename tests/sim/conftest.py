"""Fixtures of the simulated-PBX tests: a PBX on a free port writing under tmp_path, a raw
AMI client, and the two dialplans (ours, and the one the captures were taken with)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.sim.pbx import SimulatedPBX
from acd.sim.pbx.captures import FIXTURES
from acd.sim.pbx.testing import RawAmiClient

CAPTURE_DIALPLAN = FIXTURES / "extensions.conf.used-for-captures"


def free_port() -> int:
    """A port nothing listens on (for "FastAGI server not listening")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def pbx(tmp_path: Path) -> AsyncIterator[SimulatedPBX]:
    """Our dialplan; FastAGI pointed at a closed port unless a test re-points it."""
    async with SimulatedPBX(spool_dir=tmp_path, prompt_seconds=0.0) as sim:
        sim.point_agi_at("127.0.0.1", free_port())
        yield sim


@pytest.fixture
async def capture_pbx(tmp_path: Path) -> AsyncIterator[SimulatedPBX]:
    """The dialplan the real-Asterisk captures were taken with."""
    async with SimulatedPBX(CAPTURE_DIALPLAN, spool_dir=tmp_path) as sim:
        sim.point_agi_at("127.0.0.1", free_port())
        yield sim


@pytest.fixture
async def ami(capture_pbx: SimulatedPBX) -> AsyncIterator[RawAmiClient]:
    async with RawAmiClient(capture_pbx.ami_port) as client:
        response = await client.login()
        assert response["Response"] == "Success"
        yield client
