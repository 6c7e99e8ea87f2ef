"""Pure AMI framing and codec: bytes in, messages out, bytes back. No asyncio, no I/O.

Why this exists instead of panoramisk's parser: panoramisk decodes every TCP chunk on its
own (``errors="ignore"``), so a multibyte UTF-8 character split across two reads silently
loses letters ("Иван" arrives as "Ивн"). Here the byte stream is split on ``b"\\r\\n\\r\\n"``
first and only whole frames are decoded; invalid bytes become U+FFFD and are reported, never
fatal. Frames are capped in size and header count; anything that is not an AMI message is
reported as a :class:`FrameError` (for the caller to log) and skipped, and later good frames
are still parsed.

Speed: a frame is decoded and split into lines at once, its kind and name read from the first
line; the headers themselves are parsed on first access. That keeps dispatch of events nobody
reads cheap (see ``acd.bench.ami``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final

__all__ = [
    "DEFAULT_MAX_FRAME",
    "DEFAULT_MAX_HEADERS",
    "EVENT",
    "RESPONSE",
    "AmiFramer",
    "AmiMessage",
    "FrameError",
    "HeaderInjectionError",
    "HeaderValue",
    "encode_action",
]

SEP: Final = b"\r\n\r\n"
BANNER_PREFIX: Final = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME: Final = 1 << 20  # 1 MiB
DEFAULT_MAX_HEADERS: Final = 16_384  # a big `Action: Command` answers one `Output:` per line
_MAX_BANNER: Final = 256
_SAMPLE: Final = 120

EVENT: Final = "event"
RESPONSE: Final = "response"
_OK_RESPONSES: Final = frozenset({"success", "goodbye", "follows"})


class FrameError:
    """A frame the framer could not turn into a message (or delivered with damage).

    ``kind`` is one of ``oversize``, ``too_many_headers``, ``not_ami``, ``bad_utf8``
    (the message *was* delivered, with U+FFFD), ``truncated`` (stream ended mid-frame),
    ``bad_banner``. ``sample`` holds the first bytes, for the log.
    """

    __slots__ = ("detail", "kind", "sample", "size")

    OVERSIZE: Final = "oversize"
    TOO_MANY_HEADERS: Final = "too_many_headers"
    NOT_AMI: Final = "not_ami"
    BAD_UTF8: Final = "bad_utf8"
    TRUNCATED: Final = "truncated"
    BAD_BANNER: Final = "bad_banner"

    def __init__(self, kind: str, detail: str, sample: bytes = b"", size: int = 0) -> None:
        self.kind = kind
        self.detail = detail
        self.sample = sample[:_SAMPLE]
        self.size = size

    def __repr__(self) -> str:
        return (
            f"FrameError({self.kind!r}, {self.detail!r}, size={self.size}, sample={self.sample!r})"
        )

    __str__ = __repr__


class AmiMessage:
    """One AMI event or response.

    Headers keep their wire order and repeats (several ``Output:`` lines of a Command answer,
    ``Variable:`` lines); lookup is case-insensitive and returns the *first* value,
    :meth:`get_all` returns every value. Lines without a colon (not sent by Asterisk 22) are
    kept in :attr:`body`.
    """

    __slots__ = ("_body", "_headers", "_index", "_lines", "kind", "name")

    kind: str
    name: str

    def __init__(self, kind: str, name: str, lines: list[str]) -> None:
        self.kind = kind
        self.name = name
        self._lines = lines
        self._headers: list[tuple[str, str]] | None = None
        self._body: list[str] | None = None
        self._index: dict[str, str] | None = None

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, str]]) -> AmiMessage:
        """Build a message from (name, value) pairs, e.g. in tests; needs Event or Response."""
        lines = [f"{k}: {v}" for k, v in headers]
        msg = _classify(lines) if lines else None
        if msg is None:
            raise ValueError("an AMI message needs an Event or a Response header")
        return msg

    # -- headers ---------------------------------------------------------------------------

    def _parse(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        body: list[str] = []
        append = headers.append
        for line in self._lines:
            key, sep, value = line.partition(": ")
            if sep:
                append((key, value))
            elif not line:
                continue
            else:
                key, sep, value = line.partition(":")
                if sep:
                    append((key, value))
                else:
                    body.append(line)
        self._headers = headers
        self._body = body
        return headers

    @property
    def headers(self) -> list[tuple[str, str]]:
        """(name, value) pairs in wire order, repeats included. Do not mutate."""
        headers = self._headers
        return headers if headers is not None else self._parse()

    @property
    def body(self) -> list[str]:
        """Lines that are not ``Name: value`` headers (empty for Asterisk 22)."""
        if self._body is None:
            self._parse()
        assert self._body is not None
        return self._body

    def _build_index(self) -> dict[str, str]:
        # One pass over the raw lines, backwards so that the first value of a repeated
        # header wins; this is the hot path of every handler that reads a header.
        index: dict[str, str] = {}
        for line in reversed(self._lines):
            key, sep, value = line.partition(": ")
            if sep:
                index[key.lower()] = value
            else:
                key, sep, value = line.partition(":")
                if sep:
                    index[key.lower()] = value
        self._index = index
        return index

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of header ``key`` (any case), or ``default``."""
        index = self._index if self._index is not None else self._build_index()
        return index.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        index = self._index if self._index is not None else self._build_index()
        try:
            return index[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        index = self._index if self._index is not None else self._build_index()
        return key.lower() in index

    def get_all(self, key: str) -> list[str]:
        """Every value of header ``key`` (any case), in wire order."""
        lkey = key.lower()
        return [v for k, v in self.headers if k.lower() == lkey]

    def keys(self) -> Iterator[str]:
        return (k for k, _ in self.headers)

    def items(self) -> list[tuple[str, str]]:
        return list(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def to_dict(self) -> dict[str, str | list[str]]:
        """Header name -> value; a repeated header becomes a list of its values."""
        out: dict[str, str | list[str]] = {}
        for key, value in self.headers:
            old = out.get(key)
            if old is None:
                out[key] = value
            elif isinstance(old, list):
                old.append(value)
            else:
                out[key] = [old, value]
        return out

    # -- well-known headers ----------------------------------------------------------------

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def is_event(self) -> bool:
        return self.kind == EVENT

    @property
    def is_response(self) -> bool:
        return self.kind == RESPONSE

    @property
    def ok(self) -> bool:
        """Events always; responses when ``Response`` is Success, Goodbye or Follows."""
        return self.kind == EVENT or self.name.lower() in _OK_RESPONSES

    @property
    def message(self) -> str | None:
        """The ``Message:`` header (the human-readable part of a response)."""
        return self.get("Message")

    @property
    def event_list(self) -> str | None:
        """``EventList:`` value: ``start`` on a list response, ``Complete`` on its last event."""
        return self.get("EventList")

    # -- output ----------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Encode back to the wire: headers in order, then body lines, then the blank line."""
        parts = [f"{k}: {v}" for k, v in self.headers]
        parts.extend(self.body)
        return ("\r\n".join(parts) + "\r\n\r\n").encode("utf-8")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AmiMessage):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.name == other.name
            and self.headers == other.headers
            and self.body == other.body
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.headers[:6])
        more = ", ..." if len(self.headers) > 6 else ""
        return f"<AmiMessage {self.kind} {self.name!r}: {shown}{more}>"


def _classify(lines: list[str]) -> AmiMessage | None:
    """Kind and name from the first line (fast path) or any Event/Response header."""
    first = lines[0]
    if first.startswith("Event: "):
        return AmiMessage(EVENT, first[7:], lines)
    if first.startswith("Response: "):
        return AmiMessage(RESPONSE, first[10:], lines)
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        lkey = key.strip().lower()
        if lkey == "event":
            return AmiMessage(EVENT, value.strip(), lines)
        if lkey == "response":
            return AmiMessage(RESPONSE, value.strip(), lines)
    return None


class AmiFramer:
    """Incremental AMI framer: feed raw bytes as they arrive, get whole messages back.

    The ``Asterisk Call Manager/x.y.z\\r\\n`` banner at the start of a stream (which has no
    blank line after it) is consumed and kept in :attr:`banner` / :attr:`version`; a stream
    that does not start with it is framed all the same. Problems never raise: they go to
    ``on_error`` (or, without one, to :attr:`errors`, the last 64 kept).
    """

    __slots__ = (
        "_banner_pending",
        "_buf",
        "_on_error",
        "_skip_tail",
        "_skipping",
        "banner",
        "error_count",
        "errors",
        "frames",
        "max_frame",
        "max_headers",
        "version",
    )

    def __init__(
        self,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        max_headers: int = DEFAULT_MAX_HEADERS,
        on_error: Callable[[FrameError], None] | None = None,
        expect_banner: bool = True,
    ) -> None:
        self.max_frame = max_frame
        self.max_headers = max_headers
        self._on_error = on_error
        self.errors: deque[FrameError] = deque(maxlen=64)
        self.error_count = 0
        self.frames = 0
        self.banner: str | None = None
        self.version: str | None = None
        self._buf = bytearray()
        self._skipping = False
        self._skip_tail = b""
        self._banner_pending = expect_banner

    def reset(self, *, expect_banner: bool = True) -> None:
        """Forget any partial frame: for a new connection."""
        self._buf = bytearray()
        self._skipping = False
        self._skip_tail = b""
        self._banner_pending = expect_banner
        self.banner = None
        self.version = None

    def _error(self, kind: str, detail: str, sample: bytes = b"", size: int = 0) -> None:
        err = FrameError(kind, detail, sample, size)
        self.error_count += 1
        if self._on_error is not None:
            self._on_error(err)
        else:
            self.errors.append(err)

    # -- stream ----------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[AmiMessage]:
        """Consume ``data``; return the messages it completed (possibly none)."""
        if self._banner_pending:
            data = self._take_banner(data)
        if self._skipping and data:
            data = self._skip(data)
        out: list[AmiMessage] = []
        if not data:
            return out
        buf = self._buf
        if buf:
            start = len(buf) - 3 if len(buf) > 3 else 0
            buf += data
            end = buf.find(SEP, start)
            if end < 0:
                if len(buf) > self.max_frame:
                    self._start_skipping(bytes(buf))
                return out
            self._frame(bytes(buf[:end]), out)
            data = bytes(buf[end + 4 :])
            buf.clear()
        parts = data.split(SEP)
        tail = parts.pop()
        for part in parts:
            if part:
                self._frame(part, out)
        if tail:
            if len(tail) > self.max_frame:
                self._start_skipping(tail)
            else:
                buf += tail
        return out

    def feed_eof(self) -> None:
        """The stream ended: report a partial frame left in the buffer as ``truncated``."""
        if self._buf.strip(b"\r\n"):
            self._error(
                FrameError.TRUNCATED,
                f"stream ended inside a frame ({len(self._buf)} bytes)",
                bytes(self._buf),
                len(self._buf),
            )
        self._buf = bytearray()
        self._skipping = False
        self._skip_tail = b""

    def _take_banner(self, data: bytes) -> bytes:
        buf = self._buf
        buf += data
        head = bytes(buf[: len(BANNER_PREFIX)])
        if not BANNER_PREFIX.startswith(head):
            # not a banner: an AMI stream without greeting (tests, replays)
            self._banner_pending = False
            data = bytes(buf)
            buf.clear()
            return data
        end = buf.find(b"\r\n")
        if end < 0:
            if len(buf) > _MAX_BANNER:
                self._banner_pending = False
                self._error(FrameError.BAD_BANNER, "banner line too long", bytes(buf), len(buf))
                data = bytes(buf)
                buf.clear()
                return data
            return b""
        line = bytes(buf[:end]).decode("utf-8", "replace")
        data = bytes(buf[end + 2 :])
        buf.clear()
        self._banner_pending = False
        self.banner = line
        self.version = line[len(BANNER_PREFIX) :].strip()
        return data

    def _start_skipping(self, data: bytes) -> None:
        self._error(
            FrameError.OVERSIZE,
            f"frame larger than {self.max_frame} bytes; skipping to the next blank line",
            data,
            len(data),
        )
        self._buf = bytearray()
        self._skipping = True
        self._skip_tail = data[-3:]

    def _skip(self, data: bytes) -> bytes:
        joined = self._skip_tail + data
        end = joined.find(SEP)
        if end < 0:
            self._skip_tail = joined[-3:]
            return b""
        self._skipping = False
        self._skip_tail = b""
        return joined[end + 4 :]

    def _frame(self, frame: bytes, out: list[AmiMessage]) -> None:
        """Decode one complete frame (without its blank line) and append its message."""
        if len(frame) > self.max_frame:
            self._error(
                FrameError.OVERSIZE, f"frame larger than {self.max_frame} bytes", frame, len(frame)
            )
            return
        bad_utf8: UnicodeDecodeError | None = None
        try:
            text = frame.decode()
        except UnicodeDecodeError as exc:
            text = frame.decode("utf-8", "replace")
            bad_utf8 = exc
        if text[0] == "\r" or text[0] == "\n":
            text = text.lstrip("\r\n")
            if not text:
                return
        lines = text.split("\r\n")
        if len(lines) > self.max_headers:
            self._error(
                FrameError.TOO_MANY_HEADERS,
                f"{len(lines)} lines, more than {self.max_headers}",
                frame,
                len(frame),
            )
            return
        msg = _classify(lines)
        if msg is None:
            self._error(
                FrameError.NOT_AMI, "no Event or Response header; dropped", frame, len(frame)
            )
            return
        if bad_utf8 is not None:  # one report per frame: delivered, but damaged
            self._error(
                FrameError.BAD_UTF8,
                f"invalid UTF-8 at byte {bad_utf8.start}; replaced with U+FFFD",
                frame,
                len(frame),
            )
        self.frames += 1
        out.append(msg)


# -- encoding ------------------------------------------------------------------------------

HeaderValue = str | int | Sequence[str | int] | Mapping[str, str | int]


class HeaderInjectionError(ValueError):
    """A header name or value that would change the frame's structure (CR, LF, NUL, ...).

    The offending value is not included in the message: it may be a secret.
    """

    def __init__(self, header: str, reason: str) -> None:
        super().__init__(f"AMI header {header!r}: {reason}")
        self.header = header
        self.reason = reason


_BAD_VALUE_CHARS: Final = ("\r", "\n", "\0")
_BAD_NAME_CHARS: Final = ("\r", "\n", "\0", ":", " ", "\t")
_RESERVED: Final = frozenset({"action", "actionid"})


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"AMI header name must be str, not {type(name).__name__}")
    if not name:
        raise HeaderInjectionError(name, "empty header name")
    for ch in _BAD_NAME_CHARS:
        if ch in name:
            raise HeaderInjectionError(name, f"{ch!r} not allowed in a header name")
    return name


def _check_value(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        kind = type(value).__name__
        raise TypeError(f"AMI header {name!r}: value must be str or int, not {kind}")
    text = value if isinstance(value, str) else str(value)
    for ch in _BAD_VALUE_CHARS:
        if ch in text:
            raise HeaderInjectionError(name, f"{ch!r} not allowed in a header value")
    return text


def _values(name: str, value: HeaderValue) -> Iterator[str]:
    if isinstance(value, str | int):
        yield _check_value(name, value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            k = _check_value(name, k)
            if "=" in k:
                raise HeaderInjectionError(name, "'=' not allowed in a variable name")
            yield f"{k}={_check_value(name, v)}"
    elif isinstance(value, Sequence):
        for v in value:
            yield _check_value(name, v)
    else:
        raise TypeError(f"AMI header {name!r}: unsupported value type {type(value).__name__}")


def encode_action(
    name: str,
    headers: Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]] | None,
    action_id: str,
) -> bytes:
    """Encode one action frame: ``Action``, ``ActionID``, then ``headers`` in order.

    A list value gives one line per item (``Variable: A=1`` / ``Variable: B=2``); a mapping
    value gives ``key=value`` lines. Raises :class:`HeaderInjectionError` for CR, LF or NUL
    anywhere, and for a colon or blank in a header name; ``ValueError`` if ``headers`` sets
    ``Action`` or ``ActionID`` (they are the arguments).
    """
    _check_name(name)
    _check_value("Action", name)
    if not action_id:
        raise HeaderInjectionError("ActionID", "empty ActionID")
    lines = [f"Action: {name}", f"ActionID: {_check_value('ActionID', action_id)}"]
    if headers is not None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for key, value in pairs:
            _check_name(key)
            if key.lower() in _RESERVED:
                raise ValueError(f"AMI header {key!r} is set by the client, not by headers")
            lines.extend(f"{key}: {v}" for v in _values(key, value))
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8")
