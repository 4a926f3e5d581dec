"""`mindpalace demo`, `mindpalace run` and `mindpalace perf planner`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mindpalace.cli.main import main


def test_demo_runs_offline_with_the_local_model(tmp_path: Path) -> None:
    """The README's main job, smaller: a remembered day, then every instruction with SmolLM2-135M."""
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "mindpalace.cli.main", "demo", "--rooms", "4", "--max-steps", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "MUJOCO_GL": "egl"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["instructions"] >= 5
    assert summary["invalid_env_actions"] == 0
    rows = summary["episodes"]
    assert {"instruction", "success", "steps", "memory_calls", "tokens", "time_s"} <= set(rows[0])
    assert all(row["memory_calls"] >= 1 and row["tokens"] > 0 for row in rows)
    # The summary table is printed, and the report shows steps, frames and maps.
    assert "instruction" in result.stdout and "memory_calls" in result.stdout
    report = (out / "report.md").read_text()
    for row in rows:
        assert row["instruction"].split()[0] in report
    assert list((out / "frames").glob("*.png")) and list((out / "maps").glob("*.png"))
    assert "<script" not in (out / "report.html").read_text().lower()


def test_run_with_a_scripted_planner_writes_a_report(tmp_path: Path, capsys) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"replies": ["look_around()", "explore()", "done()"]}))
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                "--no-day",
                "--rooms",
                "3",
                "--planner",
                "scripted",
                "--mode",
                "generate",
                "--script",
                str(script),
                "--task",
                "Look around, explore, then stop.",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = json.loads((out / "summary.json").read_text())["episodes"]
    assert rows[0]["steps"] == 3 and rows[0]["reason"] == "done"
    assert "look_around()" in (out / "report.md").read_text()
    assert "report:" in capsys.readouterr().out


def test_run_needs_a_script_for_the_scripted_planner(tmp_path: Path, capsys) -> None:
    assert main(["run", "--planner", "scripted", "--task", "x", "--out", str(tmp_path)]) == 2
    assert "--script" in capsys.readouterr().err


def test_perf_planner_prints_the_figures_issues_name(capsys) -> None:
    assert main(["perf", "planner", "--json", "--decisions", "3"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("overhead_ms_per_step", "score_overhead_ms_p50", "score_overhead_ms_p95", "generate_overhead_ms_p50"):
        assert figures[key] >= 0
