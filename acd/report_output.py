"""Rendering of reports: a text table for the terminal, CSV, and XLSX for the client.

A report becomes a :class:`Table` (title, the lines under it, columns with the Russian
headers of the annex forms, rows, a totals line, notes), and one renderer per format writes
it. Headers may have two levels, as in the annex-2 form: a column with a ``group`` sits under
a header cell merged across the group (``Потеряно`` over ``всего / после порога /
короткие``); a ``\\n`` in a title breaks it over two header lines.

Values by column kind: ``int``; ``percent`` (a float, already in percent); ``duration``
(seconds: ``H:MM:SS`` in text and CSV, a ``[h]:mm:ss`` time in XLSX); ``date`` and ``time``
(ISO in text and CSV, real date/time cells in XLSX); ``text``. ``None`` is an empty cell.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Literal

from acd.storage.reports import (
    AgentRow,
    AgentsReport,
    Bucket,
    CallStatsReport,
    CallStatsRow,
    DetailReport,
    Period,
    ServiceLevelFormula,
    TopicsReport,
    bucket_end,
)

Kind = Literal["text", "int", "percent", "duration", "date", "time"]
NUMERIC: frozenset[str] = frozenset({"int", "percent", "duration"})
EMPTY_TEXT = "-"
TOTAL_LABEL = "Итого"


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    kind: Kind = "text"
    group: str | None = None

    @property
    def flat_title(self) -> str:
        """One-line header (CSV): ``Потеряно: всего``."""
        title = self.title.replace("\n", " ")
        return f"{self.group}: {title}" if self.group else title


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    lines: list[str]  # under the title: period, parameters, generation time
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None
    notes: list[str] = field(default_factory=list)
    sheet: str = "Отчёт"


# --------------------------------------------------------------------------- formatting


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` rounded to the second (``0:05:00``)."""
    whole = math.floor(seconds + 0.5)  # half up: 2.5 s shows as 0:00:03
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_value(value: Any, kind: Kind, empty: str = "") -> str:
    if value is None:
        return empty
    if kind == "percent":
        return f"{value:.1f}"
    if kind == "duration":
        return format_duration(value)
    if kind in ("date", "time") and isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def ru_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def bucket_label(start: datetime, by: Bucket) -> str:
    """``2026-11-01`` for a day, ``2026-11-01 09:00`` an hour, ``2026-11`` a month, and for a
    week its Monday and Sunday ``2026-11-02..2026-11-08``."""
    if by is Bucket.HOUR:
        return start.strftime("%Y-%m-%d %H:00")
    if by is Bucket.DAY:
        return start.date().isoformat()
    if by is Bucket.WEEK:
        last = bucket_end(start, by).date().toordinal() - 1
        return f"{start.date().isoformat()}..{date.fromordinal(last).isoformat()}"
    return start.strftime("%Y-%m")


_BY_RU = {
    Bucket.HOUR: "по часам",
    Bucket.DAY: "по дням",
    Bucket.WEEK: "по неделям",
    Bucket.MONTH: "по месяцам",
}


def period_line(period: Period) -> str:
    first, last = ru_date(period.first_day), ru_date(period.last_day)
    span = first if first == last else f"{first} — {last}"
    local_start, local_end = period.local_start, period.local_end
    if local_start.time() != time() or local_end.time() != time():
        span = f"{local_start:%d.%m.%Y %H:%M} — {local_end:%d.%m.%Y %H:%M}"
    return f"Период: {span} (время {period.tz.key})"


def generated_line(generated_at: datetime, period: Period) -> str:
    local = generated_at.astimezone(period.tz)
    return f"Сформирован: {local:%d.%m.%Y %H:%M} ({period.tz.key})"


# --------------------------------------------------------------------------- report tables

CALL_COLUMNS: list[Column] = [
    Column("Дата"),
    Column("Поступ.", "int"),
    Column("Принято", "int"),
    Column("Отв. после\nпорога", "int"),
    Column("Перев.", "int"),
    Column("всего", "int", "Потеряно"),
    Column("после порога", "int", "Потеряно"),
    Column("короткие", "int", "Потеряно"),
    Column("Отв\n(%)", "percent"),
    Column("потер.", "duration", "Среднее"),
    Column("отвеч.", "duration", "Среднее"),
    Column("разг.", "duration", "Среднее"),
    Column("заверш.", "duration", "Среднее"),
    Column("обраб.", "duration", "Среднее"),
    Column("Уровень\nсервиса (%)", "percent"),
    Column("отвеч.", "duration", "Макс."),
    Column("потер.", "duration", "Макс."),
]


def _call_cells(label: str, r: CallStatsRow) -> list[Any]:
    return [
        label,
        r.received,
        r.answered,
        r.answered_after,
        r.transferred,
        r.lost,
        r.lost_after,
        r.lost_short,
        r.answered_pct,
        r.avg_wait_lost,
        r.avg_wait_answered,
        r.avg_talk,
        r.avg_wrap_up,
        r.avg_handle,
        r.service_level,
        r.max_wait_answered,
        r.max_wait_lost,
    ]


def calls_table(report: CallStatsReport, generated_at: datetime) -> Table:
    o = report.options
    formula = (
        "отвечено в пределах порога / принято"
        if o.sl_formula is ServiceLevelFormula.ANSWERED
        else "отвечено в пределах порога / (принято + потеряно без коротких)"
    )
    lines = [
        period_line(report.period) + f", {_BY_RU[report.by]}",
        f"Очередь: {report.queue}" if report.queue else "Очереди: все",
        f"Порог обслуживания: {o.threshold_seconds:g} с; короткий потерянный: ожидание менее "
        f"{o.short_abandon_seconds:g} с",
        f"Уровень сервиса = {formula}",
        generated_line(generated_at, report.period),
    ]
    rows = [
        _call_cells(bucket_label(r.bucket, report.by) if r.bucket else "", r) for r in report.rows
    ]
    return Table(
        title="Отчёт по статистике звонков",
        lines=lines,
        columns=CALL_COLUMNS,
        rows=rows,
        total=_call_cells(TOTAL_LABEL, report.total),
        notes=["Времена — ч:мм:сс; среднее и максимальное ожидание — от входа в очередь."],
        sheet="Статистика звонков",
    )


def topics_table(report: TopicsReport, generated_at: datetime) -> Table:
    lines = [
        period_line(report.period),
        f"Очередь: {report.queue}" if report.queue else "Очереди: все",
        generated_line(generated_at, report.period),
    ]
    return Table(
        title="Отчёт по часто задаваемым вопросам",
        lines=lines,
        columns=[Column("Вопрос"), Column("Количество", "int")],
        rows=[[r.topic, r.calls] for r in report.rows],
        total=[TOTAL_LABEL, report.total],
        sheet="Частые вопросы",
    )


def detail_table(report: DetailReport, generated_at: datetime) -> Table:
    filters = []
    if report.agent:
        filters.append(f"оператор {report.agent}")
    if report.caller:
        filters.append(f"номер содержит {report.caller}")
    if report.queue:
        filters.append(f"очередь {report.queue}")
    lines = [period_line(report.period)]
    if filters:
        lines.append("Отбор: " + ", ".join(filters))
    lines += [f"Звонков: {len(report.rows)}", generated_line(generated_at, report.period)]
    return Table(
        title="Детализация входящих звонков",
        lines=lines,
        columns=[
            Column("Номер абонента"),
            Column("Дата", "date"),
            Column("Время", "time"),
            Column("Ожидание", "duration"),
            Column("Разговор", "duration"),
            Column("Тема обращения"),
            Column("Оператор"),
            Column("Результат"),
            Column("ID звонка"),
        ],
        rows=[
            [
                r.caller_number,
                r.day,
                r.at,
                r.wait_seconds,
                r.talk_seconds,
                r.topic,
                r.agent_id,
                r.outcome_label,
                r.call_id,
            ]
            for r in report.rows
        ],
        sheet="Детализация",
    )


def agents_table(report: AgentsReport, generated_at: datetime) -> Table:
    columns = [
        Column("Оператор"),
        Column("Имя"),
        Column("Время\nв смене", "duration"),
        Column("Звонков", "int"),
        Column("Время\nразговора", "duration"),
        Column("Пост-\nобработка", "duration"),
        Column("всего", "duration", "Перерывы"),
    ]
    columns += [Column(reason, "duration", "Перерывы") for reason in report.reasons]

    def cells(label: str, name: str, r: AgentRow) -> list[Any]:
        return [
            label,
            name,
            r.shift_seconds,
            r.calls,
            r.talk_seconds,
            r.wrap_up_seconds,
            r.break_seconds,
            *[r.breaks.get(reason, 0.0) for reason in report.reasons],
        ]

    notes = []
    e = report.evenness
    if e is not None:
        cv = "—" if e.cv is None else f"{e.cv * 100:.1f} %"
        notes.append(
            f"Равномерность времени разговора ({e.agents} опер.): мин. "
            f"{format_duration(e.min_seconds)} ({e.min_agent}), макс. "
            f"{format_duration(e.max_seconds)} ({e.max_agent}), среднее "
            f"{format_duration(e.mean_seconds)}, коэффициент вариации {cv}"
        )
    return Table(
        title="Отчёт по операторам",
        lines=[period_line(report.period), generated_line(generated_at, report.period)],
        columns=columns,
        rows=[cells(r.agent_id, r.name, r) for r in report.rows],
        total=cells(TOTAL_LABEL, "", report.total),
        notes=notes,
        sheet="Операторы",
    )


# --------------------------------------------------------------------------- text


def _header_cells(column: Column, height: int) -> list[str]:
    lines = column.title.split("\n")
    if column.group is not None:
        lines = [column.group, *lines]
    return lines + [""] * (height - len(lines))


def _header_height(columns: Sequence[Column]) -> int:
    return max(len(c.title.split("\n")) + (1 if c.group else 0) for c in columns)


def _groups(columns: Sequence[Column]) -> list[tuple[str | None, int, int]]:
    """Runs of consecutive columns with the same group: (group, first, last index)."""
    runs: list[tuple[str | None, int, int]] = []
    for index, column in enumerate(columns):
        if runs and column.group is not None and runs[-1][0] == column.group:
            runs[-1] = (column.group, runs[-1][1], index)
        else:
            runs.append((column.group, index, index))
    return runs


def render_text(table: Table) -> str:
    """A plain table for the terminal (numbers right-aligned, two spaces between columns)."""
    height = _header_height(table.columns)
    body = [*table.rows, *([table.total] if table.total is not None else [])]
    cells = [
        [format_value(v, c.kind, EMPTY_TEXT) for v, c in zip(row, table.columns, strict=True)]
        for row in body
    ]
    widths = []
    for index, column in enumerate(table.columns):
        titles = [len(line) for line in column.title.split("\n")]
        widths.append(max(titles + [len(row[index]) for row in cells] + [1]))
    gap = "  "
    for group, first, last in _groups(table.columns):
        if group is None:
            continue
        span = sum(widths[first : last + 1]) + len(gap) * (last - first)
        if span < len(group):
            widths[last] += len(group) - span

    def align(text_value: str, index: int) -> str:
        numeric = table.columns[index].kind in NUMERIC
        return text_value.rjust(widths[index]) if numeric else text_value.ljust(widths[index])

    out = [table.title, *table.lines, ""]
    header_lines = []
    for level in range(height):
        parts = []
        for group, first, last in _groups(table.columns):
            span = sum(widths[first : last + 1]) + len(gap) * (last - first)
            if group is not None and level == 0:
                parts.append(group.center(span, "-") if last > first else group.ljust(span))
            else:
                parts.append(
                    gap.join(
                        _header_cells(table.columns[i], height)[level].ljust(widths[i])
                        if table.columns[i].kind not in NUMERIC
                        else _header_cells(table.columns[i], height)[level].rjust(widths[i])
                        for i in range(first, last + 1)
                    )
                )
        header_lines.append(gap.join(parts).rstrip())
    out += header_lines
    rule = gap.join("-" * w for w in widths)
    out.append(rule)
    for n, row in enumerate(cells):
        if table.total is not None and n == len(cells) - 1:
            out.append(rule)
        out.append(gap.join(align(v, i) for i, v in enumerate(row)).rstrip())
    if table.notes:
        out += ["", *table.notes]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- CSV


def write_csv(table: Table, target: Path | IO[str]) -> None:
    """Header line + rows + the totals line; UTF-8 with a BOM when written to a file (so that
    Excel shows the Cyrillic headers), comma-separated, decimal point."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.flat_title for c in table.columns])
    for row in [*table.rows, *([table.total] if table.total is not None else [])]:
        writer.writerow([format_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    if isinstance(target, Path):
        target.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    else:
        target.write(buffer.getvalue())


# --------------------------------------------------------------------------- XLSX

_SECONDS_PER_DAY = 86400.0


def _xlsx_value(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "duration":
        return value / _SECONDS_PER_DAY
    if kind == "percent":
        return round(value, 1)
    return value


def _text_width(value: Any, kind: Kind) -> int:
    if kind == "duration":
        return 8
    if kind == "date":
        return 10
    if kind == "time":
        return 8
    return len(format_value(value, kind))


def write_xlsx(table: Table, path: Path) -> None:
    """One sheet: the title, the lines under it, the (merged) header, rows, totals, notes."""
    import xlsxwriter  # imported here: only XLSX output needs it

    workbook = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
    try:
        sheet = workbook.add_worksheet(table.sheet[:31])
        title_format = workbook.add_format({"bold": True, "font_size": 14})
        header_format = workbook.add_format(
            {
                "bold": True,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
                "border": 1,
                "bg_color": "#D9E1F2",
            }
        )
        base = {"border": 1}
        formats = {
            "text": workbook.add_format(base),
            "int": workbook.add_format({**base, "num_format": "0"}),
            "percent": workbook.add_format({**base, "num_format": "0.0"}),
            "duration": workbook.add_format({**base, "num_format": "[h]:mm:ss"}),
            "date": workbook.add_format({**base, "num_format": "dd.mm.yyyy"}),
            "time": workbook.add_format({**base, "num_format": "hh:mm:ss"}),
        }
        total_formats = {
            kind: workbook.add_format(
                {**base, "bold": True, "top": 2, "num_format": fmt.num_format or "General"}
            )
            for kind, fmt in formats.items()
        }

        row = 0
        sheet.write(row, 0, table.title, title_format)
        row += 1
        for line in table.lines:
            sheet.write(row, 0, line)
            row += 1
        row += 1

        height = _header_height(table.columns)
        header_top = row
        for group, first, last in _groups(table.columns):
            if group is None:
                column = table.columns[first]
                title = column.title
                if height > 1:
                    sheet.merge_range(
                        header_top, first, header_top + height - 1, first, title, header_format
                    )
                else:
                    sheet.write(header_top, first, title, header_format)
                continue
            if last > first:
                sheet.merge_range(header_top, first, header_top, last, group, header_format)
            else:
                sheet.write(header_top, first, group, header_format)
            for index in range(first, last + 1):
                title = table.columns[index].title
                if height > 2:
                    sheet.merge_range(
                        header_top + 1, index, header_top + height - 1, index, title, header_format
                    )
                else:
                    sheet.write(header_top + 1, index, title, header_format)
        row = header_top + height
        sheet.freeze_panes(row, 1)

        widths = [max(len(line) for line in c.title.split("\n")) + 2 for c in table.columns]
        for values in table.rows:
            for index, (value, column) in enumerate(zip(values, table.columns, strict=True)):
                cell = _xlsx_value(value, column.kind)
                if cell is None:
                    sheet.write_blank(row, index, None, formats[column.kind])
                else:
                    sheet.write(row, index, cell, formats[column.kind])
                widths[index] = max(widths[index], _text_width(value, column.kind) + 2)
            row += 1
        if table.total is not None:
            for index, (value, column) in enumerate(zip(table.total, table.columns, strict=True)):
                cell = _xlsx_value(value, column.kind)
                if cell is None:
                    sheet.write_blank(row, index, None, total_formats[column.kind])
                else:
                    sheet.write(row, index, cell, total_formats[column.kind])
            row += 1
        for index, width in enumerate(widths):
            sheet.set_column(index, index, min(max(width, 6), 60))
        if table.notes:
            row += 1
            for note in table.notes:
                sheet.write(row, 0, note)
                row += 1
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(header_top, header_top + height - 1)
    finally:
        workbook.close()
