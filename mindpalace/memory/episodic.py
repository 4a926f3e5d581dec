"""Episodic memory: the timeline of events (what the agent did, where, when, how it went) and the snapshots
that show what it saw, kept few by 3D-Mem's co-visibility selection.

Both live in the memory bank. Every write method commits one transaction before it returns: a write is
acknowledged when the call returns, and from then on it survives the process being killed.

    store = EpisodicStore(bank)
    store.add_event(Event("robot", "pick", 10.0, 12.5, {"object": 7}, objects=(7,), place="kitchen"), x=1.0, y=2.0)
    store.last_event(object_id=7)                 # "what did I last do with the mug"
    selector = SnapshotSelector(store)
    selector.consider(obs.time_s, obs.camera_pose, obs.rgb, {7: 1200, 9: 300})
    store.snapshots_of(7)[0]                      # the best view of the mug
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mindpalace.core.types import Event
from mindpalace.memory.bank import Bank, register_schema

# AUTOINCREMENT: an id is never reused after a delete, since other stores and indexes refer to events and snapshots by id.
SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, actor TEXT NOT NULL, action TEXT NOT NULL,
        arguments TEXT NOT NULL,  -- JSON object
        objects TEXT NOT NULL,  -- JSON list of object ids
        place TEXT, x REAL, y REAL, start_s REAL NOT NULL, end_s REAL NOT NULL,
        success INTEGER NOT NULL, reason TEXT NOT NULL,
        text TEXT NOT NULL,  -- one line, for text search
        importance REAL NOT NULL DEFAULT 0.5, pinned INTEGER NOT NULL DEFAULT 0, access_count INTEGER NOT NULL DEFAULT 0,
        last_access REAL, size_bytes INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS events_start ON events (start_s)",
    "CREATE INDEX IF NOT EXISTS events_action ON events (action, start_s)",
    "CREATE INDEX IF NOT EXISTS events_place ON events (place, start_s)",
    "CREATE INDEX IF NOT EXISTS events_xy ON events (x, y)",
    # An index on the expression: longest-first and "at least d long" without a scan. Queries must spell it the same.
    "CREATE INDEX IF NOT EXISTS events_duration ON events (end_s - start_s)",
    # Clustered by object: "what did I do with X" reads one range.
    """CREATE TABLE IF NOT EXISTS event_objects (
        event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE, object_id INTEGER NOT NULL,
        PRIMARY KEY (object_id, event_id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS event_objects_event ON event_objects (event_id)",  # for the cascade on delete
    """CREATE TABLE IF NOT EXISTS snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT, time_s REAL NOT NULL,
        pose TEXT NOT NULL,  -- JSON, 16 floats row-major: camera optical frame -> world
        x REAL NOT NULL, y REAL NOT NULL, yaw REAL NOT NULL,  -- a frontier snapshot's x, y are the frontier's
        image BLOB NOT NULL,  -- JPEG or WebP
        width INTEGER NOT NULL, height INTEGER NOT NULL,
        objects TEXT NOT NULL,  -- JSON {object id: pixels}
        frontier INTEGER NOT NULL DEFAULT 0,
        importance REAL NOT NULL DEFAULT 0.5, pinned INTEGER NOT NULL DEFAULT 0, access_count INTEGER NOT NULL DEFAULT 0,
        last_access REAL, size_bytes INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS snapshots_xy ON snapshots (x, y)",
    """CREATE TABLE IF NOT EXISTS snapshot_objects (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE, object_id INTEGER NOT NULL,
        pixels INTEGER NOT NULL, PRIMARY KEY (object_id, snapshot_id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS snapshot_objects_snapshot ON snapshot_objects (snapshot_id)",
)
register_schema("episodic", SCHEMA)

# Bytes a row costs beyond its text and blobs (numbers, row and index overhead): the unit forgetting budgets in.
_ROW_OVERHEAD_BYTES = 96
_NEWEST_FIRST = "ORDER BY events.start_s DESC, events.id DESC"
_SNAPSHOT_COLUMNS = (
    "snapshots.id, time_s, pose, x, y, yaw, width, height, objects, frontier, importance, pinned, "
    "access_count, last_access, size_bytes"
)


@dataclass(frozen=True)
class EventRecord:
    """One event of the timeline as stored: the `Event` fields, where it happened and its bookkeeping."""

    id: int
    actor: str
    action: str
    arguments: dict[str, Any]
    objects: tuple[int, ...]
    place: str | None
    x: float | None
    y: float | None
    start_s: float
    end_s: float
    success: bool
    reason: str
    text: str
    importance: float
    pinned: bool
    access_count: int
    last_access: float | None
    size_bytes: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def event(self) -> Event:
        return Event(
            self.actor, self.action, self.start_s, self.end_s, self.arguments, self.objects, self.place, self.success, self.reason
        )


@dataclass(frozen=True, eq=False)
class SnapshotRecord:
    """One kept snapshot, without its image (`EpisodicStore.snapshot_image(id)` decodes that).

    pose: 4x4 float64, camera optical frame -> world. x, y: the camera's position, or the frontier's for a
    frontier snapshot. yaw: heading of the optical axis in the world (rad). objects: object id -> pixels it covers.
    """

    id: int
    time_s: float
    pose: NDArray[np.float64]
    x: float
    y: float
    yaw: float
    width: int
    height: int
    objects: dict[int, int]
    frontier: bool
    importance: float
    pinned: bool
    access_count: int
    last_access: float | None
    size_bytes: int


def describe(event: Event) -> str:
    """The default one-line text of an event: "robot pick(object=7) objects 7 in the kitchen at 10.0-12.5s: ok"."""
    arguments = ", ".join(f"{key}={value}" for key, value in sorted(event.arguments.items()))
    objects = f" objects {','.join(map(str, event.objects))}" if event.objects else ""
    place = f" in the {event.place}" if event.place else ""
    outcome = "ok" if event.success else "failed" + (f" ({event.reason})" if event.reason else "")
    return f"{event.actor} {event.action}({arguments}){objects}{place} at {event.start_s:.1f}-{event.end_s:.1f}s: {outcome}"


def encode_image(rgb: NDArray[np.uint8], image_format: str = "JPEG", quality: int = 85) -> bytes:
    """(H, W, 3) uint8 -> JPEG (or another Pillow format, e.g. WEBP) bytes."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"a snapshot image is (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format=image_format, quality=quality)
    return buffer.getvalue()


def decode_image(blob: bytes) -> NDArray[np.uint8]:
    """Image bytes (any format Pillow reads) -> (H, W, 3) uint8."""
    with Image.open(io.BytesIO(blob)) as image:
        return np.asarray(image.convert("RGB"))


def _event_record(row: sqlite3.Row) -> EventRecord:
    return EventRecord(
        row["id"],
        row["actor"],
        row["action"],
        json.loads(row["arguments"]),
        tuple(json.loads(row["objects"])),
        row["place"],
        row["x"],
        row["y"],
        row["start_s"],
        row["end_s"],
        bool(row["success"]),
        row["reason"],
        row["text"],
        row["importance"],
        bool(row["pinned"]),
        row["access_count"],
        row["last_access"],
        row["size_bytes"],
    )


def _snapshot_record(row: sqlite3.Row) -> SnapshotRecord:
    return SnapshotRecord(
        row["id"],
        row["time_s"],
        np.array(json.loads(row["pose"]), np.float64).reshape(4, 4),
        row["x"],
        row["y"],
        row["yaw"],
        row["width"],
        row["height"],
        {int(k): v for k, v in json.loads(row["objects"]).items()},
        bool(row["frontier"]),
        row["importance"],
        bool(row["pinned"]),
        row["access_count"],
        row["last_access"],
        row["size_bytes"],
    )


def _near(x: float, y: float, radius: float) -> tuple[str, dict[str, float]]:
    """A WHERE clause on columns x, y: the box (an index range) first, then the exact circle."""
    clause = "x BETWEEN :x0 AND :x1 AND y BETWEEN :y0 AND :y1 AND (x - :x) * (x - :x) + (y - :y) * (y - :y) <= :r2"
    return clause, {"x": x, "y": y, "x0": x - radius, "x1": x + radius, "y0": y - radius, "y1": y + radius, "r2": radius * radius}


def _event_row(event: Event, x: float | None, y: float | None, importance: float, text: str | None) -> tuple:
    """The `events` row of an event (its columns in `EpisodicStore._insert_events`' order); checks the event."""
    if event.end_s < event.start_s:
        raise ValueError(f"event ends ({event.end_s}) before it starts ({event.start_s})")
    arguments = json.dumps(event.arguments, sort_keys=True)
    objects = [int(o) for o in event.objects]
    text = describe(event) if text is None else text
    strings = (arguments, text, event.actor, event.action, event.reason, event.place or "")
    size = sum(len(s.encode()) for s in strings) + _ROW_OVERHEAD_BYTES + 24 * len(objects)
    return (
        event.actor,
        event.action,
        arguments,
        json.dumps(objects),
        event.place,
        None if x is None else float(x),
        None if y is None else float(y),
        float(event.start_s),
        float(event.end_s),
        int(event.success),
        event.reason,
        text,
        float(importance),
        size,
    )


class EpisodicStore:
    """The timeline of events and the snapshot table of one bank. Thread-safe: each thread reads on its own connection."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        if not bank.readonly:
            # The bank creates registered tables when it opens; this covers a bank opened before this module was imported.
            with bank.write() as db:
                for statement in SCHEMA:
                    db.execute(statement)

    # ------------------------------------------------------------------ events: writing
    def add_event(
        self, event: Event, x: float | None = None, y: float | None = None, importance: float = 0.5, text: str | None = None
    ) -> int:
        """Append one event; acknowledged (committed) when this returns. Returns its id.

        The event's arguments must be JSON values (tuples come back as lists). `text` is the line text search
        sees; by default `describe(event)`.
        """
        with self.bank.write() as db:
            return self._insert_events(db, [_event_row(event, x, y, importance, text)], [event.objects])[0]

    def add_events(
        self, events: Sequence[Event], positions: Sequence[tuple[float, float] | None] | None = None, importance: float = 0.5
    ) -> list[int]:
        """Append many events in one transaction (much faster than one each); all or none are kept. Returns their ids."""
        if positions is not None and len(positions) != len(events):
            raise ValueError(f"{len(events)} events but {len(positions)} positions")
        rows = []
        for i, event in enumerate(events):
            xy = positions[i] if positions is not None else None
            x, y = xy if xy is not None else (None, None)
            rows.append(_event_row(event, x, y, importance, None))
        with self.bank.write() as db:
            return self._insert_events(db, rows, [event.objects for event in events])

    @staticmethod
    def _insert_events(db: sqlite3.Connection, rows: list[tuple], objects: list[tuple[int, ...]]) -> list[int]:
        """Insert event rows (`_event_row`) and their object links in the open transaction `db`; returns the new ids.

        One statement for all the rows: the ids AUTOINCREMENT gives them in one transaction are the next ones after
        the table's sequence, in order (checked against the sequence after the insert).
        """
        if not rows:
            return []
        before = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        first = (before[0] if before is not None else 0) + 1
        db.executemany(
            "INSERT INTO events (actor, action, arguments, objects, place, x, y, start_s, end_s, success, reason, text, "
            "importance, size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        last = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()[0]
        if last != first + len(rows) - 1:
            raise RuntimeError(f"events got ids up to {last}, expected {first}..{first + len(rows) - 1}")
        ids = list(range(first, first + len(rows)))
        db.executemany(
            "INSERT INTO event_objects (event_id, object_id) VALUES (?, ?)",
            [(event_id, int(o)) for event_id, linked in zip(ids, objects) for o in dict.fromkeys(linked)],
        )
        return ids

    def touch(self, ids: Iterable[int], now: float) -> None:
        """Note that these events were used (retrieved, shown to the planner): forgetting keeps what is used."""
        with self.bank.write() as db:
            db.executemany(
                "UPDATE events SET access_count = access_count + 1, last_access = ? WHERE id = ?", [(now, int(i)) for i in ids]
            )

    def delete(self, ids: Iterable[int]) -> int:
        """Remove events (and their object links); returns how many existed."""
        with self.bank.write() as db:
            return db.executemany("DELETE FROM events WHERE id = ?", [(int(i),) for i in ids]).rowcount

    # ------------------------------------------------------------------ events: reading
    def _events(self, tail: str, parameters: tuple | dict = ()) -> list[EventRecord]:
        return [_event_record(row) for row in self.bank.query(f"SELECT events.* FROM events {tail}", parameters)]

    def get(self, event_id: int) -> EventRecord | None:
        found = self._events("WHERE id = ?", (int(event_id),))
        return found[0] if found else None

    def count(self) -> int:
        return int(self.bank.query("SELECT COUNT(*) FROM events")[0][0])

    def events_between(self, t0: float, t1: float, limit: int = 100) -> list[EventRecord]:
        """Events that overlap [t0, t1], newest first."""
        # Bounding the start by the longest duration keeps this an index range instead of a scan back to the beginning.
        return self._events(
            "WHERE start_s BETWEEN ? - (SELECT end_s - start_s FROM events ORDER BY end_s - start_s DESC LIMIT 1) AND ? "
            f"AND end_s >= ? {_NEWEST_FIRST} LIMIT ?",
            (t0, t1, t0, limit),
        )

    def events_with_object(self, object_id: int, limit: int = 100) -> list[EventRecord]:
        """What the agent did with an object, newest first."""
        return self._events(
            f"JOIN event_objects o ON o.event_id = events.id WHERE o.object_id = ? {_NEWEST_FIRST} LIMIT ?",
            (int(object_id), limit),
        )

    def events_by_action(self, action: str, limit: int = 100) -> list[EventRecord]:
        return self._events(f"WHERE action = ? {_NEWEST_FIRST} LIMIT ?", (action, limit))

    def events_at(self, place: str, limit: int = 100) -> list[EventRecord]:
        """Events at a named place (a room), newest first."""
        return self._events(f"WHERE place = ? {_NEWEST_FIRST} LIMIT ?", (place, limit))

    def events_near(self, x: float, y: float, radius: float, limit: int = 100) -> list[EventRecord]:
        """Events within `radius` m of (x, y), newest first (events without a position never match)."""
        clause, parameters = _near(x, y, radius)
        return self._events(f"WHERE {clause} {_NEWEST_FIRST} LIMIT :limit", {**parameters, "limit": limit})

    def first_event(
        self, action: str | None = None, object_id: int | None = None, after: float | None = None, before: float | None = None
    ) -> EventRecord | None:
        """The earliest event (of an action, with an object, starting in [after, before])."""
        return self._edge_event("ASC", action, object_id, after, before)

    def last_event(
        self, action: str | None = None, object_id: int | None = None, after: float | None = None, before: float | None = None
    ) -> EventRecord | None:
        """The latest event (of an action, with an object, starting in [after, before])."""
        return self._edge_event("DESC", action, object_id, after, before)

    def _edge_event(
        self, direction: str, action: str | None, object_id: int | None, after: float | None, before: float | None
    ) -> EventRecord | None:
        join, where, parameters = "", ["1"], list[object]()
        if object_id is not None:
            join = "JOIN event_objects o ON o.event_id = events.id"
            where.append("o.object_id = ?")
            parameters.append(int(object_id))
        for clause, value in (("action = ?", action), ("start_s >= ?", after), ("start_s <= ?", before)):
            if value is not None:
                where.append(clause)
                parameters.append(value)
        found = self._events(
            f"{join} WHERE {' AND '.join(where)} ORDER BY events.start_s {direction}, events.id {direction} LIMIT 1",
            tuple(parameters),
        )
        return found[0] if found else None

    def longest_events(self, limit: int = 10) -> list[EventRecord]:
        """Longest first (duration = end_s - start_s)."""
        return self._events("ORDER BY end_s - start_s DESC, id DESC LIMIT ?", (limit,))

    def events_longer_than(self, duration_s: float, limit: int = 100) -> list[EventRecord]:
        """Events that lasted at least `duration_s`, newest first."""
        return self._events(f"WHERE end_s - start_s >= ? {_NEWEST_FIRST} LIMIT ?", (duration_s, limit))

    # ------------------------------------------------------------------ snapshots
    def insert_snapshot(
        self,
        db: sqlite3.Connection,
        time_s: float,
        pose: NDArray[np.float64],
        rgb: NDArray[np.uint8],
        objects: Mapping[int, int],
        frontier_xy: tuple[float, float] | None = None,
        image_format: str = "JPEG",
        quality: int = 85,
    ) -> int:
        """Insert a snapshot inside the caller's transaction `db` (selection decides what to keep, see SnapshotSelector).

        pose: 4x4, camera optical frame -> world. rgb: (H, W, 3) uint8. objects: object id -> pixels it covers.
        frontier_xy: set for a frontier snapshot, whose position is the frontier's rather than the camera's.
        """
        pose = np.asarray(pose, np.float64)
        if pose.shape != (4, 4):
            raise ValueError(f"a pose is 4x4, got {pose.shape}")
        image = encode_image(rgb, image_format, quality)
        pose_json = json.dumps(pose.ravel().tolist())
        objects_json = json.dumps({str(int(k)): int(v) for k, v in objects.items()})
        x, y = frontier_xy if frontier_xy is not None else (pose[0, 3], pose[1, 3])
        yaw = math.atan2(pose[1, 2], pose[0, 2])  # the optical axis (camera z) projected on the floor
        size = len(image) + len(pose_json) + len(objects_json) + _ROW_OVERHEAD_BYTES + 24 * len(objects)
        cursor = db.execute(
            "INSERT INTO snapshots (time_s, pose, x, y, yaw, image, width, height, objects, frontier, size_bytes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                float(time_s),
                pose_json,
                float(x),
                float(y),
                yaw,
                image,
                rgb.shape[1],
                rgb.shape[0],
                objects_json,
                int(frontier_xy is not None),
                size,
            ),
        )
        snapshot_id = int(cursor.lastrowid)  # type: ignore[arg-type]
        db.executemany(
            "INSERT INTO snapshot_objects (snapshot_id, object_id, pixels) VALUES (?, ?, ?)",
            [(snapshot_id, int(k), int(v)) for k, v in objects.items()],
        )
        return snapshot_id

    def _snapshots(self, tail: str, parameters: tuple | dict = ()) -> list[SnapshotRecord]:
        return [_snapshot_record(row) for row in self.bank.query(f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots {tail}", parameters)]

    def snapshot(self, snapshot_id: int) -> SnapshotRecord | None:
        found = self._snapshots("WHERE id = ?", (int(snapshot_id),))
        return found[0] if found else None

    def snapshots_of(self, object_id: int, limit: int = 10) -> list[SnapshotRecord]:
        """Snapshots showing an object, best view (most pixels) first."""
        return self._snapshots(
            "JOIN snapshot_objects o ON o.snapshot_id = snapshots.id WHERE o.object_id = ? "
            "ORDER BY o.pixels DESC, time_s DESC LIMIT ?",
            (int(object_id), limit),
        )

    def snapshots_near(
        self, x: float, y: float, radius: float, frontier: bool | None = None, limit: int = 100
    ) -> list[SnapshotRecord]:
        """Snapshots within `radius` m of (x, y), nearest first; `frontier` True or False keeps only that kind."""
        clause, parameters = _near(x, y, radius)
        if frontier is not None:
            clause += " AND frontier = :frontier"
            parameters["frontier"] = int(frontier)
        return self._snapshots(
            f"WHERE {clause} ORDER BY (x - :x) * (x - :x) + (y - :y) * (y - :y), id LIMIT :limit", {**parameters, "limit": limit}
        )

    def snapshot_image(self, snapshot_id: int) -> NDArray[np.uint8]:
        """The decoded image, (H, W, 3) uint8."""
        rows = self.bank.query("SELECT image FROM snapshots WHERE id = ?", (int(snapshot_id),))
        if not rows:
            raise KeyError(f"no snapshot {snapshot_id}")
        return decode_image(rows[0][0])

    def snapshot_count(self, frontier: bool | None = None) -> int:
        if frontier is None:
            return int(self.bank.query("SELECT COUNT(*) FROM snapshots")[0][0])
        return int(self.bank.query("SELECT COUNT(*) FROM snapshots WHERE frontier = ?", (int(frontier),))[0][0])

    def touch_snapshots(self, ids: Iterable[int], now: float) -> None:
        with self.bank.write() as db:
            db.executemany(
                "UPDATE snapshots SET access_count = access_count + 1, last_access = ? WHERE id = ?", [(now, int(i)) for i in ids]
            )

    def delete_snapshots(self, ids: Iterable[int]) -> int:
        """Remove snapshots; returns how many existed. Objects they alone showed are then without a snapshot."""
        with self.bank.write() as db:
            return db.executemany("DELETE FROM snapshots WHERE id = ?", [(int(i),) for i in ids]).rowcount


@dataclass
class SnapshotConfig:
    min_pixels: int = 50  # an object covering fewer pixels is not shown well enough to count as covered
    better_ratio: float = 1.5  # a frame is kept when it shows an object this many times larger than its best snapshot
    image_format: str = "JPEG"  # or "WEBP": fewer bytes (8.9 vs 13.8 KB for a real 320x240 frame at quality 85)
    image_quality: int = 85
    frontier_merge_radius: float = 0.5  # m; a new frontier snapshot replaces older ones of a frontier this close


class SnapshotSelector:
    """3D-Mem's co-visibility selection: keep few snapshots such that every object seen is covered by one.

    A frame is kept when it shows an object no snapshot shows yet, or shows some object `better_ratio` times
    larger than that object's best snapshot. Then every snapshot left redundant (each object it shows is shown
    at least as large by another) is removed. So, until forgetting deletes snapshots, every object keeps a view of
    at least 1 / `better_ratio` of the most pixels it was seen with; each kept snapshot is the strictly best view
    of some object, so there are never more (non-frontier) snapshots than objects. All state is in the bank, so
    selection carries on across restarts.
    """

    def __init__(self, store: EpisodicStore, config: SnapshotConfig | None = None) -> None:
        self.store = store
        self.config = config or SnapshotConfig()

    def consider(
        self, time_s: float, pose: NDArray[np.float64], rgb: NDArray[np.uint8], visible: Mapping[int, int]
    ) -> int | None:
        """Offer a frame: `visible` maps object id -> pixels it covers. Returns the new snapshot's id, or None if not kept."""
        shown = {int(k): int(v) for k, v in visible.items() if v >= self.config.min_pixels}
        if not self._worth_keeping(self.store.bank.reader(), shown):  # the common case, decided without the write lock
            return None
        with self.store.bank.write() as db:
            # Another thread may have kept a better view since the check above.
            if not self._worth_keeping(db, shown):
                return None
            snapshot_id = self.store.insert_snapshot(
                db, time_s, pose, rgb, shown, image_format=self.config.image_format, quality=self.config.image_quality
            )
            self._prune(db, snapshot_id, shown)
        return snapshot_id

    def _worth_keeping(self, db: sqlite3.Connection, shown: dict[int, int]) -> bool:
        if not shown:
            return False
        best = dict(
            db.execute(
                "SELECT object_id, MAX(pixels) FROM snapshot_objects WHERE object_id IN "
                "(SELECT value FROM json_each(?)) GROUP BY object_id",
                (json.dumps(list(shown)),),
            ).fetchall()
        )
        return any(o not in best or pixels >= self.config.better_ratio * best[o] for o, pixels in shown.items())

    @staticmethod
    def _prune(db: sqlite3.Connection, new_id: int, shown: dict[int, int]) -> None:
        """Remove the unpinned snapshots the new one made redundant (only those sharing an object with it can be)."""
        candidates = [
            row[0]
            for row in db.execute(
                "SELECT DISTINCT o.snapshot_id FROM snapshot_objects o JOIN snapshots s ON s.id = o.snapshot_id "
                "WHERE o.object_id IN (SELECT value FROM json_each(?)) AND o.snapshot_id != ? AND s.pinned = 0 "
                "ORDER BY o.snapshot_id",
                (json.dumps(list(shown)), new_id),
            )
        ]
        # One at a time, oldest first: two equal views are redundant to each other, but only one of them may go.
        for snapshot_id in candidates:
            redundant = db.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM snapshot_objects a WHERE a.snapshot_id = :s AND NOT EXISTS ("
                "SELECT 1 FROM snapshot_objects b WHERE b.object_id = a.object_id AND b.snapshot_id != :s "
                "AND b.pixels >= a.pixels))",
                {"s": snapshot_id},
            ).fetchone()[0]
            if redundant:
                db.execute("DELETE FROM snapshots WHERE id = ?", (snapshot_id,))

    def add_frontier_snapshot(
        self, time_s: float, pose: NDArray[np.float64], rgb: NDArray[np.uint8], frontier_xy: tuple[float, float]
    ) -> int:
        """Keep a view towards an unexplored frontier at `frontier_xy`; it replaces older views of a frontier that close."""
        with self.store.bank.write() as db:
            self._remove_frontiers(db, *frontier_xy, self.config.frontier_merge_radius)
            return self.store.insert_snapshot(
                db, time_s, pose, rgb, {}, frontier_xy, self.config.image_format, self.config.image_quality
            )

    def remove_frontier_snapshots_near(self, x: float, y: float, radius: float) -> list[int]:
        """The frontier near (x, y) was explored: drop its snapshots. Returns their ids."""
        with self.store.bank.write() as db:
            return self._remove_frontiers(db, x, y, radius)

    @staticmethod
    def _remove_frontiers(db: sqlite3.Connection, x: float, y: float, radius: float) -> list[int]:
        clause, parameters = _near(x, y, radius)
        ids = [row[0] for row in db.execute(f"SELECT id FROM snapshots WHERE frontier = 1 AND {clause}", parameters)]
        db.executemany("DELETE FROM snapshots WHERE id = ?", [(i,) for i in ids])
        return ids


def measure_write_throughput(path: str | Path, n: int = 2000, batch: int = 100) -> dict[str, float]:
    """Event writes/s into a new bank at `path`: one transaction per event, each acknowledged and so surviving a kill,
    and `batch` events per transaction. Also the bank's bytes per event afterwards."""
    if Path(path).exists():
        raise FileExistsError(f"{path}: measure in a new bank, not an existing one")
    events = [
        Event(
            "robot",
            ("navigate", "pick", "place", "open")[i % 4],
            float(i),
            i + 1.5,
            {"target": f"object_{i % 50}", "speed": 0.5},
            objects=(i % 50, 100 + i % 7),
            place=f"room_{i % 6}",
        )
        for i in range(n)
    ]
    positions = [(float(i % 40) * 0.25, float(i % 30) * 0.2) for i in range(n)]
    with Bank(path) as bank:
        store = EpisodicStore(bank)
        start = time.perf_counter()
        for event, (x, y) in zip(events, positions):
            store.add_event(event, x=x, y=y)
        single = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(0, n, batch):
            store.add_events(events[i : i + batch], positions[i : i + batch])
        batched = n / (time.perf_counter() - start)
        count = store.count()
    # Measured closed: the WAL is folded in and the shared-memory index (not data) is gone.
    bytes_per_event = Path(path).stat().st_size / count
    return {"single_events_per_s": single, "batched_events_per_s": batched, "bytes_per_event": bytes_per_event}
