"""Values YAML parses but cannot build are located errors, not tracebacks (config files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("business:\n  time_zone: 2026-02-30\n", 2, 14, "looks like a date"),
        ("ami:\n  port: !!int x\n", 2, 9, "cannot be read as a whole number"),
        ("ami:\n  port: " + "9" * 5000 + "\n", 2, 9, "too many digits"),
    ],
)
def test_unbuildable_values_are_located(
    tmp_path: Path, text: str, line: int, column: int, words: str
) -> None:
    path = tmp_path / "acd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (line, column)
    assert words in problem.message
