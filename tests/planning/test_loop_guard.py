"""Loop guard: a repeating call escalates replan -> explore -> abort; stalls; failing calls; progress resets."""

from __future__ import annotations

from mindpalace.planning.loop_guard import GuardVerdict, LoopGuard, LoopGuardConfig
from mindpalace.planning.parsing import Call

GO = Call("navigate_to", {"target": "object:3"})
PICK = Call("pick", {"object": "object:3"})
LOOK = Call("where_is", {"object": "mug"})


def actions(verdicts: list[GuardVerdict]) -> list[str]:
    return [v.action for v in verdicts]


def test_repeating_call_escalates_replan_explore_abort():
    guard = LoopGuard(LoopGuardConfig(max_interventions=2))
    verdicts = [guard.check(GO, "at:3", True) for _ in range(4)]
    assert actions(verdicts) == ["ok", "replan", "explore", "abort"]
    assert verdicts[1].reason == 'navigate_to(target="object:3") repeated 2 times in the same state'
    assert verdicts[1].banned == {GO.key()}
    assert "even after a replan" in verdicts[2].reason
    assert verdicts[3].reason.startswith("gave up after 2 interventions: ")
    assert guard.check(LOOK, "elsewhere", True).action == "abort"  # an aborted episode stays aborted


def test_default_config_gives_four_interventions():
    guard = LoopGuard()
    assert actions([guard.check(GO, "at:3", True) for _ in range(6)]) == [
        "ok",
        "replan",
        "explore",
        "explore",
        "explore",
        "abort",
    ]


def test_ban_lasts_while_the_state_is_unchanged():
    guard = LoopGuard()
    guard.check(GO, "at:3", True)
    assert guard.check(GO, "at:3", True).banned == {GO.key()}
    assert guard.check(LOOK, "at:3", True) == GuardVerdict("ok", "", frozenset({GO.key()}))
    assert guard.check(PICK, "at:3 holding:3", True).banned == frozenset()


def test_repeats_count_within_the_window_only():
    guard = LoopGuard(LoopGuardConfig(window=3))
    guard.check(GO, "at:3", True)
    for i in range(3):
        assert guard.check(Call("navigate_to", {"target": f"object:{i}"}), f"at:{i}", True).action == "ok"
    assert guard.check(GO, "at:3", True).action == "ok"  # the first visit has left the window


def test_oscillation_is_caught():
    guard = LoopGuard()
    back = Call("navigate_to", {"target": "object:4"})
    verdicts = [guard.check(call, state, True) for call, state in [(GO, "at:3"), (back, "at:4"), (GO, "at:3")]]
    assert actions(verdicts) == ["ok", "ok", "replan"]


def test_stalls_lead_to_explore():
    guard = LoopGuard()
    calls = [Call("where_is", {"object": name}) for name in ("mug", "cup", "key", "pen", "hat")]
    verdicts = [guard.check(call, "at:0", True) for call in calls]
    assert actions(verdicts) == ["ok", "ok", "ok", "ok", "explore"]
    assert verdicts[-1].reason == "no progress in the last 4 decisions"


def test_progress_resets_the_stall_counter():
    guard = LoopGuard()
    calls = [Call("where_is", {"object": name}) for name in ("mug", "cup", "key", "pen", "hat", "box")]
    assert guard.check(calls[0], "at:0", True).action == "ok"
    assert guard.check(calls[1], "at:0", True).action == "ok"
    assert guard.check(calls[2], "at:0", True).action == "ok"
    assert guard.check(GO, "at:3", True).action == "ok"  # moved: progress
    assert actions([guard.check(call, "at:3", True) for call in calls[3:]]) == ["ok", "ok", "ok"]


def test_a_failure_that_changes_the_state_is_not_progress():
    guard = LoopGuard()
    calls = [Call("pick", {"object": f"object:{i}"}) for i in range(4)]
    guard.check(GO, "at:3", True)
    verdicts = [guard.check(call, f"at:3 failed:{i}", False) for i, call in enumerate(calls)]
    assert actions(verdicts) == ["ok", "ok", "ok", "explore"]


def test_failing_calls_count_faster():
    config = LoopGuardConfig(max_call_repeats=3)
    succeeding, failing = LoopGuard(config), LoopGuard(config)
    assert actions([succeeding.check(GO, "at:3", True) for _ in range(3)]) == ["ok", "ok", "replan"]
    verdicts = [failing.check(PICK, "at:3 pick failed", False) for _ in range(2)]
    assert actions(verdicts) == ["ok", "replan"]
    assert verdicts[1].reason == 'pick(object="object:3") failed 2 times in the same state'
    assert verdicts[1].banned == {PICK.key()}


def test_reset_starts_a_new_episode():
    guard = LoopGuard(LoopGuardConfig(max_interventions=1))
    assert actions([guard.check(GO, "at:3", True) for _ in range(3)]) == ["ok", "replan", "abort"]
    guard.reset()
    assert guard.check(GO, "at:3", True) == GuardVerdict("ok", "", frozenset())
    assert guard.check(GO, "at:3", True).action == "replan"
