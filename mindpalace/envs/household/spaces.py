"""Gymnasium spaces of the household env, for the dict view that `check_env` and RL libraries use."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from mindpalace.envs.household.config import HouseholdConfig
from mindpalace.envs.household.robot import HEAD_PAN_RANGE, HEAD_TILT_RANGE

MAX_INSTANCE_ID = 2**16 - 1
ACTION_KINDS = ("base_velocity", "look", "wait", "pick", "place", "open", "close")  # what the household robot does


def observation_space(config: HouseholdConfig) -> spaces.Dict:
    h, w = config.height, config.width
    return spaces.Dict(
        {
            "rgb": spaces.Box(0, 255, (h, w, 3), np.uint8),
            "depth": spaces.Box(0.0, config.max_depth, (h, w), np.float32),
            "segmentation": spaces.Box(0, MAX_INSTANCE_ID, (h, w), np.int32),
            "intrinsics": spaces.Box(0.0, np.inf, (3, 3), np.float64),
            "camera_pose": spaces.Box(-np.inf, np.inf, (4, 4), np.float64),
            "base_pose": spaces.Box(-np.inf, np.inf, (4, 4), np.float64),
            "time": spaces.Box(0.0, np.inf, (1,), np.float64),
            "time_of_day": spaces.Box(0.0, 86400.0, (1,), np.float64),
        }
    )


def action_space(config: HouseholdConfig) -> spaces.Dict:
    """One flat dict for every action kind; `type` picks which of the other fields are read."""
    return spaces.Dict(
        {
            "type": spaces.Discrete(len(ACTION_KINDS)),  # an index into ACTION_KINDS
            "v": spaces.Box(-config.max_linear, config.max_linear, (1,), np.float32),
            "omega": spaces.Box(-config.max_angular, config.max_angular, (1,), np.float32),
            "duration": spaces.Box(0.05, 1.0, (1,), np.float32),
            "pan_tilt": spaces.Box(
                np.array([HEAD_PAN_RANGE[0], HEAD_TILT_RANGE[0]], np.float32),
                np.array([HEAD_PAN_RANGE[1], HEAD_TILT_RANGE[1]], np.float32),
            ),
            "target": spaces.Discrete(MAX_INSTANCE_ID + 1),
            "relation": spaces.Discrete(2),
        }
    )
