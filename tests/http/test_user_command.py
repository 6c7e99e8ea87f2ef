"""``acd user add|passwd|list``."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from acd import cli
from acd.commands.user import read_password
from acd.http.auth import verify_password
from acd.storage.db import create_schema, make_engine, make_sessions
from acd.storage.models import User


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _database(tmp_path: Path) -> tuple[Path, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'users.sqlite3'}"

    async def create() -> None:
        engine = make_engine(url)
        await create_schema(engine)
        await engine.dispose()

    asyncio.run(create())
    config = tmp_path / "acd.yaml"
    config.write_text(f"database:\n  url: {url}\n", encoding="utf-8")
    return config, url


def _users(url: str) -> list[User]:
    async def read() -> list[User]:
        engine = make_engine(url)
        try:
            async with make_sessions(engine)() as session:
                return list((await session.execute(select(User))).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _run(monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(["user", *argv])


def test_user_add_passwd_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACD_CONFIG", raising=False)
    config, url = _database(tmp_path)
    code = _run(
        monkeypatch, "s3cret-password\n", "add", "olga", "--role", "supervisor", "-c", str(config)
    )
    assert code == 0
    assert "user olga added (role supervisor)" in capsys.readouterr().out
    code = _run(
        monkeypatch,
        "agent-password\n",
        "add",
        "ivan",
        "--role",
        "agent",
        "--agent-id",
        "a1",
        "-c",
        str(config),
    )
    assert code == 0
    users = {u.username: u for u in _users(url)}
    assert users["olga"].role == "supervisor" and users["olga"].agent_id is None
    assert users["ivan"].agent_id == "a1"
    assert users["olga"].password_hash.startswith("$argon2id$")
    assert verify_password(users["olga"].password_hash, "s3cret-password")
    assert _run(monkeypatch, "x-password\n", "add", "olga", "--role", "qa", "-c", str(config)) == 1
    assert "exists" in capsys.readouterr().err
    assert _run(monkeypatch, "new-password\n", "passwd", "olga", "-c", str(config)) == 0
    assert verify_password(
        {u.username: u for u in _users(url)}["olga"].password_hash, "new-password"
    )
    assert _run(monkeypatch, "new-password\n", "passwd", "nobody", "-c", str(config)) == 1
    capsys.readouterr()
    assert _run(monkeypatch, "", "list", "-c", str(config)) == 0
    out = capsys.readouterr().out
    assert "ivan\tagent agent=a1" in out and "olga\tsupervisor" in out


def test_user_add_refuses_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACD_CONFIG", raising=False)
    config, url = _database(tmp_path)
    assert _run(monkeypatch, "short\n", "add", "olga", "--role", "qa", "-c", str(config)) == 2
    assert "at least 8" in capsys.readouterr().err
    assert (
        _run(monkeypatch, "long-enough\n", "add", "ivan", "--role", "agent", "-c", str(config)) == 2
    )
    assert (
        _run(
            monkeypatch,
            "long-enough\n",
            "add",
            "olga",
            "--role",
            "qa",
            "--agent-id",
            "a1",
            "-c",
            str(config),
        )
        == 2
    )
    with pytest.raises(SystemExit) as exit_:
        _run(monkeypatch, "long-enough\n", "add", "olga", "--role", "boss", "-c", str(config))
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        _run(monkeypatch, "long-enough\n", "add", "bad name", "--role", "qa", "-c", str(config))
    assert _users(url) == []


def test_user_add_without_a_schema_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACD_CONFIG", raising=False)
    config = tmp_path / "acd.yaml"
    config.write_text(
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}\n", encoding="utf-8"
    )
    assert _run(monkeypatch, "long-enough\n", "add", "olga", "--role", "qa", "-c", str(config)) == 1
    assert "acd db upgrade" in capsys.readouterr().err


def test_password_prompt_asks_twice() -> None:
    answers = iter(["password-one", "password-one"])
    assert read_password(_Tty(), lambda _: next(answers)) == "password-one"
    answers = iter(["password-one", "password-two"])
    with pytest.raises(Exception, match="differ"):
        read_password(_Tty(), lambda _: next(answers))
    assert read_password(io.StringIO("with spaces  \r\n")) == "with spaces  "
