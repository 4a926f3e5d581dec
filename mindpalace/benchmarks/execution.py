"""Running one job wherever it runs (this process, a worker process, a Ray task), and what every executor offers.

Jobs and outcomes cross process boundaries as JSON text, so a job's result is JSON-ready by construction and
identical whichever executor ran it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from mindpalace.benchmarks.suite import Job, Options, Result, Suite

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Outcome:
    """What an executor reports back for one attempt at a job."""

    key: str
    ok: bool
    result: Result | None
    error: str | None
    seconds: float
    worker: str

    def to_text(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_text(cls, text: str | bytes) -> Outcome:
        return cls(**json.loads(text))

    @classmethod
    def failure(cls, key: str, error: str, seconds: float = 0.0, worker: str = "") -> Outcome:
        return cls(key, False, None, error, seconds, worker)


class Executor(Protocol):
    """Runs jobs concurrently; the runner keeps at most `capacity` of them submitted and not yet reported."""

    capacity: int
    description: str  # e.g. "2 worker processes", for logs and the report

    def submit(self, job: Job) -> None: ...

    def wait(self, timeout_s: float) -> list[Outcome]:
        """The attempts that finished (or crashed) since the last call; waits up to `timeout_s` for one."""
        ...

    def close(self) -> None: ...


def worker_name(pid: int | None = None) -> str:
    """'host:pid' of this process, or of the process `pid` on this host."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def seed_globals(key: str) -> None:
    """Seed the global RNGs from the job's key, so that a job that (wrongly) draws from them still gives the
    same result whichever worker ran it and whatever ran there before."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def execute_job(suite: Suite, job_text: str, options: Options, out_dir: Path) -> Outcome:
    """Run one job given as JSON text; any exception becomes a failed outcome with its traceback."""
    job = json.loads(job_text)
    key = job["key"]
    start = time.perf_counter()
    try:
        seed_globals(key)
        result = suite.run(job, options, out_dir)
        if not isinstance(result, dict):
            raise TypeError(f"{type(suite).__name__}.run returned {type(result).__name__}, not a dict")
        result = json.loads(json.dumps(result, allow_nan=False))  # JSON-ready, or an error here
    except Exception:
        return Outcome.failure(key, traceback.format_exc(), time.perf_counter() - start, worker_name())
    return Outcome(key, True, result, None, time.perf_counter() - start, worker_name())


def limit_threads(threads: int) -> None:
    """Cap the math libraries' thread pools in a worker (unless the user set them) so that K workers do not
    each start one thread per core. Call before numpy or torch is imported."""
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, str(max(1, threads)))


def describe_exit(exitcode: int | None) -> str:
    """A worker process's exit code in words: 'exit code 3', 'killed by SIGKILL'."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class InlineExecutor:
    """Runs each job in this process, one at a time (--workers 0): for debugging, and the reference order."""

    capacity = 1
    description = "this process"

    def __init__(self, suite: Suite, options: Options, out_dir: Path) -> None:
        self._suite = suite
        self._options = options
        self._out_dir = out_dir
        self._queued: list[str] = []

    def submit(self, job: Job) -> None:
        self._queued.append(json.dumps(job))

    def wait(self, timeout_s: float) -> list[Outcome]:
        outcomes = [execute_job(self._suite, text, self._options, self._out_dir) for text in self._queued]
        self._queued.clear()
        return outcomes

    def close(self) -> None:
        self._queued.clear()
