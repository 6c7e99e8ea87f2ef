"""``acd report``: terminal, CSV and XLSX output, and bad input (one line, exit status 2)."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from report_data import load

from acd.cli import main
from acd.report_output import format_duration

ROOT = Path(__file__).resolve().parents[2]
PERIOD = ["--from", "2026-11-02", "--to", "2026-11-03"]


@pytest.fixture
async def db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.sqlite3'}"
    await load(url)
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_calls_table_on_the_terminal(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", "calls", "--db", db, *PERIOD)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Отчёт по статистике звонков"
    assert lines[1].startswith("Период: 02.11.2026 — 03.11.2026 (время Europe/Moscow), по дням")
    assert "Порог обслуживания: 300 с; короткий потерянный: ожидание менее 5 с" in out
    assert re.search(r"Потеряно.*Среднее.*Макс\.", out)
    day = next(line for line in lines if line.startswith("2026-11-02"))
    assert day.split() == [
        "2026-11-02", "11", "5", "1", "1", "5", "2", "2", "45.5",
        "0:02:37", "0:02:56", "0:03:00", "0:00:24", "0:03:24", "80.0", "0:06:40", "0:06:30",
    ]  # fmt: skip
    total = next(line for line in lines if line.startswith("Итого"))
    assert total.split()[1:9] == ["15", "7", "1", "2", "6", "2", "3", "46.7"]


def test_calls_csv_has_the_annex_2_columns(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "calls.csv"
    code, out, err = run(
        capsys, "report", "calls", "--db", db, *PERIOD, "--by", "hour", "--csv", str(target)
    )
    assert (code, out) == (0, "")
    assert "CSV written" in err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the Cyrillic right
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == [
        "Дата",
        "Поступ.",
        "Принято",
        "Отв. после порога",
        "Перев.",
        "Потеряно: всего",
        "Потеряно: после порога",
        "Потеряно: короткие",
        "Отв (%)",
        "Среднее: потер.",
        "Среднее: отвеч.",
        "Среднее: разг.",
        "Среднее: заверш.",
        "Среднее: обраб.",
        "Уровень сервиса (%)",
        "Макс.: отвеч.",
        "Макс.: потер.",
    ]
    assert len(rows) == 1 + 48 + 1  # header, 48 hours, the totals line
    nine = next(r for r in rows if r[0] == "2026-11-02 09:00")
    # answered wait (20 + 400 + 10) / 3 = 143.3 s; SL 2 / 3
    assert nine[:9] == ["2026-11-02 09:00", "5", "3", "1", "1", "2", "1", "1", "60.0"]
    assert (nine[10], nine[14]) == ("0:02:23", "66.7")
    assert rows[1][1:] == ["0"] * 7 + [""] * 9  # an empty hour: zeros and blanks
    assert rows[-1][:3] == ["Итого", "15", "7"]


def _xlsx_cells(path: Path) -> tuple[dict[str, str], list[str]]:
    """Cell reference -> text (shared strings resolved) of the first sheet; merged ranges."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml")
        shared = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
    strings = ["".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")) for si in shared]
    sheet = ElementTree.fromstring(sheet_xml)
    cells = {}
    for cell in sheet.iter(f"{{{ns['m']}}}c"):
        value = cell.find("m:v", ns)
        if value is None:
            continue
        text = value.text or ""
        cells[cell.get("r", "")] = strings[int(text)] if cell.get("t") == "s" else text
    merged = [m.get("ref", "") for m in sheet.iter(f"{{{ns['m']}}}mergeCell")]
    return cells, merged


def test_calls_xlsx_has_title_period_and_merged_annex_headers(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "calls.xlsx"
    code, _, err = run(capsys, "report", "calls", "--db", db, *PERIOD, "--xlsx", str(target))
    assert code == 0 and "XLSX written" in err
    cells, merged = _xlsx_cells(target)
    assert cells["A1"] == "Отчёт по статистике звонков"
    assert cells["A2"].startswith("Период: 02.11.2026 — 03.11.2026")
    assert cells["A6"].startswith("Сформирован: ")
    # the header on rows 8-9, as in the annex-2 form
    header = {ref: text for ref, text in cells.items() if re.fullmatch(r"[A-Q][89]", ref)}
    assert header == {
        "A8": "Дата",
        "B8": "Поступ.",
        "C8": "Принято",
        "D8": "Отв. после\nпорога",
        "E8": "Перев.",
        "F8": "Потеряно",
        "F9": "всего",
        "G9": "после порога",
        "H9": "короткие",
        "I8": "Отв\n(%)",
        "J8": "Среднее",
        "J9": "потер.",
        "K9": "отвеч.",
        "L9": "разг.",
        "M9": "заверш.",
        "N9": "обраб.",
        "O8": "Уровень\nсервиса (%)",
        "P8": "Макс.",
        "P9": "отвеч.",
        "Q9": "потер.",
    }
    assert {"A8:A9", "F8:H8", "J8:N8", "O8:O9", "P8:Q8"} <= set(merged)
    assert cells["A10"] == "2026-11-02" and cells["B10"] == "11"
    # durations are Excel times (fractions of a day): 157 s of average lost wait
    assert float(cells["J10"]) == pytest.approx(157 / 86400)
    assert cells["A12"] == "Итого" and cells["B12"] == "15"


@pytest.mark.parametrize(
    ("report", "extra", "sheet_text"),
    [
        ("topics", [], ["Вопрос", "Количество", "Способы оплаты"]),
        ("detail", ["--agent", "a1"], ["Номер абонента", "Тема обращения", "+749512345014"]),
        ("agents", [], ["Оператор", "Перерывы", "обед", "Равномерность"]),
    ],
)
def test_other_reports_as_xlsx_and_csv(
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    report: str,
    extra: list[str],
    sheet_text: list[str],
) -> None:
    xlsx, csv_file = tmp_path / f"{report}.xlsx", tmp_path / f"{report}.csv"
    args = ["report", report, "--db", db, *PERIOD, *extra]
    code, _, _ = run(capsys, *args, "--xlsx", str(xlsx), "--csv", str(csv_file))
    assert code == 0
    cells, _ = _xlsx_cells(xlsx)
    texts = set(cells.values())
    for expected in sheet_text:
        assert any(expected in text for text in texts), expected
    header = next(csv.reader(csv_file.read_text(encoding="utf-8-sig").splitlines()))
    assert header[0] in {"Вопрос", "Номер абонента", "Оператор"}


def test_topics_and_detail_on_the_terminal(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "topics", "--db", db, *PERIOD)
    assert code == 0
    assert re.search(r"^Способы оплаты\s+4$", out, re.MULTILINE)
    assert re.search(r"^Итого\s+15$", out, re.MULTILINE)
    code, out, _ = run(capsys, "report", "detail", "--db", db, *PERIOD, "--caller", "45012")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("+749512345012"))
    assert row.split()[:5] == ["+749512345012", "2026-11-03", "00:00:00", "0:00:05", "0:00:50"]


def test_the_configuration_gives_the_database_and_the_time_zone(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "acd.yaml"
    config.write_text(f"database:\n  url: {db}\nbusiness:\n  time_zone: Asia/Almaty\n")
    code, out, err = run(capsys, "report", "detail", "--config", str(config), *PERIOD)
    assert (code, err) == (0, "")
    assert "(время Asia/Almaty)" in out
    # Almaty is UTC+5, two hours ahead of Moscow: 2 and 3 November there start and end two
    # hours earlier, so c16 (1 Nov 23:59:59 Moscow) is in and c17 (4 Nov 00:00) still out
    rows = [line.split() for line in out.splitlines() if line.startswith("+7")]
    assert [(r[-1], r[1], r[2]) for r in rows[:2]] == [
        ("c16", "2026-11-02", "01:59:59"),
        ("c01", "2026-11-02", "11:00:00"),
    ]
    assert len(rows) == 16
    code, out, err = run(capsys, "report", "detail", "--config", str(tmp_path / "no.yaml"), *PERIOD)
    assert code == 2 and "the configuration is invalid" in err and "Traceback" not in err


def test_queue_log_to_stdout_and_to_a_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", "queue-log", "--db", db, *PERIOD)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 54
    assert all(re.fullmatch(r"\d{10}\|[^|]+\|[^|]+\|[^|]+\|[A-Z]+(\|[^|\n]*)*", x) for x in lines)
    target = tmp_path / "queue_log"
    code, out, err = run(capsys, "report", "queue-log", "--db", db, *PERIOD, "-o", str(target))
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8").splitlines() == lines
    assert "54 lines written" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-11-31", "--to", "2026-12-01"], "'2026-11-31' is not a real date"),
        (["--from", "01.11.2026", "--to", "2026-11-30"], "expected a date YYYY-MM-DD"),
        (["--from", "2026-11-30", "--to", "2026-11-01"], "is before --from"),
        ([*PERIOD, "--by", "year"], "unknown period 'year': use one of hour, day, week, month"),
        ([*PERIOD, "--threshold", "-1"], "must be 0 seconds or more"),
        ([*PERIOD, "--threshold", "soon"], "expected a number of seconds"),
        ([*PERIOD, "--sl", "best"], "unknown formula 'best'"),
        ([*PERIOD, "--tz", "Europe/Moskva"], "unknown time zone 'Europe/Moskva'"),
        ([*PERIOD, "--db", "mysql://x/y"], "unsupported database scheme 'mysql'"),
        (["--to", "2026-11-30"], "the following arguments are required: --from"),
        ([*PERIOD, "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    db: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    if "--db" not in argv:
        argv = [*argv, "--db", db]
    code, out, err = run(capsys, "report", "calls", *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("acd report calls: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_no_report_chosen_and_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "report")[:2] == (2, "")
    missing = f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}"
    code, _, err = run(capsys, "report", "topics", "--db", missing, *PERIOD)
    assert code == 1 and "no database file" in err
    assert not (tmp_path / "none.sqlite3").exists()  # not created by looking


def test_a_real_process_reports_bad_dates_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "acd", "report", "agents", "--from", "2026-02-30", "--to", "x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("acd report agents: error: --from: '2026-02-30'")
    assert "Traceback" not in result.stderr


def test_durations_round_half_up() -> None:
    assert [format_duration(s) for s in (2.5, 59.49, 3599.5, 90061)] == [
        "0:00:03",
        "0:00:59",
        "1:00:00",
        "25:01:01",
    ]
