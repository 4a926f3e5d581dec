"""The tabletop simulator: MemoryBench's three memory tasks on a MuJoCo table with a parallel gripper.

`reset(seed=S, options={"task": ..., "variation": ...})` lays out episode S (the button's place and the
instance ids come from S alone; the variation sets the start state). `step` takes a `KeyPose` (the
interface of learned policies, executed by a motion primitive) or a skill action (`Pick`, `Place`,
`Open`, `Close`, `Press`: the planner's, each a fixed sequence of key-poses) and returns an `Observation`
of the first camera with the others in `extras["views"]`. Bad requests come back as failure outcomes in
`info["outcome"]`, never as exceptions. Reward is 1 and `terminated` is set while the task's success rule
holds. Ground truth is only reachable through `env.privileged`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from mindpalace.core.actions import (
    Action,
    ActionOutcome,
    BaseVelocity,
    Close,
    FailureReason,
    KeyPose,
    Look,
    Open,
    Pick,
    Place,
    Press,
    Relation,
    Wait,
    action_from_dict,
    is_finite_number,
)
from mindpalace.core.config import from_dict
from mindpalace.core.geometry import GL_TO_OPTICAL, make_pose, matrix_to_quat, pose_from_xy_yaw
from mindpalace.core.types import CameraInfo, InstanceInfo, Observation
from mindpalace.envs.rendering import CameraRenderer, mujoco
from mindpalace.envs.tabletop import primitives
from mindpalace.envs.tabletop.config import TabletopConfig
from mindpalace.envs.tabletop.mjcf import CAMERA_FOVY, ModelOptions, build_mjcf, hand_quaternion
from mindpalace.envs.tabletop.motion import Waypoint, plan
from mindpalace.envs.tabletop.robot import FINGER_TRAVEL, tabletop_robot
from mindpalace.envs.tabletop.scene import (
    BLOCK_HALF,
    BUTTON_PRESSED_AT,
    BUTTON_RELEASED_AT,
    DRAWER_CLOSED_AT,
    DRAWER_LEVELS,
    DRAWER_OPEN_FRACTION,
    DRAWER_TRAVEL,
    DRAWER_UNIT_XY,
    DRAWERS,
    HANDLE_Y,
    HOME_TCP,
    ROBOT_BASE_XY,
    TABLE_Z,
    Scene,
    draw_nuisance,
    place_half,
    place_xy,
)
from mindpalace.envs.tabletop.spaces import (
    WORKSPACE_HIGH,
    WORKSPACE_LOW,
    action_from_space,
    action_space,
    observation_space,
    observation_to_dict,
)
from mindpalace.envs.tabletop.tasks import TASKS, Monitor, WorldState, task_blocks

if TYPE_CHECKING:
    from mindpalace.envs.tabletop.privileged import PrivilegedState

log = logging.getLogger(__name__)

OPEN_TRAVEL = 0.15  # m a drawer that starts open is slid out; an opening pull goes as far
SOFT_CLOSE_ZONE = 0.015  # m; within this of shut a drawer is pulled closed, as a soft-close runner does
SOFT_CLOSE_FORCE = 2.0  # N
SETTLE_TIME = 0.3  # s of physics after a reset, before the first frame
MIN_VISIBLE_PIXELS = 3  # a target must cover this many pixels in some camera to be acted on
REACHED = 0.01  # m; a key-pose the hand ends farther from than this was blocked
# Where a placed block comes to rest relative to the spot it was put on, per physics setting (see _rest_pose).
_REST_OFFSETS: dict[tuple[float, float, float], tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
COLORS = {"block": "red", "patch": "blue", "centre_zone": "yellow", "button": "red", "drawer": "grey", "dresser": "white"}


@dataclass
class _World:
    """One compiled model (the scene with a task's blocks) and what is looked up in it once."""

    model: mujoco.MjModel
    data: mujoco.MjData
    renderer: CameraRenderer
    geom_keys: list[str]  # the entity key of every geom
    qpos: dict[str, int]  # joint name -> qpos address
    dof: dict[str, int]  # joint name -> dof address
    body: dict[str, int]
    camera: dict[str, int]
    mocap: int
    fingers: tuple[int, int]  # finger pad geoms
    block_geoms: dict[int, str]


class TabletopEnv(gym.Env):
    """Gymnasium-style env; observations are `mindpalace.core.Observation` (see `GymnasiumView` for dicts)."""

    # Gymnasium declares `metadata` an instance attribute, so it cannot be a ClassVar here.
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 4}  # noqa: RUF012

    def __init__(self, config: TabletopConfig | None = None, render_mode: str | None = None, **overrides: Any) -> None:
        base = asdict(config) if config is not None else {}
        self.config = from_dict(TabletopConfig, {**base, **overrides})
        self.config.validate()
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.robot = tabletop_robot()
        self.cameras = {
            name: _camera_info(self.config.width, self.config.height, CAMERA_FOVY[name]) for name in self.config.cameras
        }
        self.observation_space = observation_space(self.config)
        self.action_space = action_space()
        self._worlds: dict[tuple[tuple[str, ...], tuple[str, ...]], _World] = {}  # by blocks and patches
        self._world: _World | None = None
        self.scene: Scene | None = None
        self._monitor: Monitor | None = None
        self._instances: dict[int, InstanceInfo] = {}
        self._pixel_counts: dict[str, NDArray[np.int64]] = {}
        self._last_obs: Observation | None = None
        self._presses = 0
        self._button_down = False
        self._gripper_open = True
        self._steps = 0

    @classmethod
    def check_arguments(cls, **overrides: Any) -> None:
        """Raise `ValueError` naming a field the tabletop config does not have or a value out of range."""
        overrides.pop("render_mode", None)
        from_dict(TabletopConfig, overrides).validate()

    # ---------------------------------------------------------------- lifecycle
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Observation, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        task = options.pop("task", self.config.task)
        variation = options.pop("variation", self.config.variation)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; known: ['task', 'variation']")
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
        spec = TASKS[task]
        episode_seed = int(seed) if seed is not None else int(self.np_random.integers(2**31 - 1))
        if variation is None:
            variation = int(np.random.default_rng([episode_seed, 104729]).integers(spec.variations))
        start = spec.start(int(variation))
        blocks = task_blocks(task)
        button, ids = draw_nuisance(episode_seed, blocks)
        self.scene = Scene(episode_seed, task, int(variation), button, ids, start.blocks, start.open_drawer, spec.patches)
        self._monitor = start.monitor
        self._load(blocks, spec.patches)
        obs = self._observe(None)
        return obs, {"seed": episode_seed, "task": task, "instruction": spec.instruction, "episode_step": 0}

    def _load(self, blocks: tuple[str, ...], patches: tuple[str, ...]) -> None:
        scene = self.scene
        assert scene is not None
        if (blocks, patches) not in self._worlds:
            self._worlds[blocks, patches] = self._compile(blocks, patches)
        world = self._world = self._worlds[blocks, patches]
        offset, quaternion = self._rest_pose(world) if scene.blocks else (np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]))
        m, d = world.model, world.data
        mujoco.mj_resetData(m, d)
        m.body_pos[world.body["button"]] = (*scene.button_xy, TABLE_Z)
        down = _wxyz(hand_quaternion("down"))
        d.qpos[world.qpos["gripper"] : world.qpos["gripper"] + 3] = HOME_TCP
        d.qpos[world.qpos["gripper"] + 3 : world.qpos["gripper"] + 7] = down
        d.mocap_pos[world.mocap] = HOME_TCP
        d.mocap_quat[world.mocap] = down
        for finger in ("finger_left", "finger_right"):
            d.qpos[world.qpos[finger]] = FINGER_TRAVEL
        d.ctrl[:] = FINGER_TRAVEL
        for block, place in scene.blocks.items():
            address = world.qpos[block]
            d.qpos[address : address + 3] = np.array([*place_xy(place), TABLE_Z + BLOCK_HALF]) + offset
            d.qpos[address + 3 : address + 7] = quaternion
        if scene.open_drawer is not None:
            d.qpos[world.qpos[scene.open_drawer]] = OPEN_TRAVEL
        world.renderer.set_geom_instances(np.array([scene.ids[key] for key in world.geom_keys], dtype=np.int32))
        self._instances = self._instance_table(scene)
        self._gripper_open = True
        self._presses, self._button_down = 0, False
        self._advance(SETTLE_TIME)
        d.time = 0.0
        self._steps = 0
        self._update_monitor()

    def _compile(self, blocks: tuple[str, ...], patches: tuple[str, ...]) -> _World:
        c = self.config
        model = mujoco.MjModel.from_xml_string(
            build_mjcf(blocks, patches, ModelOptions(c.width, c.height, c.timestep, c.shadows, c.max_depth))
        )
        data = mujoco.MjData(model)

        def names(kind: mujoco.mjtObj, count: int) -> list[str]:
            return [mujoco.mj_id2name(model, kind, i) for i in range(count)]

        geom_names = names(mujoco.mjtObj.mjOBJ_GEOM, model.ngeom)
        geom_keys = [name.split("/")[0][1:] for name in geom_names]
        joints = names(mujoco.mjtObj.mjOBJ_JOINT, model.njnt)
        renderer = CameraRenderer(
            model, c.cameras[0], c.width, c.height, np.zeros(model.ngeom, dtype=np.int32), c.max_depth, c.shadows
        )
        body = {name: i for i, name in enumerate(names(mujoco.mjtObj.mjOBJ_BODY, model.nbody))}
        return _World(
            model=model,
            data=data,
            renderer=renderer,
            geom_keys=geom_keys,
            qpos={name: int(model.jnt_qposadr[i]) for i, name in enumerate(joints)},
            dof={name: int(model.jnt_dofadr[i]) for i, name in enumerate(joints)},
            body=body,
            camera={name: i for i, name in enumerate(names(mujoco.mjtObj.mjOBJ_CAMERA, model.ncam))},
            mocap=int(model.body_mocapid[body["gripper_target"]]),
            fingers=(geom_names.index("erobot/finger_left"), geom_names.index("erobot/finger_right")),
            block_geoms={i: key for i, key in enumerate(geom_keys) if key in blocks},
        )

    def _rest_pose(self, world: _World) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Where a block rests after the place primitive, as an offset from the spot, and its orientation (w, x, y, z).

        Blocks start exactly as a placed block would rest: the grasp leaves a tiny systematic offset (about 10 um
        across the fingers), and without this a block the robot put down and one that never moved would differ,
        which would tell two histories apart in rearrange_block. Measured once per physics setting by a pick and
        a place with this model.
        """
        c = self.config
        key = (c.timestep, c.keypose_time, c.gripper_time)
        if key not in _REST_OFFSETS:
            block = next(iter(world.block_geoms.values()))
            self._world = world
            m, d = world.model, world.data
            address = world.qpos[block]
            down = _wxyz(hand_quaternion("down"))
            offset, quaternion = np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0])
            # Twice: the second pick starts from where the first one says blocks rest, as every episode's picks do.
            for _ in range(2):
                mujoco.mj_resetData(m, d)
                d.qpos[world.qpos["gripper"] : world.qpos["gripper"] + 7] = (*HOME_TCP, *down)
                d.mocap_pos[world.mocap], d.mocap_quat[world.mocap] = HOME_TCP, down
                d.qpos[address : address + 3] = np.array([*place_xy("centre"), TABLE_Z + BLOCK_HALF]) + offset
                d.qpos[address + 3 : address + 7] = quaternion
                d.ctrl[:] = FINGER_TRAVEL
                self._advance(SETTLE_TIME)
                self._run([*primitives.pick(tuple(self.body_position(block))), *primitives.place(place_xy("patch_front"))])
                self._advance(SETTLE_TIME)
                offset = d.qpos[address : address + 3] - np.array([*place_xy("patch_front"), TABLE_Z + BLOCK_HALF])
                quaternion = d.qpos[address + 3 : address + 7].copy()
            _REST_OFFSETS[key] = (offset, quaternion)
        return _REST_OFFSETS[key]

    def close(self) -> None:
        for world in self._worlds.values():
            world.renderer.close()
        self._worlds.clear()
        self._world = None

    def render(self) -> NDArray[np.uint8] | None:
        if self.render_mode == "rgb_array" and self._last_obs is not None:
            return self._last_obs.rgb
        return None

    # ---------------------------------------------------------------- stepping
    def step(self, action: Action | dict[str, Any]) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        if self._world is None:
            raise RuntimeError("call reset() before step()")
        outcome = self._dispatch(action)
        self._steps += 1
        self._update_monitor()
        obs = self._observe(outcome)
        assert self._monitor is not None
        success = self._monitor.success
        truncated = self._steps >= self.config.max_episode_steps
        return obs, float(success), success, truncated, {"outcome": outcome, "episode_step": self._steps}

    def gym_observation(self, obs: Observation) -> dict[str, Any]:
        """The dict of `observation_space` for an observation (what `GymnasiumView` returns)."""
        return observation_to_dict(obs)

    def gym_action(self, sample: dict[str, Any]) -> KeyPose:
        """The key-pose a sample of `action_space` stands for."""
        return action_from_space(sample)

    def _dispatch(self, action: Action | dict[str, Any]) -> ActionOutcome:
        try:
            if isinstance(action, dict):
                action = action_from_dict(action)
            if isinstance(action, KeyPose):
                outcome = self._key_pose(action)
            elif isinstance(action, Pick):
                outcome = self._pick(action)
            elif isinstance(action, Place):
                outcome = self._place(action)
            elif isinstance(action, (Open, Close)):
                outcome = self._open_or_close(action)
            elif isinstance(action, Press):
                outcome = self._press(action)
            elif isinstance(action, Wait):
                outcome = self._wait(action)
            elif isinstance(action, (BaseVelocity, Look)):
                outcome = ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"{self.robot.name} has no mobile base and no head")
            else:
                outcome = ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"not an action: {action!r}")
        except ValueError as error:
            outcome = ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, str(error))
        if not outcome.success:
            log.debug("action %r failed: %s", action, outcome.message)
        return outcome

    def _physics_step(self) -> None:
        world = self._world
        assert world is not None
        m, d = world.model, world.data
        for drawer in DRAWERS:
            closing = d.qpos[world.qpos[drawer]] < SOFT_CLOSE_ZONE
            d.qfrc_applied[world.dof[drawer]] = -SOFT_CLOSE_FORCE if closing else 0.0
        mujoco.mj_step(m, d)
        # A press is the cap going down past its threshold; it counts again only after coming back up.
        cap = d.qpos[world.qpos["button"]]
        if not self._button_down and cap < BUTTON_PRESSED_AT:
            self._button_down = True
            self._presses += 1
        elif self._button_down and cap > BUTTON_RELEASED_AT:
            self._button_down = False

    def _advance(self, seconds: float) -> None:
        assert self._world is not None
        for _ in range(max(1, int(round(seconds / self._world.model.opt.timestep)))):
            self._physics_step()

    def _wait(self, action: Wait) -> ActionOutcome:
        if not is_finite_number(action.duration) or not 0 < action.duration <= 5.0:
            return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"duration={action.duration!r} must be in (0, 5]")
        self._advance(action.duration)
        return ActionOutcome.ok()

    # ---------------------------------------------------------------- key-poses
    def _key_pose(self, action: KeyPose) -> ActionOutcome:
        position = np.asarray(action.position, dtype=np.float64)
        quaternion = np.asarray(action.orientation, dtype=np.float64)
        if position.shape != (3,) or not np.all(np.isfinite(position)):
            return ActionOutcome.fail(
                FailureReason.INVALID_ARGUMENT, f"position must be 3 finite numbers, got {action.position!r}"
            )
        if np.any(position < WORKSPACE_LOW - 1e-6) or np.any(position > WORKSPACE_HIGH + 1e-6):
            return ActionOutcome.fail(
                FailureReason.OUT_OF_REACH,
                f"position {position.round(3).tolist()} is outside the workspace {WORKSPACE_LOW.tolist()}..{WORKSPACE_HIGH.tolist()}",
            )
        if quaternion.shape != (4,) or not np.all(np.isfinite(quaternion)) or np.linalg.norm(quaternion) < 1e-6:
            return ActionOutcome.fail(
                FailureReason.INVALID_ARGUMENT,
                f"orientation must be a non-zero quaternion (x, y, z, w), got {action.orientation!r}",
            )
        for name in ("gripper_open", "ignore_collisions"):
            if not isinstance(getattr(action, name), (bool, np.bool_)):
                return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"{name} must be a bool, got {getattr(action, name)!r}")
        error = self._execute(
            position, quaternion / np.linalg.norm(quaternion), bool(action.gripper_open), bool(action.ignore_collisions)
        )
        if error > REACHED:
            return ActionOutcome.fail(
                FailureReason.BLOCKED, f"the hand stopped {100 * error:.1f} cm short of the key-pose", error_m=error
            )
        return ActionOutcome.ok(error_m=error)

    def _execute(self, position: NDArray[np.float64], quaternion: NDArray[np.float64], gripper_open: bool, ignore: bool) -> float:
        """Move the hand along the primitive's path, then set the fingers; the hand's final distance from the goal."""
        world = self._world
        assert world is not None
        c = self.config
        start = self.hand_pose()
        path = plan(
            Waypoint(start[:3, 3].copy(), matrix_to_quat(start[:3, :3])),
            Waypoint(position, quaternion),
            TABLE_Z + c.safe_height,
            ignore,
            c.keypose_time,
        )
        dt = world.model.opt.timestep
        for k in range(int(round(c.keypose_time / dt))):
            waypoint = path.at((k + 1) * dt)
            world.data.mocap_pos[world.mocap] = waypoint.position
            world.data.mocap_quat[world.mocap] = _wxyz(waypoint.quaternion)
            self._physics_step()
        self._gripper_open = gripper_open
        world.data.ctrl[:] = FINGER_TRAVEL if gripper_open else 0.0
        self._advance(c.gripper_time)
        return float(np.linalg.norm(self.hand_pose()[:3, 3] - position))

    def _run(self, poses: list[KeyPose]) -> None:
        for pose in poses:
            self._execute(np.array(pose.position), np.array(pose.orientation), pose.gripper_open, pose.ignore_collisions)

    # ---------------------------------------------------------------- skills
    def _target(self, target: Any, kinds: tuple[str, ...], verb: str) -> tuple[str, ActionOutcome | None]:
        """The entity key of an instance id, or the failure to report."""
        if not isinstance(target, (int, np.integer)) or isinstance(target, bool):
            return "", ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"an instance id must be an integer, got {target!r}")
        assert self.scene is not None
        key = self.scene.key_of(int(target))
        if key is None:
            return "", ActionOutcome.fail(FailureReason.UNKNOWN_TARGET, f"no instance with id {target}")
        label = self._instances[int(target)].label
        if key not in kinds and self._instances[int(target)].category not in kinds:
            reason = {
                "pick": FailureReason.NOT_PICKABLE,
                "place": FailureReason.NOT_A_RECEPTACLE,
            }.get(verb, FailureReason.NOT_ARTICULATED)
            return key, ActionOutcome.fail(reason, f"the {label} cannot be {verb_past(verb)}")
        if not self._visible(int(target)):
            return key, ActionOutcome.fail(FailureReason.NOT_VISIBLE, f"the {label} is not in view")
        return key, None

    def _pick(self, action: Pick) -> ActionOutcome:
        key, failure = self._target(action.object_id, ("block",), "pick")
        if failure:
            return failure
        held = self.grasped()
        if held is not None:
            return ActionOutcome.fail(FailureReason.HANDS_FULL, "already holding a block")
        self._run(primitives.pick(tuple(self.body_position(key))))
        if self.grasped() != key:
            return ActionOutcome.fail(FailureReason.BLOCKED, "the fingers closed without holding the block")
        return ActionOutcome.ok("picked the block")

    def _place(self, action: Place) -> ActionOutcome:
        assert self.scene is not None
        if self.grasped() is None:
            return ActionOutcome.fail(FailureReason.HANDS_EMPTY, "not holding anything")
        key, failure = self._target(action.receptacle_id, self.scene.places, "place")
        if failure:
            return failure
        if Relation(action.relation) is not Relation.ON:
            return ActionOutcome.fail(FailureReason.NOT_A_RECEPTACLE, "blocks go on a patch or the centre zone, not in")
        label = self._instances[int(action.receptacle_id)].label
        held = self.grasped()
        if any(place == key for block, place in self.resting_places().items() if block != held):
            return ActionOutcome.fail(FailureReason.NO_FREE_SPOT, f"another block is on the {label}")
        self._run(primitives.place(place_xy(key)))
        if held is None or self.resting_places()[held] != key:
            return ActionOutcome.fail(FailureReason.BLOCKED, f"the block did not come to rest on the {label}")
        return ActionOutcome.ok(f"put the block on the {label}", receptacle=label)

    def _open_or_close(self, action: Open | Close) -> ActionOutcome:
        opening = isinstance(action, Open)
        key, failure = self._target(action.target_id, DRAWERS, "open" if opening else "close")
        if failure:
            if key == "drawer_unit":
                return ActionOutcome.fail(FailureReason.NOT_ARTICULATED, "the drawer unit has three drawers: name one")
            return failure
        if self.grasped() is not None:
            return ActionOutcome.fail(FailureReason.HANDS_FULL, "the hand holds a block: put it down first")
        if self.drawer_is_open(key) == opening or (not opening and self.drawer_is_closed(key)):
            reason = FailureReason.ALREADY_OPEN if opening else FailureReason.ALREADY_CLOSED
            return ActionOutcome.fail(reason, f"the drawer is already {'open' if opening else 'closed'}")
        handle = tuple(self.handle_position(key))
        opened = self.drawer_opening(key)
        self._run(primitives.open_drawer(handle, OPEN_TRAVEL - opened) if opening else primitives.close_drawer(handle, opened))
        done = self.drawer_is_open(key) if opening else self.drawer_is_closed(key)
        if not done:
            return ActionOutcome.fail(FailureReason.BLOCKED, "the drawer is stuck")
        return ActionOutcome.ok(f"{'opened' if opening else 'closed'} the drawer")

    def _press(self, action: Press) -> ActionOutcome:
        _, failure = self._target(action.target_id, ("button",), "press")
        if failure:
            return failure
        if self.grasped() is not None:
            return ActionOutcome.fail(FailureReason.HANDS_FULL, "the hand holds a block: put it down first")
        assert self.scene is not None
        before = self._presses
        self._run(primitives.press(self.scene.button_xy))
        if self._presses == before:
            return ActionOutcome.fail(FailureReason.BLOCKED, "the button did not go down")
        return ActionOutcome.ok("pressed the button")

    def _visible(self, instance_id: int) -> bool:
        return any(
            len(counts) > instance_id and counts[instance_id] >= MIN_VISIBLE_PIXELS for counts in self._pixel_counts.values()
        )

    # ---------------------------------------------------------------- state (the env's own, for its skills and ground truth)
    def hand_pose(self) -> NDArray[np.float64]:
        """The tool centre point -> world, 4x4 (what the robot knows from its joints)."""
        world = self._world
        assert world is not None
        index = world.body["gripper"]
        return make_pose(world.data.xmat[index].reshape(3, 3).copy(), world.data.xpos[index].copy())

    def body_position(self, key: str) -> NDArray[np.float64]:
        world = self._world
        assert world is not None
        return world.data.xpos[world.body[key]].copy()

    def drawer_opening(self, drawer: str) -> float:
        """m the drawer is slid out (0 = shut)."""
        assert self._world is not None
        return float(self._world.data.qpos[self._world.qpos[drawer]])

    def drawer_is_open(self, drawer: str) -> bool:
        return self.drawer_opening(drawer) > DRAWER_OPEN_FRACTION * DRAWER_TRAVEL

    def drawer_is_closed(self, drawer: str) -> bool:
        return self.drawer_opening(drawer) < DRAWER_CLOSED_AT

    def handle_position(self, drawer: str) -> NDArray[np.float64]:
        """World position of the drawer's handle bar (its axis's middle), where it is now."""
        x, y = DRAWER_UNIT_XY
        return np.array([x, y + HANDLE_Y - self.drawer_opening(drawer), TABLE_Z + DRAWER_LEVELS[drawer]])

    def grasped(self) -> str | None:
        """The block both finger pads touch, if any."""
        world = self._world
        assert world is not None
        d = world.data
        touching: dict[int, set[str]] = {world.fingers[0]: set(), world.fingers[1]: set()}
        for k in range(d.ncon):
            g1, g2 = int(d.contact.geom1[k]), int(d.contact.geom2[k])
            for finger, other in ((g1, g2), (g2, g1)):
                if finger in touching and other in world.block_geoms:
                    touching[finger].add(world.block_geoms[other])
        both = touching[world.fingers[0]] & touching[world.fingers[1]]
        return min(both) if both else None

    def resting_places(self) -> dict[str, str | None]:
        """Every block's place (a patch or "centre") when it rests flat on the table inside it, else None."""
        world = self._world
        assert world is not None and self.scene is not None
        held = self.grasped()
        places: dict[str, str | None] = {}
        for block in self.scene.blocks:
            position = self.body_position(block)
            speed = float(np.linalg.norm(world.data.qvel[world.dof[block] : world.dof[block] + 3]))
            resting = block != held and abs(position[2] - (TABLE_Z + BLOCK_HALF)) < 0.005 and speed < 0.02
            places[block] = next(
                (
                    place
                    for place in self.scene.places
                    if resting and np.all(np.abs(position[:2] - np.array(place_xy(place))) <= place_half(place))
                ),
                None,
            )
        return places

    def presses(self) -> int:
        return self._presses

    def world_state(self) -> WorldState:
        return WorldState(
            open_drawers=frozenset(d for d in DRAWERS if self.drawer_is_open(d)),
            closed_drawers=frozenset(d for d in DRAWERS if self.drawer_is_closed(d)),
            presses=self._presses,
            resting=self.resting_places(),
            grasped=self.grasped(),
        )

    def _update_monitor(self) -> None:
        if self._monitor is not None:
            self._monitor.advance(self.world_state())

    @property
    def monitor(self) -> Monitor:
        assert self._monitor is not None, "call reset() first"
        return self._monitor

    @property
    def privileged(self) -> PrivilegedState:
        """Ground truth for oracles, metrics and tests. Memory and perception must never read it."""
        from mindpalace.envs.tabletop.privileged import PrivilegedState

        return PrivilegedState(self)

    # ---------------------------------------------------------------- observation
    def _instance_table(self, scene: Scene) -> dict[int, InstanceInfo]:
        table = {}
        for key, (kind, category) in scene.entities.items():
            parent = scene.ids["drawer_unit"] if category == "drawer" else None
            attributes = {"color": COLORS[category]} if category in COLORS else {}
            table[scene.ids[key]] = InstanceInfo(scene.ids[key], category, category, kind, attributes, parent)
        return table

    def _observe(self, outcome: ActionOutcome | None) -> Observation:
        world = self._world
        assert world is not None
        base = pose_from_xy_yaw(*ROBOT_BASE_XY, 0.0)
        hand = self.hand_pose()
        width = float(sum(world.data.qpos[world.qpos[f]] for f in ("finger_left", "finger_right")))
        views: dict[str, Observation] = {}
        for name in self.config.cameras:
            rgb, depth, segmentation = world.renderer.render(world.data, name)
            counts = np.bincount(segmentation.ravel(), minlength=1)
            self._pixel_counts[name] = counts
            camera = world.camera[name]
            rotation = world.data.cam_xmat[camera].reshape(3, 3) @ GL_TO_OPTICAL
            views[name] = Observation(
                rgb=rgb,
                depth=depth,
                camera=self.cameras[name],
                camera_pose=make_pose(rotation, world.data.cam_xpos[camera].copy()),
                base_pose=base,
                time_s=float(world.data.time),
                segmentation=segmentation,
                instances={int(i): self._instances[int(i)] for i in np.nonzero(counts)[0] if int(i) in self._instances},
                last_outcome=outcome,
                hand_pose=hand,
                extras={"camera": name, "gripper_width": width, "gripper_open": self._gripper_open},
            )
        primary = views.pop(self.config.cameras[0])
        primary.extras["views"] = views
        self._last_obs = primary
        return primary


def verb_past(verb: str) -> str:
    return {"pick": "picked up", "place": "put things on", "open": "opened", "close": "closed", "press": "pressed"}[verb]


def _wxyz(quaternion_xyzw: tuple[float, ...] | NDArray[np.float64]) -> NDArray[np.float64]:
    x, y, z, w = quaternion_xyzw
    return np.array([w, x, y, z])


def _camera_info(width: int, height: int, vertical_fov_deg: float) -> CameraInfo:
    """Square pixels from MuJoCo's vertical field of view."""
    horizontal = 2.0 * math.atan(math.tan(math.radians(vertical_fov_deg) / 2.0) * width / height)
    return CameraInfo.from_horizontal_fov(width, height, horizontal)
