"""`mindpalace bench smoke`: light seeded jobs of a fixed amount of work.

Checks that a machine or a Ray cluster runs mindpalace jobs end to end (workers import the package, results come
back, the report is written) before a long run is started there, and measures the runner's own throughput:
each job waits `--sleep-ms` (like a job waiting on a remote model) and then sums `--draws` seeded normal draws
(CPU work), so its result depends only on its seed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.benchmarks.report import BarChart, ReportItem, nested_table
from mindpalace.benchmarks.suite import Job, Options, Record, Result, Suite


class SmokeSuite(Suite):
    name = "smoke"
    description = "Light seeded jobs of fixed work, to check a machine or a Ray cluster and to measure the runner."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--jobs", type=int, default=40, help="jobs per group")
        parser.add_argument("--groups", default="a,b", help="comma-separated group names (each gets --jobs jobs)")
        parser.add_argument("--sleep-ms", type=float, default=200.0, help="each job waits this long")
        parser.add_argument("--draws", type=int, default=100_000, help="each job sums this many seeded normal draws")
        parser.add_argument("--seed", type=int, default=0, help="job n (counting over all groups) uses seed S + n")

    def options(self, args: argparse.Namespace) -> Options:
        groups = [name.strip() for name in args.groups.split(",") if name.strip()]
        if not groups or len(set(groups)) != len(groups):
            raise ValueError(f"--groups needs distinct comma-separated names, got {args.groups!r}")
        if args.jobs < 1 or args.sleep_ms < 0 or args.draws < 1:
            raise ValueError("--jobs and --draws must be at least 1 and --sleep-ms not negative")
        return {"jobs": args.jobs, "groups": groups, "sleep_ms": args.sleep_ms, "draws": args.draws, "seed": args.seed}

    def jobs(self, options: Options, done: Mapping[str, Result]) -> list[Job]:
        jobs: list[Job] = []
        for group in options["groups"]:
            for index in range(options["jobs"]):
                seed = options["seed"] + len(jobs)
                jobs.append(
                    {
                        "key": f"{group}/{index:05d}",
                        "group": group,
                        "seed": seed,
                        "sleep_ms": options["sleep_ms"],
                        "draws": options["draws"],
                    }
                )
        return jobs

    def run(self, job: Job, options: Options, out_dir: Path) -> Result:
        time.sleep(job["sleep_ms"] / 1000.0)
        draws = np.random.default_rng(job["seed"]).standard_normal(size=job["draws"])
        return {"value": float(np.sum(draws))}

    def summarize(self, options: Options, records: Sequence[Record]) -> dict[str, Any]:
        groups: dict[str, Any] = {}
        for group in options["groups"]:
            mine = [record for record in records if record.job["group"] == group]
            ok = [record for record in mine if record.ok and record.result is not None]
            groups[group] = {
                "jobs": len(mine),
                "failed": len(mine) - len(ok),
                "value_sum": float(sum(record.result["value"] for record in ok if record.result)),
                "seconds_per_job": float(np.mean([record.seconds for record in ok])) if ok else None,
            }
        return {"groups": groups}

    def report(self, summary: Mapping[str, Any], records: Sequence[Record]) -> list[ReportItem]:
        groups = summary["groups"]
        return [
            nested_table("Groups", groups, "group"),
            BarChart("Seconds per job", {name: {"seconds": row["seconds_per_job"]} for name, row in groups.items()}, "s"),
        ]
