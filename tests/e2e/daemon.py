"""``acd serve`` as a real process (so it can be killed), configured against a simulated PBX."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from acd.sim.pbx import SimulatedPBX


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    path: Path, pbx: SimulatedPBX, agi_port: int, agents: dict[str, str], **queue: Any
) -> Path:
    """A YAML config (JSON is YAML) for the daemon; the state files live beside it."""
    config = {
        "ami": {"host": pbx.ami_host, "port": pbx.ami_port, "ping_interval": 1.0},
        "fastagi": {"host": "127.0.0.1", "port": agi_port},
        "http": {"host": "127.0.0.1", "port": free_port()},
        "database": {
            "url": f"sqlite+aiosqlite:///{path.parent / 'acd.sqlite3'}",
            "spool_directory": str(path.parent / "db-spool"),
        },
        "routing": {
            "skills": ["operator"],
            "queues": [
                {
                    "id": "hotline",
                    "skills": {"operator": 1},
                    "wrap_up_seconds": 0.05,
                    "ring_timeout_seconds": 5,
                    "announce_every_seconds": 600,
                    **queue,
                }
            ],
            "agents": [
                {"id": agent_id, "phone": phone, "skills": {"operator": 5}, "auto_login": True}
                for agent_id, phone in agents.items()
            ],
            "presence_file": str(path.parent / "presence.json"),
            "journal_file": str(path.parent / "calls.jsonl"),
        },
        # no scenario files: the built-in greeting, whatever the working directory holds
        "scenarios": {"directory": str(path.parent / "scenarios")},
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


class Daemon:
    """One ``python -m acd serve`` process; its log lines are collected as they come."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None
        self._new_line = asyncio.Event()

    async def start(self) -> Daemon:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "acd",
            "serve",
            "--config",
            str(self.config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode("utf-8", "replace").rstrip())
            self._new_line.set()

    async def wait_log(self, text: str, timeout: float = 15.0, *, after: int = 0) -> str:
        """The first log line (from line ``after`` on) containing ``text``."""
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines[after:]:
                    if text in line:
                        return line
                if self.process is not None and self.process.returncode is not None:
                    raise AssertionError(f"daemon exited: {self.lines[-20:]}")
                self._new_line.clear()
                await self._new_line.wait()

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        if self._reader is not None:
            await self._reader

    async def stop(self) -> int:
        """SIGTERM and wait for a clean exit."""
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(10):
                code = await self.process.wait()
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        return code


def journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
