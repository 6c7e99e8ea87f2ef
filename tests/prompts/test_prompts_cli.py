"""``acd prompts list``: the catalogue, and which files a sounds directory lacks (exit 1 if
any); bad input exits 2 with a message, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd import cli
from acd.cli import build_parser, main
from acd.prompts import default_catalogue
from acd.prompts.build import prompt_path

REGISTERED = cli.COMMAND_MODULES  # before the autouse fixture (conftest.py) narrows it


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(["prompts", *args])
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_acd_command_has_it() -> None:
    assert "acd.commands.prompts" in REGISTERED
    args = build_parser().parse_args(["prompts", "build", "--lang", "ru,kk", "--force"])
    assert (args.lang, args.out, args.force) == (("ru", "kk"), Path("sounds"), True)


def test_list_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    catalogue = default_catalogue()
    files = sum(len(entry.texts) for entry in catalogue)
    assert lines[-1] == f"{len(catalogue)} prompts, {files} files in ru, kk, en"
    assert lines[0].split(None, 2) == [
        "acd/greeting",
        "ru",
        catalogue.text("acd/greeting", "ru").text,
    ]
    assert any(
        line.startswith("kz/choose-language-kk")
        and line.endswith("[spoken in kk]")
        and " ru " in line
        for line in lines
    )


def test_list_json_for_one_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--lang", "kk", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {row["language"] for row in rows} == {"kk"}
    assert {"name": "acd/digits/abl-4", "language": "kk", "text": "төрттен"} in rows


def test_list_missing_shows_what_a_directory_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = default_catalogue()
    for name in catalogue.names("en"):
        path = prompt_path(tmp_path, "en", name, "ulaw")  # any format Asterisk reads counts
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    code, out, err = run(capsys, "list", "--missing", str(tmp_path), "--lang", "en")
    assert (code, err) == (0, "")
    assert out == f"all {len(catalogue.names('en'))} prompt files present in {tmp_path}\n"

    prompt_path(tmp_path, "en", "acd/greeting", "ulaw").unlink()
    code, out, _ = run(capsys, "list", "--missing", str(tmp_path), "--lang", "en")
    assert code == 1
    expected_file = prompt_path(tmp_path, "en", "acd/greeting")
    assert out.splitlines() == [
        f"acd/greeting  en  {catalogue.text('acd/greeting', 'en').text}  -> {expected_file}",
        f"1 of {len(catalogue.names('en'))} prompt files missing in {tmp_path}",
    ]
    code, out, _ = run(capsys, "list", "--missing", str(tmp_path), "--json")
    assert code == 1
    missing = json.loads(out)
    assert len(missing) == sum(len(e.texts) for e in catalogue) - len(catalogue.names("en")) + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--lang", "ru,xx"], "unknown language 'xx': the catalogue has ru, kk, en"),
        (["list", "--lang", "de"], "unknown language 'de'"),
        (["build", "--voice", "de=de"], "--voice de=...: unknown language"),
        (["build", "--only", "nothing/*"], "--only nothing/*: no prompt of the catalogue matches"),
        (["list", "--missing", "/nonexistent/sounds"], "no such directory"),
        (["build", "--catalogue", "/nonexistent.yaml"], "cannot read"),
        (["build", "--speed", "1000"], "must be 80..400"),
        (["build", "--voice", "kk"], "expected LANG=VOICE"),
        (["build", "--lang", ","], "give at least one language"),
        ([], "usage: acd prompts"),
    ],
)
def test_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


def test_out_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "file"
    afile.touch()
    code, _, err = run(capsys, "build", "--out", str(afile))
    assert code == 2 and err == f"acd prompts: --out {afile}: not a directory\n"
