"""The live map in the bank: objects, occupancy, rooms and the scene graph, saved at checkpoints.

`MapStore(bank).save(spatial, time_s)` writes a checkpoint; `MapStore(bank).restore(spatial)` puts the last one
back into a fresh `SpatialMemory`, so a new process continues with the same object ids, aliases, states, rooms,
occupancy (the same costmap, so the same A* paths) and scene graph, without one new frame.

What is saved, generically: every attribute (`vars()`) of the spatial memory and of its parts, and of each
`MapObject`. A field or attribute added to them later is saved without a change here, as long as its value is
one of: None, bool, int, float, str, bytes, list, tuple, dict, set, frozenset, numpy arrays and scalars,
networkx graphs, and dataclasses defined in mindpalace (rooms, configs, map objects). Anything else fails the
checkpoint with a TypeError naming the attribute. The OctoMap tree is saved as OctoMap's own full-probability
stream (.ot); the occupancy's costmap and frontier caches are rebuilt on demand. A restored map keeps the
configuration it was built with (a different one given now is logged): its derived state (voxel keys, the
costmap's obstacle band) was computed with it.

Not saved: the fused surface cloud (`SpatialMemory.surface`). Nothing reads it from a memory system (the
`perceive` command builds its own), and at ~40 bytes a 2 cm voxel it would be the largest part of every
checkpoint (4.2 MB after 6 s of household frames, against 2.5 MB for the octree). A restored map starts it empty.
Nor the coarse history of earlier views (`SpatialMemory.views`, ~20 KB a frame): it is evidence for telling a moved
object from one first seen late; a restored map starts with none, and identity falls back to making new records.

Tables (one checkpoint is one transaction, so a kill leaves the previous checkpoint whole):
- `map_objects (id, data, digest)`: one row per object, holding the object and its entry in every `ObjectMap`
  dict keyed by object id (such as the voxel keys), so a checkpoint rewrites only the objects that changed.
- `map_state (part, data, digest)`: "spatial" (rooms, counters), "objects" (the `ObjectMap`'s other attributes
  and the order of its dicts), "occupancy", "octree", "scene" and "checkpoint" (when, how much).
A row is rewritten only when its bytes change (compared by digest, BLAKE2b-128). The digest is stored and checked
on restore: a damaged blob is reported, never restored.

A blob is b"MPM1", the length of a JSON header, the header, then raw array bytes. The header carries the
structure, with tagged values ({"$": kind, ...}) for what JSON lacks; arrays point into the bytes. No pickle:
a bank file is data, and restoring it runs no code from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from mindpalace.memory.bank import Bank, BankError, register_schema, repair_advice

if TYPE_CHECKING:
    import pyoctomap

    from mindpalace.memory.spatial.memory import SpatialMemory

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS map_objects (id INTEGER PRIMARY KEY, data BLOB NOT NULL, digest BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS map_state (part TEXT PRIMARY KEY, data BLOB NOT NULL, digest BLOB NOT NULL)",
)
register_schema("map", SCHEMA)

FORMAT = 1
_MAGIC = b"MPM1"
_HEADER = struct.Struct("<4sI")
# The spatial memory's parts, each saved as its own row (and the one left out: see the module docstring).
PARTS = ("objects", "occupancy", "scene")
_NOT_SAVED = ("surface", "views")
# Occupancy attributes that are not state: the native tree (saved as the "octree" part) and caches.
_OCCUPANCY_SKIP = ("_tree", "_costmaps", "_frontiers", "_cached_version")


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


# ---------------------------------------------------------------------- encoding
def encode(value: Any, where: str = "value") -> bytes:
    """`value` as a blob (see the module docstring); `where` names it in errors."""
    buffers: list[bytes] = []
    header = json.dumps(_encode(value, where, buffers), separators=(",", ":")).encode()
    return _HEADER.pack(_MAGIC, len(header)) + header + b"".join(buffers)


def decode(blob: bytes) -> Any:
    """The value `encode` turned into `blob`; ValueError if it is not one."""
    if len(blob) < _HEADER.size:
        raise ValueError("not a map blob: too short")
    magic, length = _HEADER.unpack_from(blob)
    if magic != _MAGIC or _HEADER.size + length > len(blob):
        raise ValueError("not a map blob: bad magic or length")
    header = json.loads(blob[_HEADER.size : _HEADER.size + length])
    return _decode(header, memoryview(blob)[_HEADER.size + length :])


def _buffer(data: bytes, buffers: list[bytes]) -> int:
    offset = sum(len(b) for b in buffers) if buffers else 0
    buffers.append(data)
    return offset


def _encode(value: Any, where: str, buffers: list[bytes]) -> Any:
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.hasobject or array.dtype.fields is not None:
            raise TypeError(f"cannot save {where}: numpy arrays of dtype {array.dtype} are not supported")
        data = np.ascontiguousarray(array).tobytes()
        entry = {"$": "nd", "o": _buffer(data, buffers), "n": len(data), "dtype": array.dtype.str, "shape": list(array.shape)}
        if isinstance(value, np.generic):
            entry["scalar"] = True
        return entry
    if kind in (bytes, bytearray):
        return {"$": kind.__name__, "o": _buffer(bytes(value), buffers), "n": len(value)}
    if kind is list:
        return [_encode(v, f"{where}[{i}]", buffers) for i, v in enumerate(value)]
    if kind is tuple:
        return {"$": "tuple", "v": [_encode(v, f"{where}[{i}]", buffers) for i, v in enumerate(value)]}
    if kind in (set, frozenset):
        # Sorted, so that the same set gives the same bytes (and digest) in every process.
        try:
            items = sorted(value)
        except TypeError:
            items = sorted(value, key=repr)
        return {"$": kind.__name__, "v": [_encode(v, f"{where}{{}}", buffers) for v in items]}
    if kind is dict:
        if all(type(k) is str for k in value) and "$" not in value:
            return {k: _encode(v, f"{where}[{k!r}]", buffers) for k, v in value.items()}
        return {
            "$": "dict",
            "v": [[_encode(k, f"{where} key", buffers), _encode(v, f"{where}[{k!r}]", buffers)] for k, v in value.items()],
        }
    if isinstance(value, nx.Graph):
        data = nx.node_link_data(value, edges="edges")
        return {"$": "graph", "v": _encode(data, f"{where} (graph)", buffers)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and kind.__module__.startswith("mindpalace."):
        state = vars(value) if hasattr(value, "__dict__") else {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {
            "$": "dc",
            "cls": f"{kind.__module__}:{kind.__qualname__}",
            "v": {k: _encode(v, f"{where}.{k}", buffers) for k, v in state.items()},
        }
    raise TypeError(
        f"cannot save {where}: a {kind.__module__}.{kind.__qualname__} (the live map saves numbers, strings, lists, dicts, "
        "sets, numpy arrays, networkx graphs and mindpalace dataclasses)"
    )


def _decode(value: Any, data: memoryview) -> Any:
    if isinstance(value, list):
        return [_decode(v, data) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get("$")
    if tag is None:
        return {k: _decode(v, data) for k, v in value.items()}
    if tag == "nd":
        raw = data[value["o"] : value["o"] + value["n"]]
        if len(raw) != value["n"]:
            raise ValueError("an array's bytes run past the blob")
        array = np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        return array[()] if value.get("scalar") else array
    if tag in ("bytes", "bytearray"):
        content = bytes(data[value["o"] : value["o"] + value["n"]])
        return content if tag == "bytes" else bytearray(content)
    if tag == "tuple":
        return tuple(_decode(v, data) for v in value["v"])
    if tag == "set":
        return {_decode(v, data) for v in value["v"]}
    if tag == "frozenset":
        return frozenset(_decode(v, data) for v in value["v"])
    if tag == "dict":
        return {_decode(k, data): _decode(v, data) for k, v in value["v"]}
    if tag == "graph":
        return nx.node_link_graph(_decode(value["v"], data), edges="edges")
    if tag == "dc":
        return _dataclass(value["cls"], {k: _decode(v, data) for k, v in value["v"].items()})
    raise ValueError(f"unknown tag {tag!r} in a map blob")


def _dataclass(name: str, state: dict[str, Any]) -> Any:
    """A mindpalace dataclass from its saved attributes: built by its constructor (defaults fill fields added
    since), then the other attributes set (fields computed in __post_init__ get their saved values)."""
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith("mindpalace."):
        raise ValueError(f"a map blob names {name!r}, not a mindpalace class")
    cls: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"a map blob names {name!r}, which is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    try:
        obj = cls(**{k: v for k, v in state.items() if k in fields and fields[k].init})
    except TypeError as error:
        raise ValueError(f"cannot rebuild {name} from the saved map: {error}") from error
    for key, item in state.items():
        if not (key in fields and fields[key].init):
            object.__setattr__(obj, key, item)
    return obj


# ---------------------------------------------------------------------- the octree
def octree_bytes(tree: pyoctomap.OcTree) -> bytes:
    """OctoMap's full-probability (.ot) stream of `tree` (inner nodes brought up to date: inserts are lazy)."""
    tree.updateInnerOccupancy()
    data = tree.write()
    if not isinstance(data, bytes):
        raise OSError("OctoMap could not serialise the occupancy tree")
    return data


def octree_from_bytes(data: bytes) -> pyoctomap.OcTree:
    """The tree `octree_bytes` wrote. OctoMap reads only from a path: an anonymous in-memory file where the OS has
    one (nothing is written to disk, so a read-only bank stays untouched), else a temporary file."""
    import pyoctomap

    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("mindpalace-octree")
        try:
            os.write(fd, data)
            tree = pyoctomap.OcTree(0.1).read(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
    else:  # pragma: no cover - no memfd off Linux
        with tempfile.NamedTemporaryFile(suffix=".ot") as handle:
            handle.write(data)
            handle.flush()
            tree = pyoctomap.OcTree(0.1).read(handle.name)
    if tree is None or tree.getTreeType() != "OcTree":
        raise ValueError("the saved octree is not an OctoMap OcTree")
    return tree


# ---------------------------------------------------------------------- checkpoints
@dataclass(frozen=True)
class CheckpointReport:
    """What one checkpoint wrote."""

    time_s: float  # the frame clock it was taken at
    objects_written: int
    objects_deleted: int
    parts_written: tuple[str, ...]
    bytes_written: int
    seconds: float


class MapStore:
    """Checkpoints of one bank's live map. `save` writes only what changed since the last save or restore."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self._digests: dict[tuple[str, Any], bytes] = {}  # (table, key) -> digest of the row as last written or read
        self._per_object: tuple[str, ...] | None = None  # ObjectMap dicts stored with each object, as last written
        self._octree_version: tuple[int, int] | None = None  # (tree id, occupancy version) the "octree" row holds
        if not bank.readonly and not bank.has_table("map_state"):
            # A bank opened before this module registered its tables.
            with bank.write() as db:
                for statement in SCHEMA:
                    db.execute(statement)

    # ------------------------------------------------------------------ saving
    def save(self, spatial: SpatialMemory, time_s: float) -> CheckpointReport:
        """Write a checkpoint of `spatial` at frame time `time_s`, in one transaction."""
        started = time.perf_counter()
        # Bring the costmap's column state up to date (as a costmap request would): the checkpoint then holds the
        # occupied obstacle voxels, not every hit since the last request (4 MB after a day with none). The
        # projection is exact, so the costmaps that follow are the same either way.
        spatial.occupancy._project()
        objects = spatial.objects
        attributes = vars(objects)
        per_object = tuple(
            name
            for name, value in attributes.items()
            if name != "objects" and type(value) is dict and value and value.keys() <= objects.objects.keys()
        )
        # The first save of this process, or a change in which dicts ride with the objects: rewrite every object row.
        full = per_object != self._per_object or ("map_state", "checkpoint") not in self._digests
        if full:
            self._digests = {key: value for key, value in self._digests.items() if key[0] != "map_objects"}
        object_rows = []
        for object_id, obj in objects.objects.items():
            attached = {name: attributes[name][object_id] for name in per_object if object_id in attributes[name]}
            data = encode({"object": obj, "attached": attached}, f"ObjectMap.objects[{object_id}]")
            object_rows.append((object_id, data, digest(data)))
        object_rows = [row for row in object_rows if self._digests.get(("map_objects", row[0])) != row[2]]
        gone = [key[1] for key in self._digests if key[0] == "map_objects" and key[1] not in objects.objects]
        state = {name: value for name, value in attributes.items() if name != "objects" and name not in per_object}
        state["$order"] = list(objects.objects)
        state["$per_object"] = {name: list(attributes[name]) for name in per_object}
        parts = {
            "spatial": encode({k: v for k, v in vars(spatial).items() if k not in PARTS + _NOT_SAVED}, "SpatialMemory"),
            "objects": encode(state, "ObjectMap"),
            "occupancy": encode({k: v for k, v in vars(spatial.occupancy).items() if k not in _OCCUPANCY_SKIP}, "OccupancyMap"),
            "scene": encode(vars(spatial.scene), "SceneGraph"),
            "checkpoint": encode(
                {
                    "format": FORMAT,
                    "time_s": float(time_s),
                    "saved_at": time.time(),
                    "objects": len(objects.objects),
                    "occupancy_leaves": spatial.occupancy.num_leaves,
                },
                "checkpoint",
            ),
        }
        # Serialising the octree costs ~0.2 us a leaf: done only when a frame changed it since the last save.
        version = (id(spatial.occupancy.octree), spatial.occupancy._version)
        if version != self._octree_version:
            parts["octree"] = octree_bytes(spatial.occupancy.octree)
        part_rows = [(name, data, digest(data)) for name, data in parts.items()]
        part_rows = [row for row in part_rows if self._digests.get(("map_state", row[0])) != row[2]]
        with self.bank.write() as db:
            if full:
                db.execute("DELETE FROM map_objects")
            db.executemany("DELETE FROM map_objects WHERE id = ?", [(i,) for i in gone])
            db.executemany("INSERT OR REPLACE INTO map_objects VALUES (?, ?, ?)", object_rows)
            db.executemany("INSERT OR REPLACE INTO map_state VALUES (?, ?, ?)", part_rows)
        for object_id in gone:
            del self._digests[("map_objects", object_id)]
        self._digests.update({("map_objects", i): d for i, _, d in object_rows})
        self._digests.update({("map_state", name): d for name, _, d in part_rows})
        self._per_object = per_object
        self._octree_version = version
        return CheckpointReport(
            float(time_s),
            len(object_rows),
            len(gone),
            tuple(name for name, _, _ in part_rows),
            sum(len(data) for _, data, _ in object_rows + part_rows),
            time.perf_counter() - started,
        )

    # ------------------------------------------------------------------ restoring
    def checkpoint_info(self) -> dict[str, Any] | None:
        """The last checkpoint's summary (time_s, saved_at, objects, occupancy_leaves), or None if there is none."""
        if not self.bank.has_table("map_state"):
            return None
        rows = self.bank.query("SELECT data, digest FROM map_state WHERE part = 'checkpoint'")
        return self._decode_row("checkpoint", rows[0]["data"], rows[0]["digest"]) if rows else None

    def restore(self, spatial: SpatialMemory) -> dict[str, Any] | None:
        """Put the last checkpoint into `spatial` (a fresh SpatialMemory); its summary, or None if there is none."""
        info = self.checkpoint_info()
        if info is None:
            return None
        started = time.perf_counter()
        parts: dict[str, Any] = {}
        for row in self.bank.query("SELECT part, data, digest FROM map_state"):
            self._digests[("map_state", row["part"])] = bytes(row["digest"])
            if row["part"] == "octree":  # OctoMap's own stream, read below
                self._check_digest("octree", row["data"], row["digest"])
                parts["octree"] = bytes(row["data"])
            else:
                parts[row["part"]] = self._decode_row(row["part"], row["data"], row["digest"])
        missing = {"spatial", "octree", *PARTS} - parts.keys()
        if missing:
            raise self._damaged(f"the checkpoint lacks its parts {sorted(missing)}")
        saved_objects = {}
        for row in self.bank.query("SELECT id, data, digest FROM map_objects"):
            saved_objects[row["id"]] = self._decode_row(f"object {row['id']}", row["data"], row["digest"])
            self._digests[("map_objects", row["id"])] = bytes(row["digest"])
        state = parts["objects"]
        order, per_object = state.pop("$order"), state.pop("$per_object")
        if set(order) != saved_objects.keys():
            raise self._damaged(f"the checkpoint lists {len(order)} objects and holds {len(saved_objects)}")
        _apply(spatial, parts["spatial"], "SpatialMemory")
        _apply(spatial.objects, state, "ObjectMap")
        spatial.objects.objects = {i: saved_objects[i]["object"] for i in order}
        for name, ids in per_object.items():
            setattr(spatial.objects, name, {i: saved_objects[i]["attached"][name] for i in ids})
        occupancy = spatial.occupancy
        _apply(occupancy, parts["occupancy"], "OccupancyMap")
        try:
            occupancy._tree = octree_from_bytes(parts["octree"])
        except ValueError as error:
            raise self._damaged(f"the saved octree cannot be read: {error}") from error
        occupancy._costmaps, occupancy._frontiers, occupancy._cached_version = {}, None, -1
        _apply(spatial.scene, parts["scene"], "SceneGraph")
        self._per_object = tuple(per_object)
        self._octree_version = (id(occupancy.octree), occupancy._version)
        log.info(
            "%s: restored the live map of %.1f s (%d objects, %d octree leaves) in %.2f s",
            self.bank.path,
            info["time_s"],
            len(order),
            occupancy.num_leaves,
            time.perf_counter() - started,
        )
        return info

    def verify(self) -> list[str]:
        """What is wrong with the saved map (rows that fail their digest or cannot be read, objects the checkpoint
        lists but does not hold); [] when it would restore."""
        if not self.bank.has_table("map_state"):
            return []
        problems = []
        parts: dict[str, Any] = {}
        for row in self.bank.query("SELECT part, data, digest FROM map_state"):
            try:
                self._check_digest(row["part"], row["data"], row["digest"])
                parts[row["part"]] = (
                    None if row["part"] == "octree" else self._decode_row(row["part"], row["data"], row["digest"])
                )
            except BankError as error:
                problems.append(str(error))
        ids = set()
        for row in self.bank.query("SELECT id, data, digest FROM map_objects"):
            try:
                self._decode_row(f"object {row['id']}", row["data"], row["digest"])
                ids.add(row["id"])
            except BankError as error:
                problems.append(str(error))
        if parts and not problems:
            missing = {"spatial", "octree", "checkpoint", *PARTS} - parts.keys()
            if missing:
                problems.append(f"the live map's checkpoint lacks its parts {sorted(missing)}")
            elif set(parts["objects"]["$order"]) != ids:
                problems.append(f"the live map lists {len(parts['objects']['$order'])} objects and holds {len(ids)}")
        return problems

    def _check_digest(self, what: str, data: bytes, stored_digest: bytes) -> None:
        if digest(data) != bytes(stored_digest):
            raise self._damaged(f"the live map's {what} does not match its digest")

    def _decode_row(self, what: str, data: bytes, stored_digest: bytes) -> Any:
        self._check_digest(what, data, stored_digest)
        try:
            return decode(data)
        except (ValueError, KeyError, TypeError) as error:
            raise self._damaged(f"the live map's {what} cannot be read: {error}") from error

    def _damaged(self, why: str) -> BankError:
        return BankError(f"{self.bank.path}: damaged live map: {why}; {repair_advice(self.bank.path)}")


def _apply(component: Any, saved: dict[str, Any], name: str) -> None:
    """Set a component's saved attributes (all of them: one set after construction is state too); attributes
    the saved map does not have keep the values the constructor gave them."""
    current = vars(component)
    new = sorted(set(current) - set(saved) - {"objects", *PARTS, *_NOT_SAVED, *_OCCUPANCY_SKIP})
    if new:
        log.info("%s: attributes %s are not in the saved map; they keep their defaults", name, new)
    for key, value in saved.items():
        if key == "config" and value != current.get(key):
            log.warning("%s: the map was built with %r; it keeps that configuration, not the one given now", name, value)
        setattr(component, key, value)


__all__ = ["SCHEMA", "CheckpointReport", "MapStore", "decode", "encode", "octree_bytes", "octree_from_bytes"]
