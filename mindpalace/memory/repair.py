"""Damaged banks: `check_bank` says what is wrong, `repair_bank` salvages what is readable into a new bank.

Repair never changes the damaged bank: it reads a copy of it (with its write-ahead log), and writes a new
bank under another name, renamed into place only once it is whole and passes the full integrity check.
It never writes wrong data:

- Every table is read through its own b-tree in rowid order (`NOT INDEXED`: a damaged index can point at
  the wrong rows, and the new bank builds its indexes afresh). Where a page cannot be read, the rowids it
  held are skipped: the scan resumes at the first rowid a seek can still reach, and the skipped range is
  reported. A row whose own payload cannot be read is dropped and counted.
- A row that reads but is not consistent is dropped and counted: JSON that does not parse, a vector of the
  wrong size, a map blob that fails its digest, a value the schema refuses, a row that refers to an item
  that was lost (an object's history, an item's vector).
- Tables derived from others are rebuilt from them, not copied: the object R*Tree, the event and snapshot
  object links. The live map is kept only whole: if any part of it is lost, it is dropped (the robot maps
  again), never restored in part. The text index file is not copied: the new bank's first writer builds it.

What cannot be caught: bytes damaged inside a row's values where the row still reads as well-formed (SQLite
keeps no checksums of its own; the live map's blobs carry digests).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mindpalace.memory.bank import Bank, BankError
from mindpalace.memory.spatial.persistence import MapStore, decode, digest
from mindpalace.memory.system import KIND_CODES, vector_id  # also registers every store's tables for the new bank

MAX_ROWID = 2**63 - 1
# Tables rebuilt from the rows they are derived from, not copied.
DERIVED = ("objects_rtree", "event_objects", "snapshot_objects")
# Columns that hold JSON, per table: a row whose JSON does not parse was damaged.
JSON_COLUMNS = {
    "events": ("arguments", "objects"),
    "snapshots": ("pose", "objects"),
    "objects": ("attributes",),
    "working_items": ("payload",),
}
# Meta keys the new bank sets itself.
OWN_META = ("magic", "schema_version", "clean_shutdown", "vectors_generation")


@dataclass
class CheckReport:
    path: str
    problems: list[str]
    clean_shutdown: bool | None = None
    schema_version: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class TableSalvage:
    """What happened to one table's rows."""

    copied: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows read but not kept
    unreadable: list[tuple[int, int | None]] = field(default_factory=list)  # rowid ranges on pages that could not be read
    unread: int = 0  # rows the table's indexes list that its pages did not give (an exact count of those lost unread)

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count


@dataclass
class RepairReport:
    source: str
    out: str
    problems: list[str]  # what the check found in the damaged bank
    tables: dict[str, TableSalvage]
    rebuilt: list[str]
    notes: list[str]

    @property
    def lossless(self) -> bool:
        return all(not t.dropped and not t.unreadable and not t.unread for t in self.tables.values())

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "lossless": self.lossless}


def check_bank(path: str | Path) -> CheckReport:
    """Read the whole bank (read-only, writing nothing) and report every problem found: SQLite's integrity
    check (pages, indexes against their tables), the bank's header, the live map's digests, the vectors' sizes."""
    path = Path(path)
    try:
        bank = Bank(path, create=False, readonly=True, check="none")
    except BankError as error:
        return CheckReport(str(path), [str(error)])
    with bank:
        problems = bank.integrity_check()
        try:
            problems += MapStore(bank).verify()
            if bank.has_table("vectors"):
                size = 2 * int(bank.meta().get("vectors_dim", 384))
                wrong = bank.query("SELECT COUNT(*) FROM vectors NOT INDEXED WHERE length(vector) != ?", (size,))[0][0]
                if wrong:
                    problems.append(f"{wrong} vectors are not {size} bytes long")
        except BankError as error:
            problems.append(str(error))
        return CheckReport(str(path), problems, bank.last_shutdown_clean, bank.schema_version)


def repair_bank(source: str | Path, out: str | Path) -> RepairReport:
    """Salvage what is readable of the bank at `source` into a new bank at `out` (which must not exist)."""
    source, out = Path(source), Path(out)
    if not source.is_file():
        raise BankError(f"{source}: no such memory bank")
    if out.exists() or out.absolute() == source.absolute():
        raise BankError(f"{out}: already exists; repair writes a new bank and never replaces one: choose another --out")
    problems = check_bank(source).problems
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".repairing")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".repair-") as folder:
        copy = Path(folder) / "damaged.db"
        shutil.copyfile(source, copy)
        if Path(f"{source}-wal").exists():
            shutil.copyfile(f"{source}-wal", f"{copy}-wal")
        src = sqlite3.connect(copy)
        src.execute("PRAGMA cell_size_check = ON")  # a damaged page then fails when read, rather than read as garbage
        try:
            report = _salvage(src, source, partial, problems)
        finally:
            src.close()
    with Bank(partial, check="full"):
        pass  # the new bank opens, passes the full check, and records a clean shutdown
    os.replace(partial, out)
    report.out = str(out)
    return report


def _salvage(src: sqlite3.Connection, source: Path, partial: Path, problems: list[str]) -> RepairReport:
    try:
        schema = {
            row[0]: (row[1], row[2] or "", row[3]) for row in src.execute("SELECT name, type, sql, tbl_name FROM sqlite_master")
        }
        magic = src.execute("SELECT value FROM meta WHERE key = 'magic'").fetchone()
    except sqlite3.DatabaseError as error:
        raise BankError(f"{source}: its schema or header pages are damaged ({error}); nothing can be salvaged") from error
    if magic is None or magic[0] != "mindpalace-bank":
        raise BankError(f"{source}: not a mindpalace memory bank; nothing to salvage")
    Bank(partial).close()
    dst = sqlite3.connect(partial, isolation_level=None)
    dst.execute("PRAGMA foreign_keys = OFF")
    dst.execute("BEGIN")
    tables: dict[str, TableSalvage] = {}
    notes: list[str] = []
    dest_tables = {row[0] for row in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    virtual = [name for name, (kind, sql, _) in schema.items() if kind == "table" and sql.upper().startswith("CREATE VIRTUAL")]
    dim = 384
    for name, (kind, sql, _) in sorted(
        schema.items(), key=lambda item: item[0] != "meta"
    ):  # meta first: it gives the vectors' size
        if kind != "table" or name.startswith("sqlite_") or name in DERIVED or any(name.startswith(f"{v}_") for v in virtual):
            continue
        if name not in dest_tables:
            notes.append(f"table {name!r} is not part of this mindpalace's banks; left out")
            continue
        if "WITHOUT ROWID" in sql.upper():
            notes.append(f"table {name!r} has no rowid to salvage by; left out")
            continue
        tables[name] = salvage = TableSalvage()
        columns = [c for c in _columns(src, name) if c in _columns(dst, name)]
        check = _row_check(name, columns, dim)
        marks = ", ".join("?" * len(columns))
        insert = f'INSERT INTO "{name}" ({", ".join(columns)}) VALUES ({marks})'
        if name == "meta":
            insert = f"INSERT OR REPLACE INTO meta ({', '.join(columns)}) VALUES ({marks})"
        read = set()
        for rowid, row in _rows(src, name, columns, salvage):
            read.add(rowid)
            if name == "meta" and row[columns.index("key")] in OWN_META:
                continue
            reason = check(row)
            if reason is not None:
                salvage.drop(reason)
                continue
            try:
                dst.execute(insert, row)
            except sqlite3.DatabaseError as error:
                salvage.drop(f"refused by the schema ({error})")
                continue
            salvage.copied += 1
        indexes = [index for index, (kind, _, on) in schema.items() if kind == "index" and on == name]
        salvage.unread = len(_listed(src, name, indexes) - read)
        if name == "meta":
            found = dst.execute("SELECT value FROM meta WHERE key = 'vectors_dim'").fetchone()
            dim = int(found[0]) if found else dim
    rebuilt = _rebuild_derived(dst, tables)
    _drop_orphans(dst, tables, notes)
    _keep_map_whole(dst, tables, notes)
    _carry_sequences(src, dst)
    if dst.execute("PRAGMA foreign_key_check").fetchall():
        raise BankError(f"{partial}: the salvaged rows still break a reference; this is a bug in repair")
    dst.execute("COMMIT")
    dst.close()
    return RepairReport(str(source), str(partial), problems, tables, rebuilt, notes)


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]


def _rows(db: sqlite3.Connection, table: str, columns: list[str], salvage: TableSalvage) -> Iterator[tuple[int, tuple]]:
    """(rowid, values) of the readable rows of `table` in rowid order; unreadable ranges and rows go into `salvage`."""
    select = f'SELECT rowid, {", ".join(columns)} FROM "{table}" NOT INDEXED'
    after = -MAX_ROWID - 1
    while True:
        try:
            for row in db.execute(f"{select} WHERE rowid > ? ORDER BY rowid", (after,)):
                after = row[0]
                yield row[0], tuple(row[1:])
            return
        except sqlite3.DatabaseError:
            pass  # the scan reached a page it cannot read
        resume = _first_reachable(db, table, after)
        # What lies between is suspect even where a seek gets past it: a damaged page can hide rows without an error.
        if resume is None or resume > after + 1:
            salvage.unreadable.append((after + 1, None if resume is None else resume - 1))
        if resume is None:
            return
        try:
            row = db.execute(f"{select} WHERE rowid = ?", (resume,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
        after = resume
        if row is None:
            salvage.drop("its values could not be read (a damaged overflow page)")
        else:
            yield row[0], tuple(row[1:])


def _listed(db: sqlite3.Connection, table: str, indexes: list[str]) -> set[int]:
    """Every rowid the table's indexes hold (as far as each can be read): rows that existed, read or not."""
    listed: set[int] = set()
    for index in indexes:
        try:
            for (rowid,) in db.execute(f'SELECT rowid FROM "{table}" INDEXED BY "{index}"'):
                listed.add(rowid)
        except sqlite3.DatabaseError:
            continue  # a damaged index lists what it can
    return listed


def _probe(db: sqlite3.Connection, table: str, at: int) -> tuple[bool, int | None]:
    """(reached, the first rowid >= `at` or None past the last row); reached is False when the seek meets a damaged page."""
    try:
        row = db.execute(f'SELECT rowid FROM "{table}" NOT INDEXED WHERE rowid >= ? ORDER BY rowid LIMIT 1', (at,)).fetchone()
    except sqlite3.DatabaseError:
        return False, None
    return True, None if row is None else int(row[0])


def _first_reachable(db: sqlite3.Connection, table: str, after: int) -> int | None:
    """The smallest rowid > `after` that a seek reaches past damaged pages; None if none does."""
    reached, found = _probe(db, table, after + 1)
    if reached:
        return found
    low, step = after + 1, 1  # seeks at `low` fail; find one that does not, then the first such
    while True:
        high = min(low + step, MAX_ROWID)
        if _probe(db, table, high)[0]:
            break
        if high == MAX_ROWID:
            return None
        low, step = high, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if _probe(db, table, middle)[0]:
            high = middle
        else:
            low = middle
    return _probe(db, table, high)[1]


def _row_check(table: str, columns: list[str], dim: int) -> Callable[[tuple], str | None]:
    """A check of one row's consistency: the reason to drop it, or None."""
    json_at = [columns.index(c) for c in JSON_COLUMNS.get(table, ()) if c in columns]

    def check(row: tuple) -> str | None:
        for index in json_at:
            try:
                json.loads(row[index])
            except (TypeError, ValueError):
                return f"{columns[index]} is not valid JSON"
        if table == "vectors" and (
            not isinstance(row[columns.index("vector")], bytes) or len(row[columns.index("vector")]) != 2 * dim
        ):
            return f"the vector is not {2 * dim} bytes long"
        if table in ("map_objects", "map_state"):
            data, stored = row[columns.index("data")], row[columns.index("digest")]
            if not isinstance(data, bytes) or not isinstance(stored, bytes) or digest(data) != stored:
                return "the map blob does not match its digest"
        return None

    return check


def _rebuild_derived(dst: sqlite3.Connection, tables: dict[str, TableSalvage]) -> list[str]:
    rebuilt = []
    if "objects" in tables:
        dst.execute("INSERT INTO objects_rtree SELECT id, x, x, y, y FROM objects WHERE x IS NOT NULL AND y IS NOT NULL")
        rebuilt.append("objects_rtree")
    if "events" in tables:
        links: list[tuple[int, ...]] = []
        for event_id, objects in dst.execute("SELECT id, objects FROM events").fetchall():
            links += [(event_id, int(o)) for o in dict.fromkeys(json.loads(objects))]
        dst.executemany("INSERT INTO event_objects (event_id, object_id) VALUES (?, ?)", links)
        rebuilt.append("event_objects")
    if "snapshots" in tables:
        links = []  # (snapshot, object, pixels)
        for snapshot_id, objects in dst.execute("SELECT id, objects FROM snapshots").fetchall():
            links += [(snapshot_id, int(o), int(pixels)) for o, pixels in json.loads(objects).items()]
        dst.executemany("INSERT INTO snapshot_objects (snapshot_id, object_id, pixels) VALUES (?, ?, ?)", links)
        rebuilt.append("snapshot_objects")
    return rebuilt


def _drop_orphans(dst: sqlite3.Connection, tables: dict[str, TableSalvage], notes: list[str]) -> None:
    """Rows that refer to an item that was lost: dropped (history, vectors), or the reference cleared (supersession)."""
    if "object_history" in tables:
        gone = dst.execute("DELETE FROM object_history WHERE object_id NOT IN (SELECT id FROM objects)").rowcount
        tables["object_history"].drop("its object was lost", gone)
        tables["object_history"].copied -= gone
    if "vectors" in tables:
        kept = set()
        for kind, table in (("event", "events"), ("fact", "facts"), ("object", "objects")):
            if kind in KIND_CODES and table in tables:
                kept |= {vector_id(kind, row[0]) for row in dst.execute(f"SELECT id FROM {table}")}
        orphans = [(row[0],) for row in dst.execute("SELECT id FROM vectors") if row[0] not in kept]
        dst.executemany("DELETE FROM vectors WHERE id = ?", orphans)
        tables["vectors"].drop("its item was lost", len(orphans))
        tables["vectors"].copied -= len(orphans)
    if "facts" in tables:
        cleared = dst.execute(
            "UPDATE facts SET superseded_by = NULL WHERE superseded_by IS NOT NULL AND superseded_by NOT IN (SELECT id FROM facts)"
        ).rowcount
        if cleared:
            notes.append(f"{cleared} facts named a superseding fact that was lost; they now read as current")


def _keep_map_whole(dst: sqlite3.Connection, tables: dict[str, TableSalvage], notes: list[str]) -> None:
    """The live map is restored whole or not at all: a checkpoint missing any row is dropped."""
    parts = [t for t in ("map_objects", "map_state") if t in tables]
    lost = [t for t in parts if tables[t].dropped or tables[t].unreadable]
    if not lost and "map_state" in tables:
        listing = dst.execute("SELECT data FROM map_state WHERE part = 'objects'").fetchone()
        held = {row[0] for row in dst.execute("SELECT id FROM map_objects")} if "map_objects" in tables else set()
        listed = set(decode(listing[0])["$order"]) if listing else set()
        if listed != held:
            lost = ["map_objects"]
    if not lost:
        return
    for table in parts:
        count = dst.execute(f"DELETE FROM {table}").rowcount
        tables[table].drop("the live map was incomplete, so none of it is kept", count)
        tables[table].copied -= count
    notes.append(f"the live map lost rows ({', '.join(lost)}) and was dropped: the next run maps the rooms again")


def _carry_sequences(src: sqlite3.Connection, dst: sqlite3.Connection) -> None:
    """AUTOINCREMENT ids are never reused: the new bank's counters start past the old bank's."""
    try:
        old = dict(src.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    except sqlite3.DatabaseError:
        old = {}
    for name, seq in dst.execute("SELECT name, seq FROM sqlite_sequence").fetchall():
        if old.get(name, 0) > seq:
            dst.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (old[name], name))


__all__ = ["CheckReport", "RepairReport", "TableSalvage", "check_bank", "repair_bank"]
