"""``acd scenario check|simulate``: output, exit status 0 / 1 / 2, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scenario_support import EXAMPLES, MINIMAL, ROUTING_CONFIG, run, write

from acd.cli import build_parser
from acd.config import CONFIG_ENV_VAR

SKILLS = "operator,technical_support,account_manager"


@pytest.fixture(autouse=True)
def _no_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("ACD_"):
            monkeypatch.delenv(name)


def test_the_acd_command_has_it() -> None:
    args = build_parser().parse_args(["scenario", "check", "x.yaml"])
    assert args.files == [Path("x.yaml")]


def test_check_ok(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    code, out, err = run("check", str(path))
    assert (code, err) == (0, "")
    assert out == f"{path}: OK (scenario t: 2 nodes, languages ru)\n"


def test_check_several_files(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL, "good.yaml")
    bad = write(tmp_path, MINIMAL.replace("next: bye", "next: by"), "bad.yaml")
    code, out, err = run("check", str(good), str(bad), str(tmp_path / "missing.yaml"))
    assert code == 1
    assert f"{good}: OK" in out
    assert f"{bad}:10:11: node 'start' (play), next goes to 'by', which is not a node" in out
    assert f"{tmp_path / 'missing.yaml'}: file not found" in out
    assert err == "2 problems in 2 files\n"


def test_check_with_a_configuration(tmp_path: Path) -> None:
    code, out, _ = run("check", "--config", str(ROUTING_CONFIG), str(EXAMPLES / "hotline.yaml"))
    assert code == 0, out
    code, out, _ = run("check", str(EXAMPLES / "hotline.yaml"))  # the built-in defaults
    assert code == 1
    assert (
        "unknown skill 'technical_support'; known skills (from the built-in default "
        "configuration): operator"
    ) in out


def test_check_with_the_configuration_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV_VAR, str(ROUTING_CONFIG))
    code, out, _ = run("check", str(EXAMPLES / "hotline.yaml"))
    assert code == 0, out


@pytest.mark.parametrize(
    "argv",
    [
        ["check"],  # no file
        ["check", "--skills", "a b", "x.yaml"],
        ["check", "--skills", ",", "x.yaml"],
        ["check", "--config", "/nonexistent/acd.yaml", "x.yaml"],
        ["check", "--bogus", "x.yaml"],
        [],  # no action
        ["simulate"],
        ["simulate", "x.yaml", "--digits", "1,a"],
        ["simulate", "x.yaml", "--wait", "-1"],
        ["simulate", "x.yaml", "--wait", "nan"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert "Traceback" not in out + err


def test_a_broken_configuration_is_a_usage_error(tmp_path: Path) -> None:
    config = write(tmp_path, "routing:\n  skils: [a]\n", "acd.yaml")
    code, _, err = run("check", "--config", str(config), str(write(tmp_path, MINIMAL)))
    assert code == 2
    assert f"the configuration {config} has problems" in err
    assert "unknown setting 'skils'" in err


def test_simulate(tmp_path: Path) -> None:
    code, out, err = run(
        "simulate",
        str(EXAMPLES / "hotline.yaml"),
        "--at",
        "2026-11-23 10:00",
        "--digits",
        "1,2",
        "--caller",
        "+79161234567",
    )
    assert (code, err) == (0, "")
    assert "path: welcome -> hours -> customer -> topics -> topic_signature -> wait" in out
    assert "(ru) hotline/topics  [pressed 2]" in out
    assert "result: queue hotline (node wait)" in out
    assert "skills:   technical_support >= 1" in out
    assert "topic:    e-signature" in out


def test_simulate_json_and_explicit_offset() -> None:
    code, out, _ = run(
        "simulate",
        str(EXAMPLES / "hotline.yaml"),
        "--at",
        "2026-11-23T15:30Z",  # 18:30 in Moscow: closed
        "--number",
        "+73422921960",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["started"] == "2026-11-23T15:30:00+00:00"
    assert data["outcome"] == "voicemail"
    assert data["voicemail"]["mailbox"] == "hotline@default"
    assert data["dialled"] == "+73422921960"


def test_simulate_needs_a_valid_scenario(tmp_path: Path) -> None:
    bad = write(tmp_path, MINIMAL.replace("next: bye", "next: by"))
    code, _, err = run("simulate", str(bad))
    assert code == 1
    assert f"{bad}:10:11: " in err
    assert "fix these problems to simulate a call" in err


def test_simulate_checks_skills_only_when_asked(tmp_path: Path) -> None:
    hotline = str(EXAMPLES / "hotline.yaml")
    assert run("simulate", hotline, "--at", "2026-11-23 10:00")[0] == 0
    code, _, err = run("simulate", hotline, "--skills", "operator")
    assert code == 1
    assert "unknown skill 'technical_support'" in err


def test_simulate_usage(tmp_path: Path) -> None:
    numbers = MINIMAL.replace("  default: start", '  "100": start\n  "200": start')
    path = write(tmp_path, numbers)
    code, _, err = run("simulate", str(path))
    assert code == 2
    assert "say which number is dialled with --number: the scenario answers 100, 200" in err
    code, _, err = run("simulate", str(path), "--number", "300")
    assert code == 2
    assert "no entry point for 300" in err
    assert run("simulate", str(path), "--number", "200")[0] == 0
    code, _, err = run("simulate", str(path), "--number", "200", "--at", "tomorrow")
    assert code == 2
    assert "--at 'tomorrow' is not a date and time" in err
    single = write(tmp_path, MINIMAL.replace("  default: start", '  "100": start'), "one.yaml")
    code, out, _ = run("simulate", str(single))
    assert code == 0
    assert "to 100 at" in out
