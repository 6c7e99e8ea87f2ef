"""Small real-socket peers for tests of (and against) the simulated PBX.

* :class:`RawAmiClient` - a byte-level AMI client: send an action, read its response and list
  items, collect events; no parsing beyond ``Key: Value`` frames, so tests see the wire.
* :class:`ScriptedAgiServer` - a FastAGI server whose per-connection behaviour is a coroutine
  given the connection (``env``, ``command()``), recording every line both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from acd.sim.pbx.events import HeaderLookup

__all__ = ["AgiConnection", "Frame", "RawAmiClient", "ScriptedAgiServer"]


@dataclass
class Frame(HeaderLookup):
    """One AMI frame as received (raw bytes kept for byte-exact checks)."""

    raw: bytes
    headers: list[tuple[str, str]]

    @property
    def is_event(self) -> bool:
        return bool(self.headers) and self.headers[0][0] == "Event"

    @property
    def name(self) -> str:
        return self.headers[0][1] if self.headers else ""

    @property
    def is_unsolicited(self) -> bool:
        """An event not answering a list action (OriginateResponse counts as unsolicited)."""
        if not self.is_event:
            return False
        return self.get("ActionID") is None or (self.get("Privilege") or "").endswith(",all")

    def __str__(self) -> str:
        return " | ".join(f"{k}: {v}" for k, v in self.headers)


def _parse(raw: bytes) -> Frame:
    headers: list[tuple[str, str]] = []
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        if not line:
            continue
        key, _, value = line.partition(": ")
        headers.append((key, value))
    return Frame(raw, headers)


class RawAmiClient:
    """``async with RawAmiClient(port) as ami: await ami.login("acd", "acdsecret")``."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.banner = b""
        self.frames: list[Frame] = []
        self.events: list[Frame] = []
        self._pending: asyncio.Queue[Frame | None] = asyncio.Queue()
        self._reader_task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._next_id = 0
        self.closed = asyncio.Event()

    async def connect(self) -> RawAmiClient:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.banner = await self.reader.readline()
        self._reader_task = asyncio.ensure_future(self._read_loop())
        return self

    async def __aenter__(self) -> RawAmiClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task

    async def _read_loop(self) -> None:
        assert self.reader is not None
        buf = b""
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\r\n\r\n" in buf:
                    raw, buf = buf.split(b"\r\n\r\n", 1)
                    frame = _parse(raw + b"\r\n\r\n")
                    self.frames.append(frame)
                    if frame.is_unsolicited:
                        self.events.append(frame)
                    await self._pending.put(frame)
                    self._changed.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed.set()
            await self._pending.put(None)
            self._changed.set()

    def send_raw(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)

    def send(self, action: str, *headers: tuple[str, str], action_id: str | None = None) -> str:
        """Send an action; its ActionID."""
        if action_id is None:
            self._next_id += 1
            action_id = f"t{self._next_id}"
        lines = [("Action", action), ("ActionID", action_id), *headers]
        self.send_raw("".join(f"{k}: {v}\r\n" for k, v in lines).encode() + b"\r\n")
        return action_id

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    async def response(self, action_id: str, timeout: float = 5.0) -> Frame:
        """The response (non-event frame) to an action."""

        def find() -> Frame | None:
            return next(
                (f for f in self.frames if not f.is_event and f.get("ActionID") == action_id),
                None,
            )

        if not await self._wait(lambda: find() is not None, timeout):
            raise TimeoutError(f"no response to {action_id}")
        found = find()
        assert found is not None
        return found

    async def replies(self, action_id: str, count: int, timeout: float = 5.0) -> list[Frame]:
        """The first ``count`` frames carrying ``action_id`` (a response and list items)."""

        def mine() -> list[Frame]:
            return [
                f
                for f in self.frames
                if f.get("ActionID") == action_id and f.name != "OriginateResponse"
            ]

        if not await self._wait(lambda: len(mine()) >= count, timeout):
            got = "\n".join(str(f) for f in mine())
            raise TimeoutError(f"{len(mine())} of {count} replies to {action_id}:\n{got}")
        return mine()[:count]

    async def action(self, action: str, *headers: tuple[str, str], timeout: float = 5.0) -> Frame:
        return await self.response(self.send(action, *headers), timeout)

    async def list_action(
        self, action: str, *headers: tuple[str, str], timeout: float = 5.0
    ) -> tuple[Frame, list[Frame], Frame]:
        """(response, items, the ...Complete event) of a list action."""
        action_id = self.send(action, *headers)
        first = await self.response(action_id, timeout)

        def mine() -> list[Frame]:
            return [f for f in self.frames if f.is_event and f.get("ActionID") == action_id]

        def complete() -> bool:
            return any(f.get("EventList") == "Complete" for f in mine())

        if not await self._wait(complete, timeout):
            raise TimeoutError(f"{action} list never completed")
        frames = mine()
        return first, frames[:-1], frames[-1]

    async def login(
        self, username: str = "acd", secret: str = "acdsecret", events: str | None = None
    ) -> Frame:
        headers = [("Username", username), ("Secret", secret)]
        if events is not None:
            headers.append(("Events", events))
        return await self.action("Login", *headers)

    async def wait_event(
        self,
        name: str,
        predicate: Callable[[Frame], bool] | None = None,
        timeout: float = 5.0,
        start: int = 0,
    ) -> Frame:
        """The first unsolicited event ``name`` (from index ``start`` of :attr:`events`)."""

        def find() -> Frame | None:
            return next(
                (
                    e
                    for e in self.events[start:]
                    if e.name == name and (predicate is None or predicate(e))
                ),
                None,
            )

        if not await self._wait(lambda: find() is not None, timeout):
            raise TimeoutError(f"no {name} event")
        found = find()
        assert found is not None
        return found


@dataclass
class AgiConnection:
    """One FastAGI connection accepted by :class:`ScriptedAgiServer`."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    env: dict[str, str] = field(default_factory=dict)
    env_lines: list[bytes] = field(default_factory=list)
    transcript: list[tuple[str, bytes]] = field(default_factory=list)
    hangup_seen: bool = False

    async def read_line(self, timeout: float = 5.0) -> bytes:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        self.transcript.append(("<<<", line))
        if line == b"HANGUP\n":
            self.hangup_seen = True
        return line

    async def command(self, line: str, timeout: float = 10.0) -> str:
        """Send a command; its reply (an unsolicited HANGUP line is recorded and skipped;
        a 520 usage reply is returned whole, lines joined by ``\\n``)."""
        data = line.encode() + b"\n"
        self.transcript.append((">>>", data))
        self.writer.write(data)
        while True:
            reply = await self.read_line(timeout)
            if reply == b"HANGUP\n":
                continue
            if not reply:
                raise ConnectionError("AGI connection closed")
            text = reply.decode().rstrip("\n")
            if text.startswith("520-"):
                lines = [text]
                while not lines[-1].startswith("520 "):
                    lines.append((await self.read_line(timeout)).decode().rstrip("\n"))
                return "\n".join(lines)
            return text

    def close(self) -> None:
        self.transcript.append((">>>", b"[close]"))
        if not self.writer.is_closing():
            self.writer.close()


AgiHandler = Callable[[AgiConnection], Awaitable[None]]


class ScriptedAgiServer:
    """A FastAGI server on a free port; ``handler(conn)`` scripts every connection."""

    def __init__(self, handler: AgiHandler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.host = host
        self.port = 0
        self.connections: list[AgiConnection] = []
        self.errors: list[BaseException] = []
        self._server: asyncio.base_events.Server | None = None
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> ScriptedAgiServer:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            for conn in self.connections:
                conn.close()
            pending = [t for t in self._tasks if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = AgiConnection(reader, writer)
        self.connections.append(conn)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                line = await reader.readline()
                conn.env_lines.append(line)
                if line in (b"\n", b""):
                    break
                key, _, value = line.decode().rstrip("\n").partition(": ")
                conn.env[key] = value
            self._changed.set()
            await self.handler(conn)
        except asyncio.CancelledError:
            pass  # server shut down while the script was still running
        except Exception as exc:  # a failing script must fail the test, not vanish
            self.errors.append(exc)
        finally:
            conn.close()
            self._changed.set()

    async def wait_connections(self, count: int, timeout: float = 5.0) -> list[AgiConnection]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.connections) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.connections)} of {count} AGI connections")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.connections[:count]
