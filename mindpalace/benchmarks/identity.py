"""Object identity scored against ground truth, on the benchmark side: which true instances each map record holds.

Every percept the map files is traced to the true instance under most of its mask in the simulator's
instance image, so the score holds for any segmenter (a class-agnostic one too). At the end of a day a
live record holds the percepts filed under its own id and under every id folded into it (the map's
aliases). Then:

- a part merge is a true part too many in one record: a record holding percepts of k true drawers or doors
  adds k - 1;
- a part split is a record too many for one true part: k live records whose percepts are mostly one part
  add k - 1;
- a duplicate after the day is the same for a small object: k live records mostly of one object add k - 1;
- an off-camera move (a person moved a known object while the robot was elsewhere) is detected when the
  record that held the object before the move is reported missing after it and is, at the end, the record
  at the object's true new place (within `match_distance`): same id, found again. Objects that look the same
  (one category, one colour: in the household, one size too) and were both moved unseen are told apart by no
  camera, so their records may end at either's place: such look-alikes are scored as a group, each record at
  a distinct new place of the group counting as one move detected.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.types import Observation
from mindpalace.memory.spatial.objects import ObjectMap, ObjectUpdate


@dataclass(frozen=True)
class OffCameraMove:
    """A person moved `instance` at `time_s`; `record` is the map record that held it just before."""

    instance: int
    time_s: float
    record: int


@dataclass
class IdentityLedger:
    """What each map record was made of, percept by percept, in true instance ids (benchmark side only)."""

    kinds: dict[int, str] = field(default_factory=dict)  # true instance id -> "object", "part", "furniture", ...
    names: dict[int, str] = field(default_factory=dict)  # true instance id -> its name in the simulator ("mug_1")
    looks: dict[int, tuple[str, str]] = field(default_factory=dict)  # true instance id -> (category, colour)
    held: dict[int, Counter[int]] = field(default_factory=dict)  # record id as filed -> true instance -> percepts
    missing: list[tuple[float, int]] = field(default_factory=list)  # (frame time, record id) of each "missing" update
    # true object instance -> (frame time, pixels) of each frame it was in, to tell whether a moved one was seen again
    sightings: dict[int, list[tuple[float, int]]] = field(default_factory=dict)

    def file(self, obs: Observation, updates: list[ObjectUpdate]) -> None:
        """Trace one frame's updates to the true instances under their percepts' masks."""
        if obs.segmentation is None:
            raise ValueError("identity is scored against the simulator's instance image; this observation has none")
        self.kinds.update({i: info.kind for i, info in obs.instances.items()})
        self.names.update({i: info.label for i, info in obs.instances.items()})
        # Without a colour an instance looks like no other: it is its own group.
        self.looks.update(
            {
                i: (info.category, info.attributes["color"]) if "color" in info.attributes else (info.label, "")
                for i, info in obs.instances.items()
            }
        )
        counts = np.bincount(obs.segmentation.ravel())
        for instance in np.nonzero(counts)[0].tolist():
            if self.kinds.get(instance) == "object":
                self.sightings.setdefault(instance, []).append((obs.time_s, int(counts[instance])))
        for update in updates:
            if update.kind == "missing":
                self.missing.append((obs.time_s, update.object_id))
            if update.percept is None:
                continue
            instance = _majority(obs.segmentation[update.percept.mask])
            if instance:
                self.held.setdefault(update.object_id, Counter())[instance] += 1

    def records(self, objects: ObjectMap) -> dict[int, Counter[int]]:
        """Live record id -> the true instances of every percept it took (its own and those of records folded in)."""
        merged: dict[int, Counter[int]] = {}
        for record, instances in self.held.items():
            live = objects.resolve(record)
            if live in objects.objects:
                merged.setdefault(live, Counter()).update(instances)
        return merged

    def record_of(self, objects: ObjectMap, instance: int) -> int | None:
        """The live record that holds the most percepts of a true instance, or None if none holds any."""
        counts = {record: instances[instance] for record, instances in self.records(objects).items() if instances[instance]}
        return max(counts, key=lambda r: counts[r]) if counts else None

    def score(
        self,
        objects: ObjectMap,
        moves: list[OffCameraMove],
        positions: dict[int, NDArray[np.float64]],
        match_distance: float,
        min_pixels: int = 1,
    ) -> dict[str, Any]:
        """Merges, splits and duplicates per kind at the end of the day, and the off-camera moves found again.

        `positions` are the true final positions of the moved instances. A move counts in the detected rate only if
        the camera saw the object again after it (in a frame with at least `min_pixels` of it): no memory can find
        again what no frame showed. The moves it never saw again are counted apart (`offcamera_moves_unseen`).
        """
        records = self.records(objects)
        merges: Counter[str] = Counter()
        majority: dict[int, list[int]] = {}
        merged: list[dict[str, Any]] = []
        for record, instances in records.items():
            for kind in ("part", "object", "furniture"):
                held = [i for i in instances if self.kinds.get(i) == kind]
                merges[kind] += max(0, len(held) - 1)
                if len(held) > 1:
                    merged.append(
                        {"kind": kind, "instances": [self.names.get(i, str(i)) for i in held], **_describe(objects, record)}
                    )
            majority.setdefault(instances.most_common(1)[0][0], []).append(record)
        splits: Counter[str] = Counter()
        split: list[dict[str, Any]] = []
        for instance, held_by in majority.items():
            splits[self.kinds.get(instance, "")] += len(held_by) - 1
            if len(held_by) > 1:
                split.append(
                    {
                        "kind": self.kinds.get(instance, ""),
                        "instance": self.names.get(instance, str(instance)),
                        "records": [_describe(objects, r) for r in held_by],
                    }
                )
        seen_again = [move for move in moves if self._most_pixels_since(move) >= min_pixels]
        groups: dict[tuple[str, str], list[OffCameraMove]] = {}
        for move in seen_again:
            groups.setdefault(self.looks.get(move.instance, (str(move.instance), "")), []).append(move)
        detected = sum(self._found_again(objects, group, positions, match_distance) for group in groups.values())
        return {
            "part_merges": merges["part"],
            "part_splits": splits["part"],
            "duplicates_after_day": splits["object"],
            "object_merges": merges["object"],
            "furniture_merges": merges["furniture"],
            "furniture_splits": splits["furniture"],
            "offcamera_moves": len(moves),
            "offcamera_moves_unseen": len(moves) - len(seen_again),
            "offcamera_moves_detected_rate": round(detected / len(seen_again), 4) if seen_again else None,
            "identity_detail": {
                "merges": merged,
                "splits": split,
                "offcamera": [self._trace(objects, move, positions[move.instance], min_pixels) for move in moves],
            },
        }

    def _reported_missing(self, objects: ObjectMap, move: OffCameraMove) -> bool:
        """Whether the record of a moved instance was reported missing after the move."""
        record = objects.resolve(move.record)
        return any(time_s > move.time_s and objects.resolve(rid) == record for time_s, rid in self.missing)

    def _most_pixels_since(self, move: OffCameraMove) -> int:
        """The most pixels of the moved object in any frame after the move (0 if none showed it)."""
        return max((pixels for time_s, pixels in self.sightings.get(move.instance, ()) if time_s > move.time_s), default=0)

    def _trace(self, objects: ObjectMap, move: OffCameraMove, place: NDArray[np.float64], min_pixels: int) -> dict[str, Any]:
        """One off-camera move as the detail lists it: was the object seen again, was its record reported missing, and
        where is that record now."""
        record = objects.resolve(move.record)
        obj = objects.objects.get(record)
        most = self._most_pixels_since(move)
        return {
            "instance": self.names.get(move.instance, str(move.instance)),
            "seen_again": most >= min_pixels,
            "most_pixels_after": most,
            "record": record,
            "reported_missing": self._reported_missing(objects, move),
            "error_m": round(float(np.linalg.norm(obj.center - place)), 3) if obj is not None else None,
        }

    def _found_again(
        self, objects: ObjectMap, group: list[OffCameraMove], positions: dict[int, NDArray[np.float64]], match_distance: float
    ) -> int:
        """How many moves of a group of look-alikes were detected: the most records, each reported missing after its
        move, that end one at each of the group's distinct new places."""
        found: list[NDArray[np.float64] | None] = []
        for move in group:
            obj = objects.objects.get(objects.resolve(move.record))
            found.append(obj.center if self._reported_missing(objects, move) and obj is not None else None)
        places = [positions[move.instance] for move in group]
        return max(
            sum(
                center is not None and float(np.linalg.norm(center - place)) <= match_distance
                for center, place in zip(found, order)
            )
            for order in itertools.permutations(places)
        )


def _describe(objects: ObjectMap, record: int) -> dict[str, Any]:
    """A live record as the detail lists it."""
    obj = objects.objects[record]
    return {
        "record": record,
        "label": obj.label,
        "first_seen_s": round(obj.first_seen, 2),
        "last_seen_s": round(obj.last_seen, 2),
        "center": [round(float(c), 3) for c in obj.center],
        "moves": len(obj.moves),
    }


def _majority(ids: NDArray[np.int32]) -> int:
    """The most frequent non-zero id, 0 if there is none."""
    counts = np.bincount(ids[ids > 0]) if ids.size else np.zeros(1, np.int64)
    return int(np.argmax(counts)) if counts.size and counts.max() > 0 else 0
