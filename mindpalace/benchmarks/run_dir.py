"""A run's output folder: the arguments it was started with, its results file, and a lock against a second runner.

DIR/run.json      the suite, its options (what a rerun must match) and one entry per invocation
DIR/results.jsonl one line per finished attempt at a job (see `Record`), appended, flushed and fsync'd
DIR/.lock         held (flock) while a runner writes to DIR; the kernel drops it when that process dies
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mindpalace.benchmarks.suite import Options, Record

RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
LOCK_FILE = ".lock"

log = logging.getLogger(__name__)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half of one."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w") as file:
        json.dump(data, file, indent=2, sort_keys=False)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


@contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold DIR/.lock for the duration, or refuse: two runners appending to one results file would do jobs twice."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / LOCK_FILE).open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"another `mindpalace bench` is writing to {out_dir}; wait for it or choose another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def claim(out_dir: Path, suite: str, options: Options) -> dict[str, Any]:
    """The folder's run.json: created for a new run, or checked against this one's suite and options."""
    options = json.loads(json.dumps(options))  # compare as they are stored (tuples become lists)
    path = out_dir / RUN_FILE
    if not path.exists():
        run = {"suite": suite, "options": options, "invocations": []}
        write_json(path, run)
        return run
    run = json.loads(path.read_text())
    if run.get("suite") != suite:
        raise ValueError(
            f"{out_dir} holds a run of the suite {run.get('suite')!r}, not {suite!r}; "
            "choose another --out, or rerun that suite with its arguments to resume it"
        )
    if run.get("options") != options:
        raise ValueError(
            f"{out_dir} holds a run of {suite!r} with other arguments ({option_differences(run.get('options') or {}, options)}); "
            "rerun with the same arguments to resume it, or choose another --out for a new run"
        )
    return run


def option_differences(stored: Options, given: Options) -> str:
    """'days: 3 in the folder, 5 now; seed: ...'."""
    parts = []
    for name in sorted(set(stored) | set(given)):
        if stored.get(name) != given.get(name):
            there = json.dumps(stored[name]) if name in stored else "absent"
            here = json.dumps(given[name]) if name in given else "absent"
            parts.append(f"{name}: {there} in the folder, {here} now")
    return "; ".join(parts)


class ResultsFile:
    """DIR/results.jsonl: every finished attempt, one JSON line each, durable as soon as it is appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def load(self) -> list[Record]:
        """The records so far. A line cut short by a kill mid-write is dropped (and cut from the file, so that
        the next append starts on a line of its own); that attempt is simply run again."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) < len(data):
            log.warning(
                "%s: dropping an unfinished last line (%d bytes) left by an interrupted run", self.path, len(data) - len(complete)
            )
            with self.path.open("r+b") as file:
                file.truncate(len(complete))
        records = []
        for number, line in enumerate(complete.decode().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(Record.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as error:
                log.warning("%s:%d: skipping an unreadable line (%s)", self.path, number, error)
        return records

    def append(self, record: Record) -> None:
        if self._file is None:
            self._file = self.path.open("a")
        self._file.write(json.dumps(record.to_json()) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
