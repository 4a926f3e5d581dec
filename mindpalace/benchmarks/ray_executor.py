"""Jobs as Ray tasks (`--ray [ADDRESS]`): on a local Ray started for the run, or on a running cluster.

Each job is one task with no automatic retry (max_retries=0): the runner records a failed attempt itself, with
Ray's error (a worker that crashed, a node that died), and retries it once like any other failure. The driver
(the `mindpalace bench` process) writes the results file, so only the suite's own artifacts must be on a disk
every node shares. See docs/benchmarks.md for running on a cluster.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from mindpalace.benchmarks.execution import Outcome, execute_job
from mindpalace.benchmarks.suite import Job, Options, Suite
from mindpalace.benchmarks.suites import SuiteSpec

INSTALL_HINT = "pip install 'mindpalace[bench]' (or: pip install 'ray[default]')"
ERROR_CHARS = 4000  # Ray's error text can hold a whole remote traceback and log excerpts

_suites: dict[str, Suite] = {}  # per Ray worker process: each suite is imported and built once


def run_task(spec: SuiteSpec, options: Options, out_dir: str, job_text: str) -> str:
    """The body of a Ray task: run one job and return its outcome as JSON text."""
    name = json.dumps([spec.entry_point, spec.kwargs], sort_keys=True)
    if name not in _suites:
        _suites[name] = spec.create()
    return execute_job(_suites[name], job_text, options, Path(out_dir)).to_text()


def import_ray() -> Any:
    try:
        import ray
    except ModuleNotFoundError as error:
        raise RuntimeError(f"--ray needs the 'ray' package, which is not installed. Install it with: {INSTALL_HINT}") from error
    return ray


def local_import_path() -> str:
    """This process's own additions to the import path (the checkout, a tests folder), for a local Ray's workers."""
    base = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    own = [p or os.getcwd() for p in sys.path if not any(os.path.realpath(p or ".").startswith(b) for b in base)]
    return os.pathsep.join(dict.fromkeys(own))


class RayExecutor:
    """Jobs as Ray tasks, at most `capacity` in flight (the cluster's CPUs, or --workers)."""

    def __init__(
        self,
        spec: SuiteSpec,
        options: Options,
        out_dir: Path,
        address: str,
        max_in_flight: int | None = None,
        job_timeout_s: float | None = None,
    ) -> None:
        ray = self._ray = import_ray()
        self._started_here = not ray.is_initialized()
        if self._started_here:
            if address == "local":
                # A fresh single-machine cluster that runs this checkout's code, with --workers CPUs if given.
                ray.init(
                    address="local",
                    num_cpus=max_in_flight,
                    include_dashboard=False,
                    runtime_env={"env_vars": {"PYTHONPATH": local_import_path()}},
                )
            else:
                ray.init(address=address)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.capacity = max(1, min(cpus, max_in_flight) if max_in_flight else cpus)
        where = "a local Ray" if address == "local" else f"the Ray cluster at {address}"
        self.description = f"{where} ({self.capacity} job{'s' if self.capacity > 1 else ''} at a time)"
        self._spec = spec
        self._options = ray.put(options)  # once, not with every task
        self._out_dir = str(out_dir)
        self._timeout_s = job_timeout_s
        self._task = ray.remote(max_retries=0, num_cpus=1)(run_task)
        self._in_flight: dict[Any, tuple[str, float]] = {}  # object ref -> (job key, submitted at)

    def submit(self, job: Job) -> None:
        ref = self._task.remote(self._spec, self._options, self._out_dir, json.dumps(job))
        self._in_flight[ref] = (job["key"], time.monotonic())

    def wait(self, timeout_s: float) -> list[Outcome]:
        if not self._in_flight:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._in_flight), num_returns=1, timeout=timeout_s)
        if ready:
            ready, _ = ray.wait(list(self._in_flight), num_returns=len(self._in_flight), timeout=0)
        outcomes = []
        for ref in ready:
            key, submitted = self._in_flight.pop(ref)
            try:
                outcomes.append(Outcome.from_text(ray.get(ref)))
            except Exception as error:  # a crashed worker, a dead node, a task that could not be deserialized
                text = f"Ray task failed: {type(error).__name__}: {error}"[:ERROR_CHARS]
                outcomes.append(Outcome.failure(key, text, time.monotonic() - submitted))
        if self._timeout_s is not None:
            now = time.monotonic()
            for ref, (key, submitted) in list(self._in_flight.items()):
                if now - submitted > self._timeout_s:
                    ray.cancel(ref, force=True)
                    del self._in_flight[ref]
                    outcomes.append(
                        Outcome.failure(
                            key, f"timed out after {self._timeout_s:g} s; the Ray task was cancelled", now - submitted
                        )
                    )
        return outcomes

    def close(self) -> None:
        for ref in self._in_flight:
            self._ray.cancel(ref, force=True)
        self._in_flight.clear()
        if self._started_here:
            self._ray.shutdown()
