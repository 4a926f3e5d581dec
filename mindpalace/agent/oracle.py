"""A scripted oracle that carries out pick-and-place jobs in the household env from privileged state.

It plans base paths with A* on the apartment's true occupancy, follows them with a pure-pursuit
controller, aims the head at its targets, and opens and closes containers on the way. It is how a
"day of activity" is generated (as FindingDory collects its data): the robot's own memory later sees
only the frames and outcomes, never this module's state.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

import numpy as np

from mindpalace.agent.path_following import FollowerConfig, PathFollower
from mindpalace.agent.path_planning import GridMap, plan_path
from mindpalace.core.actions import Action, ActionOutcome, BaseVelocity, Close, Look, Open, Pick, Place, Relation
from mindpalace.core.types import Observation
from mindpalace.envs.household.env import HouseholdEnv
from mindpalace.envs.household.layout import Furniture, fits
from mindpalace.envs.household.robot import ROBOT_RADIUS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """Move object `object_id` on or in `receptacle_id` (a furniture or drawer id)."""

    object_id: int
    receptacle_id: int
    relation: Relation = Relation.ON


@dataclass(frozen=True)
class Visit:
    """Go to a piece of furniture and look at each of its open surfaces (a tour's stop)."""

    furniture_id: int


@dataclass(frozen=True)
class GoTo:
    """Drive to a pose (x, y, yaw), to within `tolerance` m, and, if given, look at a world point (x, y, z) from there."""

    x: float
    y: float
    yaw: float
    look_at: tuple[float, float, float] | None = None
    tolerance: float = 0.3


@dataclass
class JobResult:
    job: Job | Visit | GoTo
    success: bool
    reason: str
    steps: int


@dataclass
class OracleConfig:
    control_dt: float = 0.2  # seconds per base-velocity command
    max_steps_per_leg: int = 400  # base commands before a navigation leg gives up
    clearance: float = 0.05  # added to the robot radius when inflating the occupancy
    driving_tilt: float = 0.3  # head tilt (rad, down) while driving
    follower: FollowerConfig = field(default_factory=FollowerConfig)


def tour(env: HouseholdEnv) -> list[Visit]:
    """A visit to every piece of furniture, room by room in the apartment's order."""
    furniture = sorted(env.privileged.apartment.furniture, key=lambda p: (p.room, p.id))
    return [Visit(piece.id) for piece in furniture]


def random_jobs(env: HouseholdEnv, rng: np.random.Generator, count: int) -> list[Job]:
    """`count` jobs moving distinct random objects to a random receptacle of other furniture that they fit."""
    apartment = env.privileged.apartment
    objects = list(rng.permutation([o.id for o in apartment.objects]))[:count]
    jobs = []
    for object_id in objects:
        source = env.privileged.object_location(int(object_id))
        category = next(o for o in apartment.objects if o.id == object_id).category
        choices = [
            (p, r)
            for p in apartment.furniture
            for r in p.type.receptacles
            if (source is None or p.name != source[0]) and fits(category, r)
        ]
        piece, receptacle = choices[int(rng.integers(len(choices)))]
        target = piece.part_ids[receptacle.part] if receptacle.part and receptacle.part.startswith("drawer") else piece.id
        jobs.append(Job(int(object_id), target, Relation(receptacle.relation)))
    return jobs


class OracleAgent:
    """Feeds actions for a list of jobs; call `act(obs)` each step until it returns None."""

    def __init__(self, env: HouseholdEnv, jobs: Sequence[Job | Visit | GoTo], config: OracleConfig | None = None) -> None:
        self.env = env
        self.jobs = list(jobs)
        self.config = config or OracleConfig()
        self.results: list[JobResult] = []
        self.path: list[tuple[float, float]] = []  # the current navigation path, for maps
        self._last_outcome: ActionOutcome | None = None
        self._script = self._run()
        self._started = False
        self._steps = 0
        self._grid = self._occupancy()

    def _occupancy(self) -> GridMap:
        blocked, origin = self.env.privileged.occupancy()
        return GridMap(blocked, origin, 0.05).inflated(ROBOT_RADIUS + self.config.clearance)

    def act(self, obs: Observation) -> Action | None:
        """The next action given the latest observation, or None when every job is finished."""
        self._last_outcome = obs.last_outcome
        try:
            return next(self._script) if not self._started else self._script.send(obs)
        except StopIteration:
            return None
        finally:
            self._started = True

    # ------------------------------------------------------------------ script
    def _run(self) -> Generator[Action, Observation, None]:
        for job in self.jobs:
            steps_before = self._steps
            if isinstance(job, Visit):
                ok, reason = yield from self._visit(job)
            elif isinstance(job, GoTo):
                ok, reason = yield from self._go(job)
            else:
                ok, reason = yield from self._do_job(job)
            self.results.append(JobResult(job, ok, reason, self._steps - steps_before))
            log.info("job %s: %s %s", job, "done" if ok else "failed", reason)

    def _send(self, action: Action) -> Generator[Action, Observation, ActionOutcome]:
        self._steps += 1
        obs = yield action
        assert obs.last_outcome is not None
        return obs.last_outcome

    def _do_job(self, job: Job) -> Generator[Action, Observation, tuple[bool, str]]:
        privileged = self.env.privileged
        if privileged.held_object() is None:
            location = privileged.object_location(job.object_id)
            if location is None:
                return False, "object location unknown"
            source = next(p for p in privileged.apartment.furniture if p.name == location[0])
            gate = self._gate(source, location[1])
            error = yield from self._reach(source, gate, privileged.object_pose(job.object_id)[:3, 3])
            if error:
                return False, error
            yield from self._look_at(privileged.object_pose(job.object_id)[:3, 3])
            outcome = yield from self._send(Pick(job.object_id))
            yield from self._close(gate)
            if not outcome.success:
                return False, outcome.message
        target = self._furniture_of(job.receptacle_id)
        gate = self._destination_gate(target, job)
        error = yield from self._reach(target, gate, self._receptacle_point(target, job))
        if error:
            return False, error
        yield from self._look_at(self._receptacle_point(target, job))
        outcome = yield from self._send(Place(job.receptacle_id, job.relation))
        yield from self._close(gate)
        if not outcome.success:
            yield from self._put_down(job.object_id, exclude=target)
        return outcome.success, outcome.message

    def _visit(self, visit: Visit) -> Generator[Action, Observation, tuple[bool, str]]:
        piece = self._furniture_of(visit.furniture_id)
        surfaces = [r for r in piece.type.receptacles if r.part is None]
        points = [self.env.privileged.receptacle_point(piece.id, r.name) for r in surfaces] or [np.array([piece.x, piece.y, 0.5])]
        if not (yield from self._navigate(self._approach(piece, points[0]))):
            return False, f"could not reach {piece.name}"
        for point in points:
            yield from self._look_at(point)
        return True, f"looked at {piece.name}"

    def _go(self, goal: GoTo) -> Generator[Action, Observation, tuple[bool, str]]:
        if not (yield from self._navigate((goal.x, goal.y, goal.yaw), goal.tolerance)):
            return False, f"could not reach ({goal.x:.2f}, {goal.y:.2f})"
        if goal.look_at is not None:
            yield from self._look_at(np.asarray(goal.look_at, dtype=np.float64))
        return True, f"at ({goal.x:.2f}, {goal.y:.2f})"

    def _reach(self, piece: Furniture, gate: int | None, point: np.ndarray) -> Generator[Action, Observation, str | None]:
        """Drive to `piece` and open `gate` if it is closed; None on success, else why not.

        With a gate the robot uses the front, where drawers and doors open clear of its base.
        """
        goal = piece.access_pose() if gate is not None else self._approach(piece, point)
        if not (yield from self._navigate(goal)):
            return f"could not reach {piece.name}"
        if gate is not None and not self.env.privileged.joint_states()[gate][1]:
            yield from self._look_at(self._part_point(gate))
            outcome = yield from self._send(Open(gate))
            if not outcome.success:
                return outcome.message
        return None

    def _close(self, gate: int | None) -> Generator[Action, Observation, None]:
        if gate is not None and self.env.privileged.joint_states()[gate][1]:
            yield from self._look_at(self._part_point(gate))
            yield from self._send(Close(gate))

    def _put_down(self, object_id: int, exclude: Furniture) -> Generator[Action, Observation, bool]:
        """Free the hands after a failed place: set the object on the nearest other surface it fits."""
        apartment = self.env.privileged.apartment
        category = next(o for o in apartment.objects if o.id == object_id).category
        x, y, _ = self.env.privileged.robot_pose()
        surfaces = sorted(
            (
                p
                for p in apartment.furniture
                if p.id != exclude.id and any(r.relation == "on" and not r.part and fits(category, r) for r in p.type.receptacles)
            ),
            key=lambda p: math.hypot(p.x - x, p.y - y),
        )
        for piece in surfaces[:3]:
            point = self.env.privileged.receptacle_point(
                piece.id, next(r.name for r in piece.type.receptacles if r.relation == "on")
            )
            if not (yield from self._navigate(self._approach(piece, point))):
                continue
            yield from self._look_at(point)
            if (yield from self._send(Place(piece.id, Relation.ON))).success:
                return True
        return False

    def _approach(self, piece: Furniture, target: np.ndarray) -> tuple[float, float, float]:
        """A free pose beside `piece` nearest to `target`, facing it; the front access pose if none is nearer.

        Big furniture (a bed, a dining table) has surfaces beyond arm's reach from its front.
        """
        x0, y0, x1, y1 = piece.footprint()
        standoff = ROBOT_RADIUS + self.config.clearance + 0.15
        tx, ty = float(target[0]), float(target[1])
        candidates = [piece.access_pose()[:2]]
        candidates += [
            (x0 - standoff, float(np.clip(ty, y0, y1))),
            (x1 + standoff, float(np.clip(ty, y0, y1))),
            (float(np.clip(tx, x0, x1)), y0 - standoff),
            (float(np.clip(tx, x0, x1)), y1 + standoff),
        ]
        room = self.env.privileged.apartment.rooms[piece.room]
        free = [(x, y) for x, y in candidates if self._is_free(x, y) and room.contains(x, y, margin=ROBOT_RADIUS)]
        x, y = min(free or candidates[:1], key=lambda c: math.hypot(c[0] - tx, c[1] - ty))
        return x, y, math.atan2(ty - y, tx - x)

    def _is_free(self, x: float, y: float) -> bool:
        row, col = self._grid.to_cell(x, y)
        return self._grid.in_bounds(row, col) and not self._grid.blocked[row, col]

    def _navigate(self, goal: tuple[float, float, float], tolerance: float = 0.3) -> Generator[Action, Observation, bool]:
        privileged = self.env.privileged
        gx, gy, gyaw = goal
        # Look where it drives, slightly down: the frames of a day then show the rooms it passes through.
        yield from self._send(Look(0.0, self.config.driving_tilt))
        for _attempt in range(3):
            x, y, _ = privileged.robot_pose()
            path = plan_path(self._grid, (x, y), (gx, gy), robot_radius=0.0, goal_tolerance=tolerance)
            if path is None:
                return False
            self.path = path
            follower = PathFollower(path, self.config.follower, final_yaw=gyaw)
            blocked = 0
            for _ in range(self.config.max_steps_per_leg):
                v, omega = follower.command(*privileged.robot_pose())
                if follower.done:
                    return True
                outcome = yield from self._send(BaseVelocity(v, omega, self.config.control_dt))
                blocked = blocked + 1 if not outcome.success else 0
                if blocked >= 3:
                    break  # replan from where the base got stuck
        return False

    def _look_at(self, point: np.ndarray) -> Generator[Action, Observation, ActionOutcome]:
        pan, tilt = self.env.robot.look_angles(self.env.privileged.robot_pose(), point)
        return (yield from self._send(Look(pan, tilt)))

    # ------------------------------------------------------------------ geometry
    def _furniture_of(self, instance_id: int) -> Furniture:
        for piece in self.env.privileged.apartment.furniture:
            if piece.id == instance_id or instance_id in piece.part_ids.values():
                return piece
        raise KeyError(instance_id)

    @staticmethod
    def _gate(piece: Furniture, receptacle_name: str) -> int | None:
        receptacle = piece.receptacle(receptacle_name)
        return piece.part_ids[receptacle.part] if receptacle.part else None

    def _destination_gate(self, piece: Furniture, job: Job) -> int | None:
        if job.receptacle_id in piece.part_ids.values():
            return job.receptacle_id
        gated = [r.part for r in piece.type.receptacles if r.relation == job.relation.value and r.part]
        return piece.part_ids[gated[0]] if gated and job.relation is Relation.IN else None

    def _part_point(self, part_id: int) -> np.ndarray:
        piece = self._furniture_of(part_id)
        part = next(p for p in piece.type.parts if piece.part_ids[p.name] == part_id)
        # Aim at the middle of the part's front panel, a little above its frame origin.
        z = float(np.mean([b.center[2] for b in part.boxes]))
        return self.env.privileged.part_position(part_id) + np.array([0.0, 0.0, z])

    def _receptacle_point(self, piece: Furniture, job: Job) -> np.ndarray:
        # A job may name a relation the furniture lacks (the env then refuses it): aim at any surface.
        options = [r for r in piece.type.receptacles if r.relation == job.relation.value] or list(piece.type.receptacles)
        if job.receptacle_id in piece.part_ids.values():
            part = next(name for name, pid in piece.part_ids.items() if pid == job.receptacle_id)
            options = [r for r in options if r.part == part] or options
        return self.env.privileged.receptacle_point(piece.id, options[0].name)
