"""The bank file: creation, reopening, and every kind of bad file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mindpalace.memory.bank import SCHEMA_VERSION, Bank, BankError


def test_a_new_bank_is_wal_with_the_current_schema(tmp_path: Path) -> None:
    with Bank(tmp_path / "b.db") as bank:
        assert bank.schema_version == SCHEMA_VERSION and bank.meta()["magic"] == "mindpalace-bank"
        assert bank.reader().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert bank.integrity_check() == []
    assert not (tmp_path / "b.db.creating").exists()


def test_a_foreign_sqlite_file_is_rejected_untouched(tmp_path: Path) -> None:
    """Someone else's database is refused and left exactly as it was (no WAL switch, no new tables)."""
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(BankError, match="foreign"):
        Bank(path)
    assert path.read_bytes() == before and not Path(f"{path}-wal").exists()


@pytest.mark.parametrize("content", [b"", b"hello" * 50, b"SQLite format 3\x00" + b"\x00" * 10])
def test_files_that_are_not_banks(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(BankError):
        Bank(path)


def test_a_truncated_bank(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    Bank(path).close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BankError):
        Bank(path)


def test_a_newer_schema_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    Bank(path).close()
    connection = sqlite3.connect(path)
    connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    connection.commit()
    connection.close()
    with pytest.raises(BankError, match="newer"):
        Bank(path)


def test_a_leftover_partial_creation_does_not_matter(tmp_path: Path) -> None:
    """A kill during creation leaves only `*.creating`; the next open starts afresh."""
    (tmp_path / "b.db.creating").write_bytes(b"garbage")
    with Bank(tmp_path / "b.db") as bank:
        assert bank.integrity_check() == []


def test_missing_bank_without_create(tmp_path: Path) -> None:
    with pytest.raises(BankError, match="no such"):
        Bank(tmp_path / "none.db", create=False)


def test_bulk_load_restores_the_normal_settings_and_folds_in_the_log(tmp_path: Path) -> None:
    with Bank(tmp_path / "bank.db") as bank:
        with bank.write() as db:
            normal = [db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("synchronous", "cache_size")]
            db.execute("CREATE TABLE numbers (n INTEGER)")
        with bank.bulk_load(cache_mb=64):
            with bank.write() as db:
                assert [db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("synchronous", "cache_size")] == [0, -64 * 1024]
                db.executemany("INSERT INTO numbers VALUES (?)", ((n,) for n in range(1000)))
        assert Path(f"{bank.path}-wal").stat().st_size == 0
        with bank.write() as db:
            assert [db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("synchronous", "cache_size")] == normal == [1, -32768]
    with Bank(tmp_path / "bank.db", readonly=True) as bank:
        assert bank.query("SELECT COUNT(*) FROM numbers")[0][0] == 1000
        with pytest.raises(BankError, match="read-only"), bank.bulk_load():
            pass
