"""The critic: after each skill (from the second step on), did it succeed, and is the task getting anywhere?

It reads the structured outcome and a progress signal (what the robot holds, where it is, what it changed),
and writes one line for the next prompt. It also decides whether `done` is a valid call yet: a small
model cannot judge completion (asked "is the task finished?", SmolLM2-135M answers the same at every step),
so the check is a rule on the task's verb and the last step. It never runs after the first step: RoboMemory found that
criticising a plan before it had a chance to act makes the planner replan endlessly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


# The English of a visit to several things, read from the instruction's grammar (no template's wording): a quantifier
# ("every", "each", "all", "both"), an order ("in the order ...", "in the same sequence", "in reverse"), a second
# destination after "then", a list of destinations ("the mug, the cup and the plate") or a plural one ("the objects").
_QUANTIFIER = re.compile(r"\b(every|each|all|both)\b")
_SINGULAR = re.compile(r"\b(the one|one of|find one|which)\b")  # "of all the furniture ..., go to the one farthest"
_IN_ORDER = re.compile(r"\bin (?:the |that |this |the same |a given )?(?:order|sequence)\b|\bone after (?:the )?other\b")
_REVERSE = re.compile(r"\breverse\b|\bbackwards?\b|\b(?:last|latest|most recent)(?: one)? first\b")
_THEN = re.compile(
    r"\bthen,? (?:go |head |drive |walk |move |navigate |stop |visit )?(?:(?:on )?(?:to|by|at|into) )?(?:the|a|an)\b"
)
_GO = r"(?:please )?(?:go|head|drive|walk|navigate|move|return|come)(?: back)? (?:to|into)|visit|revisit|stop (?:by|at)"
_LIST = re.compile(rf"^(?:{_GO}) (?:the|a|an) (?:[a-z-]+ ){{0,2}}?[a-z-]+(?:,| and)(?: then)? (?:(?:to|by|at) )?(?:the|a|an) ")
_PLURAL = re.compile(rf"^(?:{_GO}) (?:all )?(?:of )?(?:the|these|those|your) ([a-z-]+s)\b")
_ROOM = re.compile(r"\brooms?\b")
_FURNITURE = re.compile(r"\b(furniture|spots?|surfaces?|receptacles?)\b")
_PICKED = re.compile(r"\b(picked|pick-up|pick up|lifted|took|grabbed)\b")
_PUT = re.compile(r"\b(left|put|placed|drop-off|dropped|delivered)\b")


@dataclass(frozen=True)
class MultiStop:
    """What an instruction that asks for several stops asks: in what order, and which kind of thing each stop is at.

    `order`: "any", "given" (memory's order) or "reverse". `kind`: "object", "furniture", "room", or "" where only the
    labels the instruction names can tell. `role` (furniture): "source" (where the robot picked things up), "goal"
    (where it put them down) or "" (either). `listed`: the instruction lists its destinations itself ("the mug, then the
    cup"), rather than asking memory for them ("every object you moved").
    """

    order: str
    kind: str
    role: str
    listed: bool = False


def stops_asked(task: str, names: Iterable[str] = ()) -> MultiStop | None:
    """Whether a visiting instruction asks for several stops, from its grammar; None for one stop.

    `names` are the labels and room names memory knows ("keys", "living room"): words of a name are no plural and no
    "room". An instruction whose steps are manipulations ("put ..., then press ...") is no visit (see `clauses`).
    """
    text = " ".join(re.findall(r"[a-z0-9-]+|[,?]", task.lower().replace("_", " "))).replace(" ,", ",")
    if clauses(text):
        return None
    plain = f" {text} "
    for name in sorted((n.lower().replace("_", " ") for n in names), key=len, reverse=True):
        plain = plain.replace(f" {name} ", " # ")
    listed = bool(_LIST.search(text) or _THEN.search(text))
    ordered = bool(_IN_ORDER.search(text) or _REVERSE.search(text) or _THEN.search(text))
    plural = _PLURAL.search(plain.strip())
    if not (listed or ordered or plural or (_QUANTIFIER.search(text) and not _SINGULAR.search(text))):
        return None
    order = "reverse" if _REVERSE.search(text) else "given" if ordered else "any"
    kind = "room" if _ROOM.search(plain) else "furniture" if _FURNITURE.search(plain) else ""
    if not kind and re.search(r"\b(objects?|items?|things?)\b", plain):
        kind = "object"
    picked, put = bool(_PICKED.search(text)), bool(_PUT.search(text))
    role = "source" if picked and not put else "goal" if put and not picked else ""
    return MultiStop(order, kind, role, listed)


def stop_due(targets: list[str], stopped: list[str], arrived: str | None, order: str) -> str | None:
    """The stop to offer on arriving at `arrived` in a task of several stops at `targets` (memory's order, reversed
    already where the task asks): `checkpoint` while targets remain after it, `done` at the last; None where arriving
    there is no stop the task asks for (not a target, one stopped at already, or out of order)."""
    remaining = [t for t in targets if t not in stopped]
    if arrived is None or arrived not in remaining or (order != "any" and arrived != remaining[0]):
        return None
    return "checkpoint" if len(remaining) > 1 else "done"
