"""The interface for learned policies on the tabletop, as MemoryBench evaluates PerAct, RVT-2 and SAM2Act.

A policy is any object with two methods:

    class MyPolicy:
        def reset(self, instruction: str) -> None: ...            # a new episode; drop any memory of the last one
        def act(self, observation: dict) -> dict | None: ...      # the next key-pose, or None to stop

`observation` is the env's Gymnasium dict (`TabletopEnv.observation_space`: every camera's `<name>_rgb`,
`_depth`, `_segmentation`, `_intrinsics`, `_camera_pose`, and `gripper_pose`, `gripper_width`,
`gripper_open`, `time`); the key-pose is a sample of `action_space` (`position` (3,), `orientation`
(x, y, z, w), `gripper_open` 0/1, `ignore_collisions` 0/1), executed by the env's motion primitive.
A policy that keeps memory keeps it itself, between `reset` calls; the env gives it nothing of the past.

`mindpalace bench memorybench --agents policy:my_package.my_module:MyPolicy` evaluates one: the attribute is
a class (or factory) called without arguments. `ReplayPolicy` replays an exported demonstration's actions
(a check that the export, the interface and the env agree).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mindpalace.core.types import Observation

MAX_KEY_POSES = 30  # per episode; the oracle needs 13 to 19


@runtime_checkable
class Policy(Protocol):
    def reset(self, instruction: str) -> None: ...

    def act(self, observation: dict[str, Any]) -> dict[str, Any] | None: ...


def load_policy(spec: str) -> Policy:
    """`module:attr` -> the policy `attr()` makes; a clear error if it is missing or lacks reset/act."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"a policy is given as module:attr, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load policy {spec!r}: {error}") from error
    policy = factory()
    if not isinstance(policy, Policy):
        raise ValueError(f"{spec!r} made a {type(policy).__name__}, which has no reset(instruction) and act(observation)")
    return policy


def run_policy(
    env: Any, obs: Observation, instruction: str, policy: Policy, max_key_poses: int = MAX_KEY_POSES
) -> tuple[int, str]:
    """Run one episode of `policy` on a reset env; (key-poses sent, why it ended). Success is the caller's to judge."""
    policy.reset(instruction)
    for step in range(max_key_poses):
        action = policy.act(env.gym_observation(obs))
        if action is None:
            return step, "the policy stopped"
        obs, _, terminated, truncated, _ = env.step(env.gym_action(action))
        if terminated:
            return step + 1, "success"
        if truncated:
            return step + 1, "the env ended the episode"
    return max_key_poses, "key-pose budget"


class ReplayPolicy:
    """Replays the actions of one episode of an exported demonstration dataset (blind: it ignores observations)."""

    def __init__(self, dataset: str | Path, episode: int) -> None:
        from mindpalace.benchmarks.demos import read_episode

        self.actions = [frame["action"] for frame in read_episode(Path(dataset), episode, images=False)]
        self._next = 0

    def reset(self, instruction: str) -> None:
        self._next = 0

    def act(self, observation: dict[str, Any]) -> dict[str, Any] | None:
        if self._next >= len(self.actions):
            return None
        vector = self.actions[self._next]
        self._next += 1
        return {
            "position": vector[0:3],
            "orientation": vector[3:7],
            "gripper_open": int(round(float(vector[7]))),
            "ignore_collisions": int(round(float(vector[8]))),
        }
