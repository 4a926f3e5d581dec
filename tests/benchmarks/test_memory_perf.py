"""The memory benchmark's cold start: evicting a bank's files from the page cache, and opening it in a fresh process."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import mindpalace.benchmarks.memory_perf as memory_perf
from mindpalace.benchmarks.memory_perf import (
    ACTIONS,
    LABELS,
    QUERY_KINDS,
    ROOMS,
    bench_bank,
    cold_start,
    evict_from_page_cache,
    fill_bank,
    read_into_page_cache,
    round_figures,
    side_m,
)
from mindpalace.core.types import Event
from mindpalace.memory.bank import Bank
from mindpalace.memory.episodic import EpisodicStore
from mindpalace.memory.semantic import SemanticStore
from mindpalace.memory.vector_index import VectorIndex, clustered_unit_vector_chunks, clustered_unit_vectors


@pytest.fixture
def open_bank(tmp_path: Path) -> Iterator[Bank]:
    """A bank with a saved vector index, left open (so its WAL and shared-memory files exist), and another bank beside it."""
    Bank(tmp_path / "other.db").close()
    bank = Bank(tmp_path / "home.db")
    vectors = VectorIndex(bank, dim=8)
    vectors.add(np.arange(1, 31), "event", clustered_unit_vectors(30, 8))
    vectors.save()
    yield bank
    bank.close()


def test_eviction_advises_every_file_of_the_bank_and_no_other(open_bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int, int, int]] = []

    def advise(descriptor: int, offset: int, length: int, advice: int) -> None:
        calls.append((os.readlink(f"/proc/self/fd/{descriptor}"), offset, length, advice))

    monkeypatch.setattr(os, "posix_fadvise", advise)
    files = evict_from_page_cache(open_bank.path)
    names = {"home.db", "home.db-wal", "home.db-shm", "home.db.faiss", "home.db.faiss.json"}
    assert {file.name for file in files} == names
    assert sorted(calls) == sorted((str(file), 0, 0, os.POSIX_FADV_DONTNEED) for file in files)


def test_eviction_needs_posix_fadvise(open_bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the platform has no posix_fadvise, eviction says so and the cold start is skipped, not faked."""
    monkeypatch.delattr(os, "posix_fadvise")
    with pytest.raises(OSError, match="posix_fadvise is not available"):
        evict_from_page_cache(open_bank.path)
    messages: list[str] = []
    assert cold_start(open_bank.path, 30, np.zeros((1, 8), np.float32), progress=messages.append) == {}
    assert "cold start skipped" in messages[0]


@pytest.mark.skipif(shutil.which("fincore") is None, reason="needs util-linux's fincore to read what is cached")
def test_eviction_empties_the_page_cache(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    path.write_bytes(os.urandom(4 << 20))
    path.read_bytes()  # now cached

    def resident_bytes() -> int:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", str(path)], capture_output=True)
        return int(out.stdout.split()[0])

    if resident_bytes() == 0:
        pytest.skip("this file system does not keep the file in the page cache")
    evict_from_page_cache(path)
    assert resident_bytes() == 0


@pytest.mark.skipif(shutil.which("fincore") is None, reason="needs util-linux's fincore to read what is cached")
def test_warm_queries_start_from_a_bank_read_into_the_page_cache(open_bank: Bank) -> None:
    """ "Warm" means every file of the bank is cached, whatever was cached before (after an eviction here)."""

    def cached(files: list[Path]) -> list[tuple[int, int]]:
        out = subprocess.run(
            ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES,SIZE", *map(str, files)], capture_output=True
        )
        return [(int(resident), int(size)) for resident, size in (line.split() for line in out.stdout.decode().splitlines())]

    control = open_bank.path.with_name("control.bin")
    control.write_bytes(os.urandom(1 << 20))
    control.read_bytes()
    if cached([control])[0][0] == 0:
        pytest.skip("this file system does not keep files in the page cache")
    files = evict_from_page_cache(open_bank.path)
    assert cached([open_bank.path])[0][0] == 0  # (the open bank's shared memory, which it maps, stays cached)
    figures = read_into_page_cache(open_bank.path)
    assert figures["bank_file_mb"] == round(sum(file.stat().st_size for file in files) / 1e6, 1) > 0
    assert all(resident >= size for resident, size in cached(files)), cached(files)


def test_vector_chunks_are_the_vectors() -> None:
    whole = clustered_unit_vectors(2500, 16, clusters=40, seed=4)
    chunks = list(clustered_unit_vector_chunks(2500, 16, clusters=40, seed=4, chunk=1000))
    assert [len(chunk) for chunk in chunks] == [1000, 1000, 500]
    np.testing.assert_allclose(np.concatenate(chunks), whole, atol=1e-6)


def _fill_item_by_item(path: Path, n: int, seed: int, draw_batch: int) -> None:
    """The benchmark bank's rows written one item at a time, each event through `EpisodicStore.add_event`: the
    reference the bulk fill must reproduce (the generator drawn in the same order)."""
    rng = np.random.default_rng(seed)
    with Bank(path) as bank:
        events, _ = EpisodicStore(bank), SemanticStore(bank)
        for start in range(0, n, draw_batch):
            count = min(draw_batch, n - start)
            xs, ys = rng.uniform(0, side_m(n), count), rng.uniform(0, side_m(n), count)
            labels, durations = rng.integers(len(LABELS), size=count), rng.uniform(0.5, 30, count)
            for k in range(count):
                i, x, y, t = start + k + 1, float(xs[k]), float(ys[k]), float(start + k + 1)
                room = ROOMS[i % len(ROOMS)]
                with bank.write() as db:
                    db.execute(
                        "INSERT INTO objects (id, label, x, y, z, room, first_seen, last_seen, size_bytes)"
                        " VALUES (?, ?, ?, ?, 0.8, ?, ?, ?, 150)",
                        (i, LABELS[int(labels[k])], x, y, room, t, t),
                    )
                    db.execute("INSERT INTO objects_rtree VALUES (?, ?, ?, ?, ?)", (i, x, x, y, y))
                    db.execute(
                        "INSERT INTO facts (subject, predicate, object, valid_from, source, confidence, recorded_at, text,"
                        " size_bytes) VALUES (?, 'owned_by', ?, ?, 'user', 1.0, ?, ?, 120)",
                        (f"object:{i}", f"person {i % 1000}", t, t, f"object {i} is person {i % 1000}'s"),
                    )
                end = t + float(durations[k])
                events.add_event(Event("robot", ACTIONS[i % len(ACTIONS)], t, end, {"target": i}, (i,), room), x=x, y=y)


def _dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (the R-tree's too), and the schema."""
    with Bank(path, readonly=True) as bank:
        tables = [row[0] for row in bank.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        dump = {name: [tuple(row) for row in bank.query(f'SELECT * FROM "{name}" ORDER BY 1, 2')] for name in tables}
        dump["meta"] = [row for row in dump["meta"] if row[0] != "created"]
        dump["schema"] = [tuple(row) for row in bank.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")]
    return dump


def test_the_bulk_fill_writes_the_bank_that_item_by_item_writes_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batched draws, transactions of several draws (and a short last one) and `Bank.bulk_load` change nothing in
    the bank: each table holds the rows one write per item gives, and the queries answer the same."""
    monkeypatch.setattr(memory_perf, "DRAW_BATCH", 70)
    monkeypatch.setattr(memory_perf, "DRAWS_A_TRANSACTION", 3)
    fill_bank(tmp_path / "bulk.db", 450, seed=3, progress=lambda message: None).close()
    _fill_item_by_item(tmp_path / "one_by_one.db", 450, seed=3, draw_batch=70)
    bulk, reference = _dump(tmp_path / "bulk.db"), _dump(tmp_path / "one_by_one.db")
    assert bulk == reference
    assert [len(bulk[name]) for name in ("objects", "objects_rtree", "facts", "events", "event_objects")] == [450] * 5
    with Bank(tmp_path / "bulk.db", readonly=True) as bank:
        answers = EpisodicStore(bank).events_between(100.0, 160.0, 20)
    assert [event.id for event in answers] == list(range(160, 140, -1))


def test_a_kept_bank_is_reused_and_a_partial_one_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    build = memory_perf.build_bank

    def counting_build(path: Path, n: int, queries: int, seed: int = 0, progress=print) -> np.ndarray:
        built.append(n)
        return build(path, n, queries, seed, progress)

    monkeypatch.setattr(memory_perf, "build_bank", counting_build)
    with bench_bank(300, 5, 0, tmp_path, lambda message: None) as (path, probes):
        assert probes.shape == (5, 384) and path.exists()
    with bench_bank(300, 5, 0, tmp_path, lambda message: None) as (again, reused):
        assert again == path and np.array_equal(reused, probes)
    assert built == [300]
    (tmp_path / "bench-300-seed0-q5.complete").unlink()  # as if the build had been interrupted
    with bench_bank(300, 5, 0, tmp_path, lambda message: None):
        assert built == [300, 300]
    with bench_bank(200, 5, 0, None, lambda message: None) as (path, _):
        temporary = path.parent
    assert not temporary.exists()


@pytest.mark.slow
def test_cold_start_opens_in_fresh_processes(tmp_path: Path) -> None:
    """The cold start's figures on a small bank: an open per kind, each in its own process, and a first query."""
    with bench_bank(2000, 10, 0, tmp_path, lambda message: None) as (path, probes):
        figures = cold_start(path, 2000, probes, progress=lambda message: None)
    per_kind = {f"cold_first_query_{figure}_{kind}" for figure in ("ms", "read_kb") for kind in QUERY_KINDS}
    assert set(figures) == {"cold_open_s", "cold_open_read_mb", "cold_first_query_ms"} | per_kind
    assert 0 < figures["cold_open_s"] < 60 and figures["cold_first_query_ms"] == max(
        figures[f"cold_first_query_ms_{kind}"] for kind in QUERY_KINDS
    )


def test_a_slow_round_sets_only_the_worst_figure() -> None:
    steady = [0.03] * 180 + [0.04] * 20
    burst = [0.03] * 150 + [0.3] * 50  # a few seconds of someone else's work
    p50, p95, worst = round_figures([steady, burst, steady])
    assert p50 == pytest.approx(0.03) and p95 == pytest.approx(0.04) and worst == pytest.approx(0.3)
    assert round_figures([burst])[1] == pytest.approx(0.3)  # one round is what it is
