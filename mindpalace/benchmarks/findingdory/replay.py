"""A recorded day played back as an env, so that any agent remembers the same day without the simulator.

`ReplayEnv` (registered as "mindpalace/Replay-v0", argument `recording`) gives the day's first frame on
reset and, for each recorded action, the frame that action led to, with its recorded outcome. Driven by
`replay(runtime)`, the agent's own `AgentRuntime` does what it does live: every frame is perceived and
filed in memory, and the robot's own picks, places, opens and closes become events. The replay has no
privileged state: it knows only what the robot sensed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindpalace.benchmarks.findingdory.recording import Recording
from mindpalace.core.actions import Action, ActionOutcome, FailureReason, action_to_dict
from mindpalace.core.env import FloorPlan
from mindpalace.core.types import Observation

if TYPE_CHECKING:
    from mindpalace.agent.runtime import AgentRuntime


class ReplayEnv:
    """The `Env` protocol over a recording: it plays its recorded actions and nothing else."""

    def __init__(self, recording: str | Path) -> None:
        self.recording = Recording(Path(recording))
        self.robot = self.recording.meta.robot
        self.index = 0

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        path = kwargs.get("recording")
        if not path:
            raise ValueError("the replay env needs recording=<folder of a recorded day>")
        if not (Path(path) / "meta.json").is_file():
            raise ValueError(f"{path} is not a finished recording")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Observation, dict[str, Any]]:
        """The day's first frame (a seed chooses nothing: the day is recorded)."""
        self.index = 0
        return self.recording.observation(0), {"frames": len(self.recording)}

    def next_action(self) -> Action | None:
        """The recorded action that comes next, or None when the day is over."""
        return self.recording.action(self.index + 1) if self.index + 1 < len(self.recording) else None

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        expected = self.next_action()
        if expected is None or action_to_dict(action) != action_to_dict(expected):
            wanted = action_to_dict(expected) if expected is not None else "nothing (the day is over)"
            outcome = ActionOutcome.fail(
                FailureReason.INVALID_ARGUMENT, f"a replay plays only its recorded actions; next: {wanted}"
            )
            obs = self.recording.observation(self.index)
            obs.last_outcome = outcome
            return obs, 0.0, False, False, {"outcome": outcome}
        self.index += 1
        obs = self.recording.observation(self.index)
        assert obs.last_outcome is not None
        return obs, 0.0, False, False, {"outcome": obs.last_outcome}

    def floor_plan(self) -> FloorPlan:
        """The room names and outlines the robot was given on the day."""
        return list(self.recording.meta.floor_plan)

    def close(self) -> None:
        """Nothing to release: frames are read a chunk at a time."""


def replay(runtime: AgentRuntime, progress: Callable[[int, int], None] | None = None) -> int:
    """Play the rest of the recorded day through `runtime` (whose env is a `ReplayEnv`); returns the frames played.

    The runtime perceives every frame and records the robot's own actions, exactly as on a live day.
    """
    env = runtime.env
    if not isinstance(env, ReplayEnv):
        raise TypeError(f"replay needs a runtime over a ReplayEnv, not {type(env).__name__}")
    played = 0
    while (action := env.next_action()) is not None:
        runtime.step(action)
        played += 1
        if progress is not None:
            progress(env.index, len(env.recording) - 1)
    runtime.memory.flush()
    return played
