"""The FastAGI client side of ``AGI(agi://host:port/script?query,arg1,arg2)``, as res_agi.

Connects, sends the ``agi_*`` environment (bare ``\\n`` line endings), then executes one
command per line against the channel and answers ``200 result=...``. Every command is
mirrored on AMI as ``AGIExecStart``/``AGIExecEnd``. When the channel hangs up, is
redirected, or is pulled into a bridge, the running command returns ``result=-1``, an
unsolicited ``HANGUP`` line follows, and commands that need a live channel get ``511``.
``AGISTATUS`` ends as SUCCESS, FAILURE (server unreachable, or a command failed on a live
channel) or HANGUP; on HANGUP the AGI application returns -1 (the dialplan stops unless it
was a Redirect).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .appargs import separate_args
from .channels import SoftHangup
from .events import PRIV_AGI
from .functions import ChannelVariables, read_function, split_callerid, write_function
from .media import (
    ALL_DIGITS,
    PlayResult,
    play_prompt,
    prompt_exists,
    read_digits,
    start_moh,
    stop_moh,
    wait_for_digit,
)
from .recordings import SAMPLE_RATE
from .substitution import substitute

if TYPE_CHECKING:
    from .channels import Channel
    from .core import PbxCore

__all__ = ["AgiSession", "agi_app", "parse_agi_args", "parse_agi_url"]

log = logging.getLogger(__name__)

RESULT_SUCCESS = 0
RESULT_SHOWUSAGE = 1
RESULT_FAILURE = 2

AGI_PORT = 4573
DEAD_REPLY = "511 Command Not Permitted on a dead channel or intercept routine\n"


def parse_agi_args(line: str) -> list[str]:
    """res_agi's ``parse_args``: words split on blanks, double quotes group (and vanish),
    a backslash makes the next character literal; ``""`` is an empty argument."""
    args: list[str] = []
    cur: list[str] = []
    quoted = escaped = False
    in_word = False
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and not in_word:
                in_word = True
            continue
        if ch in " \t" and not quoted and not escaped:
            if in_word:
                args.append("".join(cur))
                cur = []
                in_word = False
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        cur.append(ch)
        in_word = True
        escaped = False
    if in_word:
        args.append("".join(cur))
    return args


def parse_agi_url(url: str) -> tuple[str, int, str]:
    """``agi://host[:port][/script[?query]]`` -> (host, port, script-with-query)."""
    rest = url[len("agi://") :]
    hostport, _, script = rest.partition("/")
    host, _, port = hostport.partition(":")
    try:
        port_num = int(port) if port else AGI_PORT
    except ValueError:
        port_num = AGI_PORT
    return host, port_num, script


@dataclass(frozen=True)
class _Command:
    words: tuple[str, ...]
    handler: str
    dead_ok: bool
    usage: str


# The SAY NUMBER text is Asterisk's own (capture 02); the others summarise res_agi's usage.
_COMMANDS = [
    _Command(("answer",), "answer", False, "Answers channel if not already in answer state."),
    _Command(
        ("channel", "status"),
        "channel_status",
        False,
        "Returns the status of the specified channel (or the current one).",
    ),
    _Command(("database", "del"), "db_del", True, "Deletes an entry in the Asterisk database."),
    _Command(("database", "deltree"), "db_deltree", True, "Deletes a family or specific keytree."),
    _Command(("database", "get"), "db_get", True, "Retrieves an entry in the Asterisk database."),
    _Command(("database", "put"), "db_put", True, "Adds or updates an entry in the database."),
    _Command(("exec",), "exec_", True, "Executes application with given options."),
    _Command(
        ("get", "data"),
        "get_data",
        False,
        "Stream the given file, and receive DTMF data. Returns the digits received.",
    ),
    _Command(
        ("get", "full", "variable"),
        "get_full_variable",
        True,
        "Evaluates a channel expression, understanding complex variable names and builtins.",
    ),
    _Command(
        ("get", "option"),
        "get_option",
        False,
        "Behaves similar to STREAM FILE but used with a timeout option.",
    ),
    _Command(("get", "variable"), "get_variable", True, "Gets a channel variable."),
    _Command(("hangup",), "hangup", False, "Hangs up the specified channel (or the current one)."),
    _Command(("noop",), "noop", True, "Does nothing."),
    _Command(
        ("say", "digits"),
        "say_digits",
        False,
        "Say a given digit string, returning early if any of the given DTMF digits are "
        "received on the channel.",
    ),
    _Command(
        ("say", "number"),
        "say_number",
        False,
        "Say a given number, returning early if any of the given DTMF digits are received on "
        "the channel.  Returns <literal>0</literal> if playback completes without a digit "
        "being pressed, or the ASCII numerical value of the digit if one was pressed or "
        "<literal>-1</literal> on error/hangup.",
    ),
    _Command(
        ("say", "alpha"),
        "say_alpha",
        False,
        "Say a given character string, returning early if any of the given DTMF digits are "
        "received on the channel.",
    ),
    _Command(("set", "callerid"), "set_callerid", False, "Changes the callerid of the channel."),
    _Command(("set", "context"), "set_context", False, "Sets the context for continuation."),
    _Command(("set", "extension"), "set_extension", False, "Changes the extension."),
    _Command(("set", "music"), "set_music", False, "Enables/Disables the music on hold."),
    _Command(("set", "priority"), "set_priority", False, "Sets the priority for continuation."),
    _Command(("set", "variable"), "set_variable", True, "Sets a channel variable."),
    _Command(
        ("stream", "file"),
        "stream_file",
        False,
        "Send the given file, allowing playback to be interrupted by the given digits, if any.",
    ),
    _Command(("verbose",), "verbose", True, "Logs a message to the asterisk verbose log."),
    _Command(
        ("wait", "for", "digit"),
        "wait_for_digit",
        False,
        "Waits up to timeout milliseconds for channel to receive a DTMF digit.",
    ),
]


def _find_command(argv: list[str]) -> _Command | None:
    low = [a.lower() for a in argv]
    best: _Command | None = None
    for cmd in _COMMANDS:
        n = len(cmd.words)
        if len(low) >= n and tuple(low[:n]) == cmd.words and (best is None or n > len(best.words)):
            best = cmd
    return best


class AgiSession:
    """One FastAGI connection for one ``AGI()`` execution."""

    def __init__(self, core: PbxCore, chan: Channel, url: str, args: list[str]) -> None:
        self.core = core
        self.chan = chan
        self.url = url
        self.args = args
        self.dead = False
        self.status = "SUCCESS"
        self.writer: asyncio.StreamWriter | None = None
        self.reader: asyncio.StreamReader | None = None
        self.commands: list[str] = []
        self._detached: asyncio.Future[None] | None = None

    # ----- plumbing

    def send(self, text: str) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(text.encode("utf-8"))

    def _gone(self) -> bool:
        chan = self.chan
        return chan.check_hangup() or chan.pending_bridge is not None

    def _env(self, script: str) -> str:
        chan = self.chan
        lines = [
            ("agi_network", "yes"),
            ("agi_network_script", script),
            ("agi_request", self.url),
            ("agi_channel", chan.name),
            ("agi_language", chan.language),
            ("agi_type", chan.tech),
            ("agi_uniqueid", chan.uniqueid),
            ("agi_version", self.core.config.asterisk_version),
            ("agi_callerid", chan.caller_num or "unknown"),
            ("agi_calleridname", chan.caller_name or "unknown"),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", chan.dnid or "unknown"),
            ("agi_rdnis", chan.rdnis or "unknown"),
            ("agi_context", chan.context),
            ("agi_extension", chan.exten),
            ("agi_priority", str(chan.priority)),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", chan.accountcode),
            ("agi_threadid", str(140000000000000 + id(self) % 10_000_000_000)),
        ]
        lines += [(f"agi_arg_{i}", a) for i, a in enumerate(self.args, start=1)]
        return "".join(f"{k}: {v}\n" for k, v in lines) + "\n"

    async def run(self) -> str:
        """Run the whole session; the AGISTATUS value."""
        host, port, script = parse_agi_url(self.url)
        target = self.core.config.agi_rewrite.get(f"{host}:{port}")
        if target:
            host, _, port_text = target.rpartition(":")
            port = int(port_text)
        try:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), self.core.config.agi_connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            log.warning("FastAGI connection to %s failed: %s", self.url, exc)
            return "FAILURE"
        self.dead = self.chan.hung_up
        self.send(self._env(script))
        self._detached = asyncio.get_running_loop().create_future()
        loop_task = self.core.spawn(self._command_loop(), name=f"agi {self.chan.name}")
        try:
            await asyncio.wait({loop_task, self._detached}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            loop_task.cancel()
            self._close()
            raise
        if loop_task.done():
            return str(loop_task.result())
        # Pulled into a bridge: the session goes on detached, like an AGI on a zombie channel.
        return "HANGUP"

    def _close(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.close()

    async def _command_loop(self) -> str:
        assert self.reader is not None
        read_task: asyncio.Task[bytes] | None = None
        try:
            while True:
                if read_task is None:
                    read_task = asyncio.ensure_future(self.reader.readline())
                if not self.dead and self._gone():
                    self.dead = True
                    self.send("HANGUP\n")
                    if self.status == "SUCCESS":
                        self.status = "HANGUP"
                if (
                    self.chan.pending_bridge is not None
                    and self._detached is not None
                    and not self._detached.done()
                ):
                    self._detached.set_result(None)
                if not read_task.done():
                    waiter = self.chan.changed.wait()
                    pending: set[asyncio.Future[object]] = {read_task, waiter}  # type: ignore[arg-type]
                    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    self.chan.changed.discard(waiter)
                    continue
                try:
                    line = read_task.result()
                except (ConnectionError, OSError):
                    line = b""
                read_task = None
                if not line:
                    break
                text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                result = await self.handle(text)
                if result == RESULT_FAILURE and (self.dead or not self._gone()):
                    self.status = "FAILURE"
        finally:
            if read_task is not None and not read_task.done():
                read_task.cancel()
            self._close()
        return self.status

    # ----- command dispatch

    async def handle(self, line: str) -> int:
        """Execute one command line; the RESULT_* code (or an application's result)."""
        self.commands.append(line)
        argv = parse_agi_args(line)
        command = _find_command(argv)
        command_id = str(random.randint(1, 2**31 - 1))
        head = [("CommandId", command_id), ("Command", line)]
        self.core.emit("AGIExecStart", self.chan, head, privilege=PRIV_AGI)
        if command is None:
            self._end(head, "510", "Invalid or unknown command")
            self.send("510 Invalid or unknown command\n")
            return RESULT_SUCCESS
        if self.dead and not command.dead_ok:
            self._end(head, "511", DEAD_REPLY[4:].strip())
            self.send(DEAD_REPLY)
            return RESULT_SUCCESS
        handler: Callable[[list[str]], Awaitable[tuple[int, str]]] = getattr(
            self, "cmd_" + command.handler
        )
        res, reply = await handler(argv)
        if res == RESULT_SHOWUSAGE:
            self._end(head, "520", "Usage")
            self.send(
                "520-Invalid command syntax.  Proper usage follows:\n"
                f"{command.usage}\n520 End of proper usage.\n"
            )
        elif res == RESULT_FAILURE:
            self._end(head, "-1", "Failure")
            self.send(reply)
        elif res == RESULT_SUCCESS:
            self._end(head, "200", "Success")
            self.send(reply)
        else:
            self._end(head, "200", "Unknown Result")
            self.send(reply)
        return res

    def _end(self, head: list[tuple[str, str]], code: str, text: str) -> None:
        self.core.emit(
            "AGIExecEnd",
            self.chan,
            [*head, ("ResultCode", code), ("Result", text)],
            privilege=PRIV_AGI,
        )

    # ----- commands

    async def cmd_answer(self, argv: list[str]) -> tuple[int, str]:
        self.chan.answer()
        return RESULT_SUCCESS, "200 result=0\n"

    async def cmd_noop(self, argv: list[str]) -> tuple[int, str]:
        return RESULT_SUCCESS, "200 result=0\n"

    async def cmd_verbose(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) < 2:
            return RESULT_SHOWUSAGE, ""
        log.debug("AGI verbose on %s: %s", self.chan.name, argv[1])
        return RESULT_SUCCESS, "200 result=1\n"

    async def cmd_channel_status(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) > 3:
            return RESULT_SHOWUSAGE, ""
        chan = self.chan if len(argv) == 2 else self.core.find_channel(argv[2])
        if chan is None:
            return RESULT_SUCCESS, "200 result=-1\n"
        return RESULT_SUCCESS, f"200 result={int(chan.state)}\n"

    async def cmd_hangup(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) > 2:
            return RESULT_SHOWUSAGE, ""
        chan = self.chan if len(argv) == 1 else self.core.find_channel(argv[1])
        if chan is None:
            return RESULT_SUCCESS, "200 result=-1\n"
        chan.hangup_source = "AGI"
        self.core.request_hangup(chan, None, event="SoftHangupRequest", flag=SoftHangup.EXPLICIT)
        return RESULT_SUCCESS, "200 result=1\n"

    async def cmd_exec_(self, argv: list[str]) -> tuple[int, str]:
        from .apps import find_app

        if len(argv) < 2:
            return RESULT_SHOWUSAGE, ""
        found = find_app(argv[1])
        if found is None:
            log.warning("Could not find application (%s)", argv[1])
            return -2, "200 result=-2\n"
        name, app = found
        data = argv[2] if len(argv) > 2 else ""
        full = self.chan.var("AGIEXECFULL") or ""
        if full.lower() in ("yes", "true", "y", "t", "1", "on"):
            data = substitute(data, ChannelVariables(self.core, self.chan))
        saved = (self.chan.appl, self.chan.data)
        self.chan.appl, self.chan.data = name, data
        self.chan.publish()
        try:
            res = await app(self.core, self.chan, data)
        finally:
            self.chan.appl, self.chan.data = saved
        return res, f"200 result={res}\n"

    async def cmd_set_variable(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 4:
            return RESULT_SHOWUSAGE, ""
        name, value = argv[2], argv[3]
        if name.endswith(")") and "(" in name:
            func, _, args = name.partition("(")
            write_function(self.core, self.chan, func, args[:-1], value)
        else:
            self.chan.set_var(name, value)
        return RESULT_SUCCESS, "200 result=1\n"

    async def cmd_get_variable(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 3:
            return RESULT_SHOWUSAGE, ""
        name = argv[2]
        value: str | None
        if name.endswith(")") and "(" in name:
            func, _, args = name.partition("(")
            value = read_function(self.core, self.chan, func, args[:-1])
        else:
            value = ChannelVariables(self.core, self.chan).get_variable(name)
        if value is None:
            return RESULT_SUCCESS, "200 result=0\n"
        return RESULT_SUCCESS, f"200 result=1 ({value})\n"

    async def cmd_get_full_variable(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) not in (4, 5):
            return RESULT_SHOWUSAGE, ""
        chan = self.chan if len(argv) == 4 else self.core.find_channel(argv[4])
        if chan is None:
            return RESULT_SUCCESS, "200 result=0\n"
        value = substitute(argv[3], ChannelVariables(self.core, chan))
        return RESULT_SUCCESS, f"200 result=1 ({value})\n"

    async def cmd_set_context(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 3:
            return RESULT_SHOWUSAGE, ""
        self.chan.context = argv[2]
        return RESULT_SUCCESS, "200 result=0\n"

    async def cmd_set_extension(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 3:
            return RESULT_SHOWUSAGE, ""
        self.chan.exten = argv[2]
        return RESULT_SUCCESS, "200 result=0\n"

    async def cmd_set_priority(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 3:
            return RESULT_SHOWUSAGE, ""
        text = argv[2]
        if text.isdigit():
            prio = int(text)
        else:
            found = self.core.dialplan.find_label(self.chan.context, self.chan.exten, text)
            if found is None:
                return RESULT_SUCCESS, "200 result=0\n"
            prio = found
        self.chan.priority = prio - 1 if self.chan.in_pbx else prio
        return RESULT_SUCCESS, "200 result=0\n"

    async def cmd_set_callerid(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 3:
            return RESULT_SHOWUSAGE, ""
        num, name = split_callerid(argv[2])
        self.chan.set_caller(num, name)
        return RESULT_SUCCESS, "200 result=1\n"

    async def cmd_set_music(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) < 3:
            return RESULT_SHOWUSAGE, ""
        if argv[2].lower() == "on":
            start_moh(self.core, self.chan, argv[3] if len(argv) > 3 else "default")
        else:
            stop_moh(self.core, self.chan)
        return RESULT_SUCCESS, "200 result=0\n"

    async def cmd_db_put(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 5:
            return RESULT_SHOWUSAGE, ""
        self.core.astdb[f"{argv[2]}/{argv[3]}"] = argv[4]
        return RESULT_SUCCESS, "200 result=1\n"

    async def cmd_db_get(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 4:
            return RESULT_SHOWUSAGE, ""
        value = self.core.astdb.get(f"{argv[2]}/{argv[3]}")
        if value is None:
            return RESULT_SUCCESS, "200 result=0\n"
        return RESULT_SUCCESS, f"200 result=1 ({value})\n"

    async def cmd_db_del(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 4:
            return RESULT_SHOWUSAGE, ""
        existed = self.core.astdb.pop(f"{argv[2]}/{argv[3]}", None) is not None
        return RESULT_SUCCESS, f"200 result={1 if existed else 0}\n"

    async def cmd_db_deltree(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) not in (3, 4):
            return RESULT_SHOWUSAGE, ""
        prefix = argv[2] + "/" + (argv[3] + "/" if len(argv) == 4 else "")
        doomed = [k for k in self.core.astdb if k.startswith(prefix)]
        for key in doomed:
            del self.core.astdb[key]
        return RESULT_SUCCESS, f"200 result={1 if doomed else 0}\n"

    async def _stream(self, name: str, escape: str) -> tuple[int, str]:
        if not prompt_exists(self.core, name):
            log.warning("STREAM FILE: %s does not exist", name)
            return RESULT_FAILURE, "200 result=-1 endpos=0\n"
        result, digit = await play_prompt(self.core, self.chan, name, escape)
        endpos = int(max(self.core.config.prompt_seconds, 1.0) * SAMPLE_RATE)
        if result is PlayResult.INTERRUPTED:
            return RESULT_FAILURE, f"200 result=-1 endpos={endpos}\n"
        self.chan.set_var("PLAYBACKSTATUS", "SUCCESS")
        code = ord(digit) if digit else 0
        return RESULT_SUCCESS, f"200 result={code} endpos={endpos}\n"

    async def cmd_stream_file(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) < 4 or len(argv) > 5:
            return RESULT_SHOWUSAGE, ""
        return await self._stream(argv[2], argv[3])

    async def cmd_get_option(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) < 4 or len(argv) > 5:
            return RESULT_SHOWUSAGE, ""
        res, reply = await self._stream(argv[2], argv[3])
        if res != RESULT_SUCCESS or not reply.startswith("200 result=0 "):
            return res, reply
        timeout = float(argv[4]) / 1000 if len(argv) == 5 else 5.0
        got = await self.chan.wait_until(
            lambda: bool(self.chan.dtmf) and self.chan.dtmf[0] in argv[3], timeout
        )
        digit = self.chan.take_digit(argv[3]) if got else None
        if digit is None and self.chan.interrupted:
            return RESULT_FAILURE, "200 result=-1 endpos=0\n"
        return RESULT_SUCCESS, f"200 result={ord(digit) if digit else 0} endpos=0\n"

    async def _say(self, words: str, escape: str) -> tuple[int, str]:
        result, digit = await play_prompt(self.core, self.chan, words, escape)
        if result is PlayResult.INTERRUPTED:
            return RESULT_FAILURE, "200 result=-1\n"
        return RESULT_SUCCESS, f"200 result={ord(digit) if digit else 0}\n"

    async def cmd_say_number(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) < 4 or len(argv) > 5:
            return RESULT_SHOWUSAGE, ""
        try:
            number = int(argv[2])
        except ValueError:
            return RESULT_SHOWUSAGE, ""
        return await self._say(f"number:{number}", argv[3])

    async def cmd_say_digits(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 4 or not argv[2].isdigit():
            return RESULT_SHOWUSAGE, ""
        return await self._say(f"digits:{argv[2]}", argv[3])

    async def cmd_say_alpha(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 4:
            return RESULT_SHOWUSAGE, ""
        return await self._say(f"alpha:{argv[2]}", argv[3])

    async def cmd_get_data(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) < 3 or len(argv) > 5:
            return RESULT_SHOWUSAGE, ""
        timeout_ms = int(argv[3]) if len(argv) >= 4 and argv[3].lstrip("-").isdigit() else 0
        max_digits = int(argv[4]) if len(argv) >= 5 and argv[4].isdigit() else 1024
        first: float | None
        between: float | None
        if timeout_ms > 0:
            first = between = timeout_ms / 1000
        elif timeout_ms < 0:
            first = between = None
        else:
            first, between = 6.0, 2.0
        initial = ""
        if argv[2] and prompt_exists(self.core, argv[2]):  # "": no prompt, only the digits
            result, digit = await play_prompt(self.core, self.chan, argv[2], ALL_DIGITS)
            if result is PlayResult.INTERRUPTED:
                return RESULT_SUCCESS, "200 result=-1\n"
            initial = digit or ""
        digits, status = await read_digits(
            self.chan, max_digits, first, between, "#", initial=initial
        )
        if status == "hangup":
            return RESULT_SUCCESS, "200 result=-1\n"
        if status == "timeout":
            return RESULT_SUCCESS, f"200 result={digits} (timeout)\n"
        return RESULT_SUCCESS, f"200 result={digits}\n"

    async def cmd_wait_for_digit(self, argv: list[str]) -> tuple[int, str]:
        if len(argv) != 4:
            return RESULT_SHOWUSAGE, ""
        try:
            ms = int(argv[3])
        except ValueError:
            return RESULT_SHOWUSAGE, ""
        digit = await wait_for_digit(self.chan, None if ms < 0 else ms / 1000)
        if digit is False:
            return RESULT_FAILURE, "200 result=-1\n"
        return RESULT_SUCCESS, f"200 result={ord(digit) if isinstance(digit, str) else 0}\n"


async def agi_app(core: PbxCore, chan: Channel, data: str) -> int:
    """The ``AGI`` dialplan application (FastAGI only)."""
    args = separate_args(data)
    url = args[0].strip()
    if url.startswith("agi://"):
        status = await AgiSession(core, chan, url, args[1:]).run()
    else:
        log.warning("AGI: only agi:// (FastAGI) is simulated, not %r", url)
        status = "NOTFOUND" if not url.startswith("agi:") else "FAILURE"
    if chan.dead:
        return -1
    chan.set_var("AGISTATUS", status)
    return -1 if status == "HANGUP" else 0
