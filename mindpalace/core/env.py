"""The env protocol that agent code is typed against: any simulator or robot that takes `core` actions.

An env returns `Observation`s, reports each action's outcome in `info["outcome"]` (an `ActionOutcome`,
also on `obs.last_outcome`) and never raises for a bad request. It describes its body as `robot`.
Ground truth, where an env has it, lives elsewhere (the household's `env.privileged`): agent code never
reads it; only oracles, metrics and tests do.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from mindpalace.core.actions import Action
from mindpalace.core.robot import RobotDescription
from mindpalace.core.types import Observation

FloorPlan = list[tuple[str, list[tuple[float, float]]]]
"""Room names and outlines (world x, y polygons), as a person names the rooms of their home."""


@runtime_checkable
class Env(Protocol):
    """Gymnasium's reset/step/close, with typed observations and actions, and the robot it drives."""

    robot: RobotDescription

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Observation, dict[str, Any]]: ...

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]: ...

    def close(self) -> None: ...


def floor_plan_of(env: Env) -> FloorPlan:
    """The floor plan an env hands its robot (`env.floor_plan()`), or none: then rooms are only what memory segments."""
    provider = getattr(env, "floor_plan", None)
    return list(provider()) if callable(provider) else []
