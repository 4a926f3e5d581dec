"""A benchmark run's report: DIR/report.md and DIR/report.html, with charts as PNGs in DIR/report_files/.

Generic: the suite chooses what to show (`Suite.report` returns tables and bar charts built from its summary);
the report adds the run's arguments, each invocation's throughput and the jobs that failed. Every piece of text
that comes from a suite, a job or an error is escaped in the HTML.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.benchmarks.suite import Record, Suite
from mindpalace.core.markup import CSS, html_figure, html_table, md_alt, md_table, one_line, truncate

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
FILES_DIR = "report_files"
ERROR_CHARS = 160  # a failed job's error in the table: its last line, cut to this
CHART_CSS = "img.chart { max-width: 100%; }"


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]  # values are formatted by the report: fractions and seconds to 3 significant digits
    note: str = ""


@dataclass(frozen=True)
class BarChart:
    """Grouped bars: one group per outer key along the x axis, one bar (colour) per inner key."""

    title: str
    values: Mapping[str, Mapping[str, float | None]]  # group -> series -> value (None: no bar)
    ylabel: str = ""
    errors: Mapping[str, Mapping[str, float]] | None = None  # same shape: error bar half-widths (e.g. std)
    ylim: tuple[float, float] | None = None
    note: str = ""


ReportItem = Table | BarChart


def nested_table(title: str, values: Mapping[str, Mapping[str, Any]], row_label: str, note: str = "") -> Table:
    """A table of {row: {column: value}}: rows in order, columns in first-seen order, blanks where missing."""
    columns = list(dict.fromkeys(column for row in values.values() for column in row))
    rows = [[name, *(row.get(column) for column in columns)] for name, row in values.items()]
    return Table(title, [row_label, *columns], rows, note)


def differences(values: Mapping[str, Mapping[str, float | None]], baseline: str) -> dict[str, dict[str, float | None]]:
    """{row: {column: value - values[baseline][column]}} for every row but the baseline (e.g. memory gain over
    the no-memory agent); None where either side is missing."""
    base = values.get(baseline, {})

    def minus(value: float | None, other: float | None) -> float | None:
        return value - other if value is not None and other is not None and _is_number(value) and _is_number(other) else None

    return {
        name: {column: minus(value, base.get(column)) for column, value in row.items()}
        for name, row in values.items()
        if name != baseline
    }


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return str(value)


def write_report(
    out_dir: Path, suite: Suite, run: Mapping[str, Any], summary: Mapping[str, Any], records: Sequence[Record]
) -> None:
    """Write DIR/report.md, DIR/report.html and their charts for a run's summary and final records."""
    files = out_dir / FILES_DIR
    files.mkdir(exist_ok=True)
    for old in files.glob("chart-*.png"):
        old.unlink()  # charts of an earlier report of this folder
    sections: list[tuple[str, str, Table | str]] = []  # (title, note, a table or a chart's path)
    for number, item in enumerate(suite.report(summary, records), start=1):
        if isinstance(item, BarChart):
            name = f"chart-{number:02d}-{_slug(item.title)}.png"
            _plot(item, files / name)
            sections.append((item.title, item.note, f"{FILES_DIR}/{name}"))
        else:
            sections.append((item.title, item.note, item))
    runner_sections = _runner_sections(run, records)
    title = f"{run.get('suite', suite.name)} benchmark"
    (out_dir / REPORT_MD).write_text(_markdown(title, suite.description, sections + runner_sections))
    (out_dir / REPORT_HTML).write_text(_html(title, suite.description, sections + runner_sections))


def _runner_sections(run: Mapping[str, Any], records: Sequence[Record]) -> list[tuple[str, str, Table | str]]:
    options = Table("Options", ["option", "value"], [[name, value] for name, value in (run.get("options") or {}).items()])
    invocations = Table(
        "Invocations",
        ["started", "command", "executor", "jobs ok", "failed", "already done", "attempts", "start-up s", "wall s", "jobs/hour"],
        [
            [
                call.get("started"),
                call.get("command"),
                call.get("executor") or "nothing to run",
                call.get("jobs_ok"),
                call.get("jobs_failed"),
                call.get("jobs_skipped"),
                call.get("attempts"),
                call.get("startup_s"),
                call.get("wall_s"),
                call.get("jobs_per_hour"),
            ]
            for call in run.get("invocations") or []
        ],
        "jobs/hour: jobs finished per hour of wall time from the first job submitted to the last one recorded.",
    )
    ok = [record for record in records if record.ok]
    seconds = np.array([record.seconds for record in ok])
    jobs = Table(
        "Jobs",
        ["jobs", "ok", "failed", "median s", "p95 s", "max s"],
        [
            [
                len(records),
                len(ok),
                len(records) - len(ok),
                float(np.median(seconds)) if len(seconds) else None,
                float(np.percentile(seconds, 95)) if len(seconds) else None,
                float(seconds.max()) if len(seconds) else None,
            ]
        ],
        "Seconds: the wall time of each job's successful attempt in its worker.",
    )
    sections: list[tuple[str, str, Table | str]] = [(t.title, t.note, t) for t in (options, invocations, jobs)]
    failed = [record for record in records if not record.ok]
    if failed:
        rows = [[record.key, record.attempt, record.worker, truncate(last_line(record.error), ERROR_CHARS)] for record in failed]
        table = Table("Failed jobs", ["job", "attempts", "worker", "error"], rows, "Full errors are in results.jsonl.")
        sections.append((table.title, table.note, table))
    return sections


def _markdown(title: str, description: str, sections: list[tuple[str, str, Table | str]]) -> str:
    lines = [f"# {one_line(title)}", ""]
    if description:
        lines += [one_line(description), ""]
    for heading, note, body in sections:
        lines += [f"## {one_line(heading)}", ""]
        if isinstance(body, Table):
            lines += [md_table(body.columns, _cells(body.rows)), ""]
        elif isinstance(body, str):
            lines += [f"![{md_alt(heading)}]({body})", ""]
        if note:
            lines += [f"*{one_line(note)}*", ""]
    return "\n".join(lines)


def _html(title: str, description: str, sections: list[tuple[str, str, Table | str]]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>\n{CSS}\n{CHART_CSS}\n</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if description:
        parts.append(f"<p>{esc(description)}</p>")
    for heading, note, body in sections:
        parts.append(f"<h2>{esc(heading)}</h2>")
        if isinstance(body, Table):
            parts.append(html_table(body.columns, _cells(body.rows)))
        elif isinstance(body, str):
            parts.append(html_figure(body, heading).replace("<img ", '<img class="chart" ', 1))
        if note:
            parts.append(f"<p><i>{esc(note)}</i></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _plot(chart: BarChart, path: Path) -> None:
    from matplotlib.figure import Figure  # the object API: no pyplot, no global backend

    groups = list(chart.values)
    series = list(dict.fromkeys(name for group in groups for name in chart.values[group]))
    bars = len(groups) * max(1, len(series))
    figure = Figure(figsize=(min(16.0, max(6.0, 0.25 * bars + 2.0)), 4.0), layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    palette = _palette(len(series))
    for index, name in enumerate(series):
        heights = [_height(chart.values[group].get(name)) for group in groups]
        errors = [float((chart.errors or {}).get(group, {}).get(name, 0.0)) for group in groups] if chart.errors else None
        offset = (index - (len(series) - 1) / 2) * width
        axes.bar(x + offset, heights, width, yerr=errors, capsize=2, label=name, color=palette[index])
    rotate = len(groups) > 6 or any(len(group) > 10 for group in groups)
    axes.set_xticks(x, groups, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    axes.set_title(chart.title)
    axes.set_ylabel(chart.ylabel)
    if chart.ylim is not None:
        axes.set_ylim(*chart.ylim)
    if any(_height(value) < 0 for row in chart.values.values() for value in row.values()):
        axes.axhline(0.0, color="black", linewidth=0.8)
    if series:
        axes.legend(fontsize="small", ncols=min(len(series), 5))
    figure.savefig(path, dpi=100)


def _palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _height(value: Any) -> float:
    return float(value) if _is_number(value) else math.nan


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def _cells(rows: list[list[Any]]) -> list[list[str]]:
    return [[format_value(value) for value in row] for row in rows]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "chart"


def last_line(text: str | None) -> str:
    """The last line of an error (a traceback's exception line)."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""
