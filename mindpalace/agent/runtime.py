"""One robot in one env: every env step is perceived and filed in memory, and its own actions become events.

This is the only place where the agent touches the env. What memory learns here comes from the camera
frames (through perception: the observation's own, and every other camera's in `obs.extras["views"]`) and from
the outcomes of the robot's own actions; nothing is read from
`env.privileged`, except the floor plan's room names when the caller hands them over (`set_floor_plan`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mindpalace.core.actions import Action, ActionOutcome, BaseVelocity, Close, Look, Open, Pick, Place, Press, Wait
from mindpalace.core.env import Env
from mindpalace.core.types import Event, Observation
from mindpalace.memory.spatial.objects import MapObject, ObjectUpdate
from mindpalace.memory.system import MemorySystem
from mindpalace.perception.pipeline import PerceptionPipeline
from mindpalace.perception.validation import FrameError

if TYPE_CHECKING:
    from mindpalace.memory.spatial.memory import SpatialMemory

log = logging.getLogger(__name__)


def display_name(obj: MapObject) -> str:
    """How memory's objects are named to people and models: "mug #12" (the id is memory's, not the simulator's)."""
    return f"{obj.label.replace('_', ' ')} #{obj.id}"


@dataclass
class StepStats:
    env_steps: int = 0
    frames_filed: int = 0
    frames_dropped: int = 0
    filing_s: float = 0.0  # wall time spent perceiving and filing frames (perception and memory)
    failures: dict[str, int] = field(default_factory=dict)  # env-rejected actions by FailureReason value


class AgentRuntime:
    """Steps the env, perceives each observation, and keeps memory up to date."""

    def __init__(
        self,
        env: Env,
        memory: MemorySystem,
        pipeline: PerceptionPipeline,
        obs: Observation,
        actor: str = "robot",
        listeners: Sequence[Callable[[Observation, list[ObjectUpdate]], None]] = (),
    ) -> None:
        if memory.spatial is None:
            raise ValueError("the agent needs a memory preset with spatial memory (e.g. 'mindpalace')")
        self.env = env
        self.robot = env.robot
        self.memory = memory
        self.pipeline = pipeline
        self.actor = actor
        self.obs = obs
        # What the robot holds (a memory id), known from its own pick and place; a continued memory remembers it.
        self.held: int | None = next((i for i, s in self.spatial.scene.states.items() if s == "held"), None)
        self.enclosed: dict[int, int] = {}  # object -> the closed part a pick found it inside (from the outcome)
        self.trail: list[tuple[float, float]] = [self.xy]
        self.stats = StepStats()
        self.truncated = False
        # Told what each frame did to the map: a benchmark's identity ledger listens here (the agent never reads it).
        self.listeners: list[Callable[[Observation, list[ObjectUpdate]], None]] = list(listeners)
        self._room: str | None = None
        self._perceive(obs)

    @property
    def spatial(self) -> SpatialMemory:
        """Memory's spatial map (the constructor checked there is one)."""
        spatial = self.memory.spatial
        assert spatial is not None
        return spatial

    # ------------------------------------------------------------------ state the robot knows of itself
    @property
    def pose(self) -> tuple[float, float, float]:
        """Base (x, y, yaw) from the observation's odometry."""
        base = self.obs.base_pose
        return float(base[0, 3]), float(base[1, 3]), math.atan2(float(base[1, 0]), float(base[0, 0]))

    @property
    def xy(self) -> tuple[float, float]:
        return float(self.obs.base_pose[0, 3]), float(self.obs.base_pose[1, 3])

    @property
    def room(self) -> str | None:
        return self.room_at(*self.xy)

    def hand_at(self, obs: Observation) -> np.ndarray:
        """(3,) where the hand is in the world at `obs`: where the joints say, else the robot's fixed hand offset."""
        return obs.hand_pose[:3, 3] if obs.hand_pose is not None else self.robot.hand_in_world(obs.base_pose)

    def room_at(self, x: float, y: float) -> str | None:
        rooms = self.spatial.rooms
        return next((r.name for r in rooms if r.contains(x, y)), None)

    def resume(self, obs: Observation) -> None:
        """Go on from an observation the env gave outside `step` (a world reloaded where it was left): it is filed too."""
        self.obs = obs
        self.trail.append(self.xy)
        self._perceive(obs)
        self._room = self.room

    def set_floor_plan(self, named_polygons: list[tuple[str, list[tuple[float, float]]]]) -> None:
        """Room names and outlines given to the robot (as a person would name them), not perceived."""
        self.spatial.set_rooms(named_polygons, privileged=False)
        if self._room is None and self.room is not None:
            # Where the robot starts is a room it is in: the timeline says so, as it says each room it enters after.
            self.record("enter_room", {"room": self.room}, (), self.obs.time_s, success=True)
        self._room = self.room

    def objects(self) -> dict[int, MapObject]:
        return self.spatial.objects.objects

    def memory_id_of(self, source_id: int) -> int | None:
        """The memory object that perception last saw with this segmenter id."""
        matches = [o for o in self.objects().values() if o.source_id == source_id]
        return max(matches, key=lambda o: o.last_seen).id if matches else None

    # ------------------------------------------------------------------ acting
    def step(self, action: Action, about: int | None = None) -> Observation:
        """One env step; the frame is perceived and filed, and the robot's own manipulation becomes an event.

        `about` is the memory id a pick, open, close (the target) or place (the receptacle) is meant for, when
        the caller knows it; else it is looked up by the segmenter's id, which stale duplicates can share.
        """
        start_s = self.obs.time_s
        obs, _, _, truncated, info = self.env.step(action)
        self.obs = obs
        self.truncated = self.truncated or bool(truncated)
        self.stats.env_steps += 1
        outcome: ActionOutcome = info["outcome"]
        if not outcome.success:
            self.stats.failures[outcome.reason.value] = self.stats.failures.get(outcome.reason.value, 0) + 1
        placed = self.held if isinstance(action, Place) and outcome.success else None
        if isinstance(action, (Pick, Place, Open, Close, Press)):
            self._record_manipulation(action, outcome, start_s, about)
        updates = self._perceive(obs)
        if placed is not None and isinstance(action, Place):
            self._settle(placed, about if about is not None else self.memory_id_of(action.receptacle_id), updates)
        self.trail.append(self.xy)
        if not isinstance(action, (BaseVelocity, Look, Wait)):
            return obs
        room = self.room
        if room is not None and room != self._room:
            self.record("enter_room", {"room": room}, (), start_s, success=True)
            self._room = room
        return obs

    def act(self, action: Action, about: int | None = None) -> ActionOutcome:
        """One env step, as `step`; what the env made of the action."""
        outcome = self.step(action, about).last_outcome
        assert outcome is not None  # an env reports the outcome of every step (`core.env.Env`)
        return outcome

    def record(
        self,
        action: str,
        arguments: dict,
        objects: tuple[int, ...],
        start_s: float,
        *,
        success: bool,
        reason: str = "",
        importance: float = 0.5,
    ) -> int:
        """Write one of the robot's own events at its current place."""
        x, y = self.xy
        event = Event(self.actor, action, start_s, self.obs.time_s, arguments, objects, self.room, success, reason)
        return self.memory.record_event(event, x, y, importance=importance)

    def _record_manipulation(
        self, action: Pick | Place | Open | Close | Press, outcome: ActionOutcome, start_s: float, about: int | None
    ) -> None:
        receptacle = None
        if isinstance(action, Pick):
            target = about if about is not None else self.memory_id_of(action.object_id)
            # The place it is taken from is part of the event: "the patch it came from" is asked of it later.
            receptacle = self.pick_source(target)
            verb, arguments = "pick", ({"from": self._name(receptacle)} if receptacle is not None else {})
        elif isinstance(action, Place):
            target, receptacle = self.held, about if about is not None else self.memory_id_of(action.receptacle_id)
            verb, arguments = "place", {"receptacle": self._name(receptacle), "relation": action.relation.value}
        else:
            target = about if about is not None else self.memory_id_of(action.target_id)
            verb, arguments = {Open: "open", Close: "close", Press: "press"}[type(action)], {}
        objects = tuple(i for i in (target, receptacle) if i is not None)
        name = self._name(target)
        self.record(
            verb,
            {"object": name, **arguments},
            objects,
            start_s,
            success=outcome.success,
            reason="" if outcome.success else outcome.reason.value,
            importance=0.8,
        )
        if not outcome.success or target is None:
            return
        if isinstance(action, Pick):
            self.held = target
            self.memory.set_state(target, "held", self.obs.time_s)
        elif isinstance(action, Place):
            self.held = None
            self.memory.set_state(target, "", self.obs.time_s)
        elif isinstance(action, (Open, Close)):
            self.memory.set_state(target, "open" if isinstance(action, Open) else "closed", self.obs.time_s)
            if isinstance(action, Open):
                self.enclosed = {o: p for o, p in self.enclosed.items() if p != target}

    def support_of(self, memory_id: int | None) -> int | None:
        """What memory's scene graph has the object on or in now (before the pick moves it), if anything."""
        holders = self._linked(f"object:{memory_id}", ("on", "in"), into=True) if memory_id is not None else []
        return holders[0] if holders else None

    def furniture_of(self, part_id: int) -> int | None:
        """The piece of furniture memory's scene graph has this drawer or door belong to, if any."""
        wholes = self._linked(f"part:{part_id}", ("has_part",), into=True)
        return wholes[0] if wholes else None

    def parts_of(self, furniture_id: int) -> list[int]:
        """The drawers and doors memory's scene graph has belong to this piece of furniture."""
        return self._linked(f"furniture:{furniture_id}", ("has_part",), into=False)

    def _linked(self, node: str, relations: tuple[str, ...], *, into: bool) -> list[int]:
        """Memory ids of the scene graph's nodes linked to `node` by one of `relations`: by edges into it, or out of it."""
        graph = self.spatial.scene_graph()
        if node not in graph:
            return []
        edges = graph.in_edges(node, data=True) if into else graph.out_edges(node, data=True)
        return [int(str(a if into else b).split(":")[-1]) for a, b, data in edges if data.get("relation") in relations]

    def pick_source(self, memory_id: int | None) -> int | None:
        """Where a pick about to happen takes its object from: what the scene graph has it on or in; else the open part
        or piece of furniture within reach that is nearest the object (the hand, when memory cannot name the object).

        The fallback is needed because a small object is often seen too little to be filed before the hand takes it
        (out of a drawer just opened, or seen from afar), or filed a little off its surface: the pick's event would
        then name no source, and "the furniture you picked things up from" would miss it.
        """
        holder = self.support_of(memory_id)
        if holder is not None:
            return holder
        obj = self.objects().get(memory_id) if memory_id is not None else None
        point = obj.center if obj is not None else self.hand_at(self.obs)
        base = self.obs.base_pose[:3, 3]
        nearest: tuple[float, int] | None = None
        for node, data in self.spatial.scene_graph().nodes(data=True):
            # A closed part holds nothing the hand can take; the top of a drawer's furniture is the furniture's.
            if not (data["kind"] == "furniture" or (data["kind"] == "part" and data.get("state") == "open")):
                continue
            low, high = np.asarray(data["aabb"][0]), np.asarray(data["aabb"][1])
            if _xy_distance_to_box(base, low, high) > self.robot.reach:
                continue
            distance = _xy_distance_to_box(point, low, high)
            if nearest is None or distance < nearest[0]:
                nearest = (distance, int(str(node).split(":")[-1]))
        return nearest[1] if nearest is not None else None

    def _name(self, memory_id: int | None) -> str:
        obj = self.objects().get(memory_id) if memory_id is not None else None
        return display_name(obj) if obj is not None else "something"

    def _settle(self, object_id: int, receptacle: int | None, updates: list[ObjectUpdate]) -> None:
        """Where the robot put something is known from its own action: the object keeps its identity there.

        If memory already filed the sighting of it where it landed as the object (the hand let it go in view:
        `ObjectMap.carried`), that is where it is. If the camera saw it land as a "new" object of its label on the
        receptacle, that sighting becomes the object. Else it lies somewhere on or in the receptacle, at a spot not
        seen yet: it is kept at the receptacle's centre with the receptacle's size as its spread, so that its first
        sighting there is it, not a second record.
        """
        objects = self.spatial.objects
        obj = objects.objects.get(object_id)
        if obj is None:
            return
        holder = objects.objects.get(receptacle) if receptacle is not None else None
        spread = float(np.linalg.norm(holder.aabb_max - holder.aabb_min)) / 2 if holder is not None else math.inf

        def off(candidate: MapObject) -> float:  # how far a sighting is from the receptacle's centre, when memory knows it
            return float(np.linalg.norm(candidate.center - holder.center)) if holder is not None else 0.0

        new = [objects.objects[u.object_id] for u in updates if u.kind == "new" and u.object_id in objects.objects]
        landed = [o for o in new if o.label == obj.label and off(o) <= spread]
        seen = next((u for u in updates if u.object_id == object_id and u.kind == "moved"), None)
        if seen is not None:
            update = seen
        elif landed:
            sighting = min(landed, key=off).id
            update = objects.absorb(object_id, sighting)
            self.memory.objects.delete([sighting])  # the sighting lives on as the placed object
        elif holder is not None:
            update = objects.move(object_id, holder.center, self.obs.time_s, spread=spread)
        else:
            return
        assert update.center is not None  # absorb and move say where the object is now
        self.memory.remember_object(
            object_id,
            obj.label,
            tuple(update.center),
            self.obs.time_s,
            room=self.room_at(float(update.center[0]), float(update.center[1])),
            attributes=obj.attributes,
            change="moved",
        )

    # ------------------------------------------------------------------ perceiving
    def _perceive(self, obs: Observation) -> list[ObjectUpdate]:
        """Every camera's frame of this step, filed in memory; the hand is where the joints say, else its fixed offset."""
        hand = self.hand_at(obs)
        updates: list[ObjectUpdate] = []
        for view in (obs, *obs.extras.get("views", {}).values()):
            start = time.perf_counter()
            try:
                frame = self.pipeline.process(view)
                filed = self.memory.observe(view, frame, gripper=hand, hold_radius=self.robot.hold_radius)
                self.stats.filing_s += time.perf_counter() - start
                self.stats.frames_filed += 1
                updates += filed
                for listener in self.listeners:
                    listener(view, filed)
            except FrameError as error:
                # A bad frame is dropped, not filed (perception and memory both refuse it before writing): the loop goes on.
                self.stats.frames_dropped += 1
                log.warning("frame at %ss dropped: %s", view.time_s, error)
        return updates


def _xy_distance_to_box(point: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Horizontal distance from a point to a box (0 inside its footprint)."""
    outside = np.maximum(0.0, np.maximum(low[:2] - point[:2], point[:2] - high[:2]))
    return float(np.linalg.norm(outside))
