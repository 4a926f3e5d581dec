"""`mindpalace bench findingdory` through the generic runner: summary.json's shape, a user's templates file through
the command, a run killed midway that resumes and redoes only what was in flight, and the same results on a local
Ray as in this process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mindpalace.benchmarks.findingdory.suite import FindingDorySuite
from mindpalace.benchmarks.run_dir import RESULTS_FILE, ResultsFile
from mindpalace.benchmarks.suite import Record
from mindpalace.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
TINY = ["--days", "1", "--seed", "2", "--rooms", "3", "--width", "160", "--height", "120", "--interactions", "2-2"]
USERS = """version: 1
templates:
  - {id: where_from, category: room_visitation, goal: single, kind: room_of_nth, params: {end: source},
     text: 'Where did the {ordinal} thing you tidied come from? Walk into that room.'}
  - {id: tidied_all, category: unordered_revisitation, goal: multi_unordered, kind: all_of, params: {what: moved_objects},
     text: 'Stop by each thing you tidied, one after another.'}
  - {id: seen_furniture, category: object_recall, goal: single, kind: recall_furniture,
     text: 'Is there a {furniture_type} around? Show me.'}
"""


def records(out: Path) -> list[Record]:
    return ResultsFile(out / RESULTS_FILE).load()


def task_results(out: Path) -> dict[str, dict]:
    return {
        r.key: {k: r.result[k] for k in ("hl_success", "hl_spl", "failure_mode")}
        for r in records(out)
        if r.ok and r.job["type"] == "task"
    }


def record(key: str, agent: str, category: str, kind: str, hl: bool, ll: bool | None, tokens: int = 0) -> Record:
    task = {"id": key, "category": category, "kind": kind}
    job = {"key": f"{agent}/{key}", "type": "task", "agent": agent, "task": task, "low_level": ll is not None}
    result = {"agent": agent, "category": category, "kind": kind, "hl_success": hl, "ll_success": ll, "hl_spl": 0.5 * hl,
              "ll_spl": None if ll is None else 0.4 * ll, "failure_mode": None if hl else "misidentified", "tokens": tokens,
              "seconds": 2.0, "chance": 0.25}  # fmt: skip
    return Record(job["key"], job, "ok", 1, result, None, 2.0, "host:1", "now")


def test_the_summary_has_the_issues_keys_and_counts_unfinished_jobs_as_failures() -> None:
    options = {"days": 1, "agents": ["no_memory", "mindpalace"], "seed": 0, "low_level": ["mindpalace"], "templates": None,
               "set": [], "day": {"n_rooms": 3, "width": 160, "height": 120, "interactions": [2, 2]}}  # fmt: skip
    crashed = record("t3", "mindpalace", "time", "at_time", False, False)
    crashed = Record(crashed.key, crashed.job, "failed", 2, None, "worker died", 1.0, "host:2", "now")
    rows = [
        record("t1", "no_memory", "time", "at_time", False, None, 100),
        record("t2", "no_memory", "duration", "duration", True, None, 300),
        record("t1", "mindpalace", "time", "at_time", True, True, 50),
        record("t2", "mindpalace", "duration", "duration", True, False, 150),
        crashed,
    ]
    summary = FindingDorySuite().summarize(options, rows)
    assert set(summary["agents"]) == {"no_memory", "mindpalace"}
    mine = summary["agents"]["mindpalace"]
    keys = {"tasks", "hl_sr", "ll_sr", "hl_spl", "ll_spl", "tokens_per_task", "seconds_per_task", "by_category"}
    assert set(mine) == keys
    assert mine["tasks"] == 3 and mine["hl_sr"] == round(2 / 3, 4) and mine["ll_sr"] == round(1 / 3, 4)
    assert mine["by_category"]["time"] == {"tasks": 2, "hl_sr": 0.5, "ll_sr": 0.5}
    assert summary["agents"]["no_memory"]["ll_sr"] is None  # it did not drive
    assert summary["agents"]["no_memory"]["tokens_per_task"] == 200.0
    assert summary["memory_gain"]["mindpalace"] == {"at_time": 0.5, "duration": 0.0}
    assert summary["failure_modes"]["mindpalace"] == {"success": 2, "invalid_answer": 1}
    json.dumps(summary)
    assert FindingDorySuite().report(summary, rows)  # tables and charts build from it


@pytest.mark.slow
def test_a_users_templates_file_runs_through_the_bench_command_and_a_killed_run_resumes(tmp_path: Path) -> None:
    templates = tmp_path / "mine.yaml"
    templates.write_text(USERS)
    out = tmp_path / "run"
    arguments = [*TINY, "--agents", "chance,oracle_answer", "--templates", str(templates), "--hl-only"]
    arguments += ["--workers", "1", "--out", str(out), "--no-progress"]
    command = [sys.executable, "-m", "mindpalace.cli.main", "bench", "findingdory", *arguments]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    runner = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 300
        while sum(r.job["type"] == "task" for r in records(out)) < 1:
            assert runner.poll() is None, runner.stderr.read().decode() if runner.stderr else ""
            assert time.monotonic() < deadline, "no task recorded in time"
            time.sleep(0.05)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    before = {r.key for r in records(out)}
    assert "day/a2-d2-r3-160x120-k2_2" in before

    assert main(["bench", "findingdory", *arguments]) == 0
    final = records(out)
    counts = Counter(r.key for r in final)
    assert all(count == 1 for count in counts.values()), counts  # a job recorded before the kill is not run again
    assert set(before) <= set(counts)
    tasks = [r for r in final if r.job["type"] == "task"]
    assert {r.job["task"]["id"] for r in tasks} <= {"where_from", "tidied_all", "seen_furniture"}
    assert any("tidied" in r.result["instruction"] for r in tasks)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agents"]["oracle_answer"]["hl_sr"] == 1.0
    assert summary["agents"]["oracle_answer"]["tasks"] == len(tasks) // 2
    assert (out / "report.md").is_file()


@pytest.mark.slow
def test_the_suite_runs_on_a_local_ray_with_the_results_of_this_process(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    templates = tmp_path / "mine.yaml"
    templates.write_text(USERS)
    arguments = [*TINY, "--agents", "chance,oracle_answer", "--templates", str(templates), "--hl-only", "--no-progress"]
    assert main(["bench", "findingdory", *arguments, "--workers", "0", "--out", str(tmp_path / "inline")]) == 0
    assert main(["bench", "findingdory", *arguments, "--ray", "--workers", "2", "--out", str(tmp_path / "ray")]) == 0
    inline, ray = task_results(tmp_path / "inline"), task_results(tmp_path / "ray")
    assert inline and ray == inline
    run = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert run["invocations"][0]["executor"] == "a local Ray (2 jobs at a time)"


def test_one_agents_tasks_of_a_day_come_in_a_row() -> None:
    # Then a planner's prefix cache holds what they share (for full_context, the whole day log).
    suite = FindingDorySuite()
    options = {"days": 1, "agents": ["no_memory", "full_context", "chance"], "seed": 2, "low_level": [], "templates": None,
               "set": [], "day": {"n_rooms": 3, "width": 160, "height": 120, "interactions": [2, 2]}}  # fmt: skip
    day = next(job for job in suite.jobs(options, {}) if job["type"] == "day")
    tasks = [{"id": f"t{i}", "category": "time", "kind": "at_time"} for i in range(3)]
    done = {day["key"]: {"tasks": tasks}, f"prepare/full_context/{day['key'].split('/', 1)[1]}": {}}
    agents = [job["agent"] for job in suite.jobs(options, done) if job["type"] == "task"]
    assert agents == ["no_memory"] * 3 + ["full_context"] * 3 + ["chance"] * 3
