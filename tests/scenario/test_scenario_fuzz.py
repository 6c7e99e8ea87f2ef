"""Whatever the input — random bytes, random YAML, a valid scenario with random damage — the
checker answers with located, plain problems, and never with a traceback."""

from __future__ import annotations

import copy
import io
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from scenario_support import EVERYTHING, FACTS, GENERAL, JARGON, run

from acd.scenario.check import check_file
from acd.scenario.model import NODE_TYPES

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
_counter = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz")
    (path / "general.yaml").write_text(GENERAL, encoding="utf-8")
    return path


def check_bytes(folder: Path, data: bytes) -> None:
    path = folder / f"case-{next(_counter)}.yaml"
    path.write_bytes(data)
    loaded = check_file(path, FACTS)
    for problem in loaded.problems:
        text = str(problem)
        assert text.startswith(str(path)), text
        for jargon in JARGON:
            assert jargon not in text, text
        assert problem.message.strip()
    if loaded.scenario is None:
        assert loaded.problems


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(folder: Path, data: bytes) -> None:
    check_bytes(folder, data)


YAML_PIECES = st.sampled_from(
    [
        "name: x\n",
        "nodes:\n",
        "  a:\n",
        "    type: play\n",
        "    type: menu\n",
        "- ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a ",
        "*a",
        "!!int ",
        "!!timestamp ",
        "? ",
        "|\n",
        ">-\n",
        "'",
        '"',
        "#",
        "\t",
        "  ",
        "\n",
        "---\n",
        "...\n",
        "%YAML 1.2\n",
        "<<: *a\n",
        "2026-02-30",
        "25:00",
        "1e400",
        "9" * 50,
        "~",
        "null",
        "true",
        "кириллица",
        "\x00",
        "\ufeff",
        "\r\n",
        "@",
        "`",
        "options: {1: a}\n",
        "languages: [ru, kk]\n",
        "time_zone: Asia/Almaty\n",
        "entry_points: {default: a}\n",
    ]
)


@FUZZ
@given(st.lists(YAML_PIECES, max_size=30).map("".join))
def test_random_yaml_text(folder: Path, text: str) -> None:
    check_bytes(folder, text.encode("utf-8"))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            *NODE_TYPES,
            "ru",
            "kk",
            "en",
            "kz",
            "09:00-18:00",
            "closed",
            "mon-fri",
            "RU",
            "KZ",
            "operator",
            "main",
            "lang",
            "bye",
            "*",
            "#",
            "+74951234567",
            "caller_id",
            "entered",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                st.text(max_size=8),
                st.integers(0, 12),
                st.sampled_from(
                    ["type", "prompt", "next", "options", "hours", "skills", "ru", "kk", "1"]
                ),
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def _dump(data: Any) -> bytes:
    yaml = YAML(typ="safe", pure=True)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue().encode("utf-8")


@FUZZ
@given(VALUES)
def test_random_structures(folder: Path, data: Any) -> None:
    check_bytes(folder, _dump(data))


_BASE: dict[str, Any] = YAML(typ="safe", pure=True).load(EVERYTHING)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


_BASE_PATHS = _paths(_BASE)[1:]


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(_BASE_PATHS), st.sampled_from(["replace", "delete"]), VALUES),
        min_size=1,
        max_size=3,
    )
)
def test_damaged_valid_scenarios(folder: Path, damage: list[tuple[Any, str, Any]]) -> None:
    data = copy.deepcopy(_BASE)
    for path, how, value in damage:
        parent: Any = data
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if not isinstance(parent, dict | list):
            continue
        try:
            if how == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    check_bytes(folder, _dump(data))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.binary(max_size=200))
def test_the_command_never_shows_a_traceback(folder: Path, data: bytes) -> None:
    path = folder / f"cli-{next(_counter)}.yaml"
    path.write_bytes(data)
    code, out, err = run("check", str(path))
    assert code in (0, 1)
    assert "Traceback" not in out + err
    assert "internal error" not in out
