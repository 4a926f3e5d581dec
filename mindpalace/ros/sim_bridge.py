"""The sim bridge: the household simulator as a ROS 2 robot.

It publishes what a robot's drivers would: colour, aligned depth and camera_info (and the simulator's instance
segmentation with its label table), TF (map -> odom -> base_link -> camera_color_optical_frame), /clock, the floor
plan's room names and the robot description (both transient local). It takes /cmd_vel (geometry_msgs/Twist),
serves nav2's NavigateToPose (`/navigate_to_pose`) and the manipulation action (`/mindpalace/manipulate`,
mindpalace_msgs/Manipulate).

Navigation stands in for nav2: A* on the occupancy grid the memory node publishes (what the robot has seen;
unknown space counts as free) and pure pursuit, replanning as the map grows, with the agent's own planner and
follower. Manipulation acts on the target's segmenter id (the simulator's instance id), after pointing the head at
the target's pose. With `lockstep`, each frame waits until the memory node has filed it (its `filed` topic), so a
slow machine slows the simulated world instead of losing frames.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field

import numpy as np

from mindpalace.agent.path_following import PathFollower
from mindpalace.agent.path_planning import plan_path
from mindpalace.agent.skills import SkillConfig
from mindpalace.core.actions import (
    Action,
    ActionOutcome,
    BaseVelocity,
    Close,
    FailureReason,
    Look,
    Open,
    Pick,
    Place,
    Relation,
    Wait,
)
from mindpalace.core.config import Component
from mindpalace.core.env import floor_plan_of
from mindpalace.core.geometry import quat_to_matrix
from mindpalace.core.robot import HeadLimits, RobotDescription
from mindpalace.core.types import Observation
from mindpalace.envs import ENVS
from mindpalace.ros.actions import ActionServer, GoalHandle
from mindpalace.ros.convert import pose_stamped_msg
from mindpalace.ros.map_messages import grid_from_msg
from mindpalace.ros.messages.common import Clock, Duration, String, Time, Twist
from mindpalace.ros.messages.maps import OccupancyGrid
from mindpalace.ros.messages.mindpalace_msgs import MANIPULATE, ManipulateFeedback, ManipulateResult
from mindpalace.ros.messages.nav2 import NAVIGATE_TO_POSE, NavigateToPoseFeedback, NavigateToPoseResult
from mindpalace.ros.messages.sensor import TFMessage
from mindpalace.ros.qos import DEFAULT, SENSOR_DATA, TF, TRANSIENT_LOCAL, QosProfile
from mindpalace.ros.record import FLOOR_PLAN_TOPIC, floor_plan_json
from mindpalace.ros.sensor_messages import CameraTopics, RobotFrames, camera_messages, robot_static_tf, robot_tf
from mindpalace.ros.transport import Transport

log = logging.getLogger(__name__)

ROBOT_DESCRIPTION_TOPIC = "/mindpalace/robot_description"


def _household() -> Component:
    return Component("mindpalace/Household-v0", {"n_rooms": 4, "max_episode_steps": 1_000_000})


@dataclass
class SimBridgeConfig:
    env: Component = field(default_factory=_household)
    seed: int = 0
    rate_hz: float = 10.0  # camera and TF while no command runs (the simulator waits 1/rate per frame)
    segmentation: bool = True  # publish the simulator's instance segmentation (for the ground_truth segmenter)
    map_topic: str = "/mindpalace/map"  # the occupancy grid navigation plans on
    filed_topic: str = "/mindpalace/filed"  # the memory node's filed frames (lockstep)
    lockstep: bool = False
    lockstep_timeout_s: float = 60.0
    goal_tolerance: float = 0.15  # m: how near a NavigateToPose goal the base must stop
    navigation: SkillConfig = field(default_factory=SkillConfig)


def robot_description_json(robot: RobotDescription) -> str:
    data = asdict(robot)
    data["manipulation"] = sorted(robot.manipulation)
    return json.dumps(data)


def robot_from_json(text: str) -> RobotDescription:
    data = json.loads(text)
    head = data.pop("head")
    return RobotDescription(
        **{**data, "hand_offset": tuple(data["hand_offset"]), "manipulation": frozenset(data["manipulation"])},
        head=HeadLimits(tuple(head["pivot"]), tuple(head["pan"]), tuple(head["tilt"])) if head else None,
    )


class SimBridge:
    """One simulated robot on a transport. `step` is the only way its env moves (under a lock)."""

    def __init__(self, config: SimBridgeConfig, transport: Transport) -> None:
        self.config = config
        self.transport = transport
        self.topics, self.frames = CameraTopics(), RobotFrames()
        self.busy = threading.Event()  # an action or a scripted day moves the robot: no idle frames meanwhile
        self._closing = threading.Event()
        self._requests: queue.Queue[tuple[Action, Callable[[Observation], None] | None, Future[Observation]]] = queue.Queue()
        self._twist: tuple[float, float, float] = (0.0, 0.0, -math.inf)  # v, omega, when
        self._map: OccupancyGrid | None = None
        self._filed = -math.inf
        self._filed_changed = threading.Condition()
        self._serving = threading.Event()  # publishers made: idle frames may go out
        # The env lives on one thread (its renderer's GL context is bound to the thread that made it).
        started: Future[None] = Future()
        self._thread = threading.Thread(target=self._run_env, args=(started,), name="sim-env", daemon=True)
        self._thread.start()
        started.result()
        env, obs = self.env, self.obs
        self.robot = env.robot
        self._publishers = {
            topic: transport.publisher(topic, type(msg), SENSOR_DATA)
            for topic, msg in camera_messages(obs, 0.0, self.topics, self.frames, segmentation=config.segmentation)
        }
        self._tf = transport.publisher("/tf", TFMessage, TF)
        self._clock = transport.publisher("/clock", Clock, QosProfile(reliable=False, depth=1))
        transport.publisher("/tf_static", TFMessage, TRANSIENT_LOCAL).publish(robot_static_tf(self.frames, obs.time_s))
        plan = floor_plan_of(env)
        if plan:
            transport.publisher(FLOOR_PLAN_TOPIC, String, TRANSIENT_LOCAL).publish(String(floor_plan_json(plan)))
        transport.publisher(ROBOT_DESCRIPTION_TOPIC, String, TRANSIENT_LOCAL).publish(String(robot_description_json(self.robot)))
        transport.subscribe("/cmd_vel", Twist, DEFAULT, self._on_twist)
        transport.subscribe(config.map_topic, OccupancyGrid, TRANSIENT_LOCAL, self._on_map)
        transport.subscribe(config.filed_topic, Time, QosProfile(depth=100), self._on_filed)
        self.navigation = ActionServer(transport, "/navigate_to_pose", NAVIGATE_TO_POSE, self._navigate)
        self.manipulation = ActionServer(transport, "/mindpalace/manipulate", MANIPULATE, self._manipulate)
        self._serving.set()

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=30.0)
        self.transport.close()

    # ------------------------------------------------------------------ stepping and publishing
    def step(self, action: Action, before_publish: Callable[[Observation], None] | None = None) -> Observation:
        """One env step (on the env's thread); its frame and TF are published, and in lockstep filed by memory,
        before this returns. `before_publish(obs)` runs between the step and the publication (what the robot did is
        told before what it then sees)."""
        done: Future[Observation] = Future()
        self._requests.put((action, before_publish, done))
        obs = done.result()
        if self.config.lockstep:
            self.wait_filed(obs.time_s)
        return obs

    def _run_env(self, started: Future[None]) -> None:
        try:
            self.env = ENVS.make(self.config.env.type, **self.config.env.args)
            self.obs, _ = self.env.reset(seed=self.config.seed)
        except BaseException as error:
            started.set_exception(error)
            return
        started.set_result(None)
        period = 1.0 / self.config.rate_hz
        while not self._closing.is_set():
            try:
                action, hook, done = self._requests.get(timeout=period)
            except queue.Empty:
                if self.busy.is_set() or not self._serving.is_set():
                    continue
                v, omega, when = self._twist
                fresh = time.monotonic() - when < 0.5  # a cmd_vel older than this has stopped, as a base controller times out
                action, hook, done = (BaseVelocity(v, omega, period) if fresh else Wait(period)), None, Future()
            try:
                obs, _, _, _, _ = self.env.step(action)
                self.obs = obs
                if hook is not None:
                    hook(obs)
                self.publish(obs)
                done.set_result(obs)
            except Exception as error:
                log.exception("sim step failed")
                done.set_exception(error)
        self.env.close()

    def publish(self, obs: Observation) -> None:
        stamp = obs.time_s
        self._clock.publish(Clock(Time.from_seconds(stamp)))
        self._tf.publish(robot_tf(obs, stamp, self.frames))
        for topic, msg in camera_messages(obs, stamp, self.topics, self.frames, segmentation=self.config.segmentation):
            self._publishers[topic].publish(msg)

    def wait_filed(self, stamp_s: float) -> bool:
        end = time.monotonic() + self.config.lockstep_timeout_s
        with self._filed_changed:
            while self._filed < stamp_s - 1e-6:
                if (left := end - time.monotonic()) <= 0 or self._closing.is_set():
                    log.warning("memory did not file the frame at %.2f s within %.0f s", stamp_s, self.config.lockstep_timeout_s)
                    return False
                self._filed_changed.wait(min(left, 0.5))
        return True

    def _on_filed(self, stamp: Time) -> None:
        with self._filed_changed:
            self._filed = max(self._filed, stamp.seconds())
            self._filed_changed.notify_all()

    def _on_twist(self, msg: Twist) -> None:
        self._twist = (float(msg.linear.x), float(msg.angular.z), time.monotonic())

    def _on_map(self, msg: OccupancyGrid) -> None:
        self._map = msg

    # ------------------------------------------------------------------ state
    @property
    def pose(self) -> tuple[float, float, float]:
        base = self.obs.base_pose
        return float(base[0, 3]), float(base[1, 3]), math.atan2(float(base[1, 0]), float(base[0, 0]))

    def look(self, pan: float, tilt: float) -> None:
        if self.robot.head is not None:
            self.step(Look(pan, tilt))

    # ------------------------------------------------------------------ navigation (a nav2 stand-in)
    def _navigate(self, handle: GoalHandle) -> NavigateToPoseResult:
        goal = handle.goal.pose
        if goal.header.frame_id.lstrip("/") not in ("", self.frames.map):
            handle.abort()
            return NavigateToPoseResult(9002, f"goals are taken in the {self.frames.map} frame, not {goal.header.frame_id!r}")
        target = (float(goal.pose.position.x), float(goal.pose.position.y))
        q = goal.pose.orientation
        rotation = (
            quat_to_matrix(np.array([q.x, q.y, q.z, q.w], dtype=np.float64)) if (q.x, q.y, q.z, q.w) != (0, 0, 0, 0) else None
        )
        final_yaw = math.atan2(rotation[1, 0], rotation[0, 0]) if rotation is not None else None
        config, started = self.config.navigation, time.monotonic()
        self.busy.set()
        try:
            self.look(0.0, config.driving_tilt)
            commands, blocked = 0, 0
            while commands < config.max_commands:
                x, y, _ = self.pose
                if self._map is None:
                    handle.abort()
                    return NavigateToPoseResult(9000, f"no map on {self.config.map_topic} yet")
                grid = grid_from_msg(self._map, [(x, y), target])
                path = plan_path(
                    grid,
                    (x, y),
                    target,
                    robot_radius=self.robot.footprint_radius + config.clearance,
                    goal_tolerance=self.config.goal_tolerance,
                )
                if path is None:
                    handle.abort()
                    return NavigateToPoseResult(9000, f"no path to ({target[0]:.2f}, {target[1]:.2f}) on the map")
                follower = PathFollower(path, config.follower, final_yaw=final_yaw)
                for _ in range(config.replan_every):
                    if handle.cancel_requested.is_set():
                        handle.canceled()
                        return NavigateToPoseResult(0, "canceled")
                    v, omega = follower.command(*self.pose)
                    if follower.done:
                        return NavigateToPoseResult(0, "")
                    obs = self.step(BaseVelocity(v, omega, config.control_dt))
                    commands += 1
                    blocked = blocked + 1 if obs.last_outcome is not None and not obs.last_outcome.success else 0
                    if commands % 5 == 0:
                        self._feedback(handle, target, started)
                    if blocked >= 3:
                        blocked = 0
                        break
            handle.abort()
            return NavigateToPoseResult(9003, f"gave up after {config.max_commands} base commands")
        finally:
            self.busy.clear()

    def _feedback(self, handle: GoalHandle, target: tuple[float, float], started: float) -> None:
        x, y, _ = self.pose
        elapsed = time.monotonic() - started
        handle.publish_feedback(
            NavigateToPoseFeedback(
                pose_stamped_msg(self.obs.base_pose, self.obs.time_s, self.frames.map),
                Duration(int(elapsed), int((elapsed % 1) * 1e9)),
                Duration(),
                0,
                float(math.hypot(target[0] - x, target[1] - y)),
            )
        )

    # ------------------------------------------------------------------ manipulation
    def _manipulate(self, handle: GoalHandle) -> ManipulateResult:
        goal = handle.goal
        self.busy.set()
        try:
            handle.publish_feedback(ManipulateFeedback("looking"))
            position = goal.target_pose.pose.position
            if self.robot.head is not None and (position.x, position.y, position.z) != (0.0, 0.0, 0.0):
                self.look(*self.robot.look_angles(self.pose, [position.x, position.y, position.z]))
            try:
                action = self._manipulation(goal.action, int(goal.source_id), goal.relation or "on")
            except ValueError as error:
                handle.abort()
                return ManipulateResult(False, FailureReason.INVALID_ARGUMENT.value, str(error))
            handle.publish_feedback(ManipulateFeedback(goal.action))
            outcome: ActionOutcome = self.step(action).last_outcome  # type: ignore[assignment]
            if not outcome.success:
                handle.abort()
            return ManipulateResult(outcome.success, "" if outcome.success else outcome.reason.value, outcome.message)
        finally:
            self.busy.clear()

    @staticmethod
    def _manipulation(name: str, source_id: int, relation: str) -> Action:
        if source_id <= 0:
            raise ValueError("the simulator's arm needs the target's segmenter id (source_id)")
        if name == "pick":
            return Pick(source_id)
        if name == "place":
            return Place(source_id, Relation(relation))
        if name in ("open", "close"):
            return Open(source_id) if name == "open" else Close(source_id)
        raise ValueError(f"unknown manipulation {name!r}; known: pick, place, open, close")
