"""Working (short-term) memory: a bounded store of recent state changes and observations.

Items are keyed for deduplication ("object:12"), so an object's latest state replaces its older item and
carries its frequency over. When the store is full, a replacement policy picks the item to evict:

- "fifo": the oldest inserted (a replaced item counts as newly inserted);
- "lru": the least recently accessed (added, replaced or read with `get`);
- "lfu": the least frequently seen or read;
- "importance": the least important;
- "mem4nav": Mem4Nav's score, lambda * frequency_norm - (1 - lambda) * age_norm, lowest first, where
  frequency and age (now - last_access) are min-max normalised over the current items.

Mem4Nav's radius rule can be switched on with any policy: items placed farther than `radius` from the
agent's current position are evicted before any item within it (or without a place). Ties go to the
oldest id. Evicted items are handed to `on_evict`, which feeds consolidation into long-term memory.

With a `Bank`, every change is written to the table `working_items` in the same call (one transaction)
and the store is restored on construction, so a restart keeps short-term memory too.
A WorkingMemory is used from one thread at a time.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mindpalace.memory.bank import Bank, register_schema

if TYPE_CHECKING:
    from mindpalace.memory.spatial.objects import ObjectUpdate

SCHEMA = (
    # AUTOINCREMENT so that ids are never reused, even after the newest items were evicted and the process restarted.
    """CREATE TABLE IF NOT EXISTS working_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, text TEXT NOT NULL,
        payload TEXT NOT NULL, time_s REAL NOT NULL, importance REAL NOT NULL, frequency INTEGER NOT NULL,
        last_access REAL NOT NULL, x REAL, y REAL)""",
)
register_schema("working", SCHEMA)


@dataclass(frozen=True, kw_only=True)
class WorkingItem:
    """One short-term memory item. `id`, `frequency` and `last_access` are maintained by WorkingMemory."""

    key: str  # deduplication key: an item with the same key replaces this one
    kind: str  # "state_change", "observation", "event", "fact", ...
    text: str  # one line, for prompts and word search
    time_s: float  # when it happened
    payload: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable details
    importance: float = 0.5  # 0..1
    position: tuple[float, float] | None = None  # world (x, y) in metres where it happened, if anywhere
    frequency: int = 1  # times seen or read
    last_access: float = 0.0  # time_s of the last add, replacement or get
    id: int = 0  # assigned on add, increasing with insertion order


@dataclass
class WorkingMemoryConfig:
    capacity: int = 64
    policy: str = "mem4nav"
    mem4nav_lambda: float = 0.5  # 1: evict by frequency only, 0: by age only
    radius: float | None = None  # m; items farther than this from the agent are evicted first; None: off

    def __post_init__(self) -> None:
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int) or self.capacity < 1:
            raise ValueError(f"working memory capacity must be an integer >= 1, got {self.capacity!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"unknown working memory policy {self.policy!r}; known: {', '.join(sorted(POLICIES))}")
        if not 0.0 <= self.mem4nav_lambda <= 1.0:
            raise ValueError(f"mem4nav_lambda must be in [0, 1], got {self.mem4nav_lambda!r}")
        if self.radius is not None and not self.radius > 0:
            raise ValueError(f"radius must be > 0 m or None, got {self.radius!r}")


# A policy gives each item an eviction priority (same order as `items`); the lowest is evicted.
Policy = Callable[[Sequence[WorkingItem], float, WorkingMemoryConfig], list[float]]


def _normalised(values: list[float]) -> list[float]:
    """Min-max to [0, 1]; all zeros when the values are all equal (nothing tells them apart)."""
    low, high = min(values), max(values)
    if high == low:
        return [0.0] * len(values)
    return [(v - low) / (high - low) for v in values]


def _mem4nav(items: Sequence[WorkingItem], now: float, config: WorkingMemoryConfig) -> list[float]:
    frequency = _normalised([float(item.frequency) for item in items])
    age = _normalised([now - item.last_access for item in items])
    lam = config.mem4nav_lambda
    return [lam * f - (1.0 - lam) * a for f, a in zip(frequency, age)]


POLICIES: dict[str, Policy] = {
    "fifo": lambda items, now, config: [float(item.id) for item in items],
    "lru": lambda items, now, config: [item.last_access for item in items],
    "lfu": lambda items, now, config: [float(item.frequency) for item in items],
    "importance": lambda items, now, config: [item.importance for item in items],
    "mem4nav": _mem4nav,
}

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


class WorkingMemory:
    """A bounded short-term store; see the module docstring for the policies and persistence."""

    def __init__(
        self,
        config: WorkingMemoryConfig | None = None,
        bank: Bank | None = None,
        on_evict: Callable[[WorkingItem], None] | None = None,
    ) -> None:
        self.config = config or WorkingMemoryConfig()
        self.bank = bank
        self.on_evict = on_evict
        self._items: dict[str, WorkingItem] = {}  # by key, in id (insertion) order
        self._next_id = 1
        self._now = 0.0  # the latest time seen, for a `get` that is not told the time
        if bank is not None:
            self._restore(bank)

    # ------------------------------------------------------------------ writing
    def add(self, item: WorkingItem, now: float, position: tuple[float, float] | None = None) -> list[WorkingItem]:
        """File `item` at time `now`, the agent being at `position` (x, y); returns the items evicted to make room.

        An item with a key already held replaces it (no eviction): it gets a new id, and its frequency is
        added to the old item's. The evicted items are passed to `on_evict` once the change is stored.
        """
        _check(item)
        old = self._items.get(item.key)
        new = dataclasses.replace(
            item, id=self._next_id, last_access=now, frequency=item.frequency + (old.frequency if old is not None else 0)
        )
        evicted = [] if old is not None else self._victims(len(self._items) + 1 - self.config.capacity, now, position)
        if self.bank is not None:
            with self.bank.write() as db:
                db.executemany("DELETE FROM working_items WHERE id = ?", [(e.id,) for e in evicted])
                if old is not None:
                    db.execute("DELETE FROM working_items WHERE id = ?", (old.id,))
                _insert(db, new)
        self._now = max(self._now, now)
        self._next_id += 1
        for victim in evicted:
            del self._items[victim.key]
        self._items.pop(item.key, None)  # re-inserted at the end: dict order stays id order
        self._items[item.key] = new
        self._hand_over(evicted)
        return evicted

    def get(self, key: str, now: float | None = None) -> WorkingItem | None:
        """The item under `key`, or None. Reading it is an access: frequency + 1, last_access = now
        (default: the latest time this memory was given)."""
        item = self._items.get(key)
        if item is None:
            return None
        now = self._now if now is None else now
        self._now = max(self._now, now)
        item = dataclasses.replace(item, frequency=item.frequency + 1, last_access=now)
        if self.bank is not None:
            with self.bank.write() as db:
                db.execute(
                    "UPDATE working_items SET frequency = ?, last_access = ? WHERE id = ?",
                    (item.frequency, item.last_access, item.id),
                )
        self._items[key] = item
        return item

    def remove(self, key: str) -> WorkingItem | None:
        """Forget the item under `key` (not an eviction: `on_evict` is not called); returns it, or None."""
        if key not in self._items:
            return None
        if self.bank is not None:
            with self.bank.write() as db:
                db.execute("DELETE FROM working_items WHERE key = ?", (key,))
        return self._items.pop(key)

    def clear(self) -> None:
        """Forget everything (not evictions: `on_evict` is not called). Ids keep increasing."""
        if self.bank is not None:
            with self.bank.write() as db:
                db.execute("DELETE FROM working_items")
        self._items.clear()

    # ------------------------------------------------------------------ reading (not accesses)
    def items(self) -> list[WorkingItem]:
        """All items, oldest inserted first."""
        return list(self._items.values())

    def recent(self, n: int) -> list[WorkingItem]:
        """The `n` items that happened last (by time_s, then id), newest first."""
        return heapq.nlargest(n, self._items.values(), key=lambda item: (item.time_s, item.id))

    def search(self, text_words: str | Iterable[str]) -> list[WorkingItem]:
        """Items whose text contains any of the words (whole words, case-insensitive): most words matched
        first, then the newest."""
        wanted = _words(text_words if isinstance(text_words, str) else " ".join(text_words))
        scored = [(len(wanted & _words(item.text)), item) for item in self._items.values()]
        hits = [(count, item) for count, item in scored if count > 0]
        hits.sort(key=lambda hit: (-hit[0], -hit[1].time_s, -hit[1].id))
        return [item for _, item in hits]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # ------------------------------------------------------------------ internals
    def _victims(self, count: int, now: float, position: tuple[float, float] | None) -> list[WorkingItem]:
        """The `count` items to evict, in eviction order: far ones first (radius rule), then by policy and id."""
        if count <= 0:
            return []
        items = list(self._items.values())
        priority = POLICIES[self.config.policy](items, now, self.config)
        radius = self.config.radius
        if radius is None or position is None:
            near = [True] * len(items)
        else:
            near = [item.position is None or math.dist(item.position, position) <= radius for item in items]
        order = heapq.nsmallest(count, range(len(items)), key=lambda i: (near[i], priority[i], items[i].id))
        return [items[i] for i in order]

    def _hand_over(self, evicted: list[WorkingItem]) -> None:
        if self.on_evict is not None:
            for item in evicted:
                self.on_evict(item)

    def _restore(self, bank: Bank) -> None:
        tables = bank.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'working_items'")
        if not tables and bank.readonly:
            return
        if not tables:  # the bank was opened before this module registered its schema
            with bank.write() as db:
                for statement in SCHEMA:
                    db.execute(statement)
        for row in bank.query("SELECT * FROM working_items ORDER BY id"):
            position = None if row["x"] is None else (row["x"], row["y"])
            item = WorkingItem(
                id=row["id"],
                key=row["key"],
                kind=row["kind"],
                text=row["text"],
                payload=json.loads(row["payload"]),
                time_s=row["time_s"],
                importance=row["importance"],
                frequency=row["frequency"],
                last_access=row["last_access"],
                position=position,
            )
            self._items[item.key] = item
            self._now = max(self._now, item.last_access)
        sequence = bank.query("SELECT seq FROM sqlite_sequence WHERE name = 'working_items'")
        self._next_id = (sequence[0]["seq"] if sequence else 0) + 1
        # A smaller capacity than the bank was filled with: evict down to it, as adds would have.
        evicted = self._victims(len(self._items) - self.config.capacity, self._now, None)
        if evicted and not bank.readonly:
            with bank.write() as db:
                db.executemany("DELETE FROM working_items WHERE id = ?", [(e.id,) for e in evicted])
            for victim in evicted:
                del self._items[victim.key]
            self._hand_over(evicted)


def _check(item: WorkingItem) -> None:
    if "\n" in item.text or "\r" in item.text:
        raise ValueError(f"working memory text must be one line: {item.text!r}")
    if not 0.0 <= item.importance <= 1.0:
        raise ValueError(f"importance must be in [0, 1], got {item.importance!r} for {item.key!r}")
    if item.frequency < 1:
        raise ValueError(f"frequency must be >= 1, got {item.frequency!r} for {item.key!r}")
    json.dumps(item.payload)  # a payload the bank could not store fails here, with or without a bank


def _insert(db: sqlite3.Connection, item: WorkingItem) -> None:
    x, y = item.position if item.position is not None else (None, None)
    db.execute(
        "INSERT INTO working_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item.id,
            item.key,
            item.kind,
            item.text,
            json.dumps(item.payload),
            item.time_s,
            item.importance,
            item.frequency,
            item.last_access,
            x,
            y,
        ),
    )


# How much each kind of object update matters to the agent: a change of state more than a sighting.
OBJECT_UPDATE_IMPORTANCE = {"moved": 0.8, "missing": 0.8, "new": 0.5, "seen": 0.2}


def from_object_update(update: ObjectUpdate) -> WorkingItem:
    """The working-memory item for an object map update: moves and disappearances are state changes,
    sightings are observations; keyed by object, so the object's latest state replaces the older one."""
    center = update.center if update.center is not None else update.previous_center
    where = f" at ({center[0]:.2f}, {center[1]:.2f})" if center is not None else ""
    verb = {"new": "first seen", "seen": "seen", "moved": "moved", "missing": "missing from its place"}[update.kind]
    payload: dict[str, Any] = {"object_id": update.object_id, "label": update.label, "change": update.kind}
    for name in ("previous_center", "center"):
        value = getattr(update, name)
        payload[name] = None if value is None else [float(v) for v in value]
    return WorkingItem(
        key=f"object:{update.object_id}",
        kind="state_change" if update.kind in ("moved", "missing") else "observation",
        text=f"{update.label} #{update.object_id} {verb}{where}",
        time_s=update.time_s,
        payload=payload,
        importance=OBJECT_UPDATE_IMPORTANCE[update.kind],
        position=None if center is None else (float(center[0]), float(center[1])),
    )
