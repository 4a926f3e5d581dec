"""The embedding index of a memory bank: text embeddings searched by cosine similarity.

Vectors are unit vectors (all-MiniLM-L6-v2 gives 384-d ones; any input is normalised, so cosine is the
inner product). Each has an id (the item's global id, given by the caller) and a kind ("event", "fact",
...), and `search` can be limited to some kinds.

Truth and cache. The vectors live in the bank's `vectors` table (id, kind, vector as float16: half the
bytes of float32 and, for unit vectors, cosines within ~1e-3 of it). Every `add`/`remove` commits in one
transaction with a generation counter in the bank's meta table, so an acknowledged write survives a crash.
The ANN index is a cache derived from the table: `save()` writes it beside the bank (`<bank>.faiss`, and
`<bank>.faiss.json` saying what it covers: the generation and, per kind, the count, the largest id, the
index type and a CRC of its bytes). Opening loads it when it matches the table (same generation, and the
same kinds with the same largest ids), else rebuilds it from the table and logs why: a missing, stale (writes
after the last save, e.g. a crash), corrupt or foreign file never keeps a bank from opening. A read-only bank
writes no index file and defers that rebuild to its first search (in memory); `status()` says it is pending. The
generation is needed because the largest id alone misses a vector replaced under the same id, or one
removed while another is added below the largest id. Counts are not compared with the table's: counting
reads the whole `vectors_by_kind` index, and every write moves the generation anyway.

Loading maps the file and checks each kind's bytes against their CRC (one sequential read), then faiss
reads each index in place (`ZeroCopyIOReader`): nothing is copied, and the lists stay in the OS page cache,
not in this process's memory. faiss aborts the process on a write to lists read in place, so a kind is
copied into memory of its own before its first `add` or `remove`. At 10^6 vectors (three kinds) on this
shared machine: opening 1.1-1.3 s cold (380 MB read) and 0.7 s warm, where counting (1.5 s), reading (1.9 s),
checking (0.6 s) and copying (2.3 s) took 6.3 s cold; the first write of a kind then copies it in 0.6-0.9 s.

One index per kind. A filtered search then reads only the kinds it asks for: a rare kind is searched
exactly and fully, where over-fetching from one shared index would return too few hits for it (and cost
more for every filter). A search over several kinds merges their top k.

Index choice, per kind, made when the kind's index is built (figures: one core of this machine,
384-d vectors from `clustered_unit_vectors`, k=10):

- up to `exact_below` (20,000) vectors: exact, `IndexFlatIP` in an `IndexIDMap2`, p95 0.7-1.0 ms at 10^4
  and ~1.2 ms at 2*10^4, under the ~2 ms that keeps 10^6 within 3x of 10^4.
- above: "IVF{nlist},SQ8" (inner product), nlist = 4*sqrt(N), trained on a seeded sample of up to 50,000
  vectors. At 10^6: trained in ~10 s, the vectors added in ~18 s, 397 bytes a vector on disk and after a
  load (~530 right after a build: faiss grows its lists by doubling). SQ8 codes lose ~0.015 recall@10 to
  float16 or float32 ones, which take 2x or 4x the bytes. HNSW was ruled out: HNSW32 took 20 s to add 10^5 vectors
  (recall@10 0.97 at efSearch 64), so minutes for 10^6 at 1.6 kB a vector; an HNSW coarse quantiser
  ("IVF4000_HNSW32,SQ8") took 37 s to add 10^6 against 18 s, to save ~0.15 ms a search.
- from `GRAPH_FROM_LISTS` (4096) lists, i.e. from ~10^6 vectors of a kind: "IVF{nlist}_HNSW32,SQ8". Finding
  the lists to probe by scanning every centroid costs nlist*384 multiply-adds; at 10^7 items (~6,300 lists in
  each of three kinds, 29 MB of centroids read per search) that scan, not the lists, set the text query's
  cost. An HNSW graph over the centroids (efSearch 64 when adding and searching; k-means itself still assigns
  exactly) finds them in a fraction of that: at 6,200 lists over 3*10^5 vectors p50 0.53 ms against 1.19 ms,
  for recall@10 0.970 against 0.987 at 3,000 lists (the graph's adds misplace a few vectors).
- a kind's index is rebuilt from the table when its count leaves [N/4, 4N] for the N it was built at (an
  exact one: when it passes `exact_below`), so nlist follows the size; the rebuild runs inside the `add`
  or `remove` that crosses the bound (at 10^6: ~33 s).

Probing. `nprobe` (8) is a floor: a search probes enough lists to scan at least `min_scan` (8,192)
vectors in all, shared among the IVF kinds it searches. The floor sets the count only for big lists: at 10^7
items (three kinds of 3.3*10^6 vectors, 457 a list) a search of all kinds needs 6 lists a kind for `min_scan`;
a floor of 16 scanned 2.7x that for no recall: recall@10 0.966 at 16 and at 8 lists (200 probes against an exact
search of the table), p50 2.15 -> 1.57 ms, p95 2.64 -> 2.34 ms (one core, the other busy). Small lists are
cheap to scan, and an index holds small lists just above `exact_below` and right after a rebuild: at 2*10^4
vectors, 16 of 566 lists recalled 0.86 of the top 10, the 232 lists that make 8,192 vectors 0.97 in 0.46 ms (p95).
The worst case is an index serving 4x the count it was trained at (nlist then 2*sqrt(N)): trained at 2*10^4 and
holding 8*10^4, scanning 4,096 vectors recalled 0.89, 8,192 0.91. At 10^6 the floor scans 8,000-12,000 vectors
(24-33 lists) in ~1 ms.

Measured with `benchmark_vector_index` (fresh process each; "grown": filled by adds of 10,000, as a bank
grows; "rebuilt": `rebuild()` at that size, as after opening without a usable index file):

| n | index (grown) | fill s | p50 / p95 ms | recall@10 | rebuilt: index, build s | p50 / p95 ms | recall@10 |
|---|---|---|---|---|---|---|---|
| 10^4 | Flat | 0.12 | 0.70 / 0.82 | 1.00 | Flat, 0.03 | 0.61 / 0.70 | 1.00 |
| 10^5 | IVF693 (built at 3*10^4), nprobe 57 | 2.7 | 0.58 / 0.72 | 0.91 | IVF1265 nprobe 104, 4.7 | 0.67 / 0.82 | 0.96 |
| 10^6 | IVF2912 (built at 5.3*10^5), nprobe 24 | 42 | 0.80 / 1.02 | 0.96 | IVF4000 nprobe 33, 33 | 0.91 / 1.10 | 0.98 |

So p95 at 10^6 is ~1.1 ms (target: <= 10 ms, and <= 3x the ~0.8 ms at 10^4). Index bytes a vector: 1,544
(Flat), 397-403 (IVF); the SQLite table takes ~840 a vector. At 10^6, saving takes 3.4 s.
The synthetic clusters are wide (two points of a cluster at cosine 0.3-0.6), harder for IVF than
tighter ones (0.4-0.7), where recall@10 was 0.95-0.97 from nprobe 4 on.

faiss runs single-threaded by default (`threads=1`, a process-wide faiss setting): the memory runs on one
core beside perception and the planner, and a one-vector search gains nothing from threads.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import tempfile
import threading
import time
import zlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mindpalace.memory.bank import Bank, BankError, register_schema

try:
    import faiss
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("the vector index needs faiss: pip install faiss-cpu") from exc

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, vector BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS vectors_by_kind ON vectors (kind, id)",
)
register_schema("vectors", SCHEMA)

FILE_FORMAT = 1
STORED = np.dtype("<f2")  # the table's vector format
TRAIN_SAMPLE = 50_000  # vectors an IVF index is trained on, at most
GROWTH = 4  # an IVF index trained at N is rebuilt outside [N / GROWTH, N * GROWTH]
READ_CHUNK = 65_536  # rows read from the table at a time when building
GRAPH_FROM_LISTS = 4096  # an IVF index with this many lists finds the nearest ones with an HNSW graph, not by scanning all
GRAPH_SEARCH_BREADTH = 64  # the graph's efSearch, when adding and searching alike


@dataclass
class _KindIndex:
    index: faiss.Index
    trained_at: int  # the count an IVF index was built at; 0 for an exact index
    # The saved file's bytes (memory-mapped) that a loaded index reads in place; None once it owns its data.
    mapped: NDArray[np.uint8] | None = None

    @property
    def exact(self) -> bool:
        return self.trained_at == 0


class _Unusable(Exception):
    """The saved index does not match the table (or cannot be read); the message says why."""


class VectorIndex:
    """The text-embedding index of `bank`: `add`, `remove`, `search`, `save`.

    `index_path` defaults to `<bank path>.faiss`. See the module docstring for `exact_below`, `nlist`
    (default 4*sqrt(N)), `nprobe` and `min_scan`; `threads` sets faiss's process-wide thread count (None
    leaves it alone); `seed` picks the training sample.
    """

    def __init__(
        self,
        bank: Bank,
        dim: int = 384,
        index_path: str | Path | None = None,
        exact_below: int = 20_000,
        nlist: int | None = None,
        nprobe: int = 8,
        *,
        min_scan: int = 8192,
        threads: int | None = 1,
        seed: int = 0,
    ) -> None:
        if dim < 1 or exact_below < 0 or nprobe < 1 or min_scan < 0 or (nlist is not None and nlist < 1):
            raise ValueError("dim, nprobe and nlist must be positive; exact_below and min_scan not negative")
        self.dim = dim
        self.exact_below = exact_below
        self.nlist = nlist
        self.nprobe = nprobe
        self.min_scan = min_scan
        self.seed = seed
        self.index_path = Path(index_path) if index_path is not None else bank.path.with_name(bank.path.name + ".faiss")
        self.manifest_path = self.index_path.with_name(self.index_path.name + ".json")
        self._bank = bank
        self._lock = threading.RLock()
        self._indexes: dict[str, _KindIndex] = {}
        self._generation = 0  # the bank generation the in-memory indexes reflect
        self._saved_generation: int | None = None  # the generation of the files on disk, when known to match
        self._stale: str | None = None  # why the saved index was not used, while a read-only bank defers its rebuild
        if threads is not None:
            faiss.omp_set_num_threads(threads)
        if not bank.readonly:
            # The bank may have been opened before this module registered its schema.
            with bank.write() as db:
                for statement in SCHEMA:
                    db.execute(statement)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('vectors_dim', ?)", (str(dim),))
        stored_dim = int(bank.meta().get("vectors_dim", dim))
        if stored_dim != dim:
            raise ValueError(f"{bank.path} holds {stored_dim}-d vectors, not {dim}-d")
        self._open()

    # ------------------------------------------------------------------ opening and saving
    def _open(self) -> None:
        """Load the saved index, or rebuild it from the table. A read-only bank defers the rebuild to the first
        search (in memory only): opening to read stays fast, and `status()` says what is pending."""
        try:
            self._indexes = self._load()
        except FileNotFoundError:
            self._stale = "no saved vector index"
        except _Unusable as why:
            self._stale = str(why)
        except BankError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as error:
            self._stale = f"unreadable ({type(error).__name__}: {error})"
        else:
            self._generation = self._saved_generation = self._bank_generation()
            log.info("%s: loaded the vector index (%d vectors)", self.index_path, len(self))
            return
        if self._bank.readonly:
            log.info("%s: %s; a read-only bank builds it in memory at the first search", self.index_path, self._stale)
            return
        log.log(
            logging.INFO if self._stale == "no saved vector index" else logging.WARNING,
            "%s: rebuilding the vector index from the table: %s",
            self.index_path,
            self._stale,
        )
        self.rebuild()

    def _ensure_built(self) -> None:
        if self._stale is not None:
            self.rebuild()

    def status(self) -> str:
        """ "ok", or why the saved index is not in use yet (a read-only bank builds it at the first search)."""
        if self._stale is None:
            return "ok"
        return f"stale: {self._stale}; built in memory at the first text search"

    def stored_count(self) -> int:
        """Vectors in the table (what the index holds once built)."""
        return int(self._bank.query("SELECT COUNT(*) FROM vectors")[0][0])

    def _load(self) -> dict[str, _KindIndex]:
        manifest = json.loads(self.manifest_path.read_text())
        if manifest["format"] != FILE_FORMAT or manifest["dim"] != self.dim:
            raise _Unusable(f"format {manifest['format']} and dim {manifest['dim']}, expected {FILE_FORMAT} and {self.dim}")
        generation = self._bank_generation()
        if manifest["generation"] != generation:
            raise _Unusable(
                f"it covers generation {manifest['generation']} of the table, which is at {generation} "
                "(writes after the last save)"
            )
        covered = {kind: entry["max_id"] for kind, entry in manifest["kinds"].items()}
        if covered != self._largest_ids():
            raise _Unusable("its kinds or their largest ids differ from the table's")
        indexes = {}
        # Mapped, not read: the index then reads its lists in place from the OS page cache, so opening copies nothing
        # (at 10^6 vectors read + copy + parse took ~4x as long as the checksum alone) and the lists stay out of this
        # process's own memory. A kind is copied into memory of its own before its first write (`_owned`).
        data = np.memmap(self.index_path, np.uint8, mode="r")
        for kind, entry in manifest["kinds"].items():
            view = data[entry["offset"] : entry["offset"] + entry["size"]]
            # Checked before faiss reads them: faiss trusts the sizes written in its own format.
            if len(view) != entry["size"] or zlib.crc32(view.data) != entry["crc32"]:
                raise _Unusable(f"kind {kind!r}: its bytes do not match their checksum (a corrupt file)")
            # ZeroCopyIOReader is in faiss (>= 1.8) but not in its stub.
            index = faiss.read_index(faiss.ZeroCopyIOReader(faiss.swig_ptr(view), len(view)))  # type: ignore[attr-defined]
            if index.ntotal != entry["count"] or index.d != self.dim:
                raise _Unusable(f"kind {kind!r}: the index holds {index.ntotal} {index.d}-d vectors")
            indexes[kind] = _KindIndex(index, entry["trained_at"], view)
        return indexes

    def save(self) -> None:
        """Write the index beside the bank (nothing to do when it has not changed since it was saved or loaded).

        Each file is written under a temporary name and renamed, the index first: a crash in between leaves an
        index that fails its checksum or its manifest's generation, which the next open rebuilds.
        """
        with self._lock:
            if self._saved_generation == self._generation or self._bank.readonly or self._stale is not None:
                return
            largest = {kind: max_id for kind, (_, max_id) in self._table_stats().items()}
            kinds = {}
            offset = 0
            partial = self.index_path.with_name(self.index_path.name + ".tmp")
            with partial.open("wb") as handle:
                for kind, entry in sorted(self._indexes.items()):
                    data = faiss.serialize_index(entry.index)
                    handle.write(data.data)
                    kinds[kind] = {
                        "offset": offset,
                        "size": data.nbytes,
                        "crc32": zlib.crc32(data.data),
                        "count": entry.index.ntotal,
                        "max_id": largest.get(kind),
                        "trained_at": entry.trained_at,
                        "type": self._describe(entry),
                    }
                    offset += data.nbytes
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, self.index_path)
            manifest = {"format": FILE_FORMAT, "dim": self.dim, "generation": self._generation, "kinds": kinds}
            partial = self.manifest_path.with_name(self.manifest_path.name + ".tmp")
            partial.write_text(json.dumps(manifest, indent=1))
            os.replace(partial, self.manifest_path)
            self._saved_generation = self._generation

    def rebuild(self) -> None:
        """Rebuild every kind's index from the table."""
        with self._lock:
            generation = self._bank_generation()
            self._indexes = {kind: self._build(kind, count) for kind, (count, _) in self._table_stats().items()}
            self._generation = generation
            self._saved_generation = None
            self._stale = None

    def _build(self, kind: str, count: int) -> _KindIndex:
        """One kind's index from the table, exact or IVF by its size."""
        started = time.perf_counter()
        if count <= self.exact_below:
            entry = _KindIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim)), 0)
        else:
            nlist = min(count, self.nlist or round(4 * math.sqrt(count)))
            graph = nlist >= GRAPH_FROM_LISTS
            index = faiss.index_factory(self.dim, f"IVF{nlist}{'_HNSW32' if graph else ''},SQ8", faiss.METRIC_INNER_PRODUCT)
            # faiss warns below 39 training vectors a list; recall was measured fine at 12 (50,000 for 4,000).
            ivf = faiss.extract_index_ivf(index)
            ivf.cp.min_points_per_centroid = 1
            exact = faiss.IndexFlatIP(self.dim)
            if graph:
                ivf.clustering_index = exact  # k-means assigns exactly; the graph is then built over its centroids
            index.train(self._training_sample(kind))
            if graph:
                # `exact` goes with this call; faiss' stub types the (nullable) pointer as never None.
                ivf.clustering_index = None  # type: ignore[assignment]
                quantizer = faiss.downcast_index(ivf.quantizer)
                assert isinstance(quantizer, faiss.IndexHNSW), "IVF..._HNSW32 quantizes with a graph"
                quantizer.hnsw.efSearch = GRAPH_SEARCH_BREADTH
            entry = _KindIndex(index, count)
        cursor = self._bank.reader().execute("SELECT id, vector FROM vectors WHERE kind = ? ORDER BY id", (kind,))
        while rows := cursor.fetchmany(READ_CHUNK):
            ids = np.fromiter((row[0] for row in rows), np.int64, len(rows))
            entry.index.add_with_ids(self._decode([row[1] for row in rows]), ids)
        log.info(
            "vector index %r: built %s over %d vectors in %.1f s",
            kind,
            self._describe(entry),
            entry.index.ntotal,
            time.perf_counter() - started,
        )
        return entry

    def _training_sample(self, kind: str) -> NDArray[np.float32]:
        ids = np.array([row[0] for row in self._bank.query("SELECT id FROM vectors WHERE kind = ?", (kind,))], np.int64)
        chosen = np.random.default_rng(self.seed).choice(ids, min(TRAIN_SAMPLE, len(ids)), replace=False)
        rows = self._bank.query(
            "SELECT vector FROM vectors WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(chosen.tolist()),)
        )
        return self._decode([row[0] for row in rows])

    # ------------------------------------------------------------------ writing
    def add(self, ids: ArrayLike, kinds: str | Sequence[str], vectors: ArrayLike) -> None:
        """Store and index vectors (n, dim) under their ids, in one transaction; an existing id is replaced.

        `kinds` is one kind per vector, or one kind for all. Vectors are normalised; NaN, infinite or zero
        ones are rejected with ValueError, as are negative or repeated ids.
        """
        id_array = self._check_ids(ids)
        if len(id_array) == 0:
            return
        kind_list = [kinds] * len(id_array) if isinstance(kinds, str) else list(kinds)
        if not all(isinstance(kind, str) and kind for kind in kind_list):
            raise ValueError("kinds must be non-empty strings")
        stored = self._unit_rows(vectors).astype(STORED)
        if not len(id_array) == len(kind_list) == len(stored):
            raise ValueError(f"{len(id_array)} ids, {len(kind_list)} kinds and {len(stored)} vectors")
        with self._lock:
            with self._bank.write() as db:
                replaced = self._kinds_of(db, id_array)
                db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    zip(id_array.tolist(), kind_list, (row.tobytes() for row in stored)),
                )
                generation = self._bump_generation(db)
            # The in-memory index holds exactly what the table holds: the float16 values.
            values = stored.astype(np.float32)
            added = {kind: (id_array[rows], values[rows]) for kind, rows in _rows_by_kind(kind_list).items()}
            self._apply(replaced, added)
            self._generation = generation

    def remove(self, ids: ArrayLike) -> int:
        """Delete vectors by id (unknown ids are ignored); returns how many were deleted."""
        id_array = self._check_ids(ids)
        with self._lock:
            with self._bank.write() as db:
                removed = self._kinds_of(db, id_array)
                if not removed:
                    return 0
                db.execute("DELETE FROM vectors WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(removed)),))
                generation = self._bump_generation(db)
            self._apply(removed, {})
            self._generation = generation
            return len(removed)

    def _apply(self, removed: dict[int, str], added: dict[str, tuple[NDArray[np.int64], NDArray[np.float32]]]) -> None:
        """Bring the in-memory indexes in line with a committed change to the table."""
        gone: dict[str, list[int]] = {}
        for vector_id, kind in removed.items():
            gone.setdefault(kind, []).append(vector_id)
        for kind in gone.keys() | added.keys():
            entry = self._indexes.get(kind)
            new_ids, new_vectors = added.get(kind, (np.empty(0, np.int64), np.empty((0, self.dim), np.float32)))
            count = (entry.index.ntotal if entry else 0) - len(gone.get(kind, ())) + len(new_ids)
            if count == 0:
                self._indexes.pop(kind, None)
            elif entry is None or self._outgrown(entry, count):
                self._indexes[kind] = self._build(kind, count)  # from the table, which holds the change already
            else:
                self._owned(entry)
                if kind in gone:
                    # faiss's stub types Index.remove_ids as taking an IDSelector; its Python wrapper takes ids too.
                    entry.index.remove_ids(np.array(gone[kind], np.int64))  # type: ignore[arg-type]
                if len(new_ids):
                    entry.index.add_with_ids(new_vectors, new_ids)

    @staticmethod
    def _owned(entry: _KindIndex) -> None:
        """Give a loaded index memory of its own before it changes: faiss aborts the process on a write to mapped lists.

        This copy is what opening used to cost, paid by the first write of the kind instead (~0.3 s at 3*10^5 vectors).
        """
        if entry.mapped is not None:
            entry.index = faiss.deserialize_index(entry.mapped)
            entry.mapped = None

    def _outgrown(self, entry: _KindIndex, count: int) -> bool:
        if entry.exact:
            return count > self.exact_below
        return count > entry.trained_at * GROWTH or count < entry.trained_at / GROWTH

    # ------------------------------------------------------------------ reading
    def search(self, query: ArrayLike, k: int = 10, kinds: Collection[str] | str | None = None) -> list[tuple[int, float]]:
        """The k nearest vectors to `query` (dim,) by cosine, best first, as (id, score); `kinds` limits the kinds.

        Scores of IVF-indexed kinds are computed on 8-bit codes (within ~1e-3 of the cosine).
        """
        if k < 1:
            raise ValueError(f"k must be positive, got {k}")
        if np.shape(query) != (self.dim,):
            raise ValueError(f"query must be ({self.dim},), got {np.shape(query)}")
        vector = self._unit_rows(np.reshape(query, (1, self.dim)))
        wanted = {kinds} if isinstance(kinds, str) else kinds
        hits: list[tuple[int, float]] = []
        with self._lock:
            self._ensure_built()
            searched = [(kind, entry) for kind, entry in self._indexes.items() if wanted is None or kind in wanted]
            # One scan budget for the whole search: the merged top k needs only each kind's share of it
            # (measured at 3*10^5 over three kinds: p95 2.3 -> 1.0 ms, recall@10 0.94 -> 0.93).
            shares = max(1, sum(not entry.exact for _, entry in searched))
            for _, entry in searched:
                if not entry.exact:
                    faiss.extract_index_ivf(entry.index).nprobe = self._nprobe(entry, self.min_scan / shares)
                scores, ids = entry.index.search(vector, k)
                hits += [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        hits.sort(key=lambda hit: -hit[1])
        return hits[:k]

    def _nprobe(self, entry: _KindIndex, min_scan: float | None = None) -> int:
        nlist = faiss.extract_index_ivf(entry.index).nlist
        per_list = max(1.0, entry.index.ntotal / nlist)
        scan = self.min_scan if min_scan is None else min_scan
        return min(nlist, max(self.nprobe, math.ceil(scan / per_list)))

    def ids(self) -> set[int]:
        """Every stored id (from the table)."""
        return {row[0] for row in self._bank.query("SELECT id FROM vectors")}

    def describe(self) -> dict[str, str]:
        """Per kind, the index type and its size, e.g. {"fact": "IVF4000,SQ8 nprobe 16: 1000000 vectors"}."""
        with self._lock:
            self._ensure_built()
            return {kind: f"{self._describe(entry)}: {entry.index.ntotal} vectors" for kind, entry in self._indexes.items()}

    def _describe(self, entry: _KindIndex) -> str:
        if entry.exact:
            return "Flat (exact)"
        ivf = faiss.extract_index_ivf(entry.index)
        graph = "_HNSW32" if isinstance(faiss.downcast_index(ivf.quantizer), faiss.IndexHNSW) else ""
        return f"IVF{ivf.nlist}{graph},SQ8 nprobe {self._nprobe(entry)}"

    def __len__(self) -> int:
        with self._lock:
            self._ensure_built()
            return sum(entry.index.ntotal for entry in self._indexes.values())

    # ------------------------------------------------------------------ helpers
    def _unit_rows(self, vectors: ArrayLike) -> NDArray[np.float32]:
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise ValueError(f"vectors must be (n, {self.dim}), got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError("vectors contain NaN or infinite values")
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        if not (norms > 0).all():
            raise ValueError("a zero vector has no direction to compare by cosine")
        return array / norms

    @staticmethod
    def _check_ids(ids: ArrayLike) -> NDArray[np.int64]:
        array = np.asarray(ids, dtype=np.int64).reshape(-1)
        # faiss marks a missing hit with id -1.
        if (array < 0).any():
            raise ValueError("ids must not be negative")
        if len(np.unique(array)) != len(array):
            raise ValueError("ids repeat within one call")
        return array

    def _decode(self, blobs: list[bytes]) -> NDArray[np.float32]:
        return np.frombuffer(b"".join(blobs), STORED).reshape(len(blobs), self.dim).astype(np.float32)

    @staticmethod
    def _kinds_of(db: sqlite3.Connection, ids: NDArray[np.int64]) -> dict[int, str]:
        rows = db.execute(
            "SELECT id, kind FROM vectors WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids.tolist()),)
        )
        return {row[0]: row[1] for row in rows}

    @staticmethod
    def _bump_generation(db: sqlite3.Connection) -> int:
        db.execute(
            "INSERT INTO meta VALUES ('vectors_generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        return int(db.execute("SELECT value FROM meta WHERE key = 'vectors_generation'").fetchone()[0])

    def _bank_generation(self) -> int:
        rows = self._bank.query("SELECT value FROM meta WHERE key = 'vectors_generation'")
        return int(rows[0][0]) if rows else 0

    def _largest_ids(self) -> dict[str, int]:
        """Per kind in the table, its largest id: two index lookups a kind, where `_table_stats` reads the whole index."""
        largest: dict[str, int] = {}
        kind = ""
        while (kind := self._bank.query("SELECT MIN(kind) FROM vectors WHERE kind > ?", (kind,))[0][0]) is not None:
            largest[kind] = self._bank.query("SELECT MAX(id) FROM vectors WHERE kind = ?", (kind,))[0][0]
        return largest

    def _table_stats(self) -> dict[str, tuple[int, int]]:
        """Per kind, (count, largest id) in the table."""
        rows = self._bank.query("SELECT kind, COUNT(*), MAX(id) FROM vectors GROUP BY kind")
        return {row[0]: (row[1], row[2]) for row in rows}


def _rows_by_kind(kinds: Iterable[str]) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for row, kind in enumerate(kinds):
        rows.setdefault(kind, []).append(row)
    return rows


# ---------------------------------------------------------------------- benchmark
def clustered_unit_vectors(n: int, dim: int = 384, clusters: int = 2000, seed: int = 0) -> NDArray[np.float32]:
    """`n` synthetic embedding-like unit vectors (n, dim): Gaussian clusters of uneven size and spread.

    Centres are random directions; cluster sizes are log-normal (a few common topics, many rare ones); a
    point is its centre plus noise of norm 0.8-1.6 (per cluster), so two points of one cluster have cosine
    ~0.3-0.6 and of two clusters ~0. The wide, isotropic spread makes it harder for IVF than tight clusters.
    """
    points = np.empty((n, dim), np.float32)
    start = 0
    for chunk in clustered_unit_vector_chunks(n, dim, clusters, seed):
        points[start : start + len(chunk)] = chunk
        start += len(chunk)
    return points


def clustered_unit_vector_chunks(
    n: int, dim: int = 384, clusters: int = 2000, seed: int = 0, chunk: int = 100_000
) -> Iterator[NDArray[np.float32]]:
    """The vectors of `clustered_unit_vectors`, the same ones, `chunk` rows at a time (10^7 of them take 15 GB)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = rng.lognormal(0.0, 1.0, clusters)
    spread = rng.uniform(0.8, 1.6, clusters).astype(np.float32)
    labels = rng.choice(clusters, n, p=weights / weights.sum())
    for start in range(0, n, chunk):
        chosen = labels[start : start + chunk]
        noise = rng.standard_normal((len(chosen), dim), dtype=np.float32)
        points = centres[chosen] + spread[chosen, None] * noise / np.sqrt(dim)
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        yield points


def _rss_bytes() -> int | None:
    """This process's resident memory (Linux; None elsewhere)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _measure_search(index: VectorIndex, probes: NDArray[np.float32], truth: NDArray[np.int64]) -> dict[str, float]:
    """p50/p95 latency of one k=10 search, and recall@10 against the exact neighbours `truth`."""
    index.search(probes[0])  # the first search pays one-off costs
    latencies, recalls = [], []
    for probe, true in zip(probes, truth):
        started = time.perf_counter()
        hits = index.search(probe, 10)
        latencies.append(time.perf_counter() - started)
        recalls.append(len({hit_id for hit_id, _ in hits} & set(true.tolist())) / 10)
    return {
        "p50_ms": float(np.percentile(latencies, 50) * 1e3),
        "p95_ms": float(np.percentile(latencies, 95) * 1e3),
        "recall_at_10": float(np.mean(recalls)),
    }


def benchmark_vector_index(n: int, dim: int = 384, queries: int = 200, seed: int = 0) -> dict:
    """Fill a fresh bank's index with `n` clustered vectors and measure it with `queries` held-out ones.

    Returns: the index type, fill_s (adding in batches of 10,000, with the SQLite writes and the rebuilds
    as it grows), p50_ms/p95_ms (one search, k=10) and recall_at_10 (against exact search of the same
    vectors) of the grown index; build_s (`rebuild()` from the table: what opening without a usable index
    file costs) and the same figures for the rebuilt index ("rebuilt_..."); save_s, load_s,
    index_bytes_per_vector (the saved index), bank_bytes_per_vector (the SQLite file) and rss_growth_mb
    (after filling; meaningful in a fresh process, None off Linux).
    """
    data = clustered_unit_vectors(n + queries, dim, seed=seed)
    probes, data = data[:queries], data[queries:]
    _, truth = faiss.knn(probes, data, 10, metric=faiss.METRIC_INNER_PRODUCT)
    with tempfile.TemporaryDirectory(prefix="mindpalace-vectors-") as folder, Bank(Path(folder) / "bank.db") as bank:
        rss_before = _rss_bytes()
        started = time.perf_counter()
        index = VectorIndex(bank, dim)
        for start in range(0, n, 10_000):
            index.add(np.arange(start, min(n, start + 10_000)), "text", data[start : start + 10_000])
        result: dict = {"n": n, "index": index.describe()["text"], "fill_s": time.perf_counter() - started}
        rss_after = _rss_bytes()
        result["rss_growth_mb"] = None if rss_before is None or rss_after is None else (rss_after - rss_before) / 2**20
        result.update(_measure_search(index, probes, truth))
        started = time.perf_counter()
        index.save()
        result["save_s"] = time.perf_counter() - started
        result["index_bytes_per_vector"] = index.index_path.stat().st_size / n
        started = time.perf_counter()
        index.rebuild()
        result["build_s"] = time.perf_counter() - started
        result["rebuilt_index"] = index.describe()["text"]
        result.update({f"rebuilt_{key}": value for key, value in _measure_search(index, probes, truth).items()})
        started = time.perf_counter()
        VectorIndex(bank, dim)
        result["load_s"] = time.perf_counter() - started
        bank.checkpoint()
        result["bank_bytes_per_vector"] = bank.size_bytes() / n
        return result
