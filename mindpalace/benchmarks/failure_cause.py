"""Why a failed episode failed, diagnosed on the benchmark side from the episode record and ground truth.

The causes, checked in this order (the first that holds is the cause):

- `error`: an unexpected error ended the episode.
- `perception`: the task's target (the object, the drawer) was never mapped: no memory record holds it.
- `object_identity`: memory's record of the target is wrong: two or more live records hold it (a split or a
  duplicate), its record also holds another true instance of its kind (a merge), or its record is stale (far
  from where the target truly is when the episode starts).
- `answer`: a question was answered, and the answer names the wrong thing.
- `navigation` / `manipulation`: every call the model chose was on track, but the skill failed (no path, a
  refused pick) or ended where the world disagrees (stopped too far from the goal, a place that did not hold).
- `planner`: the model chose a wrong target or action (a record or room that is not the task's), or ended the
  task early, while memory held the right answer.
- `budget`: every call was on track, and the episode ran out of steps, tokens or time.

"On track" is judged against the task's right targets (`EpisodeTruth`), and the final skill against the task's
goal (the furniture to put the thing on, the drawer to open, the object to go to), which the benchmark fills from
its ground truth and its identity ledger; the agent never sees any of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mindpalace.agent.episode import EpisodeRecord, StepRecord

FAILURE_CAUSES = ("error", "perception", "object_identity", "answer", "navigation", "manipulation", "planner", "budget")

_BUDGETS = ("step budget", "token budget", "time budget")
_MANIPULATION = ("pick", "place", "open", "close", "press")
_ID = re.compile(r"#(\d+)")


@dataclass(frozen=True)
class TargetRecords:
    """What memory held of one true instance the task is about, when the episode started (from the identity ledger)."""

    instance: int  # the simulator's id
    records: tuple[int, ...]  # live memory records whose percepts are mostly this instance
    merged_with: tuple[int, ...] = ()  # other true instances of its kind that its records also hold
    stale: bool = False  # its record lies far from where the instance truly is

    def flaw(self) -> str:
        """What is wrong with memory's record of it, "" if nothing."""
        if len(self.records) > 1:
            return f"instance {self.instance} is held by {len(self.records)} records {list(self.records)}"
        if self.merged_with:
            return f"record {self.records[0]} of instance {self.instance} also holds {list(self.merged_with)}"
        if self.stale:
            return f"record {self.records[0]} of instance {self.instance} is stale"
        return ""


@dataclass
class EpisodeTruth:
    """The benchmark's view of one task at the start of its episode: its targets and what a right step may name."""

    targets: list[TargetRecords]
    right_records: set[int]  # memory records a right call may name (the targets, where they are, where they go)
    right_rooms: set[str] = field(default_factory=set)  # rooms a right navigate_to may name
    final_skill: str = ""  # the skill that completes the task: "place", "open", "navigate_to" or "answer"
    question: bool = False
    # What the final skill must name (the furniture to put the thing on, the drawer to open); None: any right target.
    goal_records: set[int] | None = None
    goal_rooms: set[str] = field(default_factory=set)


def diagnose(record: EpisodeRecord, truth: EpisodeTruth, resolve: Callable[[int], int] = lambda i: i) -> tuple[str | None, str]:
    """The failure's cause (one of FAILURE_CAUSES, None for a success) and a sentence that says why.

    `resolve` maps a memory id a step named to the id it is known by now (merged ids), as the object map does.
    """
    if record.success:
        return None, ""
    if record.reason.startswith("error"):
        return "error", record.reason
    for target in truth.targets:
        if not target.records:
            return "perception", f"instance {target.instance} was never mapped"
    for target in truth.targets:
        if flaw := target.flaw():
            return "object_identity", flaw
    if truth.question and record.answer is not None:
        return "answer", f"the answer {record.answer!r} names the wrong thing"

    def ids(step: StepRecord) -> list[int]:
        return [resolve(int(i)) for value in step.arguments.values() for i in _ID.findall(str(value))]

    # The steps taken with the task's object in hand (from its pick to a place): then only the goal is on track
    # (going back to the drawer it came from, or closing it, is not the way to where it goes).
    in_hand: set[int] = set()
    target_records = {r for t in truth.targets for r in t.records}
    held = False
    for step in record.steps:
        if held:
            in_hand.add(step.index)
        if step.success and step.skill == "pick" and target_records & set(ids(step)):
            held = True
        elif step.success and step.skill == "place":
            held = False

    def on_track(step: StepRecord) -> bool | None:
        """Whether a step named only right targets; None for a step that names none (explore, look_around, done)."""
        named = ids(step)
        rooms = [str(v) for v in step.arguments.values() if not _ID.search(str(v))] if step.skill == "navigate_to" else []
        if step.skill == "answer" or not (named or rooms):
            return None
        records, room_names = truth.right_records, truth.right_rooms
        if truth.goal_records is not None and (step.skill == truth.final_skill or step.index in in_hand):
            # Placing on the wrong furniture is not on track, nor carrying the object anywhere but to its goal.
            records = truth.goal_records
            room_names = truth.goal_rooms if step.skill == truth.final_skill else truth.right_rooms
        return all(i in records for i in named) and all(r in room_names for r in rooms)

    finished = [s for s in record.steps if s.skill == truth.final_skill and s.success and on_track(s)]
    if finished and not any(on_track(s) is False for s in record.steps[record.steps.index(finished[-1]) :]):
        kind = "navigation" if truth.final_skill == "navigate_to" else "manipulation"
        return kind, f"step {finished[-1].index} ({truth.final_skill}) was on track, yet the goal was not met"
    wrong = [s for s in record.steps if on_track(s) is False]
    if wrong:
        return "planner", f"step {wrong[0].index} named a wrong target: {wrong[0].skill}({_arguments(wrong[0])})"
    failed = [s for s in record.steps if on_track(s) and not s.success]
    if failed:
        kind = "navigation" if failed[-1].skill == "navigate_to" else "manipulation"
        return kind, f"step {failed[-1].index} ({failed[-1].skill}) failed: {failed[-1].reason}"
    if record.reason in _BUDGETS:
        return "budget", f"every call was on track; the episode ran out of its {record.reason}"
    return "planner", f"the episode ended ({record.reason}) before the task's {truth.final_skill or 'goal'} was done"


def _arguments(step: StepRecord) -> str:
    return ", ".join(f"{k}={v}" for k, v in step.arguments.items())
