"""Agents' presence across restarts: what is saved, what comes back, when the file is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd.core.agents import AgentState
from acd.presence import PresenceStore


def test_states_come_back_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "presence.json"
    store = PresenceStore(path)
    store.record("a1", AgentState.AVAILABLE, None)
    store.record("a2", AgentState.BREAK, "lunch")
    store.record("a3", AgentState.LOGGED_OUT, None)
    store.record("a4", AgentState.ON_CALL, None)
    restored = PresenceStore(path).load()
    assert restored == {
        "a1": (AgentState.AVAILABLE, None),
        "a2": (AgentState.BREAK, "lunch"),
        "a3": (AgentState.LOGGED_OUT, None),
        "a4": (AgentState.AVAILABLE, None),  # the call itself is rebuilt from Asterisk
    }


def test_the_call_cycle_does_not_rewrite_the_file(tmp_path: Path) -> None:
    path = tmp_path / "presence.json"
    store = PresenceStore(path)
    store.record("a1", AgentState.AVAILABLE, None)
    inode = path.stat().st_ino  # every write replaces the file: a new inode
    for state in (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP):
        store.record("a1", state, None)
    store.record("a1", AgentState.AVAILABLE, None)
    assert path.stat().st_ino == inode
    store.record("a1", AgentState.BREAK, "1")
    assert path.stat().st_ino != inode
    assert json.loads(path.read_text())["a1"] == {"state": "break", "reason": "1"}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"a1": {"state": "dancing"}}'])
def test_an_unreadable_file_means_nobody_is_restored(tmp_path: Path, content: str) -> None:
    path = tmp_path / "presence.json"
    path.write_text(content, encoding="utf-8")
    assert PresenceStore(path).load() == {}


def test_a_file_that_cannot_be_written_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = PresenceStore(blocker / "presence.json")  # its parent is a file
    store.record("a1", AgentState.AVAILABLE, None)
    assert "cannot save agents' presence" in caplog.text


def test_an_agent_at_another_desk_comes_back_at_that_phone(tmp_path: Path) -> None:
    path = tmp_path / "presence.json"
    store = PresenceStore(path)
    store.record("a1", AgentState.AVAILABLE, None, phone="1003")  # hot-desking
    store.record("a2", AgentState.BREAK, "lunch")
    again = PresenceStore(path)
    assert again.load()["a1"] == (AgentState.AVAILABLE, None)
    assert again.seats() == {"a1": "1003"}
    again.record("a1", AgentState.LOGGED_OUT, None, phone="1003")  # a logged-out agent sits nowhere
    assert PresenceStore(path).load()["a1"] == (AgentState.LOGGED_OUT, None)
    assert json.loads(path.read_text(encoding="utf-8"))["a1"] == {
        "state": "logged_out",
        "reason": None,
    }
    third = PresenceStore(path)
    third.load()
    assert third.seats() == {}
