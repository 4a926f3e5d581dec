"""Simulators behind one Gymnasium-style API, created by id with lazy entry points.

env = mindpalace.envs.make("mindpalace/Household-v0", width=320, height=240)
obs, info = env.reset(seed=0)
obs, reward, terminated, truncated, info = env.step(BaseVelocity(0.3, 0.0, 0.5))

Importing this package also registers the household env with Gymnasium: `gymnasium.make("mindpalace/Household-v0")`
(or, without importing it first, `gymnasium.make("mindpalace.envs:mindpalace/Household-v0")`) gives its dict view,
`GymnasiumView`, whose observations and actions are the arrays of its spaces (see docs/household.md).
"""

from __future__ import annotations

from typing import Any

import gymnasium

from mindpalace.core.registry import Registry

HOUSEHOLD = "mindpalace/Household-v0"

ENVS: Registry[Any] = Registry("env")
ENVS.register(
    HOUSEHOLD,
    "mindpalace.envs.household.env:HouseholdEnv",
    install_hint="pip install mujoco (and, for headless rendering, apt-get install libegl1 libegl-mesa0 libgl1)",
    description="Seeded MuJoCo apartments of 3-8 rooms with a mobile robot and a head RGB-D camera.",
)
ENVS.register(
    "mindpalace/Tabletop-v0",
    "mindpalace.envs.tabletop.env:TabletopEnv",
    install_hint="pip install mujoco (and, for headless rendering, apt-get install libegl1 libegl-mesa0 libgl1)",
    description="MemoryBench's three memory tasks on a MuJoCo table: a parallel gripper, drawers, blocks, a button, four cameras.",
)


def register(env_id: str, entry_point: str, **kwargs: Any) -> None:
    """Register an env id with a "module:Class" entry point (imported on first `make`)."""
    ENVS.register(env_id, entry_point, **kwargs)


def make(env_id: str, **config: Any) -> Any:
    """Create the env registered as `env_id`; keyword arguments override its config."""
    return ENVS.make(env_id, **config)


def registered() -> list[str]:
    return ENVS.names()


# Gymnasium's own registry, by entry point string: nothing is imported before gymnasium.make.
if HOUSEHOLD not in gymnasium.registry:
    gymnasium.register(HOUSEHOLD, entry_point="mindpalace.envs.gym_view:make_view", kwargs={"env_id": HOUSEHOLD})
