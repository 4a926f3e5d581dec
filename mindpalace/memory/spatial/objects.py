"""The object map: percepts associated across frames into persistent 3D objects.

A percept joins a known object when they are close in 3D (shared voxels, or the percept within a
few centimetres of the object's box) and their labels mean the same (text-embedding similarity).
A percept that matches nothing here, but whose label matches an object that has since been seen to
be missing from its place, is that object moved: a state change, not a new object.

"Missing" is negative evidence: the object's place was in view and not hidden (the measured depth
reaches it), it would have covered enough pixels to be detected, and nothing of its kind was there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import project
from mindpalace.core.types import CameraInfo, Percept
from mindpalace.core.voxels import voxel_keys

log = logging.getLogger(__name__)


@dataclass
class ObjectMapConfig:
    voxel_size: float = 0.02  # m; the fused cloud of each object is kept at this resolution
    max_points: int = 3000  # per object, after fusion
    min_semantic_similarity: float = 0.8  # label embeddings' cosine to be the same kind of thing
    min_overlap: float = 0.15  # share of the percept's voxels already in the object
    max_gap: float = 0.05  # m; or the percept's centroid within this distance of the object's box
    moved_distance: float = 0.3  # m; an object seen again farther than this from its place has moved
    search_radius: float = 1.5  # m; only objects this close are candidates
    missing_after: int = 2  # frames with negative evidence before an object counts as missing
    occlusion_margin: float = 0.05  # m; a surface this much nearer than the object's place hides it
    min_expected_pixels: int = 60  # the object would cover at least this many pixels: small or far ones prove nothing


@dataclass
class MapObject:
    """One object as memory knows it."""

    id: int
    label: str
    embedding: NDArray[np.float32]
    points: NDArray[np.float64]
    observations: int
    first_seen: float
    last_seen: float
    confidence: float
    attributes: dict[str, str] = field(default_factory=dict)
    missing_count: int = 0
    moves: list[tuple[float, NDArray[np.float64], NDArray[np.float64]]] = field(default_factory=list)  # (time, from, to)
    source_id: int = 0  # the segmenter's id in its latest percept (a tracker's id; the sim's instance id for ground truth)
    aabb_min: NDArray[np.float64] = field(init=False)
    aabb_max: NDArray[np.float64] = field(init=False)
    center: NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        self.set_points(self.points)

    def set_points(self, points: NDArray[np.float64]) -> None:
        """Replace the fused cloud; the box and centre are kept in step with it."""
        self.points = points
        self.aabb_min = points.min(axis=0)
        self.aabb_max = points.max(axis=0)
        # The box centre: over several views it approaches the true centre better than the mean point.
        self.center = (self.aabb_min + self.aabb_max) / 2

    @property
    def centroid(self) -> NDArray[np.float64]:
        return self.points.mean(axis=0)


@dataclass(frozen=True)
class ObjectUpdate:
    """What one percept did to the map."""

    object_id: int
    kind: str  # "new", "seen", "moved" or "missing"
    label: str
    time_s: float
    previous_center: NDArray[np.float64] | None = None
    center: NDArray[np.float64] | None = None
    pixels: int = 0  # how large the percept was in its frame (0 for updates without one)


def _voxel_keys(points: NDArray[np.float64], voxel: float) -> NDArray[np.int64]:
    return np.unique(voxel_keys(points, voxel))


class ObjectMap:
    """Persistent objects built from percepts, frame by frame."""

    def __init__(self, config: ObjectMapConfig | None = None) -> None:
        self.config = config or ObjectMapConfig()
        self.objects: dict[int, MapObject] = {}
        self._keys: dict[int, NDArray[np.int64]] = {}
        self._next_id = 1
        self.aliases: dict[int, int] = {}  # id of an object folded into another -> the id it lives on as

    def resolve(self, object_id: int) -> int:
        """The id an object is known by now: events and tool results may name an id that was merged since."""
        while object_id in self.aliases:
            object_id = self.aliases[object_id]
        return object_id

    # ------------------------------------------------------------------ writing
    def integrate(self, percepts: list[Percept], time_s: float) -> list[ObjectUpdate]:
        """Associate a frame's percepts with known objects, fuse them, and report what changed."""
        updates: list[ObjectUpdate] = []
        claimed: set[int] = set()
        for percept in sorted(percepts, key=lambda p: -len(p.points)):
            match = self._match(percept, claimed)
            if match is not None:
                claimed.add(match)
                updates.append(replace(self._fuse(match, percept, time_s), pixels=percept.pixel_count))
                continue
            moved = self._missing_counterpart(percept, claimed)
            if moved is not None:
                claimed.add(moved)
                updates.append(replace(self._relocate(moved, percept, time_s), pixels=percept.pixel_count))
                continue
            new = self._add(percept, time_s)
            claimed.add(new.id)
            updates.append(ObjectUpdate(new.id, "new", new.label, time_s, None, new.center, percept.pixel_count))
        return updates

    def note_absences(
        self, percepts: list[Percept], depth: NDArray[np.float32], camera: CameraInfo, camera_pose: NDArray[np.float64]
    ) -> list[ObjectUpdate]:
        """Count, for objects whose place is in plain view, frames where no percept of their kind is there.

        Returns a "missing" update for each object that just became missing. One that was already seen at
        its new place and filed as new (the robot looked there first) is folded back: a "moved" update follows.
        """
        if not self.objects:
            return []
        ids = np.array(list(self.objects))
        objects = [self.objects[i] for i in ids]
        centers = np.stack([o.center for o in objects])
        u, v, z = project(centers, camera, camera_pose).T
        cols, rows = np.round(u).astype(np.int64), np.round(v).astype(np.int64)
        h, w = depth.shape
        in_view = (z > 0.2) & (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
        measured = np.zeros(len(ids))
        measured[in_view] = depth[rows[in_view], cols[in_view]]
        if percepts:
            similar = np.stack([o.embedding for o in objects]) @ np.stack([p.embedding for p in percepts]).T
            distance = np.linalg.norm(centers[:, None] - np.stack([p.centroid for p in percepts])[None], axis=2)
            present = np.any((similar >= self.config.min_semantic_similarity) & (distance < self.config.moved_distance), axis=1)
        else:
            present = np.zeros(len(ids), dtype=bool)
        extents = np.stack([o.aabb_max - o.aabb_min for o in objects])
        size = np.maximum(np.sort(extents, axis=1)[:, 1:].prod(axis=1), 1e-6)  # the two largest sides
        expected_pixels = camera.fx * camera.fy * size / np.maximum(z, 1e-3) ** 2
        visible = (measured > 0) & (measured >= z - np.linalg.norm(extents, axis=1) / 2 - self.config.occlusion_margin)
        absent = in_view & visible & ~present & (expected_pixels >= self.config.min_expected_pixels)
        updates = []
        for index in np.nonzero(present | absent)[0]:
            obj = objects[index]
            if present[index]:
                obj.missing_count = 0
                continue
            obj.missing_count += 1
            if obj.missing_count == self.config.missing_after:
                updates.append(ObjectUpdate(obj.id, "missing", obj.label, obj.last_seen, obj.center, None))
                newer = self._appeared_since(obj)
                if newer is not None:
                    updates.append(self.absorb(obj.id, newer))
        return updates

    def _appeared_since(self, missing: MapObject) -> int | None:
        """An object of the same kind first seen after `missing` was last seen, far from its old place."""
        candidates = [
            o
            for o in self.objects.values()
            if o.id != missing.id
            and o.first_seen >= missing.last_seen
            and o.missing_count == 0
            and float(o.embedding @ missing.embedding) >= self.config.min_semantic_similarity
            and np.linalg.norm(o.center - missing.center) > self.config.moved_distance
        ]
        return max(candidates, key=lambda o: (float(o.embedding @ missing.embedding), o.first_seen)).id if candidates else None

    def absorb(self, object_id: int, newer_id: int) -> ObjectUpdate:
        """`object_id` moved to where `newer_id` was seen: it keeps its identity and takes the newer one's place."""
        obj, newer = self.objects[object_id], self.objects.pop(newer_id)
        self._keys.pop(newer_id)
        self.aliases[newer_id] = object_id
        before = obj.center
        obj.set_points(newer.points)
        obj.observations += newer.observations
        obj.last_seen = newer.last_seen
        obj.missing_count = 0
        self._keys[object_id] = _voxel_keys(obj.points, self.config.voxel_size)
        obj.moves.append((newer.first_seen, before, obj.center))
        log.info(
            "%s #%d was seen as #%d after it moved %.2f m",
            obj.label,
            object_id,
            newer_id,
            float(np.linalg.norm(obj.center - before)),
        )
        return ObjectUpdate(object_id, "moved", obj.label, newer.first_seen, before, obj.center)

    def move(self, object_id: int, center: NDArray[np.float64], time_s: float) -> ObjectUpdate:
        """The agent knows it moved the object (it put it there) though it has not seen it there yet."""
        obj = self.objects[object_id]
        before = obj.center
        obj.set_points(obj.points + (np.asarray(center, dtype=np.float64) - before))
        obj.missing_count = 0
        self._keys[object_id] = _voxel_keys(obj.points, self.config.voxel_size)
        obj.moves.append((time_s, before, obj.center))
        return ObjectUpdate(object_id, "moved", obj.label, time_s, before, obj.center)

    def _same_kind(self, obj: MapObject, percept: Percept) -> bool:
        return float(obj.embedding @ percept.embedding) >= self.config.min_semantic_similarity

    def _match(self, percept: Percept, claimed: set[int]) -> int | None:
        """The best known object for this percept, close in 3D and alike in meaning."""
        cfg = self.config
        if not self.objects:
            return None
        ids = list(self.objects)
        objects = [self.objects[i] for i in ids]
        near = np.linalg.norm(np.stack([o.center for o in objects]) - percept.centroid, axis=1) <= cfg.search_radius
        alike = np.stack([o.embedding for o in objects]) @ percept.embedding >= cfg.min_semantic_similarity
        keys = _voxel_keys(percept.points, cfg.voxel_size)
        best, best_score = None, 0.0
        for index in np.nonzero(near & alike)[0]:
            object_id, obj = ids[index], objects[index]
            if object_id in claimed:
                continue
            overlap = len(np.intersect1d(keys, self._keys[object_id], assume_unique=True)) / max(len(keys), 1)
            gap = float(
                np.linalg.norm(np.maximum(0.0, np.maximum(obj.aabb_min - percept.centroid, percept.centroid - obj.aabb_max)))
            )
            if overlap < cfg.min_overlap and gap > cfg.max_gap:
                continue
            score = overlap + (1.0 - gap / cfg.search_radius)
            if score > best_score:
                best, best_score = object_id, score
        return best

    def _missing_counterpart(self, percept: Percept, claimed: set[int]) -> int | None:
        """A missing object of the same kind, farther than `moved_distance`: this percept is it, moved."""
        candidates = [
            obj
            for obj in self.objects.values()
            if obj.id not in claimed
            and obj.missing_count >= self.config.missing_after
            and self._same_kind(obj, percept)
            and np.linalg.norm(obj.center - percept.centroid) > self.config.moved_distance
        ]
        if not candidates:
            return None
        # The most similar label first, then the one missing longest.
        return max(candidates, key=lambda o: (float(o.embedding @ percept.embedding), o.missing_count)).id

    def _compact(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """One point per voxel (the first), evenly thinned to at most `max_points`."""
        _, first = np.unique(voxel_keys(points, self.config.voxel_size), return_index=True)
        points = points[np.sort(first)]
        if len(points) > self.config.max_points:
            points = points[np.linspace(0, len(points) - 1, self.config.max_points).astype(int)]
        return points

    def _add(self, percept: Percept, time_s: float) -> MapObject:
        obj = MapObject(
            self._next_id,
            percept.label,
            percept.embedding,
            self._compact(percept.points),
            1,
            time_s,
            time_s,
            percept.confidence,
            dict(percept.attributes),
            source_id=percept.source_id,
        )
        self._next_id += 1
        self.objects[obj.id] = obj
        self._keys[obj.id] = _voxel_keys(obj.points, self.config.voxel_size)
        return obj

    def _fuse(self, object_id: int, percept: Percept, time_s: float) -> ObjectUpdate:
        obj = self.objects[object_id]
        before = obj.center
        obj.set_points(self._compact(np.concatenate([obj.points, percept.points])))
        obj.observations += 1
        obj.last_seen = time_s
        obj.missing_count = 0
        # A running mean of detector scores, discounted until the object has been seen a few times.
        obj.confidence += (percept.confidence - obj.confidence) / obj.observations
        obj.attributes.update(percept.attributes)
        obj.source_id = percept.source_id or obj.source_id
        self._keys[object_id] = _voxel_keys(obj.points, self.config.voxel_size)
        self._merge_duplicates(object_id)
        return ObjectUpdate(object_id, "seen", obj.label, time_s, before, obj.center)

    def _merge_duplicates(self, object_id: int) -> None:
        """Fold in objects of the same kind that the grown object now touches: partial early views of it."""
        obj = self.objects[object_id]
        for other in list(self.objects.values()):
            if other.id == object_id or float(other.embedding @ obj.embedding) < self.config.min_semantic_similarity:
                continue
            gap = np.maximum(0.0, np.maximum(obj.aabb_min - other.aabb_max, other.aabb_min - obj.aabb_max))
            if np.linalg.norm(gap) > self.config.max_gap / 2:
                continue
            self.objects.pop(other.id)
            self._keys.pop(other.id)
            self.aliases[other.id] = object_id
            obj.set_points(self._compact(np.concatenate([obj.points, other.points])))
            obj.observations += other.observations
            obj.first_seen = min(obj.first_seen, other.first_seen)
            obj.moves.extend(other.moves)
            self._keys[object_id] = _voxel_keys(obj.points, self.config.voxel_size)
            log.debug("merged %s #%d into #%d", other.label, other.id, object_id)

    def _relocate(self, object_id: int, percept: Percept, time_s: float) -> ObjectUpdate:
        obj = self.objects[object_id]
        before = obj.center
        obj.set_points(self._compact(percept.points))
        obj.observations += 1
        obj.last_seen = time_s
        obj.missing_count = 0
        obj.source_id = percept.source_id or obj.source_id
        self._keys[object_id] = _voxel_keys(obj.points, self.config.voxel_size)
        obj.moves.append((time_s, before, obj.center))
        log.info("%s #%d moved %.2f m", obj.label, object_id, float(np.linalg.norm(obj.center - before)))
        return ObjectUpdate(object_id, "moved", obj.label, time_s, before, obj.center)

    # ------------------------------------------------------------------ reading
    def within(self, center: NDArray[np.float64], radius: float) -> list[MapObject]:
        return [o for o in self.objects.values() if np.linalg.norm(o.center - center) <= radius]

    def score(self, object_id: int) -> float:
        """Confidence that the object is real: detector score, growing with repeated observations."""
        obj = self.objects[object_id]
        return float(obj.confidence * (1.0 - np.exp(-obj.observations / 2.0)))
