"""Recordings: call-ID and path safety, HTTP ranges, WAV durations, the index and retention.

Everything touching the database runs on SQLite and PostgreSQL (``db_url``); time comes
from a fixed ``now`` and file times are set with ``os.utime``, so nothing sleeps.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.storage.db import create_schema, make_engine, make_sessions
from acd.storage.models import Call, Recording
from acd.storage.recordings import (
    InvalidCallId,
    InvalidRange,
    RangeNotSatisfiable,
    RecordingDeleted,
    RecordingError,
    RecordingFileMissing,
    RecordingNotFound,
    RecordingsDirectoryMissing,
    UnsafeRecordingPath,
    apply_retention,
    content_range,
    find_recording,
    get_recording,
    index_one,
    index_recordings,
    is_valid_call_id,
    iter_file,
    open_recording,
    parse_range,
    validate_call_id,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


def write_wav(path: Path, seconds: float, rate: int = 8000, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(b"\x00" * width * round(seconds * rate))
    return path


def set_mtime(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()), follow_symlinks=False)


def epoch(when: datetime) -> int:
    return int(when.timestamp())


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    directory = tmp_path / "recordings"
    directory.mkdir()
    return directory


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the recordings, with a file nothing may read or delete."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.wav").write_bytes(b"secret")
    return directory


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[Sessions]:
    engine = make_engine(db_url)
    try:
        await create_schema(engine)
        yield make_sessions(engine)
    finally:
        await engine.dispose()


async def rows(sessions: Sessions) -> dict[str, Recording]:
    async with sessions() as session:
        found = (await session.execute(select(Recording))).scalars().all()
    return {row.call_id: row for row in found}


# --------------------------------------------------------------------------- call IDs

VALID_CALL_IDS = [
    "1700000000.12",
    "pbx1-1700000000.12",
    "a",
    "A_b-c.d",
    "-starts-with-dash",
    "x" * 64,
]
INVALID_CALL_IDS = [
    "",
    ".",
    "..",
    "../etc/passwd",
    "../../../../etc/passwd",
    "/etc/passwd",
    "/",
    "a/b",
    "1700000000.12/../../x",
    "..\\..\\windows\\win.ini",
    "a\\b",
    "C:\\Windows",
    "C:x",
    "%2e%2e",
    "%2e%2e%2fetc%2fpasswd",
    "..%2f",
    "a\x00b",
    "1700000000.12\x00.txt",
    ".hidden",
    "a..b",
    "x" * 65,
    "1700000000.12\n",
    "17000 00",
    "звонок",
    "1700000000.１２",  # full-width digits
    "~root",
    "$HOME",
]


@pytest.mark.parametrize("call_id", VALID_CALL_IDS)
def test_valid_call_ids(call_id: str) -> None:
    assert validate_call_id(call_id) == call_id


@pytest.mark.parametrize("call_id", [*INVALID_CALL_IDS, None, 1700000000, b"1700.1"])
def test_invalid_call_ids_are_refused_with_a_plain_message(call_id: object) -> None:
    with pytest.raises(InvalidCallId, match="invalid call ID"):
        validate_call_id(call_id)


def test_a_long_invalid_call_id_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidCallId) as caught:
        validate_call_id("../" * 1000)
    assert len(str(caught.value)) < 300


@given(st.text(max_size=80))
@example("../etc/passwd")
@example("..")
@example("%2e%2e%2f")
def test_a_valid_call_id_names_a_file_directly_in_the_directory(call_id: str) -> None:
    root = Path("/srv/recordings")
    if not is_valid_call_id(call_id):
        with pytest.raises(InvalidCallId):
            validate_call_id(call_id)
        return
    path = root / (validate_call_id(call_id) + ".wav")
    assert path.parent == root
    assert os.path.normpath(path) == str(path)
    assert path.name == call_id + ".wav"


# --------------------------------------------------------------------------- open_recording


def test_open_recording_finds_the_file_by_call_id(recordings: Path) -> None:
    write_wav(recordings / "1700000000.12.wav", 1.0)
    path, size = open_recording(recordings, "1700000000.12")
    assert path == (recordings / "1700000000.12.wav").resolve()
    assert size == path.stat().st_size


def test_open_recording_prefers_wav_and_finds_other_formats(recordings: Path) -> None:
    (recordings / "1.1.mp3").write_bytes(b"ID3")
    (recordings / "1.1.ogg").write_bytes(b"OggS")
    assert open_recording(recordings, "1.1")[0].name == "1.1.ogg"
    write_wav(recordings / "1.1.wav", 0.1)
    assert open_recording(recordings, "1.1")[0].name == "1.1.wav"
    (recordings / "2.2.gsm").write_bytes(b"gsm")
    assert open_recording(recordings, "2.2") == ((recordings / "2.2.gsm").resolve(), 3)


def test_no_file_is_no_recording(recordings: Path) -> None:
    (recordings / "1.1.txt").write_bytes(b"not a recording")
    with pytest.raises(RecordingNotFound, match=r"^no recording for call 1\.1$"):
        open_recording(recordings, "1.1")


def test_an_indexed_path_that_is_gone_is_reported_with_the_path(recordings: Path) -> None:
    with pytest.raises(RecordingFileMissing) as caught:
        open_recording(recordings, "1.1", "1.1.wav")
    assert str(caught.value) == (
        f"recording of call 1.1 is indexed but the file is missing: {recordings.resolve()}/1.1.wav"
    )


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(RecordingsDirectoryMissing, match="does not exist"):
        open_recording(tmp_path / "nope", "1.1")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RecordingsDirectoryMissing, match="not a directory"):
        open_recording(tmp_path / "file", "1.1")


@pytest.mark.parametrize("call_id", INVALID_CALL_IDS)
def test_hostile_call_ids_never_reach_the_file_system(
    call_id: str, recordings: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_file_system(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file system was touched")

    monkeypatch.setattr(os.path, "lexists", no_file_system)
    monkeypatch.setattr(Path, "resolve", no_file_system)
    with pytest.raises(InvalidCallId):
        open_recording(recordings, call_id)


def test_a_symlink_out_of_the_directory_is_refused(recordings: Path, outside: Path) -> None:
    (recordings / "1.1.wav").symlink_to(outside / "secret.wav")
    with pytest.raises(UnsafeRecordingPath, match="outside the recordings directory"):
        open_recording(recordings, "1.1")
    (recordings / "2.2.wav").symlink_to("../outside/secret.wav")  # relative target
    with pytest.raises(UnsafeRecordingPath):
        open_recording(recordings, "2.2")


def test_a_symlink_within_the_directory_is_followed(recordings: Path) -> None:
    (recordings / "archive").mkdir()
    write_wav(recordings / "archive" / "1.1.wav", 0.5)
    (recordings / "1.1.wav").symlink_to(recordings / "archive" / "1.1.wav")
    path, _ = open_recording(recordings, "1.1")
    assert path == (recordings / "archive" / "1.1.wav").resolve()


def test_the_directory_itself_may_be_a_symlink(tmp_path: Path, recordings: Path) -> None:
    write_wav(recordings / "1.1.wav", 0.5)
    link = tmp_path / "link"
    link.symlink_to(recordings)
    assert open_recording(link, "1.1")[0] == (recordings / "1.1.wav").resolve()


def test_dangling_symlinks_loops_directories_and_fifos(recordings: Path) -> None:
    (recordings / "1.1.wav").symlink_to(recordings / "gone.wav")
    with pytest.raises(RecordingFileMissing):
        open_recording(recordings, "1.1")
    write_wav(recordings / "6.6.wav", 0.1)
    with pytest.raises(RecordingFileMissing):  # a file is no directory
        open_recording(recordings, "6.6", "6.6.wav/inner.wav")
    (recordings / "2.2.wav").symlink_to(recordings / "3.3.wav")
    (recordings / "3.3.wav").symlink_to(recordings / "2.2.wav")
    with pytest.raises(UnsafeRecordingPath, match="loop"):
        open_recording(recordings, "2.2")
    (recordings / "4.4.wav").mkdir()
    with pytest.raises(UnsafeRecordingPath, match="not a regular file"):
        open_recording(recordings, "4.4")
    os.mkfifo(recordings / "5.5.wav")
    with pytest.raises(UnsafeRecordingPath, match="not a regular file"):
        open_recording(recordings, "5.5")


@pytest.mark.parametrize(
    "relative",
    [
        "../outside/secret.wav",
        "sub/../../outside/secret.wav",
        "/etc/passwd",
        "//etc/passwd",
        "C:/Windows/win.ini",
        "c:secret.wav",
        "..\\outside\\secret.wav",
        "sub\\..\\..\\secret.wav",
        "./1.1.wav",
        "1.1.wav/",
        "",
        "a//b.wav",
        "1.1.wav\x00.txt",
    ],
)
def test_hostile_index_paths_are_refused(recordings: Path, outside: Path, relative: str) -> None:
    write_wav(recordings / "1.1.wav", 0.1)
    with pytest.raises(UnsafeRecordingPath):
        open_recording(recordings, "1.1", relative)


def test_an_index_path_through_a_symlinked_subdirectory_is_refused(
    recordings: Path, outside: Path
) -> None:
    (recordings / "sub").symlink_to(outside)
    with pytest.raises(UnsafeRecordingPath):
        open_recording(recordings, "1.1", "sub/secret.wav")


PATH_PARTS = ["..", ".", "", "sub", "evil.wav", "1.1.wav", "outside", "secret.wav", "%2e%2e", "~"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    call_id=st.one_of(
        st.text(max_size=70),
        st.text(alphabet="./\\%2e\x00-_1w:", max_size=20),
        st.sampled_from(INVALID_CALL_IDS + VALID_CALL_IDS + ["evil", "1.1", "loop", "sub"]),
    ),
    relative=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.lists(st.sampled_from(PATH_PARTS), min_size=1, max_size=5).map("/".join),
        st.lists(st.sampled_from(PATH_PARTS), min_size=1, max_size=5).map("\\".join),
    ),
)
def test_property_no_call_id_or_index_path_leaves_the_directory(
    call_id: str, relative: str | None, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    if not root.exists():  # one trap-laden directory for every example
        root.mkdir()
        (tmp_path / "outside").mkdir()
        (tmp_path / "outside" / "secret.wav").write_bytes(b"secret")
        write_wav(root / "1.1.wav", 0.1)
        (root / "evil.wav").symlink_to(tmp_path / "outside" / "secret.wav")
        (root / "sub").symlink_to(tmp_path / "outside")
        (root / "loop.wav").symlink_to(root / "loop.wav")
    real_root = root.resolve()
    try:
        path, size = open_recording(root, call_id, relative)
    except RecordingError:
        return
    assert path.is_relative_to(real_root) and path != real_root
    assert path.is_file() and size == path.stat().st_size
    assert b"secret" not in path.read_bytes()


def test_iter_file_streams_a_byte_range(recordings: Path) -> None:
    data = bytes(range(256)) * 1000
    (recordings / "1.1.mp3").write_bytes(data)
    path, size = open_recording(recordings, "1.1")
    assert b"".join(iter_file(path, chunk_size=1000)) == data
    assert b"".join(iter_file(path, 100, 199, chunk_size=7)) == data[100:200]
    start, end = parse_range("bytes=-500", size) or (0, 0)
    assert b"".join(iter_file(path, start, end)) == data[-500:]


# --------------------------------------------------------------------------- HTTP ranges


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 1000, None),
        ("", 1000, None),
        ("   ", 1000, None),
        ("bytes=0-99", 1000, (0, 99)),
        ("bytes=0-0", 1000, (0, 0)),
        ("bytes=100-", 1000, (100, 999)),
        ("bytes=-500", 1000, (500, 999)),
        ("bytes=-1", 1000, (999, 999)),
        ("bytes=-5000", 1000, (0, 999)),  # suffix longer than the file: all of it
        ("bytes=500-5000", 1000, (500, 999)),  # end past the file: clamped
        ("bytes=999-", 1000, (999, 999)),
        ("bytes=0-999999999999999999999999999999", 1000, (0, 999)),
        ("BYTES=0-9", 1000, (0, 9)),  # the unit is case-insensitive
        (" bytes=0-9 ", 1000, (0, 9)),
        ("bytes=0-9,20-29", 1000, (0, 9)),  # several: the first
        ("bytes=5000-6000, 20-29", 1000, (20, 29)),  # ...that can be satisfied
        ("bytes=-0, 3-4", 1000, (3, 4)),
        ("bytes= 0-9 ,, 20-29", 1000, (0, 9)),  # empty list elements are allowed
        ("bytes=0-", 1, (0, 0)),
        ("bytes=007-010", 1000, (7, 10)),
        ("items=0-9", 1000, None),  # an unknown unit is ignored
        ("none=", 1000, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=1000-", 1000),
        ("bytes=1000-1999", 1000),
        ("bytes=5000-6000,7000-", 1000),
        ("bytes=-0", 1000),
        ("bytes=0-", 0),
        ("bytes=-500", 0),
        ("bytes=999999999999999999999999999999-", 1000),
    ],
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.size == size
    assert content_range(size) == f"bytes */{size}"


@pytest.mark.parametrize(
    "header",
    [
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes=-",
        "bytes=abc",
        "bytes=5-1",  # ends before it starts
        "bytes=0-9,5-1",  # one bad spec spoils the header
        "bytes=1-2-3",
        "bytes=+1-2",
        "bytes=-1-2",
        "bytes=0x10-0x20",
        "bytes=1.5-2",
        "bytes=١-٢",  # Arabic-Indic digits are not DIGIT
        "bytes=0 - 9",
        "bytes 0-9",
        "=0-9",
        "by tes=0-9",
        "bytes=0-9;q=1",
        "bytes=99999999999999999999999999999999-99999999999999999999999999999998",
        "bytes=" + "9" * 5000 + "-1",  # beyond Python's int() digit limit: still just invalid
    ],
)
def test_invalid_ranges(header: str) -> None:
    with pytest.raises(InvalidRange):
        parse_range(header, 1000)


def test_content_range() -> None:
    assert content_range(1000, (0, 99)) == "bytes 0-99/1000"
    assert content_range(1000, parse_range("bytes=-1", 1000)) == "bytes 999-999/1000"


def test_negative_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative size"):
        parse_range("bytes=0-1", -1)


def reference_range(first: int | None, last: int | None, size: int) -> tuple[int, int] | None:
    """One byte-range-spec, straight from RFC 7233 §2.1 (``None``: unsatisfiable)."""
    if first is None:
        assert last is not None
        wanted = range(size)[-last:] if last else range(0)
    else:
        wanted = range(size)[first : (size if last is None else last + 1)]
    return (wanted[0], wanted[-1]) if len(wanted) else None


byte_spec = st.one_of(
    st.tuples(st.integers(0, 3000), st.none()),
    st.tuples(st.none(), st.integers(0, 3000)),
    st.tuples(st.integers(0, 3000), st.integers(0, 3000)).map(sorted).map(tuple),
)


@given(specs=st.lists(byte_spec, min_size=1, max_size=4), size=st.integers(0, 2000))
def test_property_parse_range_matches_the_rfc(
    specs: list[tuple[int | None, int | None]], size: int
) -> None:
    header = "bytes=" + ",".join(
        f"{'' if a is None else a}-{'' if b is None else b}" for a, b in specs
    )
    expected = next(
        (r for r in (reference_range(a, b, size) for a, b in specs) if r is not None), None
    )
    if expected is None:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, size)
        return
    start, end = parse_range(header, size) or (-1, -1)
    assert (start, end) == expected
    assert 0 <= start <= end < size


@given(header=st.text(max_size=60), size=st.integers(0, 10**6))
@example(header="bytes=0-", size=0)
@example(header="bytes=\x00-1", size=10)
def test_property_parse_range_never_fails_otherwise(header: str, size: int) -> None:
    try:
        parsed = parse_range(header, size)
    except (InvalidRange, RangeNotSatisfiable):
        return
    if parsed is not None:
        assert 0 <= parsed[0] <= parsed[1] < size


# --------------------------------------------------------------------------- durations


async def test_wav_durations_from_the_header(recordings: Path, sessions: Sessions) -> None:
    write_wav(recordings / "1.1.wav", 1.5)
    write_wav(recordings / "2.2.wav", 2.0, rate=16000, width=1)
    (recordings / "3.3.mp3").write_bytes(b"ID3" + b"\x00" * 100)
    (recordings / "4.4.wav").write_bytes(b"not a RIFF file at all")
    (recordings / "5.5.wav").write_bytes(b"")
    await index_recordings(sessions, recordings, now=NOW)
    found = await rows(sessions)
    assert found["1.1"].duration_seconds == 1.5
    assert found["2.2"].duration_seconds == 2.0
    assert found["3.3"].duration_seconds is None
    assert found["4.4"].duration_seconds is None
    assert found["5.5"].duration_seconds is None and found["5.5"].size_bytes == 0


async def test_a_wav_still_being_written_counts_the_audio_present(
    recordings: Path, sessions: Sessions
) -> None:
    open_header = write_wav(recordings / "1.1.wav", 3.0)
    data = bytearray(open_header.read_bytes())
    data[4:8] = struct.pack("<I", 0)  # RIFF size and data size not yet filled in
    data[40:44] = struct.pack("<I", 0)
    open_header.write_bytes(bytes(data))
    truncated = write_wav(recordings / "2.2.wav", 3.0)
    truncated.write_bytes(truncated.read_bytes()[: 44 + 8000 * 2])  # header says 3 s, 1 s there
    await index_recordings(sessions, recordings, now=NOW)
    found = await rows(sessions)
    assert found["1.1"].duration_seconds == 3.0
    assert found["2.2"].duration_seconds == 1.0


# --------------------------------------------------------------------------- the index


async def test_index_adds_rows_with_size_hash_duration_and_arrival(
    recordings: Path, sessions: Sessions
) -> None:
    arrived = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    wav = write_wav(recordings / f"{epoch(arrived)}.7.wav", 2.5)
    (recordings / "notes.txt").write_text("not a recording")
    (recordings / ".1700000000.1.wav").write_bytes(b"hidden")
    (recordings / "1700000000.1.wav.part").write_bytes(b"temporary")
    (recordings / "subdir").mkdir()
    write_wav(recordings / "subdir" / "1700000000.2.wav", 1.0)  # not entered

    result = await index_recordings(sessions, recordings, now=NOW)

    call_id = f"{epoch(arrived)}.7"
    assert result.added == [call_id] and result.ignored == 4 and not result.errors
    row = (await rows(sessions))[call_id]
    assert row.path == f"{call_id}.wav"
    assert row.size_bytes == wav.stat().st_size
    assert row.sha256 == hashlib.sha256(wav.read_bytes()).hexdigest()
    assert row.duration_seconds == 2.5
    assert row.created_at == arrived  # from the UNIQUEID
    assert row.deleted_at is None


async def test_created_at_prefers_the_calls_arrival_then_uniqueid_then_mtime(
    recordings: Path, sessions: Sessions
) -> None:
    arrived = datetime(2026, 3, 3, 3, 3, 3, tzinfo=UTC)
    async with sessions() as session, session.begin():
        session.add(Call(id="pbx1-1700000000.5", arrived_at=arrived))
    write_wav(recordings / "pbx1-1700000000.5.wav", 0.1)  # known call
    write_wav(recordings / "pbx1-1700000000.6.wav", 0.1)  # UNIQUEID with a system name
    mtime = datetime(2026, 4, 4, 4, 4, 4, tzinfo=UTC)
    for name in ("transfer-abc.wav", "99.1.wav", "4102444800.1.wav"):
        write_wav(recordings / name, 0.1)  # no UNIQUEID; too old to be one; in the future
        set_mtime(recordings / name, mtime)

    await index_recordings(sessions, recordings, now=NOW)

    found = await rows(sessions)
    assert found["pbx1-1700000000.5"].created_at == arrived
    assert found["pbx1-1700000000.6"].created_at == datetime.fromtimestamp(1700000000, UTC)
    assert found["transfer-abc"].created_at == mtime
    assert found["99.1"].created_at == mtime
    assert found["4102444800.1"].created_at == mtime


async def test_index_is_idempotent(recordings: Path, sessions: Sessions) -> None:
    for n in range(3):
        write_wav(recordings / f"1700000000.{n}.wav", 0.5 + n)

    async def snapshot() -> dict[str, tuple[object, ...]]:
        found = await rows(sessions)
        return {k: (r.path, r.size_bytes, r.sha256, r.created_at) for k, r in found.items()}

    first = await index_recordings(sessions, recordings, now=NOW)
    before = await snapshot()
    second = await index_recordings(sessions, recordings, now=NOW)
    third = await index_recordings(sessions, recordings, now=NOW, full=True)
    after = await snapshot()
    assert len(first.added) == 3
    assert (second.added, second.updated, second.unchanged) == ([], [], 3)
    assert (third.added, third.updated, third.unchanged) == ([], [], 3)
    assert before == after


async def test_a_changed_file_updates_its_row_and_keeps_created_at(
    recordings: Path, sessions: Sessions
) -> None:
    wav = write_wav(recordings / "1700000000.1.wav", 1.0)
    await index_recordings(sessions, recordings, now=NOW)
    created = (await rows(sessions))["1700000000.1"].created_at
    write_wav(wav, 4.0)  # grew: MixMonitor was still writing at the first index
    result = await index_recordings(sessions, recordings, now=NOW)
    row = (await rows(sessions))["1700000000.1"]
    assert result.updated == ["1700000000.1"]
    assert row.duration_seconds == 4.0 and row.size_bytes == wav.stat().st_size
    assert row.sha256 == hashlib.sha256(wav.read_bytes()).hexdigest()
    assert row.created_at == created


async def test_a_same_size_change_is_found_when_recent_or_with_full(
    recordings: Path, sessions: Sessions
) -> None:
    recent, old = recordings / "1700000000.1.wav", recordings / "1700000000.2.wav"
    for path in (recent, old):
        write_wav(path, 1.0)
    set_mtime(recent, NOW - timedelta(hours=1))
    set_mtime(old, NOW - timedelta(days=10))
    await index_recordings(sessions, recordings, now=NOW)
    for path in (recent, old):  # same size, other bytes (e.g. a header rewritten on close)
        data = bytearray(path.read_bytes())
        data[-1] = 0x7F
        path.write_bytes(bytes(data))
    set_mtime(recent, NOW - timedelta(minutes=30))
    set_mtime(old, NOW - timedelta(days=10))

    quick = await index_recordings(sessions, recordings, now=NOW)
    assert quick.updated == ["1700000000.1"] and quick.unchanged == 1
    full = await index_recordings(sessions, recordings, now=NOW, full=True)
    assert full.updated == ["1700000000.2"]
    found = await rows(sessions)
    for path in (recent, old):
        assert found[path.stem].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


async def test_missing_files_are_reported_and_rows_kept(
    recordings: Path, sessions: Sessions
) -> None:
    write_wav(recordings / "1700000000.1.wav", 1.0)
    write_wav(recordings / "1700000000.2.wav", 1.0)
    await index_recordings(sessions, recordings, now=NOW)
    (recordings / "1700000000.1.wav").unlink()
    result = await index_recordings(sessions, recordings, now=NOW)
    assert result.missing == ["1700000000.1"] and result.unchanged == 1
    row = (await rows(sessions))["1700000000.1"]
    assert row.deleted_at is None and row.size_bytes is not None


async def test_unsafe_files_are_not_indexed(
    recordings: Path, outside: Path, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    (recordings / "1700000000.1.wav").symlink_to(outside / "secret.wav")
    (recordings / "1700000000.2.wav").mkdir()
    write_wav(recordings / "1700000000.3.wav", 1.0)
    with caplog.at_level(logging.WARNING):
        result = await index_recordings(sessions, recordings, now=NOW)
    assert result.added == ["1700000000.3"]
    assert [error.split(":")[0] for error in result.errors] == [
        "1700000000.1.wav",
        "1700000000.2.wav",
    ]
    assert set(await rows(sessions)) == {"1700000000.3"}
    assert "cannot index 1700000000.1.wav" in caplog.text


async def test_several_formats_of_one_call_index_the_wav(
    recordings: Path, sessions: Sessions
) -> None:
    (recordings / "1700000000.1.mp3").write_bytes(b"ID3")
    write_wav(recordings / "1700000000.1.wav", 1.0)
    await index_recordings(sessions, recordings, now=NOW)
    assert (await rows(sessions))["1700000000.1"].path == "1700000000.1.wav"


async def test_many_files_in_batches(recordings: Path, sessions: Sessions) -> None:
    for n in range(450):
        (recordings / f"1700000000.{n}.gsm").write_bytes(n.to_bytes(2, "big"))
    result = await index_recordings(sessions, recordings, now=NOW)
    assert len(result.added) == 450
    again = await index_recordings(sessions, recordings, now=NOW)
    assert again.unchanged == 450 and not again.added and not again.updated


async def test_index_of_a_missing_directory(tmp_path: Path, sessions: Sessions) -> None:
    with pytest.raises(RecordingsDirectoryMissing):
        await index_recordings(sessions, tmp_path / "nope", now=NOW)


async def test_index_one_when_a_call_ends(recordings: Path, sessions: Sessions) -> None:
    assert await index_one(sessions, recordings, "1700000000.1", now=NOW) is None
    wav = write_wav(recordings / "1700000000.1.wav", 1.0)
    row = await index_one(sessions, recordings, "1700000000.1", now=NOW)
    assert row is not None and row.duration_seconds == 1.0 and row.path == wav.name
    write_wav(wav, 2.0)
    set_mtime(wav, NOW - timedelta(days=30))  # index_one always re-reads
    row = await index_one(sessions, recordings, "1700000000.1", now=NOW)
    assert row is not None and row.duration_seconds == 2.0
    with pytest.raises(InvalidCallId):
        await index_one(sessions, recordings, "../1700000000.1", now=NOW)


async def test_index_one_refuses_an_unsafe_file(
    recordings: Path, outside: Path, sessions: Sessions
) -> None:
    (recordings / "1700000000.1.wav").symlink_to(outside / "secret.wav")
    with pytest.raises(RecordingError, match="outside the recordings directory"):
        await index_one(sessions, recordings, "1700000000.1", now=NOW)
    assert await get_recording(sessions, "1700000000.1") is None


async def test_find_recording(recordings: Path, sessions: Sessions) -> None:
    write_wav(recordings / "1700000000.1.wav", 1.0)
    write_wav(recordings / "1700000000.2.wav", 1.0)
    await index_recordings(sessions, recordings, now=NOW)
    write_wav(recordings / "1700000000.3.wav", 1.0)  # not indexed yet: still found

    path, size, row = await find_recording(sessions, recordings, "1700000000.1")
    assert row is not None and path.name == row.path and size == row.size_bytes
    path, _, row = await find_recording(sessions, recordings, "1700000000.3")
    assert row is None and path.name == "1700000000.3.wav"

    (recordings / "1700000000.2.wav").unlink()
    with pytest.raises(RecordingFileMissing, match="indexed but the file is missing"):
        await find_recording(sessions, recordings, "1700000000.2")
    with pytest.raises(RecordingNotFound, match=r"^no recording for call 1700000000\.9$"):
        await find_recording(sessions, recordings, "1700000000.9")
    with pytest.raises(InvalidCallId):
        await find_recording(sessions, recordings, "../../etc/passwd")


async def test_find_recording_refuses_a_tampered_index_path(
    recordings: Path, outside: Path, sessions: Sessions
) -> None:
    write_wav(recordings / "1700000000.1.wav", 1.0)
    await index_recordings(sessions, recordings, now=NOW)
    async with sessions() as session, session.begin():
        await session.execute(update(Recording).values(path="../outside/secret.wav"))
    with pytest.raises(UnsafeRecordingPath):
        await find_recording(sessions, recordings, "1700000000.1")


# --------------------------------------------------------------------------- retention


async def indexed_at(
    sessions: Sessions, recordings: Path, name: str, created: datetime, seconds: float = 1.0
) -> Path:
    """A recording file indexed with the given ``created_at``."""
    path = write_wav(recordings / name, seconds)
    await index_one(sessions, recordings, path.name.rsplit(".", 1)[0], now=NOW)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Recording)
            .where(Recording.call_id == path.name.rsplit(".", 1)[0])
            .values(created_at=created)
        )
    return path


async def test_retention_deletes_old_recordings_and_marks_rows(
    recordings: Path, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    cutoff = NOW - timedelta(days=730)
    old = await indexed_at(sessions, recordings, "old.1.wav", cutoff - timedelta(seconds=1))
    edge = await indexed_at(sessions, recordings, "edge.1.wav", cutoff)
    young = await indexed_at(sessions, recordings, "young.1.wav", NOW - timedelta(days=1))
    gone = await indexed_at(sessions, recordings, "gone.1.wav", cutoff - timedelta(days=9))
    gone.unlink()

    with caplog.at_level(logging.INFO, logger="acd.storage.recordings"):
        result = await apply_retention(sessions, recordings, 730, NOW)

    assert result.cutoff == cutoff and not result.problems
    assert {(e.call_id, e.files) for e in result.expired} == {
        ("old.1", ("old.1.wav",)),
        ("gone.1", ()),
    }
    assert not old.exists() and edge.exists() and young.exists()
    found = await rows(sessions)
    assert found["old.1"].deleted_at == NOW and found["gone.1"].deleted_at == NOW
    assert found["edge.1"].deleted_at is None and found["young.1"].deleted_at is None
    assert f"retention: deleted {recordings.resolve() / 'old.1.wav'} (call old.1" in caplog.text

    again = await apply_retention(sessions, recordings, 730, NOW + timedelta(seconds=1))
    assert [e.call_id for e in again.expired] == ["edge.1"]
    assert not edge.exists()


async def test_retention_dry_run_changes_nothing(recordings: Path, sessions: Sessions) -> None:
    old = await indexed_at(sessions, recordings, "old.1.wav", NOW - timedelta(days=800))
    unindexed = write_wav(recordings / f"{epoch(NOW - timedelta(days=900))}.3.wav", 1.0)
    before = {k: (r.deleted_at, r.created_at) for k, r in (await rows(sessions)).items()}

    result = await apply_retention(sessions, recordings, 730, NOW, dry_run=True)

    assert result.dry_run and result.files_deleted == 2
    assert {e.call_id for e in result.expired} == {"old.1", unindexed.stem}
    assert old.exists() and unindexed.exists()
    assert {k: (r.deleted_at, r.created_at) for k, r in (await rows(sessions)).items()} == before


async def test_retention_deletes_unindexed_old_files_and_records_them(
    recordings: Path, sessions: Sessions
) -> None:
    old_arrival = NOW - timedelta(days=800)
    by_uniqueid = write_wav(recordings / f"{epoch(old_arrival)}.1.wav", 1.0)
    by_mtime = write_wav(recordings / "manual-upload.wav", 1.0)
    set_mtime(by_mtime, NOW - timedelta(days=731))
    young = write_wav(recordings / "fresh.wav", 1.0)
    set_mtime(young, NOW - timedelta(days=700))
    async with sessions() as session, session.begin():
        session.add(Call(id="known.1", arrived_at=NOW - timedelta(days=1000)))
    by_call = write_wav(recordings / "known.1.wav", 1.0)
    set_mtime(by_call, NOW)

    result = await apply_retention(sessions, recordings, 730, NOW)

    assert {e.call_id for e in result.expired} == {by_uniqueid.stem, "manual-upload", "known.1"}
    assert not any(e.indexed for e in result.expired)
    assert not by_uniqueid.exists() and not by_mtime.exists() and not by_call.exists()
    assert young.exists()
    found = await rows(sessions)
    assert found[by_uniqueid.stem].created_at == datetime.fromtimestamp(epoch(old_arrival), UTC)
    assert found[by_uniqueid.stem].deleted_at == NOW
    assert found["manual-upload"].path == "manual-upload.wav"
    assert "fresh" not in found


async def test_a_restored_old_file_is_deleted_again_and_index_revives_young_ones(
    recordings: Path, sessions: Sessions
) -> None:
    old = await indexed_at(sessions, recordings, "old.1.wav", NOW - timedelta(days=800))
    await apply_retention(sessions, recordings, 730, NOW)
    write_wav(old, 1.0)  # restored from a backup
    result = await apply_retention(sessions, recordings, 730, NOW + timedelta(days=1))
    assert [(e.call_id, e.files) for e in result.expired] == [("old.1", ("old.1.wav",))]
    assert not old.exists()
    assert (await rows(sessions))["old.1"].deleted_at == NOW  # when it was first deleted

    # A row marked deleted whose file comes back is live again for the index.
    write_wav(old, 1.0)
    indexed = await index_recordings(sessions, recordings, now=NOW)
    assert indexed.updated == ["old.1"]
    assert (await rows(sessions))["old.1"].deleted_at is None
    old.unlink()  # gone again: retention marks the row; fetching says so
    await apply_retention(sessions, recordings, 730, NOW)
    with pytest.raises(RecordingDeleted, match="deleted by retention at 2026-06-01T12:00:00"):
        await find_recording(sessions, recordings, "old.1")


async def test_retention_never_deletes_outside_the_directory(
    recordings: Path, outside: Path, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    secret = outside / "secret.wav"
    long_ago = NOW - timedelta(days=2000)
    # a symlink to the outside: only the link goes
    (recordings / f"{epoch(long_ago)}.1.wav").symlink_to(secret)
    # tampered index rows pointing outside, directly and through a symlinked directory
    (recordings / "sub").symlink_to(outside)
    async with sessions() as session, session.begin():
        for call_id, path in [
            ("dotdot.1", "../outside/secret.wav"),
            ("absolute.1", str(secret)),
            ("viasub.1", "sub/secret.wav"),
            ("backslash.1", "..\\outside\\secret.wav"),
        ]:
            session.add(Recording(call_id=call_id, path=path, created_at=long_ago))

    with caplog.at_level(logging.INFO, logger="acd.storage.recordings"):
        result = await apply_retention(sessions, recordings, 730, NOW)

    assert secret.read_bytes() == b"secret"
    assert (recordings / "sub").is_symlink()
    assert not os.path.lexists(recordings / f"{epoch(long_ago)}.1.wav")
    assert [e.call_id for e in result.expired] == [f"{epoch(long_ago)}.1"]
    assert len(result.problems) == 4
    found = await rows(sessions)
    for call_id in ("dotdot.1", "absolute.1", "viasub.1", "backslash.1"):
        assert found[call_id].deleted_at is None  # not marked: retried, and visible
    assert "removing the link only" in caplog.text
    assert "retention: not deleted" in caplog.text


async def test_a_failed_deletion_leaves_the_row_unmarked(
    recordings: Path, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await indexed_at(sessions, recordings, "old.1.wav", NOW - timedelta(days=800))

    def refuse(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "unlink", refuse)
    result = await apply_retention(sessions, recordings, 730, NOW)
    monkeypatch.undo()
    assert result.problems == ["old.1.wav: Permission denied"] and not result.expired
    assert old.exists() and (await rows(sessions))["old.1"].deleted_at is None


async def test_retention_arguments(recordings: Path, sessions: Sessions) -> None:
    for days in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="at least 1"):
            await apply_retention(sessions, recordings, days, NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aware"):
        await apply_retention(sessions, recordings, 1, datetime(2026, 1, 1))
    with pytest.raises(RecordingsDirectoryMissing):
        await apply_retention(sessions, recordings / "nope", 1, NOW)
