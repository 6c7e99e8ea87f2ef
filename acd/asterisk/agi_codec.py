"""Pure FastAGI codec: header block in, replies in, commands out. No asyncio, no I/O.

Wire facts (Asterisk 22 captures in ``tests/fixtures/asterisk/``, and ``res/res_agi.c``):

* Asterisk opens with ``agi_key: value`` lines ended by a blank line; every line ends in a
  bare ``\\n``. ``agi_network_script`` holds the script path *and* the ``?query``; extra
  ``AGI()`` arguments arrive as ``agi_arg_1..N``; a missing dnid/rdnis is the literal
  ``unknown``.
* A reply is one line ``200 result=<r>[ (<data>)][ key=value...]``, e.g. ``200 result=1
  (Up)``, ``200 result=0 endpos=11360``, ``200 result= (timeout)`` (GET DATA ran out of
  time; the marker is kept as :attr:`AgiReply.timeout`). Errors are ``510 Invalid or unknown
  command``, ``511 Command Not Permitted on a dead channel or intercept routine`` and the
  multi-line usage block ``520-...`` … ``520 End of proper usage.``.
* When the caller hangs up (or the channel is redirected away) an unsolicited ``HANGUP`` line
  arrives before the next reply: :data:`HANGUP_NOTICE`.
* Commands: res_agi splits a command line like a tiny shell (``parse_args``): blanks separate
  words, ``"`` groups (and vanishes), ``\\`` makes the next character literal, and keywords
  are matched case-insensitively *after* that. So quoting every argument is always safe:
  ``SAY NUMBER "21" ""`` reaches the handler exactly as ``SAY NUMBER 21 ""`` does.
* res_agi reads a command with ``fgets`` into ``char buf[2048]``: a longer line is cut, and
  the rest is executed as a *separate command*. A line feed (or NUL, which ends the C
  string) inside an argument would do the same. :func:`encode_command` refuses all of that
  with :class:`AgiInjectionError`, so caller-controlled text cannot become a command.

There is no variable expansion here: AGI ``EXEC`` passes its data to the application
literally (``${UNIQUEID}`` stays ``${UNIQUEID}``, capture 08), so whoever builds a command
fills in final values. (A channel with ``AGIEXECFULL=yes`` would expand them — never set it.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

__all__ = [
    "HANGUP_NOTICE",
    "MAX_COMMAND_BYTES",
    "MAX_COMMAND_WORDS",
    "AgiCommandError",
    "AgiError",
    "AgiHangup",
    "AgiHeaders",
    "AgiInjectionError",
    "AgiProtocolError",
    "AgiReply",
    "AgiTimeout",
    "AgiUnknownApplication",
    "HangupNotice",
    "ReplyParser",
    "decode_line",
    "encode_command",
    "parse_header_block",
    "parse_header_line",
    "parse_reply_line",
    "quote_argument",
    "split_command_line",
]

MAX_COMMAND_BYTES: Final = 2047
"""Longest command line, ``\\n`` included, that res_agi reads in one piece (``buf[2048]``)."""
MAX_COMMAND_WORDS: Final = 127
"""res_agi keeps at most ``MAX_ARGS - 1`` = 127 words (keywords included) and drops more."""

_FORBIDDEN: Final = {"\n": "line feed", "\r": "carriage return", "\0": "NUL"}
_KEYWORD = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_HEADER = re.compile(r"agi_([A-Za-z0-9_]+):(.*)", re.DOTALL)
_ARG_KEY = re.compile(r"arg_([0-9]+)")
_REPLY = re.compile(r"([0-9]{3})(?:([ -])(.*))?", re.DOTALL)
_RESULT = re.compile(r"result=(\S*)")
_DATA_THEN_FIELDS = re.compile(r"\((.*)\)((?: [A-Za-z_]+=\S*)*)", re.DOTALL)
_UNKNOWN: Final = frozenset({"", "unknown"})


# --------------------------------------------------------------------------- errors


class AgiError(Exception):
    """Base of every FastAGI error."""


class AgiProtocolError(AgiError):
    """The peer sent something that is not FastAGI (garbage header, unparsable reply)."""


class AgiInjectionError(AgiError, ValueError):
    """A command Asterisk would not read back exactly as written, so nothing was sent.

    Raised for CR, LF or NUL in any word, a keyword that is not bare words, a line longer
    than :data:`MAX_COMMAND_BYTES`, more than :data:`MAX_COMMAND_WORDS` words, and (from
    ``AgiSession.exec``) a comma inside one application argument.
    """


class AgiHangup(AgiError):
    """The channel hung up (or was redirected away) or the FastAGI connection closed.

    ``reply`` is the reply of the command that noticed it, when there was one: after an
    unsolicited ``HANGUP`` some commands still succeed (``GET VARIABLE`` answered
    ``200 result=1 (test-caller)`` in capture 08), and the value is kept here.
    """

    def __init__(self, message: str, reply: AgiReply | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class AgiTimeout(AgiError, TimeoutError):
    """No reply within the command timeout (or no header block within the header timeout)."""


class AgiCommandError(AgiError):
    """Asterisk refused the command: ``510`` (unknown command), ``520`` (usage) or another
    non-200 code. ``usage`` holds the usage text of a 520 block."""

    def __init__(self, reply: AgiReply) -> None:
        text = f"{reply.code} {reply.message}".rstrip()
        if reply.code == 520 and reply.data:
            text += "\n" + reply.data
        super().__init__(text)
        self.reply = reply

    @property
    def code(self) -> int:
        return self.reply.code

    @property
    def usage(self) -> str | None:
        return self.reply.data if self.reply.code == 520 else None


class AgiUnknownApplication(AgiError):
    """``EXEC`` answered ``result=-2``: Asterisk has no such application."""

    def __init__(self, application: str, reply: AgiReply) -> None:
        super().__init__(f"Asterisk has no application {application!r}")
        self.application = application
        self.reply = reply


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One reply. For ``200`` replies ``result`` is the ``result=`` value as an int (``None``
    when it is empty or not a number — GET DATA returns digit strings such as ``"07"`` or
    ``"*1"``, kept verbatim in ``result_text``) and ``data`` the text in parentheses, if any.
    ``timeout`` is True when that text is the ``(timeout)`` marker. For other codes
    ``result`` is None and ``data`` the message (for a 520 block: the usage text).
    ``raw`` is the reply as received, lines joined with ``\\n``.
    """

    code: int
    result: int | None
    data: str | None
    timeout: bool
    raw: str
    result_text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def message(self) -> str:
        """Text after the code on the first line (``Invalid or unknown command``)."""
        return self.raw.split("\n", 1)[0][4:]


@dataclass(frozen=True, slots=True)
class HangupNotice:
    """The unsolicited ``HANGUP`` line."""

    raw: str = "HANGUP"


HANGUP_NOTICE: Final = HangupNotice()


def decode_line(line: bytes) -> str:
    """Bytes of one line to text: UTF-8 (invalid bytes become U+FFFD), without ``\\n``/``\\r\\n``.

    Caller names can hold any bytes; a bad byte must not cost the call.
    """
    text = line.decode("utf-8", "replace")
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    return text


def parse_reply_line(line: str) -> AgiReply:
    """Parse a complete one-line reply (not ``HANGUP``, not part of a ``520-`` block)."""
    match = _REPLY.fullmatch(line)
    if match is None:
        raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")
    code = int(match.group(1))
    rest = match.group(3) or ""
    if code != 200:
        return AgiReply(code, None, rest, False, line)
    result = _RESULT.match(rest)
    if result is None:
        raise AgiProtocolError(f"200 reply without result=: {line[:80]!r}")
    token = result.group(1)
    tail = rest[result.end() :].lstrip(" ")
    data: str | None = None
    if tail.startswith("("):
        # Greedy: a value may itself contain ") " — prefer reading it as part of the data.
        with_fields = _DATA_THEN_FIELDS.fullmatch(tail)
        data = with_fields.group(1) if with_fields else tail[1:]
    try:
        number: int | None = int(token)
    except ValueError:
        number = None
    return AgiReply(200, number, data, data == "timeout", line, token)


class ReplyParser:
    """Feed reply lines one by one (text, without the newline).

    ``feed`` returns an :class:`AgiReply` when a reply is complete, :data:`HANGUP_NOTICE` for
    the unsolicited ``HANGUP`` line, or None while inside a multi-line ``520-`` block.
    Raises :class:`AgiProtocolError` for anything else.
    """

    def __init__(self, max_block_lines: int = 1000) -> None:
        self._max_block_lines = max_block_lines
        self._block_code: str | None = None
        self._block: list[str] = []

    @property
    def in_block(self) -> bool:
        return self._block_code is not None

    def feed(self, line: str) -> AgiReply | HangupNotice | None:
        code = self._block_code
        if code is not None:
            self._block.append(line)
            if line == code or line.startswith(code + " "):
                return self._end_block(code)
            if len(self._block) > self._max_block_lines:
                self._block_code, self._block = None, []
                raise AgiProtocolError(f"{code} block longer than {self._max_block_lines} lines")
            return None
        if line == "HANGUP":
            return HANGUP_NOTICE
        if len(line) >= 4 and line[3] == "-" and line[:3].isdigit():
            self._block_code, self._block = line[:3], [line]
            return None
        return parse_reply_line(line)

    def _end_block(self, code: str) -> AgiReply:
        lines, self._block_code, self._block = self._block, None, []
        return AgiReply(int(code), None, "\n".join(lines[1:-1]), False, "\n".join(lines))


# --------------------------------------------------------------------------- headers


@dataclass(frozen=True, slots=True)
class AgiHeaders:
    """The parsed ``agi_*`` block. ``env`` keys lose the ``agi_`` prefix."""

    env: dict[str, str]
    script: str
    query: dict[str, str]
    args: list[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AgiHeaders:
        env = dict(env)
        target = env.get("network_script")
        if target is None:  # fall back on the path of an agi://host:port/path?query request
            request = env.get("request", "")
            target = ""
            if request.startswith("agi://"):
                target = request[len("agi://") :].partition("/")[2]
        path, _, query = target.partition("?")
        numbered: dict[int, str] = {}
        for key, value in env.items():
            arg = _ARG_KEY.fullmatch(key)
            if arg:
                numbered[int(arg.group(1))] = value
        count = max(numbered, default=0)
        return cls(
            env=env,
            script=path.lstrip("/"),
            query=dict(parse_qsl(query, keep_blank_values=True)),
            args=[numbered.get(i, "") for i in range(1, count + 1)],
        )

    @property
    def channel(self) -> str:
        return self.env.get("channel", "")

    @property
    def uniqueid(self) -> str:
        return self.env.get("uniqueid", "")

    @property
    def callerid(self) -> str | None:
        """Caller number; None for Asterisk's ``unknown`` (or empty)."""
        return _known(self.env.get("callerid", ""))

    @property
    def calleridname(self) -> str | None:
        return _known(self.env.get("calleridname", ""))

    @property
    def dnid(self) -> str | None:
        return _known(self.env.get("dnid", ""))

    @property
    def rdnis(self) -> str | None:
        return _known(self.env.get("rdnis", ""))


def _known(value: str) -> str | None:
    return None if value in _UNKNOWN else value


def parse_header_line(line: str) -> tuple[str, str]:
    """``agi_callerid: 5551234`` -> ``("callerid", "5551234")``; AgiProtocolError otherwise."""
    match = _HEADER.fullmatch(line)
    if match is None:
        raise AgiProtocolError(f"not an agi_* header line: {line[:80]!r}")
    value = match.group(2)
    return match.group(1), value[1:] if value.startswith(" ") else value


def parse_header_block(lines: Iterable[bytes | str]) -> AgiHeaders:
    """Parse header lines (with or without their newline) up to the first blank one."""
    env: dict[str, str] = {}
    for raw in lines:
        line = decode_line(raw) if isinstance(raw, bytes) else raw.rstrip("\r\n")
        if not line:
            break
        key, value = parse_header_line(line)
        env[key] = value
    if not env:
        raise AgiProtocolError("empty header block")
    return AgiHeaders.from_env(env)


# --------------------------------------------------------------------------- commands


def _check_word(word: str, what: str) -> None:
    if not isinstance(word, str):
        raise TypeError(f"{what} must be str, not {type(word).__name__}")
    for char, name in _FORBIDDEN.items():
        if char in word:
            raise AgiInjectionError(f"{what} contains a {name}: {word[:40]!r}")


def quote_argument(value: str) -> str:
    """``say "hi"`` -> ``"say \\"hi\\""``: double quotes around, ``"`` and ``\\`` escaped.

    Raises :class:`AgiInjectionError` for CR, LF or NUL.
    """
    _check_word(value, "argument")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_command(keyword: str, *args: str) -> bytes:
    """One command line: bare keyword words, then every argument quoted, then ``\\n``.

    ``encode_command("STREAM FILE", "hello-world", "")`` ->
    ``b'STREAM FILE "hello-world" ""\\n'``. Raises :class:`AgiInjectionError` (and writes
    nothing, being pure) when Asterisk would not read the line back as these words.
    """
    _check_word(keyword, "keyword")
    if not _KEYWORD.fullmatch(keyword):
        raise AgiInjectionError(f"keyword must be bare words (like 'GET DATA'): {keyword!r}")
    words = keyword.count(" ") + 1 + len(args)
    if words > MAX_COMMAND_WORDS:
        raise AgiInjectionError(f"{words} words; Asterisk keeps at most {MAX_COMMAND_WORDS}")
    parts = [keyword]
    for index, arg in enumerate(args, 1):
        _check_word(arg, f"argument {index}")
        parts.append(quote_argument(arg))
    try:
        line = (" ".join(parts) + "\n").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AgiInjectionError(f"command is not encodable as UTF-8: {exc}") from None
    if len(line) > MAX_COMMAND_BYTES:
        raise AgiInjectionError(
            f"command is {len(line)} bytes; Asterisk reads {MAX_COMMAND_BYTES} at a time and "
            "would run the rest as another command"
        )
    return line


def split_command_line(line: str) -> list[str]:
    """How res_agi's ``parse_args`` splits a command line into words (a port, for tests and
    fakes): blanks separate words outside quotes, ``"`` toggles quoting and vanishes, ``\\``
    makes the next character literal, ``""`` is an empty word. A trailing newline is ignored.
    """
    line = line.removesuffix("\n")
    words: list[list[str]] = []
    quoted = escaped = False
    whitespace = True
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                words.append([])
                whitespace = False
            continue
        if char in " \t" and not quoted and not escaped:
            whitespace = True
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            if len(words) >= MAX_COMMAND_WORDS:
                continue  # "Too many arguments, truncating": the character is dropped
            words.append([])
            whitespace = False
        words[-1].append(char)
        escaped = False
    return ["".join(word) for word in words]
