"""Gymnasium spaces of the tabletop env: per-camera images plus proprioception in, key-poses out.

The dict view (`GymnasiumView`) is the interface for learned policies, as RLBench's is: observations are
every camera's RGB, depth, segmentation, intrinsics and pose, the gripper's pose, opening and command,
and the time; an action is one key-pose. The skills the planner uses are typed actions of the native env.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from mindpalace.core.actions import KeyPose
from mindpalace.core.geometry import matrix_to_quat
from mindpalace.core.types import Observation
from mindpalace.envs.tabletop.config import TabletopConfig
from mindpalace.envs.tabletop.robot import FINGER_TRAVEL
from mindpalace.envs.tabletop.scene import MAX_INSTANCE_ID, TABLE_HALF, TABLE_Z

# Where key-poses may put the tool centre point: over the table, from just above its top to 0.6 m over it.
WORKSPACE_LOW = np.array([-TABLE_HALF[0] - 0.05, -TABLE_HALF[1] - 0.05, TABLE_Z], dtype=np.float32)
WORKSPACE_HIGH = np.array([TABLE_HALF[0] + 0.05, TABLE_HALF[1] + 0.05, TABLE_Z + 0.6], dtype=np.float32)


def observation_space(config: TabletopConfig) -> spaces.Dict:
    h, w = config.height, config.width
    fields: dict[str, spaces.Space] = {}
    for name in config.cameras:
        fields[f"{name}_rgb"] = spaces.Box(0, 255, (h, w, 3), np.uint8)
        fields[f"{name}_depth"] = spaces.Box(0.0, config.max_depth, (h, w), np.float32)
        fields[f"{name}_segmentation"] = spaces.Box(0, MAX_INSTANCE_ID, (h, w), np.int32)
        fields[f"{name}_intrinsics"] = spaces.Box(0.0, np.inf, (3, 3), np.float64)
        fields[f"{name}_camera_pose"] = spaces.Box(-np.inf, np.inf, (4, 4), np.float64)
    fields["gripper_pose"] = spaces.Box(-np.inf, np.inf, (7,), np.float64)  # x, y, z, qx, qy, qz, qw
    fields["gripper_width"] = spaces.Box(0.0, 2 * FINGER_TRAVEL + 0.01, (1,), np.float64)
    fields["gripper_open"] = spaces.Discrete(2)
    fields["time"] = spaces.Box(0.0, np.inf, (1,), np.float64)
    return spaces.Dict(fields)


def action_space() -> spaces.Dict:
    """One key-pose: TCP position (world, m), orientation (x, y, z, w; normalised by the env), gripper, collisions."""
    return spaces.Dict(
        {
            "position": spaces.Box(WORKSPACE_LOW, WORKSPACE_HIGH, dtype=np.float32),
            "orientation": spaces.Box(-1.0, 1.0, (4,), np.float32),
            "gripper_open": spaces.Discrete(2),
            "ignore_collisions": spaces.Discrete(2),
        }
    )


def views(obs: Observation) -> dict[str, Observation]:
    """Every camera's observation by name: the primary one and those in `extras["views"]`."""
    return {obs.extras["camera"]: obs, **obs.extras.get("views", {})}


def proprioception(obs: Observation) -> dict[str, Any]:
    """The robot's own state: gripper pose (x, y, z, qx, qy, qz, qw), finger gap (m), open command, time (s)."""
    pose = obs.hand_pose if obs.hand_pose is not None else np.eye(4)
    return {
        "gripper_pose": np.concatenate([pose[:3, 3], matrix_to_quat(pose[:3, :3])]).astype(np.float64),
        "gripper_width": np.array([obs.extras["gripper_width"]], dtype=np.float64),
        "gripper_open": int(obs.extras["gripper_open"]),
        "time": np.array([obs.time_s], dtype=np.float64),
    }


def observation_to_dict(obs: Observation) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, view in views(obs).items():
        assert view.segmentation is not None
        data[f"{name}_rgb"] = view.rgb
        data[f"{name}_depth"] = view.depth
        data[f"{name}_segmentation"] = view.segmentation
        data[f"{name}_intrinsics"] = view.camera.K
        data[f"{name}_camera_pose"] = view.camera_pose
    data.update(proprioception(obs))
    return data


def action_from_space(sample: dict[str, Any]) -> KeyPose:
    return KeyPose(
        tuple(float(v) for v in np.asarray(sample["position"]).reshape(3)),  # type: ignore[arg-type]
        tuple(float(v) for v in np.asarray(sample["orientation"]).reshape(4)),  # type: ignore[arg-type]
        bool(int(sample["gripper_open"])),
        bool(int(sample["ignore_collisions"])),
    )
