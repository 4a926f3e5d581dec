"""The critic: after each skill (from the second step on), did it succeed, and is the task getting anywhere?

It reads the structured outcome and a progress signal (what the robot holds, where it is, what it changed),
and writes one line for the next prompt. It also decides whether `done` is a valid call yet: a small
model cannot judge completion (asked "is the task finished?", SmolLM2-135M answers the same at every step),
so the check is a rule on the task's verb and the last step. It never runs after the first step: RoboMemory found that
criticising a plan before it had a chance to act makes the planner replan endlessly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a task's verb asks the robot to have done last before it may say it is done.
_FINISHING_SKILL = {
    "place": ("bring", "put", "move", "place", "carry", "take"),
    "open": ("open",),
    "close": ("close", "shut"),
    "press": ("press", "push"),
}
_CLAUSES = re.compile(r",|;|\bthen\b|\band then\b")


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

    @staticmethod
    def may_finish(task: str, last_skill: str | None, last_success: bool, succeeded: list[str] | None = None) -> bool:
        """Whether the last step could have completed the task: a successful step of the kind the task's verb asks
        for (place for "bring" or "put", open, close, press), or else a successful navigate_to ("go to ...").

        An instruction of several steps ("close the drawer, press the button, then open it again") asks for each
        clause's verb in order: `succeeded` (the skills that succeeded so far, in order) must contain them all.
        """
        if last_skill is None or not last_success:
            return False
        required = Critic.required_skills(task)
        if not required:
            return last_skill == "navigate_to"
        if last_skill != required[-1]:
            return False
        remaining = iter(succeeded if succeeded is not None else [last_skill])
        return all(any(skill == done for done in remaining) for skill in required)

    @staticmethod
    def required_skills(task: str) -> list[str]:
        """The skill each clause's leading verb asks for, in order ("Move ..., press ..., then put ..." ->
        place, press, place); a verb inside a clause ("the cup you put away") describes, it does not ask."""
        return [clause.skill for clause in clauses(task)]


@dataclass(frozen=True)
class Clause:
    """One step an instruction asks for: the skill its leading verb names and the clause's words."""

    skill: str
    text: str


def clauses(task: str) -> list[Clause]:
    """The instruction's steps in order: each clause that starts with a verb of a skill ("press the button")."""
    steps = []
    for text in _CLAUSES.split(task.lower()):
        words = re.findall(r"[a-z]+", text)
        if words:
            steps += [Clause(skill, " ".join(words)) for skill, verbs in _FINISHING_SKILL.items() if words[0] in verbs]
    return steps


def current_step(task: str, succeeded: list[str]) -> Clause | None:
    """The first step of a multi-step instruction that the skills succeeded so far (in order) have not done yet;
    None for an instruction of one step (its order is the model's to find) or when every step is done."""
    steps = clauses(task)
    if len(steps) < 2:
        return None
    done = iter(succeeded)
    for step in steps:
        if not any(skill == step.skill for skill in done):
            return step
    return None
