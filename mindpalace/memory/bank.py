"""A memory bank: one SQLite database (WAL, a schema version, migrations) holding every store.

Each store declares its tables as `SCHEMA` (DDL statements) and registers them here; version 1 of the
bank creates all registered tables, and later versions append migrations. Writes go through one lock
and one connection; readers get their own connections, so they can query while a writer writes (WAL).
A write is acknowledged when its transaction commits: with WAL and synchronous=NORMAL it then survives
the process being killed (it may be lost only if the machine itself loses power).

Damage. Opening checks the file: the header and page count always; SQLite's `quick_check` when the file
is small enough for it to be cheap; the full `integrity_check` when asked (`check="full"`) or when the last
writer did not close the bank (the meta key `clean_shutdown`, set to 0 while a writer has it open). Every
SQLite error from a bank's connections, at open or later, is raised as `BankError` with the path and what to
do (constraint violations stay `sqlite3.IntegrityError`: they are bad input, not a bad bank).

Read-only. `Bank(path, readonly=True)` writes nothing: with no write-ahead log beside the file it reads
through SQLite's `immutable=1`, which creates no -wal or -shm file (so a read-only file or folder is fine);
with a log (a writer is running, or one was killed) it must read the log, with `mode=ro`: the bank and its
log are not written, and SQLite uses the -shm index beside them as it requires. Such an immutable reader sees
the bank as it was when it opened: a writer that starts later is not seen (and its checkpoints may make
the reader fail with a BankError; open again).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

MAGIC = "mindpalace-bank"
SCHEMA_VERSION = 2
CHECKS = ("auto", "quick", "full", "none")
# `check="auto"` runs quick_check up to this file size: it reads every page (0.4 s for 74 MB on this machine, warm;
# a day's bank is ~5 MB). The full integrity_check also matches every index to its table: 5.5 s for those 74 MB.
QUICK_CHECK_MAX_BYTES = 32 * 2**20
CACHE_SIZE = -32768  # each connection's page cache: 32 MB (see `_connect`)

_NULL_REPORT = re.compile(r"NULL value in (?P<table>\w+)\.(?P<column>\w+)")

# Store schemas, registered by the store modules at import: name -> DDL statements.
STORE_SCHEMAS: dict[str, tuple[str, ...]] = {}
# Migrations from version v-1 to v: v -> function(connection). Version 1 is the registered schemas.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}


class BankError(RuntimeError):
    """A bank file that cannot be used: corrupt, truncated, not a mindpalace bank, or from a newer version."""


def register_schema(store: str, statements: tuple[str, ...]) -> None:
    """Declare a store's tables (CREATE TABLE / INDEX ... IF NOT EXISTS)."""
    STORE_SCHEMAS[store] = statements


def repair_advice(path: Path) -> str:
    return (
        f"nothing was changed; `mindpalace memory check {path}` lists the damage and "
        f"`mindpalace memory repair {path} --out NEW.db` salvages what is readable into a new bank"
    )


def bank_error(path: Path, error: sqlite3.Error) -> BankError:
    """`error` from the bank at `path` as a BankError that says what to do."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or type(error) is sqlite3.DatabaseError:
        return BankError(f"{path}: damaged database: {error}; {repair_advice(path)}")
    if name.startswith("SQLITE_READONLY"):
        return BankError(
            f"{path}: cannot write ({error}): the file or its folder is read-only; read it with "
            "MemorySystem.open(path, read_only=True) or `mindpalace memory stats|query|export`"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return BankError(f"{path}: busy ({error}): another process holds the bank's write lock; retry when it is done")
    if name.startswith(("SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return BankError(f"{path}: cannot read or write the file ({error}); check the disk: free space, permissions, the device")
    return BankError(f"{path}: database error: {error}; the bank may be damaged: run `mindpalace memory check {path}`")


def _is_bank_fault(error: sqlite3.Error) -> bool:
    """An error of the bank file (damage, I/O, locks), not of the caller's data or SQL."""
    return isinstance(error, (sqlite3.DatabaseError, sqlite3.OperationalError)) and not isinstance(error, sqlite3.IntegrityError)


class _Cursor(sqlite3.Cursor):
    """A cursor whose SQLite errors are BankErrors (a damaged page can fail a fetch, not only the execute)."""

    def _fail(self, error: sqlite3.Error) -> BankError:
        return bank_error(self.connection.bank_path, error)  # type: ignore[attr-defined]

    def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as error:
            if _is_bank_fault(error):
                raise self._fail(error) from error
            raise

    def executemany(self, sql: str, parameters: Any) -> _Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as error:
            if _is_bank_fault(error):
                raise self._fail(error) from error
            raise

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as error:
            if _is_bank_fault(error):
                raise self._fail(error) from error
            raise

    def fetchmany(self, size: int | None = None) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as error:
            if _is_bank_fault(error):
                raise self._fail(error) from error
            raise

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as error:
            if _is_bank_fault(error):
                raise self._fail(error) from error
            raise

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as error:
            if _is_bank_fault(error):
                raise self._fail(error) from error
            raise


class _Connection(sqlite3.Connection):
    """A bank connection: its statements run on `_Cursor`s, so every SQLite error of the file is a BankError."""

    bank_path: Path

    def cursor(self, factory: Any = _Cursor) -> Any:  # Connection.execute(many) create their cursor through this
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any) -> Any:
        return self.cursor().executemany(sql, parameters)


def connect(path: Path, uri: str, **options: Any) -> _Connection:
    """An SQLite connection to the bank at `path` (opened by `uri`) whose errors are BankErrors."""
    try:
        connection = sqlite3.connect(uri, uri=True, factory=_Connection, **options)
    except sqlite3.Error as error:
        raise bank_error(path, error) from error
    connection.bank_path = path
    return connection


def file_uri(path: Path, **query: str) -> str:
    """An SQLite URI for `path` (quoted: '?' or '#' in a folder name are not URI syntax)."""
    return f"file:{quote(str(path.absolute()))}?" + "&".join(f"{key}={value}" for key, value in query.items())


def has_wal(path: Path) -> bool:
    """Whether a write-ahead log with content lies beside the bank (a writer is running, or one was killed)."""
    wal = Path(f"{path}-wal")
    return wal.exists() and wal.stat().st_size > 0


class Bank:
    """An open bank file. Use `write()` for a transaction and `read()` for a query connection.

    `check` is how much of the file opening verifies: "auto" (the header and page count; `quick_check` up to
    QUICK_CHECK_MAX_BYTES; the full `integrity_check` after a writer did not close the bank), "quick", "full",
    or "none" (for the tools that examine damage themselves).
    """

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False, check: str = "auto") -> None:
        if check not in CHECKS:
            raise ValueError(f"check must be one of {', '.join(CHECKS)}, got {check!r}")
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._writer: _Connection | None = None
        self._marked_open = False
        if not self.path.exists():
            if not create or readonly:
                raise BankError(f"{self.path}: no such memory bank")
            self._create()
        if not self.path.is_file():
            raise BankError(f"{self.path}: not a file, so not a memory bank")
        if not readonly:
            self._check_writable()
        # A read-only bank without a log is read as an immutable file: SQLite then creates no -wal or -shm.
        self._immutable = readonly and not has_wal(self.path)
        if (
            readonly
            and not self._immutable
            and not Path(f"{self.path}-shm").exists()
            and not os.access(self.path.parent, os.W_OK)
        ):
            raise BankError(
                f"{self.path}: it has a write-ahead log (a writer is running or was killed) but no -shm file, and its folder "
                "is read-only, so SQLite cannot read the log there; copy the bank and its -wal file to a writable folder"
            )
        self._check_header()
        try:
            # Read the header tables before writing anything: a foreign file is rejected untouched.
            meta = self._read_meta(self.reader())
            self._read_version(meta)
            clean = meta.get("clean_shutdown")
            self.last_shutdown_clean = None if clean is None else clean == "1"
            self._check_damage(check, self.last_shutdown_clean)
            if not readonly:
                self._writer = self._connect(write=True)
                self._migrate()
                self._mark_open()
            self.schema_version = self._read_version(self._read_meta(self._writer or self.reader()))
        except sqlite3.DatabaseError as error:
            self.close()
            raise BankError(f"{self.path}: damaged database: {error}; {repair_advice(self.path)}") from error
        except BankError:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    def _check_writable(self) -> None:
        # The folder too: a writer puts the -wal and -shm files beside the bank.
        for target in (self.path, self.path.parent):
            if not os.access(target, os.W_OK):
                raise BankError(
                    f"{self.path}: {'the folder ' if target != self.path else ''}{target} is not writable, so the bank "
                    "cannot be opened for writing; read it with MemorySystem.open(path, read_only=True) or "
                    "`mindpalace memory stats|query|export`"
                )

    def _check_header(self) -> None:
        """The SQLite header, and that the file holds every page it says it has (a truncated copy does not)."""
        with self.path.open("rb") as handle:
            header = handle.read(100)
        if len(header) == 0:
            raise BankError(f"{self.path}: empty file, not a memory bank")
        if not header.startswith(b"SQLite format 3\x00"):
            raise BankError(f"{self.path}: not an SQLite file, so not a mindpalace memory bank")
        if len(header) < 100:
            raise BankError(f"{self.path}: truncated ({len(header)} bytes)")
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        if page_size < 512 or page_size & (page_size - 1):
            raise BankError(
                f"{self.path}: damaged database: its header gives a page size of {page_size}; {repair_advice(self.path)}"
            )
        if has_wal(self.path):
            return  # the log holds pages newer than the file's header: the page count is checked by SQLite's checks
        size = self.path.stat().st_size
        pages = int.from_bytes(header[28:32], "big")
        counted = header[92:96] == header[24:28]  # SQLite's rule for when the header's page count is valid
        if size % page_size or (counted and pages * page_size > size):
            raise BankError(
                f"{self.path}: damaged database: truncated ({size} bytes; the header says {pages} pages of {page_size}); "
                f"{repair_advice(self.path)}"
            )

    def _check_damage(self, check: str, clean: bool | None) -> None:
        # A reader does not run the full check for an unclean flag: that is also what a running writer's bank shows.
        full = check == "full" or (check == "auto" and clean is False and not self.readonly)
        if check == "none" or not (full or check == "quick" or self.path.stat().st_size <= QUICK_CHECK_MAX_BYTES):
            return
        started = time.perf_counter()
        pragma = "integrity_check" if full else "quick_check"
        problems = self._sqlite_check(pragma)
        log.debug("%s: %s in %.3f s", self.path, pragma, time.perf_counter() - started)
        if problems:
            shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
            raise BankError(f"{self.path}: damaged database ({pragma}: {shown}); {repair_advice(self.path)}")

    def _connect(self, write: bool) -> _Connection:
        if write:
            uri = file_uri(self.path, mode="rwc")
        elif self._immutable:
            uri = file_uri(self.path, mode="ro", immutable="1")
        else:
            uri = file_uri(self.path, mode="ro")
        connection = connect(self.path, uri, timeout=30.0, check_same_thread=False, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA busy_timeout = 30000")
        # Pages are read with read() into this 32 MB cache, not memory-mapped: a fault on a mapped page reads ahead
        # around it (8 MB on this machine), so a cold bank's first place query read 180 MB at 10^6 items (255 ms; 160 KB
        # and 2 ms with read()), and at 10^7 SQLite's 2 GB cap would map a ninth of the bank anyway. Warm, read()
        # costs the sub-millisecond queries 0.0-0.3 ms more at their p95 (measured at 10^5 and 10^6).
        connection.execute(f"PRAGMA cache_size = {CACHE_SIZE}")
        connection.execute("PRAGMA mmap_size = 0")
        if write:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise BankError(f"{self.path}: could not switch to WAL (got {mode})")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _read_meta(self, connection: sqlite3.Connection) -> dict[str, str]:
        try:
            return dict(connection.execute("SELECT key, value FROM meta").fetchall())
        except BankError as error:
            if "no such table" in str(error):
                raise BankError(f"{self.path}: an SQLite file without mindpalace's tables (a foreign database)") from error
            raise

    def _read_version(self, meta: dict[str, str]) -> int:
        if meta.get("magic") != MAGIC:
            raise BankError(f"{self.path}: a foreign SQLite database, not a mindpalace memory bank")
        version = int(meta.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise BankError(
                f"{self.path}: schema version {version} is newer than this mindpalace understands "
                f"({SCHEMA_VERSION}); upgrade mindpalace to open it"
            )
        return version

    def _create(self) -> None:
        """Write the new bank's header under a temporary name, then rename: a kill mid-way leaves no half bank."""
        partial = self.path.with_name(self.path.name + ".creating")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.unlink(missing_ok=True)
            connection = sqlite3.connect(partial)
            with connection:
                connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                connection.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("magic", MAGIC), ("schema_version", "0"), ("created", str(time.time())), ("clean_shutdown", "1")],
                )
            connection.close()
            os.replace(partial, self.path)
        except (OSError, sqlite3.Error) as error:
            raise BankError(f"{self.path}: cannot create the bank: {error}") from error

    def _migrate(self) -> None:
        assert self._writer is not None
        with self._lock:
            version = self._read_version(self._read_meta(self._writer))
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

    def _mark_open(self) -> None:
        """clean_shutdown = 0 until `close()`: the next writer then knows whether this one was killed."""
        with self.write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('clean_shutdown', '0')")
        self._marked_open = True

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
                try:
                    self._writer.execute("ROLLBACK")
                except BankError as error:  # a damaged file can fail the rollback too; the first error says more
                    log.warning("%s: rollback failed: %s", self.path, error)
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def bulk_load(self, cache_mb: int = 2048) -> Iterator[None]:
        """For a bank being built in bulk (the benchmarks' banks): inside the block commits do not wait for the disk
        (synchronous=OFF) and the writer caches `cache_mb` of pages, so large transactions rewrite fewer pages.
        After it, the normal settings are back and the log is folded into the file. A crash inside the block can
        damage the bank: never use it on a robot's bank."""
        if self._writer is None:
            raise BankError(f"{self.path}: opened read-only")
        with self._lock:
            self._writer.execute("PRAGMA synchronous = OFF")
            self._writer.execute(f"PRAGMA cache_size = {-1024 * int(cache_mb)}")
            try:
                yield
            finally:
                self._writer.execute(f"PRAGMA cache_size = {CACHE_SIZE}")
                self._writer.execute("PRAGMA synchronous = NORMAL")
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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

    def has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def integrity_check(self) -> list[str]:
        """SQLite's own integrity check plus the bank's header; [] when all is well."""
        try:
            problems = self._sqlite_check("integrity_check")
            self._read_version(self._read_meta(self.reader()))
        except BankError as error:  # damage severe enough to stop the check itself
            problems = [f"the check stopped: {error.__cause__ or error}"]
        return problems

    def _sqlite_check(self, pragma: str) -> list[str]:
        """What `PRAGMA quick_check` or `integrity_check` reports, less false "NULL value in T.C" reports.

        SQLite 3.40's quick_check reports NULLs in NOT NULL primary-key columns of WITHOUT ROWID tables that
        hold none (integrity_check does not): each such report is confirmed by a query before it counts.
        """
        problems = []
        rows = self.reader().execute(f"PRAGMA {pragma}").fetchall()
        # A report can hold several lines, under a "*** in database main ***" heading.
        for message in (line for (text,) in rows for line in text.splitlines()):
            if message in ("ok", "*** in database main ***"):
                continue
            null = _NULL_REPORT.fullmatch(message)
            if null and null["table"] in self._tables() and null["column"].isidentifier():
                found = self.reader().execute(f'SELECT 1 FROM "{null["table"]}" WHERE "{null["column"]}" IS NULL LIMIT 1')
                if found.fetchone() is None:
                    continue
            problems.append(message)
        return problems

    def _tables(self) -> set[str]:
        return {row[0] for row in self.reader().execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def meta(self) -> dict[str, str]:
        return {key: value for key, value in self.query("SELECT key, value FROM meta")}

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
        """Close every connection; a writer first records that it shut down cleanly."""
        with self._lock:
            if self._marked_open and self._writer is not None:
                try:
                    with self.write() as db:
                        db.execute("INSERT OR REPLACE INTO meta VALUES ('clean_shutdown', '1')")
                except BankError as error:
                    log.warning("%s: could not record the clean shutdown: %s", self.path, error)
                self._marked_open = False
            for connection in self._readers:
                connection.close()
            self._readers.clear()
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def __enter__(self) -> Bank:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_registered(connection: sqlite3.Connection) -> None:
    for statements in STORE_SCHEMAS.values():
        for statement in statements:
            connection.execute(statement)


# Version 1: every registered store's tables. Version 2 added the live map's tables (memory.spatial.persistence),
# created like version 1's from their registration.
MIGRATIONS[1] = _create_registered
MIGRATIONS[2] = _create_registered
