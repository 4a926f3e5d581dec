"""A second, minimal embodiment for the agent tests: another body in another world, nothing from the household.

A round rover (0.3 m radius) with a fixed forward camera (no head), an arm that picks and places but cannot
open anything, and a shorter reach (1.0 m), in one 6 m x 5 m room with a table and a desk and three small
things on them. MuJoCo renders RGB, depth and instance segmentation (its own `Renderer`); the rover drives
kinematically with 2D collision checks against the walls and furniture. It offers the core `Env` protocol
and a `RobotDescription`, so agent code that works here is not tied to the household's body.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco

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
from mindpalace.core.geometry import GL_TO_OPTICAL, make_pose, pose_from_xy_yaw
from mindpalace.core.robot import RobotDescription
from mindpalace.core.types import CameraInfo, InstanceInfo, Observation

ROVER = RobotDescription(
    name="minimal_rover",
    footprint_radius=0.3,
    reach=1.0,
    hand_offset=(0.25, 0.0, 0.6),
    head=None,
    max_linear=0.8,
    max_angular=1.5,
    manipulation=frozenset({"pick", "place"}),
)

ROOM = (6.0, 5.0)  # x, y extent; the floor's corner is the origin
CAMERA_HEIGHT, CAMERA_TILT, FOVY_DEG = 1.1, 0.35, 70.0
START = (1.0, 1.2, 0.0)  # x, y, yaw


@dataclass(frozen=True)
class Furniture:
    id: int
    label: str
    center: tuple[float, float]
    half: tuple[float, float]
    height: float

    def distance(self, x: float, y: float) -> float:
        """Horizontal distance from a point to the footprint (0 inside)."""
        dx = max(abs(x - self.center[0]) - self.half[0], 0.0)
        dy = max(abs(y - self.center[1]) - self.half[1], 0.0)
        return math.hypot(dx, dy)


FURNITURE = (
    Furniture(10, "table", (4.6, 1.2), (0.45, 0.35), 0.72),
    Furniture(11, "desk", (1.4, 4.0), (0.6, 0.35), 0.76),
)
OBJECTS = {20: ("mug", 10, (4.45, 1.05)), 21: ("book", 10, (4.7, 1.4)), 22: ("apple", 11, (1.25, 3.9))}  # label, on, xy
OBJECT_HALF = 0.05
WALL_IDS = (2, 3, 4, 5)


def _mjcf(width: int, height: int) -> str:
    walls = [((ROOM[0] / 2, -0.05), (ROOM[0] / 2 + 0.1, 0.05)), ((ROOM[0] / 2, ROOM[1] + 0.05), (ROOM[0] / 2 + 0.1, 0.05)),
             ((-0.05, ROOM[1] / 2), (0.05, ROOM[1] / 2)), ((ROOM[0] + 0.05, ROOM[1] / 2), (0.05, ROOM[1] / 2))]  # fmt: skip
    geoms = [
        f'<geom name="i1/floor" type="plane" size="{ROOM[0]} {ROOM[1]} 0.1" pos="{ROOM[0] / 2} {ROOM[1] / 2} 0" rgba=".7 .7 .7 1"/>'
    ]
    geoms += [
        f'<geom name="i{wall}/wall" type="box" size="{hx} {hy} 0.6" pos="{cx} {cy} 0.6" rgba=".9 .9 .85 1"/>'
        for wall, ((cx, cy), (hx, hy)) in zip(WALL_IDS, walls)
    ]
    geoms += [
        f'<geom name="i{f.id}/top" type="box" size="{f.half[0]} {f.half[1]} {f.height / 2}" '
        f'pos="{f.center[0]} {f.center[1]} {f.height / 2}" rgba=".55 .38 .22 1"/>'
        for f in FURNITURE
    ]
    colours = {20: "0.8 0.1 0.1 1", 21: "0.1 0.3 0.8 1", 22: "0.2 0.7 0.2 1"}
    bodies = [
        f'<body name="o{i}" mocap="true"><geom name="i{i}/{label}" type="box" size="{OBJECT_HALF} {OBJECT_HALF} {OBJECT_HALF}" '
        f'rgba="{colours[i]}" contype="0" conaffinity="0"/></body>'
        for i, (label, _, _) in OBJECTS.items()
    ]
    rover = (
        '<body name="rover" mocap="true">'
        f'<geom name="i30/body" type="cylinder" size="{ROVER.footprint_radius} 0.2" pos="0 0 0.2" rgba=".2 .2 .25 1" '
        'contype="0" conaffinity="0"/>'
        f'<camera name="eye" pos="0.1 0 {CAMERA_HEIGHT}" xyaxes="0 -1 0 {math.sin(CAMERA_TILT)} 0 {math.cos(CAMERA_TILT)}" '
        f'fovy="{FOVY_DEG}"/></body>'
    )
    return (
        f'<mujoco><visual><global offwidth="{width}" offheight="{height}"/></visual>'
        f"<worldbody><light pos='3 2.5 3' dir='0 0 -1'/>{''.join(geoms)}{''.join(bodies)}{rover}</worldbody></mujoco>"
    )


class MinimalEnv:
    """The rover in its room. `reset(seed)` puts everything at its start (the scene is fixed; the seed is kept)."""

    robot = ROVER

    def __init__(self, width: int = 160, height: int = 120, max_depth: float = 8.0) -> None:
        self.width, self.height, self.max_depth = width, height, max_depth
        self.model = mujoco.MjModel.from_xml_string(_mjcf(width, height))
        self.data = mujoco.MjData(self.model)
        self.renderer = mujoco.Renderer(self.model, height, width)
        self.camera_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "eye")
        self.geom_instance = np.array(
            [int(mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_GEOM, g).split("/")[0][1:]) for g in range(self.model.ngeom)]
        )
        fy = (height / 2) / math.tan(math.radians(FOVY_DEG) / 2)
        self.camera = CameraInfo(width, height, fy, fy, (width - 1) / 2, (height - 1) / 2)
        self.instances = {f.id: InstanceInfo(f.id, f.label, f.label, "furniture") for f in FURNITURE}
        self.instances.update({i: InstanceInfo(i, label, label, "object") for i, (label, _, _) in OBJECTS.items()})
        self.instances.update({1: InstanceInfo(1, "floor", "floor", "structure")})
        self.instances.update({w: InstanceInfo(w, "wall", "wall", "structure") for w in WALL_IDS})
        self.pose = START
        self.positions: dict[int, np.ndarray] = {}
        self.held: int | None = None
        self.time_s = 0.0
        self.pixels: dict[int, int] = {}

    # ------------------------------------------------------------------ the Env protocol
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Observation, dict[str, Any]]:
        self.pose, self.held, self.time_s = START, None, 0.0
        by_id = {f.id: f for f in FURNITURE}
        self.positions = {i: np.array([x, y, by_id[on].height + OBJECT_HALF]) for i, (_, on, (x, y)) in OBJECTS.items()}
        return self._observe(None), {"seed": seed}

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        outcome = self._act(action)
        obs = self._observe(outcome)
        return obs, 0.0, False, False, {"outcome": outcome}

    def close(self) -> None:
        self.renderer.close()

    # ------------------------------------------------------------------ acting
    def _act(self, action: Action) -> ActionOutcome:
        if isinstance(action, BaseVelocity):
            return self._drive(action)
        if isinstance(action, Wait):
            self.time_s += action.duration
            return ActionOutcome.ok("waited")
        if isinstance(action, Look):
            return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, "the rover has no head: its camera is fixed")
        if isinstance(action, (Open, Close)):
            return ActionOutcome.fail(FailureReason.NOT_ARTICULATED, "nothing here opens, and the rover cannot open things")
        if isinstance(action, Pick):
            return self._pick(action.object_id)
        if isinstance(action, Place):
            return self._place(action.receptacle_id, action.relation)
        return ActionOutcome.fail(FailureReason.INVALID_ARGUMENT, f"unknown action {action!r}")

    def _blocked(self, x: float, y: float) -> bool:
        r = ROVER.footprint_radius
        return not (r <= x <= ROOM[0] - r and r <= y <= ROOM[1] - r) or any(f.distance(x, y) < r for f in FURNITURE)

    def _drive(self, action: BaseVelocity) -> ActionOutcome:
        v = float(np.clip(action.v, -ROVER.max_linear, ROVER.max_linear))
        omega = float(np.clip(action.omega, -ROVER.max_angular, ROVER.max_angular))
        steps = max(1, round(action.duration / 0.05))
        dt = action.duration / steps
        x, y, yaw = self.pose
        for _ in range(steps):
            yaw += omega * dt
            nx, ny = x + v * dt * math.cos(yaw), y + v * dt * math.sin(yaw)
            if self._blocked(nx, ny):
                self.pose = (x, y, yaw)
                self.time_s += action.duration
                return ActionOutcome.fail(FailureReason.BLOCKED, "the rover bumped into something")
            x, y = nx, ny
        self.pose = (x, y, math.atan2(math.sin(yaw), math.cos(yaw)))
        self.time_s += action.duration
        return ActionOutcome.ok("drove")

    def _within_reach(self, point: np.ndarray | tuple[float, float]) -> bool:
        return math.hypot(point[0] - self.pose[0], point[1] - self.pose[1]) <= ROVER.reach

    def _pick(self, object_id: int) -> ActionOutcome:
        if object_id not in OBJECTS:
            return ActionOutcome.fail(FailureReason.NOT_PICKABLE, f"#{object_id} is not something the rover can pick")
        if self.held is not None:
            return ActionOutcome.fail(FailureReason.HANDS_FULL, "already holding something")
        if not self._within_reach(self.positions[object_id]):
            return ActionOutcome.fail(FailureReason.OUT_OF_REACH, f"{OBJECTS[object_id][0]} is out of reach")
        if self.pixels.get(object_id, 0) < 10:
            return ActionOutcome.fail(FailureReason.NOT_VISIBLE, f"{OBJECTS[object_id][0]} is not in view")
        self.held = object_id
        self.time_s += 1.0
        return ActionOutcome.ok(f"picked {OBJECTS[object_id][0]}")

    def _place(self, receptacle_id: int, relation: Relation) -> ActionOutcome:
        if self.held is None:
            return ActionOutcome.fail(FailureReason.HANDS_EMPTY, "holding nothing")
        furniture = next((f for f in FURNITURE if f.id == receptacle_id), None)
        if furniture is None or relation is not Relation.ON:
            return ActionOutcome.fail(FailureReason.NOT_A_RECEPTACLE, f"cannot put things {relation.value} #{receptacle_id}")
        if furniture.distance(self.pose[0], self.pose[1]) > ROVER.reach:
            return ActionOutcome.fail(FailureReason.OUT_OF_REACH, f"{furniture.label} is out of reach")
        # On the top, at the point nearest the rover, a little in from the edge.
        inset = np.array(furniture.half) - 0.12
        spot = np.clip(np.array(self.pose[:2]), np.array(furniture.center) - inset, np.array(furniture.center) + inset)
        self.positions[self.held] = np.array([spot[0], spot[1], furniture.height + OBJECT_HALF])
        self.held = None
        self.time_s += 1.0
        return ActionOutcome.ok(f"put it on the {furniture.label}")

    # ------------------------------------------------------------------ observing
    def _observe(self, outcome: ActionOutcome | None) -> Observation:
        x, y, yaw = self.pose
        base = pose_from_xy_yaw(x, y, yaw)
        if self.held is not None:
            self.positions[self.held] = ROVER.hand_in_world(base)
        self.data.mocap_pos[self.model.body("rover").mocapid[0]] = (x, y, 0.0)
        self.data.mocap_quat[self.model.body("rover").mocapid[0]] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        for object_id, position in self.positions.items():
            self.data.mocap_pos[self.model.body(f"o{object_id}").mocapid[0]] = position
        mujoco.mj_forward(self.model, self.data)
        self.renderer.update_scene(self.data, camera="eye")
        rgb = self.renderer.render().copy()
        self.renderer.enable_depth_rendering()
        depth = self.renderer.render().astype(np.float32)
        self.renderer.disable_depth_rendering()
        self.renderer.enable_segmentation_rendering()
        ids = self.renderer.render()
        self.renderer.disable_segmentation_rendering()
        geom = ids[..., 0]
        segmentation = np.where(geom >= 0, self.geom_instance[np.clip(geom, 0, None)], 0).astype(np.int32)
        depth[(geom < 0) | ~np.isfinite(depth) | (depth > self.max_depth)] = 0.0
        counts = np.bincount(segmentation.ravel())
        self.pixels = {i: int(c) for i, c in enumerate(counts) if c}
        rotation = self.data.cam_xmat[self.camera_id].reshape(3, 3) @ GL_TO_OPTICAL
        camera_pose = make_pose(rotation, self.data.cam_xpos[self.camera_id].copy())
        return Observation(
            rgb=rgb,
            depth=depth,
            camera=self.camera,
            camera_pose=camera_pose,
            base_pose=base,
            time_s=self.time_s,
            segmentation=segmentation,
            instances={i: self.instances[i] for i in self.pixels if i in self.instances},
            last_outcome=outcome,
        )
