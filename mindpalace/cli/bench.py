"""`mindpalace bench SUITE [suite options] [--workers K | --ray [ADDRESS]] --out DIR`: run a benchmark suite."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from mindpalace.benchmarks.suite import Suite
from mindpalace.benchmarks.suites import SUITES, suite_spec
from mindpalace.core.registry import RegistryError

RUNNER_HELP = """Runs the suite's jobs in worker processes (spawned) or on Ray, appending each finished job to
DIR/results.jsonl; a rerun with the same arguments skips what is done and retries what failed. Writes
DIR/summary.json, DIR/report.md and DIR/report.html. `mindpalace bench SUITE --help` lists the suite's options."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bench", help="run a benchmark suite (processes or Ray, resumable) and write its report", description=RUNNER_HELP
    )
    parser.add_argument("suite", help=f"a registered suite ({', '.join(SUITES.names())}) or a 'module:Class' entry point")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the suite's and the runner's options")
    parser.set_defaults(run=run_bench)


def suite_parser(name: str, suite: Suite) -> argparse.ArgumentParser:
    """The runner's options plus the suite's own."""
    parser = argparse.ArgumentParser(prog=f"mindpalace bench {name}", description=f"{suite.description}\n\n{RUNNER_HELP}")
    runner = parser.add_argument_group("runner")
    runner.add_argument("--out", required=True, help="the run's output folder (a rerun into it resumes)")
    runner.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default 1; 0 runs the jobs in this process); with --ray, jobs at a time (default: every CPU)",
    )
    runner.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run the jobs on Ray: a local Ray started for the run, or the cluster at ADDRESS (host:6379, 'auto', ray://...)",
    )
    runner.add_argument("--retries", type=int, default=1, help="more attempts for a failed job in this invocation (default 1)")
    runner.add_argument("--job-timeout", type=float, default=None, metavar="S", help="a job running longer than S seconds fails")
    runner.add_argument("--no-progress", action="store_true", help="no progress bar")
    suite.add_arguments(parser)
    return parser


def run_bench(args: argparse.Namespace) -> int:
    from mindpalace.benchmarks.runner import RunnerConfig, run_suite

    try:
        spec = suite_spec(args.suite)
        suite = spec.create()
    except RegistryError as error:
        raise ValueError(str(error)) from error
    parsed = suite_parser(spec.name, suite).parse_args(args.arguments)
    if parsed.retries < 0:
        raise ValueError("--retries must not be negative")
    options = suite.options(parsed)
    config = RunnerConfig(
        out_dir=Path(parsed.out),
        workers=parsed.workers,
        ray=parsed.ray,
        retries=parsed.retries,
        job_timeout_s=parsed.job_timeout,
        progress=not parsed.no_progress,
    )
    command = shlex.join(["mindpalace", "bench", args.suite, *args.arguments])
    try:
        invocation, records = run_suite(spec, options, config, command)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the finished jobs are in {config.out_dir / 'results.jsonl'}; the same command resumes the run")
        return 130
    failed = [record for record in records if not record.ok]
    line = f"{spec.name}: {len(records) - len(failed)} of {len(records)} jobs ok"
    if failed:
        line += f", {len(failed)} failed (the same command retries them)"
    if invocation.wall_s:
        done = invocation.jobs_ok + invocation.jobs_failed
        line += f"; this run: {done} jobs in {invocation.wall_s:.1f} s, {invocation.jobs_per_hour:.0f} jobs/hour on {invocation.executor}"
    print(line)
    print(f"wrote {config.out_dir / 'summary.json'}, report.md and report.html")
    return 1 if failed else 0
