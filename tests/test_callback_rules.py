"""The pure rules of acd.callbacks: retries, deadlines, requirements, messages, e-mail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.callbacks import (
    after_failure,
    cancellation_email,
    deadline_state,
    newest_message,
    parse_requirements,
)
from acd.config import CallbacksSettings, ConfigError, Settings, load_settings
from acd.core.calls import SkillRequirement


@pytest.mark.parametrize(
    ("attempts", "expected"), [(1, "retry"), (2, "retry"), (3, "cancelled"), (4, "cancelled")]
)
def test_the_third_unanswered_attempt_cancels(attempts: int, expected: str) -> None:
    assert after_failure(attempts, 3) == expected


def test_deadline_states() -> None:
    due = 100_000.0
    assert deadline_state(due - 7201, due, 7200) == "ok"
    assert deadline_state(due - 7200, due, 7200) == "near"
    assert deadline_state(due, due, 7200) == "near"
    assert deadline_state(due + 0.1, due, 7200) == "overdue"
    assert deadline_state(due - 10, due, 0) == "ok"


def test_parse_requirements() -> None:
    assert parse_requirements("operator:3, billing ,:2,") == (
        SkillRequirement("operator", 3),
        SkillRequirement("billing", 1),
    )
    assert parse_requirements("") == ()


def test_newest_message_or_the_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "flow" / "101" / "INBOX"
    assert newest_message(tmp_path, "101@flow") == inbox
    inbox.mkdir(parents=True)
    for name in ("msg0000.wav", "msg0001.wav", "msg0001.txt"):
        (inbox / name).write_bytes(b"")
    assert newest_message(tmp_path, "101@flow") == inbox / "msg0001.wav"
    assert newest_message(tmp_path, "7") == tmp_path / "default" / "7" / "INBOX"


def test_cancellation_email() -> None:
    message = cancellation_email(
        "acd@example.com",
        "client@example.com",
        "+79160000000",
        3,
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert message["To"] == "client@example.com" and message["From"] == "acd@example.com"
    body = message.get_content()
    assert "+79160000000" in body and "2026-12-01 00:00 UTC" in body


def test_callbacks_settings(tmp_path: Path) -> None:
    defaults = CallbacksSettings()
    assert (defaults.retry_minutes, defaults.max_attempts) == (30.0, 3)
    assert defaults.smtp is None
    path = tmp_path / "acd.yaml"
    path.write_text(
        "callbacks:\n  retry_minutes: 0.01\n  max_attempts: 2\n"
        "  smtp: {host: mail, port: 587, from: acd@example.com, user: u, password: p,"
        " starttls: true}\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.callbacks.retry_minutes == 0.01
    smtp = settings.callbacks.smtp
    assert smtp is not None and smtp.sender == "acd@example.com" and smtp.starttls
    assert settings.masked_dict()["callbacks"]["smtp"]["password"] == "********"
    path.write_text("callbacks:\n  max_attempts: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(path)
    assert isinstance(Settings().callbacks, CallbacksSettings)
