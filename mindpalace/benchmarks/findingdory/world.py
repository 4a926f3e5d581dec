"""The world a day's tasks are scored in: the simulator restored to the test start, with the day's ledger (benchmark side).

`TruthWorld.check(target, pose)` is FindingDory's success predicate, judged by rendering the view from the pose:

- an object: path distance from the base to the object <= 2 m, the camera facing it within 45 degrees, and the
  object covering >= 0.1% of the rendered pixels (inside a closed drawer or cupboard, the drawer front or door
  stands for it);
- a piece of furniture: the base at one of its access viewpoints (within 0.1 m of the free space within 1 m of
  its footprint, in its room), facing it within 90 degrees, and the piece (or one of its drawers or doors)
  covering >= 0.1% of the pixels;
- a room: the base inside it.

`TestEnv` is the live simulator at the test start as an agent may drive it: the `Env` protocol, the day's clock
on every frame, no privileged state, and a log of where the robot truly was, for scoring low-level stops.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mindpalace.agent.oracle import GoTo, OracleAgent
from mindpalace.benchmarks.findingdory.agents import Pose
from mindpalace.benchmarks.findingdory.clock import DayClock
from mindpalace.benchmarks.findingdory.day import DayPaths, DaySpec, make_env, navigable
from mindpalace.benchmarks.findingdory.geometry import Navigable, target_cells
from mindpalace.benchmarks.findingdory.ledger import Ledger, Target
from mindpalace.core.actions import Action
from mindpalace.core.env import FloorPlan
from mindpalace.core.geometry import wrap_angle
from mindpalace.core.types import Observation
from mindpalace.envs.household.env import HouseholdEnv

OBJECT_DISTANCE_M = 2.0  # FindingDory's robot_at_object: geodesic distance
OBJECT_ANGLE = math.pi / 4
FURNITURE_TOLERANCE_M = 0.1  # FindingDory's robot_at_receptacle: distance to the nearest viewpoint
FURNITURE_ANGLE = math.pi / 2
VISIBLE_FRACTION = 0.001  # share of the rendered pixels the target must cover
VIEWPOINT_TRIES = 16  # candidate poses tried per target when looking for one that satisfies the check
VIEWS_KEPT = 32  # rendered views kept (the stops of one answer are checked against every target)
CLEAR_VIEW = 3.0  # a viewpoint showing the target this many times the threshold is taken at once; else the clearest,
SURE_VIEW = 1.5  # if it shows it at least this many times (a target barely in view from anywhere is not asked about)
DEEP_ROOM_M = 0.6  # viewpoints chosen this far inside a room's walls (furniture's too) ...
DEEP_OBJECT_M = 1.8  # ... this close by path to an object ...
DEEP_FURNITURE_M = (0.4, 0.75)  # ... and this far from a piece's footprint, well inside the regions the check accepts


@dataclass(frozen=True)
class Check:
    ok: bool
    reason: str  # "" when ok; else "too_far", "facing_away", "out_of_view" or "outside"
    distance_m: float
    angle: float
    visible: float  # share of the pixels the target covers

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, "distance_m": self.distance_m, "angle": self.angle, "visible": self.visible}


class TruthWorld:
    """One day's end state in the simulator, its ledger, and path distances; open one per job (or per day, reused)."""

    def __init__(self, spec: DaySpec, paths: DayPaths) -> None:
        self.spec = spec
        self.paths = paths
        self.ledger = Ledger.load(paths.ledger)
        self.clock = DayClock.from_dict(self.ledger.clock)
        self.state = json.loads(paths.end_state.read_text())
        self.env = make_env(spec)
        self.env.reset(seed=spec.apartment_seed)
        self.env.privileged.restore_state(self.state)
        self.nav: Navigable = navigable(self.env)
        self._viewpoints: dict[str, Pose | None] = {}
        if paths.viewpoints.is_file():
            self._viewpoints = {k: Pose(**v) if v else None for k, v in json.loads(paths.viewpoints.read_text()).items()}
        self._fields: dict[str, NDArray[np.float64]] = {}
        self._views: dict[tuple[float, ...], NDArray[np.int32]] = {}
        self._checks: dict[tuple[str, tuple[float, ...]], Check] = {}

    def close(self) -> None:
        self.env.close()

    @property
    def start(self) -> Pose:
        x, y, yaw = self.ledger.test_start
        return Pose(x, y, yaw)

    # ------------------------------------------------------------------ distances
    @cached_property
    def start_field(self) -> NDArray[np.float64]:
        """Path distance from the test start to every free cell."""
        cell = self.nav.cell(self.start.x, self.start.y)
        return self.nav.distances_from([cell] if cell is not None else [])

    def field(self, target: Target) -> NDArray[np.float64]:
        """Path distance from the target (its cells, see geometry.target_cells) to every free cell."""
        if target.key not in self._fields:
            self._fields[target.key] = self.nav.distances_from(target_cells(self.nav, self.ledger, target))
        return self._fields[target.key]

    def distance(self, target: Target, x: float, y: float) -> float:
        return self.nav.distance(self.field(target), x, y)

    def path_between(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        """Path distance between two points (each snapped to free space)."""
        cell = self.nav.cell(*a)
        if cell is None:
            return math.inf
        return self.nav.distance(self.nav.distances_from([cell]), *b) + math.hypot(*np.subtract(self.nav.grid.to_world(*cell), a))

    def tour_length(self, poses: list[Pose]) -> float:
        """Path length from the test start through `poses` in order."""
        points = [(self.start.x, self.start.y)] + [(p.x, p.y) for p in poses]
        return float(sum(self.path_between(a, b) for a, b in pairwise(points)))

    def shortest(self, targets: tuple[Target, ...], goal: str) -> float:
        """FindingDory's shortest path for SPL: to the nearest valid target (single), through the targets in order
        (ordered), or the shortest tour through all of them (unordered; Held-Karp)."""
        x, y = self.start.x, self.start.y
        if goal == "single":
            return min(self.distance(t, x, y) for t in targets)
        if goal == "multi_ordered":
            points = [self._anchor(t) for t in targets]
            total, here = self.distance(targets[0], x, y), points[0]
            for target, point in zip(targets[1:], points[1:]):
                total += self.distance(target, *here)
                here = point
            return total
        return self._tour(targets)[0]

    def tour_order(self, targets: tuple[Target, ...]) -> list[Target]:
        """The targets in the order of the shortest tour from the test start through all of them."""
        return [targets[i] for i in self._tour(targets)[1]]

    def _tour(self, targets: tuple[Target, ...]) -> tuple[float, list[int]]:
        """Held-Karp over the targets (at most 8 here): the shortest open tour from the test start, and its order."""
        points = [self._anchor(t) for t in targets]
        n = len(targets)
        pair = [[0.0 if i == j else self.distance(targets[j], *points[i]) for j in range(n)] for i in range(n)]
        best: dict[tuple[int, int], tuple[float, int]] = {
            (1 << j, j): (self.distance(targets[j], self.start.x, self.start.y), -1) for j in range(n)
        }
        for mask in range(1, 1 << n):
            for last in range(n):
                if (mask, last) not in best:
                    continue
                for nxt in range(n):
                    if mask & (1 << nxt):
                        continue
                    key, cost = (mask | (1 << nxt), nxt), best[(mask, last)][0] + pair[last][nxt]
                    if cost < best.get(key, (math.inf, -1))[0]:
                        best[key] = (cost, last)
        full = (1 << n) - 1
        last = min(range(n), key=lambda j: best[(full, j)][0])
        length, order, mask = best[(full, last)][0], [], full
        while last != -1:
            order.append(last)
            mask, last = mask & ~(1 << last), best[(mask, last)][1]
        return length, order[::-1]

    def _anchor(self, target: Target) -> tuple[float, float]:
        """The target's free cell nearest the test start: where a tour through it passes."""
        cells = target_cells(self.nav, self.ledger, target)
        x, y = self.start.x, self.start.y
        row, col = min(cells, key=lambda c: math.hypot(*np.subtract(self.nav.grid.to_world(*c), (x, y))))
        return self.nav.grid.to_world(row, col)

    # ------------------------------------------------------------------ the success predicate
    def view(self, pose: Pose) -> NDArray[np.int32]:
        key = tuple(round(v, 4) for v in (pose.x, pose.y, pose.yaw, pose.pan, pose.tilt))
        if key not in self._views:
            if len(self._views) >= VIEWS_KEPT:
                del self._views[next(iter(self._views))]
            self._views[key] = self.env.privileged.render_from(pose.x, pose.y, pose.yaw, pose.pan, pose.tilt)[2]
        return self._views[key]

    @cached_property
    def _closed(self) -> set[int]:
        return {pid for pid, (_, is_open) in self.env.privileged.joint_states().items() if not is_open}

    def check(self, target: Target, pose: Pose) -> Check:
        key = (target.key, tuple(round(v, 4) for v in (pose.x, pose.y, pose.yaw, pose.pan, pose.tilt)))
        if key not in self._checks:
            self._checks[key] = self._check(target, pose)
        return self._checks[key]

    def _check(self, target: Target, pose: Pose) -> Check:
        ledger = self.ledger
        if target.kind == "room":
            inside = ledger.room(str(target.ref)).contains(pose.x, pose.y)
            return Check(inside, "" if inside else "outside", 0.0 if inside else self.distance(target, pose.x, pose.y), 0.0, 1.0)
        if target.kind == "object":
            obj = ledger.object(int(target.ref))
            point = obj.final_position
            part = obj.final_spot.part
            ids = {part} if part is not None and part in self._closed else {obj.id}
            limit_m, limit_angle = OBJECT_DISTANCE_M, OBJECT_ANGLE
            distance = self.distance(target, pose.x, pose.y)
        else:
            piece = ledger.piece(int(target.ref))
            point = piece.center
            ids = {piece.id, *piece.parts.values()}
            limit_m, limit_angle = FURNITURE_TOLERANCE_M, FURNITURE_ANGLE
            distance = self.distance(target, pose.x, pose.y)
        angle = abs(wrap_angle(math.atan2(point[1] - pose.y, point[0] - pose.x) - (pose.yaw + pose.pan)))
        segmentation = self.view(pose)
        visible = float(np.isin(segmentation, list(ids)).sum()) / segmentation.size
        reason = ""
        if distance > limit_m:
            reason = "too_far"
        elif angle > limit_angle:
            reason = "facing_away"
        elif visible < VISIBLE_FRACTION:
            reason = "out_of_view"
        return Check(not reason, reason, float(distance), float(angle), visible)

    def viewpoint(self, target: Target) -> Pose | None:
        """A pose that satisfies the check for `target` (the day's cached one, else searched); None if none does."""
        if target.key not in self._viewpoints:
            self._viewpoints[target.key] = self.search_viewpoint(target)
        return self._viewpoints[target.key]

    def all_viewpoints(self) -> dict[str, dict[str, float] | None]:
        """A viewpoint for every object, piece of furniture and room (FindingDory's oracle solution), JSON-ready."""
        targets = [Target("object", o.id) for o in self.ledger.objects] + [
            Target("furniture", f.id) for f in self.ledger.furniture
        ]
        targets += [Target("room", r.name) for r in self.ledger.rooms]
        poses = {t.key: self.viewpoint(t) for t in targets}
        return {key: pose.to_dict() if pose else None for key, pose in poses.items()}

    def approach(self, target: Target) -> Pose:
        """A pose facing the target from the free cell of its region nearest the test start (it may fail the check)."""
        cells = target_cells(self.nav, self.ledger, target)
        if not cells:
            return self.start
        x, y = self.nav.grid.to_world(*min(cells, key=lambda c: self.start_field[c]))
        point = self.look_point(target)
        if point is None:
            return Pose(float(x), float(y), self.start.yaw)
        yaw = math.atan2(point[1] - y, point[0] - x)
        pan, tilt = self.env.robot.look_angles((x, y, yaw), np.asarray(point))
        return Pose(float(x), float(y), float(yaw), float(pan), float(tilt))

    def search_viewpoint(self, target: Target) -> Pose | None:
        """A pose that satisfies the check for `target`, the nearest to the test start of those tried; None if none does.

        The oracle answer drives there, and chance's picks are judged from there. Poses well inside the target's
        region come first (a robot that stops a little short of one still satisfies the check); a small object that
        none of those shows well is then tried from the closest poses.
        """
        start_field = self.start_field
        if target.kind == "room":
            rect = self.ledger.room(str(target.ref)).rect
            cells = self.nav.free_cells_in(rect, DEEP_ROOM_M) or target_cells(self.nav, self.ledger, target)
            cells = sorted(cells, key=lambda c: start_field[c])[:1]
            return Pose(*self.nav.grid.to_world(*cells[0]), self.start.yaw) if cells else None
        if target.kind == "object":
            obj = self.ledger.object(int(target.ref))
            point = np.array(obj.final_position)
            room = self.ledger.room(obj.final_room).rect if obj.final_room else None
            to_target = self.field(target)
            near = {
                c: math.hypot(*np.subtract(self.nav.grid.to_world(*c), point[:2]))
                for c in (self.nav.free_cells_in(room) if room else [])
                if to_target[c] <= DEEP_OBJECT_M
            }
            cells = [c for c, d in near.items() if d >= 0.5]
        else:
            piece = self.ledger.piece(int(target.ref))
            point = np.array(piece.center)
            x0, y0, x1, y1 = piece.footprint
            inside = set(self.nav.free_cells_in(self.ledger.room(piece.room).rect, DEEP_ROOM_M))
            cells = [
                (row, col)
                for row, col in target_cells(self.nav, self.ledger, target)
                if (row, col) in inside
                and DEEP_FURNITURE_M[0] <= _to_box(self.nav.grid.to_world(row, col), (x0, y0, x1, y1)) <= DEEP_FURNITURE_M[1]
            ] or target_cells(self.nav, self.ledger, target)
        ranked = sorted(cells, key=lambda c: start_field[c])
        tries = ranked[:: max(1, len(ranked) // VIEWPOINT_TRIES)][:VIEWPOINT_TRIES]
        if target.kind == "object":
            tries += sorted(near, key=near.__getitem__)[:VIEWPOINT_TRIES]
        best: tuple[float, Pose] | None = None
        for row, col in tries:
            x, y = self.nav.grid.to_world(row, col)
            yaw = math.atan2(point[1] - y, point[0] - x)
            pan, tilt = self.env.robot.look_angles((x, y, yaw), point)
            pose = Pose(float(x), float(y), float(yaw), float(pan), float(tilt))
            check = self.check(target, pose)
            if check.ok and check.visible >= CLEAR_VIEW * VISIBLE_FRACTION:
                return pose
            if check.ok and check.visible >= SURE_VIEW * VISIBLE_FRACTION and (best is None or check.visible > best[0]):
                best = (check.visible, pose)
        return best[1] if best else None

    def look_point(self, target: Target) -> tuple[float, float, float] | None:
        """Where the camera should point at a target (None for a room)."""
        if target.kind == "object":
            return self.ledger.object(int(target.ref)).final_position
        if target.kind == "furniture":
            return self.ledger.piece(int(target.ref)).center
        return None

    # ------------------------------------------------------------------ the live simulator for driving
    def open_live(self) -> TestEnv:
        """The simulator at the test start (restored afresh), for an agent to drive in."""
        env = make_env(self.spec)
        env.reset(seed=self.spec.apartment_seed)
        obs = env.privileged.restore_state(self.state)
        return TestEnv(env, obs, self.clock)


def _to_box(xy: tuple[float, float], box: tuple[float, float, float, float]) -> float:
    x0, y0, x1, y1 = box
    return math.hypot(xy[0] - min(max(xy[0], x0), x1), xy[1] - min(max(xy[1], y0), y1))


class TestEnv:
    """The live simulator at the test start, as an agent drives it: the `Env` protocol, the day's clock on its frames
    (real speed after 22:00), the floor plan, and no privileged state. It logs the robot's true poses."""

    def __init__(self, env: HouseholdEnv, obs: Observation, clock: DayClock) -> None:
        self._env = env
        self.robot = env.robot
        self.clock = clock
        self.poses: list[Pose] = []
        self.obs = self._clocked(obs)

    def _clocked(self, obs: Observation) -> Observation:
        obs.time_of_day_s = self.clock.time_of_day(obs.time_s)
        obs.day = self.clock.day
        self.poses.append(self._true_pose())
        return obs

    def _true_pose(self) -> Pose:
        x, y, yaw = self._env.privileged.robot_pose()
        pan, tilt = self._env.privileged.head_angles()
        return Pose(x, y, yaw, pan, tilt)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Observation, dict[str, Any]]:
        """The current frame: the test world is not reset (its state is the end of the day)."""
        return self.obs, {}

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self._env.step(action)
        self.obs = self._clocked(obs)
        return self.obs, reward, terminated, truncated, info

    def floor_plan(self) -> FloorPlan:
        return self._env.floor_plan()

    def close(self) -> None:
        self._env.close()

    def driven_m(self) -> float:
        """The true path length the base drove."""
        return float(sum(math.hypot(b.x - a.x, b.y - a.y) for a, b in pairwise(self.poses)))

    def was_at(self, pose: Pose, tolerance: float = 0.02) -> bool:
        """Whether the robot truly stood at `pose` at some step (a reported stop must be one it reached)."""
        return any(
            math.hypot(p.x - pose.x, p.y - pose.y) <= tolerance
            and abs(wrap_angle(p.yaw - pose.yaw)) <= 0.05
            and abs(wrap_angle(p.pan - pose.pan)) <= 0.05
            and abs(p.tilt - pose.tilt) <= 0.05
            for p in self.poses
        )

    # Benchmark side: the privileged oracle answer drives with the true map through this env.
    def oracle_drive(self, goal: Pose, look_at: tuple[float, float, float] | None) -> Pose:
        """Drive to `goal` with the scripted oracle on the true map, look at `look_at`; returns where it stopped."""
        oracle = OracleAgent(self._env, [GoTo(goal.x, goal.y, goal.yaw, look_at, tolerance=0.05)])
        while (action := oracle.act(self.obs)) is not None:
            self.step(action)
        return self.poses[-1]
