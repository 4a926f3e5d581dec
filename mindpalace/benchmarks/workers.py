"""Jobs in worker processes on this machine (`--workers K`).

Workers are started with the spawn method: MuJoCo's EGL contexts and torch's thread pools do not survive a
fork. Each worker runs one job at a time, handed to it over its own pipe, so the runner always knows which job
a worker holds: a worker that dies (a segfault, the OOM killer, a kill -9) or overruns the job timeout loses
only that job, and a fresh worker takes its place. Workers ignore Ctrl-C (the runner stops them) and exit by
themselves when the runner's end of the pipe closes, so a killed runner leaves no workers behind.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from mindpalace.benchmarks.execution import Outcome, describe_exit, execute_job, limit_threads, worker_name
from mindpalace.benchmarks.suite import Job, Options
from mindpalace.benchmarks.suites import SuiteSpec

STOP_GRACE_S = 5.0  # how long close() waits for an idle worker to exit before terminating it
READY = b"ready"  # a worker's first message: the suite is imported and built


def worker_main(connection: Connection, spec: SuiteSpec, options: Options, out_dir: str, threads: int) -> None:
    """A worker process: receive a job as JSON text, run it, send the outcome back; until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_threads(threads)
    try:
        suite = spec.create()
        broken = None
    except Exception:
        broken = traceback.format_exc()  # every job it gets fails with this, rather than the worker dying
    connection.send_bytes(READY)
    while True:
        try:
            job_text = connection.recv_bytes().decode()
        except (EOFError, OSError):
            return  # the runner is gone or done
        if broken is None:
            outcome = execute_job(suite, job_text, options, Path(out_dir))
        else:
            outcome = Outcome.failure(json.loads(job_text)["key"], broken, worker=worker_name())
        try:
            connection.send_bytes(outcome.to_text().encode())
        except OSError:
            return


def threads_per_worker(workers: int) -> int:
    """The math libraries' threads for each of `workers` worker processes: the cores this process may run on (under
    taskset or a container's cpuset, fewer than the machine has), shared among them."""
    return max(1, len(os.sched_getaffinity(0)) // workers)


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    key: str | None = None  # the job it holds
    started: float = 0.0  # when it got that job (monotonic)


class ProcessExecutor:
    """K spawned worker processes, one job each at a time."""

    def __init__(
        self, spec: SuiteSpec, options: Options, out_dir: Path, workers: int, job_timeout_s: float | None = None
    ) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1 for worker processes, got {workers}")
        self.capacity = workers
        self.description = f"{workers} worker process{'es' if workers > 1 else ''}"
        self._spec = spec
        self._options = options
        self._out_dir = out_dir
        self._timeout_s = job_timeout_s
        self._threads = threads_per_worker(workers)
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        try:
            self._workers += [self._start() for _ in range(workers)]
            for worker in self._workers:  # started together, imported in parallel
                self._await_ready(worker)
        except BaseException:  # a worker that cannot start, or Ctrl-C: leave no process behind
            self.close()
            raise

    def _start(self) -> _Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=worker_main,
            args=(theirs, self._spec, self._options, str(self._out_dir), self._threads),
            name="mindpalace-bench-worker",
            daemon=True,
        )
        process.start()
        theirs.close()  # only the worker holds its end: when the worker dies, our end reads EOF
        return _Worker(process, ours)

    def _await_ready(self, worker: _Worker) -> None:
        try:
            message = worker.connection.recv_bytes()
        except (EOFError, OSError):
            worker.process.join(STOP_GRACE_S)
            raise RuntimeError(f"a worker process failed to start ({describe_exit(worker.process.exitcode)})") from None
        if message != READY:
            raise RuntimeError(f"a worker process sent {message[:80]!r} instead of its ready message")

    def _replace(self, worker: _Worker) -> None:
        worker.connection.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        # Not awaited: the job sent to it waits in the pipe until it is ready, and its ready message is skipped.
        self._workers[self._workers.index(worker)] = self._start()

    def submit(self, job: Job) -> None:
        worker = next(w for w in self._workers if w.key is None)
        try:
            worker.connection.send_bytes(json.dumps(job).encode())
        except OSError:
            # It died while idle: start a fresh one for this job.
            self._replace(worker)
            worker = next(w for w in self._workers if w.key is None)
            worker.connection.send_bytes(json.dumps(job).encode())
        worker.key = job["key"]
        worker.started = time.monotonic()

    def wait(self, timeout_s: float) -> list[Outcome]:
        busy = [w for w in self._workers if w.key is not None]
        if not busy:
            return []
        wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout_s)
        outcomes = []
        for worker in busy:
            key = worker.key
            assert key is not None
            outcome = self._collect(worker, key)
            if outcome is not None:
                outcomes.append(outcome)
                worker.key = None
        return outcomes

    def _collect(self, worker: _Worker, key: str) -> Outcome | None:
        """The outcome of the worker's job if it finished, crashed or overran its time; None while it runs."""
        elapsed = time.monotonic() - worker.started
        pipe_closed = False
        while worker.connection.poll():
            try:
                message = worker.connection.recv_bytes()
            except (EOFError, OSError):
                pipe_closed = True  # the worker's end closed: it is dying
                break
            if message != READY:
                return Outcome.from_text(message)
        pid = worker.process.pid
        if pipe_closed or not worker.process.is_alive():
            worker.process.join(STOP_GRACE_S)
            error = f"worker process {pid} died while running the job ({describe_exit(worker.process.exitcode)})"
        elif self._timeout_s is not None and elapsed > self._timeout_s:
            error = f"timed out after {self._timeout_s:g} s; worker process {pid} was killed"
        else:
            return None
        self._replace(worker)
        return Outcome.failure(key, error, elapsed, worker_name(pid))

    def close(self) -> None:
        for worker in self._workers:
            worker.connection.close()  # an idle worker reads EOF and exits
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self._workers:
            if worker.key is not None:
                worker.process.kill()  # still holds a job: the run is being abandoned
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
