"""A Gymnasium view of a mindpalace env: dict observations and dict actions that match its spaces.

The native envs return `mindpalace.core.Observation`, which carries an id -> label table no
Gymnasium space can describe; this wrapper turns it into the arrays of `observation_space` and
moves the label table to `info["instances"]`, so `gymnasium.utils.env_checker.check_env` and RL
libraries can use the env unchanged. An env with other spaces than the household's converts its own
observations and actions (`gym_observation(obs)`, `gym_action(sample)`); the household's are here.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from mindpalace.core.actions import Action, BaseVelocity, Close, Look, Open, Pick, Place, Relation, Wait
from mindpalace.core.types import Observation
from mindpalace.envs.household.spaces import ACTION_KINDS  # the "type" of the household's action space indexes this


def observation_to_dict(obs: Observation) -> dict[str, np.ndarray]:
    h, w = obs.depth.shape
    segmentation = obs.segmentation if obs.segmentation is not None else np.zeros((h, w), np.int32)
    return {
        "rgb": obs.rgb,
        "depth": obs.depth,
        "segmentation": segmentation,
        "intrinsics": obs.camera.K,
        "camera_pose": obs.camera_pose,
        "base_pose": obs.base_pose,
        "time": np.array([obs.time_s], dtype=np.float64),
        "time_of_day": np.array([obs.time_of_day_s or 0.0], dtype=np.float64),
    }


def action_from_space(sample: dict[str, Any]) -> Action:
    """Map a sample of the flat action `spaces.Dict` to the typed action its `type` names."""
    kind = ACTION_KINDS[int(sample["type"])]
    target = int(sample["target"])
    if kind == "base_velocity":
        return BaseVelocity(float(sample["v"][0]), float(sample["omega"][0]), float(sample["duration"][0]))
    if kind == "look":
        return Look(float(sample["pan_tilt"][0]), float(sample["pan_tilt"][1]))
    if kind == "wait":
        return Wait(float(sample["duration"][0]))
    if kind == "pick":
        return Pick(target)
    if kind == "place":
        return Place(target, (Relation.ON, Relation.IN)[int(sample["relation"])])
    return Open(target) if kind == "open" else Close(target)


def make_view(env_id: str, **config: Any) -> GymnasiumView:
    """The dict view of the mindpalace env `env_id` (`config` as for `mindpalace.envs.make`): what `gymnasium.make`
    builds for the ids registered with Gymnasium."""
    from mindpalace.envs import make

    return GymnasiumView(make(env_id, **config))


class GymnasiumView(gym.Wrapper):
    """Wrap a native env so observations and actions are the dicts of its Gymnasium spaces."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._observation = getattr(env, "gym_observation", observation_to_dict)
        self._action = getattr(env, "gym_action", action_from_space)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        return self._observation(obs), {**info, "instances": obs.instances}

    def step(self, action: dict[str, Any]) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(self._action(action))
        return self._observation(obs), float(reward), terminated, truncated, {**info, "instances": obs.instances}
