"""The ``acd prompts`` tests run ``acd.cli.main`` with only the ``prompts`` sub-command
registered, so that a sibling command module being edited cannot break them."""

from __future__ import annotations

import pytest

from acd import cli


@pytest.fixture(autouse=True)
def _only_the_prompts_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("acd.commands.prompts",))
