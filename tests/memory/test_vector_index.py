"""The bank's embedding index: exact and IVF search, kinds, removal, persistence and recovery from bad index files."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mindpalace.memory.bank import Bank
from mindpalace.memory.vector_index import GRAPH_FROM_LISTS, VectorIndex, benchmark_vector_index, clustered_unit_vectors

DIM = 32


def unit_vectors(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def true_top(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int = 10) -> list[int]:
    """Exact top k by cosine over the vectors as the bank stores them (float16)."""
    stored = vectors.astype(np.float16).astype(np.float32)
    return ids[np.argsort(-(stored @ query))[:k]].tolist()


@pytest.fixture
def bank_path(tmp_path):
    return tmp_path / "bank.db"


@pytest.fixture
def bank(bank_path):
    with Bank(bank_path) as bank:
        yield bank


@pytest.fixture
def filled(bank):
    """An index of 1,000 random vectors with ids 100.., alternately "event" and "fact"."""
    ids = np.arange(100, 1100)
    vectors = unit_vectors(1000)
    kinds = ["event" if i % 2 else "fact" for i in ids]
    index = VectorIndex(bank, DIM)
    index.add(ids, kinds, vectors)
    return index, ids, np.array(kinds), vectors


def test_exact_search_returns_the_true_nearest_neighbours(filled):
    index, ids, _, vectors = filled
    assert len(index) == 1000 and index.describe() == {"event": "Flat (exact): 500 vectors", "fact": "Flat (exact): 500 vectors"}
    for query in unit_vectors(20, seed=1):
        hits = index.search(query, k=10)
        assert [hit_id for hit_id, _ in hits] == true_top(ids, vectors, query)
        stored = dict(zip(ids.tolist(), vectors.astype(np.float16).astype(np.float32)))
        assert all(abs(score - float(stored[hit_id] @ query)) < 1e-5 for hit_id, score in hits)


def test_search_by_kind(filled):
    index, ids, kinds, vectors = filled
    query = unit_vectors(1, seed=2)[0]
    facts = kinds == "fact"
    assert [i for i, _ in index.search(query, 10, kinds={"fact"})] == true_top(ids[facts], vectors[facts], query)
    assert [i for i, _ in index.search(query, 10, kinds="fact")] == true_top(ids[facts], vectors[facts], query)
    assert index.search(query, 10, kinds={"event", "fact"}) == index.search(query, 10)
    assert index.search(query, 10, kinds={"no such kind"}) == []
    # A rare kind gets all its vectors back, however far they are from the query.
    index.add([5, 6], "object", unit_vectors(2, seed=3))
    assert sorted(i for i, _ in index.search(query, 10, kinds={"object"})) == [5, 6]


def test_remove_and_replace(filled):
    index, ids, _, vectors = filled
    query = vectors[0]
    assert index.search(query, 1)[0][0] == ids[0]
    assert index.remove([ids[0], ids[1], 999_999]) == 2
    assert len(index) == 998 and ids[0] not in index.ids()
    assert ids[0] not in [i for i, _ in index.search(query, 10)]
    assert index.remove([ids[0]]) == 0
    # Adding an existing id replaces its vector and its kind.
    index.add([ids[2]], ["object"], [query])
    assert index.search(query, 1) == [(ids[2], pytest.approx(1.0, abs=1e-3))]
    assert ids[2] not in [i for i, _ in index.search(query, 10, kinds={"fact", "event"})]
    assert len(index) == 998


def test_ivf_recall_while_growing(bank):
    data = clustered_unit_vectors(5200, 384, clusters=50, seed=4)
    queries, data = data[:200], data[200:]
    ids = np.arange(len(data))
    # Small scan floor, so the IVF lists really are pruned (the default would scan all 5,000 vectors).
    index = VectorIndex(bank, 384, exact_below=500, min_scan=500)
    for start in range(0, len(data), 1000):  # crosses exact_below at 1,000, then 4x the trained size at 5,000
        index.add(ids[start : start + 1000], "text", data[start : start + 1000])
    assert index.describe() == {"text": "IVF283,SQ8 nprobe 29: 5000 vectors"}
    recall = np.mean([len({i for i, _ in index.search(query, 10)} & set(true_top(ids, data, query))) / 10 for query in queries])
    assert recall >= 0.9
    index.remove(ids[:10])
    assert not {i for i, _ in index.search(data[0], 10)} & set(range(10))


def test_reopened_index_answers_the_same(bank_path, caplog):
    queries = unit_vectors(5, seed=5)
    with Bank(bank_path) as bank:
        index = VectorIndex(bank, DIM, exact_below=100)
        index.add(np.arange(300), ["a"] * 200 + ["b"] * 100, unit_vectors(300))
        before = [index.search(query, 10) for query in queries]
        index.save()
    with caplog.at_level(logging.INFO, logger="mindpalace.memory.vector_index"), Bank(bank_path) as bank:
        index = VectorIndex(bank, DIM, exact_below=100)
        assert "loaded the vector index (300 vectors)" in caplog.text and "rebuilding" not in caplog.text
        assert [index.search(query, 10) for query in queries] == before


def test_many_lists_are_found_by_a_graph(bank_path):
    """From GRAPH_FROM_LISTS lists on, the lists are found with an HNSW graph: it recalls, survives saving and loading,
    and takes writes after loading."""
    ids, data = np.arange(6000), clustered_unit_vectors(6000, DIM, clusters=60, seed=1)
    queries = clustered_unit_vectors(6020, DIM, clusters=60, seed=1)[6000:]
    with Bank(bank_path) as bank:
        index = VectorIndex(bank, DIM, exact_below=100, nlist=GRAPH_FROM_LISTS)
        index.add(ids, "a", data)
        assert index.describe()["a"].startswith(f"IVF{GRAPH_FROM_LISTS}_HNSW32,SQ8")
        recall = np.mean([len({i for i, _ in index.search(q, 10)} & set(true_top(ids, data, q))) / 10 for q in queries])
        assert recall >= 0.9
        before = [index.search(q, 10) for q in queries]
        index.save()
    with Bank(bank_path) as bank:
        index = VectorIndex(bank, DIM, exact_below=100, nlist=GRAPH_FROM_LISTS)
        assert [index.search(q, 10) for q in queries] == before
        index.add([6000], "a", queries[:1])
        assert index.search(queries[0], 1)[0][0] == 6000


def test_a_loaded_index_takes_writes_like_the_index_it_was_saved_from(tmp_path):
    """A loaded index reads the saved file in place; adding to and removing from it (IVF and exact kinds) gives what the
    same writes give the index it was saved from."""
    queries = unit_vectors(5, seed=8)
    answers = []
    for reopen in (False, True):
        with Bank(tmp_path / f"{reopen}.db") as bank:
            index = VectorIndex(bank, DIM, exact_below=100)
            index.add(np.arange(300), ["a"] * 200 + ["b"] * 100, unit_vectors(300))
            if reopen:
                index.save()
                bank.close()
                bank = Bank(tmp_path / f"{reopen}.db")
                index = VectorIndex(bank, DIM, exact_below=100)
            index.add(np.arange(300, 340), ["a"] * 20 + ["b"] * 20, unit_vectors(40, seed=9))
            index.remove(np.arange(0, 300, 7))
            assert len(index) == 340 - len(range(0, 300, 7))
            answers.append([index.search(query, 10) for query in queries])
            bank.close()
    assert answers[0] == answers[1]


def corrupt_index_bytes(index: VectorIndex) -> None:
    data = bytearray(index.index_path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    index.index_path.write_bytes(bytes(data))


def truncate_index(index: VectorIndex) -> None:
    index.index_path.write_bytes(index.index_path.read_bytes()[:1000])


def garble_manifest(index: VectorIndex) -> None:
    index.manifest_path.write_text("{not json")


def miscount_manifest(index: VectorIndex) -> None:
    manifest = json.loads(index.manifest_path.read_text())
    manifest["kinds"]["a"]["count"] += 1
    index.manifest_path.write_text(json.dumps(manifest))


def mislabel_largest_id(index: VectorIndex) -> None:
    manifest = json.loads(index.manifest_path.read_text())
    manifest["kinds"]["a"]["max_id"] += 1
    index.manifest_path.write_text(json.dumps(manifest))


def delete_index(index: VectorIndex) -> None:
    index.index_path.unlink()


def write_after_save(index: VectorIndex) -> None:
    index.add([0], "a", unit_vectors(1, seed=7))  # replaces id 0: same count, same largest id


@pytest.mark.parametrize(
    "damage, why",
    [
        (corrupt_index_bytes, "checksum"),
        (truncate_index, "checksum"),
        (garble_manifest, "unreadable"),
        (miscount_manifest, "the index holds 300"),
        (mislabel_largest_id, "largest ids differ"),
        (delete_index, "no saved vector index"),
        (write_after_save, "writes after the last save"),
    ],
)
def test_a_bad_index_file_is_rebuilt_from_the_table(bank_path, caplog, damage, why):
    queries = unit_vectors(5, seed=6)
    with Bank(bank_path) as bank:
        index = VectorIndex(bank, DIM)
        index.add(np.arange(300), "a", unit_vectors(300))
        index.save()
        damage(index)
        expected = [index.search(query, 10) for query in queries]
    with caplog.at_level(logging.INFO, logger="mindpalace.memory.vector_index"), Bank(bank_path) as bank:
        index = VectorIndex(bank, DIM)
        assert why in caplog.text and "loaded" not in caplog.text
        assert len(index) == 300
        assert [[i for i, _ in index.search(query, 10)] for query in queries] == [[i for i, _ in hits] for hits in expected]
        index.save()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="mindpalace.memory.vector_index"), Bank(bank_path) as bank:
        VectorIndex(bank, DIM)
        assert "loaded the vector index (300 vectors)" in caplog.text


def test_acknowledged_writes_survive_a_crash(bank_path):
    script = f"""
        import os, numpy as np
        from mindpalace.memory.bank import Bank
        from mindpalace.memory.vector_index import VectorIndex
        index = VectorIndex(Bank({str(bank_path)!r}), {DIM})
        index.add(np.arange(100), "a", np.random.default_rng(0).standard_normal((100, {DIM})))
        index.save()
        index.add(np.arange(100, 150), "b", np.ones((50, {DIM}), np.float32))
        os._exit(3)  # killed: no save, no close
    """
    assert subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=False).returncode == 3
    with Bank(bank_path) as bank:
        index = VectorIndex(bank, DIM)
        assert index.ids() == set(range(150))
        assert {i for i, _ in index.search(np.ones(DIM), 50)} == set(range(100, 150))


def test_dimension_mismatch_is_a_value_error(bank):
    index = VectorIndex(bank, DIM)
    with pytest.raises(ValueError, match=r"\(n, 32\)"):
        index.add([1], "a", unit_vectors(1, dim=16))
    with pytest.raises(ValueError, match=r"\(32,\)"):
        index.search(np.ones(16))
    index.add([1], "a", unit_vectors(1))
    with pytest.raises(ValueError, match="holds 32-d vectors, not 16-d"):
        VectorIndex(bank, 16)


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.0])
def test_nan_infinite_and_zero_vectors_are_rejected(bank, bad):
    index = VectorIndex(bank, DIM)
    vectors = unit_vectors(3)
    vectors[1] = bad
    with pytest.raises(ValueError):
        index.add([1, 2, 3], "a", vectors)
    with pytest.raises(ValueError):
        index.search(vectors[1])
    assert len(index) == 0 and index.ids() == set()


def test_bad_ids_are_rejected(bank):
    index = VectorIndex(bank, DIM)
    with pytest.raises(ValueError, match="repeat"):
        index.add([1, 1], "a", unit_vectors(2))
    with pytest.raises(ValueError, match="negative"):
        index.add([-1], "a", unit_vectors(1))


def test_benchmark_measures_the_index_it_describes():
    """`benchmark_vector_index` (the figures in vector_index.py's docstring): below `exact_below` the grown and the
    rebuilt index are both exact, so they recall every true neighbour; the saved index holds each float32 vector."""
    result = benchmark_vector_index(3000, dim=DIM, queries=20)
    assert result["index"] == result["rebuilt_index"] == "Flat (exact): 3000 vectors"
    assert result["recall_at_10"] == result["rebuilt_recall_at_10"] == 1.0
    assert DIM * 4 < result["index_bytes_per_vector"] < DIM * 4 + 64  # the vector, its id, the file's header
    timings = ("fill_s", "p50_ms", "p95_ms", "save_s", "build_s", "load_s", "rebuilt_p50_ms", "rebuilt_p95_ms")
    assert all(math.isfinite(result[key]) for key in timings)
    assert result["p95_ms"] >= result["p50_ms"] and result["rebuilt_p95_ms"] >= result["rebuilt_p50_ms"]


def test_the_probe_floor_sets_the_count_only_for_big_lists(bank):
    # Lists of ~100 vectors: the 500-vector scan needs 5 of them, under the floor of 8 (at 10^7 items, a floor of 16
    # scanned 2.7x the scan budget for no recall).
    data = clustered_unit_vectors(2000, 384, clusters=20, seed=5)
    index = VectorIndex(bank, 384, exact_below=500, nlist=20, min_scan=500)
    index.add(np.arange(len(data)), "text", data)
    assert index.describe() == {"text": "IVF20,SQ8 nprobe 8: 2000 vectors"}
    # Small lists: the scan budget, not the floor, sets how many are probed.
    assert VectorIndex(bank, 384, exact_below=500, nlist=20, min_scan=1900).describe() == {
        "text": "IVF20,SQ8 nprobe 19: 2000 vectors"
    }
