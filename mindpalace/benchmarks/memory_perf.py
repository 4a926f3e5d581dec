"""Memory benchmarks: query latency per kind at 10^4..10^6 items, write throughput, bytes per item, a 24 h day.

The stores are filled in bulk with synthetic records (SQL batches; clustered random unit vectors
standing in for text embeddings, since embedding 10^6 texts would take hours here); every query then
goes through the real query path. The text query's own embedding (MiniLM) is timed apart.

Density is constant across sizes, so each query's answer is the same size at 10^4 and 10^6 and the
figures show how the query path scales, not how many more rows it returns: one record a second of
history (10^6 items = 11.6 days) over an area of 10 objects per square metre.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.core.types import Event
from mindpalace.memory.bank import Bank
from mindpalace.memory.episodic import EpisodicStore, measure_write_throughput
from mindpalace.memory.objects_store import ObjectStore
from mindpalace.memory.semantic import SemanticStore
from mindpalace.memory.system import KIND_CODES, vector_id
from mindpalace.memory.vector_index import VectorIndex, clustered_unit_vectors

LABELS = ("mug", "keys", "book", "apple", "laptop", "remote_control", "wallet", "plate", "towel", "pen")
ROOMS = ("kitchen", "living room", "bedroom", "bathroom", "office", "hallway")
ACTIONS = ("navigate", "pick", "place", "open", "close", "look_around", "explore")


def _log(message: str) -> None:
    print(f"[perf memory] {message}", file=sys.stderr, flush=True)


def _rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1e6


def fill_bank(path: Path, n: int, seed: int = 0, dim: int = 384, progress: Callable[[str], None] = _log) -> Bank:
    """A bank with n objects, n events, n facts and n vectors, written in batches."""
    rng = np.random.default_rng(seed)
    bank = Bank(path)
    EpisodicStore(bank)
    SemanticStore(bank)
    batch = 20_000
    side = math.sqrt(n / 10.0)  # metres: 10 objects a square metre at every size
    for start in range(0, n, batch):
        ids = np.arange(start + 1, min(start + batch, n) + 1)
        xs, ys = rng.uniform(0, side, len(ids)), rng.uniform(0, side, len(ids))
        labels = rng.integers(len(LABELS), size=len(ids))
        t = ids.astype(np.float64)  # one record a second
        with bank.write() as db:
            db.executemany(
                "INSERT INTO objects (id, label, x, y, z, room, first_seen, last_seen, size_bytes) VALUES (?, ?, ?, ?, 0.8, ?, ?, ?, 150)",
                [
                    (int(i), LABELS[label], float(x), float(y), ROOMS[int(i) % len(ROOMS)], float(s), float(s))
                    for i, label, x, y, s in zip(ids, labels, xs, ys, t)
                ],
            )
            db.executemany(
                "INSERT INTO objects_rtree VALUES (?, ?, ?, ?, ?)",
                [(int(i), float(x), float(x), float(y), float(y)) for i, x, y in zip(ids, xs, ys)],
            )
            db.executemany(
                "INSERT INTO facts (subject, predicate, object, valid_from, source, confidence, recorded_at, text, size_bytes)"
                " VALUES (?, 'owned_by', ?, ?, 'user', 1.0, ?, ?, 120)",
                [
                    (
                        f"object:{int(i)}",
                        f"person {int(i) % 1000}",
                        float(s),
                        float(s),
                        f"object {int(i)} is person {int(i) % 1000}'s",
                    )
                    for i, s in zip(ids, t)
                ],
            )
        events = [
            Event(
                "robot",
                ACTIONS[int(i) % len(ACTIONS)],
                float(s),
                float(s) + float(rng.uniform(0.5, 30)),
                {"target": int(i)},
                (int(i),),
                ROOMS[int(i) % len(ROOMS)],
            )
            for i, s in zip(ids, t)
        ]
        EpisodicStore(bank).add_events(events, positions=[(float(x), float(y)) for x, y in zip(xs, ys)])
        progress(f"filled {min(start + batch, n):,} of {n:,}")
    return bank


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def measure_queries(n: int, queries: int = 200, seed: int = 0, progress: Callable[[str], None] = _log) -> dict[str, float]:
    """p50 and p95 (ms) of each query kind on a bank of n items a store."""
    rng = np.random.default_rng(seed + 1)
    dim = 384
    side = math.sqrt(n / 10.0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        bank = fill_bank(path, n, seed, dim, progress)
        vectors = VectorIndex(bank, dim=dim)
        kinds = list(KIND_CODES)
        # Items and probes drawn from the same clusters, as texts and questions about them would be.
        pool = clustered_unit_vectors(n + queries, dim, seed=seed)
        for start in range(0, n, 50_000):
            count = min(50_000, n - start)
            kind_of = [kinds[(start + i) % 3] for i in range(count)]
            vectors.add([vector_id(k, start + i + 1) for i, k in enumerate(kind_of)], kind_of, pool[start : start + count])
        progress(f"indexed {len(vectors):,} vectors")
        objects, events, facts = ObjectStore(bank), EpisodicStore(bank), SemanticStore(bank)
        probes = pool[n:]
        runs: dict[str, Callable[[int], Any]] = {
            "text": lambda q: vectors.search(probes[q], 10),
            "object": lambda q: objects.find(LABELS[q % len(LABELS)], ROOMS[q % len(ROOMS)], limit=10),
            "place": lambda q: objects.near(float(rng.uniform(1, side - 1)), float(rng.uniform(1, side - 1)), 1.0, 10),
            "time": lambda q: events.events_between(float(q * n // queries), float(q * n // queries) + 60.0, 20),
            "order": lambda q: events.first_event(action=ACTIONS[q % len(ACTIONS)], after=float(q * n // queries)),
            "fact": lambda q: facts.facts_about(f"object:{1 + (q * 7919) % n}"),
        }
        figures: dict[str, float] = {}
        for kind, run in runs.items():
            for q in range(10):
                run(q)
            samples = []
            for q in range(queries):
                began = time.perf_counter()
                run(q)
                samples.append((time.perf_counter() - began) * 1000)
            p50, p95 = _percentiles(samples)
            figures[f"p50_ms_{kind}"], figures[f"p95_ms_{kind}"] = round(p50, 3), round(p95, 3)
        figures["bytes_per_item"] = round(bank.size_bytes() / (4 * n), 1)
        figures["index_bytes"] = sum(p.stat().st_size for p in Path(folder).glob("bench.db*"))
        bank.close()
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
