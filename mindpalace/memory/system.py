"""The multi-memory system: every store of one memory bank, written together and queried in parallel.

memory = MemorySystem.open("runs/bank.db", preset="mindpalace")   # day 1
memory.observe(obs, frame)            # perception -> spatial map, object records, snapshots, working memory
memory.record_event(event)            # what the agent did
memory.tell("this mug is Alice's", time_s=..., grounding={"this mug": "object:12"})
items = memory.retrieve([ObjectQuery("mug"), TextQuery("breakfast")])
memory.close()
memory = MemorySystem.open("runs/bank.db")                        # day 2, another process: all of it is back
"""

from __future__ import annotations

import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.core.embedder import EMBEDDERS, Embedder
from mindpalace.core.frame_checks import (
    check_camera,
    check_depth_array,
    check_depth_units,
    check_observation,
    check_points,
    check_pose,
    check_time,
)
from mindpalace.core.types import Event, Observation
from mindpalace.memory.bank import Bank, BankError, repair_advice
from mindpalace.memory.clock import ClockStore
from mindpalace.memory.episodic import EpisodicStore, SnapshotSelector
from mindpalace.memory.objects_store import ObjectStore
from mindpalace.memory.presets import MemoryConfig, preset
from mindpalace.memory.retrieval import (
    FactQuery,
    MemoryItem,
    ObjectQuery,
    OrderQuery,
    PlaceQuery,
    Query,
    TextQuery,
    TimeQuery,
    build_context,
    fuse,
)
from mindpalace.memory.semantic import SemanticStore, parse_statement
from mindpalace.memory.spatial.persistence import CheckpointReport, MapStore
from mindpalace.memory.vector_index import VectorIndex
from mindpalace.memory.working import WorkingItem, WorkingMemory

log = logging.getLogger(__name__)

KIND_CODES = {"event": 1, "fact": 2, "object": 3}
_ID_BITS = 40


def vector_id(kind: str, item_id: int) -> int:
    """One id space for the text index across stores."""
    return (KIND_CODES[kind] << _ID_BITS) | int(item_id)


def split_vector_id(global_id: int) -> tuple[str, int]:
    code = int(global_id) >> _ID_BITS
    kind = next(k for k, c in KIND_CODES.items() if c == code)
    return kind, int(global_id) & ((1 << _ID_BITS) - 1)


@dataclass
class ForgetReport:
    """What forgetting removed, per store, and what it kept because something pinned refers to it."""

    removed: dict[str, int]
    kept_pinned: int
    items_before: int
    items_after: int
    bytes_before: int
    bytes_after: int


class MemorySystem:
    """All stores of one bank. Open it with `MemorySystem.open(path, preset=...)`.

    The live map (spatial memory) is saved in the bank at checkpoints: every `checkpoint_every_s` seconds of the
    frame clock (`obs.time_s`, so a replay checkpoints at the same frames), on `checkpoint()` and on `close()`;
    `open` restores the last one. A kill loses at most the frames since the last checkpoint.
    """

    def __init__(
        self, bank: Bank, config: MemoryConfig, embedder: Embedder | None = None, checkpoint_every_s: float | None = 30.0
    ) -> None:
        if checkpoint_every_s is not None and not checkpoint_every_s >= 0:
            raise ValueError(f"checkpoint_every_s must be >= 0 seconds or None, got {checkpoint_every_s!r}")
        self.bank = bank
        self.config = config
        self.events = EpisodicStore(bank)
        self.clock = ClockStore(bank)
        self.snapshots = SnapshotSelector(self.events) if config.snapshots else None
        self.objects = ObjectStore(bank)
        self.facts = SemanticStore(bank)
        self.working = WorkingMemory(config.working, bank=bank, on_evict=self._consolidate)
        self.vectors = VectorIndex(bank) if config.text_index else None
        self._embedder = embedder
        self._pending_vectors: list[tuple[str, int, str]] = []
        self._pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="memory-query")
        self.checkpoint_every_s = checkpoint_every_s
        self.checkpoint_count = 0  # checkpoints written by this process, and their time
        self.checkpoint_seconds = 0.0
        self.last_checkpoint: CheckpointReport | None = None
        self.map_time_s: float | None = None  # the frame time of the map's last checkpoint (restored or written)
        self._frame_s: float | None = None  # the latest frame's time
        self._checkpoint_clock: float | None = None  # the frame time the checkpoint interval counts from
        self.spatial = None
        self.map_store = None
        if config.spatial:
            from mindpalace.memory.spatial.memory import SpatialMemory

            self.spatial = SpatialMemory()
            self.map_store = MapStore(bank)
            restored = self.map_store.restore(self.spatial)
            if restored is not None:
                self.map_time_s = self._checkpoint_clock = restored["time_s"]
        self._last_object_write: dict[int, float] = {}

    @classmethod
    def open(
        cls,
        path: str | Path,
        preset_name: str | None = None,
        embedder: Embedder | None = None,
        *,
        read_only: bool = False,
        checkpoint_every_s: float | None = 30.0,
        check: str = "auto",
        **overrides: Any,
    ) -> MemorySystem:
        """Open (or create) the bank at `path`, with its live map as last saved. The preset is stored in the bank
        and reused when not given.

        `read_only=True` writes nothing (no -wal/-shm files, no index file, no re-embedding; it works on a read-only
        file or folder): texts a writer left unembedded are counted in `stats()["vectors_pending"]`, not embedded.
        `checkpoint_every_s`: the live map's checkpoint interval on the frame clock (None: only on `checkpoint()`
        and `close()`). `check`: how much of the file is verified on open (see `Bank`).
        """
        bank = Bank(path, create=not read_only, readonly=read_only, check=check)
        try:
            stored = bank.meta().get("preset")
            name = preset_name or stored or "mindpalace"
            if stored and preset_name and stored != preset_name:
                log.warning("%s was written with preset %r; opening it as %r", path, stored, preset_name)
            if stored is None and not read_only:
                bank.set_meta("preset", name)
            system = cls(bank, preset(name, **overrides), embedder, checkpoint_every_s)
        except BaseException:
            bank.close()
            raise
        if not read_only:
            system._index_unembedded()
        return system

    def close(self) -> None:
        """Embed what is pending, save the text index and a last checkpoint of the map, and close the bank."""
        if not self.bank.readonly:
            self.flush()
            if self.vectors is not None:
                self.vectors.save()
            self.checkpoint()
        self._pool.shutdown(wait=True)
        self.bank.close()

    def checkpoint(self, time_s: float | None = None) -> CheckpointReport | None:
        """Save the live map now, in one transaction (only what changed since the last checkpoint).

        `time_s` is the frame time it stands for (default: the latest frame's). None for a memory without a
        spatial map or opened read-only.
        """
        if self.map_store is None or self.spatial is None or self.bank.readonly:
            return None
        if time_s is None:
            time_s = self._frame_s if self._frame_s is not None else (self.map_time_s or 0.0)
        report = self.map_store.save(self.spatial, time_s)
        self.map_time_s = self._checkpoint_clock = report.time_s
        self.checkpoint_count += 1
        self.checkpoint_seconds += report.seconds
        self.last_checkpoint = report
        return report

    def _checkpoint_if_due(self, time_s: float) -> None:
        self._frame_s = time_s
        if self.checkpoint_every_s is None or self.bank.readonly:
            return
        if self._checkpoint_clock is None or time_s < self._checkpoint_clock:
            if self._checkpoint_clock is not None:
                log.info(
                    "the frame clock went back (%.1f s after %.1f s): the checkpoint interval counts anew",
                    time_s,
                    self._checkpoint_clock,
                )
            self._checkpoint_clock = time_s
        if time_s - self._checkpoint_clock >= self.checkpoint_every_s:
            self.checkpoint(time_s)

    def __enter__(self) -> MemorySystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ embeddings
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = EMBEDDERS.make(self.config.embedder)
        return self._embedder

    def _queue_text(self, kind: str, item_id: int, text: str) -> None:
        if self.vectors is not None and text:
            self._pending_vectors.append((kind, item_id, text))

    def flush(self) -> int:
        """Embed and index the texts written since the last flush (batched: a model call per batch, not per write)."""
        if self.vectors is None or not self._pending_vectors:
            return 0
        pending, self._pending_vectors = self._pending_vectors, []
        vectors = self.embedder.embed([text for _, _, text in pending])
        self.vectors.add([vector_id(kind, item_id) for kind, item_id, _ in pending], [kind for kind, _, _ in pending], vectors)
        return len(pending)

    def _unembedded_count(self) -> int:
        """Texts without a vector (a writer stopped before embedding them), counted in SQL without loading them."""
        if self.vectors is None:
            return 0
        if not self.bank.readonly:
            return len(self._pending_vectors)
        total = 0
        for kind, table, column in (("event", "events", "text"), ("fact", "facts", "text"), ("object", "objects", "label")):
            if self.bank.has_table(table):
                total += self.bank.query(
                    f"SELECT COUNT(*) FROM {table} t WHERE t.{column} != '' AND NOT EXISTS "
                    "(SELECT 1 FROM vectors v WHERE v.id = ((? << ?) | t.id))",
                    (KIND_CODES[kind], _ID_BITS),
                )[0][0]
        return total

    def _index_unembedded(self) -> None:
        """After a crash, texts written but not yet embedded are queued again: the rows above the largest embedded id of
        their kind.

        Ids only grow (events autoincrement, a fact takes the next rowid, objects the map's next id) and `flush` embeds
        everything pending in one transaction, so the rows written since the last flush are exactly those. Opening thus
        reads a few index pages, not every row and vector id of the bank: that scan read 740 MB and took 46 s at 10^6
        items (cold, on a shared machine).
        """
        if self.vectors is None:
            return
        for kind, sql in (
            ("event", "SELECT id, text FROM events WHERE id > ?"),
            ("fact", "SELECT id, text FROM facts WHERE id > ?"),
            ("object", "SELECT id, label FROM objects WHERE id > ?"),
        ):
            top = self.bank.query(
                "SELECT MAX(id) FROM vectors WHERE id BETWEEN ? AND ?", (vector_id(kind, 0), vector_id(kind, (1 << _ID_BITS) - 1))
            )[0][0]
            for row in self.bank.query(sql, (0 if top is None else split_vector_id(top)[1],)):
                if row[1]:
                    self._pending_vectors.append((kind, int(row[0]), str(row[1]).replace("_", " ")))

    # ------------------------------------------------------------------ writing
    def observe(
        self, obs: Observation, frame: Any, gripper: np.ndarray | None = None, hold_radius: float | None = None
    ) -> list[Any]:
        """File one perceived frame: the clock, the spatial map, object records (new, moved, missing), snapshots, working memory.

        What lies within `hold_radius` of the `gripper` (world xyz) is what the robot holds (default: the spatial config's).
        A bad frame (a non-finite time, a pose that is not rigid, an rgb image that is not (H, W, 3) uint8, ...)
        raises `FrameError` naming the field before any store is touched.
        """
        check_frame_input(obs, frame, gripper)
        if obs.time_of_day_s is not None:
            self.clock.observe(obs.time_s, obs.time_of_day_s, obs.day)
        if self.spatial is None:
            return []
        updates = self.spatial.update(frame, gripper=gripper, hold_radius=hold_radius)
        for update in updates:
            obj = self.spatial.objects.objects.get(update.object_id)
            if obj is None:
                continue
            room = self._room_of(obj.center)
            # Sightings of a known object are written at most every 10 s; changes always.
            due = update.time_s - self._last_object_write.get(update.object_id, -math.inf) >= 10.0
            if update.kind in ("new", "moved", "missing") or due:
                self.remember_object(
                    update.object_id,
                    obj.label,
                    tuple(obj.center),
                    update.time_s,
                    room=room,
                    attributes=obj.attributes,
                    observations=obj.observations,
                    confidence=obj.confidence,
                    change=update.kind if update.kind != "seen" else None,
                )
            if update.kind in ("new", "moved", "missing") and "state_change" in self.config.working_kinds:
                verb = {"new": "saw", "moved": "saw that it moved:", "missing": "noticed missing:"}[update.kind]
                self.working.add(
                    WorkingItem(
                        key=f"object:{update.object_id}",
                        kind="state_change",
                        text=f"{verb} {obj.label.replace('_', ' ')} #{update.object_id} in the {room or 'house'}",
                        time_s=update.time_s,
                        payload={"object_id": update.object_id, "change": update.kind},
                        importance=0.8 if update.kind != "new" else 0.5,
                        position=(float(obj.center[0]), float(obj.center[1])),
                    ),
                    now=update.time_s,
                    position=(float(obs.base_pose[0, 3]), float(obs.base_pose[1, 3])),
                )
        if self.snapshots is not None:
            visible = {u.object_id: u.pixels for u in updates if u.kind in ("new", "seen", "moved") and u.pixels}
            if visible:
                self.snapshots.consider(obs.time_s, obs.camera_pose, obs.rgb, visible)
        self._checkpoint_if_due(obs.time_s)
        return updates

    def _room_of(self, center: np.ndarray) -> str | None:
        if self.spatial is None:
            return None
        room = next((r for r in self.spatial.rooms if r.contains(float(center[0]), float(center[1]))), None)
        return room.name if room else None

    def remember_object(
        self,
        object_id: int,
        label: str,
        position: tuple[float, float, float],
        time_s: float,
        *,
        room: str | None = None,
        attributes: dict[str, str] | None = None,
        observations: int = 1,
        confidence: float = 1.0,
        change: str | None = None,
    ) -> None:
        """Record an object in long-term memory (from perception, or any other source such as a ROS node)."""
        if not self.config.objects:
            return
        known = self.objects.get(object_id) is not None
        self.objects.upsert(
            object_id,
            label,
            position,
            time_s,
            attributes=attributes,
            room=room,
            observations=observations,
            confidence=confidence,
            change=change,
        )
        self._last_object_write[object_id] = time_s
        if not known:
            words = [attributes[k] for k in ("color", "material") if attributes and k in attributes]
            self._queue_text("object", object_id, f"{' '.join([*words, label.replace('_', ' ')])} in the {room or 'house'}")

    def record_event(self, event: Event, x: float | None = None, y: float | None = None, importance: float = 0.5) -> int:
        """Append to the timeline (acknowledged on return) and to working memory."""
        if not self.config.events:
            return 0
        text = describe_event(event)
        event_id = self.events.add_event(event, x=x, y=y, importance=importance, text=text)
        self._queue_text("event", event_id, text)
        if "event" in self.config.working_kinds:
            place = (float(x), float(y)) if x is not None and y is not None else None
            self.working.add(
                WorkingItem(
                    key=f"event:{event_id}",
                    kind="event",
                    text=text,
                    time_s=event.end_s,
                    payload={"event_id": event_id},
                    importance=importance,
                    position=place,
                ),
                now=event.end_s,
                position=place,
            )
        return event_id

    def tell(
        self, text: str, time_s: float, speaker: str = "user", grounding: dict[str, str] | None = None, pinned: bool = False
    ) -> list[Any]:
        """Store what a person says ("this mug is Alice's").

        `grounding` maps phrases like "this mug" to what they refer to ("object:12"); an ungrounded "this" is not stored.
        """
        if not self.config.semantic:
            return []
        stored = []
        for parsed in parse_statement(text, speaker=speaker):
            subject = (grounding or {}).get(parsed.subject, parsed.subject)
            if parsed.needs_grounding and subject == parsed.subject:
                log.warning(
                    "%r: cannot tell what %r refers to; not stored (pass grounding={%r: 'object:<id>'})",
                    text,
                    parsed.subject,
                    parsed.subject,
                )
                continue
            record = self.facts.assert_fact(
                subject, parsed.predicate, parsed.object, time_s=time_s, source=speaker, pinned=pinned, text=text
            )
            self._queue_text("fact", record.id, text)
            stored.append(record)
            if "fact" in self.config.working_kinds:
                self.working.add(
                    WorkingItem(
                        key=f"fact:{record.id}",
                        kind="fact",
                        text=" ".join(text.split()),
                        time_s=time_s,
                        payload={"fact_id": record.id},
                        importance=0.9,
                    ),
                    now=time_s,
                )
        return stored

    def set_state(self, object_id: int, state: str, time_s: float) -> None:
        """A state the agent knows from its own actions (held, open, closed)."""
        if self.spatial is not None:
            self.spatial.set_state(object_id, state)
        if self.objects.get(object_id) is not None:
            self.objects.set_state(object_id, state, time_s)

    def _consolidate(self, item: WorkingItem) -> None:
        """Evicted from working memory: what it said is already in long-term stores; keep the access count."""
        store, _, raw_id = item.key.partition(":")
        if store == "object" and raw_id.isdigit():
            self.objects.touch([int(raw_id)], item.last_access)

    # ------------------------------------------------------------------ reading
    def retrieve(self, queries: list[Query], k: int = 20) -> list[MemoryItem]:
        """Run every query on its own thread (its own read connection), then fuse the results by rank."""
        if any(isinstance(q, TextQuery) for q in queries):
            self.flush()
        results = list(self._pool.map(self._run_query, queries))
        return fuse(results)[:k]

    def _run_query(self, query: Query) -> list[MemoryItem]:
        if isinstance(query, TextQuery):
            return self._text(query)
        if isinstance(query, ObjectQuery):
            return self._objects(query)
        if isinstance(query, PlaceQuery):
            records = self.objects.near(query.x, query.y, query.radius, query.k)
            events = self.events.events_near(query.x, query.y, query.radius, query.k) if self.config.events else []
            return [object_item(r) for r in records] + [event_item(e) for e in events]
        if isinstance(query, TimeQuery):
            events = self.events.events_between(query.t0, query.t1, query.k) if self.config.events else []
            changes = self.objects.changes(query.t0, query.t1, limit=query.k)
            return [event_item(e) for e in events] + [change_item(c) for c in changes]
        if isinstance(query, OrderQuery):
            return self._order(query)
        if isinstance(query, FactQuery):
            return [fact_item(f) for f in self.facts.facts_about(query.subject, at_time=query.at_time)[: query.k]]
        raise TypeError(f"not a memory query: {query!r}")

    def _text(self, query: TextQuery) -> list[MemoryItem]:
        if self.vectors is None:
            return []
        vector = self.embedder.embed([query.text])[0]
        hits = self.vectors.search(vector, query.k, kinds=set(query.kinds))
        items = []
        for global_id, score in hits:
            kind, item_id = split_vector_id(global_id)
            item = self._load(kind, item_id)
            if item is not None:
                item.score = float(score)
                items.append(item)
        return items

    def _objects(self, query: ObjectQuery) -> list[MemoryItem]:
        if query.object_id is not None:
            record = self.objects.get(query.object_id)
            return [object_item(record)] if record else []
        return [object_item(r) for r in self.objects.find(query.label, query.room, dict(query.attributes), query.k)]

    def _order(self, query: OrderQuery) -> list[MemoryItem]:
        if not self.config.events:
            return []
        if query.which == "longest":
            return [event_item(e) for e in self.events.longest_events(query.k)]
        find = self.events.first_event if query.which == "first" else self.events.last_event
        event = find(action=query.action, object_id=query.object_id, after=query.after)
        return [event_item(event)] if event else []

    def _load(self, kind: str, item_id: int) -> MemoryItem | None:
        if kind == "object":
            record = self.objects.get(item_id)
            return object_item(record) if record else None
        if kind == "event":
            event = self.events.get(item_id)
            return event_item(event) if event else None
        fact = self.facts.get(item_id)
        return fact_item(fact) if fact else None

    def context(self, task: str, budget_tokens: int = 400, queries: list[Query] | None = None) -> tuple[str, list[MemoryItem]]:
        """The memory context for a task: its own queries (or meaning, mentioned objects and recent changes) in a budget."""
        if queries is None:
            queries = [TextQuery(task)] if self.vectors is not None else []
            queries += [ObjectQuery(label) for label in self.mentioned_labels(task)]
        items = self.retrieve(queries, k=50) if queries else []
        # What the task is about first; recent changes fill what budget is left.
        recent = [MemoryItem(f"working:{w.key}", "recent", w.text, w.time_s) for w in self.working.recent(10)]
        return build_context(items + recent, budget_tokens)

    def mentioned_labels(self, text: str) -> list[str]:
        """Object labels the bank knows that the text mentions ("the red mug" -> "mug")."""
        words = " " + " ".join(re.sub(r"[^\w\s]", " ", text.lower()).replace("_", " ").split()) + " "
        labels = [r[0] for r in self.bank.query("SELECT DISTINCT label FROM objects")]
        return [label for label in labels if f" {label.replace('_', ' ')} " in words or f" {label.replace('_', ' ')}s " in words]

    # ------------------------------------------------------------------ budget
    def stats(self) -> dict[str, Any]:
        """Counts and sizes of each store; `map_objects` and `occupancy_voxels` (octree leaves) are the live map's."""
        return {
            "path": str(self.bank.path),
            "preset": self.config.preset,
            "schema_version": self.bank.schema_version,
            "read_only": self.bank.readonly,
            "clean_shutdown": self.bank.last_shutdown_clean,
            "objects": self.objects.count(),
            "events": self.events.count(),
            "snapshots": self.events.snapshot_count(),
            "facts": self.facts.count(),
            "working": len(self.working),
            "vectors": self.vectors.stored_count() if self.vectors is not None else 0,
            "vectors_pending": self._unembedded_count(),
            "vector_index": self.vectors.status() if self.vectors is not None else "none",
            "map_objects": len(self.spatial.objects.objects) if self.spatial is not None else 0,
            "occupancy_voxels": self.spatial.occupancy.num_leaves if self.spatial is not None else 0,
            "map_checkpoint_s": self.map_time_s,
            "bytes": self.bank.size_bytes(),
        }

    def forget(self, budget_items: int | None = None, budget_bytes: int | None = None, now: float | None = None) -> ForgetReport:
        """Drop the least valuable events, snapshots and facts until the bank is within budget.

        Value = importance, recency of use and frequency of use. Pinned items, and objects or events a pinned
        fact refers to, are never dropped.
        """
        budget_items = budget_items or self.config.budget_items
        budget_bytes = budget_bytes or self.config.budget_bytes
        now = time.time() if now is None else now
        before_items = self._item_count()
        before_bytes = self.bank.size_bytes()
        protected = self.facts.pinned_references()
        removed: dict[str, int] = {"event": 0, "snapshot": 0, "fact": 0}
        while self._item_count() > budget_items or self._payload_bytes() > budget_bytes:
            candidates = self._forgetting_candidates(now, protected, limit=2000)
            if not candidates:
                break
            over_items = self._item_count() - budget_items
            over_bytes = self._payload_bytes() - budget_bytes
            chosen, freed = [], 0
            for kind, item_id, size, _ in candidates:
                chosen.append((kind, item_id))
                freed += size
                if len(chosen) >= over_items and freed >= over_bytes:
                    break
            for kind in ("event", "snapshot", "fact"):
                ids = [i for k, i in chosen if k == kind]
                if not ids:
                    continue
                deleted = {"event": self.events.delete, "snapshot": self.events.delete_snapshots, "fact": self.facts.delete}[
                    kind
                ](ids)
                removed[kind] += int(deleted or 0)
                if self.vectors is not None and kind in KIND_CODES:
                    self.vectors.remove([vector_id(kind, i) for i in ids])
        self.bank.checkpoint()
        kept_pinned = sum(len(ids) for ids in protected.values())
        return ForgetReport(removed, kept_pinned, before_items, self._item_count(), before_bytes, self.bank.size_bytes())

    def _item_count(self) -> int:
        return self.events.count() + self.events.snapshot_count() + self.facts.count() + self.objects.count()

    def _payload_bytes(self) -> int:
        rows = self.bank.query(
            "SELECT (SELECT COALESCE(SUM(size_bytes), 0) FROM events) + (SELECT COALESCE(SUM(size_bytes), 0) FROM snapshots)"
            " + (SELECT COALESCE(SUM(size_bytes), 0) FROM facts) + (SELECT COALESCE(SUM(size_bytes), 0) FROM objects)"
        )
        return int(rows[0][0])

    def _forgetting_candidates(self, now: float, protected: dict[str, set[int]], limit: int) -> list[tuple[str, int, int, float]]:
        """(kind, id, bytes, value), least valuable first; never pinned or protected items."""
        rows = []
        for kind, table in (("event", "events"), ("snapshot", "snapshots"), ("fact", "facts")):
            for row in self.bank.query(
                f"SELECT id, size_bytes, importance, access_count, COALESCE(last_access, 0) AS last_access FROM {table} "
                f"WHERE pinned = 0 ORDER BY importance, access_count, id LIMIT ?",
                (limit,),
            ):
                if row["id"] in protected.get(kind, set()):
                    continue
                recency = math.exp(-max(now - row["last_access"], 0.0) / 86400.0) if row["last_access"] else 0.0
                value = 0.5 * row["importance"] + 0.3 * recency + 0.2 * math.log1p(row["access_count"]) / math.log(100)
                rows.append((kind, int(row["id"]), int(row["size_bytes"] or 0), value))
        rows.sort(key=lambda r: (r[3], r[1]))
        return rows

    def export(self) -> dict[str, Any]:
        """Everything in the bank as JSON-ready data (images left out).

        The whole file is checked first (SQLite's integrity_check): a damaged index can return wrong rows without
        an error, and an export must hold only what the bank holds. Damage raises BankError.
        """
        problems = self.bank.integrity_check()
        if problems:
            raise BankError(f"{self.bank.path}: damaged database ({'; '.join(problems[:3])}); {repair_advice(self.bank.path)}")
        return {
            "stats": self.stats(),
            "objects": [asdict(r) for r in self.objects.find(limit=10**9)],
            "events": [asdict(e) for e in self.events.events_between(-math.inf, math.inf, 10**9)],
            "facts": [asdict(f) for f in self.facts.all_facts()],
            "working": [asdict(w) for w in self.working.items()],
        }


def check_frame_input(obs: Observation, frame: Any, gripper: np.ndarray | None) -> None:
    """FrameError naming the first field of a frame `observe` cannot file whole (see `core.frame_checks`)."""
    check_observation(obs)
    check_time(frame.time_s, "frame.time_s")
    check_pose(frame.camera_pose, "frame.camera_pose")
    # Negative evidence reads the frame's depth: millimetres there would mark every known object missing.
    check_depth_array(frame.depth, obs.depth.shape, "frame.depth")
    check_depth_units(frame.depth)
    check_camera(frame.camera, frame.depth.shape)
    check_points(frame.depth_points, "frame.depth_points")
    check_points(np.reshape(frame.origin, (1, -1)), "frame.origin")
    for percept in frame.percepts:
        check_points(percept.points, f"the points of percept {percept.label!r}")
        check_points(np.reshape(percept.centroid, (1, -1)), f"the centroid of percept {percept.label!r}")
    if gripper is not None:
        check_points(np.reshape(gripper, (1, -1)), "gripper")


def describe_event(event: Event) -> str:
    args = ", ".join(f"{k}={v}" for k, v in event.arguments.items())
    outcome = "" if event.success else f" (failed: {event.reason})"
    where = f" in the {event.place}" if event.place else ""
    return f"{event.actor} {event.action}({args}){where} at {event.start_s:.0f}s{outcome}"


def object_item(record: Any) -> MemoryItem:
    return MemoryItem(f"object:{record.id}", "object", record.describe(), record.last_seen, data=asdict(record))


def event_item(event: Any) -> MemoryItem:
    return MemoryItem(f"event:{event.id}", "event", event.text, event.start_s, data=asdict(event))


def fact_item(fact: Any) -> MemoryItem:
    text = fact.text or f"{fact.subject} {fact.predicate.replace('_', ' ')} {fact.object}"
    return MemoryItem(f"fact:{fact.id}", "fact", text, fact.recorded_at, data=asdict(fact))


def change_item(change: Any) -> MemoryItem:
    where = f" in the {change.room}" if change.room else ""
    text = f"{change.label.replace('_', ' ')} #{change.object_id} {change.kind}{where} at {change.time_s:.0f}s"
    if change.kind == "state":
        text = f"{change.label.replace('_', ' ')} #{change.object_id} became {change.detail} at {change.time_s:.0f}s"
    return MemoryItem(f"change:{change.object_id}:{change.time_s}", "change", text, change.time_s, data=asdict(change))


__all__ = ["ForgetReport", "MemorySystem", "describe_event"]
