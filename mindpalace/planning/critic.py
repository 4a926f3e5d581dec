"""The critic: after each skill (from the second step on), did it succeed, and is the task getting anywhere?

It reads the structured outcome and a progress signal (what the robot holds, where it is, what it changed),
and writes one line for the next prompt. It never runs after the first step: RoboMemory found that
criticising a plan before it had a chance to act makes the planner replan endlessly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CriticConfig:
    patience: int = 4  # steps without progress before the critic says the task is stuck


class Critic:
    def __init__(self, config: CriticConfig | None = None) -> None:
        self.config = config or CriticConfig()
        self._progress: set[str] = set()
        self._idle = 0

    def reset(self) -> None:
        self._progress.clear()
        self._idle = 0

    def review(self, step: int, call: str, success: bool, reason: str, message: str, progress: str) -> str:
        """One verdict line ("" on the first step). `progress` names the state the task cares about."""
        new = progress not in self._progress
        self._progress.add(progress)
        self._idle = 0 if success and new else self._idle + 1
        if step == 0:
            return ""
        if not success:
            verdict = f"{call} failed ({reason}): {message}. Do something else to get past it."
        else:
            verdict = f"{call} succeeded: {message}."
        if self._idle >= self.config.patience:
            verdict += f" The task has not progressed in {self._idle} steps."
        elif success and new:
            verdict += " The task is progressing."
        return verdict
