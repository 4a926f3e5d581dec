"""A memory bank: one SQLite database (WAL, a schema version, migrations) holding every store.

Each store declares its tables as `SCHEMA` (DDL statements) and registers them here; version 1 of the
bank creates all registered tables, and later versions append migrations. Writes go through one lock
and one connection; readers get their own connections, so they can query while a writer writes (WAL).
A write is acknowledged when its transaction commits: with WAL and synchronous=NORMAL it then survives
the process being killed (it may be lost only if the machine itself loses power).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = "mindpalace-bank"
SCHEMA_VERSION = 1

# Store schemas, registered by the store modules at import: name -> DDL statements.
STORE_SCHEMAS: dict[str, tuple[str, ...]] = {}
# Migrations from version v-1 to v: v -> function(connection). Version 1 is the registered schemas.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}


class BankError(RuntimeError):
    """A bank file that cannot be used: corrupt, truncated, not a mindpalace bank, or from a newer version."""


def register_schema(store: str, statements: tuple[str, ...]) -> None:
    """Declare a store's tables (CREATE TABLE / INDEX ... IF NOT EXISTS)."""
    STORE_SCHEMAS[store] = statements


class Bank:
    """An open bank file. Use `write()` for a transaction and `read()` for a query connection."""

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._writer = None
        if not self.path.exists():
            if not create or readonly:
                raise BankError(f"{self.path}: no such memory bank")
            self._create()
        self._check_header()
        try:
            # Read the header tables before writing anything: a foreign file is rejected untouched.
            self._read_version(self.reader())
            self._writer = None if readonly else self._connect(write=True)
            if not readonly:
                self._migrate()
            self.schema_version = self._read_version(self._writer or self.reader())
        except sqlite3.DatabaseError as error:
            self.close()
            raise BankError(f"{self.path}: damaged database: {error}") from error
        except BankError:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    def _check_header(self) -> None:
        with self.path.open("rb") as handle:
            header = handle.read(100)
        if len(header) == 0:
            raise BankError(f"{self.path}: empty file, not a memory bank")
        if not header.startswith(b"SQLite format 3\x00"):
            raise BankError(f"{self.path}: not an SQLite file, so not a mindpalace memory bank")
        if len(header) < 100:
            raise BankError(f"{self.path}: truncated ({len(header)} bytes)")

    def _connect(self, write: bool) -> sqlite3.Connection:
        uri = f"file:{self.path}?mode={'rwc' if write else 'ro'}"
        connection = sqlite3.connect(uri, uri=True, timeout=30.0, check_same_thread=False, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA busy_timeout = 30000")
        # Pages are read with read() into this 32 MB cache, not memory-mapped: a fault on a mapped page reads ahead
        # around it (8 MB on this machine), so a cold bank's first place query read 180 MB at 10^6 items (255 ms; 160 KB
        # and 2 ms with read()), and at 10^7 SQLite's 2 GB cap would map a ninth of the bank anyway. Warm, read()
        # costs the sub-millisecond queries 0.0-0.3 ms more at their p95 (measured at 10^5 and 10^6).
        connection.execute("PRAGMA cache_size = -32768")
        connection.execute("PRAGMA mmap_size = 0")
        if write:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise BankError(f"{self.path}: could not switch to WAL (got {mode})")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _read_version(self, connection: sqlite3.Connection) -> int:
        try:
            rows = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError as error:
            raise BankError(f"{self.path}: an SQLite file without mindpalace's tables (a foreign database)") from error
        if rows.get("magic") != MAGIC:
            raise BankError(f"{self.path}: a foreign SQLite database, not a mindpalace memory bank")
        version = int(rows.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise BankError(
                f"{self.path}: schema version {version} is newer than this mindpalace understands "
                f"({SCHEMA_VERSION}); upgrade mindpalace to open it"
            )
        return version

    def _create(self) -> None:
        """Write the new bank's header under a temporary name, then rename: a kill mid-way leaves no half bank."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".creating")
        partial.unlink(missing_ok=True)
        connection = sqlite3.connect(partial)
        with connection:
            connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            connection.executemany(
                "INSERT INTO meta VALUES (?, ?)", [("magic", MAGIC), ("schema_version", "0"), ("created", str(time.time()))]
            )
        connection.close()
        os.replace(partial, self.path)

    def _migrate(self) -> None:
        assert self._writer is not None
        with self._lock:
            version = self._read_version(self._writer)
            for target in range(version + 1, SCHEMA_VERSION + 1):
                self._writer.execute("BEGIN IMMEDIATE")
                try:
                    MIGRATIONS[target](self._writer)
                    self._writer.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(target),))
                    self._writer.execute("COMMIT")
                except Exception:
                    self._writer.execute("ROLLBACK")
                    raise
                log.info("%s: migrated to schema version %d", self.path, target)
            # Stores registered after the bank was created (a new optional store) get their tables too.
            self._create_registered_tables()

    def _create_registered_tables(self) -> None:
        assert self._writer is not None
        self._writer.execute("BEGIN IMMEDIATE")
        for statements in STORE_SCHEMAS.values():
            for statement in statements:
                self._writer.execute(statement)
        self._writer.execute("COMMIT")

    # ------------------------------------------------------------------ use
    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; it commits when the block ends (the write is then acknowledged)."""
        if self._writer is None:
            raise BankError(f"{self.path}: opened read-only")
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (created on first use)."""
        connection = getattr(self._local, "reader", None)
        if connection is None:
            connection = self._connect(write=False)
            self._local.reader = connection
            with self._lock:
                self._readers.append(connection)
        return connection

    def query(self, sql: str, parameters: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.reader().execute(sql, parameters).fetchall()

    def integrity_check(self) -> list[str]:
        """SQLite's own integrity check plus the bank's header; [] when all is well."""
        problems = [row[0] for row in self.reader().execute("PRAGMA integrity_check").fetchall() if row[0] != "ok"]
        try:
            self._read_version(self.reader())
        except BankError as error:
            problems.append(str(error))
        return problems

    def meta(self) -> dict[str, str]:
        return dict(self.query("SELECT key, value FROM meta"))

    def set_meta(self, key: str, value: object) -> None:
        with self.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value) if not isinstance(value, str) else value)
            )

    def size_bytes(self) -> int:
        """The database with its WAL and shared-memory files."""
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")) if p.exists())

    def checkpoint(self) -> None:
        """Fold the WAL back into the database file (keeps the WAL from growing)."""
        if self._writer is not None:
            with self._lock:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
            if getattr(self, "_writer", None) is not None:
                self._writer.close()
                self._writer = None

    def __enter__(self) -> Bank:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_v1(connection: sqlite3.Connection) -> None:
    for statements in STORE_SCHEMAS.values():
        for statement in statements:
            connection.execute(statement)


MIGRATIONS[1] = _create_v1
