"""AMI framing and codec: golden frames from real Asterisk, splits, damage, encoding."""

from __future__ import annotations

import pytest
from asterisk_captures import (
    AGI_CLOSE,
    AGI_CONNECT,
    AGI_ENV,
    AGI_IN,
    AGI_OUT,
    AMI_BANNER,
    AMI_CLOSED,
    AMI_IN,
    AMI_OUT,
    all_ami_frames,
    capture_files,
    read_capture,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.asterisk.ami_codec import (
    EVENT,
    RESPONSE,
    AmiFramer,
    AmiMessage,
    FrameError,
    HeaderInjectionError,
    encode_action,
)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
CYRILLIC = (
    "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: Local/s@from-pstn-00000001;2\r\n"
    "CallerIDNum: 5551234\r\nCallerIDName: Иван Петров\r\nConnectedLineName: Ёжик\r\n"
    "Uniqueid: 1795337935.4\r\n\r\n"
).encode()
PING = b"Response: Success\r\nActionID: a2\r\nPing: Pong\r\nTimestamp: 1795337924.130853\r\n\r\n"
GOOD = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Good\r\n\r\n"

FRAMES = all_ami_frames()


def feed_all(framer: AmiFramer, chunks: list[bytes]) -> list[AmiMessage]:
    out: list[AmiMessage] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- the capture reader --------------------------------------------------------------------


def test_capture_reader_sees_every_kind_of_record() -> None:
    directions = {r.direction for p in capture_files() for r in read_capture(p)}
    assert {AMI_BANNER, AMI_IN, AMI_OUT, AMI_CLOSED} <= directions
    assert {AGI_ENV, AGI_IN, AGI_OUT, AGI_CONNECT, AGI_CLOSE} <= directions
    assert len(FRAMES) > 900
    fastagi = list(read_capture(capture_files()[0].parent / "02_fastagi.txt"))
    env = [data for direction, data in fastagi if direction == AGI_ENV]
    assert env[0] == b"agi_network: yes\n"
    assert env[-1] == b"\n"
    assert (AGI_OUT, b"ANSWER\n") in fastagi


# -- golden frames -------------------------------------------------------------------------


@pytest.mark.parametrize("name, frame", FRAMES, ids=[f"{n}#{i}" for i, (n, _) in enumerate(FRAMES)])
def test_every_captured_frame_parses_and_round_trips(name: str, frame: bytes) -> None:
    framer = AmiFramer()
    (msg,) = framer.feed(frame)
    assert not framer.errors
    first_key, first_value = frame.split(b"\r\n", 1)[0].decode().split(": ", 1)
    assert msg.kind == {"Event": EVENT, "Response": RESPONSE}[first_key]
    assert msg.name == first_value
    assert msg.to_bytes() == frame  # every header, in order, repeats included
    assert len(msg.headers) == frame.count(b"\r\n") - 1
    for key, value in msg.headers:
        assert msg.get(key.upper()) is not None
        assert value in msg.get_all(key.lower())
    if b"\r\nActionID: " in frame:
        assert msg.action_id is not None
        assert f"ActionID: {msg.action_id}\r\n".encode() in frame


def test_whole_capture_streams_in_any_chunking() -> None:
    for path in capture_files():
        frames = [d for direction, d in read_capture(path) if direction == AMI_IN]
        if not frames:
            continue
        stream = BANNER + b"".join(frames)
        whole = AmiFramer().feed(stream)
        assert [m.to_bytes() for m in whole] == frames, path.name
        for size in (1, 3, 7, 100, 4096):
            framer = AmiFramer()
            assert feed_all(framer, chunked(stream, size)) == whole, (path.name, size)
            assert framer.version == "11.0.0"
            assert not framer.errors


def test_command_output_headers_repeat() -> None:
    frame = next(f for _, f in FRAMES if b"Output: baseline has" in f)
    (msg,) = AmiFramer().feed(frame)
    output = msg.get_all("Output")
    assert len(output) > 3
    assert msg["output"] == output[0]
    assert msg.to_dict()["Output"] == output
    assert msg.message == "Command output follows"
    assert msg.ok


def test_error_response() -> None:
    frame = next(f for _, f in FRAMES if b"Invalid/unknown command" in f)
    (msg,) = AmiFramer().feed(frame)
    assert msg.is_response
    assert not msg.ok
    assert msg.name == "Error"


# -- splits --------------------------------------------------------------------------------


def test_split_at_every_byte_offset_including_inside_cyrillic_letters() -> None:
    stream = BANNER + PING + CYRILLIC + GOOD
    expected = AmiFramer().feed(stream)
    assert [m.name for m in expected] == ["Success", "Newchannel", "UserEvent"]
    assert expected[1]["CallerIDName"] == "Иван Петров"
    assert expected[1]["connectedlinename"] == "Ёжик"
    for cut in range(len(stream) + 1):
        framer = AmiFramer()
        got = framer.feed(stream[:cut]) + framer.feed(stream[cut:])
        assert got == expected, cut
        assert framer.version == "11.0.0"
        assert not framer.errors, cut


def test_split_at_every_pair_of_offsets_in_the_cyrillic_frame() -> None:
    expected = AmiFramer().feed(CYRILLIC)
    n = len(CYRILLIC)
    for i in range(n + 1):
        for j in range(i, n + 1):
            framer = AmiFramer()
            got = framer.feed(CYRILLIC[:i]) + framer.feed(CYRILLIC[i:j]) + framer.feed(CYRILLIC[j:])
            assert got == expected, (i, j)


def test_one_byte_at_a_time() -> None:
    stream = BANNER + CYRILLIC * 3 + PING
    framer = AmiFramer()
    got = feed_all(framer, chunked(stream, 1))
    assert got == AmiFramer().feed(stream)
    assert [m["CallerIDName"] for m in got[:3]] == ["Иван Петров"] * 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_random_chunking_is_invisible(cuts: list[int]) -> None:
    stream = BANNER + PING + CYRILLIC + GOOD + CYRILLIC
    points = sorted({min(c, len(stream)) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert feed_all(AmiFramer(), pieces) == AmiFramer().feed(stream)


# -- banner --------------------------------------------------------------------------------


def test_banner_split_and_absent() -> None:
    framer = AmiFramer()
    assert framer.feed(b"Asterisk Call") == []
    assert framer.feed(b" Manager/11.0.0\r") == []
    (msg,) = framer.feed(b"\n" + PING)
    assert framer.banner == "Asterisk Call Manager/11.0.0"
    assert framer.version == "11.0.0"
    assert msg["Ping"] == "Pong"
    # a stream without the greeting (a replay) is framed all the same
    framer = AmiFramer()
    assert [m.name for m in framer.feed(GOOD)] == ["UserEvent"]
    assert framer.banner is None


def test_banner_then_frame_in_one_read_and_reset() -> None:
    framer = AmiFramer()
    assert [m.name for m in framer.feed(BANNER + PING[:10])] == []
    assert [m.name for m in framer.feed(PING[10:])] == ["Success"]
    framer.reset()
    assert framer.feed(BANNER + GOOD)[0]["UserEvent"] == "Good"


# -- damage --------------------------------------------------------------------------------


def test_invalid_utf8_is_replaced_and_reported_and_later_frames_parse() -> None:
    bad = b"Event: Newchannel\r\nCallerIDName: \xd0\x98\xff\xfe\xd0\r\n\r\n"
    framer = AmiFramer()
    msgs = framer.feed(bad + GOOD)
    assert [m.name for m in msgs] == ["Newchannel", "UserEvent"]
    assert msgs[0]["CallerIDName"] == "И\ufffd\ufffd\ufffd"
    (err,) = framer.errors
    assert err.kind == FrameError.BAD_UTF8
    assert "byte" in err.detail


def test_truncated_frame_reported_at_eof() -> None:
    framer = AmiFramer()
    assert [m.name for m in framer.feed(GOOD + CYRILLIC[:40])] == ["UserEvent"]
    framer.feed_eof()
    (err,) = framer.errors
    assert err.kind == FrameError.TRUNCATED
    assert err.size == 40
    # the next stream starts clean
    assert [m.name for m in framer.feed(GOOD)] == ["UserEvent"]


@pytest.mark.parametrize("chunk", [None, 4096, 65536])
def test_two_mib_header_is_dropped_and_later_frames_parse(chunk: int | None) -> None:
    huge = b"Event: Big\r\nPayload: " + b"a" * (2 << 20) + b"\r\n\r\n"
    stream = BANNER + GOOD + huge + CYRILLIC + PING
    errors: list[FrameError] = []
    framer = AmiFramer(on_error=errors.append)
    msgs = framer.feed(stream) if chunk is None else feed_all(framer, chunked(stream, chunk))
    assert [m.name for m in msgs] == ["UserEvent", "Newchannel", "Success"]
    assert msgs[1]["CallerIDName"] == "Иван Петров"
    assert [e.kind for e in errors] == [FrameError.OVERSIZE]
    assert len(errors[0].sample) <= 120  # the log gets a sample, not 2 MiB
    assert framer.error_count == 1


def test_garbage_without_separators_is_skipped() -> None:
    garbage = bytes(range(256)).replace(b"\r", b"").replace(b"\n", b"") * 5000  # ~1.2 MiB
    framer = AmiFramer()
    msgs = feed_all(framer, chunked(garbage, 4096))
    assert msgs == []
    assert [e.kind for e in framer.errors] == [FrameError.OVERSIZE]
    # the garbage ends at the next blank line; what follows is parsed
    msgs = framer.feed(b"more junk\r\n\r\n" + GOOD)
    assert [m.name for m in msgs] == ["UserEvent"]


def test_small_garbage_frame_is_reported_not_raised() -> None:
    framer = AmiFramer()
    msgs = framer.feed(b"hello there\r\nno colon here\r\n\r\n" + GOOD + b"Foo: bar\r\n\r\n" + PING)
    assert [m.name for m in msgs] == ["UserEvent", "Success"]
    assert [e.kind for e in framer.errors] == [FrameError.NOT_AMI, FrameError.NOT_AMI]


def test_header_count_cap() -> None:
    many = b"Event: Many\r\n" + b"".join(b"H%d: x\r\n" % i for i in range(50)) + b"\r\n"
    framer = AmiFramer(max_headers=20)
    assert [m.name for m in framer.feed(many + GOOD)] == ["UserEvent"]
    assert [e.kind for e in framer.errors] == [FrameError.TOO_MANY_HEADERS]


def test_stray_blank_lines_and_bare_colon_headers() -> None:
    framer = AmiFramer()
    msgs = framer.feed(b"\r\n\r\n\r\n" + b"Event: X\r\nEmpty:\r\nTight:value\r\nodd line\r\n\r\n")
    (msg,) = msgs
    assert msg.headers == [("Event", "X"), ("Empty", ""), ("Tight", "value")]
    assert msg.body == ["odd line"]
    assert not framer.errors


def test_event_name_from_a_later_header() -> None:
    (msg,) = AmiFramer().feed(b"Privilege: call,all\r\nevent: Late\r\n\r\n")
    assert (msg.kind, msg.name) == (EVENT, "Late")


# -- AmiMessage ----------------------------------------------------------------------------


def test_message_lookup() -> None:
    msg = AmiMessage.from_headers(
        [("Response", "Success"), ("ActionID", "x1"), ("Output", "a"), ("Output", "b")]
    )
    assert msg.is_response and msg.ok
    assert msg.action_id == "x1"
    assert msg["OUTPUT"] == "a"
    assert msg.get_all("output") == ["a", "b"]
    assert "actionid" in msg
    assert "Nope" not in msg
    assert msg.get("Nope", "dflt") == "dflt"
    with pytest.raises(KeyError):
        msg["Nope"]
    assert list(msg.keys()) == ["Response", "ActionID", "Output", "Output"]
    assert len(msg) == 4
    assert "Success" in repr(msg)
    with pytest.raises(ValueError):
        AmiMessage.from_headers([("Foo", "bar")])


# -- encoding ------------------------------------------------------------------------------


def test_encoder_reproduces_every_captured_action() -> None:
    count = 0
    for path in capture_files():
        for direction, frame in read_capture(path):
            if direction != AMI_OUT:
                continue
            lines = frame[:-4].decode().split("\r\n")
            pairs = [tuple(line.split(": ", 1)) for line in lines]
            (k0, name), (k1, action_id), *rest = pairs
            assert (k0, k1) == ("Action", "ActionID")
            assert encode_action(name, rest, action_id) == frame
            count += 1
    assert count > 70


def test_encoder_repeated_mapping_and_int_values() -> None:
    frame = encode_action(
        "Originate",
        {
            "Channel": "Local/s@from-pstn",
            "Priority": 1,
            "CallerID": '"Иван Петров" <5551234>',
            "Variable": ["A=1", "B=2"],
        },
        "acd-1",
    )
    assert (
        frame
        == (
            "Action: Originate\r\nActionID: acd-1\r\nChannel: Local/s@from-pstn\r\nPriority: 1\r\n"
            'CallerID: "Иван Петров" <5551234>\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n'
        ).encode()
    )
    assert b"Variable: X=y\r\nVariable: Z=1\r\n" in encode_action(
        "Setvar", {"Variable": {"X": "y", "Z": 1}}, "a"
    )
    assert encode_action("Ping", None, "a") == b"Action: Ping\r\nActionID: a\r\n\r\n"


@pytest.mark.parametrize(
    "name, headers, action_id",
    [
        ("Ping", {"Channel": "x\r\nAction: Hangup"}, "a"),
        ("Ping", {"Channel": "x\n"}, "a"),
        ("Ping", {"Channel": "x\r"}, "a"),
        ("Ping", {"Channel": "x\0"}, "a"),
        ("Ping", {"Chan\r\nnel": "x"}, "a"),
        ("Ping", {"Chan: nel": "x"}, "a"),
        ("Ping", {"": "x"}, "a"),
        ("Ping", {"Variable": ["A=1", "B=2\r\n\r\nAction: Hangup"]}, "a"),
        ("Ping", {"Variable": {"A\r\n": "1"}}, "a"),
        ("Ping", {"Variable": {"A=B": "1"}}, "a"),
        ("Ping\r\nChannel: x", None, "a"),
        ("Ping", None, "a\r\nb"),
        ("Ping", None, ""),
    ],
)
def test_encoder_refuses_injection(name: str, headers: dict | None, action_id: str) -> None:
    with pytest.raises(HeaderInjectionError):
        encode_action(name, headers, action_id)


def test_encoder_error_does_not_echo_the_value_and_reserved_names() -> None:
    with pytest.raises(HeaderInjectionError) as info:
        encode_action("Login", {"Secret": "hunter2\r\n"}, "a")
    assert "hunter2" not in str(info.value)
    assert info.value.header == "Secret"
    with pytest.raises(ValueError, match="set by the client"):
        encode_action("Ping", {"ActionID": "other"}, "a")
    with pytest.raises(TypeError):
        encode_action("Ping", {"Flag": True}, "a")  # type: ignore[dict-item]


_header_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0"),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_header_text, min_size=1, max_size=6))
def test_encoded_values_parse_back(values: list[str]) -> None:
    """What we encode, the framer gives back intact (values as Asterisk would echo them)."""
    frame = encode_action("UserEvent", [("Value", values)], "id-1")
    echoed = frame.replace(b"Action: UserEvent", b"Event: UserEvent", 1)
    (msg,) = AmiFramer().feed(echoed)
    assert msg.get_all("Value") == values
    assert msg.action_id == "id-1"
