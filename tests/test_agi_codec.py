"""FastAGI codec: headers and replies of real Asterisk 22 captures, quoting, injection."""

from __future__ import annotations

import pytest
from asterisk_captures import (
    ENV,
    FROM_ASTERISK,
    TO_ASTERISK,
    agi_sessions,
    canonical,
    split_captured,
)
from hypothesis import given
from hypothesis import strategies as st

from acd.asterisk.agi_codec import (
    HANGUP_NOTICE,
    MAX_COMMAND_BYTES,
    MAX_COMMAND_WORDS,
    AgiCommandError,
    AgiHeaders,
    AgiInjectionError,
    AgiProtocolError,
    AgiReply,
    ReplyParser,
    decode_line,
    encode_command,
    parse_header_block,
    parse_header_line,
    parse_reply_line,
    quote_argument,
    split_command_line,
)

ALL_SESSIONS = [
    pytest.param(name, index, id=f"{name[:2]}-{index}")
    for name in ("02_fastagi.txt", "03_fastagi_hangup.txt", "08_misc.txt")
    for index in range(len(agi_sessions(name)))
]


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(("name", "index"), ALL_SESSIONS)
def test_captured_header_blocks(name: str, index: int) -> None:
    records = agi_sessions(name)[index]
    env_lines = [data for kind, data in records if kind == ENV]
    assert env_lines[-1] == b"\n"
    headers = parse_header_block(env_lines)
    expected = {}
    for raw in env_lines[:-1]:
        key, _, value = raw.decode().rstrip("\n").partition(": ")
        expected[key.removeprefix("agi_")] = value
    assert headers.env == expected
    assert headers.script == "hotline"
    assert headers.channel == expected["channel"] and headers.channel.startswith("Local/")
    assert headers.uniqueid == expected["uniqueid"]
    assert headers.callerid == expected["callerid"]
    assert headers.dnid is None and headers.rdnis is None  # the literal "unknown"
    assert headers.env["accountcode"] == ""
    assert headers.env["network"] == "yes"


def test_capture_08_query_and_arguments() -> None:
    env_lines = [data for kind, data in agi_sessions("08_misc.txt")[0] if kind == ENV]
    headers = parse_header_block(env_lines)
    assert headers.env["network_script"] == "hotline?line=2&lang=ru"
    assert headers.script == "hotline"
    assert headers.query == {"line": "2", "lang": "ru"}
    assert headers.args == ["88005553535", "second arg"]
    assert (headers.callerid, headers.calleridname) == ("5558888", "Args Caller")


def test_header_variants() -> None:
    headers = AgiHeaders.from_env(
        {
            "network_script": "/connect?x=%20y&flag",
            "arg_2": "agent7",
            "arg_1": "1700000000.5",
            "arg_4": "four",
            "callerid": "unknown",
            "dnid": "88005553535",
        }
    )
    assert headers.script == "connect"
    assert headers.query == {"x": " y", "flag": ""}
    assert headers.args == ["1700000000.5", "agent7", "", "four"]  # a gap reads as ""
    assert headers.callerid is None and headers.dnid == "88005553535"
    assert headers.channel == "" and headers.calleridname is None
    # without agi_network_script: the path of agi_request
    fallback = AgiHeaders.from_env({"request": "agi://127.0.0.1:4573/agent?a=b"})
    assert (fallback.script, fallback.query) == ("agent", {"a": "b"})
    assert AgiHeaders.from_env({"request": "agi://127.0.0.1"}).script == ""


def test_header_line_forms() -> None:
    assert parse_header_line("agi_accountcode: ") == ("accountcode", "")
    assert parse_header_line("agi_accountcode:") == ("accountcode", "")
    assert parse_header_line("agi_calleridname:  Two  spaces ") == (
        "calleridname",
        " Two  spaces ",
    )
    assert parse_header_line("agi_arg_1: a: b") == ("arg_1", "a: b")


@pytest.mark.parametrize(
    "line",
    ["GET / HTTP/1.1", "agi_network yes", "network: yes", "agi_: x", "agi_bad key: x", ""],
)
def test_garbage_header_lines(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_header_line(line)


def test_empty_header_block_is_garbage() -> None:
    with pytest.raises(AgiProtocolError):
        parse_header_block([b"\n"])


def test_header_bytes_are_decoded_leniently() -> None:
    headers = parse_header_block([b"agi_calleridname: \xd0\x98\xd0\xb2\xff\r\n", b"\n"])
    assert headers.calleridname == "Ив\ufffd"


# --------------------------------------------------------------------------- replies


@pytest.mark.parametrize(("name", "index"), ALL_SESSIONS)
def test_every_captured_reply_parses(name: str, index: int) -> None:
    records = agi_sessions(name)[index]
    parser = ReplyParser()
    replies: list[AgiReply] = []
    notices = 0
    for kind, data in records:
        if kind != FROM_ASTERISK:
            continue
        item = parser.feed(decode_line(data))
        if item is HANGUP_NOTICE:
            notices += 1
        elif item is not None:
            assert isinstance(item, AgiReply)
            replies.append(item)
    assert not parser.in_block
    assert len(replies) == sum(kind == TO_ASTERISK for kind, _ in records)
    assert notices == sum(kind == FROM_ASTERISK and data == b"HANGUP\n" for kind, data in records)


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "timeout", "text"),
    [
        ("200 result=0", 200, 0, None, False, "0"),
        ("200 result=0 endpos=11360", 200, 0, None, False, "0"),
        ("200 result=7", 200, 7, None, False, "7"),
        ("200 result= (timeout)", 200, None, "timeout", True, ""),
        ("200 result=12 (timeout)", 200, 12, "timeout", True, "12"),
        ("200 result=07", 200, 7, None, False, "07"),
        ("200 result=*1", 200, None, None, False, "*1"),
        ("200 result=", 200, None, None, False, ""),
        ("200 result=-1 endpos=0", 200, -1, None, False, "-1"),
        ("200 result=-1", 200, -1, None, False, "-1"),
        ("200 result=-2", 200, -2, None, False, "-2"),
        ("200 result=6", 200, 6, None, False, "6"),
        (
            "200 result=1 (Local/s@from-pstn-00000001;2)",
            200,
            1,
            "Local/s@from-pstn-00000001;2",
            False,
            "1",
        ),
        ("200 result=1 (5551234 / 1795337935.4)", 200, 1, "5551234 / 1795337935.4", False, "1"),
        (
            "200 result=1 (/var/spool/asterisk/monitor/acd-agi-${UNIQUEID}.wav)",
            200,
            1,
            "/var/spool/asterisk/monitor/acd-agi-${UNIQUEID}.wav",
            False,
            "1",
        ),
        ("200 result=1 (hello world)", 200, 1, "hello world", False, "1"),
        ("200 result=1 ()", 200, 1, "", False, "1"),
        ("200 result=1 (a (b) c)", 200, 1, "a (b) c", False, "1"),
        ("200 result=1 (x) endpos=5", 200, 1, "x", False, "1"),
        ("200 result=1 (unbalanced", 200, 1, "unbalanced", False, "1"),
        ("510 Invalid or unknown command", 510, None, "Invalid or unknown command", False, ""),
        (
            "511 Command Not Permitted on a dead channel or intercept routine",
            511,
            None,
            "Command Not Permitted on a dead channel or intercept routine",
            False,
            "",
        ),
        (
            "520 Invalid command syntax.  Proper usage not available.",
            520,
            None,
            "Invalid command syntax.  Proper usage not available.",
            False,
            "",
        ),
    ],
)
def test_reply_lines(
    line: str, code: int, result: int | None, data: str | None, timeout: bool, text: str
) -> None:
    reply = ReplyParser().feed(line)
    assert isinstance(reply, AgiReply)
    assert (reply.code, reply.result, reply.data, reply.timeout) == (code, result, data, timeout)
    assert reply.result_text == text
    assert reply.raw == line
    assert reply.ok == (code == 200)


def test_a_variable_holding_the_word_timeout_keeps_its_value() -> None:
    reply = parse_reply_line("200 result=1 (timeout)")
    assert reply.data == "timeout"  # GET VARIABLE reads data; the flag is GET DATA's business


def test_reply_positional_fields() -> None:
    reply = AgiReply(200, 1, "x", False, "200 result=1 (x)")
    assert (reply.code, reply.result, reply.data, reply.timeout, reply.raw) == (
        200,
        1,
        "x",
        False,
        "200 result=1 (x)",
    )


def test_multiline_520_from_capture_02() -> None:
    lines = [
        data
        for kind, data in agi_sessions("02_fastagi.txt")[0]
        if kind == FROM_ASTERISK and data.startswith((b"520", b"Say a given"))
    ]
    assert len(lines) == 3
    parser = ReplyParser()
    assert parser.feed(decode_line(lines[0])) is None
    assert parser.in_block
    assert parser.feed(decode_line(lines[1])) is None
    reply = parser.feed(decode_line(lines[2]))
    assert isinstance(reply, AgiReply)
    assert (reply.code, reply.result, reply.timeout) == (520, None, False)
    assert reply.data == decode_line(lines[1])
    assert reply.message == "Invalid command syntax.  Proper usage follows:"
    assert reply.raw.splitlines() == [decode_line(line) for line in lines]
    error = AgiCommandError(reply)
    assert error.code == 520
    assert error.usage is not None and error.usage.startswith("Say a given number")
    assert "Say a given number" in str(error)
    # the parser is ready for the next reply
    assert parser.feed("200 result=1 (value1)") == parse_reply_line("200 result=1 (value1)")


def test_hangup_line_and_usage_text_that_looks_like_it() -> None:
    parser = ReplyParser()
    assert parser.feed("HANGUP") is HANGUP_NOTICE
    assert parser.feed("520-Invalid command syntax.  Proper usage follows:") is None
    assert parser.feed("HANGUP") is None  # inside a usage block it is text
    reply = parser.feed("520 End of proper usage.")
    assert isinstance(reply, AgiReply) and reply.data == "HANGUP"


@pytest.mark.parametrize(
    "line", ["hello", "20 result=1", "2000 result=1", "200 nothing", "200", "abc-def", "hangup"]
)
def test_garbage_replies(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        ReplyParser().feed(line)


def test_endless_usage_block_is_refused() -> None:
    parser = ReplyParser(max_block_lines=5)
    parser.feed("520-start")
    with pytest.raises(AgiProtocolError):
        for _ in range(10):
            parser.feed("more usage")
    assert not parser.in_block


def test_decode_line() -> None:
    assert decode_line(b"200 result=1 (x)\n") == "200 result=1 (x)"
    assert decode_line(b"200 result=1 (x)\r\n") == "200 result=1 (x)"
    assert decode_line(b"200 result=1 (\xd0\x98\xff)\n") == "200 result=1 (И\ufffd)"


# --------------------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("words", "line"),
    [
        (("ANSWER",), b"ANSWER\n"),
        (("STREAM FILE", "hello-world", ""), b'STREAM FILE "hello-world" ""\n'),
        (("SAY NUMBER", "21", ""), b'SAY NUMBER "21" ""\n'),
        (("GET DATA", "beep", "3000", "1"), b'GET DATA "beep" "3000" "1"\n'),
        (
            ("SET VARIABLE", "ACD_RESULT", "hello world"),
            b'SET VARIABLE "ACD_RESULT" "hello world"\n',
        ),
        (("VERBOSE", 'say "hi" \\ bye', "1"), b'VERBOSE "say \\"hi\\" \\\\ bye" "1"\n'),
        (
            ("EXEC", "Dial", "Local/agent1@test-agent/n,20,g"),
            b'EXEC "Dial" "Local/agent1@test-agent/n,20,g"\n',
        ),
        (("SET VARIABLE", "NAME", "Иван"), 'SET VARIABLE "NAME" "Иван"\n'.encode()),
    ],
)
def test_encode(words: tuple[str, ...], line: bytes) -> None:
    assert encode_command(*words) == line
    assert split_command_line(line.decode()) == [*words[0].split(), *words[1:]]


@pytest.mark.parametrize(("name", "index"), ALL_SESSIONS)
def test_captured_commands_in_our_quoting_read_the_same_to_asterisk(name: str, index: int) -> None:
    commands = [data for kind, data in agi_sessions(name)[index] if kind == TO_ASTERISK]
    assert commands
    for captured in commands:
        ours = canonical(captured)
        assert split_command_line(ours.decode()) == split_command_line(captured.decode())
        if not split_captured(captured)[1]:
            assert ours == captured  # no arguments: byte for byte


def test_split_command_line_is_res_agi_parse_args() -> None:
    assert split_command_line('STREAM FILE hello-world ""\n') == [
        "STREAM",
        "FILE",
        "hello-world",
        "",
    ]
    assert split_command_line('a "b c"\td') == ["a", "b c", "d"]
    assert split_command_line('"a"b "c"') == ["ab", "c"]
    assert split_command_line('a\\ b \\\\ \\"') == ["a b", "\\", '"']
    assert split_command_line('"" ""') == ["", ""]
    assert split_command_line("  spaced   out  ") == ["spaced", "out"]
    assert split_command_line("EXEC MixMonitor acd-agi-${UNIQUEID}.wav,b") == [
        "EXEC",
        "MixMonitor",
        "acd-agi-${UNIQUEID}.wav,b",
    ]
    many = " ".join(str(i) for i in range(200))
    assert len(split_command_line(many)) == MAX_COMMAND_WORDS


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ('"x"\nHANGUP', "line feed"),
        ("x\rHANGUP", "carriage return"),
        ("x\0y", "NUL"),
        ("trailing\n", "line feed"),
    ],
)
def test_control_characters_are_refused(value: str, named: str) -> None:
    with pytest.raises(AgiInjectionError, match=named):
        encode_command("SET VARIABLE", "CALLER", value)
    with pytest.raises(AgiInjectionError, match=named):
        quote_argument(value)
    with pytest.raises(ValueError):  # AgiInjectionError is a ValueError too
        encode_command("SET VARIABLE", value, "x")


@pytest.mark.parametrize(
    "keyword", ["ANSWER\nHANGUP", "STREAM FILE;", "", " ANSWER", "GET  DATA", '"ANSWER"', "SAY 5"]
)
def test_keywords_must_be_bare_words(keyword: str) -> None:
    with pytest.raises(AgiInjectionError):
        encode_command(keyword)


def test_overlong_command_would_be_split_by_asterisk_and_is_refused() -> None:
    prefix = b'VERBOSE ""\n'
    fits = "x" * (MAX_COMMAND_BYTES - len(prefix))
    assert len(encode_command("VERBOSE", fits)) == MAX_COMMAND_BYTES
    with pytest.raises(AgiInjectionError, match="another command"):
        encode_command("VERBOSE", fits + "x")
    # quoting counts: each escaped quote takes two bytes
    with pytest.raises(AgiInjectionError):
        encode_command("VERBOSE", '"' * (MAX_COMMAND_BYTES // 2))


def test_too_many_words_are_refused() -> None:
    args = ["1"] * (MAX_COMMAND_WORDS - 2)
    assert split_command_line(encode_command("GET DATA", *args).decode())[-1] == "1"
    with pytest.raises(AgiInjectionError):
        encode_command("GET DATA", *args, "1")


def test_non_text_arguments_are_a_type_error() -> None:
    with pytest.raises(TypeError):
        encode_command("SAY NUMBER", 21, "")  # type: ignore[arg-type]


def test_unencodable_text_is_refused() -> None:
    with pytest.raises(AgiInjectionError):
        encode_command("VERBOSE", "\udc80")


_SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)),
    max_size=30,
)


@given(
    keyword=st.sampled_from(["VERBOSE", "SET VARIABLE", "EXEC", "GET FULL VARIABLE"]),
    args=st.lists(_SAFE_TEXT, max_size=8),
)
def test_any_arguments_reach_asterisk_unchanged(keyword: str, args: list[str]) -> None:
    line = encode_command(keyword, *args)
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    assert split_command_line(line.decode()) == [*keyword.split(), *args]


@given(args=st.lists(st.text(max_size=20), max_size=5))
def test_any_text_either_round_trips_or_is_refused(args: list[str]) -> None:
    try:
        line = encode_command("SET VARIABLE", *args)
    except AgiInjectionError:
        assert any(c in a for a in args for c in "\r\n\0") or any(
            "\ud800" <= c <= "\udfff" for a in args for c in a
        )
        return
    assert line.count(b"\n") == 1
    assert split_command_line(line.decode()) == ["SET", "VARIABLE", *args]
