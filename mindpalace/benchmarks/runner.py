"""The benchmark runner: a suite's jobs over processes or Ray, resumable, then its summary and report.

A run lives in one output folder (see run_dir.py). The runner lists the suite's jobs, skips those with an "ok"
record in DIR/results.jsonl, and runs the rest on an executor, appending every finished attempt to the results
file as it arrives (so a kill loses only the jobs in flight). A failed attempt (an exception, a crashed worker,
a timeout) is recorded with its error and retried `retries` times; a job still failing is reported as failed
and left for the next rerun. Suites whose later jobs depend on earlier results are run in rounds (see
`Suite.jobs`). At the end the suite summarizes the final record of every job into DIR/summary.json, and the
report (DIR/report.md, DIR/report.html, plots) is written from that summary.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm

from mindpalace.benchmarks.execution import Executor, InlineExecutor, Outcome
from mindpalace.benchmarks.report import last_line, write_report
from mindpalace.benchmarks.run_dir import RESULTS_FILE, RUN_FILE, SUMMARY_FILE, ResultsFile, claim, locked, write_json
from mindpalace.benchmarks.suite import Job, Options, Record, Result, Suite
from mindpalace.benchmarks.suites import SuiteSpec

TICK_S = 1.0  # how often the progress bar is redrawn while jobs run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunnerConfig:
    out_dir: Path
    workers: int | None = None  # processes (default 1; 0 = in this process); with `ray`, jobs at a time (default: all CPUs)
    ray: str | None = None  # None: processes; "local": a local Ray started for the run; else a cluster address
    retries: int = 1  # more attempts for a job that failed, in the same invocation
    job_timeout_s: float | None = None  # a job running longer fails (its worker is killed, its Ray task cancelled)
    progress: bool = True


@dataclass
class Invocation:
    """One `mindpalace bench` call on a folder: what it ran and how fast (kept in DIR/run.json)."""

    command: str
    started: str
    executor: str = ""
    jobs_listed: int = 0
    jobs_skipped: int = 0  # already done by an earlier invocation
    jobs_ok: int = 0
    jobs_failed: int = 0  # failed every attempt in this invocation
    attempts: int = 0
    startup_s: float = 0.0  # starting the workers or Ray
    wall_s: float = 0.0  # from the first job submitted to the last one recorded
    jobs_per_hour: float = 0.0  # (jobs_ok + jobs_failed) / wall_s

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Ledger:
    """The attempts so far, from the results file and this invocation."""

    records: dict[str, list[Record]] = field(default_factory=dict)
    tried_now: set[str] = field(default_factory=set)  # keys attempted in this invocation

    def add(self, record: Record) -> None:
        self.records.setdefault(record.key, []).append(record)

    def ok(self, key: str) -> bool:
        return any(record.ok for record in self.records.get(key, ()))

    def final(self, key: str) -> Record | None:
        """The job's first ok attempt, else its last failed one."""
        attempts = self.records.get(key, [])
        return next((record for record in attempts if record.ok), attempts[-1] if attempts else None)

    def done(self) -> dict[str, Result]:
        return {
            key: record.result for key in self.records if (record := self.final(key)) and record.ok and record.result is not None
        }


def run_suite(spec: SuiteSpec, options: Options, config: RunnerConfig, command: str = "") -> tuple[Invocation, list[Record]]:
    """Run (or resume) `spec` with `options` into config.out_dir; returns this invocation and every job's final record."""
    suite = spec.create()
    out_dir = config.out_dir
    invocation = Invocation(command=command, started=_now())
    with locked(out_dir):
        run = claim(out_dir, spec.name, options)
        results = ResultsFile(out_dir / RESULTS_FILE)
        ledger = _Ledger()
        for record in results.load():
            ledger.add(record)
        executor: Executor | None = None
        first_submit = 0.0
        listed: list[Job] = []
        try:
            for round_number in itertools.count(1):
                listed = _checked(suite, suite.jobs(options, ledger.done()))
                pending = [job for job in listed if not ledger.ok(job["key"]) and job["key"] not in ledger.tried_now]
                if round_number == 1:
                    invocation.jobs_skipped = len(listed) - len(pending)
                    if invocation.jobs_skipped:
                        tqdm.write(f"{spec.name}: {invocation.jobs_skipped} of {len(listed)} jobs already done in {out_dir}")
                if not pending:
                    break
                if executor is None:
                    start = time.monotonic()
                    executor = _executor(spec, suite, options, config)
                    invocation.startup_s = time.monotonic() - start
                    invocation.executor = executor.description
                    first_submit = time.monotonic()
                desc = spec.name if round_number == 1 else f"{spec.name} (round {round_number})"
                _run_round(executor, pending, results, ledger, config, invocation, desc)
            if executor is not None:
                invocation.wall_s = time.monotonic() - first_submit
        finally:
            if executor is not None:
                executor.close()
            results.close()
        invocation.jobs_listed = len(listed)
        finished = invocation.jobs_ok + invocation.jobs_failed
        invocation.jobs_per_hour = 3600.0 * finished / invocation.wall_s if invocation.wall_s > 0 else 0.0
        records = [final for job in listed if (final := ledger.final(job["key"])) is not None]
        summary = suite.summarize(options, records)
        write_json(out_dir / SUMMARY_FILE, summary)
        run["invocations"].append(invocation.to_json())
        write_json(out_dir / RUN_FILE, run)
        write_report(out_dir, suite, run, summary, records)
    return invocation, records


def _executor(spec: SuiteSpec, suite: Suite, options: Options, config: RunnerConfig) -> Executor:
    if config.ray is not None:
        from mindpalace.benchmarks.ray_executor import RayExecutor

        if config.workers is not None and config.workers < 1:
            raise ValueError("--workers with --ray is the number of jobs at a time: at least 1")
        return RayExecutor(spec, options, config.out_dir, config.ray, config.workers, config.job_timeout_s)
    workers = 1 if config.workers is None else config.workers
    if workers == 0:
        if config.job_timeout_s is not None:
            raise ValueError("--job-timeout needs worker processes (--workers 1 or more) or --ray")
        return InlineExecutor(suite, options, config.out_dir)
    from mindpalace.benchmarks.workers import ProcessExecutor

    return ProcessExecutor(spec, options, config.out_dir, workers, config.job_timeout_s)


def _run_round(
    executor: Executor,
    pending: list[Job],
    results: ResultsFile,
    ledger: _Ledger,
    config: RunnerConfig,
    invocation: Invocation,
    desc: str,
) -> None:
    queue = deque(pending)
    jobs = {job["key"]: job for job in pending}
    attempts_now: Counter[str] = Counter()
    running = 0
    with tqdm(total=len(pending), desc=desc, unit="job", disable=not config.progress, dynamic_ncols=True) as bar:
        while queue or running:
            while queue and running < executor.capacity:
                job = queue.popleft()
                executor.submit(job)
                ledger.tried_now.add(job["key"])
                running += 1
            for outcome in executor.wait(TICK_S):
                running -= 1
                job = jobs[outcome.key]
                attempts_now[outcome.key] += 1
                record = _record(outcome, job, attempt=len(ledger.records.get(outcome.key, ())) + 1)
                results.append(record)
                ledger.add(record)
                invocation.attempts += 1
                if record.ok:
                    invocation.jobs_ok += 1
                    bar.update(1)
                elif attempts_now[outcome.key] <= config.retries:
                    tqdm.write(f"{desc}: job {outcome.key} failed ({last_line(record.error)}); retrying it")
                    queue.append(job)
                else:
                    tqdm.write(f"{desc}: job {outcome.key} failed again ({last_line(record.error)}); see {RESULTS_FILE}")
                    invocation.jobs_failed += 1
                    bar.update(1)
            bar.set_postfix(running=running, failed=invocation.jobs_failed, refresh=False)
            bar.refresh()


def _record(outcome: Outcome, job: Job, attempt: int) -> Record:
    return Record(
        key=outcome.key,
        job=job,
        status="ok" if outcome.ok else "failed",
        attempt=attempt,
        result=outcome.result,
        error=outcome.error,
        seconds=round(outcome.seconds, 4),
        worker=outcome.worker,
        finished=_now(),
    )


def _checked(suite: Suite, jobs: list[Job]) -> list[Job]:
    """The listed jobs, or a ValueError naming what is wrong: each a JSON-ready dict with a unique string key."""
    name = type(suite).__name__
    seen: set[str] = set()
    for job in jobs:
        if not isinstance(job, dict) or not isinstance(job.get("key"), str) or not job["key"]:
            raise ValueError(f"{name}.jobs listed {job!r}: a job must be a dict with a non-empty string 'key'")
        if job["key"] in seen:
            raise ValueError(f"{name}.jobs listed the key {job['key']!r} twice")
        seen.add(job["key"])
        try:
            if json.loads(json.dumps(job, allow_nan=False)) != job:
                raise ValueError("it changes in a JSON round trip (tuples, non-string keys?)")
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}.jobs listed job {job['key']!r}, which is not plain JSON: {error}") from error
    return jobs


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
