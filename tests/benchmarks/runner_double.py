"""A test double of a benchmark suite, for the runner's tests: cheap seeded jobs, some of which fail on purpose.

Each job logs its start to DIR/attempts.log (so a test can count how often a job ran), sleeps a little and
draws a seeded number. Chosen jobs raise an exception, or kill their own worker process with SIGKILL, on the
first attempt or on every attempt. With --derived, a second round of jobs is listed once the first is done,
each built from a first-round result (as FindingDory lists a day's tasks once the day is recorded).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.benchmarks.report import BarChart, ReportItem, Table
from mindpalace.benchmarks.suite import Job, Options, Record, Result, Suite

ATTEMPTS_LOG = "attempts.log"


def _indices(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


class DoubleSuite(Suite):
    name = "runner-double"
    description = "A test double: seeded numbers, with failures on purpose."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--jobs", type=int, default=6)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--sleep-ms", type=float, default=0.0)
        parser.add_argument("--label", default="plain")
        parser.add_argument("--derived", action="store_true", help="a second round of jobs built from the first's results")
        for kind in ("crash", "fail"):
            for when in ("once", "always"):
                parser.add_argument(f"--{kind}-{when}", default="", help="comma-separated job indices")

    def options(self, args: argparse.Namespace) -> Options:
        return {
            "jobs": args.jobs,
            "seed": args.seed,
            "sleep_ms": args.sleep_ms,
            "label": args.label,
            "derived": args.derived,
            **{
                f"{kind}_{when}": _indices(getattr(args, f"{kind}_{when}"))
                for kind in ("crash", "fail")
                for when in ("once", "always")
            },
        }

    def jobs(self, options: Options, done: Mapping[str, Result]) -> list[Job]:
        jobs = []
        for index in range(options["jobs"]):
            crash = "always" if index in options["crash_always"] else "once" if index in options["crash_once"] else None
            fail = "always" if index in options["fail_always"] else "once" if index in options["fail_once"] else None
            jobs.append(
                {
                    "key": f"job-{index:03d}",
                    "seed": options["seed"] + index,
                    "sleep_ms": options["sleep_ms"],
                    "crash": crash,
                    "fail": fail,
                }
            )
        if options["derived"] and all(job["key"] in done for job in jobs):
            jobs += [
                {
                    **job,
                    "key": f"derived-{index:03d}",
                    "seed": job["seed"] + 1000,
                    "base": done[job["key"]]["value"],
                    "crash": None,
                    "fail": None,
                }
                for index, job in enumerate(list(jobs))
            ]
        return jobs

    def run(self, job: Job, options: Options, out_dir: Path) -> Result:
        with (out_dir / ATTEMPTS_LOG).open("a") as log:
            log.write(f"{job['key']} {os.getpid()}\n")
        time.sleep(job["sleep_ms"] / 1000.0)
        first = _first_attempt(out_dir, job["key"])
        if job["crash"] == "always" or (job["crash"] == "once" and first):
            os.kill(os.getpid(), signal.SIGKILL)
        if job["fail"] == "always" or (job["fail"] == "once" and first):
            raise RuntimeError(f"<b>deliberate</b> failure of {job['key']}")
        value = int(np.random.default_rng(job["seed"]).integers(0, 1_000_000)) + job.get("base", 0)
        # Drawn from the global RNGs, which the runner seeds per job: the same wherever the job runs.
        return {"value": value, "label": options["label"], "global_draw": random.random() + float(np.random.random())}

    def summarize(self, options: Options, records: Sequence[Record]) -> dict[str, Any]:
        ok = [record for record in records if record.ok and record.result is not None]
        return {
            "jobs": len(records),
            "ok": len(ok),
            "total": sum(record.result["value"] for record in ok if record.result),
            "label": options["label"],
        }

    def report(self, summary: Mapping[str, Any], records: Sequence[Record]) -> list[ReportItem]:
        label = summary["label"]
        values = {record.key: {label: record.result["value"] if record.result else None} for record in records}
        return [
            Table(
                f"Totals for {label}",
                ["label", "jobs", "ok", "total"],
                [[label, summary["jobs"], summary["ok"], summary["total"]]],
                label,
            ),
            BarChart(f"Values of {label}", values, "value"),
        ]


def _first_attempt(out_dir: Path, key: str) -> bool:
    """True the first time it is asked about `key` in this folder (a marker file), for failures on the first attempt."""
    markers = out_dir / "first-attempts"
    markers.mkdir(exist_ok=True)
    try:
        (markers / key).touch(exist_ok=False)
    except FileExistsError:
        return False
    return True


def attempts(out_dir: Path) -> list[str]:
    """The keys of the jobs started in `out_dir`, in the order they started (one per attempt)."""
    path = out_dir / ATTEMPTS_LOG
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []
