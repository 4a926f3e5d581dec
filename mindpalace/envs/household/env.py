"""The embedded household simulator: a seeded MuJoCo apartment, a mobile robot with a head RGB-D camera.

`reset(seed=S)` builds apartment S; `step(action)` runs one `mindpalace.core` action and returns an
`Observation`. Bad requests come back as failure outcomes in `info["outcome"]` and in
`obs.last_outcome`; they never raise. Ground truth is only reachable through `env.privileged`.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
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
    Look,
    Open,
    Pick,
    Place,
    Relation,
    Wait,
    action_from_dict,
    is_finite_number,
)
from mindpalace.core.config import from_dict
from mindpalace.core.env import FloorPlan
from mindpalace.core.geometry import GL_TO_OPTICAL, make_pose, pose_from_xy_yaw, quat_to_matrix, rot_z
from mindpalace.core.types import CameraInfo, InstanceInfo, Observation
from mindpalace.envs.household.catalog import OBJECTS, Receptacle
from mindpalace.envs.household.config import HouseholdConfig
from mindpalace.envs.household.layout import Apartment, Furniture, fits, free_spot, generate_apartment
from mindpalace.envs.household.mjcf import FLOOR_ID, ROBOT_ID, WALL_ID, ModelOptions, build_mjcf
from mindpalace.envs.household.robot import household_robot
from mindpalace.envs.household.spaces import action_space, observation_space
from mindpalace.envs.rendering import CameraRenderer, mujoco

if TYPE_CHECKING:
    from mindpalace.envs.household.privileged import PrivilegedState

log = logging.getLogger(__name__)

PICK_PLACE_TIME = 1.5  # simulated seconds a pick or a place takes
LOOK_TIME = 0.3
FAILED_ACTION_TIME = 0.1


@dataclass
class Placement:
    """Where a small object rests: on or in a receptacle, at a pose local to the body that carries it."""

    furniture: int
    receptacle: str
    body: str  # MuJoCo body the local pose is relative to (a drawer moves its contents)
    local: NDArray[np.float64]  # 4x4


class HouseholdEnv(gym.Env):
    """Gymnasium-style env; observations are `mindpalace.core.Observation` (see `GymnasiumView` for dicts)."""

    # Gymnasium declares `metadata` an instance attribute, so it cannot be a ClassVar here.
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 10}  # noqa: RUF012

    def __init__(self, config: HouseholdConfig | None = None, render_mode: str | None = None, **overrides: Any) -> None:
        base = asdict(config) if config is not None else {}
        self.config = from_dict(HouseholdConfig, {**base, **overrides})
        self.config.validate()
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.camera = CameraInfo.from_horizontal_fov(self.config.width, self.config.height, math.radians(self.config.hfov_deg))
        self.robot = household_robot(self.config.reach, self.config.max_linear, self.config.max_angular)
        self.observation_space = observation_space(self.config)
        self.action_space = action_space(self.config)
        self.apartment: Apartment | None = None
        self.model: mujoco.MjModel | None = None
        self.data: mujoco.MjData | None = None
        self._renderer: CameraRenderer | None = None
        self._last_obs: Observation | None = None
        self._pixel_counts = np.zeros(1, dtype=np.int64)
        self._held: int | None = None
        self._placements: dict[int, Placement] = {}
        self._steps = 0

    # ---------------------------------------------------------------- lifecycle
    @classmethod
    def check_arguments(cls, config: HouseholdConfig | None = None, render_mode: str | None = None, **overrides: Any) -> None:
        """Raise `ValueError` naming a field the household config does not have or a value out of range."""
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        from_dict(HouseholdConfig, {**(asdict(config) if config is not None else {}), **overrides}).validate()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Observation, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        if seed is not None:
            apartment_seed = int(seed)
        elif self.apartment is None and self.config.seed is not None:
            apartment_seed = self.config.seed
        else:
            apartment_seed = int(self.np_random.integers(2**31 - 1))
        n_rooms = options.pop("n_rooms", self.config.n_rooms)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; known: ['n_rooms']")
        apartment = generate_apartment(apartment_seed, n_rooms=n_rooms, objects_per_room=self.config.objects_per_room)
        self._load(apartment)
        obs = self._observe(None)
        return obs, {"apartment_seed": apartment_seed, "episode_step": 0}

    def _load(self, apartment: Apartment) -> None:
        self.close()
        fovy = math.degrees(self.camera.vertical_fov_rad)
        options = ModelOptions(
            self.config.width, self.config.height, fovy, self.config.timestep, self.config.shadows, self.config.max_depth
        )
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(apartment, options))
        self.data = mujoco.MjData(self.model)
        self.apartment = apartment
        self._instances = self._instance_table(apartment)
        geom_instance = np.array(
            [int(mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_GEOM, g).split("/")[0][1:]) for g in range(self.model.ngeom)],
            dtype=np.int32,
        )
        self._renderer = CameraRenderer(
            self.model, "head", self.config.width, self.config.height, geom_instance, self.config.max_depth, self.config.shadows
        )
        self._camera_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "head")
        self._qadr = {
            name: int(self.model.jnt_qposadr[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, name)])
            for name in ("base_x", "base_y", "base_yaw", "head_pan", "head_tilt")
        }
        self._act = {
            name: mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_ACTUATOR, name)
            for name in ("base_x", "base_y", "base_yaw", "head_pan", "head_tilt")
        }
        self._base_geom = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_GEOM, f"i{ROBOT_ID}/base")
        for joint, value in zip(("base_x", "base_y", "base_yaw"), apartment.start):
            self.data.qpos[self._qadr[joint]] = value
        self._held = None
        self._placements = {}
        for obj in apartment.objects:
            piece = apartment.furniture_by_id(obj.furniture)
            receptacle = piece.receptacle(obj.receptacle)
            body = self.receptacle_body(piece, receptacle)
            world = make_pose(rot_z(obj.yaw), np.array(obj.position))
            self._placements[obj.id] = Placement(piece.id, receptacle.name, body, np.eye(4))
            mujoco.mj_kinematics(self.model, self.data)
            self._placements[obj.id].local = np.linalg.inv(self._body_pose(body)) @ world
        self._steps = 0
        mujoco.mj_forward(self.model, self.data)
        self._sync_objects()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def render(self) -> NDArray[np.uint8] | None:
        if self.render_mode == "rgb_array" and self._last_obs is not None:
            return self._last_obs.rgb
        return None

    # ---------------------------------------------------------------- stepping
    def step(self, action: Action | dict[str, Any]) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        if self.model is None:
            raise RuntimeError("call reset() before step()")
        outcome = self._dispatch(action)
        self._steps += 1
        obs = self._observe(outcome)
        truncated = self._steps >= self.config.max_episode_steps
        return obs, 0.0, False, truncated, {"outcome": outcome, "episode_step": self._steps}

    def _dispatch(self, action: Action | dict[str, Any]) -> ActionOutcome:
        try:
            if isinstance(action, dict):
                action = action_from_dict(action)
            handlers: dict[type, Callable[[Any], ActionOutcome]] = {
                BaseVelocity: self._base_velocity,
                Look: self._look,
                Wait: self._wait,
                Pick: self._pick,
                Place: self._place,
                Open: self._open_or_close,
                Close: self._open_or_close,
            }
            handler = handlers.get(type(action))
            if handler is None:
                outcome = ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"not an action: {action!r}")
            else:
                outcome = handler(action)
        except ValueError as error:
            outcome = ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, str(error))
        if not outcome.success:
            log.debug("action %r failed: %s", action, outcome.message)
            self._advance(FAILED_ACTION_TIME)
        return outcome

    def _advance(self, seconds: float, v: float = 0.0, omega: float = 0.0) -> bool:
        """Step physics for `seconds` with the base driven at (v, omega); True if the base touched anything."""
        assert self.model is not None and self.data is not None
        touched = False
        for _ in range(max(1, int(round(seconds / self.model.opt.timestep)))):
            yaw = self.data.qpos[self._qadr["base_yaw"]]
            self.data.ctrl[self._act["base_x"]] = v * math.cos(yaw)
            self.data.ctrl[self._act["base_y"]] = v * math.sin(yaw)
            self.data.ctrl[self._act["base_yaw"]] = omega
            mujoco.mj_step(self.model, self.data)
            if self.data.ncon:
                geoms = self.data.contact.geom[: self.data.ncon]
                touched = touched or bool(np.any(geoms == self._base_geom))
        return touched

    def _base_velocity(self, action: BaseVelocity) -> ActionOutcome:
        c = self.config
        for name, value, limit in (("v", action.v, c.max_linear), ("omega", action.omega, c.max_angular)):
            if not is_finite_number(value) or abs(value) > limit:
                return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"{name}={value!r} must be finite and within +-{limit}")
        if not is_finite_number(action.duration) or not 0 < action.duration <= c.max_duration:
            return ActionOutcome.fail(
                FailureReason.INVALID_ARGUMENT, f"duration={action.duration!r} must be in (0, {c.max_duration}]"
            )
        start = self._base_xy_yaw()
        touched = self._advance(action.duration, action.v, action.omega)
        end = self._base_xy_yaw()
        moved = math.hypot(end[0] - start[0], end[1] - start[1])
        commanded = abs(action.v) * action.duration
        if touched and commanded > 0.02 and moved < 0.5 * commanded:
            return ActionOutcome.fail(FailureReason.BLOCKED, f"base blocked after {moved:.2f} of {commanded:.2f} m", moved=moved)
        return ActionOutcome.ok(moved=moved)

    def _wait(self, action: Wait) -> ActionOutcome:
        if not is_finite_number(action.duration) or not 0 < action.duration <= self.config.max_duration:
            return ActionOutcome.fail(
                FailureReason.INVALID_ARGUMENT, f"duration={action.duration!r} must be in (0, {self.config.max_duration}]"
            )
        self._advance(action.duration)
        return ActionOutcome.ok()

    def _look(self, action: Look) -> ActionOutcome:
        assert self.model is not None and self.data is not None
        for joint, value in (("head_pan", action.pan), ("head_tilt", action.tilt)):
            low, high = self.model.jnt_range[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, joint)]
            if not is_finite_number(value) or not low <= value <= high:
                return ActionOutcome.fail(
                    FailureReason.INVALID_ARGUMENT, f"{joint.split('_')[1]}={value!r} must be within [{low:.2f}, {high:.2f}] rad"
                )
        for joint, value in (("head_pan", action.pan), ("head_tilt", action.tilt)):
            # The head is fast next to the base; it reaches its target at once and its actuator holds it.
            self.data.qpos[self._qadr[joint]] = value
            self.data.qvel[self.model.jnt_dofadr[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, joint)]] = 0.0
            self.data.ctrl[self._act[joint]] = value
        self._advance(LOOK_TIME)
        return ActionOutcome.ok()

    # ---------------------------------------------------------------- manipulation
    def _object_or_failure(self, object_id: Any) -> int | ActionOutcome:
        """The instance id the action names, or why it names none."""
        if not isinstance(object_id, (int, np.integer)) or isinstance(object_id, bool):
            return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"an instance id must be an integer, got {object_id!r}")
        object_id = int(object_id)
        if object_id not in self._instances:
            return ActionOutcome.fail(FailureReason.UNKNOWN_TARGET, f"no instance with id {object_id}")
        return object_id

    def _visible(self, instance_id: int) -> bool:
        counts = self._pixel_counts
        threshold = max(3.0, self.config.min_visible_fraction * self.config.width * self.config.height)
        return instance_id < len(counts) and counts[instance_id] >= threshold

    def _in_reach(self, xyz: NDArray[np.float64]) -> bool:
        x, y, _ = self._base_xy_yaw()
        return math.hypot(xyz[0] - x, xyz[1] - y) <= self.config.reach and xyz[2] <= 2.0

    def _pick(self, action: Pick) -> ActionOutcome:
        object_id = self._object_or_failure(action.object_id)
        if isinstance(object_id, ActionOutcome):
            return object_id
        info = self._instances[object_id]
        if info.kind != "object":
            return ActionOutcome.fail(FailureReason.NOT_PICKABLE, f"{info.label} ({info.kind}) cannot be picked up")
        if self._held is not None:
            return ActionOutcome.fail(FailureReason.HANDS_FULL, f"already holding {self._instances[self._held].label}")
        placement = self._placements[object_id]
        gate = self._gate_of(placement)
        if gate is not None and not self._is_open(gate):
            return ActionOutcome.fail(
                FailureReason.CONTAINER_CLOSED, f"{info.label} is inside the closed {self._instances[gate].label}"
            )
        if not self._in_reach(self._object_position(object_id)):
            return ActionOutcome.fail(FailureReason.OUT_OF_REACH, f"{info.label} is out of reach")
        if not self._visible(object_id):
            return ActionOutcome.fail(FailureReason.NOT_VISIBLE, f"{info.label} is not in view")
        del self._placements[object_id]
        self._held = object_id
        self._set_object_pose(object_id, self._body_pose("gripper"))
        self._set_grasp(object_id, True)
        self._advance(PICK_PLACE_TIME)
        return ActionOutcome.ok(f"picked {info.label}")

    def _resolve_receptacles(self, target: int, relation: Relation) -> tuple[Furniture, list[Receptacle]] | ActionOutcome:
        """The furniture and its candidate surfaces for placing `relation` on target (furniture or part)."""
        assert self.apartment is not None
        info = self._instances[target]
        if info.kind == "part":
            piece = self.apartment.furniture_by_id(info.parent)  # type: ignore[arg-type]
            part = next(name for name, pid in piece.part_ids.items() if pid == target)
            options = [r for r in piece.type.receptacles if r.part == part and r.relation == relation.value]
        elif info.kind == "furniture":
            piece = self.apartment.furniture_by_id(target)
            options = [r for r in piece.type.receptacles if r.relation == relation.value]
            if relation is Relation.IN and len({r.part for r in options}) > 1:
                return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"{info.label} has several drawers: name one")
        else:
            return ActionOutcome.fail(FailureReason.NOT_A_RECEPTACLE, f"{info.label} is not a receptacle")
        if not options:
            return ActionOutcome.fail(FailureReason.NOT_A_RECEPTACLE, f"nothing can be put {relation.value} {info.label}")
        return piece, options

    def _place(self, action: Place) -> ActionOutcome:
        assert self.apartment is not None
        target = self._object_or_failure(action.receptacle_id)
        if isinstance(target, ActionOutcome):
            return target
        try:
            relation = Relation(action.relation)
        except ValueError:
            return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"relation must be 'on' or 'in', got {action.relation!r}")
        if self._held is None:
            return ActionOutcome.fail(FailureReason.HANDS_EMPTY, "not holding anything")
        resolved = self._resolve_receptacles(target, relation)
        if isinstance(resolved, ActionOutcome):
            return resolved
        piece, options = resolved
        label = self._instances[target].label
        gates = {piece.part_ids[r.part] for r in options if r.part}
        if gates and not any(self._is_open(g) for g in gates):
            return ActionOutcome.fail(FailureReason.CONTAINER_CLOSED, f"{label} is closed")
        if not (self._visible(target) or self._visible(piece.id)):
            return ActionOutcome.fail(FailureReason.NOT_VISIBLE, f"{label} is not in view")
        category = OBJECTS[self._instances[self._held].category]
        if not any(fits(category, r) for r in options):
            return ActionOutcome.fail(
                FailureReason.NO_FREE_SPOT, f"{self._instances[self._held].label} does not fit {relation.value} {label}"
            )
        base_xy = np.array(self._base_xy_yaw()[:2])
        for receptacle in options:
            if receptacle.part and not self._is_open(piece.part_ids[receptacle.part]):
                continue
            body = self.receptacle_body(piece, receptacle)
            frame = self._body_pose(body)
            occupied = self._occupied(piece, receptacle)
            for _ in range(8):
                spot = free_spot(self.np_random, piece, receptacle, category, occupied, tries=10)
                if spot is None:
                    break
                (lx, ly), yaw = spot
                local = make_pose(rot_z(yaw), np.array([lx, ly, receptacle.z + category.half_height + 0.002]))
                world = frame @ local
                if np.linalg.norm(world[:2, 3] - base_xy) <= self.config.reach:
                    return self._release(Placement(piece.id, receptacle.name, body, local), world, label, relation)
        if not self._in_reach(np.array([piece.x, piece.y, 0.0])) and all(
            np.linalg.norm(np.array(piece.to_world((*r.center, r.z))[:2]) - base_xy) > self.config.reach for r in options
        ):
            return ActionOutcome.fail(FailureReason.OUT_OF_REACH, f"{label} is out of reach")
        return ActionOutcome.fail(FailureReason.NO_FREE_SPOT, f"no free spot within reach {relation.value} {label}")

    def _release(self, placement: Placement, world: NDArray[np.float64], label: str, relation: Relation) -> ActionOutcome:
        held = self._held
        assert held is not None
        self._set_grasp(held, False)
        self._held = None
        self._placements[held] = placement
        self._set_object_pose(held, world)
        self._advance(PICK_PLACE_TIME)
        return ActionOutcome.ok(f"put {self._instances[held].label} {relation.value} {label}", receptacle=placement.receptacle)

    def _occupied(self, piece: Furniture, receptacle: Receptacle) -> list[tuple[float, float, float]]:
        """(local x, local y, footprint radius) of the objects resting on or in a receptacle."""
        return [
            (p.local[0, 3], p.local[1, 3], OBJECTS[self._instances[oid].category].footprint_radius)
            for oid, p in self._placements.items()
            if p.furniture == piece.id and p.receptacle == receptacle.name
        ]

    def _relocate(self, object_id: int, piece: Furniture, receptacle: Receptacle) -> bool:
        """Put a resting object on a free spot of `receptacle` at once, as a person would (no robot action).

        Reached only through `PrivilegedState.person_moves`: it is ground-truth manipulation for benchmarks.
        """
        if object_id not in self._placements:
            return False
        category = OBJECTS[self._instances[object_id].category]
        spot = free_spot(self.np_random, piece, receptacle, category, self._occupied(piece, receptacle))
        if spot is None:
            return False
        (lx, ly), yaw = spot
        body = self.receptacle_body(piece, receptacle)
        local = make_pose(rot_z(yaw), np.array([lx, ly, receptacle.z + category.half_height + 0.002]))
        self._placements[object_id] = Placement(piece.id, receptacle.name, body, local)
        self._set_object_pose(object_id, self._body_pose(body) @ local)
        return True

    def _open_or_close(self, action: Open | Close) -> ActionOutcome:
        assert self.apartment is not None and self.model is not None and self.data is not None
        target = self._object_or_failure(action.target_id)
        if isinstance(target, ActionOutcome):
            return target
        info = self._instances[target]
        opening = isinstance(action, Open)
        if info.kind == "furniture":
            piece = self.apartment.furniture_by_id(target)
            if len(piece.part_ids) != 1:
                reason = "has no doors or drawers" if not piece.part_ids else "has several drawers: name one"
                return ActionOutcome.fail(FailureReason.NOT_ARTICULATED, f"{info.label} {reason}")
            target = next(iter(piece.part_ids.values()))
        elif info.kind != "part":
            return ActionOutcome.fail(FailureReason.NOT_ARTICULATED, f"{info.label} cannot be opened or closed")
        part_label = self._instances[target].label
        if self._is_open(target) == opening:
            reason = FailureReason.ALREADY_OPEN if opening else FailureReason.ALREADY_CLOSED
            return ActionOutcome.fail(reason, f"{part_label} is already {'open' if opening else 'closed'}")
        if not self._in_reach(self._body_pose(f"p{target}")[:3, 3]):
            return ActionOutcome.fail(FailureReason.OUT_OF_REACH, f"{part_label} is out of reach")
        if not (self._visible(target) or self._visible(self._instances[target].parent or -1)):
            return ActionOutcome.fail(FailureReason.NOT_VISIBLE, f"{part_label} is not in view")
        joint = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, f"j{target}")
        self.data.ctrl[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_ACTUATOR, f"a{target}")] = (
            self.model.jnt_range[joint][1] if opening else 0.0
        )
        self._advance(self.config.articulation_time)
        self._sync_objects()
        if self._is_open(target) != opening:
            return ActionOutcome.fail(FailureReason.BLOCKED, f"{part_label} is stuck")
        return ActionOutcome.ok(f"{'opened' if opening else 'closed'} {part_label}")

    # ---------------------------------------------------------------- state helpers
    @staticmethod
    def receptacle_body(piece: Furniture, receptacle: Receptacle) -> str:
        """The MuJoCo body a receptacle moves with: its drawer, else the furniture itself."""
        part = receptacle.part
        drawer = part is not None and any(p.name == part and p.kind == "drawer" for p in piece.type.parts)
        return f"p{piece.part_ids[part]}" if part is not None and drawer else f"f{piece.id}"

    def _gate_of(self, placement: Placement) -> int | None:
        """The part id that must be open to reach an object in this placement (None if on an open surface)."""
        assert self.apartment is not None
        piece = self.apartment.furniture_by_id(placement.furniture)
        receptacle = piece.receptacle(placement.receptacle)
        return piece.part_ids[receptacle.part] if receptacle.part else None

    def joint_value(self, part_id: int) -> float:
        assert self.model is not None and self.data is not None
        joint = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, f"j{part_id}")
        return float(self.data.qpos[self.model.jnt_qposadr[joint]])

    def _is_open(self, part_id: int) -> bool:
        assert self.model is not None
        joint = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, f"j{part_id}")
        return self.joint_value(part_id) > 0.5 * self.model.jnt_range[joint][1]

    def _base_xy_yaw(self) -> tuple[float, float, float]:
        assert self.data is not None
        q = self.data.qpos
        return float(q[self._qadr["base_x"]]), float(q[self._qadr["base_y"]]), float(q[self._qadr["base_yaw"]])

    def _body_pose(self, body: str) -> NDArray[np.float64]:
        assert self.model is not None and self.data is not None
        index = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, body)
        return make_pose(self.data.xmat[index].reshape(3, 3).copy(), self.data.xpos[index].copy())

    def _object_position(self, object_id: int) -> NDArray[np.float64]:
        return self._body_pose(f"o{object_id}")[:3, 3]

    def _set_object_pose(self, object_id: int, pose: NDArray[np.float64]) -> None:
        assert self.model is not None and self.data is not None
        joint = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, f"o{object_id}")
        adr, dof = self.model.jnt_qposadr[joint], self.model.jnt_dofadr[joint]
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, pose[:3, :3].ravel())
        self.data.qpos[adr : adr + 3] = pose[:3, 3]
        self.data.qpos[adr + 3 : adr + 7] = quat
        self.data.qvel[dof : dof + 6] = 0.0
        mujoco.mj_kinematics(self.model, self.data)

    def _set_grasp(self, object_id: int, active: bool) -> None:
        assert self.model is not None and self.data is not None
        self.data.eq_active[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_EQUALITY, f"grasp{object_id}")] = int(active)

    def _sync_objects(self) -> None:
        """Put every resting object back at its placement (drawers carry their contents)."""
        for object_id, placement in self._placements.items():
            self._set_object_pose(object_id, self._body_pose(placement.body) @ placement.local)

    # ---------------------------------------------------------------- observation
    def _instance_table(self, apartment: Apartment) -> dict[int, InstanceInfo]:
        table = {
            FLOOR_ID: InstanceInfo(FLOOR_ID, "floor", "floor", "structure"),
            WALL_ID: InstanceInfo(WALL_ID, "wall", "wall", "structure"),
            ROBOT_ID: InstanceInfo(ROBOT_ID, "robot", "robot", "robot"),
        }
        for piece in apartment.furniture:
            table[piece.id] = InstanceInfo(piece.id, piece.name, piece.type.name, "furniture")
            for part in piece.type.parts:
                part_id = piece.part_ids[part.name]
                table[part_id] = InstanceInfo(part_id, f"{piece.name}/{part.name}", part.kind, "part", parent=piece.id)
        for obj in apartment.objects:
            table[obj.id] = InstanceInfo(obj.id, obj.name, obj.category.name, "object", obj.attributes)
        return table

    def _observe(self, outcome: ActionOutcome | None) -> Observation:
        assert self.data is not None and self._renderer is not None
        self._sync_objects()
        rgb, depth, segmentation = self._renderer.render(self.data)
        self._pixel_counts = np.bincount(segmentation.ravel(), minlength=len(self._instances) + 4)
        visible = np.nonzero(self._pixel_counts)[0]
        rotation = self.data.cam_xmat[self._camera_id].reshape(3, 3) @ GL_TO_OPTICAL
        camera_pose = make_pose(rotation, self.data.cam_xpos[self._camera_id].copy())
        x, y, yaw = self._base_xy_yaw()
        time_s = float(self.data.time)
        obs = Observation(
            rgb=rgb,
            depth=depth,
            camera=self.camera,
            camera_pose=camera_pose,
            base_pose=pose_from_xy_yaw(x, y, yaw),
            time_s=time_s,
            segmentation=segmentation,
            instances={int(i): self._instances[int(i)] for i in visible if int(i) in self._instances},
            time_of_day_s=(self.config.start_seconds() + time_s) % 86400.0,
            last_outcome=outcome,
        )
        self._last_obs = obs
        return obs

    def save_world(self, path: str | Path) -> Path:
        """Write the simulator's whole state (the apartment, physics, what rests where and what is held) to an .npz.

        This is the world, not the robot's memory: `load_world` continues the same apartment where it was left,
        so a memory kept across runs meets the world it remembers. Written atomically.
        """
        if self.apartment is None or self.model is None or self.data is None:
            raise RuntimeError("call reset() first")
        state = np.empty(mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_INTEGRATION))
        mujoco.mj_getState(self.model, self.data, state, mujoco.mjtState.mjSTATE_INTEGRATION)
        placements = {
            str(i): {"furniture": p.furniture, "receptacle": p.receptacle, "body": p.body, "local": p.local.tolist()}
            for i, p in self._placements.items()
        }
        meta = {
            "seed": self.apartment.seed,
            "n_rooms": len(self.apartment.rooms),
            "objects_per_room": list(self.config.objects_per_room),
            "held": self._held,
            "steps": self._steps,
            "placements": placements,
        }
        target = Path(path)
        partial = target.with_name(target.name + ".partial.npz")
        np.savez(partial, physics=state, meta=np.array(json.dumps(meta)))
        os.replace(partial, target)
        return target

    def load_world(self, path: str | Path) -> Observation:
        """Continue the world `save_world` wrote (same config); returns the observation there."""
        with np.load(Path(path)) as stored:
            state, meta = stored["physics"], json.loads(str(stored["meta"]))
        apartment = generate_apartment(meta["seed"], n_rooms=meta["n_rooms"], objects_per_room=tuple(meta["objects_per_room"]))
        self._load(apartment)
        assert self.model is not None and self.data is not None
        if state.size != mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_INTEGRATION):
            raise ValueError(f"{path}: the saved world does not fit this env's model (another config?)")
        mujoco.mj_setState(self.model, self.data, state, mujoco.mjtState.mjSTATE_INTEGRATION)
        self._held = meta["held"]
        self._steps = meta["steps"]
        self._placements = {
            int(i): Placement(p["furniture"], p["receptacle"], p["body"], np.array(p["local"]))
            for i, p in meta["placements"].items()
        }
        mujoco.mj_forward(self.model, self.data)
        return self._observe(None)

    def floor_plan(self) -> FloorPlan:
        """The rooms' names and outlines, handed to the robot as a person would name the rooms of their home.

        A prior the robot is given, not something it perceived; empty before the first reset.
        """
        if self.apartment is None:
            return []
        return [(room.name, list(room.polygon)) for room in self.apartment.rooms]

    @property
    def privileged(self) -> PrivilegedState:
        """Ground truth for oracles, metrics and tests. Memory and perception must never read it."""
        from mindpalace.envs.household.privileged import PrivilegedState

        return PrivilegedState(self)

    def object_orientation(self, object_id: int) -> NDArray[np.float64]:
        return quat_to_matrix(self._body_quat_xyzw(f"o{object_id}"))

    def _body_quat_xyzw(self, body: str) -> NDArray[np.float64]:
        assert self.model is not None and self.data is not None
        w, x, y, z = self.data.xquat[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, body)]
        return np.array([x, y, z, w])
