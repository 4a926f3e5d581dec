"""The ground-truth ledger of a recorded day, built from the simulator's privileged state: benchmark side only.

What happened, as the benchmark knows it: each pick-and-place interaction (the object, where it came from
and went to, when it started and ended), the rooms the robot was in and for how long, where every object
was at the start and at the end of the day, what the robot saw, and every object's attributes (colour,
material, function, shape). Task targets are resolved from it and answers are scored against it.
Agent code never imports this module (tests/test_layers.py checks it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mindpalace.core.actions import Action, BaseVelocity, Look, Pick, Place
from mindpalace.core.types import Observation

if TYPE_CHECKING:
    from mindpalace.envs.household.env import HouseholdEnv

SHAPE_WORDS = {"sphere": "round", "cylinder": "cylindrical", "box": "rectangular"}
SEEN_FRACTION = 0.001  # share of a frame's pixels an instance must cover to count as seen (FindingDory's visibility)


@dataclass(frozen=True)
class RoomInfo:
    name: str
    type: str
    rect: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.rect
        return x0 <= x <= x1 and y0 <= y <= y1


@dataclass(frozen=True)
class FurnitureInfo:
    id: int
    name: str  # the simulator's unique name, e.g. "counter_1" (never shown to agents)
    type: str  # "counter"
    room: str
    footprint: tuple[float, float, float, float]  # world xmin, ymin, xmax, ymax
    center: tuple[float, float, float]  # middle of its top
    parts: dict[str, int]  # drawer / door name -> part id

    @property
    def label(self) -> str:
        return self.type.replace("_", " ")


@dataclass(frozen=True)
class Spot:
    """Where an object rests: a piece of furniture, its receptacle, on or in it, and the drawer or door that encloses it."""

    furniture: int
    receptacle: str
    relation: str
    part: int | None = None


@dataclass(frozen=True)
class ObjectInfo:
    id: int
    name: str  # "mug_2" (simulator's name)
    category: str  # "mug"
    color: str
    material: str
    function: str
    shape: str  # "round", "cylindrical", "rectangular"
    first_room: str
    final_room: str
    first_spot: Spot
    final_spot: Spot
    final_position: tuple[float, float, float]

    @property
    def label(self) -> str:
        return self.category.replace("_", " ")

    def attribute(self, name: str) -> str:
        return {"color": self.color, "material": self.material, "function": self.function, "shape": self.shape}[name]


@dataclass(frozen=True)
class Interaction:
    """One pick-and-place. Times are simulated seconds; spans are when the robot worked at the source and goal."""

    order: int  # 0 = the first object moved
    object: int
    source: Spot
    goal: Spot
    start_s: float  # arrival at the source, ready to pick (FindingDory: the pick starts)
    end_s: float  # the object is put down and the goal furniture closed again
    source_span: tuple[float, float]
    goal_span: tuple[float, float]

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Target:
    """What a task sends the robot to: an object or a piece of furniture by id, or a room by name."""

    kind: str  # "object", "furniture" or "room"
    ref: int | str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"

    @staticmethod
    def from_key(key: str) -> Target:
        kind, _, ref = key.partition(":")
        if kind not in TARGET_KINDS:
            raise ValueError(f"a target is one of {TARGET_KINDS}, got {key!r}")
        return Target(kind, ref if kind == "room" else int(ref))


TARGET_KINDS = ("object", "furniture", "room")


@dataclass
class Ledger:
    apartment_seed: int
    day_seed: int
    rooms: list[RoomInfo]
    furniture: list[FurnitureInfo]
    objects: list[ObjectInfo]
    interactions: list[Interaction]
    room_visits: list[tuple[str, float, float]]  # (room, entered, left), simulated seconds, in order
    start_room: str
    end_room: str
    seen: list[int]  # instance ids (objects, furniture, parts) that covered >= 0.1% of some frame
    test_start: tuple[float, float, float]  # x, y, yaw where the tasks begin (the end of the day)
    duration_s: float
    clock: dict[str, Any] = field(default_factory=dict)
    distances: dict[str, float] = field(default_factory=dict)  # target key -> path distance (m) from the test start

    @property
    def rooms_visited(self) -> list[str]:
        """Rooms in the order they were first entered."""
        return list(dict.fromkeys(room for room, _, _ in self.room_visits))

    @property
    def time_in_room(self) -> dict[str, float]:
        """Simulated seconds spent in each visited room."""
        totals: dict[str, float] = {}
        for room, entered, left in self.room_visits:
            totals[room] = totals.get(room, 0.0) + (left - entered)
        return totals

    # ------------------------------------------------------------------ look-ups
    def object(self, object_id: int) -> ObjectInfo:
        return self._objects[object_id]

    def piece(self, furniture_id: int) -> FurnitureInfo:
        return self._furniture[furniture_id]

    def room(self, name: str) -> RoomInfo:
        return next(r for r in self.rooms if r.name == name)

    @cached_property
    def _objects(self) -> dict[int, ObjectInfo]:
        return {o.id: o for o in self.objects}

    @cached_property
    def _furniture(self) -> dict[int, FurnitureInfo]:
        return {f.id: f for f in self.furniture}

    def moved_objects(self) -> list[int]:
        """Objects in the order they were moved (each once)."""
        return list(dict.fromkeys(i.object for i in self.interactions))

    def source_furniture(self) -> list[int]:
        return list(dict.fromkeys(i.source.furniture for i in self.interactions))

    def goal_furniture(self) -> list[int]:
        return list(dict.fromkeys(i.goal.furniture for i in self.interactions))

    def used_furniture(self) -> list[int]:
        return list(dict.fromkeys([f for i in self.interactions for f in (i.source.furniture, i.goal.furniture)]))

    def enclosure(self, object_id: int) -> int | None:
        """The drawer or door around an object at the end of the day (it must be open to see the object)."""
        return self.object(object_id).final_spot.part

    def unvisited_rooms(self) -> list[str]:
        return [r.name for r in self.rooms if r.name not in self.rooms_visited]

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Ledger:
        def spot(d: dict[str, Any]) -> Spot:
            return Spot(**d)

        return Ledger(
            apartment_seed=int(data["apartment_seed"]),
            day_seed=int(data["day_seed"]),
            rooms=[RoomInfo(r["name"], r["type"], tuple(r["rect"])) for r in data["rooms"]],
            furniture=[
                FurnitureInfo(
                    f["id"], f["name"], f["type"], f["room"], tuple(f["footprint"]), tuple(f["center"]), dict(f["parts"])
                )
                for f in data["furniture"]
            ],
            objects=[
                ObjectInfo(
                    **{
                        **o,
                        "first_spot": spot(o["first_spot"]),
                        "final_spot": spot(o["final_spot"]),
                        "final_position": tuple(o["final_position"]),
                    }
                )
                for o in data["objects"]
            ],
            interactions=[
                Interaction(
                    **{
                        **i,
                        "source": spot(i["source"]),
                        "goal": spot(i["goal"]),
                        "source_span": tuple(i["source_span"]),
                        "goal_span": tuple(i["goal_span"]),
                    }
                )
                for i in data["interactions"]
            ],
            room_visits=[(str(room), float(a), float(b)) for room, a, b in data["room_visits"]],
            start_room=data["start_room"],
            end_room=data["end_room"],
            seen=[int(i) for i in data["seen"]],
            test_start=tuple(data["test_start"]),
            duration_s=float(data["duration_s"]),
            clock=dict(data.get("clock", {})),
            distances={str(k): float(v) for k, v in data.get("distances", {}).items()},
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1))

    @staticmethod
    def load(path: Path) -> Ledger:
        return Ledger.from_dict(json.loads(Path(path).read_text()))


# ---------------------------------------------------------------------- building it while the day is lived
@dataclass
class _Step:
    action: Action
    start_s: float
    end_s: float
    success: bool
    driving: bool


class DayRejected(RuntimeError):
    """The lived day does not make a benchmark day (too few interactions, something left in the hand, ...)."""


class LedgerBuilder:
    """Watches the oracle's day step by step through privileged state and writes down what happened."""

    def __init__(self, env: HouseholdEnv, driving_look: Look) -> None:
        self.env = env
        self.privileged = env.privileged
        self.driving_look = driving_look
        apartment = self.privileged.apartment
        self._first = {o.id: self._spot(o.id) for o in apartment.objects}
        self._first_rooms = {o.id: self.privileged.object_room(o.id) or "" for o in apartment.objects}
        self._steps: list[_Step] = []
        self._picks: dict[int, tuple[int, Spot]] = {}  # object -> (step index, where it was)
        self._places: dict[int, tuple[int, Spot]] = {}
        self._held: int | None = None
        self._source: Spot | None = None
        self.room_visits: list[tuple[str, float, float]] = []
        self.seen: set[int] = set()
        self._room: str | None = None
        self._entered = 0.0
        self._start_room: str | None = None

    def _spot(self, object_id: int) -> Spot:
        location = self.privileged.object_location(object_id)
        if location is None:
            raise DayRejected(f"object {object_id} has no resting place")
        name, receptacle, relation = location
        piece = next(p for p in self.privileged.apartment.furniture if p.name == name)
        gate = piece.receptacle(receptacle).part
        return Spot(piece.id, receptacle, relation, piece.part_ids[gate] if gate else None)

    def start(self, obs: Observation) -> None:
        self._room = self.privileged.robot_room()
        self._start_room = self._room
        self._entered = obs.time_s
        self._see(obs)

    def before(self, action: Action) -> None:
        if isinstance(action, Pick) and self._held is None:
            self._source = self._spot(action.object_id)

    def after(self, action: Action, start_s: float, obs: Observation) -> None:
        outcome = obs.last_outcome
        success = bool(outcome is not None and outcome.success)
        room = self.privileged.robot_room()
        if room != self._room:
            self._leave(obs.time_s)
            self._room, self._entered = room, obs.time_s
        self._see(obs)
        driving = isinstance(action, BaseVelocity) or action == self.driving_look
        self._steps.append(_Step(action, start_s, obs.time_s, success, driving))
        if isinstance(action, Pick) and success and self._source is not None:
            self._held = action.object_id
            self._picks[action.object_id] = (len(self._steps) - 1, self._source)
        elif isinstance(action, Place) and success and self._held is not None:
            self._places[self._held] = (len(self._steps) - 1, self._spot(self._held))
            self._held = None

    def _leave(self, time_s: float) -> None:
        if self._room is not None and time_s > self._entered:
            self.room_visits.append((self._room, self._entered, time_s))

    def _see(self, obs: Observation) -> None:
        if obs.segmentation is None:
            return
        counts = np.bincount(obs.segmentation.ravel())
        self.seen.update(int(i) for i in np.nonzero(counts >= SEEN_FRACTION * obs.segmentation.size)[0])

    def _segment(self, index: int) -> tuple[float, float]:
        """The span of the run of non-driving steps around step `index` (the robot at one place, manipulating)."""
        first = index
        while first > 0 and not self._steps[first - 1].driving:
            first -= 1
        last = index
        while last + 1 < len(self._steps) and not self._steps[last + 1].driving:
            last += 1
        return self._steps[first].start_s, self._steps[last].end_s

    def finish(self, apartment_seed: int, day_seed: int, test_start: tuple[float, float, float], duration_s: float) -> Ledger:
        """The ledger of the day; `DayRejected` if an object is still in the hand or was never put down."""
        privileged = self.privileged
        apartment = privileged.apartment
        if privileged.held_object() is not None or self._held is not None:
            raise DayRejected("the day ended with an object in the hand")
        self._leave(duration_s)
        self._room, self._entered = None, duration_s
        interactions = []
        for order, (object_id, (pick_index, source)) in enumerate(sorted(self._picks.items(), key=lambda kv: kv[1][0])):
            place_index, goal = self._places[object_id]
            source_span, goal_span = self._segment(pick_index), self._segment(place_index)
            interactions.append(Interaction(order, object_id, source, goal, source_span[0], goal_span[1], source_span, goal_span))
        objects = []
        for obj in apartment.objects:
            x, y, z = privileged.object_positions()[obj.id]
            objects.append(
                ObjectInfo(
                    obj.id,
                    obj.name,
                    obj.category.name,
                    obj.color,
                    obj.category.material,
                    obj.category.function,
                    SHAPE_WORDS[obj.category.shape],
                    self._first_rooms[obj.id],
                    privileged.object_room(obj.id) or "",
                    self._first[obj.id],
                    self._spot(obj.id),
                    (x, y, z),
                )
            )
        furniture = [
            FurnitureInfo(
                p.id,
                p.name,
                p.type.name,
                apartment.rooms[p.room].name,
                _box(p.footprint()),
                (p.x, p.y, p.type.height),
                dict(p.part_ids),
            )
            for p in apartment.furniture
        ]
        return Ledger(
            apartment_seed=apartment_seed,
            day_seed=day_seed,
            rooms=[RoomInfo(r.name, r.type, _box(r.rect)) for r in apartment.rooms],
            furniture=furniture,
            objects=objects,
            interactions=interactions,
            room_visits=list(self.room_visits),
            start_room=self._start_room or "",
            end_room=privileged.robot_room() or "",
            seen=sorted(self.seen),
            test_start=test_start,
            duration_s=duration_s,
        )


def _box(values: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = values
    return float(x0), float(y0), float(x1), float(y1)
