"""Privileged ground truth of a tabletop episode: for oracles, metrics and tests only.

Perception and memory never import this module; what they know they perceived or were told.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mindpalace.envs.tabletop.scene import Scene
from mindpalace.envs.tabletop.tasks import DECISION_PHASE, Monitor, WorldState

if TYPE_CHECKING:
    from mindpalace.envs.tabletop.env import TabletopEnv


class PrivilegedState:
    """A live view of the simulator's true state and the task's progress (reads the env each call)."""

    def __init__(self, env: TabletopEnv) -> None:
        if env.scene is None:
            raise RuntimeError("call reset() first")
        self._env = env

    @property
    def scene(self) -> Scene:
        """The episode's scene: task, variation, nuisance seed, button place, instance ids, start state."""
        assert self._env.scene is not None
        return self._env.scene

    @property
    def monitor(self) -> Monitor:
        """The task's success monitor: its phase, whether it succeeded, what advanced it."""
        return self._env.monitor

    @property
    def success(self) -> bool:
        return self._env.monitor.success

    @property
    def past_decision_point(self) -> bool:
        """The button was pressed after the first sub-goal: from here only memory tells the variations apart."""
        return self._env.monitor.phase >= DECISION_PHASE

    def world(self) -> WorldState:
        return self._env.world_state()

    def id_of(self, key: str) -> int:
        """The instance id this episode gives an entity ("drawer_top", "block_a", "button", ...)."""
        return self.scene.ids[key]

    def position(self, key: str) -> NDArray[np.float64]:
        """World position of a body: a block, a drawer, "button", "gripper"."""
        return self._env.body_position(key)

    def handle_position(self, drawer: str) -> NDArray[np.float64]:
        return self._env.handle_position(drawer)

    def drawer_opening(self, drawer: str) -> float:
        return self._env.drawer_opening(drawer)

    def grasped(self) -> str | None:
        return self._env.grasped()

    def physics_state(self) -> NDArray[np.float64]:
        """Everything that evolves in the simulation: time, joint positions and velocities, actuator and mocap
        commands, applied forces, and the button's press detector. The task monitor (history) is not in it."""
        world = self._env._world
        assert world is not None
        d = world.data
        return np.concatenate(
            [
                [d.time, float(self._env._button_down), float(self._env._gripper_open)],
                d.qpos,
                d.qvel,
                d.act,
                d.ctrl,
                d.mocap_pos.ravel(),
                d.mocap_quat.ravel(),
                d.qfrc_applied,
            ]
        )
