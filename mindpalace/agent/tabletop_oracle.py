"""The scripted tabletop oracle: MemoryBench's demonstrator, key-poses computed from privileged state.

It knows the task's variation (which drawer, which patch) from `env.privileged` and sends key-poses, as
the demonstrations MemoryBench ships are key-pose sequences; the same skills' key-poses the env runs for
the planner's `Pick`, `Place`, `Open`, `Close` and `Press`. It is the only agent code that reads the
tabletop's ground truth (like `agent/oracle.py` for the household).

The chance baseline is the oracle with the memory-dependent choice (after the button press) drawn
uniformly from the task's options instead: it succeeds at chance, 1 / (the task's variations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mindpalace.core.actions import KeyPose
from mindpalace.core.types import Observation
from mindpalace.envs.tabletop import primitives
from mindpalace.envs.tabletop.env import OPEN_TRAVEL, TabletopEnv
from mindpalace.envs.tabletop.scene import DRAWERS, place_xy
from mindpalace.envs.tabletop.tasks import PUT_BACK_PATCHES, PutBlockBackMonitor, RearrangeBlockMonitor, ReopenDrawerMonitor


@dataclass(frozen=True)
class SkillStep:
    """One skill of a demonstration: "pick" a block, "place" on a place, "open"/"close" a drawer, "press"."""

    skill: str
    target: str  # an entity key: "block_a", "patch_front", "centre", "drawer_top", "button"


def oracle_skills(env: TabletopEnv, guess: np.random.Generator | None = None) -> list[SkillStep]:
    """The task's skills in order, for this episode's variation (read from the task's monitor).

    With `guess`, the choice that needs memory (which drawer to reopen, which patch the block goes back to,
    which block goes to the centre) is drawn uniformly instead: the chance baseline.
    """
    monitor = env.privileged.monitor
    press = SkillStep("press", "button")

    def choose(options: tuple[str, ...], right: str) -> str:
        return options[int(guess.integers(len(options)))] if guess is not None else right

    if isinstance(monitor, ReopenDrawerMonitor):
        return [SkillStep("close", monitor.drawer), press, SkillStep("open", choose(DRAWERS, monitor.drawer))]
    if isinstance(monitor, PutBlockBackMonitor):
        block = monitor.block
        return [
            SkillStep("pick", block),
            SkillStep("place", "centre"),
            press,
            SkillStep("pick", block),
            SkillStep("place", choose(PUT_BACK_PATCHES, monitor.patch)),
        ]
    if isinstance(monitor, RearrangeBlockMonitor):
        return [
            SkillStep("pick", monitor.moved),
            SkillStep("place", monitor.empty),
            press,
            SkillStep("pick", choose(tuple(sorted((monitor.original, monitor.moved))), monitor.original)),
            SkillStep("place", "centre"),
        ]
    raise ValueError(f"no oracle for {type(monitor).__name__}")


def skill_key_poses(env: TabletopEnv, step: SkillStep) -> list[KeyPose]:
    """The key-poses of one skill from where things are now."""
    truth = env.privileged
    if step.skill == "pick":
        return primitives.pick(tuple(truth.position(step.target)))
    if step.skill == "place":
        return primitives.place(place_xy(step.target))
    if step.skill == "press":
        return primitives.press(truth.scene.button_xy)
    opening = truth.drawer_opening(step.target)
    handle = tuple(truth.handle_position(step.target))
    if step.skill == "open":
        return primitives.open_drawer(handle, OPEN_TRAVEL - opening)
    if step.skill == "close":
        return primitives.close_drawer(handle, opening)
    raise ValueError(f"unknown skill {step.skill!r}")


@dataclass
class OracleResult:
    success: bool
    key_poses: int
    decision_step: int  # the number of key-poses sent when the button press was complete (the decision point)
    failures: list[str] = field(default_factory=list)


def run_oracle(
    env: TabletopEnv,
    obs: Observation,
    on_step: Callable[[Observation, KeyPose, Observation, SkillStep], None] | None = None,
    stop_at_decision: bool = False,
    guess: np.random.Generator | None = None,
) -> OracleResult:
    """Demonstrate the task from a fresh reset; `on_step(obs_before, key_pose, obs_after, skill)` sees every step.

    With `stop_at_decision` it stops right after the button press (the decision point); with `guess` it is the
    chance baseline (see `oracle_skills`).
    """
    result = OracleResult(False, 0, -1)
    for step in oracle_skills(env, guess):
        for pose in skill_key_poses(env, step):
            after, _, _, _, info = env.step(pose)
            result.key_poses += 1
            if not info["outcome"].success:
                result.failures.append(f"{step.skill} {step.target}: {info['outcome'].message}")
            if on_step is not None:
                on_step(obs, pose, after, step)
            obs = after
        if step.skill == "press":
            result.decision_step = result.key_poses
            if stop_at_decision:
                break
    result.success = env.privileged.success
    return result
