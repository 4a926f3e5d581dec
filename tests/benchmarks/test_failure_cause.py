"""The demo's failure diagnosis, on constructed episode records: each cause is found, and a success has none."""

from __future__ import annotations

from typing import Any

import pytest

from mindpalace.agent.episode import EpisodeRecord, StepRecord
from mindpalace.benchmarks.failure_cause import FAILURE_CAUSES, EpisodeTruth, TargetRecords, diagnose


def step(index: int, skill: str, success: bool = True, reason: str = "", **arguments: Any) -> StepRecord:
    return StepRecord(index, skill, arguments, success, reason, "", float(index))


def episode(*steps: StepRecord, reason: str = "done", answer: str | None = None, success: bool = False) -> EpisodeRecord:
    return EpisodeRecord("a task", "local/score", 0, list(steps), success=success, reason=reason, answer=answer)


# Open drawer #13 (true part 40) of dresser #12 in the bedroom; #14 is the drawer below it.
OPEN = EpisodeTruth([TargetRecords(40, (13,))], {12, 13}, {"bedroom"}, "open", goal_records={13})
# Bring mug #7 (true object 5, in drawer #13) to table #3 in the kitchen.
BRING = EpisodeTruth([TargetRecords(5, (7,))], {3, 7, 12, 13}, {"bedroom", "kitchen"}, "place", goal_records={3})
WHERE = EpisodeTruth([TargetRecords(5, (7,))], {3, 7}, set(), "answer", question=True)
ROOM = EpisodeTruth([TargetRecords(5, (7,))], {20, 21}, {"kitchen"}, "navigate_to", goal_records={20, 21}, goal_rooms={"kitchen"})


def test_a_success_has_no_cause() -> None:
    assert diagnose(episode(step(1, "open", target="drawer #13"), success=True), OPEN) == (None, "")


def test_an_error_is_its_own_cause() -> None:
    assert diagnose(episode(reason="error: RuntimeError: boom"), OPEN)[0] == "error"


def test_a_target_no_record_holds_is_perception() -> None:
    truth = EpisodeTruth([TargetRecords(40, ())], {12}, {"bedroom"}, "open")
    assert diagnose(episode(step(1, "explore")), truth)[0] == "perception"


@pytest.mark.parametrize(
    "target",
    [
        TargetRecords(40, (13, 15)),  # split: two records of one drawer
        TargetRecords(40, (13,), merged_with=(41,)),  # merged: its record also holds the drawer below
        TargetRecords(5, (7,), stale=True),  # stale: the record is where the object was
    ],
)
def test_a_flawed_record_of_the_target_is_object_identity(target: TargetRecords) -> None:
    truth = EpisodeTruth([target], {12, 13}, {"bedroom"}, "open")
    # Even when the model's calls look on track, the record they relied on was wrong.
    cause, why = diagnose(episode(step(1, "open", target="drawer #13")), truth)
    assert cause == "object_identity" and str(target.instance) in why


def test_a_wrong_answer_is_answer() -> None:
    record = episode(step(1, "answer", text="On the sofa."), reason="answered", answer="On the sofa.")
    assert diagnose(record, WHERE)[0] == "answer"


def test_a_wrong_target_is_the_planner() -> None:
    record = episode(step(1, "navigate_to", target="drawer #14"), step(2, "open", target="drawer #14"))
    cause, why = diagnose(record, OPEN)
    assert cause == "planner" and "drawer #14" in why


def test_a_wrong_room_is_the_planner_and_ending_early_too() -> None:
    assert diagnose(episode(step(1, "navigate_to", target="bathroom"), step(2, "done")), ROOM)[0] == "planner"
    # Every call on track, but `done` before the drawer was opened: the model ended the task early.
    assert diagnose(episode(step(1, "navigate_to", target="drawer #13"), step(2, "done")), OPEN)[0] == "planner"


def test_finishing_on_a_right_target_that_is_not_the_goal_is_the_planner() -> None:
    # The drawer's desk #12 is a right place to go to, not the furniture the task says to put the mug on.
    record = episode(step(1, "pick", object="mug #7"), step(2, "place", receptacle="desk #12", relation="on"), step(3, "done"))
    cause, why = diagnose(record, BRING)
    assert cause == "planner" and "desk #12" in why


def test_carrying_the_object_anywhere_but_its_goal_is_the_planner() -> None:
    # The drawer is on track before the pick; with the mug in hand, going back to it is not.
    record = episode(
        step(1, "navigate_to", target="drawer #13"),
        step(2, "open", target="drawer #13"),
        step(3, "pick", object="mug #7"),
        step(4, "navigate_to", target="table #3"),
        step(5, "navigate_to", target="drawer #13"),
        reason="step budget",
    )
    cause, why = diagnose(record, BRING)
    assert cause == "planner" and "step 5" in why
    on_track = episode(*record.steps[:4], step(5, "navigate_to", target="kitchen"), reason="step budget")
    assert diagnose(on_track, BRING)[0] == "budget"


def test_merged_ids_are_resolved_before_judging() -> None:
    record = episode(step(1, "open", target="drawer #99"), reason="step budget")
    assert diagnose(record, OPEN, resolve=lambda i: 13 if i == 99 else i)[0] == "manipulation"


def test_a_failed_path_to_the_right_target_is_navigation() -> None:
    record = episode(step(1, "navigate_to", success=False, reason="no_path", target="drawer #13"), reason="loop guard: stuck")
    assert diagnose(record, OPEN)[0] == "navigation"


def test_stopping_too_far_after_the_right_navigation_is_navigation() -> None:
    record = episode(step(1, "navigate_to", target="kitchen"), step(2, "done"))
    assert diagnose(record, ROOM)[0] == "navigation"


def test_a_right_action_the_world_undid_or_refused_is_manipulation() -> None:
    placed = episode(
        step(1, "pick", object="mug #7"), step(2, "navigate_to", target="table #3"), step(3, "place", receptacle="table #3")
    )
    assert diagnose(placed, BRING)[0] == "manipulation"
    refused = episode(step(1, "pick", success=False, reason="out_of_reach", object="mug #7"), reason="step budget")
    assert diagnose(refused, BRING)[0] == "manipulation"


def test_running_out_while_on_track_is_budget() -> None:
    record = episode(
        step(1, "explore"), step(2, "navigate_to", target="drawer #13"), step(3, "look_around"), reason="step budget"
    )
    assert diagnose(record, OPEN)[0] == "budget"
    # The same end after a wrong call is the planner's.
    wrong = episode(step(1, "navigate_to", target="sofa #30"), step(2, "navigate_to", target="drawer #13"), reason="step budget")
    assert diagnose(wrong, OPEN)[0] == "planner"


def test_every_cause_is_documented() -> None:
    assert set(FAILURE_CAUSES) == {
        "error",
        "perception",
        "object_identity",
        "answer",
        "navigation",
        "manipulation",
        "planner",
        "budget",
    }
