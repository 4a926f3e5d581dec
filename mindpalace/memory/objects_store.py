"""Long-term memory of objects: what the agent knows of each object, and how that changed over time.

Spatial memory keeps the live 3D map in RAM; this store keeps the part that must outlive the process:
each object's label, attributes, last known place, room and state, and a history row for every change
(seen new, moved, found missing, state told). Radius queries use SQLite's R*Tree.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mindpalace.memory.bank import Bank, register_schema

register_schema(
    "objects",
    (
        """CREATE TABLE IF NOT EXISTS objects (
            id INTEGER PRIMARY KEY, label TEXT NOT NULL, attributes TEXT NOT NULL DEFAULT '{}',
            x REAL, y REAL, z REAL, room TEXT, state TEXT NOT NULL DEFAULT '', present INTEGER NOT NULL DEFAULT 1,
            first_seen REAL, last_seen REAL, observations INTEGER NOT NULL DEFAULT 1, confidence REAL NOT NULL DEFAULT 1,
            importance REAL NOT NULL DEFAULT 0.5, pinned INTEGER NOT NULL DEFAULT 0, access_count INTEGER NOT NULL DEFAULT 0,
            last_access REAL, size_bytes INTEGER NOT NULL DEFAULT 0)""",
        # Label (and room) lookups return the latest seen first: the index hands rows over in that order.
        "CREATE INDEX IF NOT EXISTS objects_label_seen ON objects (label, last_seen)",
        "CREATE INDEX IF NOT EXISTS objects_label_room_seen ON objects (label, room, last_seen)",
        "CREATE INDEX IF NOT EXISTS objects_room ON objects (room, label)",
        "CREATE INDEX IF NOT EXISTS objects_last_seen ON objects (last_seen)",
        "CREATE VIRTUAL TABLE IF NOT EXISTS objects_rtree USING rtree(id, min_x, max_x, min_y, max_y)",
        """CREATE TABLE IF NOT EXISTS object_history (
            id INTEGER PRIMARY KEY, object_id INTEGER NOT NULL, time_s REAL NOT NULL, kind TEXT NOT NULL,
            x REAL, y REAL, z REAL, room TEXT, detail TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX IF NOT EXISTS object_history_object ON object_history (object_id, time_s)",
        "CREATE INDEX IF NOT EXISTS object_history_time ON object_history (time_s)",
    ),
)


@dataclass(frozen=True)
class ObjectRecord:
    id: int
    label: str
    attributes: dict[str, str]
    position: tuple[float, float, float] | None
    room: str | None
    state: str
    present: bool  # False once it was found missing from its last known place
    first_seen: float
    last_seen: float
    observations: int
    confidence: float

    def describe(self) -> str:
        words = [self.attributes[k] for k in ("color", "material") if k in self.attributes]
        where = f" in the {self.room}" if self.room else ""
        at = f" at ({self.position[0]:.1f}, {self.position[1]:.1f})" if self.position else ""
        state = f", {self.state}" if self.state else ""
        gone = " (not there when last looked)" if not self.present else ""
        return f"{' '.join([*words, self.label.replace('_', ' ')])} #{self.id}{where}{at}{state}{gone}"


@dataclass(frozen=True)
class ObjectChange:
    object_id: int
    label: str
    time_s: float
    kind: str  # "new", "moved", "missing", "state"
    position: tuple[float, float, float] | None
    room: str | None
    detail: str


def _record(row: Any) -> ObjectRecord:
    position = None if row["x"] is None else (row["x"], row["y"], row["z"])
    return ObjectRecord(
        row["id"],
        row["label"],
        json.loads(row["attributes"]),
        position,
        row["room"],
        row["state"],
        bool(row["present"]),
        row["first_seen"],
        row["last_seen"],
        row["observations"],
        row["confidence"],
    )


class ObjectStore:
    """Persistent object records and their change history."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank

    def upsert(
        self,
        object_id: int,
        label: str,
        position: tuple[float, float, float],
        time_s: float,
        *,
        attributes: dict[str, str] | None = None,
        room: str | None = None,
        observations: int = 1,
        confidence: float = 1.0,
        change: str | None = None,
        detail: str = "",
    ) -> None:
        """Record what is known of an object now; `change` ("new", "moved", "missing") also adds a history row."""
        x, y, z = (float(v) for v in position)
        payload = json.dumps(attributes or {})
        with self.bank.write() as db:
            db.execute(
                """INSERT INTO objects (id, label, attributes, x, y, z, room, first_seen, last_seen, observations, confidence,
                                        size_bytes, present)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                   ON CONFLICT(id) DO UPDATE SET label = excluded.label, attributes = excluded.attributes, x = excluded.x,
                     y = excluded.y, z = excluded.z, room = excluded.room, last_seen = excluded.last_seen,
                     observations = excluded.observations, confidence = excluded.confidence,
                     present = CASE WHEN ? = 'missing' THEN 0 ELSE 1 END""",
                (
                    object_id,
                    label,
                    payload,
                    x,
                    y,
                    z,
                    room,
                    time_s,
                    time_s,
                    observations,
                    confidence,
                    120 + len(payload) + len(label),
                    change or "",
                ),
            )
            db.execute("INSERT OR REPLACE INTO objects_rtree VALUES (?, ?, ?, ?, ?)", (object_id, x, x, y, y))
            if change:
                db.execute(
                    "INSERT INTO object_history (object_id, time_s, kind, x, y, z, room, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (object_id, time_s, change, x, y, z, room, detail),
                )

    def set_state(self, object_id: int, state: str, time_s: float) -> None:
        with self.bank.write() as db:
            db.execute("UPDATE objects SET state = ? WHERE id = ?", (state, object_id))
            db.execute(
                "INSERT INTO object_history (object_id, time_s, kind, detail) VALUES (?, ?, 'state', ?)",
                (object_id, time_s, state),
            )

    def get(self, object_id: int) -> ObjectRecord | None:
        rows = self.bank.query("SELECT * FROM objects WHERE id = ?", (object_id,))
        return _record(rows[0]) if rows else None

    def find(
        self, label: str | None = None, room: str | None = None, attributes: dict[str, str] | None = None, limit: int = 20
    ) -> list[ObjectRecord]:
        """Objects by label (exact, or with spaces for underscores), room and attribute values; latest seen first."""
        clauses, params = [], []
        if label:
            clauses.append("label = ?")
            params.append(label.strip().lower().replace(" ", "_"))
        if room:
            clauses.append("room = ?")
            params.append(room)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.bank.query(f"SELECT * FROM objects {where} ORDER BY last_seen DESC LIMIT ?", (*params, limit * 4))
        records = [_record(r) for r in rows]
        if attributes:
            records = [r for r in records if all(r.attributes.get(k) == v for k, v in attributes.items())]
        return records[:limit]

    def near(self, x: float, y: float, radius: float, limit: int = 20) -> list[ObjectRecord]:
        """Objects within `radius` of (x, y), nearest first (R*Tree box, then exact distance)."""
        # Rank on the R*Tree's own coordinates and read only the k nearest rows from the objects table:
        # in a large bank each row read is a random page.
        rows = self.bank.query(
            """SELECT o.* FROM (
                 SELECT id, (min_x - :x) * (min_x - :x) + (min_y - :y) * (min_y - :y) AS d2 FROM objects_rtree
                 WHERE min_x >= :x - :r AND max_x <= :x + :r AND min_y >= :y - :r AND max_y <= :y + :r AND d2 <= :r * :r
                 ORDER BY d2 LIMIT :limit) AS near JOIN objects o ON o.id = near.id ORDER BY near.d2""",
            {"x": x, "y": y, "r": radius, "limit": limit},
        )
        return [_record(r) for r in rows]

    def changes(
        self, t0: float, t1: float, kinds: tuple[str, ...] = ("new", "moved", "missing", "state"), limit: int = 50
    ) -> list[ObjectChange]:
        """What changed between t0 and t1, newest first."""
        marks = ",".join("?" * len(kinds))
        rows = self.bank.query(
            f"""SELECT h.*, o.label FROM object_history h JOIN objects o ON o.id = h.object_id
                WHERE h.time_s BETWEEN ? AND ? AND h.kind IN ({marks}) ORDER BY h.time_s DESC LIMIT ?""",
            (t0, t1, *kinds, limit),
        )
        return [
            ObjectChange(
                r["object_id"],
                r["label"],
                r["time_s"],
                r["kind"],
                None if r["x"] is None else (r["x"], r["y"], r["z"]),
                r["room"],
                r["detail"],
            )
            for r in rows
        ]

    def history(self, object_id: int) -> list[ObjectChange]:
        rows = self.bank.query(
            """SELECT h.*, o.label FROM object_history h JOIN objects o ON o.id = h.object_id
               WHERE h.object_id = ? ORDER BY h.time_s""",
            (object_id,),
        )
        return [
            ObjectChange(
                r["object_id"],
                r["label"],
                r["time_s"],
                r["kind"],
                None if r["x"] is None else (r["x"], r["y"], r["z"]),
                r["room"],
                r["detail"],
            )
            for r in rows
        ]

    def in_room(self, room: str, limit: int = 50) -> list[ObjectRecord]:
        return [_record(r) for r in self.bank.query("SELECT * FROM objects WHERE room = ? ORDER BY label LIMIT ?", (room, limit))]

    def rooms(self) -> list[str]:
        return [r[0] for r in self.bank.query("SELECT DISTINCT room FROM objects WHERE room IS NOT NULL ORDER BY room")]

    def touch(self, ids: list[int], now: float | None = None) -> None:
        if ids:
            with self.bank.write() as db:
                db.executemany(
                    "UPDATE objects SET access_count = access_count + 1, last_access = ? WHERE id = ?",
                    [(now if now is not None else time.time(), i) for i in ids],
                )

    def delete(self, ids: list[int]) -> int:
        """Delete unpinned objects with their history; returns how many went."""
        with self.bank.write() as db:
            before = db.total_changes
            db.executemany("DELETE FROM objects WHERE id = ? AND pinned = 0", [(i,) for i in ids])
            deleted = db.total_changes - before
            gone = [(i,) for i in ids if db.execute("SELECT 1 FROM objects WHERE id = ?", (i,)).fetchone() is None]
            db.executemany("DELETE FROM objects_rtree WHERE id = ?", gone)
            db.executemany("DELETE FROM object_history WHERE object_id = ?", gone)
        return int(deleted)

    def count(self) -> int:
        return int(self.bank.query("SELECT COUNT(*) FROM objects")[0][0])
