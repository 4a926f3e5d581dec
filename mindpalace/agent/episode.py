"""What one episode of the agent loop did, step by step: the input of reports and summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mindpalace.planning.planner import MemoryCall


@dataclass
class StepRecord:
    """One planner decision and the skill it ran."""

    index: int
    skill: str  # the chosen skill's name, e.g. "navigate_to"
    arguments: dict[str, Any]
    success: bool
    reason: str  # a FailureReason value or "" on success
    message: str  # the skill outcome's human-readable message
    time_s: float  # simulated time at the end of the step
    memory_calls: list[MemoryCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    inference_s: float = 0.0  # time inside the model
    planner_overhead_s: float = 0.0  # planner time outside the model: prompt building, memory calls, parsing
    skill_s: float = 0.0  # wall time of the skill (env steps, perception and memory writes)
    env_steps: int = 0
    choice: str = ""  # why this call: the model's reply, or the top scored candidates with their scores
    critic: str = ""  # the critic's verdict after the step ("" on the first step, where it does not run)
    guard: str = ""  # what the loop guard did, if anything
    repairs: int = 0  # invalid replies repaired or asked again
    frame: np.ndarray | None = None  # (H, W, 3) uint8 RGB at the end of the step (key frame)
    robot_xy: tuple[float, float] = (0.0, 0.0)


@dataclass
class EpisodeRecord:
    task: str
    planner: str  # backend and mode, e.g. "local/score"
    seed: int
    steps: list[StepRecord] = field(default_factory=list)
    success: bool = False  # judged by the episode's checker (privileged, for metrics only) or the planner's `done`
    reason: str = ""  # why the episode ended: "done", "answered", "step budget", "token budget", "time budget", ...
    answer: str | None = None  # the text of an `answer` skill call
    path: list[tuple[float, float]] = field(default_factory=list)  # the base's (x, y) trail over the episode
    wall_s: float = 0.0
    maps: dict[str, str] = field(default_factory=dict)  # caption -> PNG path (top-down map with the path, costmap)
    notes: list[str] = field(default_factory=list)  # anything a reader should know (checker details, errors handled)

    @property
    def memory_calls(self) -> int:
        return sum(len(s.memory_calls) for s in self.steps)

    @property
    def tokens(self) -> int:
        return sum(s.prompt_tokens + s.completion_tokens for s in self.steps)
