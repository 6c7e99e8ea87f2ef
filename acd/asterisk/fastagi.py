"""The daemon's own FastAGI server, on ``asyncio.start_server``.

Why not panoramisk's: it spins at 100 % CPU when a client disconnects before sending its
headers (it keeps reading ``b""``), it breaks on the unsolicited ``HANGUP`` line, and it drops
the ``(timeout)`` marker of GET DATA. Here:

* the header block must arrive within ``header_timeout`` and fit in ``max_header_bytes``; a
  client that sends nothing, sends garbage, or goes away first costs one short-lived task;
* each connection runs ``await handler(session)`` in its own task: an exception is logged
  and only that connection is closed;
* every command waits at most ``command_timeout`` for its reply (per-call override);
* EOF is a hangup; ``HANGUP`` and ``511`` raise :class:`AgiHangup` (see :class:`AgiSession`).

The wire format lives in :mod:`acd.asterisk.agi_codec` (pure); see ``docs/fastagi.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import re
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, Literal

from acd.asterisk.agi_codec import (
    AgiCommandError,
    AgiError,
    AgiHangup,
    AgiHeaders,
    AgiInjectionError,
    AgiProtocolError,
    AgiReply,
    AgiTimeout,
    AgiUnknownApplication,
    HangupNotice,
    ReplyParser,
    decode_line,
    encode_command,
    parse_header_line,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "AgiCommandError",
    "AgiError",
    "AgiHandler",
    "AgiHangup",
    "AgiInjectionError",
    "AgiProtocolError",
    "AgiReply",
    "AgiSession",
    "AgiTimeout",
    "AgiUnknownApplication",
    "FastAgiServer",
]

log = logging.getLogger(__name__)


class _Default(enum.Enum):
    TIMEOUT = "default"


DEFAULT_TIMEOUT: Final = _Default.TIMEOUT
"""``timeout=`` default of the session's commands: the server's ``command_timeout``."""

CommandTimeout = float | None | Literal[_Default.TIMEOUT]

_DIGITS = re.compile(r"[0-9*#A-Da-d]*")
_APPLICATION = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MIN_READ_LIMIT: Final = 64 * 1024  # longest reply line; also caps one header line
_CLOSE_GRACE: Final = 1.0  # seconds to let a closed socket flush before aborting it


class AgiSession:
    """One FastAGI connection: one ``AGI()`` run on one channel.

    Attributes come from the ``agi_*`` header block: ``env`` (keys without ``agi_``),
    ``script`` (path of ``agi_network_script`` without the query), ``query``, ``args``
    (``agi_arg_1..N``), ``channel``, ``uniqueid``, ``callerid``/``calleridname``/``dnid``
    (None for Asterisk's ``unknown``).

    Commands run one at a time (a lock serialises concurrent callers). Hangups: when the
    caller hangs up, the running command usually returns ``result=-1`` and then Asterisk
    sends an unsolicited ``HANGUP`` line. The command whose reply comes after that line (the
    one in flight, or the next one sent) raises :class:`AgiHangup` — with the reply attached,
    since ``GET VARIABLE`` still works on a dead channel; every ``511`` reply raises
    :class:`AgiHangup` too; so does any command once the connection is closed. ``hung_up``
    turns True as soon as the line (or EOF, or a 511) arrives, even between commands.

    A command that times out (or is cancelled) leaves the protocol out of step — its reply
    may still come — so the connection is closed and later commands raise AgiHangup.
    """

    env: dict[str, str]
    script: str
    query: dict[str, str]
    args: list[str]
    channel: str
    uniqueid: str
    callerid: str | None
    calleridname: str | None
    dnid: str | None

    def __init__(
        self,
        headers: AgiHeaders,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout: float | None = 30.0,
        peer: str = "",
    ) -> None:
        self.headers = headers
        self.env = headers.env
        self.script = headers.script
        self.query = headers.query
        self.args = headers.args
        self.channel = headers.channel
        self.uniqueid = headers.uniqueid
        self.callerid = headers.callerid
        self.calleridname = headers.calleridname
        self.dnid = headers.dnid
        self.peer = peer
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self._lock = asyncio.Lock()
        self._pending: asyncio.Future[tuple[AgiReply, bool]] | None = None
        self._hangup_unreported = False
        self._hung_up = False
        self._closed = False
        self._reader_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<AgiSession {self.script!r} {self.channel!r} peer={self.peer}>"

    @property
    def hung_up(self) -> bool:
        """True once Asterisk said ``HANGUP`` or ``511``, ANSWER/GET DATA failed, we sent
        HANGUP ourselves, or the connection closed."""
        return self._hung_up

    @property
    def closed(self) -> bool:
        """True once the connection is gone (EOF, protocol error, timeout, end of session)."""
        return self._closed

    # ------------------------------------------------------------------ commands

    async def command(self, *words: str, timeout: CommandTimeout = DEFAULT_TIMEOUT) -> AgiReply:
        """Send a raw command and return its ``200`` reply.

        ``words[0]`` is the keyword phrase, written bare (``"STREAM FILE"``); every further
        word is an argument and is quoted: ``command("STREAM FILE", "hello-world", "")``
        sends ``STREAM FILE "hello-world" ""``. Raises AgiInjectionError (nothing sent),
        AgiHangup (HANGUP / 511 / closed), AgiCommandError (510, 520, other codes),
        AgiTimeout (``timeout`` seconds; None waits forever).
        """
        if not words:
            raise ValueError("command() needs at least a keyword, like 'ANSWER'")
        line = encode_command(*words)
        reply, hangup_before = await self._roundtrip(line, words[0], timeout)
        return self._check(reply, hangup_before, words[0])

    async def answer(self) -> None:
        reply = await self.command("ANSWER")
        if reply.result == -1:
            self._hung_up = True
            raise AgiHangup("ANSWER failed: the channel is gone", reply)

    async def stream_file(self, name: str, escape_digits: str = "") -> str | None:
        """Play a prompt; return the escape digit pressed, or None.

        ``result=-1`` (missing file, or a hangup that the next command will report) is
        logged and returns None, so a missing prompt does not cost the call.
        """
        _check_digits(escape_digits)
        reply = await self.command("STREAM FILE", name, escape_digits)
        return self._digit(reply, f"STREAM FILE {name!r}")

    async def get_data(
        self, prompt: str, timeout_ms: int = 5000, max_digits: int = 1
    ) -> tuple[str, bool]:
        """Play ``prompt`` and collect up to ``max_digits`` DTMF digits.

        Returns ``(digits, timed_out)``: ``("7", False)``, ``("", True)`` for
        ``200 result= (timeout)``, ``("12", True)`` when input stopped part way. ``#`` ends
        input early and is not returned. ``result=-1`` means the channel hung up: AgiHangup.
        """
        _check_positive("timeout_ms", timeout_ms)
        _check_positive("max_digits", max_digits)
        limit = self._command_timeout
        if limit is not None:  # the prompt, then up to timeout_ms for each digit
            limit += max_digits * timeout_ms / 1000
        reply = await self.command(
            "GET DATA", prompt, str(timeout_ms), str(max_digits), timeout=limit
        )
        if reply.result_text == "-1":
            self._hung_up = True
            raise AgiHangup("GET DATA failed: the channel hung up", reply)
        return reply.result_text, reply.timeout

    async def say_number(self, number: int, escape_digits: str = "") -> str | None:
        if isinstance(number, bool) or not isinstance(number, int):
            raise TypeError(f"number must be int, not {type(number).__name__}")
        _check_digits(escape_digits)
        reply = await self.command("SAY NUMBER", str(number), escape_digits)
        return self._digit(reply, f"SAY NUMBER {number}")

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None:
        _check_digits(escape_digits)
        reply = await self.command("SAY DIGITS", digits, escape_digits)
        return self._digit(reply, f"SAY DIGITS {digits!r}")

    async def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable (or a writable function such as ``CHANNEL(language)``).

        The value is stored literally; caller-controlled text is safe here.
        """
        await self.command("SET VARIABLE", name, value)

    async def get_variable(self, name: str) -> str | None:
        """A channel variable or function value; None when unset (``200 result=0``)."""
        reply = await self.command("GET VARIABLE", name)
        if reply.result != 1:
            return None
        return reply.data if reply.data is not None else ""

    async def exec(
        self, application: str, *args: str, timeout: CommandTimeout = DEFAULT_TIMEOUT
    ) -> AgiReply:
        """Run a dialplan application: ``exec("Dial", "PJSIP/1001", "20", "g")`` sends
        ``EXEC "Dial" "PJSIP/1001,20,g"``.

        Values must be final: AGI EXEC does not expand ``${VAR}``. Each ``args`` item is one
        application argument; they are joined with ``,`` (Asterisk reads only one EXEC
        argument), so an item containing ``,`` raises AgiInjectionError. The application
        still parses its data (quotes, backslashes, parentheses): do not pass
        caller-controlled text here — put it in a variable with :meth:`set_variable`.
        Returns the reply (``result`` is the application's return value, -1 usually meaning
        the channel hung up); ``-2`` raises AgiUnknownApplication. Long applications (Dial,
        Queue) need ``timeout=None`` or a large value.
        """
        if not isinstance(application, str) or not _APPLICATION.fullmatch(application):
            raise ValueError(f"not an application name: {application!r}")
        for index, arg in enumerate(args, 1):
            if isinstance(arg, str) and "," in arg:
                raise AgiInjectionError(
                    f"{application} argument {index} contains a comma, which would split it: "
                    f"{arg[:40]!r}"
                )
        words = (application, ",".join(args)) if args else (application,)
        reply = await self.command("EXEC", *words, timeout=timeout)
        if reply.result == -2:
            raise AgiUnknownApplication(application, reply)
        return reply

    async def hangup(self) -> None:
        """Hang up the channel. Asterisk then sends HANGUP: the next command raises AgiHangup.

        Never raises AgiHangup itself: if the channel or connection is already gone, so be it.
        """
        with contextlib.suppress(AgiHangup):
            await self.command("HANGUP")
        self._hung_up = True

    async def verbose(self, message: str, level: int = 1) -> None:
        """Write ``message`` to Asterisk's verbose log (levels 1–4)."""
        if level not in (1, 2, 3, 4):
            raise ValueError(f"verbose level must be 1..4, not {level!r}")
        await self.command("VERBOSE", message, str(level))

    # ------------------------------------------------------------------ plumbing

    def _digit(self, reply: AgiReply, what: str) -> str | None:
        result = reply.result
        if result is None or result == 0:
            return None
        if result < 0:
            log.warning("FastAGI %s: %s failed (%s)", self.channel, what, reply.raw)
            return None
        return chr(result)

    def _check(self, reply: AgiReply, hangup_before: bool, what: str) -> AgiReply:
        if reply.code == 511:
            self._hung_up = True
            raise AgiHangup(f"{what}: not permitted on a dead channel (511)", reply)
        if hangup_before:
            raise AgiHangup(f"{what}: the channel hung up", reply)
        if reply.code != 200:
            raise AgiCommandError(reply)
        return reply

    async def _roundtrip(
        self, line: bytes, what: str, timeout: CommandTimeout
    ) -> tuple[AgiReply, bool]:
        limit = self._command_timeout if timeout is DEFAULT_TIMEOUT else timeout
        async with self._lock:
            if self._closed:
                raise AgiHangup(f"{what}: the FastAGI connection is closed")
            pending: asyncio.Future[tuple[AgiReply, bool]] = (
                asyncio.get_running_loop().create_future()
            )
            self._pending = pending
            try:
                self._writer.write(line)
                async with asyncio.timeout(limit):
                    await self._writer.drain()
                    return await pending
            except TimeoutError:
                self._abandon(f"no reply to {what} within {limit} s", logging.WARNING)
                raise AgiTimeout(f"no reply to {what} within {limit} s") from None
            except asyncio.CancelledError:
                self._abandon(f"{what} cancelled while waiting for its reply", logging.INFO)
                raise
            except ConnectionError as exc:
                self._closed = self._hung_up = True
                raise AgiHangup(f"{what}: FastAGI connection lost ({exc})") from exc
            finally:
                self._pending = None

    def _abandon(self, why: str, level: int) -> None:
        """The reply of the running command may still come: close instead of desyncing."""
        if not self._closed:
            log.log(level, "FastAGI %s: %s; closing the connection", self.channel, why)
        self._closed = self._hung_up = True
        self._writer.close()

    def _start(self) -> None:
        self._reader_task = asyncio.get_running_loop().create_task(
            self._read_replies(), name=f"fastagi-replies {self.channel}"
        )

    async def _read_replies(self) -> None:
        """Read every line Asterisk sends: replies go to the waiting command, HANGUP marks
        the session. Runs until EOF, so ``hung_up`` is current even between commands."""
        parser = ReplyParser()
        why = "closed by Asterisk"
        try:
            while True:
                raw = await self._reader.readline()
                if not raw.endswith(b"\n"):
                    break  # EOF; a partial last line is dropped
                item = parser.feed(decode_line(raw))
                if item is None:
                    continue
                if isinstance(item, HangupNotice):
                    log.debug("FastAGI %s: HANGUP", self.channel)
                    self._hung_up = self._hangup_unreported = True
                    continue
                pending = self._pending
                if pending is None or pending.done():
                    raise AgiProtocolError(f"a reply nobody asked for: {item.raw[:80]!r}")
                pending.set_result((item, self._hangup_unreported))
                self._hangup_unreported = False
        except (AgiProtocolError, ValueError) as exc:  # ValueError: line over the limit
            why = f"protocol error: {exc}"
            if not self._closed:
                log.warning("FastAGI %s: %s; closing the connection", self.channel, why)
        except ConnectionError as exc:
            why = f"connection lost: {exc}"
        finally:
            self._closed = self._hung_up = True
            pending = self._pending
            if pending is not None and not pending.done():
                pending.set_exception(AgiHangup(f"FastAGI connection {why}"))
            self._writer.close()

    async def _aclose(self) -> None:
        self._closed = True
        task = self._reader_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=_CLOSE_GRACE)


AgiHandler = Callable[[AgiSession], Awaitable[object]]


class FastAgiServer:
    """``FastAgiServer(handler, host, port)``; ``await start()``, ``await stop()``.

    ``port=0`` binds a free port, readable from :attr:`port` after ``start()``.
    ``active_connections`` counts connections still being served (headers or handler).
    """

    def __init__(
        self,
        handler: AgiHandler,
        host: str = "127.0.0.1",
        port: int = 4573,
        *,
        header_timeout: float = 5.0,
        command_timeout: float = 30.0,
        max_header_bytes: int = 16384,
    ) -> None:
        if header_timeout <= 0 or command_timeout <= 0 or max_header_bytes <= 0:
            raise ValueError("timeouts and max_header_bytes must be positive")
        self._handler = handler
        self.host = host
        self._requested_port = port
        self._port = port
        self.header_timeout = header_timeout
        self.command_timeout = command_timeout
        self.max_header_bytes = max_header_bytes
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._active = 0

    @property
    def port(self) -> int:
        """The bound port once started (the real one when constructed with 0)."""
        return self._port

    @property
    def active_connections(self) -> int:
        return self._active

    @property
    def serving(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FastAGI server already started")
        self._server = await asyncio.start_server(
            self._serve,
            self.host,
            self._requested_port,
            limit=max(_MIN_READ_LIMIT, self.max_header_bytes + 1),
        )
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on %s:%s", self.host, self._port)

    async def stop(self) -> None:
        """Stop listening, cancel every session (handlers see CancelledError), close them."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CLOSE_GRACE):
                await server.wait_closed()
        log.info("FastAGI server on port %s stopped", self._port)

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._active += 1
        peer = _peer_name(writer)
        session: AgiSession | None = None
        try:
            headers = await self._read_headers(reader, peer)
            if headers is None:
                return
            session = AgiSession(
                headers, reader, writer, command_timeout=self.command_timeout, peer=peer
            )
            session._start()
            await self._run_handler(session)
        except asyncio.CancelledError:
            # stop(). Not re-raised: this is a top-level task, and asyncio 3.11's
            # start_server callback would log a cancelled one as an error.
            log.debug("FastAGI %s: cancelled", peer)
        finally:
            if session is not None:
                await session._aclose()
            await _close_writer(writer)
            self._active -= 1
            if task is not None:
                self._tasks.discard(task)

    async def _read_headers(self, reader: asyncio.StreamReader, peer: str) -> AgiHeaders | None:
        env: dict[str, str] = {}
        size = 0
        try:
            async with asyncio.timeout(self.header_timeout):
                while True:
                    raw = await reader.readline()
                    if not raw.endswith(b"\n"):
                        log.info("FastAGI %s: closed before the end of its headers", peer)
                        return None
                    size += len(raw)
                    if size > self.max_header_bytes:
                        log.warning(
                            "FastAGI %s: header block over %d bytes; closing",
                            peer,
                            self.max_header_bytes,
                        )
                        return None
                    line = decode_line(raw)
                    if not line:
                        break
                    key, value = parse_header_line(line)
                    env[key] = value
        except TimeoutError:
            log.warning(
                "FastAGI %s: no complete header block within %s s; closing",
                peer,
                self.header_timeout,
            )
            return None
        except AgiProtocolError as exc:
            log.warning("FastAGI %s: %s; closing", peer, exc)
            return None
        except ValueError:  # one line longer than the stream limit
            log.warning("FastAGI %s: header line too long; closing", peer)
            return None
        except ConnectionError as exc:
            log.info("FastAGI %s: %s before the end of its headers", peer, exc)
            return None
        if not env:
            log.warning("FastAGI %s: empty header block; closing", peer)
            return None
        return AgiHeaders.from_env(env)

    async def _run_handler(self, session: AgiSession) -> None:
        log.debug("FastAGI %s: %r on %s", session.peer, session.script, session.channel)
        try:
            await self._handler(session)
        except AgiHangup as exc:
            log.debug("FastAGI %s: %s ended by hangup: %s", session.channel, session.script, exc)
        except Exception:
            log.exception(
                "FastAGI handler for %r on %s (%s) failed",
                session.script,
                session.channel,
                session.peer,
            )


def _check_digits(escape_digits: str) -> None:
    if not isinstance(escape_digits, str) or not _DIGITS.fullmatch(escape_digits):
        raise ValueError(f"escape digits must be DTMF digits (0-9 * # A-D): {escape_digits!r}")


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, not {value!r}")


def _peer_name(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_GRACE):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise
