"""Long-term object records: upsert, find, radius queries, change history, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindpalace.memory.bank import Bank
from mindpalace.memory.objects_store import ObjectStore


@pytest.fixture
def store(tmp_path: Path):
    bank = Bank(tmp_path / "bank.db")
    yield ObjectStore(bank)
    bank.close()


def test_upsert_find_and_history(store: ObjectStore) -> None:
    """New, moved and missing changes are kept in order; the record holds the latest place and presence."""
    store.upsert(1, "mug", (1.0, 2.0, 0.8), 10.0, attributes={"color": "red"}, room="kitchen", change="new")
    store.upsert(2, "mug", (5.0, 2.0, 0.8), 11.0, attributes={"color": "blue"}, room="office", change="new")
    store.upsert(1, "mug", (4.0, -1.0, 0.5), 50.0, attributes={"color": "red"}, room="living room", change="moved")
    record = store.get(1)
    assert record.position == (4.0, -1.0, 0.5) and record.room == "living room" and record.present
    assert record.first_seen == 10.0 and record.last_seen == 50.0
    assert [c.kind for c in store.history(1)] == ["new", "moved"]
    assert [r.id for r in store.find("mug")] == [1, 2]
    assert [r.id for r in store.find("mug", attributes={"color": "blue"})] == [2]
    assert [r.id for r in store.find("Mug", room="office")] == [2]
    store.upsert(1, "mug", (4.0, -1.0, 0.5), 60.0, change="missing")
    assert not store.get(1).present and "not there" in store.get(1).describe()
    assert [c.kind for c in store.changes(40.0, 70.0)] == ["missing", "moved"]


def test_radius_queries_use_the_rtree_and_exact_distance(store: ObjectStore) -> None:
    """Objects inside the square but outside the circle are left out; nearest first."""
    for i, (x, y) in enumerate([(0.0, 0.0), (0.9, 0.9), (0.5, 0.0), (3.0, 0.0)], start=1):
        store.upsert(i, "ball", (x, y, 0.1), 1.0)
    assert [r.id for r in store.near(0.0, 0.0, 1.0)] == [1, 3]


def test_state_and_rooms(store: ObjectStore) -> None:
    store.upsert(1, "drawer", (0.0, 0.0, 0.5), 1.0, room="kitchen")
    store.set_state(1, "open", 5.0)
    assert store.get(1).state == "open" and store.changes(0, 10, kinds=("state",))[0].detail == "open"
    assert store.rooms() == ["kitchen"] and [r.id for r in store.in_room("kitchen")] == [1]


def test_delete_spares_pinned_and_clears_history(store: ObjectStore) -> None:
    store.upsert(1, "keys", (0.0, 0.0, 0.5), 1.0, change="new")
    store.upsert(2, "wallet", (0.1, 0.0, 0.5), 1.0, change="new")
    with store.bank.write() as db:
        db.execute("UPDATE objects SET pinned = 1 WHERE id = 2")
    assert store.delete([1, 2]) == 1
    assert store.get(1) is None and store.history(1) == [] and store.near(0.0, 0.0, 1.0)[0].id == 2


def test_records_survive_reopening(tmp_path: Path) -> None:
    with Bank(tmp_path / "b.db") as bank:
        ObjectStore(bank).upsert(7, "book", (1.0, 1.0, 0.4), 3.0, room="office", change="new")
    with Bank(tmp_path / "b.db") as bank:
        store = ObjectStore(bank)
        assert store.get(7).room == "office" and store.near(1.0, 1.0, 0.1)[0].id == 7 and store.count() == 1
