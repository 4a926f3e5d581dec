"""Skills the planner chooses from, each with a description, typed arguments (a JSON schema) and a structured outcome.

Skills act only on what the robot knows: targets are resolved in its memory (objects, furniture and parts
by memory id, rooms of its floor plan, points), paths are planned with A* on the occupancy costmap that
its own depth frames built, and manipulation goes through `env.step` with the segmenter's id of the
target. A call that memory cannot ground fails here, before anything reaches the env.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mindpalace.agent.path_following import FollowerConfig, PathFollower
from mindpalace.agent.path_planning import plan_path
from mindpalace.agent.runtime import AgentRuntime, display_name
from mindpalace.core.actions import BaseVelocity, Close, FailureReason, Look, Open, Pick, Place, Press, Relation
from mindpalace.core.robot import MANIPULATION_ACTIONS, RobotDescription
from mindpalace.memory.spatial.objects import MapObject

log = logging.getLogger(__name__)


@dataclass
class SkillConfig:
    control_dt: float = 0.2  # s per base-velocity command
    clearance: float = 0.08  # m added to the robot radius when planning on the perceived costmap
    reach_margin: float = 0.2  # m; stops this much inside the robot's reach (margin for map error)
    part_standoff: float = 0.8  # m from a drawer or door's centre to where the base stands to use it
    max_commands: int = 300  # base commands per navigate_to before it gives up
    replan_every: int = 25  # commands between replans, as the map grows on the way
    driving_tilt: float = 0.3  # head tilt (rad, down) while driving
    look_pans: tuple[float, ...] = (-2.2, -1.1, 0.0, 1.1, 2.2)
    follower: FollowerConfig = field(default_factory=FollowerConfig)

    def stop_distance(self, robot: RobotDescription) -> float:
        """How close to an object the base stops: inside the arm's reach by the margin."""
        return max(robot.reach - self.reach_margin, robot.footprint_radius)


@dataclass
class SkillOutcome:
    success: bool
    reason: str = ""  # a FailureReason value, or "unknown_target" / "no_path" / "nothing_to_explore"
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(message: str, **data: Any) -> SkillOutcome:
    return SkillOutcome(True, "", message, data)


def fail(reason: str | FailureReason, message: str) -> SkillOutcome:
    return SkillOutcome(False, reason.value if isinstance(reason, FailureReason) else reason, message)


# ---------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    kind: str  # "object" (any mapped thing: object, furniture or part), "room" or "point"
    name: str
    xy: tuple[float, float]
    obj: MapObject | None = None
    radius: float = 0.0  # m; how far the target reaches out from xy (half its footprint)


@dataclass(frozen=True)
class MappedTarget(Target):
    """A target that is a thing on memory's map, with an id the arm can use."""

    obj: MapObject


_ID = re.compile(r"(?:^|[#:\s])(\d+)\s*$")
_POINT = re.compile(r"^\(?\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)?$")


def resolve_target(runtime: AgentRuntime, text: str) -> Target | SkillOutcome:
    """'mug #12', 'object:12', '#12', a room of the floor plan, 'x, y', or a bare label (its latest sighting)."""
    phrase = str(text).strip()
    objects = runtime.objects()
    point = _POINT.match(phrase)
    if point:
        return Target("point", phrase, (float(point.group(1)), float(point.group(2))))
    # Rooms first: "bedroom 2" is a room's name, not object #2.
    for room in runtime.spatial.rooms:
        if room.name.lower() == phrase.lower().removeprefix("the "):
            return Target("room", room.name, room.center)
    id_match = _ID.search(phrase)
    if id_match:
        resolved = runtime.spatial.objects.resolve(int(id_match.group(1)))
        if resolved in objects:
            return object_target(objects[resolved])
        return fail("unknown_target", f"memory has no object #{id_match.group(1)}")
    label = phrase.lower().removeprefix("the ").replace(" ", "_")
    matches = [o for o in objects.values() if o.label == label]
    if matches:
        return object_target(max(matches, key=lambda o: o.last_seen))
    return fail("unknown_target", f"memory knows no object, room or point called {phrase!r}")


def object_target(obj: MapObject) -> Target:
    half = (obj.aabb_max[:2] - obj.aabb_min[:2]) / 2
    return Target("object", display_name(obj), (float(obj.center[0]), float(obj.center[1])), obj, float(np.linalg.norm(half)))


def mapped_target(runtime: AgentRuntime, args: dict[str, Any], key: str, kinds: tuple[str, ...]) -> MappedTarget | SkillOutcome:
    """The mapped thing `args[key]` names, if it is of one of `kinds` and has an id the arm can use."""
    target = resolve_target(runtime, args[key])
    if isinstance(target, SkillOutcome):
        return target
    if target.obj is None or runtime.spatial.scene.kind_of(target.obj) not in kinds:
        return fail(FailureReason.INVALID_ARGUMENT, f"{target.name} is not a {' or '.join(kinds)}")
    if not target.obj.source_id:
        return fail(FailureReason.UNKNOWN_TARGET, f"{target.name} has no id the arm can use (perception gave none)")
    return MappedTarget(target.kind, target.name, target.xy, target.obj, target.radius)


# ---------------------------------------------------------------------- motion
def _look(runtime: AgentRuntime, pan: float, tilt: float) -> None:
    """Point the head, within its limits; a robot without a head has nothing to point."""
    head = runtime.robot.head
    if head is not None:
        runtime.step(Look(float(np.clip(pan, *head.pan)), float(np.clip(tilt, *head.tilt))))


def _look_at(runtime: AgentRuntime, point: np.ndarray) -> None:
    if runtime.robot.head is not None:
        runtime.step(Look(*runtime.robot.look_angles(runtime.pose, point)))


def _path_to(
    runtime: AgentRuntime, goal: tuple[float, float], tolerance: float, config: SkillConfig, sees: MapObject | None = None
) -> list[tuple[float, float]] | None:
    """A* from the base to `goal` on the perceived costmap, kept `config.clearance` beyond the robot's footprint;
    ending, where it can, in sight of the furniture `sees` (not behind the wall it stands against)."""
    view_box = None
    if sees is not None and runtime.spatial.scene.kind_of(sees) == "furniture":
        # With its drawers and doors: they stand out of its box and are what is seen from its front.
        objects = runtime.objects()
        pieces = [sees, *(objects[p] for p in runtime.parts_of(sees.id) if p in objects)]
        low = np.min([o.aabb_min[:2] for o in pieces], axis=0)
        high = np.max([o.aabb_max[:2] for o in pieces], axis=0)
        view_box = ((float(low[0]), float(low[1])), (float(high[0]), float(high[1])))
    return plan_path(
        _costmap(runtime, goal),
        runtime.xy,
        goal,
        robot_radius=runtime.robot.footprint_radius + config.clearance,
        goal_tolerance=tolerance,
        view_box=view_box,
    )


def _costmap(runtime: AgentRuntime, goal: tuple[float, float]):
    """The perceived costmap over what is known plus the start and goal, 1 m around (unknown cells are free)."""
    occupancy = runtime.spatial.occupancy
    grid, _ = occupancy.costmap(inflate=False)
    rows, cols = grid.blocked.shape
    x0, y0 = grid.origin
    xs = [x0, x0 + cols * grid.resolution, runtime.xy[0], goal[0]]
    ys = [y0, y0 + rows * grid.resolution, runtime.xy[1], goal[1]]
    grid, _ = occupancy.costmap((min(xs) - 1.0, min(ys) - 1.0, max(xs) + 1.0, max(ys) + 1.0), inflate=False)
    return grid


def drive_to(
    runtime: AgentRuntime,
    goal: tuple[float, float],
    tolerance: float,
    face: tuple[float, float] | None,
    config: SkillConfig,
    sees: MapObject | None = None,
) -> SkillOutcome:
    """A* on the perceived costmap, then pure pursuit; replans as the map grows and when the base is blocked.
    `sees`: the mapped thing to end in sight of, where the map allows (`_path_to`)."""
    if not runtime.robot.mobile:
        return fail("no_path", f"{runtime.robot.name} has a fixed base and cannot drive")
    _look(runtime, 0.0, config.driving_tilt)
    commands, blocked, last_error = 0, 0, "no path"
    while commands < config.max_commands:
        path = _path_to(runtime, goal, tolerance, config, sees)
        if path is None:
            return fail("no_path", f"no path to ({goal[0]:.1f}, {goal[1]:.1f}) on the map ({last_error})")
        end = path[-1]
        final_yaw = math.atan2(face[1] - end[1], face[0] - end[0]) if face else None
        follower = PathFollower(path, config.follower, final_yaw=final_yaw)
        for _ in range(config.replan_every):
            v, omega = follower.command(*runtime.pose)
            if follower.done:
                return ok(f"reached ({end[0]:.1f}, {end[1]:.1f})", path=[tuple(map(float, p)) for p in path])
            moved = runtime.act(BaseVelocity(v, omega, config.control_dt))
            commands += 1
            blocked = blocked + 1 if not moved.success else 0
            if blocked >= 3:
                last_error = "blocked on the way"
                blocked = 0
                break
            if runtime.truncated:
                return fail("episode_over", "the env ended the episode")
    return fail(FailureReason.BLOCKED, f"gave up after {config.max_commands} base commands ({last_error})")


# ---------------------------------------------------------------------- skills
def approaches(
    runtime: AgentRuntime, target: Target, config: SkillConfig
) -> list[tuple[tuple[float, float], float, tuple[float, float] | None]]:
    """Where to drive to reach a target, best first: (goal xy, tolerance m, point to face or None).

    A drawer slides out and a door swings: the base stands off in front of it, as the furniture's access pose does,
    or, when that stand-off is blocked on the map (a wall, a merged part), gets near it. An object is reached when
    the arm can, a room when the base is inside it, a point within 0.3 m.
    """
    if target.kind == "object" and target.obj is not None and runtime.spatial.scene.kind_of(target.obj) == "part":
        return [
            (_standoff(runtime, target.obj, config), 0.35, target.xy),
            (target.xy, config.stop_distance(runtime.robot), target.xy),
        ]
    if target.kind == "object":
        tolerance = max(config.stop_distance(runtime.robot), target.radius + runtime.robot.footprint_radius + 0.25)
        return [(target.xy, tolerance, target.xy)]
    return [(target.xy, 1.0 if target.kind == "room" else 0.3, None)]


def navigate_to(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    target = resolve_target(runtime, args["target"])
    if isinstance(target, SkillOutcome):
        return target
    outcome = fail("no_path", f"no way to {target.name}")
    for goal, tolerance, face in approaches(runtime, target, config):
        outcome = drive_to(runtime, goal, tolerance, face, config, target.obj)
        if outcome.reason != "no_path":
            break
    if outcome.success and target.obj is not None:
        _look_at(runtime, target.obj.center)
    if outcome.success:
        outcome.message = f"at {target.name}" + (f" in the {runtime.room}" if runtime.room else "")
    return outcome


def stop_pose(runtime: AgentRuntime, text: str, config: SkillConfig) -> tuple[float, float, float, float, float] | SkillOutcome:
    """Where `navigate_to(text)` would stop, planned on the perceived map without driving: (x, y, yaw, pan, tilt).

    The base ends where the path to the best approach ends, facing the target (a room: along the path's last
    leg); the head looks at a mapped target's centre. A high-level answer commits to this pose.
    """
    target = resolve_target(runtime, text)
    if isinstance(target, SkillOutcome):
        return target
    for goal, tolerance, face in approaches(runtime, target, config):
        path = _path_to(runtime, goal, tolerance, config, target.obj)
        if path is None:
            continue
        x, y = (float(v) for v in path[-1])
        if face is not None and math.hypot(face[0] - x, face[1] - y) > 1e-3:
            yaw = math.atan2(face[1] - y, face[0] - x)
        elif len(path) >= 2:
            yaw = math.atan2(y - float(path[-2][1]), x - float(path[-2][0]))
        else:
            yaw = runtime.pose[2]
        pan, tilt = 0.0, config.driving_tilt
        if target.obj is not None and runtime.robot.head is not None:
            pan, tilt = runtime.robot.look_angles((x, y, yaw), target.obj.center)
        return x, y, yaw, pan, tilt
    return fail("no_path", f"no way to {target.name} on the map")


def _standoff(runtime: AgentRuntime, part: MapObject, config: SkillConfig) -> tuple[float, float]:
    """A point `part_standoff` in front of a drawer or door: away from the furniture it belongs to."""
    kind_of = runtime.spatial.scene.kind_of
    furniture = [o for o in runtime.objects().values() if kind_of(o) == "furniture"]
    px, py = float(part.center[0]), float(part.center[1])
    if not furniture:
        return px, py
    parent = min(furniture, key=lambda o: math.hypot(o.center[0] - px, o.center[1] - py))
    dx, dy = px - float(parent.center[0]), py - float(parent.center[1])
    norm = math.hypot(dx, dy)
    if norm < 1e-6:
        dx, dy, norm = runtime.xy[0] - px, runtime.xy[1] - py, max(1e-6, math.hypot(runtime.xy[0] - px, runtime.xy[1] - py))
    # Axis-aligned furniture: the front is the dominant direction from its centre to the part.
    if abs(dx) >= abs(dy):
        dx, dy = math.copysign(1.0, dx), 0.0
    else:
        dx, dy = 0.0, math.copysign(1.0, dy)
    return px + dx * config.part_standoff, py + dy * config.part_standoff


def explore(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    frontiers = runtime.spatial.occupancy.frontiers()
    x, y = runtime.xy
    # Near, large frontiers first: new space soonest per metre driven.
    for frontier in sorted(frontiers, key=lambda f: math.hypot(f.centroid[0] - x, f.centroid[1] - y) / math.sqrt(f.size))[:3]:
        vx, vy, _ = frontier.view_pose
        outcome = drive_to(runtime, (vx, vy), 0.3, frontier.centroid, config)
        if outcome.success:
            look_around(runtime, {}, config)
            return ok(f"explored towards ({frontier.centroid[0]:.1f}, {frontier.centroid[1]:.1f})")
    return fail("nothing_to_explore", "no reachable frontier left" if frontiers else "no frontier left")


def look_around(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    before = len(runtime.objects())
    head = runtime.robot.head
    if head is not None:
        for pan in config.look_pans:
            _look(runtime, pan, config.driving_tilt)
        _look(runtime, 0.0, config.driving_tilt)
    elif runtime.robot.mobile:
        # No head: the base turns on the spot, a full circle in as many steps as the head would look.
        turn = 2 * math.pi / max(len(config.look_pans), 1)
        for _ in config.look_pans:
            runtime.step(BaseVelocity(0.0, runtime.robot.max_angular, turn / runtime.robot.max_angular))
    return ok(f"looked around; {len(runtime.objects()) - before} new things in memory")


def pick(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    if runtime.held is not None:
        return fail(FailureReason.HANDS_FULL, f"already holding #{runtime.held}")
    target = mapped_target(runtime, args, "object", ("object",))
    if isinstance(target, SkillOutcome):
        return target
    _look_at(runtime, target.obj.center)
    outcome = runtime.act(Pick(target.obj.source_id), about=target.obj.id)
    if outcome.success:
        return ok(f"picked {target.name}")
    if outcome.reason is FailureReason.CONTAINER_CLOSED:
        part = _enclosing_part(runtime, target.obj)
        if part is not None:
            runtime.enclosed[target.obj.id] = part.id
            return fail(outcome.reason, f"{target.name} is inside the closed {display_name(part)}; open it first")
    return fail(outcome.reason, outcome.message)


def _enclosing_part(runtime: AgentRuntime, obj: MapObject) -> MapObject | None:
    """The drawer or door nearest the object: the env says only that it is inside a closed one.

    (The part named in the robot's own place event was tried first and did worse: stacked drawers are
    merged or split by the object map, so that id is often stale.)
    """
    kind_of = runtime.spatial.scene.kind_of
    parts = [o for o in runtime.objects().values() if kind_of(o) == "part"]
    return min(parts, key=lambda o: float(np.linalg.norm(o.center - obj.center)), default=None)


def place(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    if runtime.held is None:
        return fail(FailureReason.HANDS_EMPTY, "holding nothing")
    target = mapped_target(runtime, args, "receptacle", ("furniture", "part"))
    if isinstance(target, SkillOutcome):
        return target
    held = runtime.held
    _look_at(runtime, target.obj.center)
    outcome = runtime.act(Place(target.obj.source_id, Relation(args.get("relation", "on"))), about=target.obj.id)
    if not outcome.success:
        return fail(outcome.reason, outcome.message)
    return ok(f"put #{held} {args.get('relation', 'on')} {target.name}")


def _articulate(runtime: AgentRuntime, args: dict[str, Any], opening: bool) -> SkillOutcome:
    target = mapped_target(runtime, args, "target", ("part",))
    if isinstance(target, SkillOutcome):
        return target
    _look_at(runtime, target.obj.center)
    action = Open(target.obj.source_id) if opening else Close(target.obj.source_id)
    outcome = runtime.act(action, about=target.obj.id)
    verb = "opened" if opening else "closed"
    if outcome.success:
        return ok(f"{verb} {target.name}")
    # The goal state already holds (a drawer left open): the skill did what was asked.
    if outcome.reason is (FailureReason.ALREADY_OPEN if opening else FailureReason.ALREADY_CLOSED):
        runtime.memory.set_state(target.obj.id, "open" if opening else "closed", runtime.obs.time_s)
        return ok(f"{target.name} is {'open' if opening else 'closed'} (it already was)")
    return fail(outcome.reason, outcome.message)


def open_(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    return _articulate(runtime, args, True)


def close(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    return _articulate(runtime, args, False)


def press(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    if runtime.held is not None:
        return fail(FailureReason.HANDS_FULL, f"holding #{runtime.held}: put it down first")
    target = mapped_target(runtime, args, "target", ("control",))
    if isinstance(target, SkillOutcome):
        return target
    _look_at(runtime, target.obj.center)
    outcome = runtime.act(Press(target.obj.source_id), about=target.obj.id)
    if outcome.success:
        return ok(f"pressed {target.name}")
    return fail(outcome.reason, outcome.message)


def answer(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    runtime.record("answer", {"text": args["text"]}, (), runtime.obs.time_s, success=True)
    return ok("answered", answer=args["text"], final=True)


def done(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    return ok("the planner declared the task done", final=True)


def checkpoint(runtime: AgentRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    """One of several stops a task asks for (FindingDory's intermediate stop): the robot stays, the task goes on.

    The stop is where the robot stands and looks now; the agent loop writes it to the timeline as an event.
    """
    x, y, yaw = runtime.pose
    where = f" in the {runtime.room}" if runtime.room else ""
    return ok(f"stopped at ({x:.1f}, {y:.1f}){where}", stop={"x": x, "y": y, "yaw": yaw})


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments
    run: Callable[[AgentRuntime, dict[str, Any], SkillConfig], SkillOutcome]

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function description (the same shape as the memory tools')."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def _args(required: tuple[str, ...] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_NAME = {"type": "string", "minLength": 1, "maxLength": 80}

SKILLS: dict[str, Skill] = {
    s.name: s
    for s in (
        Skill(
            "navigate_to",
            "Drive to an object, piece of furniture or part ('mug #12'), a room ('kitchen') or a point "
            "('2.5, -1.0'), and face it.",
            _args(("target",), target={**_NAME, "description": "what to go to"}),
            navigate_to,
        ),
        Skill("explore", "Drive to the nearest unexplored part of the map and look around.", _args(), explore),
        Skill("look_around", "Turn the head all around to see what is near.", _args(), look_around),
        Skill("pick", "Pick up an object within reach ('mug #12').", _args(("object",), object=_NAME), pick),
        Skill(
            "place",
            "Put the held object on or in a piece of furniture or a drawer within reach.",
            _args(("receptacle",), receptacle=_NAME, relation={"type": "string", "enum": ["on", "in"]}),
            place,
        ),
        Skill("open", "Open a drawer or door within reach ('drawer #10').", _args(("target",), target=_NAME), open_),
        Skill("close", "Close a drawer or door within reach.", _args(("target",), target=_NAME), close),
        Skill("press", "Press a button within reach ('button #4').", _args(("target",), target=_NAME), press),
        Skill(
            "answer",
            "Answer the user's question in one sentence; ends the task.",
            _args(("text",), text={"type": "string", "minLength": 1, "maxLength": 300}),
            answer,
        ),
        Skill(
            "checkpoint",
            "Stop here as one of several places the task asks to visit; the task goes on.",
            _args(),
            checkpoint,
        ),
        Skill("done", "Say the task is complete; ends the task.", _args(), done),
    )
}


_MOTION = ("navigate_to", "explore")


def skills_for(robot: RobotDescription) -> dict[str, Skill]:
    """The skills this body has: manipulation only where the robot can do it, driving only on a mobile base."""
    return {
        name: skill
        for name, skill in SKILLS.items()
        if (name not in MANIPULATION_ACTIONS or robot.can(name)) and (name not in _MOTION or robot.mobile)
    }


def run_skill(runtime: AgentRuntime, name: str, arguments: dict[str, Any], config: SkillConfig | None = None) -> SkillOutcome:
    """Run one validated skill call; any error inside a skill becomes a failed outcome, never a crash of the loop."""
    skill = skills_for(runtime.robot).get(name)
    if skill is None:
        known = "unknown skill" if name not in SKILLS else f"{runtime.robot.name} cannot do"
        return fail(FailureReason.INVALID_ARGUMENT, f"{known} {name!r}")
    try:
        return skill.run(runtime, arguments, config or SkillConfig())
    except (ValueError, KeyError, TypeError) as error:
        log.exception("skill %s(%s) failed", name, arguments)
        return fail(FailureReason.INVALID_ARGUMENT, f"{name} failed: {error}")
