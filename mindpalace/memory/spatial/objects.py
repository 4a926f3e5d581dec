"""The object map: percepts associated across frames into persistent 3D objects, each keeping one identity.

Identity rests on cues that hold for any segmenter (ground truth, open-vocabulary or class-agnostic):

- Same kind: the labels' text embeddings agree (cosine >= `min_semantic_similarity`).
- Close in 3D: the percept shares voxels with the object, or its centroid touches the object's box, or its
  box contains the object's box (a fuller view: a drawer pulled out shows its front and its tray).
- One frame, one object per percept: each frame's percepts are assigned to objects one to one, best score
  first. Objects that took separate percepts of one frame were *seen apart*: they are never folded into one
  another afterwards (stacked drawers and double doors are seen side by side, so they stay two).
- Extent: two objects are folded into one only when one's box has grown over most of the other's (the
  partial early view of an object seen whole since); merely touching is not enough.
- Negative evidence: depth that reaches beyond a stored point shows that point is empty now. A fused object
  drops the points the frame sees through, so its shape follows a drawer that opens or a door that swings.
  An object whose place the frame sees through (empty) is the unmatched percept of its kind within
  `max_shift` (moved in view). An object seen missing from its place for `missing_after` frames is the next
  unmatched percept of its kind anywhere (moved while the robot was away), or the object of its kind that
  was first seen elsewhere since (folded back, keeping the older id). Earlier views decide (`ViewHistory.evidence`):
  a percept where they saw something stand is another object of the kind, there all along; an object first seen
  before the other went missing is folded back only where they saw its place empty (it arrived).
- Colour: among several candidates of one kind, the one whose colour (median RGB under its masks) is closest.
- In the hand: a percept that comes into the robot's hand (`held`, kept out of the map) is the object of its kind
  that lay within `reach` of it (the robot picked it up); the hand carries it on. Once the hand has carried it more
  than `moved_distance`, the first unmatched percept of its kind within `reach` of where the hand last held it is
  that object, put down: it keeps its record even when its old place is never seen empty again (small or flat objects give little
  negative evidence). Something the hand only passed near does not travel with it, so it is not carried.

A segmenter's own id (`source_id`, a tracker's id) is kept on each object for reference but is not an
association cue: a class-agnostic segmenter has none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import project
from mindpalace.core.types import CameraInfo, Percept
from mindpalace.core.voxels import voxel_keys

if TYPE_CHECKING:
    from mindpalace.memory.spatial.view_history import Evidence, ViewHistory

log = logging.getLogger(__name__)


@dataclass
class ObjectMapConfig:
    voxel_size: float = 0.02  # m; the fused cloud of each object is kept at this resolution
    max_points: int = 3000  # per object, after fusion
    min_semantic_similarity: float = 0.8  # label embeddings' cosine to be the same kind of thing
    min_overlap: float = 0.15  # share of the percept's voxels already in the object
    max_gap: float = 0.05  # m; or the percept's centroid within this distance of the object's box
    min_contained: float = 0.5  # share of an object's box inside another's (grown by max_gap / 2) to be a partial view of it
    moved_distance: float = 0.3  # m; an object seen again farther than this from its place has moved
    max_shift: float = 1.0  # m; an object whose place a frame sees empty is the unmatched percept of its kind this close
    min_seen_through: float = 0.3  # share of an object's seen points that the depth passes (its place is empty now)
    search_radius: float = 1.5  # m; only objects this close are candidates
    missing_after: int = 2  # frames with negative evidence before an object counts as missing
    occlusion_margin: float = 0.05  # m; a surface this much nearer than the object's place hides it
    min_expected_pixels: int = 150  # the object would cover at least this many pixels: small or far ones prove nothing
    min_visible_share: float = 0.5  # of an object's points in the image, nothing nearer may hide more than the rest
    max_size_ratio: float = 2.0  # an object found again elsewhere has about its size: largest sides within this ratio
    reach: float = 1.0  # m; the hand takes an object from, and puts it down, this close to where it holds it


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
    apart: set[int] = field(default_factory=set)  # ids of objects seen as separate percepts in one frame: never this one
    spread: float = 0.0  # m; put down somewhere within this radius of its centre, not seen there yet (0: seen where it is)
    color: NDArray[np.float32] | None = None  # mean of its percepts' median RGB (0-1); None if none had one
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
    percept: Percept | None = None  # the percept this update filed (None for updates without one)


@dataclass(frozen=True)
class DepthView:
    """One frame's depth, as negative evidence: what the camera sees through is empty now.

    depth: (H, W) float32 metres along the optical axis, 0 = no reading. pose: camera optical frame -> world, 4x4.
    """

    depth: NDArray[np.float32]
    camera: CameraInfo
    pose: NDArray[np.float64]

    @cached_property
    def nearest(self) -> NDArray[np.float32]:
        """Per pixel, the nearest reading in its 3x3 neighbourhood (0 where there is none): a point at an
        object's silhouette counts as seen through only when all readings around it pass it."""
        depth = np.where(self.depth > 0, self.depth, np.inf).astype(np.float32)
        padded = np.pad(depth, 1, constant_values=np.inf)
        h, w = depth.shape
        # The 3x3 minimum is separable: over the three columns, then over the three rows (4 passes, not a 9-deep stack).
        across = np.minimum(np.minimum(padded[:, 0:w], padded[:, 1 : w + 1]), padded[:, 2 : w + 2])
        nearest = np.minimum(np.minimum(across[0:h], across[1 : h + 1]), across[2 : h + 2])
        return np.where(np.isfinite(nearest), nearest, 0.0).astype(np.float32)

    def look(self, points: NDArray[np.float64], margin: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
        """Per point: (in the image, in front of the camera; seen: in the image and not hidden, the depth reaches it
        (within `margin`) or passes it; seen through: every reading around it is more than `margin` beyond it, so
        it is empty now)."""
        return look(self.nearest, self.camera, self.pose, points, margin)


def look(
    nearest: NDArray[np.floating], camera: CameraInfo, pose: NDArray[np.float64], points: NDArray[np.float64], margin: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """`DepthView.look` on an image of nearest readings (`DepthView.nearest`, or a coarser one that `camera`
    describes)."""
    u, v, z = project(points, camera, pose).T
    cols, rows = np.round(u).astype(np.int64), np.round(v).astype(np.int64)
    h, w = nearest.shape
    inside = (z > 0.2) & (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    measured = np.zeros(len(points), np.float32)
    measured[inside] = nearest[rows[inside], cols[inside]]
    seen = inside & (measured > 0) & (measured >= z - margin)
    return inside, seen, seen & (measured > z + margin)


def _mixed(
    a: NDArray[np.float32] | None, weight_a: float, b: NDArray[np.float32] | None, weight_b: float
) -> NDArray[np.float32] | None:
    """The weighted mean of two colours, either of which may be unknown."""
    if a is None or b is None:
        return a if b is None else b
    return ((a * weight_a + b * weight_b) / (weight_a + weight_b)).astype(np.float32)


def _look_distance(obj: MapObject, color: NDArray[np.float32] | None) -> float:
    """How far apart in RGB an object's colour and another colour are; an unknown colour counts as a clearly
    different one (1.0), so that a known close match ranks first."""
    if obj.color is None or color is None:
        return 1.0
    return float(np.linalg.norm(obj.color - color))


def _evidence(history: ViewHistory | None, points: NDArray[np.float64], time_s: float) -> Evidence:
    """What earlier views say of a newcomer's place; nothing without a history."""
    return history.evidence(points, time_s) if history is not None else "unknown"


def _voxel_keys(points: NDArray[np.float64], voxel: float) -> NDArray[np.int64]:
    return np.unique(voxel_keys(points, voxel))


def _inside_share(
    inner_min: NDArray[np.float64],
    inner_max: NDArray[np.float64],
    outer_min: NDArray[np.float64],
    outer_max: NDArray[np.float64],
    grow: float,
    floor: float,
) -> float:
    """Share of the box [inner_min, inner_max] (each side widened to at least `floor`) inside the outer box grown by `grow`."""
    middle, half = (inner_min + inner_max) / 2, np.maximum(inner_max - inner_min, floor) / 2
    low, high = np.maximum(middle - half, outer_min - grow), np.minimum(middle + half, outer_max + grow)
    return float(np.prod(np.clip(high - low, 0.0, None) / (2 * half)))


class ObjectMap:
    """Persistent objects built from percepts, frame by frame."""

    def __init__(self, config: ObjectMapConfig | None = None) -> None:
        self.config = config or ObjectMapConfig()
        self.objects: dict[int, MapObject] = {}
        self._keys: dict[int, NDArray[np.int64]] = {}
        self._next_id = 1
        self.aliases: dict[int, int] = {}  # id of an object folded into another -> the id it lives on as
        # Object in the robot's hand -> where the hand first held it and where it last did.
        self.carried: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}

    def resolve(self, object_id: int) -> int:
        """The id an object is known by now: events and tool results may name an id that was merged since."""
        while object_id in self.aliases:
            object_id = self.aliases[object_id]
        return object_id

    # ------------------------------------------------------------------ writing
    def integrate(
        self,
        percepts: list[Percept],
        time_s: float,
        view: DepthView | None = None,
        held: list[Percept] | None = None,
        history: ViewHistory | None = None,
    ) -> list[ObjectUpdate]:
        """Associate a frame's percepts with known objects, fuse them, and report what changed.

        With the frame's depth (`view`), fused objects shed the points it sees through, and an object whose
        place it sees empty can be the unmatched percept of its kind nearby (it moved in view), unless the robot
        holds something of that kind (`held`: percepts at its hand, kept out of the map): then the robot took it,
        and what its going revealed is another object. What the hand holds is tracked (`carried`): an object it took
        from its place and carried away is the unmatched percept of its kind where the hand let it go.
        An object missing for a while is an unmatched percept of its kind elsewhere unless earlier views (`history`)
        saw something stand at that place: then the percept is another object of the kind, first seen late.
        """
        order = sorted(range(len(percepts)), key=lambda i: -len(percepts[i].points))
        matches = self._assign(percepts)
        claimed = set(matches.values())
        in_hand = self._hold(held or [], claimed)
        updates: list[ObjectUpdate] = []
        for index in order:
            percept = percepts[index]
            if index in matches:
                update = self._fuse(matches[index], percept, time_s, view)
            elif (put := self._put_down(percept, claimed | in_hand)) is not None:
                claimed.add(put)
                del self.carried[put]
                update = self._relocate(put, percept, time_s)
            elif (moved := self._moved_counterpart(percept, time_s, claimed, view, held or [], history)) is not None:
                claimed.add(moved)
                update = self._relocate(moved, percept, time_s)
            else:
                new = self._add(percept, time_s)
                claimed.add(new.id)
                update = ObjectUpdate(new.id, "new", new.label, time_s, None, new.center)
            updates.append(replace(update, pixels=percept.pixel_count, percept=percept))
        for object_id in claimed:
            self.objects[object_id].apart |= claimed - {object_id}
        for update in updates:
            if update.kind != "new":
                self._merge_contained(update.object_id)
        return updates

    def note_absences(
        self, held: list[Percept], view: DepthView, seen: set[int] | None = None, history: ViewHistory | None = None
    ) -> list[ObjectUpdate]:
        """Count, for objects whose place is in plain view, frames where they are not there.

        An object is there when it took a percept of this frame (`seen`: `integrate`'s updates), or when the robot
        holds something of its kind near its place (`held`: percepts at its hand, kept out of the map). Its place
        is in plain view when nothing nearer hides most of its points in the image (`min_visible_share`); then the
        frame is evidence that it is gone when the depth passes through its place (`_seen_empty`: this needs no
        detector), or when it would cover at least `min_expected_pixels` there (the box's two largest sides at its
        depth, for the share of its points seen) and no detection took it. Small, far or mostly hidden objects
        prove nothing by the second rule. Objects put down unseen (`spread` > 0) are skipped: their place is a guess.

        Returns a "missing" update for each object that just became missing. One that was already seen at
        its new place and filed as new (the robot looked there first) is folded back: a "moved" update follows.
        Only when earlier views (`history`) saw the newer object's place empty (it arrived): a newer object first seen
        before this one went missing is, as often as not, another object of the kind that was there all along, first
        seen late on a tour.
        """
        cfg = self.config
        updates = []
        for obj in [o for o in self.objects.values() if o.spread == 0 and self._in_frustum(o, view)]:
            if obj.id in (seen or ()) or any(
                self._same_kind(obj, p) and np.linalg.norm(p.centroid - obj.center) < cfg.moved_distance for p in held
            ):
                obj.missing_count = 0
                continue
            in_image, visible, through = view.look(obj.points, cfg.occlusion_margin)
            if visible.sum() < cfg.min_visible_share * max(int(in_image.sum()), 1):
                continue
            depth = float(project(obj.center[None], view.camera, view.pose)[0, 2])
            area = float(np.prod(np.sort(obj.aabb_max - obj.aabb_min)[1:]))
            pixels = view.camera.fx * view.camera.fy * area / max(depth, 0.2) ** 2 * visible.sum() / len(obj.points)
            if pixels < cfg.min_expected_pixels and not self._seen_empty(visible, through):
                continue
            obj.missing_count += 1
            if obj.missing_count == cfg.missing_after:
                updates.append(ObjectUpdate(obj.id, "missing", obj.label, obj.last_seen, obj.center, None))
                newer = self._appeared_since(obj, history)
                if newer is not None:
                    updates.append(self.absorb(obj.id, newer))
        return updates

    @staticmethod
    def _in_frustum(obj: MapObject, view: DepthView) -> bool:
        """Whether any corner of the object's box, or its centre, falls in the image in front of the camera."""
        low, high = obj.aabb_min, obj.aabb_max
        corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
        u, v, z = project(np.vstack([corners, obj.center]), view.camera, view.pose).T
        h, w = view.depth.shape
        return bool(np.any((z > 0.2) & (u >= -0.5) & (u < w - 0.5) & (v >= -0.5) & (v < h - 0.5)))

    def _appeared_since(self, missing: MapObject, history: ViewHistory | None) -> int | None:
        """An object of the same kind and size first seen after `missing` was last seen, far from its old place, never
        seen beside it, whose place earlier views saw empty."""
        candidates = [
            o
            for o in self.objects.values()
            if o.id != missing.id
            and o.id not in missing.apart
            and o.first_seen >= missing.last_seen
            and o.missing_count == 0
            and float(o.embedding @ missing.embedding) >= self.config.min_semantic_similarity
            and np.linalg.norm(o.center - missing.center) > self.config.moved_distance
            and self._same_size(o.aabb_max - o.aabb_min, missing)
            and _evidence(history, o.points, o.first_seen) == "arrived"  # last: it reads every earlier view
        ]
        # The most similar label, then the closest colour (two objects of one kind moved to one place), the latest.
        return (
            max(
                candidates,
                key=lambda o: (
                    float(o.embedding @ missing.embedding),
                    -_look_distance(missing, o.color),
                    o.first_seen,
                ),
            ).id
            if candidates
            else None
        )

    def absorb(self, object_id: int, newer_id: int) -> ObjectUpdate:
        """`object_id` moved to where `newer_id` was seen: it keeps its identity and takes the newer one's place."""
        obj, newer = self.objects[object_id], self.objects[newer_id]
        before = obj.center
        obj.color = _mixed(obj.color, obj.observations, newer.color, newer.observations)
        self._fold(object_id, newer_id)
        obj.set_points(newer.points)
        obj.last_seen = newer.last_seen
        obj.missing_count = 0
        obj.spread = 0.0
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

    def move(self, object_id: int, center: NDArray[np.float64], time_s: float, spread: float = 0.0) -> ObjectUpdate:
        """The agent knows it moved the object (it put it there) though it has not seen it there yet.

        `spread` (m): it lies somewhere within this radius of `center` (on a receptacle the agent knows, at a
        spot it did not see). Until it is seen, a percept of its kind that far from the centre may be it.
        """
        obj = self.objects[object_id]
        before = obj.center
        obj.set_points(obj.points + (np.asarray(center, dtype=np.float64) - before))
        obj.missing_count = 0
        obj.spread = float(spread)
        self._keys[object_id] = _voxel_keys(obj.points, self.config.voxel_size)
        obj.moves.append((time_s, before, obj.center))
        return ObjectUpdate(object_id, "moved", obj.label, time_s, before, obj.center)

    def _same_kind(self, obj: MapObject, percept: Percept) -> bool:
        return float(obj.embedding @ percept.embedding) >= self.config.min_semantic_similarity

    def _assign(self, percepts: list[Percept]) -> dict[int, int]:
        """Percept index -> known object, one to one, best-scoring pairs first."""
        pairs = sorted(
            (
                (score, index, object_id)
                for index, percept in enumerate(percepts)
                for score, object_id in self._candidates(percept)
            ),
            key=lambda pair: (-pair[0], pair[1], pair[2]),
        )
        matches: dict[int, int] = {}
        taken: set[int] = set()
        for _, index, object_id in pairs:
            if index not in matches and object_id not in taken:
                matches[index] = object_id
                taken.add(object_id)
        return matches

    def _candidates(self, percept: Percept) -> list[tuple[float, int]]:
        """(score, object id) for each known object this percept may be: alike in meaning, and close in 3D."""
        cfg = self.config
        if not self.objects:
            return []
        ids = list(self.objects)
        objects = [self.objects[i] for i in ids]
        near = np.linalg.norm(np.stack([o.center for o in objects]) - percept.centroid, axis=1) <= cfg.search_radius
        alike = np.stack([o.embedding for o in objects]) @ percept.embedding >= cfg.min_semantic_similarity
        keys = _voxel_keys(percept.points, cfg.voxel_size)
        found = []
        for index in np.nonzero(near & alike)[0]:
            object_id, obj = ids[index], objects[index]
            overlap = len(np.intersect1d(keys, self._keys[object_id], assume_unique=True)) / max(len(keys), 1)
            gap = float(
                np.linalg.norm(np.maximum(0.0, np.maximum(obj.aabb_min - percept.centroid, percept.centroid - obj.aabb_max)))
            )
            # Or the percept is a fuller view of it: its box holds most of the object's (a glimpse filed before).
            fuller = (
                _inside_share(obj.aabb_min, obj.aabb_max, percept.aabb_min, percept.aabb_max, cfg.max_gap / 2, cfg.voxel_size)
                >= cfg.min_contained
            )
            if overlap < cfg.min_overlap and gap > max(cfg.max_gap, obj.spread) and not fuller:
                continue
            found.append((overlap + (1.0 - gap / cfg.search_radius), object_id))
        return found

    def _hold(self, held: list[Percept], claimed: set[int]) -> set[int]:
        """Which objects the hand holds in this frame (`held` percepts); `carried` follows them. Returns their ids.

        A held percept is the object already in the hand of its kind (the nearest to where the hand last held it),
        else the object of its kind that lay nearest to it, within `reach` (the hand picked it up). Objects
        seen in the scene this frame (`claimed`) are not in the hand. One the hand let go of before it had carried it
        `moved_distance` (it only passed near it, and it stayed where it was) is no longer tracked.
        """
        cfg = self.config
        for object_id in claimed:
            self.carried.pop(object_id, None)
        holding: set[int] = set()
        for percept in sorted(held, key=lambda p: -len(p.points)):
            kin = [
                o for o in self.objects.values() if o.id not in claimed and o.id not in holding and self._same_kind(o, percept)
            ]
            carried = [o for o in kin if o.id in self.carried]
            # No size check: an object in the hand is seen partly hidden by it and against far background.
            within = [o for o in kin if np.linalg.norm(o.center - percept.centroid) <= cfg.reach]
            if carried:
                chosen = min(carried, key=lambda o: float(np.linalg.norm(self.carried[o.id][1] - percept.centroid))).id
                self.carried[chosen] = (self.carried[chosen][0], percept.centroid)
            elif within:
                chosen = min(within, key=lambda o: float(np.linalg.norm(o.center - percept.centroid))).id
                self.carried[chosen] = (percept.centroid, percept.centroid)
            else:
                continue
            holding.add(chosen)
        self.carried = {i: places for i, places in self.carried.items() if i in holding or self._carried_away(i)}
        return holding

    def _carried_away(self, object_id: int) -> bool:
        """The hand carried the object farther than `moved_distance`: it travelled with the hand."""
        first, last = self.carried[object_id]
        return float(np.linalg.norm(last - first)) > self.config.moved_distance

    def _put_down(self, percept: Percept, unavailable: set[int]) -> int | None:
        """The object of this unmatched percept's kind that the hand carried away and let go of (it is not in the hand
        now), within `reach` of where the hand last held it (a hand may let go above a surface), the nearest first."""
        put = [
            (float(np.linalg.norm(last - percept.centroid)), object_id)
            for object_id, (_, last) in self.carried.items()
            if object_id not in unavailable
            and self._same_kind(self.objects[object_id], percept)
            and np.linalg.norm(last - percept.centroid) <= self.config.reach
        ]
        return min(put)[1] if put else None

    def _moved_counterpart(
        self,
        percept: Percept,
        time_s: float,
        claimed: set[int],
        view: DepthView | None,
        held: list[Percept],
        history: ViewHistory | None,
    ) -> int | None:
        """The object this unmatched percept is, moved, of its kind and size: one whose place this frame sees empty,
        within `max_shift`, the nearest first (not while the robot holds one of that kind); else one seen missing
        earlier, farther than `moved_distance`, unless earlier views (`history`) saw something stand at the percept's
        place."""
        cfg = self.config
        extent = percept.points.max(axis=0) - percept.points.min(axis=0)
        free = [
            o for o in self.objects.values() if o.id not in claimed and self._same_kind(o, percept) and self._same_size(extent, o)
        ]
        holding = any(float(h.embedding @ percept.embedding) >= cfg.min_semantic_similarity for h in held)
        if view is not None and not holding:
            shifted = [
                o
                for o in free
                if np.linalg.norm(o.center - percept.centroid) <= cfg.max_shift
                and self._seen_empty(*view.look(o.points, cfg.occlusion_margin)[1:])
            ]
            if shifted:
                return min(shifted, key=lambda o: float(np.linalg.norm(o.center - percept.centroid))).id
        missing = [
            o
            for o in free
            if o.missing_count >= cfg.missing_after and np.linalg.norm(o.center - percept.centroid) > cfg.moved_distance
        ]
        if not missing or _evidence(history, percept.points, time_s) == "there":
            return None
        # The most similar label first, then the closest colour, then the one missing longest.
        return max(
            missing, key=lambda o: (float(o.embedding @ percept.embedding), -_look_distance(o, percept.color), o.missing_count)
        ).id

    def _same_size(self, extent: NDArray[np.float64], obj: MapObject) -> bool:
        """An object keeps its size when it moves: the largest sides agree within `max_size_ratio` (and 5 cm)."""
        a, b = float(np.max(extent)), float(np.max(obj.aabb_max - obj.aabb_min))
        return max(a, b) <= self.config.max_size_ratio * min(a, b) + 0.05

    def _seen_empty(self, seen: NDArray[np.bool_], through: NDArray[np.bool_]) -> bool:
        """The frame sees through enough of the object's points that it sees at all (`DepthView.look`): its place is
        empty now. This needs no detector: what is there stops the depth."""
        return int(through.sum()) >= 5 and through.sum() >= self.config.min_seen_through * seen.sum()

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
            color=percept.color,
        )
        self._next_id += 1
        self.objects[obj.id] = obj
        self._keys[obj.id] = _voxel_keys(obj.points, self.config.voxel_size)
        return obj

    def _fuse(self, object_id: int, percept: Percept, time_s: float, view: DepthView | None) -> ObjectUpdate:
        obj = self.objects[object_id]
        before = obj.center
        kept = obj.points
        if view is not None:
            # Points this frame sees through are gone (a drawer slid out, a door swung): the shape follows.
            kept = kept[~view.look(kept, self.config.occlusion_margin)[2]]
        obj.set_points(self._compact(np.concatenate([kept, percept.points])))
        obj.color = _mixed(obj.color, obj.observations, percept.color, 1)
        obj.observations += 1
        obj.last_seen = time_s
        obj.missing_count = 0
        obj.spread = 0.0
        # A running mean of detector scores, discounted until the object has been seen a few times.
        obj.confidence += (percept.confidence - obj.confidence) / obj.observations
        obj.attributes.update(percept.attributes)
        obj.source_id = percept.source_id or obj.source_id
        self._keys[object_id] = _voxel_keys(obj.points, self.config.voxel_size)
        return ObjectUpdate(object_id, "seen", obj.label, time_s, before, obj.center)

    def _merge_contained(self, object_id: int) -> None:
        """Fold in objects of the same kind whose box the grown object now mostly covers: partial early views of it.

        Objects ever seen apart from it (in one frame, as separate percepts) are other objects, however close.
        """
        cfg = self.config
        obj = self.objects[object_id]
        for other in list(self.objects.values()):
            if (
                other.id == object_id
                or other.id in obj.apart
                or float(other.embedding @ obj.embedding) < cfg.min_semantic_similarity
                or _inside_share(other.aabb_min, other.aabb_max, obj.aabb_min, obj.aabb_max, cfg.max_gap / 2, cfg.voxel_size)
                < cfg.min_contained
            ):
                continue
            obj.color = _mixed(obj.color, obj.observations, other.color, other.observations)
            self._fold(object_id, other.id)
            obj.set_points(self._compact(np.concatenate([obj.points, other.points])))
            obj.first_seen = min(obj.first_seen, other.first_seen)
            obj.moves.extend(other.moves)
            self._keys[object_id] = _voxel_keys(obj.points, cfg.voxel_size)
            log.debug("merged %s #%d into #%d", other.label, other.id, object_id)

    def _fold(self, object_id: int, other_id: int) -> None:
        """`other_id` lives on as `object_id`: its id becomes an alias, its sightings and separations carry over."""
        obj, other = self.objects[object_id], self.objects.pop(other_id)
        self._keys.pop(other_id)
        self.carried.pop(other_id, None)
        self.aliases[other_id] = object_id
        obj.observations += other.observations
        obj.apart |= other.apart - {object_id}
        for known in self.objects.values():
            if other_id in known.apart:
                known.apart.discard(other_id)
                if known.id != object_id:
                    known.apart.add(object_id)

    def _relocate(self, object_id: int, percept: Percept, time_s: float) -> ObjectUpdate:
        obj = self.objects[object_id]
        before = obj.center
        obj.set_points(self._compact(percept.points))
        obj.color = _mixed(obj.color, obj.observations, percept.color, 1)
        obj.observations += 1
        obj.last_seen = time_s
        obj.missing_count = 0
        obj.spread = 0.0
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
