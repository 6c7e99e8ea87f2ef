"""``acd plan``: output, JSON and bad-input handling, run as a real process."""

from __future__ import annotations

import argparse
import json

import pytest
from acd_cli import run_acd

from acd.commands import plan
from acd.core.erlang import InvalidPlanInput

BASE = ("plan", "--calls-per-hour", "400", "--aht", "300", "--target", "80/20")


def table_agents(stdout: str) -> list[int]:
    rows = [line.split() for line in stdout.splitlines()]
    return [int(r[0]) for r in rows if r and r[0].isdigit()]


def test_plan_erlang_c_text() -> None:
    proc = run_acd(*BASE)
    assert proc.returncode == 0, proc.stderr
    assert "Erlang C" in proc.stdout
    assert "Agents needed: 39" in proc.stdout
    assert "Offered load: 33.33 Erlangs" in proc.stdout
    assert table_agents(proc.stdout) == [37, 38, 39, 40, 41, 42]
    needed = [line for line in proc.stdout.splitlines() if "<- needed" in line]
    assert len(needed) == 1 and needed[0].split()[0] == "39"
    assert "82.6%" in needed[0]  # SL at 39 agents
    assert "abandon" not in proc.stdout


def test_plan_erlang_a_text_needs_fewer_agents() -> None:
    proc = run_acd(*BASE, "--patience", "180")
    assert proc.returncode == 0, proc.stderr
    assert "Erlang A" in proc.stdout
    assert "Agents needed: 36" in proc.stdout
    assert "abandon" in proc.stdout
    assert table_agents(proc.stdout) == [34, 35, 36, 37, 38, 39]


def test_plan_json_is_last_line() -> None:
    proc = run_acd(*BASE, "--patience", "180", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    assert payload["model"] == "erlang_a"
    assert payload["agents_needed"] == 36
    assert payload["result"]["agents"] == 36
    assert payload["result"]["service_level"] >= 0.8
    assert 0 < payload["result"]["abandonment_probability"] < 0.1
    assert [row["agents"] for row in payload["table"]] == [34, 35, 36, 37, 38, 39]
    levels = [row["service_level"] for row in payload["table"]]
    assert levels == sorted(levels)
    assert levels[1] < 0.8 <= levels[2]


def test_plan_json_unstable_rows_are_strict_json() -> None:
    # A = 10 Erlangs: a low target is met by 11 agents, so the table starts at the
    # unstable 9 and 10, whose infinite ASA must come out as null, not Infinity.
    proc = run_acd("plan", "--calls-per-hour", "100", "--aht", "360", "--target", "30/20", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Infinity" not in proc.stdout
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    assert payload["agents_needed"] == 11
    first = payload["table"][0]
    assert first["agents"] == 9
    assert first["asa_seconds"] is None
    assert first["service_level"] == 0.0


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (("--calls-per-hour", "-4"), "--calls-per-hour"),
        (("--aht", "0"), "--aht"),
        (("--target", "80"), "PERCENT/SECONDS"),
        (("--target", "eighty/20"), "PERCENT/SECONDS"),
        (("--target", "120/20"), "percent"),
        (("--target", "80/-1"), "seconds"),
        (("--patience", "0"), "--patience"),
        (("--max-occupancy", "0"), "--max-occupancy"),
        (("--calls-per-hour", "nan"), "--calls-per-hour"),
    ],
)
def test_plan_bad_input_is_one_line_exit_2(extra: tuple[str, str], fragment: str) -> None:
    argv = list(BASE)
    flag = extra[0]
    if flag in argv:
        argv[argv.index(flag) + 1] = extra[1]
    else:
        argv.extend(extra)
    proc = run_acd(*argv)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("acd plan: error:")
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_plan_missing_argument_is_usage_error() -> None:
    proc = run_acd("plan", "--aht", "300", "--target", "80/20")
    assert proc.returncode == 2
    assert "--calls-per-hour" in proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------- in-process


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="acd")
    plan.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_register_sets_run_as_func() -> None:
    args = parse(*BASE)
    assert args.func is plan.run
    assert args.patience is None
    assert args.json is False


def test_run_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.run(parse(*BASE, "--max-occupancy", "80", "--json")) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["agents_needed"] == 42  # occupancy cap binds before the SL target
    assert payload["result"]["occupancy"] <= 0.8


@pytest.mark.parametrize(
    ("text", "expected"),
    [("80/20", (0.8, 20.0)), ("90.5/15", (0.905, 15.0)), ("100/0", (1.0, 0.0))],
)
def test_parse_target(text: str, expected: tuple[float, float]) -> None:
    assert plan.parse_target(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "80", "80/", "/20", "0/20", "101/20", "80/x", "inf/2"])
def test_parse_target_rejects(text: str) -> None:
    with pytest.raises(InvalidPlanInput):
        plan.parse_target(text)
