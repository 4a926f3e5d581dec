"""Memory benchmarks: query latency per kind at 10^4..10^6 items, write throughput, bytes per item, a 24 h day.

The stores are filled in bulk with synthetic records (SQL batches; clustered random unit vectors
standing in for text embeddings, since embedding 10^6 texts would take hours here); every query then
goes through the real query path. The text query's own embedding (MiniLM) is timed apart.

Density is constant across sizes, so each query's answer is the same size at 10^4 and 10^6 and the
figures show how the query path scales, not how many more rows it returns: one record a second of
history (10^6 items = 11.6 days) over an area of 10 objects per square metre.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import json
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.types import Event
from mindpalace.memory.bank import Bank
from mindpalace.memory.episodic import EpisodicStore, measure_write_throughput
from mindpalace.memory.objects_store import ObjectStore
from mindpalace.memory.semantic import SemanticStore
from mindpalace.memory.system import KIND_CODES, vector_id
from mindpalace.memory.vector_index import STORED, VectorIndex, clustered_unit_vector_chunks

LABELS = ("mug", "keys", "book", "apple", "laptop", "remote_control", "wallet", "plate", "towel", "pen")
ROOMS = ("kitchen", "living room", "bedroom", "bathroom", "office", "hallway")
ACTIONS = ("navigate", "pick", "place", "open", "close", "look_around", "explore")
QUERY_KINDS = ("text", "object", "place", "time", "order", "fact")
WARM_ROUNDS = 3  # timed rounds of every query kind (`warm_queries`)
DIM = 384  # MiniLM's embedding size


def _log(message: str) -> None:
    print(f"[perf memory] {message}", file=sys.stderr, flush=True)


def _rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1e6


class _Progress:
    """Progress lines for a long fill: done of total, the rate and the time left, at most one every `every_s`."""

    def __init__(self, what: str, total: int, progress: Callable[[str], None], every_s: float = 10.0) -> None:
        self.what, self.total, self.progress, self.every_s = what, total, progress, every_s
        self.started = self.shown = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.shown < self.every_s and done < self.total:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-9)
        left = (self.total - done) / max(rate, 1e-9)
        self.progress(f"{self.what} {done:,} of {self.total:,} ({rate:,.0f}/s, {now - self.started:.0f} s, ~{left:.0f} s left)")


DRAW_BATCH = 20_000  # items drawn from the generator at a time: the bank's rows depend on n and the seed only
DRAWS_A_TRANSACTION = 25  # 500,000 items a transaction: each commit rewrites the randomly placed index pages it touched
BUILD_CACHE_MB = 3072  # the writer's page cache while a bank is built: the R-tree and the x, y indexes of 10^7 items fit


def side_m(n: int) -> float:
    """The side of the square the n objects lie in: 10 objects a square metre at every size."""
    return math.sqrt(n / 10.0)


def _draws(n: int, rng: np.random.Generator) -> Iterator[tuple[NDArray[Any], ...]]:
    """Per DRAW_BATCH items: ids (from 1), x, y, label index, event duration (s)."""
    for start in range(0, n, DRAW_BATCH):
        ids = np.arange(start + 1, min(start + DRAW_BATCH, n) + 1)
        xs, ys = rng.uniform(0, side_m(n), len(ids)), rng.uniform(0, side_m(n), len(ids))
        labels = rng.integers(len(LABELS), size=len(ids))
        yield ids, xs, ys, labels, rng.uniform(0.5, 30, len(ids))


def fill_bank(path: Path, n: int, seed: int = 0, progress: Callable[[str], None] = _log) -> Bank:
    """A bank with n objects, n events and n facts (the vectors are added by `build_bank`), one record a second.

    Objects, their R-tree entries and facts are inserted with SQL; events through `EpisodicStore.add_events`. Rows go
    in id order, DRAWS_A_TRANSACTION * DRAW_BATCH to a transaction, under `Bank.bulk_load`; the tables and indexes are the bank's own,
    filled as a robot's bank grows (no index is dropped and rebuilt).
    """
    rng = np.random.default_rng(seed)
    bank = Bank(path)
    events_store = EpisodicStore(bank)
    SemanticStore(bank)
    labels_text, rooms_text, actions_text = np.array(LABELS), np.array(ROOMS), np.array(ACTIONS)
    shown = _Progress(f"filled {n:,}-item bank:", n, progress)
    draws = _draws(n, rng)
    with bank.bulk_load(BUILD_CACHE_MB):
        while batches := list(itertools.islice(draws, DRAWS_A_TRANSACTION)):
            ids_a, xs_a, ys_a, labels_a, durations_a = (np.concatenate(column) for column in zip(*batches))
            ids, xs, ys = ids_a.tolist(), xs_a.tolist(), ys_a.tolist()
            t = ids_a.astype(np.float64).tolist()  # one record a second
            ends = (ids_a.astype(np.float64) + durations_a).tolist()
            labels, rooms = labels_text[labels_a].tolist(), rooms_text[ids_a % len(ROOMS)].tolist()
            with bank.write() as db:
                db.executemany(
                    "INSERT INTO objects (id, label, x, y, z, room, first_seen, last_seen, size_bytes)"
                    " VALUES (?, ?, ?, ?, 0.8, ?, ?, ?, 150)",
                    zip(ids, labels, xs, ys, rooms, t, t),
                )
                db.executemany("INSERT INTO objects_rtree VALUES (?, ?, ?, ?, ?)", zip(ids, xs, xs, ys, ys))
                db.executemany(
                    "INSERT INTO facts (subject, predicate, object, valid_from, source, confidence, recorded_at, text, size_bytes)"
                    " VALUES (?, 'owned_by', ?, ?, 'user', 1.0, ?, ?, 120)",
                    ((f"object:{i}", f"person {i % 1000}", s, s, f"object {i} is person {i % 1000}'s") for i, s in zip(ids, t)),
                )
            actions = actions_text[ids_a % len(ACTIONS)].tolist()
            events = [
                Event("robot", action, s, end, {"target": i}, (i,), room)
                for i, action, s, end, room in zip(ids, actions, t, ends, rooms)
            ]
            events_store.add_events(events, positions=list(zip(xs, ys)))
            shown.update(ids[-1])
    return bank


def build_bank(path: Path, n: int, queries: int, seed: int = 0, progress: Callable[[str], None] = _log) -> NDArray[np.float32]:
    """Fill a new bank at `path` with n items a store and n vectors, build and save its text index, close it; returns
    the probe vectors.

    Items and probes are drawn from the same clusters (the first n vectors and the `queries` after them), as texts
    and questions about them would be. The vectors are written to the bank's table in bulk (float16, as `VectorIndex`
    stores them) and the index is built once from the table, as when a bank is opened without its index file: adding
    them 50,000 at a time would rebuild each kind's index four times on the way (hours at 10^7 on one shared core).
    The bank records the default preset, so it opens as a robot's bank would.
    """
    started = time.perf_counter()
    bank = fill_bank(path, n, seed, progress)
    progress(f"{n:,}-item bank: objects, events and facts written in {time.perf_counter() - started:.0f} s")
    bank.set_meta("preset", "mindpalace")
    kinds = list(KIND_CODES)
    probes = []
    shown = _Progress(f"vectors of the {n:,}-item bank:", n, progress)
    start = 0
    with bank.bulk_load(BUILD_CACHE_MB):
        for chunk in clustered_unit_vector_chunks(n + queries, DIM, seed=seed):
            items = chunk[: max(0, n - start)].astype(STORED)
            # A copy: a slice would keep its whole chunk (154 MB) alive, and 10^7 items make 100 chunks.
            probes.append(chunk[len(items) :].copy())
            with bank.write() as db:
                db.executemany(
                    "INSERT INTO vectors (id, kind, vector) VALUES (?, ?, ?)",
                    (
                        (vector_id(kinds[i % 3], i + 1), kinds[i % 3], row.tobytes())
                        for i, row in zip(range(start, start + len(items)), items)
                    ),
                )
            start += len(chunk)
            shown.update(min(start, n))
    progress(f"{n:,}-item bank: building its text index, one kind after the other (each logs when built)")
    indexing = time.perf_counter()
    vectors = VectorIndex(bank, dim=DIM)  # no index file yet: built from the table
    progress(f"{n:,}-item bank: text index built in {time.perf_counter() - indexing:.0f} s: {vectors.describe()}")
    vectors.save()
    bank.checkpoint()
    bank.close()
    return np.concatenate(probes)


@contextmanager
def bench_bank(
    n: int, queries: int, seed: int, folder: Path | None, progress: Callable[[str], None]
) -> Iterator[tuple[Path, NDArray[np.float32]]]:
    """The path of a bank of n items a store, and its probes: built in a temporary folder and deleted after, or kept in
    `folder` and reused by a later run with the same size, seed and probe count (one marked complete when built)."""
    with contextlib.ExitStack() as stack:
        where = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mindpalace-perf-"))) if folder is None else folder
        where.mkdir(parents=True, exist_ok=True)
        stem = f"bench-{n}-seed{seed}-q{queries}"
        path, probes, done = where / f"{stem}.db", where / f"{stem}.probes.npy", where / f"{stem}.complete"
        if done.exists():
            progress(f"reusing {path}")
            yield path, np.load(probes)
            return
        for partial in where.glob(f"{stem}.*"):  # left by an interrupted build
            partial.unlink()
        started = time.perf_counter()
        np.save(probes, build_bank(path, n, queries, seed, progress))
        done.write_text(
            json.dumps({"n": n, "seed": seed, "queries": queries, "build_s": round(time.perf_counter() - started, 1)})
        )
        progress(f"built {path} in {time.perf_counter() - started:.0f} s")
        yield path, np.load(probes)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def _query_runs(
    objects: ObjectStore,
    events: EpisodicStore,
    facts: SemanticStore,
    vectors: VectorIndex,
    probes: NDArray[np.float32],
    n: int,
    rng: np.random.Generator,
) -> dict[str, Callable[[int], Any]]:
    """Query q of each kind on a bank of n items a store, through the stores' query paths."""
    queries = len(probes)
    side = side_m(n)
    return {
        "text": lambda q: vectors.search(probes[q], 10),
        "object": lambda q: objects.find(LABELS[q % len(LABELS)], ROOMS[q % len(ROOMS)], limit=10),
        "place": lambda q: objects.near(float(rng.uniform(1, side - 1)), float(rng.uniform(1, side - 1)), 1.0, 10),
        "time": lambda q: events.events_between(float(q * n // queries), float(q * n // queries) + 60.0, 20),
        "order": lambda q: events.first_event(action=ACTIONS[q % len(ACTIONS)], after=float(q * n // queries)),
        "fact": lambda q: facts.facts_about(f"object:{1 + (q * 7919) % n}"),
    }


def measure_queries(
    n: int, queries: int = 200, seed: int = 0, progress: Callable[[str], None] = _log, bank_folder: Path | None = None
) -> dict[str, float]:
    """p50 and p95 (ms) of each query kind on a bank of n items a store (`warm_queries`), then its cold start.

    `bank_folder` keeps the bank there and reuses it in a later run (see `bench_bank`); by default it is deleted.
    """
    with bench_bank(n, queries, seed, bank_folder, progress) as (path, probes):
        figures = warm_queries(path, n, probes, seed, progress)
        # The warm queries' bank and index are closed and gone now: pages a live process maps cannot be evicted.
        figures.update(cold_start(path, n, probes, seed, progress))
    return figures


def warm_queries(
    path: Path,
    n: int,
    probes: NDArray[np.float32],
    seed: int = 0,
    progress: Callable[[str], None] = _log,
    rounds: int = WARM_ROUNDS,
) -> dict[str, float]:
    """p50 and p95 (ms) of each query kind on the bank at `path` (n items a store), and the p95 of its CPU time (this
    thread's); and the bank's bytes. Each kind runs 10 queries untimed, then `rounds` rounds of one timed query per
    probe, the kinds taking turns; each figure is its median round's (`round_figures`), and `p95_max_ms_<kind>` is the
    worst round's p95.

    Why rounds: on this shared virtual machine a burst of other work can slow a whole few-second window. At 10^7,
    three rounds in a row gave the fact query a p95 of 0.076, 0.294 and 0.025 ms, the text query 3.08, 4.46 and
    2.63 ms. A median of interleaved rounds is the steady state a robot's long-running process sees.

    Warm means the bank's files are in the OS page cache, as in a robot's long-running process, whatever the size:
    they are read through first (`read_into_page_cache`). Without it a 10^7 bank, just built, has whichever pages its
    build left cached, and the p95s measure the disk. The cold start is measured apart (`cold_start`).
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    figures: dict[str, float] = read_into_page_cache(path)
    progress(
        f"{n:,} items: read {figures['bank_file_mb']:,.0f} MB of bank files into the page cache in "
        f"{figures['warm_read_s']:.1f} s ({figures['memory_available_mb']:,.0f} MB of memory available before)"
    )
    rng = np.random.default_rng(seed + 1)
    bank = Bank(path)
    vectors = VectorIndex(bank, dim=DIM)
    runs = _query_runs(ObjectStore(bank), EpisodicStore(bank), SemanticStore(bank), vectors, probes, n, rng)
    walls: dict[str, list[list[float]]] = {kind: [] for kind in runs}
    cpus: dict[str, list[list[float]]] = {kind: [] for kind in runs}
    for run in runs.values():
        for q in range(10):
            run(q)
    for _ in range(rounds):
        for kind, run in runs.items():
            samples, cpu_samples = [], []
            for q in range(len(probes)):
                start, cpu_start = time.perf_counter(), time.thread_time()
                run(q)
                samples.append((time.perf_counter() - start) * 1000)
                cpu_samples.append((time.thread_time() - cpu_start) * 1000)
            walls[kind].append(samples)
            cpus[kind].append(cpu_samples)
    for kind in runs:
        p50, p95, worst = round_figures(walls[kind])
        figures[f"p50_ms_{kind}"], figures[f"p95_ms_{kind}"] = round(p50, 3), round(p95, 3)
        figures[f"p95_max_ms_{kind}"] = round(worst, 3)
        # The query's own CPU time: on a shared machine the wall-clock p95 is often time spent waiting for a core.
        figures[f"p95_cpu_ms_{kind}"] = round(round_figures(cpus[kind])[1], 3)
        progress(
            f"{n:,} items: {kind} p50 {p50:.3f} ms, p95 {p95:.3f} ms (worst round {worst:.3f}), "
            f"p95 CPU {figures[f'p95_cpu_ms_{kind}']:.3f} ms"
        )
    figures["bytes_per_item"] = round(bank.size_bytes() / (4 * n), 1)
    figures["index_bytes"] = bank.size_bytes()
    figures["vector_index_file_bytes"] = vectors.index_path.stat().st_size
    bank.close()
    return figures


def round_figures(rounds: list[list[float]]) -> tuple[float, float, float]:
    """Of rounds of latencies: the median round's p50, the median round's p95, and the worst round's p95."""
    p50s, p95s = zip(*(_percentiles(samples) for samples in rounds), strict=True)
    return float(np.median(p50s)), float(np.median(p95s)), max(p95s)


def bank_files(path: Path) -> list[Path]:
    """The files of the bank at `path`: it, its WAL and shared memory, the saved vector index (`<bank name>*` beside it)."""
    return sorted(file for file in path.parent.glob(glob.escape(path.name) + "*") if file.is_file())


def _memory_available_mb() -> float:
    """What Linux says could be given to processes now (page cache included); NaN where /proc/meminfo is absent."""
    with contextlib.suppress(OSError, StopIteration, ValueError):
        with open("/proc/meminfo") as handle:
            return int(next(line for line in handle if line.startswith("MemAvailable:")).split()[1]) / 1024
    return math.nan


def read_into_page_cache(path: Path, chunk_mb: int = 16) -> dict[str, float]:
    """Read every file of the bank at `path` once, in order, so that its pages are in the OS page cache; returns the
    seconds, the megabytes and the memory available before (when the files are larger, the cache cannot hold them)."""
    available, started, total = _memory_available_mb(), time.perf_counter(), 0
    buffer = bytearray(chunk_mb << 20)
    for file in bank_files(path):
        with open(file, "rb", buffering=0) as handle:
            while read := handle.readinto(buffer):
                total += read
    return {
        "warm_read_s": round(time.perf_counter() - started, 2),
        "bank_file_mb": round(total / 1e6, 1),
        "memory_available_mb": round(available, 1),
    }


def evict_from_page_cache(path: Path) -> list[Path]:
    """Drop every file of the bank at `path` (`bank_files`) from the OS page cache, as after a reboot; returns them.

    Each file is synced first: dirty pages stay in the cache. Pages a live process maps stay too, so close the bank first.
    """
    if not hasattr(os, "posix_fadvise"):
        raise OSError("os.posix_fadvise is not available here, so files cannot be evicted from the page cache")
    files = bank_files(path)
    for file in files:
        descriptor = os.open(file, os.O_RDONLY)
        try:
            os.fsync(descriptor)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)
    return files


def _disk_read_kb() -> float:
    """What this process has read from disk so far (page cache misses, by read() or by a mapped page), in KB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_inblock / 2  # 512-byte blocks


def _cold_query(path: Path, n: int, kind: str, probes: NDArray[np.float32], seed: int) -> dict[str, float]:
    """In a fresh process: evict the bank from the page cache, open it as a robot's process does, run one query of `kind`.

    Returns the open's seconds and the first query's milliseconds, and what each read from disk.
    """
    from mindpalace.memory.system import MemorySystem

    evict_from_page_cache(path)
    read_before, started = _disk_read_kb(), time.perf_counter()
    memory = MemorySystem.open(path, spatial=False)
    opened, read_opening = time.perf_counter(), _disk_read_kb()
    assert memory.vectors is not None
    run = _query_runs(memory.objects, memory.events, memory.facts, memory.vectors, probes, n, np.random.default_rng(seed + 2))
    run[kind](len(probes) // 2)
    answered, read_answering = time.perf_counter(), _disk_read_kb()
    # Not memory.close(): it would embed the few synthetic texts above the largest embedded id of their kind (which
    # `open` queued), loading the text model and writing to the bank. The benchmark leaves the bank as it was.
    memory.bank.close()
    return {
        "open_s": opened - started,
        "open_read_mb": (read_opening - read_before) / 1024,
        "query_ms": (answered - opened) * 1000,
        "query_read_kb": read_answering - read_opening,
    }


def cold_start(
    path: Path, n: int, probes: NDArray[np.float32], seed: int = 0, progress: Callable[[str], None] = _log
) -> dict[str, float]:
    """Per query kind, in a fresh process: the bank's files evicted from the page cache, the time to open it with
    `MemorySystem.open` and the first query's latency, and what each read from disk. `cold_open_s` is the slowest of
    those opens and `cold_first_query_ms` the slowest first query. Needs os.posix_fadvise (Linux); elsewhere it returns
    nothing and says why.
    """
    if not hasattr(os, "posix_fadvise"):
        progress("cold start skipped: os.posix_fadvise is not available here")
        return {}
    figures: dict[str, float] = {}
    opens = []
    for kind in QUERY_KINDS:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            cold = pool.submit(_cold_query, path, n, kind, probes, seed).result()
        opens.append(cold)
        figures[f"cold_first_query_ms_{kind}"] = round(cold["query_ms"], 2)
        figures[f"cold_first_query_read_kb_{kind}"] = round(cold["query_read_kb"], 1)
        progress(
            f"{n:,} items, cold: open {cold['open_s']:.3f} s (read {cold['open_read_mb']:.1f} MB), "
            f"first {kind} query {cold['query_ms']:.2f} ms (read {cold['query_read_kb']:.0f} KB)"
        )
    slowest = max(opens, key=lambda cold: cold["open_s"])
    figures["cold_open_s"] = round(slowest["open_s"], 3)
    figures["cold_open_read_mb"] = round(slowest["open_read_mb"], 1)
    figures["cold_first_query_ms"] = max(figures[f"cold_first_query_ms_{kind}"] for kind in QUERY_KINDS)
    return figures


def simulate_day(
    hours: float = 24.0,
    budget_items: int | None = None,
    seed: int = 0,
    embedder: Any | None = None,
    progress: Callable[[str], None] = _log,
) -> dict[str, Any]:
    """A robot's day at one observation a second through MemorySystem: size and RSS hour by hour.

    Each second a working-memory observation; every 10 s an object sighting; every 30 s an event; every
    60 s a snapshot candidate (a real-size JPEG); every hour a fact, then forgetting, then a sample.
    """
    from mindpalace.memory.system import MemorySystem
    from mindpalace.memory.working import WorkingItem

    rng = np.random.default_rng(seed)
    image = (np.indices((240, 320)).sum(axis=0) % 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    hourly = []
    total = int(hours * 3600)
    # Hourly samples (and forgetting) for a day; six evenly spaced ones for a short run.
    every = 3600 if total >= 2 * 3600 else max(60, total // 6)
    with tempfile.TemporaryDirectory() as folder:
        overrides: dict[str, Any] = {"spatial": False} | ({"budget_items": budget_items} if budget_items else {})
        memory = MemorySystem.open(Path(folder) / "day.db", embedder=embedder, **overrides)
        snapshots = memory.snapshots
        for second in range(total):
            t = float(second)
            object_id = int(rng.integers(1, 301))
            x, y = float(rng.uniform(0, 12)), float(rng.uniform(0, 9))
            memory.working.add(
                WorkingItem(
                    key=f"seen:{object_id}",
                    kind="observation",
                    text=f"saw {LABELS[object_id % 10]} #{object_id}",
                    time_s=t,
                    importance=0.2,
                    position=(x, y),
                ),
                now=t,
                position=(x, y),
            )
            if second % 10 == 0:
                change = "new" if memory.objects.get(object_id) is None else ("moved" if rng.random() < 0.05 else None)
                memory.objects.upsert(object_id, LABELS[object_id % 10], (x, y, 0.8), t, room=ROOMS[object_id % 6], change=change)
            if second % 30 == 0:
                memory.record_event(
                    Event("robot", ACTIONS[second % 7], t, t + 5.0, {"target": object_id}, (object_id,), ROOMS[object_id % 6]),
                    x=x,
                    y=y,
                    importance=float(rng.uniform(0.1, 0.9)),
                )
            if second % 60 == 0 and snapshots is not None:
                visible = {int(o): int(rng.integers(60, 4000)) for o in rng.integers(1, 301, size=4)}
                pose = np.eye(4)
                pose[:2, 3] = (x, y)
                snapshots.consider(t, pose, np.roll(image, second % 320, axis=1), visible)
            if second % every == every - 1:
                memory.tell(f"I have tea at {(second // 3600) % 24:02d}:30", time_s=t, speaker="Alice")
                memory.flush()
                report = memory.forget(now=t)
                hour = {
                    "hour": round((second + 1) / 3600, 2),
                    "bank_mb": round(memory.bank.size_bytes() / 1e6, 2),
                    "rss_mb": round(_rss_mb(), 1),
                    "items": report.items_after,
                    "forgotten": sum(report.removed.values()),
                }
                hourly.append(hour)
                progress(json.dumps(hour))
        memory.close()
    last = hourly[-6:]
    return {
        "hours": hours,
        "bank_mb": hourly[-1]["bank_mb"],
        "rss_mb_max": max(h["rss_mb"] for h in hourly),
        "rss_mb_growth_last_6h": round(last[-1]["rss_mb"] - last[0]["rss_mb"], 1),
        "bank_mb_growth_last_6h": round(last[-1]["bank_mb"] - last[0]["bank_mb"], 2),
        "hourly": hourly,
    }


def write_throughput(n: int = 5000) -> dict[str, float]:
    """Acknowledged event writes per second: one transaction each, and in batches of 100."""
    with tempfile.TemporaryDirectory() as folder:
        figures = measure_write_throughput(Path(folder) / "w.db", n)
    return {
        key: round(float(value), 1) for key, value in figures.items() if isinstance(value, (int, float)) and math.isfinite(value)
    }
