"""The benchmark runner on a test double of a suite: processes, resume after a kill, crashes, refusals, Ray."""

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
from runner_double import attempts

from mindpalace.benchmarks.run_dir import RESULTS_FILE, ResultsFile
from mindpalace.benchmarks.suite import Record
from mindpalace.benchmarks.suites import SUITES
from mindpalace.benchmarks.workers import threads_per_worker
from mindpalace.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
if "runner-double" not in SUITES.names():
    SUITES.register("runner-double", "runner_double:DoubleSuite")


def bench(out: Path, *arguments: str, workers: int = 0) -> int:
    return main(["bench", "runner-double", *arguments, "--workers", str(workers), "--out", str(out), "--no-progress"])


def records(out: Path) -> list[Record]:
    return ResultsFile(out / RESULTS_FILE).load()


def ok_results(out: Path) -> dict[str, dict]:
    return {record.key: record.result for record in records(out) if record.ok}


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_worker_processes_give_the_same_results_as_this_process(tmp_path: Path) -> None:
    arguments = ("--jobs", "5", "--seed", "7", "--derived")
    for workers in (0, 1, 2):
        assert bench(tmp_path / f"w{workers}", *arguments, workers=workers) == 0
    reference = ok_results(tmp_path / "w0")
    assert len(reference) == 10  # 5 jobs, then 5 derived from their results in a second round
    assert reference["derived-002"]["value"] > reference["job-002"]["value"]
    for workers in (1, 2):
        assert ok_results(tmp_path / f"w{workers}") == reference
        assert summary(tmp_path / f"w{workers}") == summary(tmp_path / "w0")
    workers_used = {record.worker for record in records(tmp_path / "w2")}
    assert len(workers_used) == 2


@pytest.mark.slow
def test_a_crashed_worker_loses_only_its_job_which_is_retried_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = bench(out, "--jobs", "6", "--crash-once", "1", "--crash-always", "3", "--fail-once", "4", workers=2)
    assert code == 1  # job 3 failed both attempts
    by_key: dict[str, list[Record]] = {}
    for record in records(out):
        by_key.setdefault(record.key, []).append(record)
    assert [r.status for r in by_key["job-001"]] == ["failed", "ok"]
    assert "died" in by_key["job-001"][0].error and "SIGKILL" in by_key["job-001"][0].error
    assert [r.status for r in by_key["job-003"]] == ["failed", "failed"]
    assert [r.attempt for r in by_key["job-003"]] == [1, 2]
    assert [r.status for r in by_key["job-004"]] == ["failed", "ok"]
    assert "RuntimeError: <b>deliberate</b> failure of job-004" in by_key["job-004"][0].error
    for key in ("job-000", "job-002", "job-005"):
        assert [r.status for r in by_key[key]] == ["ok"]
    assert Counter(attempts(out)) == {"job-000": 1, "job-001": 2, "job-002": 1, "job-003": 2, "job-004": 2, "job-005": 1}
    assert summary(out)["ok"] == 5

    # A rerun retries only the job that failed (which fails again), and keeps the rest.
    assert bench(out, "--jobs", "6", "--crash-once", "1", "--crash-always", "3", "--fail-once", "4", workers=1) == 1
    assert Counter(attempts(out))["job-003"] == 4
    assert sum(Counter(attempts(out)).values()) == 11
    assert [r.attempt for r in records(out) if r.key == "job-003"] == [1, 2, 3, 4]


@pytest.mark.slow
def test_a_run_killed_midway_resumes_and_redoes_only_the_jobs_in_flight(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)])}
    arguments = ["--jobs", "16", "--sleep-ms", "300", "--workers", "2", "--out", str(out), "--no-progress"]
    command = [sys.executable, "-m", "mindpalace.cli.main", "bench", "runner_double:DoubleSuite", *arguments]
    runner = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while len(records(out)) < 5:
            assert runner.poll() is None, runner.stderr.read().decode() if runner.stderr else ""
            assert time.monotonic() < deadline, "the runner recorded too few jobs in time"
            time.sleep(0.05)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        # Its workers notice the runner is gone and exit by themselves.
        deadline = time.monotonic() + 30
        while _group_alive(runner.pid):
            assert time.monotonic() < deadline, "worker processes outlived the killed runner"
            time.sleep(0.1)
    finally:
        if _group_alive(runner.pid):
            os.killpg(runner.pid, signal.SIGKILL)
    done_before = {record.key for record in records(out)}
    started_before = Counter(attempts(out))
    assert 5 <= len(done_before) < 16

    assert main(["bench", "runner_double:DoubleSuite", *arguments]) == 0
    final = records(out)
    assert sorted(record.key for record in final) == [f"job-{i:03d}" for i in range(16)]  # each recorded once
    assert all(record.ok for record in final)
    started = Counter(attempts(out))
    redone = {key for key, count in started.items() if count > 1}
    assert redone <= set(started_before) - done_before  # only jobs that were in flight at the kill
    assert len(redone) <= 2  # at most one per worker
    assert all(count <= 2 for count in started.values())


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_job_over_its_time_limit_fails_and_its_worker_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert bench(out, "--jobs", "2", "--sleep-ms", "60000", "--job-timeout", "0.5", "--retries", "0", workers=2) == 1
    assert [record.status for record in records(out)] == ["failed", "failed"]
    assert all("timed out after 0.5 s" in record.error for record in records(out))
    assert bench(tmp_path / "inline", "--job-timeout", "1", workers=0) == 2  # cannot be enforced in this process


def test_a_line_cut_short_by_a_kill_is_dropped_and_its_job_redone(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert bench(out, "--jobs", "3") == 0
    path = out / RESULTS_FILE
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]) + lines[2][:25])  # the last record half written
    assert bench(out, "--jobs", "3") == 0
    assert [record.key for record in records(out)] == ["job-000", "job-001", "job-002"]
    assert Counter(attempts(out)) == {"job-000": 1, "job-001": 1, "job-002": 2}


def test_a_rerun_with_other_arguments_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert bench(out, "--jobs", "3", "--seed", "1") == 0
    assert bench(out, "--jobs", "4", "--seed", "1") == 2
    error = capsys.readouterr().err
    assert "other arguments" in error and "jobs: 3 in the folder, 4 now" in error
    assert main(["bench", "smoke", "--out", str(out), "--no-progress"]) == 2
    assert "not 'smoke'" in capsys.readouterr().err
    assert len(records(out)) == 3
    assert bench(out, "--jobs", "3", "--seed", "1") == 0  # the same arguments resume (nothing left to do)
    assert Counter(attempts(out)) == {"job-000": 1, "job-001": 1, "job-002": 1}


def test_the_report_is_written_and_escapes_html(tmp_path: Path) -> None:
    out = tmp_path / "run"
    label = "<script>alert('x')</script>"
    assert bench(out, "--jobs", "3", "--label", label, "--fail-always", "1") == 1
    page = (out / "report.html").read_text()
    markdown = (out / "report.md").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;deliberate&lt;/b&gt;" in page and "<b>deliberate" not in page  # the failed job's error
    assert "Failed jobs" in markdown and "job-001" in markdown
    charts = sorted((out / "report_files").glob("*.png"))
    assert len(charts) == 1 and charts[0].stat().st_size > 1000
    assert f"report_files/{charts[0].name}" in page and f"report_files/{charts[0].name}" in markdown
    run = json.loads((out / "run.json").read_text())
    assert run["suite"] == "runner-double" and run["options"]["label"] == label
    assert run["invocations"][0]["jobs_ok"] == 2 and run["invocations"][0]["jobs_failed"] == 1


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "smoke", "--help"])
    assert exit_.value.code == 0
    assert "--draws" in capsys.readouterr().out
    assert main(["bench", "no-such-suite", "--out", str(tmp_path)]) == 2
    assert "unknown benchmark suite 'no-such-suite'" in capsys.readouterr().err
    smoke = ["bench", "smoke", *"--jobs 2 --sleep-ms 0 --draws 10 --workers 0".split(), "--out", str(tmp_path / "smoke")]
    assert main([*smoke, "--no-progress"]) == 0
    assert "smoke: 4 of 4 jobs ok" in capsys.readouterr().out
    assert set(summary(tmp_path / "smoke")["groups"]) == {"a", "b"}


@pytest.mark.slow
def test_jobs_run_on_a_local_ray(tmp_path: Path) -> None:
    """One local Ray (2 CPUs, no dashboard) for the whole Ray path: same results, a crashed Ray worker retried."""
    pytest.importorskip("ray")
    arguments = ("--jobs", "6", "--seed", "3", "--crash-once", "2")
    assert bench(tmp_path / "inline", "--jobs", "6", "--seed", "3", workers=0) == 0
    code = main(
        ["bench", "runner-double", *arguments, "--ray", "--workers", "2", "--out", str(tmp_path / "ray"), "--no-progress"]
    )
    assert code == 0
    assert ok_results(tmp_path / "ray") == ok_results(tmp_path / "inline")
    crashed = [record for record in records(tmp_path / "ray") if record.key == "job-002"]
    assert [record.status for record in crashed] == ["failed", "ok"]
    assert "Ray task failed" in crashed[0].error
    run = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert run["invocations"][0]["executor"] == "a local Ray (2 jobs at a time)"


def test_worker_threads_share_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinned to one core of a larger machine (taskset), two workers get one thread each, not half the machine."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {1})
    assert threads_per_worker(1) == 1 and threads_per_worker(2) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert threads_per_worker(2) == 4 and threads_per_worker(3) == 2
