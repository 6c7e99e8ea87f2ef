"""AmiClient over real TCP against a scripted AMI server that replays real Asterisk frames."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asterisk_captures import FIXTURES, action_exchanges

from acd.asterisk.ami import (
    AmiActionError,
    AmiClient,
    AmiList,
    AmiLoginError,
    AmiMessage,
    AmiNotConnected,
    AmiTimeout,
    HeaderInjectionError,
)

pytestmark = pytest.mark.timeout(10)

WAIT = 3.0  # upper bound for any condition; tests finish long before
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
_ACTION_ID = re.compile(rb"(?m)^ActionID: [^\r]*")


def _replies() -> dict[str, list[bytes]]:
    """Action name (lower case) -> frames Asterisk answered with, from the captures; the
    first capture that has the action wins, except where a richer one is named below."""
    prefer = {
        "coreshowchannels": ("01_basic_ami.txt", 1),  # the second one, with two channels
        "command": ("05_queue_baseline.txt", 0),  # `queue show baseline`: many Output lines
        "originate": ("02_fastagi.txt", 0),  # followed by its OriginateResponse
    }
    seen: dict[str, list[list[bytes]]] = {}
    for path in sorted(FIXTURES.glob("0[1-9]_*.txt")):
        for action, replies in action_exchanges(path):
            name = action.split(b"\r\n", 1)[0].split(b": ", 1)[1].decode().lower()
            seen.setdefault(f"{path.name}:{name}", []).append(replies)
            seen.setdefault(name, []).append(replies)
    out = {name: runs[0] for name, runs in seen.items() if ":" not in name}
    for name, (file, index) in prefer.items():
        out[name] = seen[f"{file}:{name}"][index]
    return out


REPLIES = _replies()


class Counter:
    """A count that tests can wait on without sleeping."""

    def __init__(self) -> None:
        self.value = 0
        self._cond = asyncio.Condition()

    async def bump(self) -> None:
        async with self._cond:
            self.value += 1
            self._cond.notify_all()

    async def reach(self, n: int, timeout: float = WAIT) -> None:
        async def _wait() -> None:
            async with self._cond:
                await self._cond.wait_for(lambda: self.value >= n)

        await asyncio.wait_for(_wait(), timeout)


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.mute = False  # stop answering but keep the socket open: half-open from our side

    async def send(self, *frames: bytes) -> None:
        for frame in frames:
            self.writer.write(frame)
        await self.writer.drain()


Script = Callable[[Conn, dict[str, str], bytes], Awaitable[bool]]


class FakeAmi:
    """AMI server on 127.0.0.1: banner, Login check, replies replayed from the captures with
    the ActionID substituted; ``scripts[name]`` overrides an action (return True if handled)."""

    def __init__(self, secret: str = "acdsecret") -> None:
        self.secret = secret
        self.conns: list[Conn] = []
        self.connections = Counter()
        self.logins = Counter()
        self.actions: list[tuple[str, dict[str, str], bytes]] = []
        self.scripts: dict[str, Script] = {}
        self.server: asyncio.Server | None = None
        self.port = 0
        self._seen = asyncio.Condition()
        self._tasks: list[asyncio.Task[Any]] = []

    async def __aenter__(self) -> FakeAmi:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for conn in self.conns:
            conn.writer.close()
        await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), WAIT)
        await self.server.wait_closed()

    async def wait_action(self, name: str, count: int = 1) -> None:
        """Wait until the server has read ``count`` actions ``name``."""

        def seen() -> bool:
            return sum(1 for a in self.actions if a[0] == name) >= count

        async def _wait() -> None:
            async with self._seen:
                await self._seen.wait_for(seen)

        await asyncio.wait_for(_wait(), WAIT)

    @property
    def last(self) -> Conn:
        return self.conns[-1]

    async def broadcast(self, *frames: bytes) -> None:
        for conn in self.conns:
            if not conn.writer.is_closing():
                await conn.send(*frames)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(reader, writer)
        self.conns.append(conn)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.append(task)
        await self.connections.bump()
        writer.write(BANNER)
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                headers = dict(
                    line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line
                )
                name = headers["Action"]
                self.actions.append((name, headers, raw))
                async with self._seen:
                    self._seen.notify_all()
                if conn.mute:
                    continue
                if name == "Login":
                    if await self._login(conn, headers):
                        continue
                    writer.close()
                    return
                script = self.scripts.get(name)
                if script is not None and await script(conn, headers, raw):
                    continue
                frames = REPLIES.get(name.lower())
                if frames is None:
                    frames = REPLIES["nosuchaction"]
                aid = headers["ActionID"].encode()
                await conn.send(*(_ACTION_ID.sub(b"ActionID: " + aid, f) for f in frames))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def _login(self, conn: Conn, headers: dict[str, str]) -> bool:
        aid = headers["ActionID"]
        if headers.get("Username") == "acd" and headers.get("Secret") == self.secret:
            await conn.send(
                f"Response: Success\r\nActionID: {aid}\r\n"
                "Message: Authentication accepted\r\n\r\n".encode(),
                b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 8\r\n"
                b"LastReload: 8\r\nStatus: Fully Booted\r\n\r\n",
            )
            await self.logins.bump()
            return True
        await conn.send(
            f"Response: Error\r\nActionID: {aid}\r\nMessage: Authentication failed\r\n\r\n".encode()
        )
        await self.logins.bump()
        return False


def make_client(port: int, secret: str = "acdsecret", **kw: Any) -> AmiClient:
    options: dict[str, Any] = {
        "action_timeout": 1.0,
        "connect_timeout": 1.0,
        "ping_interval": 5.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
    }
    options.update(kw)
    return AmiClient("127.0.0.1", port, "acd", secret, **options)


class Events:
    """Subscribes to ``name`` and queues what arrives."""

    def __init__(self, client: AmiClient, name: str = "*") -> None:
        self.queue: asyncio.Queue[AmiMessage] = asyncio.Queue()
        client.on_event(name, self.queue.put_nowait)

    async def next(self, name: str | None = None) -> AmiMessage:
        while True:
            msg = await asyncio.wait_for(self.queue.get(), WAIT)
            if name is None or msg.name == name:
                return msg


EVENT_NEWCHANNEL = (
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: Local/s@from-pstn-00000001;2\r\n"
    b"CallerIDNum: 5551234\r\nCallerIDName: \xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd "
    b"\xd0\x9f\xd0\xb5\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2\r\nUniqueid: 1795337935.4\r\n\r\n"
)


def _marker(n: int) -> bytes:
    return (
        f"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Marker\r\nN: {n}\r\n\r\n".encode()
    )


# -- login ---------------------------------------------------------------------------------


async def test_login_ok_and_first_events() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        events = Events(client)
        connected = Counter()
        client.on_connected(connected.bump)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            assert client.connected
            assert connected.value == 1
            assert client.ami_version == "11.0.0"
            booted = await events.next("FullyBooted")
            assert booted["Status"] == "Fully Booted"
            name, headers, _raw = server.actions[0]
            assert (name, headers["Username"], headers["Secret"]) == ("Login", "acd", "acdsecret")
            assert headers["Events"] == "on"
            pong = await client.action("Ping")
            assert pong["Ping"] == "Pong"
            assert client.stats["logins"] == 1
            assert client.stats["reconnects"] == 0
        finally:
            await client.stop()
        assert not client.connected
        assert server.actions[-1][0] == "Logoff"


async def test_bad_login_is_reported_and_retried_with_backoff() -> None:
    async with FakeAmi(secret="other") as server:
        client = make_client(server.port)
        await client.start()
        try:
            await server.logins.reach(3)  # refused, then retried, twice
            with pytest.raises(AmiTimeout, match="refused: Authentication failed"):
                await client.wait_connected(0.05)
            assert isinstance(client.last_error, AmiLoginError)
            assert client.last_error.message == "Authentication failed"
            assert client.stats["login_failures"] >= 2
            assert not client.connected
            with pytest.raises(AmiNotConnected):
                await client.action("Ping")
        finally:
            await client.stop()


async def test_unreachable_server_backs_off_and_reports_last_error() -> None:
    async with FakeAmi() as server:
        port = server.port
    # the port is closed now: every connect is refused
    client = make_client(port)
    await client.start()
    try:
        with pytest.raises(AmiTimeout, match="connect failed"):
            await client.wait_connected(0.3)
        assert client.stats["connect_failures"] >= 2
    finally:
        await client.stop()


async def test_not_started_and_not_connected() -> None:
    client = make_client(1)
    with pytest.raises(AmiNotConnected):
        await client.action("Ping")
    with pytest.raises(AmiNotConnected):
        await client.wait_connected(0.01)
    await client.stop()  # stop before start is a no-op


# -- actions -------------------------------------------------------------------------------


async def test_action_timeout_keeps_the_link() -> None:
    async def never(conn: Conn, headers: dict[str, str], raw: bytes) -> bool:
        return True  # swallowed: no answer

    async with FakeAmi() as server:
        server.scripts["Slow"] = never
        client = make_client(server.port)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            with pytest.raises(AmiTimeout, match="Slow: no answer"):
                await client.action("Slow", timeout=0.05)
            assert client.stats["timeouts"] == 1
            assert client.connected
            assert (await client.action("Ping"))["Ping"] == "Pong"
        finally:
            await client.stop()


async def test_error_response_raises_action_error() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            with pytest.raises(AmiActionError, match="Invalid/unknown command") as info:
                await client.action("NoSuchAction")
            assert info.value.response.name == "Error"
            assert info.value.action == "NoSuchAction"
            assert client.connected
        finally:
            await client.stop()


async def test_command_output_lines_kept() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            resp = await client.action("Command", {"Command": "queue show baseline"})
            output = resp.get_all("Output")
            assert len(output) > 3
            assert output[0].startswith("baseline has 0 calls")
            assert resp["output"] == output[0]
        finally:
            await client.stop()


async def test_list_actions_collect_until_complete() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        events = Events(client)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            await events.next("FullyBooted")
            channels = await client.list_action("CoreShowChannels")
            assert isinstance(channels, AmiList)
            assert [m.name for m in channels] == ["CoreShowChannel", "CoreShowChannel"]
            assert channels[1]["Channel"] == "Local/s@test-caller-00000000;2"
            assert channels.complete is not None
            assert channels.complete["ListItems"] == "2"
            assert channels.response is not None
            assert channels.response["EventList"] == "start"

            devices = await client.list_action("DeviceStateList")
            assert len(devices) == 16
            assert {m.name for m in devices} == {"DeviceStateChange"}

            queue = await client.list_action("QueueStatus", {"Queue": "baseline"})
            assert [m.name for m in queue] == ["QueueParams"] + ["QueueMember"] * 3

            contacts = await client.list_action("PJSIPShowContacts")
            assert (contacts[0]["Endpoint"], contacts[0]["Status"]) == ("1001", "Reachable")

            status = await client.list_action("Status")
            assert [m.name for m in status] == ["Status", "Status"]

            # list items never reach event handlers; a plain event after them does
            await server.broadcast(_marker(1))
            marker = await events.next()
            assert (marker.name, marker["N"]) == ("UserEvent", "1")
        finally:
            await client.stop()


async def test_list_answer_to_plain_action_is_drained_not_dispatched() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        events = Events(client)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            await events.next("FullyBooted")
            resp = await client.action("CoreShowChannels")
            assert resp["EventList"] == "start"
            await server.broadcast(_marker(2))
            assert (await events.next()).name == "UserEvent"
        finally:
            await client.stop()


async def test_late_list_after_timeout_does_not_reach_handlers() -> None:
    held: list[tuple[Conn, str]] = []

    async def hold(conn: Conn, headers: dict[str, str], raw: bytes) -> bool:
        held.append((conn, headers["ActionID"]))
        return True

    async with FakeAmi() as server:
        server.scripts["CoreShowChannels"] = hold
        client = make_client(server.port)
        events = Events(client)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            await events.next("FullyBooted")
            with pytest.raises(AmiTimeout):
                await client.list_action("CoreShowChannels", timeout=0.05)
            conn, aid = held[0]
            late = [
                _ACTION_ID.sub(b"ActionID: " + aid.encode(), f) for f in REPLIES["coreshowchannels"]
            ]
            await conn.send(*late, _marker(4))
            marker = await events.next()
            assert (marker.name, marker["N"]) == ("UserEvent", "4")
            assert client.stats["unmatched_responses"] == 1
        finally:
            await client.stop()


async def test_originate_variables_and_late_response_event() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        events = Events(client, "OriginateResponse")
        await client.start()
        try:
            await client.wait_connected(WAIT)
            resp = await client.action(
                "Originate",
                {
                    "Channel": "Local/s@from-pstn",
                    "Application": "Wait",
                    "Data": "5",
                    "Async": "true",
                    "CallerID": '"Иван Петров" <5551234>',
                    "Variable": ["ACD_CALL=42", "ACD_QUEUE=sales"],
                },
            )
            assert resp.message == "Originate successfully queued"
            # the OriginateResponse carries the ActionID but is no longer awaited: dispatched
            late = await events.next()
            assert late["ActionID"] == resp.action_id
            raw = next(raw for name, _h, raw in server.actions if name == "Originate")
            assert b"Variable: ACD_CALL=42\r\nVariable: ACD_QUEUE=sales\r\n" in raw
            assert '"Иван Петров" <5551234>'.encode() in raw
        finally:
            await client.stop()


async def test_injection_is_refused_before_sending() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            sent = len(server.actions)
            with pytest.raises(HeaderInjectionError):
                await client.action("Setvar", {"Value": "x\r\n\r\nAction: Hangup\r\nChannel: a"})
            with pytest.raises(HeaderInjectionError):
                await client.action("Setvar", {"Var\r\nAction": "x"})
            with pytest.raises(HeaderInjectionError):
                await client.action("Originate", {"Variable": ["A=1", "B=2\nAction: Hangup"]})
            assert (await client.action("Ping"))["Ping"] == "Pong"
            assert [a[0] for a in server.actions[sent:]] == ["Ping"]
            assert client.connected
        finally:
            await client.stop()


# -- events --------------------------------------------------------------------------------


async def test_failing_handlers_do_not_close_the_link() -> None:
    def broken(msg: AmiMessage) -> None:
        raise RuntimeError("handler bug")

    async def broken_async(msg: AmiMessage) -> None:
        raise RuntimeError("async handler bug")

    async with FakeAmi() as server:
        client = make_client(server.port)
        client.on_event("Newchannel", broken)
        client.on_event("newchannel", broken_async)  # any case
        events = Events(client, "Newchannel")
        disconnected = Counter()
        client.on_disconnected(disconnected.bump)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            await server.broadcast(EVENT_NEWCHANNEL, EVENT_NEWCHANNEL)
            first = await events.next()
            assert first["CallerIDName"] == "Иван Петров"
            await events.next()
            assert (await client.action("Ping"))["Ping"] == "Pong"
            assert client.connected
            assert disconnected.value == 0
            assert client.stats["handler_errors"] >= 2  # the sync ones at least
            assert client.stats["events"] >= 3
        finally:
            await client.stop()


async def test_cyrillic_split_across_tcp_writes() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        events = Events(client, "Newchannel")
        await client.start()
        try:
            await client.wait_connected(WAIT)
            cut = EVENT_NEWCHANNEL.index(b"\xd0\xb2") + 1  # inside the "в"
            await server.last.send(EVENT_NEWCHANNEL[:cut])
            await server.last.send(EVENT_NEWCHANNEL[cut:])
            assert (await events.next())["CallerIDName"] == "Иван Петров"
        finally:
            await client.stop()


async def test_garbage_frame_is_counted_and_link_stays() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        events = Events(client, "UserEvent")
        await client.start()
        try:
            await client.wait_connected(WAIT)
            await server.last.send(b"\x00\xffgarbage without headers\r\n\r\n", _marker(3))
            assert (await events.next())["N"] == "3"
            assert client.stats["frame_errors"] == 1
            assert client.connected
        finally:
            await client.stop()


# -- reconnection --------------------------------------------------------------------------


async def test_reconnect_after_server_closes_and_resync_hook_runs_again() -> None:
    async def never(conn: Conn, headers: dict[str, str], raw: bytes) -> bool:
        return True

    async with FakeAmi() as server:
        server.scripts["Slow"] = never
        client = make_client(server.port)
        connected = Counter()
        disconnected = Counter()
        resync: list[int] = []

        async def on_connected() -> None:
            # the resynchronisation: a list action inside the hook
            resync.append(len(await client.list_action("CoreShowChannels")))
            await connected.bump()

        client.on_connected(on_connected)
        client.on_disconnected(disconnected.bump)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            assert connected.value == 1
            slow = asyncio.ensure_future(client.action("Slow", timeout=WAIT))
            await server.wait_action("Slow")
            server.last.writer.close()  # Asterisk restarts
            with pytest.raises(AmiNotConnected):
                await slow  # fails at once, not after its timeout
            await disconnected.reach(1)
            await connected.reach(2)
            await client.wait_connected(WAIT)
            assert resync == [2, 2]
            assert server.connections.value == 2
            assert client.stats["reconnects"] == 1
            assert (await client.action("Ping"))["Ping"] == "Pong"
        finally:
            await client.stop()
        assert disconnected.value == 2  # the stop ends the second link


async def test_watchdog_detects_half_open_link_and_reconnects() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port, ping_interval=0.05, ping_timeout=0.1)
        connected = Counter()
        client.on_connected(connected.bump)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            server.last.mute = True  # socket open, nothing answered: a half-open link
            await connected.reach(2)
            assert client.stats["watchdog_drops"] == 1
            assert server.connections.value == 2
            await client.wait_connected(WAIT)
            assert (await client.action("Ping"))["Ping"] == "Pong"
        finally:
            await client.stop()


async def test_watchdog_keeps_a_healthy_link() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port, ping_interval=0.01, ping_timeout=0.5)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            await server.wait_action("Ping", count=5)
            assert client.connected
            assert client.stats["watchdog_drops"] == 0
            assert client.stats["logins"] == 1
        finally:
            await client.stop()


async def test_failing_connected_hook_is_logged_and_link_kept() -> None:
    async def broken() -> None:
        raise RuntimeError("resync bug")

    async with FakeAmi() as server:
        client = make_client(server.port)
        client.on_connected(broken)
        called: list[str] = []
        client.on_connected(lambda: called.append("second"))  # sync hooks work too
        await client.start()
        try:
            await client.wait_connected(WAIT)
            assert called == ["second"]
            assert client.stats["hook_errors"] == 1
            assert client.connected
        finally:
            await client.stop()


async def test_concurrent_actions_get_their_own_answers() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        await client.start()
        try:
            await client.wait_connected(WAIT)
            results = await asyncio.gather(
                *(client.action("Getvar", {"Variable": f"V{i}"}) for i in range(30)),
                *(client.list_action("CoreShowChannels") for _ in range(5)),
            )
            ids = {r.action_id for r in results[:30]}
            assert len(ids) == 30
            assert all(len(r) == 2 for r in results[30:])
        finally:
            await client.stop()


async def test_stop_from_a_hook() -> None:
    async with FakeAmi() as server:
        client = make_client(server.port)
        gone = Counter()

        async def give_up() -> None:
            await client.stop()
            await gone.bump()

        client.on_connected(give_up)
        await client.start()
        await gone.reach(1)
        assert not client.connected
        assert server.connections.value == 1


async def test_stop_fails_pending_and_does_not_reconnect() -> None:
    async def never(conn: Conn, headers: dict[str, str], raw: bytes) -> bool:
        return True

    async with FakeAmi() as server:
        server.scripts["Slow"] = never
        client = make_client(server.port)
        disconnected = Counter()
        client.on_disconnected(disconnected.bump)
        await client.start()
        await client.wait_connected(WAIT)
        slow = asyncio.ensure_future(client.action("Slow", timeout=WAIT))
        await server.wait_action("Slow")
        await client.stop()
        with pytest.raises(AmiNotConnected):
            await slow
        assert disconnected.value == 1
        assert not client.connected
        assert server.connections.value == 1
        with pytest.raises(AmiNotConnected):
            await client.action("Ping")


def test_panoramisk_testing_is_never_imported() -> None:
    code = (
        "import sys, acd.asterisk.ami, acd.bench.ami; "
        "assert 'panoramisk.testing' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
