"""The interface between a benchmark suite and the runner: jobs in, JSON results out, a summary and a report.

A suite splits a benchmark run into independent jobs. A job is a JSON-serializable dict with a stable, unique
"key" (the same options list the same keys, so a rerun can tell what is done) and everything the job needs to
run on its own, its seed included: the runner may run it in this process, in a spawned worker process or on a
Ray node, in any order, and retries it after a crash. Running a job returns a JSON-ready result dict. The
runner keeps one `Record` per finished attempt in DIR/results.jsonl and hands the suite the final record of
every job to summarize (DIR/summary.json, whose keys the suite defines) and to report (tables and plots).
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from mindpalace.benchmarks.report import ReportItem

Job = dict[str, Any]  # JSON-serializable; job["key"] is a unique, stable string
Result = dict[str, Any]  # JSON-ready
Options = dict[str, Any]  # JSON-ready; identifies a run (stored in DIR/run.json)
Status = Literal["ok", "failed"]


@dataclass(frozen=True)
class Record:
    """One finished attempt at a job: one line of DIR/results.jsonl."""

    key: str
    job: Job
    status: Status
    attempt: int  # 1 for the first attempt at this key in this output folder, 2 for the next, ...
    result: Result | None  # the suite's result when status is "ok"
    error: str | None  # what went wrong when status is "failed": a traceback, a worker's exit, a timeout
    seconds: float  # wall time of the attempt in the worker
    worker: str  # "host:pid" of the process that ran it
    finished: str  # ISO 8601 time (UTC) at which the runner recorded it

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


class Suite(ABC):
    """A benchmark suite the runner can drive. Subclasses are constructed without arguments (or with the
    keyword arguments they were registered with), once in the runner and once in every worker process."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the suite's own command-line options (e.g. --days, --agents, --seed) to `parser`."""
        return None  # a suite without options

    def options(self, args: argparse.Namespace) -> Options:
        """The run's options from the parsed command line, JSON-ready and complete (defaults filled in).

        They identify the run: a rerun into the same output folder must give equal options, else it is refused.
        Validate here and raise ValueError with a clear message for bad input. Put a digest of any input file
        the jobs depend on here too, so that a changed file counts as a different run.
        """
        return {}

    @abstractmethod
    def jobs(self, options: Options, done: Mapping[str, Result]) -> list[Job]:
        """Every job of the run, in the order the summary lists them.

        `done` maps the keys of the jobs finished so far to their results. A suite whose later jobs depend on
        earlier ones (FindingDory: a day must be recorded before its tasks can be listed) lists what it can;
        the runner calls `jobs` again after each round until no new job appears. Most suites ignore `done`.
        """

    @abstractmethod
    def run(self, job: Job, options: Options, out_dir: Path) -> Result:
        """Run one job and return its JSON-ready result. Raise on failure; the runner records the error.

        `options` are the run's (what every job shares: image size, config overrides, ...). `out_dir` is the
        run's output folder, for artifacts that later jobs read (on a Ray cluster it must be on a disk every
        node shares). Write them atomically: a job may be killed midway and run again.
        """

    @abstractmethod
    def summarize(self, options: Options, records: Sequence[Record]) -> dict[str, Any]:
        """DIR/summary.json from the final record of every listed job (in `jobs` order; failed ones included)."""

    def report(self, summary: Mapping[str, Any], records: Sequence[Record]) -> list[ReportItem]:
        """What DIR/report.md and report.html show: tables and charts built from the summary, in order."""
        return []
