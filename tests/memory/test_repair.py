"""Damaged banks: real pages of a real bank file are overwritten, then opening, reading, exporting, `memory check`
and `memory repair` must give a BankError or a report, never a traceback and never wrong data."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import map_testkit as kit
import pytest

from mindpalace.cli.main import main
from mindpalace.core.types import Event
from mindpalace.memory.bank import Bank, BankError
from mindpalace.memory.repair import check_bank, repair_bank
from mindpalace.memory.system import MemorySystem, split_vector_id, vector_id
from mindpalace.memory.vector_index import clustered_unit_vectors

PAGE = 4096
EVENTS = 3000


def _action(t: int) -> str:
    return "pick" if t % 3 == 0 else "look"


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A closed bank: 3000 events (enough for many table and index pages), facts, objects, their vectors and a live map."""
    path = tmp_path_factory.mktemp("intact") / "bank.db"
    with MemorySystem.open(path, embedder=embedder) as memory:
        for index in range(12):
            kit.step(memory, index)
        ids = memory.events.add_events(
            [Event("robot", _action(t), float(t), t + 1.0, {"t": t}, (t % 50,), "kitchen") for t in range(EVENTS)]
        )
        # Synthetic vectors for the events (embedding 3000 texts would only make the test slow).
        memory.vectors.add([vector_id("event", i) for i in ids], "event", clustered_unit_vectors(EVENTS, seed=0))
        for i in range(5):
            memory.tell(f"the box {i} is Alice's", time_s=float(i))
    return path


def _copy(intact: Path, tmp_path: Path) -> Path:
    path = tmp_path / "bank.db"
    shutil.copyfile(intact, path)
    return path


def _leaf_pages(path: Path, name: str) -> list[int]:
    connection = sqlite3.connect(path)
    pages = [row[0] for row in connection.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (name,))]
    connection.close()
    return pages


def _zero_page(path: Path, page: int) -> None:
    """A page overwritten with zeros, as a lost sector leaves it."""
    with path.open("r+b") as handle:
        handle.seek((page - 1) * PAGE)
        handle.write(b"\0" * PAGE)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _events(path: Path) -> dict[int, tuple]:
    connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    rows = {r[0]: tuple(r[1:]) for r in connection.execute("SELECT id, action, start_s, arguments FROM events NOT INDEXED")}
    connection.close()
    return rows


def test_a_damaged_index_is_found_and_export_never_returns_wrong_rows(intact: Path, tmp_path: Path) -> None:
    """An index page that lies (well-formed, but naming the wrong row) passes SQLite's quick_check and makes a
    query by time return the wrong event. It is caught: by the full check after an unclean shutdown, on request,
    and always before an export, which refuses rather than write wrong events."""
    path = _copy(intact, tmp_path)
    table_pages = _leaf_pages(path, "events")
    before = path.read_bytes()
    connection = sqlite3.connect(path)
    connection.execute("UPDATE events SET action = 'open' WHERE id = (SELECT MAX(id) FROM events)")  # a look
    connection.commit()
    connection.close()
    # Put back the table's pages of before the update: the index says "open", the row says "look".
    after = bytearray(path.read_bytes())
    for page in table_pages:
        after[(page - 1) * PAGE : page * PAGE] = before[(page - 1) * PAGE : page * PAGE]
    path.write_bytes(bytes(after))

    memory = MemorySystem.open(path, read_only=True, text_index=False)  # a clean shutdown: the cheap check misses it
    lying = memory.events.events_by_action("open")
    truth = memory.bank.query("SELECT action FROM events NOT INDEXED WHERE id = ?", (lying[0].id,))[0][0]
    assert [e.action for e in lying] == ["open"] and truth == "look"  # the index's answer is not the bank's row
    with pytest.raises(BankError, match=r"damaged database.*memory repair"):
        memory.export()
    memory.close()
    out = tmp_path / "export.json"
    assert main(["memory", "export", str(path), "--out", str(out)]) == 2 and not out.exists()
    with pytest.raises(BankError, match="integrity_check"):
        Bank(path, readonly=True, check="full")
    connection = sqlite3.connect(path)
    connection.execute("UPDATE meta SET value = '0' WHERE key = 'clean_shutdown'")  # as a killed writer leaves it
    connection.commit()
    connection.close()
    with pytest.raises(BankError, match=rf"{path}: damaged database \(integrity_check"):
        MemorySystem.open(path, text_index=False)


@pytest.mark.parametrize("table", ["events", "working_items", "events_start"])
def test_a_damaged_page_is_a_bank_error_wherever_it_is_first_read(intact: Path, tmp_path: Path, table: str) -> None:
    """With the check on open skipped (as for a bank too large for it), a lost page of the timeline, of working
    memory (read while opening) or of an index raises BankError naming the bank and the repair command."""
    path = _copy(intact, tmp_path)
    for page in _leaf_pages(path, table)[:3]:
        _zero_page(path, page)
    with pytest.raises(BankError) as error:
        memory = MemorySystem.open(path, read_only=True, check="none", text_index=False)
        try:
            memory.events.events_between(0.0, 1e9, limit=10**6)
            memory.events.first_event(action="pick")
        finally:
            memory.close()
    assert str(path) in str(error.value) and "memory repair" in str(error.value)
    with pytest.raises(BankError, match="memory repair"):
        MemorySystem.open(path, read_only=True, text_index=False)  # the default check catches it on open
    assert main(["memory", "stats", str(path)]) == 2


def test_check_and_repair_salvage_exactly_what_is_readable(
    intact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(intact, tmp_path)
    original = _events(path)
    lost_page = _leaf_pages(path, "events")[40]
    _zero_page(path, lost_page)
    damaged = _digest(path)
    assert main(["memory", "check", str(path)]) == 1
    assert "damaged" in capsys.readouterr().out
    out = tmp_path / "fixed.db"
    assert main(["memory", "repair", str(path), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert _digest(path) == damaged and sorted(p.name for p in tmp_path.iterdir()) == ["bank.db", "fixed.db"]  # untouched
    salvaged = _events(out)
    lost = set(original) - set(salvaged)
    assert salvaged and all(salvaged[i] == original[i] for i in salvaged)  # what is kept is exactly what was there
    events = report["tables"]["events"]
    assert events["unread"] == len(lost) > 0 and events["copied"] == len(salvaged) and not report["lossless"]
    low, high = events["unreadable"][0]
    assert set(range(low, high + 1)) >= lost
    assert check_bank(out).ok and main(["memory", "check", str(out)]) == 0
    with MemorySystem.open(out, read_only=True) as memory:
        stats = memory.stats()
        assert stats["events"] == len(salvaged) and stats["facts"] == 5
        assert stats["map_objects"] > 0 and memory.map_time_s == kit.frame_time(11)  # the map was intact: kept
        # Derived tables rebuilt, vectors of lost events dropped: the object links answer, every vector has its item.
        linked = {e.id for e in memory.events.events_with_object(7, limit=10**4)}
        assert linked == {i for i, (_, start_s, _) in salvaged.items() if int(start_s) % 50 == 7}
        assert report["tables"]["vectors"]["dropped"] == {"its item was lost": len(lost)}
        event_vectors = {split_vector_id(r[0])[1] for r in memory.bank.query("SELECT id FROM vectors WHERE kind = 'event'")}
        assert event_vectors == set(salvaged)
    with MemorySystem.open(out) as memory:  # a writer opens it, re-embeds what lost its vector, and goes on
        assert memory.stats()["vectors_pending"] == 0


def test_a_damaged_live_map_is_dropped_whole(intact: Path, tmp_path: Path) -> None:
    path = _copy(intact, tmp_path)
    connection = sqlite3.connect(path)
    blob = bytearray(connection.execute("SELECT data FROM map_objects ORDER BY id LIMIT 1").fetchone()[0])
    blob[len(blob) // 2] ^= 0x5A  # a flipped byte inside a value: only the digest can tell
    connection.execute("UPDATE map_objects SET data = ? WHERE id = (SELECT MIN(id) FROM map_objects)", (bytes(blob),))
    connection.commit()
    connection.close()
    assert any("digest" in problem for problem in check_bank(path).problems)
    report = repair_bank(path, tmp_path / "fixed.db")
    assert report.tables["map_objects"].dropped and any("live map" in note for note in report.notes)
    with MemorySystem.open(tmp_path / "fixed.db", read_only=True) as memory:
        assert memory.map_time_s is None and memory.stats()["map_objects"] == 0 and memory.stats()["events"] == EVENTS


def test_repair_never_replaces_a_bank(intact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _copy(intact, tmp_path)
    other = tmp_path / "other.db"
    other.write_bytes(b"precious")
    assert main(["memory", "repair", str(path), "--out", str(other)]) == 2
    assert other.read_bytes() == b"precious" and "never replaces" in capsys.readouterr().err
    assert main(["memory", "repair", str(path), "--out", str(path)]) == 2
    report = repair_bank(path, tmp_path / "copy.db")
    assert report.lossless and check_bank(tmp_path / "copy.db").ok and check_bank(path).ok
