"""The agent node: instructions in, the lead's planner over memory queries, a ROS 2 robot's actions out.

The planner, its prompts, the critic, the loop guard and the affordances are the agent's own (`run_episode`); what
differs on ROS 2 is where memory and the body are:
- memory: the memory node, through `RemoteReader` (its query service) for the planner, and a mirror of its map (the
  scene graph it publishes) for grounding "mug #12" to a place, as the runtime grounds it in its own map;
- the body: `RosRuntime` carries the planner's skills out as nav2 `NavigateToPose` goals in the map frame (the
  standing pose is chosen on the memory node's occupancy grid) and `mindpalace_msgs/Manipulate` goals, and writes
  the robot's own events to memory through the record_event service.
An instruction comes as the `Instruct` action (feedback per planner step) or on a String topic; the answer and a
status go out on topics.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mindpalace.agent.builder import build_backend, build_planner
from mindpalace.agent.config import AgentConfig
from mindpalace.agent.episode import EpisodeRecord, StepRecord
from mindpalace.agent.loop import EpisodeBudget, run_episode
from mindpalace.agent.path_planning import plan_path
from mindpalace.agent.runtime import StepStats, display_name
from mindpalace.agent.skills import (
    SkillConfig,
    SkillOutcome,
    Target,
    approaches,
    fail,
    mapped_target,
    ok,
    resolve_target,
    skills_for,
)
from mindpalace.core.actions import FailureReason
from mindpalace.core.config import Component
from mindpalace.core.geometry import make_pose, pose_from_xy_yaw, yaw_of
from mindpalace.core.robot import RobotDescription
from mindpalace.memory.spatial.memory import SpatialMemory
from mindpalace.memory.spatial.objects import MapObject
from mindpalace.memory.spatial.rooms import RoomRegion
from mindpalace.planning.planner import PlannerConfig
from mindpalace.ros.actions import ActionClient, ActionServer, GoalHandle
from mindpalace.ros.convert import pose_from_msg, pose_stamped_msg, rgb_from_msg
from mindpalace.ros.map_messages import grid_from_msg
from mindpalace.ros.messages.common import GoalStatus, Point, PoseArray, String, Time, Vector3
from mindpalace.ros.messages.maps import OccupancyGrid
from mindpalace.ros.messages.mindpalace_msgs import (
    INSTRUCT,
    MANIPULATE,
    QUERY,
    RECORD_EVENT,
    Event,
    InstructFeedback,
    InstructResult,
    ManipulateGoal,
    RecordEventRequest,
)
from mindpalace.ros.messages.nav2 import NAVIGATE_TO_POSE, NavigateToPoseGoal
from mindpalace.ros.messages.sensor import Image, TFMessage
from mindpalace.ros.qos import DEFAULT, TF, TRANSIENT_LOCAL, QosProfile
from mindpalace.ros.remote_reader import RemoteReader
from mindpalace.ros.sim_bridge import ROBOT_DESCRIPTION_TOPIC, robot_from_json
from mindpalace.ros.tf import TfBuffer, TfError
from mindpalace.ros.transport import Transport, TransportError, resolve

log = logging.getLogger(__name__)


@dataclass
class AgentNodeConfig:
    """The agent node's parameters (ros/params/agent_node.yaml)."""

    llm: Component = field(default_factory=lambda: Component("local"))
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    budget: EpisodeBudget = field(default_factory=lambda: EpisodeBudget(max_steps=8, max_wall_s=600.0))
    skills: SkillConfig = field(default_factory=SkillConfig)
    memory_namespace: str = "/mindpalace"  # the memory node's services and map
    namespace: str = "/mindpalace"  # this node's action and topics: instruct, instruction, answer, agent_status
    map_frame: str = "map"
    base_frame: str = "base_link"
    color_topic: str = "/camera/color/image_raw"  # the frame kept with each step of an episode
    navigate_action: str = "/navigate_to_pose"
    manipulate_action: str = "/mindpalace/manipulate"
    robot_description_topic: str = ROBOT_DESCRIPTION_TOPIC
    action_timeout_s: float = 300.0
    map_wait_s: float = 5.0  # after an action, how long to wait for memory's map to show its outcome
    seed: int = 0

    def agent_config(self) -> AgentConfig:
        return AgentConfig(llm=self.llm, planner=self.planner, budget=self.budget, skills=self.skills, seed=self.seed)


class MapMirror:
    """The memory node's map as the agent's affordances and target grounding read it: objects, rooms, states.

    Rebuilt from each scene graph the memory node publishes; it is a read-only copy (writes go to memory's services).
    """

    def __init__(self) -> None:
        self.spatial = SpatialMemory()
        self.version = 0
        self._changed = threading.Condition()

    def update(self, text: str) -> None:
        data = json.loads(text)
        extra = data.get("mindpalace", {})
        sources = {int(k): int(v) for k, v in extra.get("source_ids", {}).items()}
        objects: dict[int, MapObject] = {}
        rooms: list[RoomRegion] = []
        for node in data["nodes"]:
            kind, _, number = str(node["id"]).partition(":")
            if kind == "room":
                rooms.append(
                    RoomRegion(int(number), node["label"], tuple(tuple(p) for p in node["polygon"]), bool(node.get("privileged")))
                )
                continue
            low, high = np.asarray(node["aabb"][0], float), np.asarray(node["aabb"][1], float)
            corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
            objects[int(number)] = MapObject(
                int(number),
                node["label"],
                np.zeros(1, np.float32),
                corners,
                int(node.get("observations", 1)),
                float(node.get("first_seen", 0.0)),
                float(node.get("last_seen", 0.0)),
                1.0,
                dict(node.get("attributes", {})),
                source_id=sources.get(int(number), 0),
            )
        spatial = SpatialMemory()
        spatial.objects.objects = objects
        spatial.objects.aliases = {int(k): int(v) for k, v in extra.get("aliases", {}).items()}
        spatial.scene.states = {int(k): str(v) for k, v in extra.get("states", {}).items()}
        spatial.rooms = rooms
        with self._changed:
            self.spatial = spatial
            self.version += 1
            self._changed.notify_all()

    def wait_newer(self, version: int, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        with self._changed:
            while self.version <= version:
                if (left := end - time.monotonic()) <= 0:
                    return False
                self._changed.wait(left)
        return True

    def flush(self) -> None:
        """Nothing to write: memory is the memory node's (the loop flushes a local memory here)."""


@dataclass
class _Frame:
    """What the episode record keeps of the latest camera frame, and the robot's clock."""

    rgb: np.ndarray
    time_s: float

    def clock(self) -> str:
        return ""


class RosRuntime:
    """The robot as the agent loop drives it, over ROS 2 (what `AgentRuntime` is for an env in the same process)."""

    def __init__(self, node: AgentNode, robot: RobotDescription) -> None:
        self.node = node
        self.robot = robot
        self.memory = node.mirror
        self.actor = "robot"
        self.held: int | None = None
        self.enclosed: dict[int, int] = {}
        self.stats = StepStats()
        self.truncated = False
        self.trail: list[tuple[float, float]] = [self.xy]

    # ------------------------------------------------------------------ what the robot knows of itself
    @property
    def obs(self) -> _Frame:
        return _Frame(self.node.latest_rgb(), self.node.clock())

    @property
    def pose(self) -> tuple[float, float, float]:
        base = self.node.base_pose()
        return float(base[0, 3]), float(base[1, 3]), yaw_of(base)

    @property
    def xy(self) -> tuple[float, float]:
        x, y, _ = self.pose
        return x, y

    @property
    def room(self) -> str | None:
        return self.room_at(*self.xy)

    @property
    def spatial(self) -> SpatialMemory:
        """The memory node's map as last mirrored."""
        return self.memory.spatial

    def room_at(self, x: float, y: float) -> str | None:
        return next((r.name for r in self.spatial.rooms if r.contains(x, y)), None)

    def objects(self) -> dict[int, MapObject]:
        return self.spatial.objects.objects

    # ------------------------------------------------------------------ acting
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
        """One of the robot's own events, written to memory through the record_event service."""
        x, y = self.xy
        event = Event(
            self.actor,
            action,
            Time.from_seconds(start_s),
            Time.from_seconds(self.node.clock()),
            json.dumps(arguments, default=str),
            [int(i) for i in objects],
            [],
            self.room or "",
            success,
            reason,
            True,
            Point(x, y, 0.0),
        )
        try:
            response = self.node.record_event.call(RecordEventRequest(event), timeout_s=10.0)
        except TransportError as error:
            log.warning("event %s not recorded: %s", action, error)
            return 0
        return int(response.event_id)

    def refresh(self) -> None:
        """Wait (briefly) for memory's map to show what the robot just did."""
        self.memory.wait_newer(self.memory.version, self.node.config.map_wait_s)
        self.trail.append(self.xy)

    def navigate(self, goal: tuple[float, float], tolerance: float, face: tuple[float, float] | None) -> SkillOutcome:
        """A standing point within `tolerance` of `goal`, reachable on memory's grid, sent as a NavigateToPose goal."""
        grid_msg = self.node.latest_map()
        if grid_msg is None:
            return fail("no_path", "no map from the memory node yet")
        start = self.xy
        path = plan_path(
            grid_from_msg(grid_msg, [start, goal]),
            start,
            goal,
            robot_radius=self.robot.footprint_radius + self.node.config.skills.clearance,
            goal_tolerance=tolerance,
        )
        if path is None:
            return fail("no_path", f"no path to ({goal[0]:.1f}, {goal[1]:.1f}) on the map")
        end = (float(path[-1][0]), float(path[-1][1]))
        yaw = math.atan2(face[1] - end[1], face[0] - end[0]) if face else self.pose[2]
        status, result = self.node.navigate(end, yaw)
        self.stats.env_steps += 1
        self.refresh()
        if status != GoalStatus.STATUS_SUCCEEDED:
            detail = result.error_msg if result is not None else "the goal was rejected"
            return fail(FailureReason.BLOCKED, f"navigation to ({end[0]:.1f}, {end[1]:.1f}) failed: {detail}")
        return ok(f"reached ({end[0]:.1f}, {end[1]:.1f})", path=[tuple(map(float, p)) for p in path])

    def manipulate(self, verb: str, target: Target, relation: str = "") -> tuple[bool, str, str]:
        """(success, reason, message) of a Manipulate goal on a mapped thing."""
        obj = target.obj
        assert obj is not None
        pose = make_pose(np.eye(3), obj.center)
        goal = ManipulateGoal(
            verb,
            obj.id,
            obj.label,
            int(obj.source_id),
            pose_stamped_msg(pose, self.node.clock(), self.node.config.map_frame),
            Vector3(*(float(v) for v in obj.aabb_max - obj.aabb_min)),
            relation,
        )
        status, result = self.node.manipulation.run(goal, timeout_s=self.node.config.action_timeout_s)
        self.stats.env_steps += 1
        if result is None:
            return False, FailureReason.INVALID_ARGUMENT.value, "the manipulation goal was rejected"
        return bool(result.success) and status == GoalStatus.STATUS_SUCCEEDED, result.reason, result.message


# ---------------------------------------------------------------------- skills on a ROS 2 robot
def ros_navigate_to(runtime: RosRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    target = resolve_target(runtime, args["target"])  # type: ignore[arg-type]
    if isinstance(target, SkillOutcome):
        return target
    outcome = fail("no_path", f"no way to {target.name}")
    for goal, tolerance, face in approaches(runtime, target, config):  # type: ignore[arg-type]
        outcome = runtime.navigate(goal, tolerance, face)
        if outcome.reason != "no_path":
            break
    if outcome.success:
        outcome.message = f"at {target.name}" + (f" in the {runtime.room}" if runtime.room else "")
    return outcome


def ros_explore(runtime: RosRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    frontiers = runtime.node.latest_frontiers()
    for pose in frontiers[:3]:
        x, y = float(pose.position.x), float(pose.position.y)
        ahead = pose_from_msg(pose) @ np.array([1.0, 0.0, 0.0, 1.0])
        outcome = runtime.navigate((x, y), 0.3, (float(ahead[0]), float(ahead[1])))
        if outcome.success:
            return ok(f"explored towards ({x:.1f}, {y:.1f})")
    return fail("nothing_to_explore", "no reachable frontier left" if frontiers else "no frontier left")


def ros_look_around(runtime: RosRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    before = len(runtime.objects())
    x, y, yaw = runtime.pose
    for turn in (2.1, 4.2, 2 * math.pi):  # a full turn on the spot, in three
        heading = yaw + turn
        status, _ = runtime.node.navigate((x, y), heading)
        if status != GoalStatus.STATUS_SUCCEEDED:
            return fail(FailureReason.BLOCKED, "could not turn on the spot")
    runtime.refresh()
    return ok(f"looked around; {len(runtime.objects()) - before} new things in memory")


def _manipulation(runtime: RosRuntime, verb: str, target: Target, start_s: float, relation: str = "") -> SkillOutcome:
    success, reason, message = runtime.manipulate(verb, target, relation)
    held = runtime.held
    if verb == "place":
        objects = tuple(i for i in (held, target.obj.id) if i is not None)  # type: ignore[union-attr]
        holding = runtime.objects().get(held) if held is not None else None
        name = display_name(holding) if holding is not None else "something"
        arguments = {"object": name, "receptacle": target.name, "relation": relation}
    else:
        objects, arguments = (target.obj.id,), {"object": target.name}  # type: ignore[union-attr]
    runtime.record(verb, arguments, objects, start_s, success=success, reason=reason, importance=0.8)
    if success:
        runtime.held = target.obj.id if verb == "pick" else (None if verb == "place" else runtime.held)  # type: ignore[union-attr]
    runtime.refresh()
    if success:
        return ok(
            {"pick": f"picked {target.name}", "place": f"put #{held} {relation} {target.name}"}.get(
                verb, f"{verb}ed {target.name}"
            )
        )
    if (
        verb in ("open", "close")
        and reason == (FailureReason.ALREADY_OPEN if verb == "open" else FailureReason.ALREADY_CLOSED).value
    ):
        return ok(f"{target.name} is {'open' if verb == 'open' else 'closed'} (it already was)")
    return fail(reason or FailureReason.INVALID_ARGUMENT.value, message)


def ros_pick(runtime: RosRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    if runtime.held is not None:
        return fail(FailureReason.HANDS_FULL, f"already holding #{runtime.held}")
    target = mapped_target(runtime, args, "object", ("object",))  # type: ignore[arg-type]
    return target if isinstance(target, SkillOutcome) else _manipulation(runtime, "pick", target, runtime.node.clock())


def ros_place(runtime: RosRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    if runtime.held is None:
        return fail(FailureReason.HANDS_EMPTY, "holding nothing")
    target = mapped_target(runtime, args, "receptacle", ("furniture", "part"))  # type: ignore[arg-type]
    if isinstance(target, SkillOutcome):
        return target
    return _manipulation(runtime, "place", target, runtime.node.clock(), args.get("relation", "on"))


def _articulate(runtime: RosRuntime, args: dict[str, Any], verb: str) -> SkillOutcome:
    target = mapped_target(runtime, args, "target", ("part",))  # type: ignore[arg-type]
    return target if isinstance(target, SkillOutcome) else _manipulation(runtime, verb, target, runtime.node.clock())


def ros_answer(runtime: RosRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    runtime.record("answer", {"text": args["text"]}, (), runtime.node.clock(), success=True)
    return ok("answered", answer=args["text"], final=True)


def ros_done(runtime: RosRuntime, args: dict[str, Any], config: SkillConfig) -> SkillOutcome:
    return ok("the planner declared the task done", final=True)


ROS_SKILLS = {
    "navigate_to": ros_navigate_to,
    "explore": ros_explore,
    "look_around": ros_look_around,
    "pick": ros_pick,
    "place": ros_place,
    "open": lambda runtime, args, config: _articulate(runtime, args, "open"),
    "close": lambda runtime, args, config: _articulate(runtime, args, "close"),
    "answer": ros_answer,
    "done": ros_done,
}


def run_ros_skill(runtime: RosRuntime, name: str, arguments: dict[str, Any], config: SkillConfig | None = None) -> SkillOutcome:
    """One validated skill call on the ROS 2 robot; an error inside becomes a failed outcome, never a crash."""
    if name not in skills_for(runtime.robot) or name not in ROS_SKILLS:
        return fail(FailureReason.INVALID_ARGUMENT, f"{runtime.robot.name} cannot do {name!r}")
    try:
        return ROS_SKILLS[name](runtime, arguments, config or SkillConfig())
    except (ValueError, KeyError, TypeError, TransportError) as error:
        log.exception("skill %s(%s) failed", name, arguments)
        return fail(FailureReason.INVALID_ARGUMENT, f"{name} failed: {error}")


# ---------------------------------------------------------------------- the node
class AgentNode:
    """The agent node on a transport. `run(task)` carries out one instruction (one at a time)."""

    def __init__(
        self, config: AgentNodeConfig, transport: Transport, robot: RobotDescription | None = None, backend: Any = None
    ) -> None:
        self.config = config
        self.transport = transport
        self.mirror = MapMirror()
        self.tf = TfBuffer()
        self._map: OccupancyGrid | None = None
        self._frontiers: PoseArray | None = None
        self._rgb: Image | None = None
        self._robot_text: str | None = None
        self._busy = threading.Lock()
        memory = config.memory_namespace
        transport.subscribe(resolve("scene_graph", memory), String, TRANSIENT_LOCAL, lambda m: self.mirror.update(m.data))
        transport.subscribe(resolve("map", memory), OccupancyGrid, TRANSIENT_LOCAL, self._on_map)
        transport.subscribe(resolve("frontiers", memory), PoseArray, DEFAULT, self._on_frontiers)
        transport.subscribe("/tf_static", TFMessage, TRANSIENT_LOCAL, lambda m: self._on_tf(m, True))
        transport.subscribe("/tf", TFMessage, TF, lambda m: self._on_tf(m, False))
        transport.subscribe(config.color_topic, Image, QosProfile(reliable=False, depth=1), self._on_rgb)
        transport.subscribe(config.robot_description_topic, String, TRANSIENT_LOCAL, self._on_robot)
        self.query = transport.client(resolve("query", memory), QUERY)
        self.record_event = transport.client(resolve("record_event", memory), RECORD_EVENT)
        self.navigation = ActionClient(transport, config.navigate_action, NAVIGATE_TO_POSE)
        self.manipulation = ActionClient(transport, config.manipulate_action, MANIPULATE)
        self.reader = RemoteReader(self.query)
        self._robot = robot
        self._backend = backend
        self._planner: Any = None
        own = config.namespace
        self._answers = transport.publisher(resolve("answer", own), String, DEFAULT)
        self._status = transport.publisher(resolve("agent_status", own), String, DEFAULT)

    def serve(self, timeout_s: float = 300.0) -> None:
        """Get ready (`prepare`), then take instructions: the Instruct action and the instruction topic."""
        self.prepare(timeout_s)
        own = self.config.namespace
        self.transport.subscribe(resolve("instruction", own), String, DEFAULT, self._on_instruction)
        ActionServer(self.transport, resolve("instruct", own), INSTRUCT, self._instruct)

    # ------------------------------------------------------------------ inputs
    def _on_map(self, msg: OccupancyGrid) -> None:
        self._map = msg

    def _on_frontiers(self, msg: PoseArray) -> None:
        self._frontiers = msg

    def _on_rgb(self, msg: Image) -> None:
        self._rgb = msg

    def _on_robot(self, msg: String) -> None:
        self._robot_text = msg.data

    def _on_tf(self, msg: TFMessage, static: bool) -> None:
        for transform in msg.transforms:
            try:
                self.tf.add(transform, static)
            except ValueError as error:
                log.warning("bad transform ignored: %s", error)

    def latest_map(self) -> OccupancyGrid | None:
        return self._map

    def latest_frontiers(self) -> list[Any]:
        return list(self._frontiers.poses) if self._frontiers is not None else []

    def latest_rgb(self) -> np.ndarray:
        try:
            return rgb_from_msg(self._rgb) if self._rgb is not None else np.zeros((1, 1, 3), np.uint8)
        except ValueError:
            return np.zeros((1, 1, 3), np.uint8)

    def clock(self) -> float:
        """The robot's time: the newest TF stamp (the simulator's /clock on a sim), else the wall clock."""
        latest = self.tf.latest_stamp()
        return latest if latest is not None else time.time()

    def base_pose(self) -> np.ndarray:
        stamp = self.tf.latest_stamp()
        if stamp is None:
            raise TfError("unknown_frame", "no /tf from the robot yet")
        return self.tf.lookup(self.config.map_frame, self.config.base_frame, stamp, tolerance_s=1.0)

    def robot(self, timeout_s: float = 30.0) -> RobotDescription:
        """The robot description: given, or published by the robot (transient local)."""
        end = time.monotonic() + timeout_s
        while self._robot is None and time.monotonic() < end:
            if self._robot_text is not None:
                self._robot = robot_from_json(self._robot_text)
            else:
                time.sleep(0.05)
        if self._robot is None:
            raise TransportError(f"no robot description on {self.config.robot_description_topic} within {timeout_s:.0f} s")
        return self._robot

    def navigate(self, xy: tuple[float, float], yaw: float) -> tuple[int, Any]:
        goal = NavigateToPoseGoal(pose_stamped_msg(pose_from_xy_yaw(xy[0], xy[1], yaw), self.clock(), self.config.map_frame))
        return self.navigation.run(goal, timeout_s=self.config.action_timeout_s)

    # ------------------------------------------------------------------ instructions
    def ready(self, timeout_s: float = 60.0) -> bool:
        """Memory, the map, the robot's pose and its actions are all reachable."""
        end = time.monotonic() + timeout_s
        if not (self.query.wait_for_service(timeout_s) and self.record_event.wait_for_service(max(0.1, end - time.monotonic()))):
            return False
        if not (self.navigation.wait_for_server(max(0.1, end - time.monotonic())) and self.manipulation.wait_for_server(1.0)):
            return False
        while time.monotonic() < end:
            if self._map is not None and self.tf.latest_stamp() is not None and self.mirror.version > 0:
                return True
            time.sleep(0.05)
        return False

    def prepare(self, timeout_s: float = 60.0) -> None:
        """The robot description read and the planner built (the model loaded), before the first instruction."""
        if self._planner is None:
            agent = self.config.agent_config()
            robot = self.robot(timeout_s)
            if not self.query.wait_for_service(timeout_s):
                raise TransportError(f"no memory node answers on {resolve('query', self.config.memory_namespace)}")
            self._planner = build_planner(agent, self.reader, robot, self._backend or build_backend(agent))

    def run(self, task: str, progress: Any = None) -> EpisodeRecord:
        with self._busy:
            self.prepare()
            robot = self.robot()
            agent = self.config.agent_config()
            runtime = RosRuntime(self, robot)
            self._status.publish(String(json.dumps({"state": "running", "task": task})))
            record = run_episode(
                runtime,  # type: ignore[arg-type]
                self._planner,
                task,
                budget=self.config.budget,
                seed=self.config.seed,
                planner_name=f"{agent.llm.type}/{agent.planner.mode}",
                skill_config=self.config.skills,
                progress=progress,
                skill_runner=run_ros_skill,
            )
            self._answers.publish(String(record.answer or ""))
            self._status.publish(
                String(json.dumps({"state": "idle", "task": task, "reason": record.reason, "success": record.success}))
            )
            return record

    def _instruct(self, handle: GoalHandle) -> InstructResult:
        def progress(step: StepRecord) -> None:
            handle.publish_feedback(
                InstructFeedback(step.index, step.skill, json.dumps(step.arguments), step.success, step.message)
            )

        record = self.run(handle.goal.instruction, progress)
        steps = [{k: v for k, v in asdict(s).items() if k not in ("frame", "choice")} for s in record.steps]
        return InstructResult(record.success, record.answer or "", record.reason, json.dumps({"steps": steps}, default=str))

    def _on_instruction(self, msg: String) -> None:
        threading.Thread(target=self._run_quietly, args=(msg.data,), name="instruction", daemon=True).start()

    def _run_quietly(self, task: str) -> None:
        try:
            self.run(task)
        except Exception:
            log.exception("instruction %r failed", task)
