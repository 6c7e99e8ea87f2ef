"""FastAGI server over real TCP: the test plays Asterisk, replaying captures 02, 03 and 08."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from asterisk_captures import (
    CLOSE,
    ENV,
    FROM_ASTERISK,
    TO_ASTERISK,
    agi_sessions,
    canonical,
    split_captured,
)

from acd.asterisk.agi_codec import split_command_line
from acd.asterisk.fastagi import (
    AgiCommandError,
    AgiHangup,
    AgiInjectionError,
    AgiSession,
    AgiTimeout,
    AgiUnknownApplication,
    FastAgiServer,
)

LOGGER = "acd.asterisk.fastagi"
Handler = Callable[[AgiSession], Awaitable[None]]


def assert_same_command(sent: bytes, captured: bytes) -> None:
    """Asterisk reads both the same; ours is the canonical form (bare keywords, quoted args)."""
    _keyword, args = split_captured(captured)
    assert split_command_line(sent.decode()) == split_command_line(captured.decode())
    assert sent == canonical(captured), (sent, captured)
    if not args:
        assert sent == captured


def env_block(**values: str) -> bytes:
    env = {
        "network": "yes",
        "network_script": "inbound",
        "request": "agi://127.0.0.1:4573/inbound",
        "channel": "PJSIP/trunk-00000001",
        "uniqueid": "1700000000.1",
        "callerid": "5551234",
        "calleridname": "Caller",
        "dnid": "unknown",
    }
    env.update(values)
    return "".join(f"agi_{key}: {value}\n" for key, value in env.items()).encode() + b"\n"


async def wait_until(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    """Wait for a condition (polled) with a deadline: no fixed sleeps in tests."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.002)


class FakeAsterisk:
    """The Asterisk end of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def command(self, timeout: float = 1.0) -> bytes:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        assert line.endswith(b"\n"), f"expected a command, got {line!r}"
        return line

    async def expect_closed(self, timeout: float = 1.0) -> None:
        """The server closed the connection (nothing more was sent)."""
        assert await asyncio.wait_for(self.reader.read(), timeout) == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()

    async def replay(self, records: list[tuple[str, bytes]]) -> list[bytes]:
        """Play a captured session: headers, then a reply for each command the server sends."""
        await self.send(b"".join(data for kind, data in records if kind == ENV))
        sent: list[bytes] = []
        for kind, data in records:
            if kind == TO_ASTERISK:
                line = await self.command(timeout=2.0)
                assert_same_command(line, data)
                sent.append(line)
            elif kind == FROM_ASTERISK:
                await self.send(data)
            elif kind == CLOSE:
                await self.expect_closed()
        return sent


class Script:
    """A handler body run by the server; ``finished()`` re-raises what it raised."""

    def __init__(self, body: Handler) -> None:
        self.body = body
        self.calls = 0
        self.done = asyncio.Event()
        self.error: BaseException | None = None
        self.session: AgiSession | None = None

    async def __call__(self, session: AgiSession) -> None:
        self.calls += 1
        self.session = session
        try:
            await self.body(session)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.done.set()

    async def finished(self, timeout: float = 2.0) -> AgiSession:
        await asyncio.wait_for(self.done.wait(), timeout)
        if self.error is not None:
            raise self.error
        assert self.session is not None
        return self.session


ServerFactory = Callable[..., Awaitable[FastAgiServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[ServerFactory]:
    servers: list[FastAgiServer] = []

    async def factory(handler: Handler, **options: float) -> FastAgiServer:
        options.setdefault("header_timeout", 1.0)
        options.setdefault("command_timeout", 1.0)
        server = FastAgiServer(handler, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
        await server.start()
        assert server.port != 0
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.stop()


async def nothing(session: AgiSession) -> None:
    return None


async def answer_only(session: AgiSession) -> None:
    await session.answer()


async def serve_one_answer(port: int) -> None:
    """A normal short session: the server still serves."""
    fake = await FakeAsterisk.connect(port)
    await fake.send(env_block())
    assert await fake.command() == b"ANSWER\n"
    await fake.send(b"200 result=0\n")
    await fake.expect_closed()
    await fake.close()


# --------------------------------------------------------------------------- golden sessions


async def capture_02(s: AgiSession) -> None:
    assert (s.script, s.query, s.args) == ("hotline", {}, [])
    assert (s.channel, s.uniqueid) == ("Local/s@from-pstn-00000001;2", "1795337935.4")
    assert (s.callerid, s.calleridname, s.dnid) == ("5551234", "PSTN Caller", None)
    assert s.env["version"] == "22.10.1"
    await s.answer()
    assert await s.stream_file("hello-world") is None
    assert await s.say_number(5) is None
    assert await s.get_data("beep", 3000, 1) == ("7", False)
    assert await s.get_data("beep", 1500, 1) == ("", True)
    assert await s.stream_file("hello-world", "#") is None
    assert await s.stream_file("no-such-file") is None  # result=-1 endpos=0: logged
    assert await s.get_variable("CHANNEL(name)") == "Local/s@from-pstn-00000001;2"
    assert await s.get_variable("NOSUCHVAR") is None
    full = await s.command("GET FULL VARIABLE", "${CALLERID(num)} / ${UNIQUEID}")
    assert (full.result, full.data) == (1, "5551234 / 1795337935.4")
    await s.set_variable("ACD_RESULT", "hello world")
    assert await s.get_variable("ACD_RESULT") == "hello world"
    assert (await s.command("CHANNEL STATUS")).result == 6
    await s.verbose("from fastagi", 1)
    await s.command("SET MUSIC", "ON", "default")
    assert (await s.exec("Wait", "1")).result == 0
    await s.command("SET MUSIC", "OFF")
    assert (await s.exec("Playback", "beep")).result == 0
    with pytest.raises(AgiUnknownApplication) as unknown:
        await s.exec("NoSuchApp", "foo")
    assert unknown.value.reply.result == -2
    with pytest.raises(AgiCommandError) as invalid:
        await s.command("NOSUCH COMMAND")
    assert (invalid.value.code, invalid.value.reply.data) == (510, "Invalid or unknown command")
    with pytest.raises(AgiCommandError) as usage:
        await s.command("SAY NUMBER")
    assert usage.value.code == 520
    assert usage.value.usage is not None and usage.value.usage.startswith("Say a given number")
    assert (await s.command("DATABASE PUT", "acdtest", "key1", "value1")).result == 1
    assert (await s.command("DATABASE GET", "acdtest", "key1")).data == "value1"
    assert (await s.command("WAIT FOR DIGIT", "500")).result == 0
    await s.command("SET CONTEXT", "test-caller")
    await s.command("SET EXTENSION", "s")
    await s.command("SET PRIORITY", "1")
    assert not s.hung_up
    await s.hangup()
    assert s.hung_up
    with pytest.raises(AgiHangup) as dead:  # HANGUP, then 511
        await s.command("CHANNEL STATUS")
    assert dead.value.reply is not None and dead.value.reply.code == 511


async def test_capture_02_full_session(
    start_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    script = Script(capture_02)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    records = agi_sessions("02_fastagi.txt")[0]
    sent = await fake.replay(records)
    await script.finished()
    assert len(sent) == sum(kind == TO_ASTERISK for kind, _ in records) == 29
    assert sent[1] == b'STREAM FILE "hello-world" ""\n'
    assert sent[3] == b'GET DATA "beep" "3000" "1"\n'
    assert "no-such-file" in caplog.text and "result=-1" in caplog.text
    await fake.close()
    await wait_until(lambda: server.active_connections == 0)


async def capture_03(s: AgiSession) -> None:
    await s.answer()
    assert (await s.exec("Wait", "8")).result == -1  # the caller hung up during Wait
    with pytest.raises(AgiHangup) as hangup:  # HANGUP arrives, then 511
        await s.stream_file("hello-world")
    assert hangup.value.reply is not None and hangup.value.reply.code == 511
    assert s.hung_up
    assert await s.get_variable("CHANNEL(state)") == "Up"  # allowed on a dead channel


async def test_capture_03_caller_hangs_up(start_server: ServerFactory) -> None:
    script = Script(capture_03)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    await fake.replay(agi_sessions("03_fastagi_hangup.txt")[0])
    await script.finished()
    await fake.close()


async def capture_08_arguments(s: AgiSession) -> None:
    assert (s.script, s.query) == ("hotline", {"line": "2", "lang": "ru"})
    assert s.args == ["88005553535", "second arg"]
    assert (s.callerid, s.dnid) == ("5558888", None)
    await s.answer()
    await s.set_variable("CHANNEL(language)", "ru")
    assert await s.say_number(21) is None
    assert await s.stream_file("hello-world") is None
    # EXEC does not expand ${UNIQUEID}: it reaches MixMonitor literally (see the reply below)
    assert (await s.exec("MixMonitor", "acd-agi-${UNIQUEID}.wav", "b")).result == 0
    dial = await s.exec("Dial", "Local/agent1@test-agent/n", "20", "g", timeout=None)
    assert dial.result == 0
    assert await s.get_variable("DIALSTATUS") == "ANSWER"
    assert await s.get_variable("ANSWEREDTIME") == "23"
    assert await s.get_variable("MIXMONITOR_FILENAME") == (
        "/var/spool/asterisk/monitor/acd-agi-${UNIQUEID}.wav"
    )
    assert (await s.exec("Dial", "Local/nosuch@nowhere", "5")).result == 0
    assert await s.get_variable("DIALSTATUS") == "CHANUNAVAIL"


async def capture_08_redirect(s: AgiSession) -> None:
    await s.answer()
    assert (await s.exec("Wait", "20")).result == -1  # AMI Redirect pulls the channel out
    with pytest.raises(AgiHangup) as redirected:  # HANGUP, then the reply still comes
        await s.get_variable("CHANNEL(context)")
    assert redirected.value.reply is not None
    assert redirected.value.reply.data == "test-caller"
    assert s.hung_up
    with pytest.raises(AgiHangup) as dead:
        await s.stream_file("beep")
    assert dead.value.reply is not None and dead.value.reply.code == 511


@pytest.mark.parametrize(
    ("index", "body"),
    [(0, capture_08_arguments), (1, capture_08_redirect)],
    ids=["query-args-exec", "redirect"],
)
async def test_capture_08_sessions(start_server: ServerFactory, index: int, body: Handler) -> None:
    script = Script(body)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    sent = await fake.replay(agi_sessions("08_misc.txt")[index])
    await script.finished()
    if index == 0:
        assert sent[4] == b'EXEC "MixMonitor" "acd-agi-${UNIQUEID}.wav,b"\n'
        assert sent[5] == b'EXEC "Dial" "Local/agent1@test-agent/n,20,g"\n'
    await fake.close()


# --------------------------------------------------------------------------- bad clients


async def test_silent_client_is_closed_after_the_header_timeout(
    start_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    script = Script(answer_only)
    server = await start_server(script, header_timeout=0.2)
    silent = await FakeAsterisk.connect(server.port)
    started = time.monotonic()
    await silent.expect_closed(timeout=1.5)
    assert 0.15 < time.monotonic() - started < 1.0
    await wait_until(lambda: server.active_connections == 0)
    assert script.calls == 0
    assert "no complete header block" in caplog.text
    await silent.close()
    await serve_one_answer(server.port)
    assert script.calls == 1


@pytest.mark.parametrize(
    "sent",
    [b"", b"agi_network: yes\nagi_network_scr", b"agi_network: yes\nagi_channel: X\n"],
    ids=["nothing", "mid-line", "no-blank-line"],
)
@pytest.mark.timeout(10)  # a busy loop blocks the event loop; only a signal can end it
async def test_client_gone_before_its_headers_costs_nothing(
    start_server: ServerFactory, sent: bytes
) -> None:
    script = Script(answer_only)
    # A long header timeout: the connection must end on EOF, not on the timer.
    server = await start_server(script, header_timeout=30.0)
    fake = await FakeAsterisk.connect(server.port)
    await wait_until(lambda: server.active_connections == 1)
    if sent:
        await fake.send(sent)
    await fake.close()
    cpu_before = time.process_time()
    await wait_until(lambda: server.active_connections == 0, timeout=1.0)
    assert time.process_time() - cpu_before < 0.5  # finished, no spinning on b""
    assert script.calls == 0
    await serve_one_answer(server.port)


@pytest.mark.timeout(10)
async def test_half_closed_client_is_closed_at_once(start_server: ServerFactory) -> None:
    script = Script(answer_only)
    server = await start_server(script, header_timeout=30.0)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(b"agi_network: yes\n")
    fake.writer.write_eof()  # still reading: the server must notice EOF and close
    await fake.expect_closed(timeout=1.0)
    await wait_until(lambda: server.active_connections == 0)
    assert script.calls == 0
    await fake.close()


@pytest.mark.parametrize(
    ("payload", "log_text"),
    [
        (b"agi_padding: " + b"x" * 200 + b"\n", "over 1024 bytes"),  # repeated: many lines
        (b"x" * 100_000, "too long"),  # one endless line
        (b"GET / HTTP/1.1\r\nHost: acd\r\n\r\n", "not an agi_* header"),
        (b"\n", "empty header block"),
    ],
    ids=["oversize-block", "oversize-line", "garbage", "empty"],
)
async def test_bad_header_blocks_are_logged_and_closed(
    start_server: ServerFactory,
    caplog: pytest.LogCaptureFixture,
    payload: bytes,
    log_text: str,
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    script = Script(answer_only)
    server = await start_server(script, header_timeout=30.0, max_header_bytes=1024)
    fake = await FakeAsterisk.connect(server.port)
    if payload.startswith(b"agi_padding"):
        payload *= 10
    fake.writer.write(payload)
    await fake.expect_closed(timeout=1.0)
    await wait_until(lambda: server.active_connections == 0)
    assert script.calls == 0
    assert log_text in caplog.text
    await fake.close()
    await serve_one_answer(server.port)


# --------------------------------------------------------------------------- session behaviour


async def test_injection_attempt_writes_nothing(start_server: ServerFactory) -> None:
    evil = '"x"\nHANGUP'

    async def body(s: AgiSession) -> None:
        with pytest.raises(AgiInjectionError, match="line feed"):
            await s.set_variable("CALLER", evil)
        with pytest.raises(AgiInjectionError):
            await s.exec("Set", f"CALLERID(name)={evil}")
        with pytest.raises(AgiInjectionError):
            await s.verbose(evil)
        with pytest.raises(AgiInjectionError, match="comma"):
            await s.exec("Dial", "PJSIP/1001,1,U(evil)")
        with pytest.raises(AgiInjectionError):
            await s.stream_file("x\0y")
        assert not s.closed
        await s.set_variable("CALLER", f'{s.calleridname} "x" HANGUP')  # quotes are just text

    script = Script(body)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block(calleridname='"x"'))
    line = await fake.command()  # the first thing written is the harmless command
    assert line == b'SET VARIABLE "CALLER" "\\"x\\" \\"x\\" HANGUP"\n'
    assert split_command_line(line.decode()) == ["SET", "VARIABLE", "CALLER", '"x" "x" HANGUP']
    await fake.send(b"200 result=1\n")
    await fake.expect_closed()
    await script.finished()
    await fake.close()


async def test_handler_exception_is_logged_and_server_keeps_serving(
    start_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    async def handler(s: AgiSession) -> None:
        calls.append(s.uniqueid)
        if len(calls) == 1:
            raise RuntimeError("handler bug")
        await s.answer()

    server = await start_server(handler)
    broken = await FakeAsterisk.connect(server.port)
    await broken.send(env_block(uniqueid="1.1"))
    await broken.expect_closed()
    await broken.close()
    records = [r for r in caplog.records if r.name == LOGGER and r.exc_info]
    assert len(records) == 1 and records[0].levelno == logging.ERROR
    assert "handler bug" in caplog.text
    await serve_one_answer(server.port)
    assert calls == ["1.1", "1700000000.1"]
    await wait_until(lambda: server.active_connections == 0)


async def test_fifty_concurrent_sessions(start_server: ServerFactory) -> None:
    results: dict[str, str | None] = {}

    async def handler(s: AgiSession) -> None:
        await s.set_variable("SEEN", s.uniqueid)
        results[s.uniqueid] = await s.get_variable("ECHO")

    server = await start_server(handler)

    async def caller(number: int) -> None:
        uniqueid = f"1700000000.{number}"
        fake = await FakeAsterisk.connect(server.port)
        await fake.send(env_block(uniqueid=uniqueid, channel=f"PJSIP/t-{number:08x}"))
        line = await fake.command(timeout=2.0)
        assert split_command_line(line.decode()) == ["SET", "VARIABLE", "SEEN", uniqueid]
        await fake.send(b"200 result=1\n")
        assert await fake.command(timeout=2.0) == b'GET VARIABLE "ECHO"\n'
        await fake.send(f"200 result=1 (echo {uniqueid})\n".encode())
        await fake.expect_closed(timeout=2.0)
        await fake.close()

    await asyncio.gather(*(caller(n) for n in range(50)))
    assert results == {f"1700000000.{n}": f"echo 1700000000.{n}" for n in range(50)}
    await wait_until(lambda: server.active_connections == 0)


async def test_command_timeout_closes_the_connection(start_server: ServerFactory) -> None:
    async def body(s: AgiSession) -> None:
        started = time.monotonic()
        with pytest.raises(AgiTimeout):
            await s.answer()
        assert 0.15 < time.monotonic() - started < 1.0
        assert s.closed and s.hung_up
        with pytest.raises(AgiHangup):
            await s.verbose("too late")

    script = Script(body)
    server = await start_server(script, command_timeout=0.2)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block())
    assert await fake.command() == b"ANSWER\n"
    await fake.expect_closed()  # never answered: the server gave up and closed
    await script.finished()
    await fake.close()


async def test_per_command_timeout_overrides_the_default(start_server: ServerFactory) -> None:
    async def body(s: AgiSession) -> None:
        with pytest.raises(AgiTimeout):
            await s.exec("Wait", "60", timeout=0.1)

    script = Script(body)
    server = await start_server(script, command_timeout=30.0)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block())
    assert await fake.command() == b'EXEC "Wait" "60"\n'
    await script.finished(timeout=1.0)
    await fake.close()


@pytest.mark.timeout(10)
async def test_eof_is_a_hangup(start_server: ServerFactory) -> None:
    async def body(s: AgiSession) -> None:
        with pytest.raises(AgiHangup):
            await s.stream_file("acd/greeting")
        assert s.hung_up and s.closed
        with pytest.raises(AgiHangup):
            await s.get_variable("X")

    script = Script(body)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block())
    await fake.command()
    await fake.close()
    await script.finished()
    await wait_until(lambda: server.active_connections == 0)


async def test_hangup_between_commands_is_seen_at_once_and_reported_once(
    start_server: ServerFactory,
) -> None:
    async def body(s: AgiSession) -> None:
        await s.answer()
        await wait_until(lambda: s.hung_up)  # no command running: still noticed
        with pytest.raises(AgiHangup) as first:
            await s.get_variable("ACD_CALL_ID")
        assert first.value.reply is not None and first.value.reply.data == "call-1"
        assert await s.get_variable("ACD_CALL_ID") == "call-1"  # reported once

    script = Script(body)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block())
    assert await fake.command() == b"ANSWER\n"
    await fake.send(b"200 result=0\nHANGUP\n")
    for _ in range(2):
        assert await fake.command() == b'GET VARIABLE "ACD_CALL_ID"\n'
        await fake.send(b"200 result=1 (call-1)\n")
    await script.finished()
    await fake.close()


async def test_result_values_of_the_helpers(start_server: ServerFactory) -> None:
    async def body(s: AgiSession) -> None:
        with pytest.raises(AgiHangup):
            await s.get_data("acd/menu", 2000, 3)
        with pytest.raises(AgiHangup):
            await s.answer()
        assert await s.get_data("acd/menu", 2000, 3) == ("12", True)
        assert await s.get_data("acd/menu", 2000, 3) == ("", False)  # '#' at once
        assert await s.say_digits("123", "#") == "#"
        assert await s.stream_file("acd/menu", "0123456789") == "5"
        await s.hangup()  # 511: the channel is gone already, which is what was asked
        assert s.hung_up

    script = Script(body)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block())
    for reply in (
        b"200 result=-1\n",
        b"200 result=-1\n",
        b"200 result=12 (timeout)\n",
        b"200 result=\n",
        b"200 result=35\n",
        b"200 result=53 endpos=1234\n",
        b"511 Command Not Permitted on a dead channel or intercept routine\n",
    ):
        await fake.command()
        await fake.send(reply)
    await script.finished()
    await fake.close()


async def test_reply_nobody_asked_for_closes_the_connection(
    start_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(s: AgiSession) -> None:
        await wait_until(lambda: s.closed)
        with pytest.raises(AgiHangup):
            await s.answer()

    script = Script(body)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block() + b"200 result=0\n")
    await fake.expect_closed()
    await script.finished()
    assert "nobody asked for" in caplog.text
    await fake.close()


async def test_concurrent_commands_on_one_session_are_serialised(
    start_server: ServerFactory,
) -> None:
    async def body(s: AgiSession) -> None:
        a, b = await asyncio.gather(s.get_variable("A"), s.get_variable("B"))
        assert (a, b) == ("a", "b")

    script = Script(body)
    server = await start_server(script)
    fake = await FakeAsterisk.connect(server.port)
    await fake.send(env_block())
    assert await fake.command() == b'GET VARIABLE "A"\n'
    assert not fake.reader._buffer  # B waits for A's reply
    await fake.send(b"200 result=1 (a)\n")
    assert await fake.command() == b'GET VARIABLE "B"\n'
    await fake.send(b"200 result=1 (b)\n")
    await script.finished()
    await fake.close()


async def test_stop_cancels_running_sessions(start_server: ServerFactory) -> None:
    cancelled = asyncio.Event()

    async def body(s: AgiSession) -> None:
        try:
            await s.get_data("acd/menu", 10_000, 4)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = await start_server(body)
    port = server.port
    fake = await FakeAsterisk.connect(port)
    await fake.send(env_block())
    await fake.command()  # GET DATA is running
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 1.0
    assert cancelled.is_set()
    assert server.active_connections == 0 and not server.serving
    await fake.expect_closed()
    await fake.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    await server.stop()  # idempotent


async def test_context_manager_and_port_zero() -> None:
    async with FastAgiServer(nothing, port=0) as server:
        assert server.serving and server.port > 0
        fake = await FakeAsterisk.connect(server.port)
        await fake.send(env_block())
        await fake.expect_closed()
        await fake.close()
    assert not server.serving
