"""`mindpalace demo`, `mindpalace run` and `mindpalace perf planner`, run as a user runs them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mindpalace.benchmarks.failure_cause import FAILURE_CAUSES
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
    # Each failure has the benchmark's diagnosis, a success none (names external checks read).
    assert summary["succeeded"] == sum(row["success"] for row in rows) and summary["instructions"] == len(rows)
    assert all((row["failure_cause"] is None) == row["success"] for row in rows)
    assert {row["failure_cause"] for row in rows} <= {None, *FAILURE_CAUSES}
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
        assert math.isfinite(figures[key]) and figures[key] > 0, key
    assert figures["score_overhead_ms_p95"] >= figures["score_overhead_ms_p50"]


def _run(tmp_path: Path, out: Path, task: str, *extra: str) -> dict:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"replies": ["look_around()", "done()"]}))
    argv = ["run", "--rooms", "3", "--planner", "scripted", "--mode", "generate", "--script", str(script)]
    assert main([*argv, "--task", task, "--out", str(out), *extra]) == 0
    return json.loads((out / "summary.json").read_text())


def test_run_bank_continues_a_memory_and_never_removes_one(tmp_path: Path) -> None:
    first = _run(tmp_path, tmp_path / "first", "Look around once.", "--no-day", "--seed", "1")
    bank = Path(first["bank"])
    assert bank.parent == tmp_path / "first" / "banks" and not first["continued"]
    world = bank.with_suffix(".world.npz")
    assert world.exists()
    from mindpalace.memory.system import MemorySystem

    with MemorySystem.open(bank) as memory:
        tasks_before = {e["arguments"]["text"] for e in memory.export()["events"] if e["action"] == "task"}
    # A second process continues the same bank: the env and seed it was built in, the world as it was left.
    second = _run(tmp_path, tmp_path / "second", "Look around again.", "--bank", str(bank))
    assert second["continued"] and second["bank"] == str(bank) and second["seed"] == 1
    with MemorySystem.open(bank) as memory:
        tasks = {e["arguments"]["text"] for e in memory.export()["events"] if e["action"] == "task"}
    assert tasks_before == {"Look around once."} and tasks == {"Look around once.", "Look around again."}
    # Running again into the same output folder makes a new bank beside the old one, never over it.
    third = _run(tmp_path, tmp_path / "first", "Look around a third time.", "--no-day", "--seed", "1")
    assert third["bank"] != str(bank) and bank.exists() and Path(third["bank"]).exists()


def test_config_errors_name_the_known_choices(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bad"
    cases = [
        (["--set", "llm.type=gpt5"], "unknown llm backend 'gpt5'; registered: local, openai, scripted"),
        (["--set", "perception.segmenter.type=yolo"], "unknown segmenter 'yolo'; registered: depth_clusters, ground_truth"),
        (["--set", "env.widht=320"], "unknown config keys ['widht']; known: ['articulation_time'"),
        (["--set", "plannr.mode=score"], "unknown config keys ['plannr']; known: ['budget', 'env', 'llm'"),
        (["--set", "memory.preset=hippocampus"], "unknown memory preset 'hippocampus'; known: 3dmem, karma, mem4nav"),
        (["--set", "llm.type=openai", "--set", "llm.modle=x"], "takes no argument 'modle'; it takes: api_key"),
        (["--seed", "-1"], "seed must be >= 0"),
    ]
    for extra, message in cases:
        assert main(["run", "--task", "x", "--out", str(out), *extra]) == 2, extra
        assert message in capsys.readouterr().err, extra
    assert not out.exists()  # nothing is left behind by a config that fails its checks
