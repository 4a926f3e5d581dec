"""The generic report: tables and grouped bar charts from a suite's summary, markdown and escaped HTML."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mindpalace.benchmarks.report import BarChart, ReportItem, Table, differences, format_value, nested_table, write_report
from mindpalace.benchmarks.suite import Job, Options, Record, Result, Suite

# A summary in FindingDory's shape (issue 11), with made-up numbers: what a suite's report is built from.
SUMMARY = {
    "agents": {
        "no_memory": {
            "tasks": 40,
            "hl_sr": 0.1,
            "tokens_per_task": 900.0,
            "seconds_per_task": 12.0,
            "by_category": {"time": {"tasks": 20, "hl_sr": 0.05}, "room | visitation": {"tasks": 20, "hl_sr": 0.15}},
            "failure_modes": {"misidentified": 30, "timeout": 6},
        },
        "mindpalace": {
            "tasks": 40,
            "hl_sr": 0.5,
            "tokens_per_task": 1500.0,
            "seconds_per_task": 20.0,
            "by_category": {"time": {"tasks": 20, "hl_sr": 0.6}, "room | visitation": {"tasks": 20, "hl_sr": 0.4}},
            "failure_modes": {"misidentified": 15, "stopped too far": 5},
        },
    }
}


class FindingDoryShapedReport(Suite):
    """Only `report` matters here: the four kinds of plot issue 11 asks for, from the summary."""

    name = "report-double"

    def jobs(self, options: Options, done: Mapping[str, Result]) -> list[Job]:
        return []

    def run(self, job: Job, options: Options, out_dir: Path) -> Result:
        return {}

    def summarize(self, options: Options, records: Sequence[Record]) -> dict[str, Any]:
        return SUMMARY

    def report(self, summary: Mapping[str, Any], records: Sequence[Record]) -> list[ReportItem]:
        agents = summary["agents"]
        by_category = {
            category: {agent: row["by_category"][category]["hl_sr"] for agent, row in agents.items()}
            for category in agents["mindpalace"]["by_category"]
        }
        success = {agent: {c: row["by_category"][c]["hl_sr"] for c in row["by_category"]} for agent, row in agents.items()}
        gain = differences(success, baseline="no_memory")
        return [
            nested_table("HL success per category", by_category, "category"),
            BarChart("HL success per category", by_category, "success", ylim=(0.0, 1.0)),
            BarChart("Memory gain over no memory", {c: {a: gain[a][c] for a in gain} for c in by_category}, "success gain"),
            BarChart("Tokens per task", {a: {"tokens": row["tokens_per_task"]} for a, row in agents.items()}, "tokens"),
            BarChart("Failure modes", {a: row["failure_modes"] for a, row in agents.items()}, "tasks"),
        ]


def test_differences_are_rows_minus_the_baseline_row() -> None:
    values = {"none": {"a": 0.25, "b": 0.5}, "mem": {"a": 0.75, "b": 0.25, "c": 0.1}}
    assert differences(values, "none") == {"mem": {"a": 0.5, "b": -0.25, "c": None}}


def test_nested_tables_and_values_are_formatted() -> None:
    table = nested_table("t", {"x": {"a": 1, "b": 0.12345}, "y": {"c": True}}, "row")
    assert table.columns == ["row", "a", "b", "c"]
    assert table.rows == [["x", 1, 0.12345, None], ["y", None, None, True]]
    assert [format_value(v) for v in (None, True, 3, 0.12345, 12345.6, math.nan, ["a"])] == [
        "-",
        "yes",
        "3",
        "0.123",
        "12,346",
        "n/a",
        '["a"]',
    ]


def test_a_suite_report_writes_tables_and_charts(tmp_path: Path) -> None:
    run = {"suite": "report-double", "options": {"days": 3}, "invocations": []}
    failed = Record("job|1", {"key": "job|1"}, "failed", 2, None, "Traceback\nValueError: <i>bad</i>", 0.1, "host:1", "now")
    write_report(tmp_path, FindingDoryShapedReport(), run, SUMMARY, [failed])
    charts = sorted(path.name for path in (tmp_path / "report_files").glob("*.png"))
    assert len(charts) == 4
    markdown = (tmp_path / "report.md").read_text()
    page = (tmp_path / "report.html").read_text()
    assert "| room \\| visitation | 0.15 | 0.4 |" in markdown  # a pipe in a cell does not split it
    assert "job\\|1" in markdown and "ValueError: <i>bad</i>" in markdown
    assert "ValueError: &lt;i&gt;bad&lt;/i&gt;" in page and "<i>bad" not in page
    assert all(f"report_files/{name}" in page and f"report_files/{name}" in markdown for name in charts)

    # A second report into the folder replaces the first one's charts.
    class TableOnly(FindingDoryShapedReport):
        def report(self, summary: Mapping[str, Any], records: Sequence[Record]) -> list[ReportItem]:
            return [Table("only a table", ["a"], [[1]])]

    write_report(tmp_path, TableOnly(), run, SUMMARY, [])
    assert not list((tmp_path / "report_files").glob("*.png"))
