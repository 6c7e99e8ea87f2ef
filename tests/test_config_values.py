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


def test_the_routing_example_in_the_docs_is_a_valid_config(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    section = docs.read_text(encoding="utf-8").split("## The `routing` section")[1]
    example = section.split("```yaml")[1].split("```")[0]
    path = tmp_path / "acd.yaml"
    path.write_text(example, encoding="utf-8")
    routing = load_settings(path, environ={}).routing
    assert routing.queues[0].short_abandon_seconds == 5
    assert routing.agents[0].skills == {"operator": 9, "account_manager": 6}
