"""``acd recording index|get|info|retention``: output, exit status, and no tracebacks.

Most tests call the real ``acd.cli.main`` in-process (fast); a few run ``python -m acd``
to check what a shell user sees. The database is SQLite here; both backends are covered
by ``tests/storage/test_recordings.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from acd_cli import run_acd as run_cli
from sqlalchemy import select, update

from acd import cli
from acd.storage.db import create_schema, make_engine, make_sessions
from acd.storage.models import Recording

ROOT = Path(__file__).resolve().parents[1]
REGISTERED = cli.COMMAND_MODULES  # before the fixture below narrows it


def run_acd(*argv: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``acd recording ARGV`` as a process; stdout as bytes (a recording can be piped)."""
    return run_cli("recording", *argv, cwd=cwd, text=False, timeout=60)


def write_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x00" * round(seconds * 8000))
    return path


class Site:
    """A configuration file, its SQLite database (schema created) and recordings directory."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.recordings = base / "recordings"
        self.recordings.mkdir()
        self.db = base / "acd.sqlite3"
        self.url = f"sqlite+aiosqlite:///{self.db}"
        self.config = base / "acd.yaml"
        self.config.write_text(
            f"database:\n  url: {self.url}\nrecordings:\n  directory: {self.recordings}\n"
        )
        asyncio.run(self._run(create_schema))

    async def _run(self, action):  # type: ignore[no-untyped-def]
        engine = make_engine(self.url)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    def rows(self) -> dict[str, Recording]:
        async def read(engine):  # type: ignore[no-untyped-def]
            async with make_sessions(engine)() as session:
                return (await session.execute(select(Recording))).scalars().all()

        return {row.call_id: row for row in asyncio.run(self._run(read))}

    def set_created(self, call_id: str, when: datetime) -> None:
        async def write(engine):  # type: ignore[no-untyped-def]
            async with make_sessions(engine)() as session, session.begin():
                await session.execute(
                    update(Recording).where(Recording.call_id == call_id).values(created_at=when)
                )

        asyncio.run(self._run(write))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    for name in list(os.environ):
        if name.upper().startswith("ACD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return Site(tmp_path)


@pytest.fixture(autouse=True)
def only_this_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``acd.cli.main``, with only this command registered: sibling sub-command
    modules are written concurrently and must not break these tests."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("acd.commands.recording",))


def acd(*argv: str) -> int:
    """``acd recording ...`` in-process; argparse's own exits become their status."""
    try:
        return cli.main(["recording", *argv])
    except SystemExit as exit_:
        return int(exit_.code or 0)


def test_recording_is_a_registered_command() -> None:
    assert "acd.commands.recording" in REGISTERED


# --------------------------------------------------------------------------- index / info


def test_index_then_info(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    wav = write_wav(site.recordings / "1700000000.12.wav", 1.5)
    (site.recordings / "readme.txt").write_text("x")

    assert acd("index", "--config", str(site.config)) == 0
    out = capsys.readouterr().out
    assert "1 new, 0 updated, 0 unchanged" in out and "1 other entry ignored" in out

    assert acd("index", "-c", str(site.config), "--full") == 0
    assert "0 new, 0 updated, 1 unchanged" in capsys.readouterr().out

    assert acd("info", "1700000000.12", "-c", str(site.config)) == 0
    out = capsys.readouterr().out
    assert "status:           present" in out
    assert "duration_seconds: 1.5" in out
    assert f"sha256:           {hashlib.sha256(wav.read_bytes()).hexdigest()}" in out
    assert "created_at:       2023-11-14T22:13:20+00:00" in out

    assert acd("info", "1700000000.12", "-c", str(site.config), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["size_bytes"] == wav.stat().st_size
    assert data["file"] == str(wav) and data["deleted_at"] is None


def test_info_of_unknown_unindexed_and_missing_recordings(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(site.config)
    assert acd("info", "1700000000.1", "-c", config) == 1
    assert capsys.readouterr().err == "acd recording: no recording for call 1700000000.1\n"

    write_wav(site.recordings / "1700000000.2.wav", 1.0)
    assert acd("info", "1700000000.2", "-c", config) == 1
    assert "not indexed yet" in capsys.readouterr().err

    acd("index", "-c", config)
    (site.recordings / "1700000000.2.wav").unlink()
    capsys.readouterr()
    assert acd("info", "1700000000.2", "-c", config) == 1
    assert "indexed but the file is missing" in capsys.readouterr().out

    assert acd("index", "-c", config) == 0
    captured = capsys.readouterr()
    assert "1 indexed recording without a file" in captured.out
    assert "1700000000.2" in captured.err


def test_index_reports_files_it_cannot_index(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secret.wav").write_bytes(b"secret")
    (site.recordings / "1700000000.1.wav").symlink_to(tmp_path / "secret.wav")
    write_wav(site.recordings / "1700000000.2.wav", 1.0)
    assert acd("index", "-c", str(site.config)) == 1
    captured = capsys.readouterr()
    assert "1 new" in captured.out
    assert "outside the recordings directory" in captured.err
    assert "1 file not indexed" in captured.err
    assert set(site.rows()) == {"1700000000.2"}


# --------------------------------------------------------------------------- get


def test_get_writes_the_file(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    wav = write_wav(site.recordings / "1700000000.12.wav", 0.5)
    acd("index", "-c", str(site.config))
    capsys.readouterr()

    assert acd("get", "1700000000.12", "-c", str(site.config)) == 0  # here, under its name
    assert (site.base / "1700000000.12.wav").read_bytes() == wav.read_bytes()
    assert "wrote 1700000000.12.wav" in capsys.readouterr().out

    assert acd("get", "1700000000.12", "-c", str(site.config)) == 1  # no silent overwrite
    assert "exists; use --force" in capsys.readouterr().err
    assert acd("get", "1700000000.12", "-c", str(site.config), "--force") == 0

    out = site.base / "copy.wav"
    assert acd("get", "1700000000.12", "-c", str(site.config), "-o", str(out)) == 0
    assert out.read_bytes() == wav.read_bytes()

    (site.base / "into").mkdir()
    assert acd("get", "1700000000.12", "-c", str(site.config), "-o", "into") == 0
    assert (site.base / "into" / "1700000000.12.wav").read_bytes() == wav.read_bytes()
    assert not [p for p in site.base.rglob(".*") if p.is_file()]  # no temporary left

    assert acd("get", "1700000000.12", "-c", str(site.config), "-o", "nodir/x.wav") == 1
    assert "cannot write nodir/x.wav" in capsys.readouterr().err


def test_get_to_stdout(site: Site, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    wav = write_wav(site.recordings / "1700000000.12.wav", 0.5)  # not indexed: still served
    assert acd("get", "1700000000.12", "-c", str(site.config), "-o", "-") == 0
    assert capsysbinary.readouterr().out == wav.read_bytes()


def test_get_missing_recordings(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(site.config)
    assert acd("get", "1700000000.9", "-c", config) == 1
    assert capsys.readouterr().err == "acd recording: no recording for call 1700000000.9\n"

    write_wav(site.recordings / "1700000000.1.wav", 0.5)
    acd("index", "-c", config)
    (site.recordings / "1700000000.1.wav").unlink()
    capsys.readouterr()
    assert acd("get", "1700000000.1", "-c", config) == 1
    assert capsys.readouterr().err == (
        "acd recording: recording of call 1700000000.1 is indexed but the file is missing: "
        f"{site.recordings / '1700000000.1.wav'}\n"
    )
    assert not (site.base / "1700000000.1.wav").exists()


def test_get_refuses_a_symlink_out_of_the_directory(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secret.wav").write_bytes(b"secret")
    (site.recordings / "1700000000.1.wav").symlink_to(tmp_path / "secret.wav")
    assert acd("get", "1700000000.1", "-c", str(site.config), "-o", "-") == 1
    captured = capsys.readouterr()
    assert "outside the recordings directory" in captured.err and "secret" not in captured.out


@pytest.mark.parametrize(
    "call_id",
    ["../etc/passwd", "/etc/passwd", "%2e%2e%2fetc", "..\\..\\win.ini", ".hidden", "a" * 65, ""],
)
def test_hostile_call_ids_are_bad_input(
    site: Site, call_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for action in ("get", "info"):
        assert acd(action, call_id, "-c", str(site.config)) == 2
        err = capsys.readouterr().err
        assert "invalid call ID" in err and "Traceback" not in err


# --------------------------------------------------------------------------- retention


def test_retention_dry_run_then_real(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(site.config)
    old = write_wav(site.recordings / "old.1.wav", 0.5)
    young = write_wav(site.recordings / "young.1.wav", 0.5)
    acd("index", "-c", config)
    site.set_created("old.1", datetime.now(UTC) - timedelta(days=40))
    site.set_created("young.1", datetime.now(UTC) - timedelta(days=20))
    capsys.readouterr()

    assert acd("retention", "-c", config, "--days", "30", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "would delete old.1.wav (call old.1, recorded " in out
    assert "1 recording expired, 1 file to delete" in out
    assert "retention 30 days" in out and "dry run: nothing changed" in out
    assert old.exists() and site.rows()["old.1"].deleted_at is None

    assert acd("retention", "-c", config, "--days", "30") == 0
    out = capsys.readouterr().out
    assert "deleted old.1.wav (call old.1" in out
    assert "1 recording expired, 1 file deleted" in out
    assert not old.exists() and young.exists()
    assert site.rows()["old.1"].deleted_at is not None

    assert acd("retention", "-c", config) == 0  # 730 days from the configuration
    assert "retention 730 days" in capsys.readouterr().out

    assert acd("get", "old.1", "-c", config) == 1
    assert "deleted by retention" in capsys.readouterr().err


@pytest.mark.parametrize("days", ["0", "-3", "abc", "1.5", ""])
def test_retention_days_must_be_a_positive_whole_number(
    site: Site, days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert acd("retention", "-c", str(site.config), "--days", days) == 2
    assert "argument --days" in capsys.readouterr().err


# --------------------------------------------------------------------------- bad setups


def test_without_an_action_usage_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert acd() == 2
    assert "index" in capsys.readouterr().err


def test_a_bad_configuration_is_bad_input(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.config.write_text("recordings:\n  retention_days: 0\n")
    assert acd("index", "-c", str(site.config)) == 2
    assert "recordings.retention_days: must be at least 1" in capsys.readouterr().err
    assert acd("index", "-c", str(site.base / "nope.yaml")) == 2
    assert "file not found" in capsys.readouterr().err


def test_a_database_without_the_schema(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.db.unlink()
    assert acd("index", "-c", str(site.config)) == 1
    err = capsys.readouterr().err
    assert "database error" in err and "run the database migrations first" in err


def test_a_missing_recordings_directory(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.recordings.rmdir()
    for argv in (["index"], ["retention"], ["get", "1.1"]):
        assert acd(*argv, "-c", str(site.config)) == 1
        assert "does not exist" in capsys.readouterr().err


def test_a_shell_user_sees_messages_not_tracebacks(site: Site) -> None:
    write_wav(site.recordings / "1700000000.1.wav", 0.5)
    config = str(site.config)

    bad = run_acd("get", "../../etc/passwd", "-c", config, cwd=site.base)
    assert bad.returncode == 2 and b"invalid call ID" in bad.stderr
    piped = run_acd("get", "1700000000.1", "-c", config, "-o", "-", cwd=site.base)
    assert piped.returncode == 0 and piped.stderr == b""
    assert piped.stdout == (site.recordings / "1700000000.1.wav").read_bytes()
    assert b"Traceback" not in bad.stderr
