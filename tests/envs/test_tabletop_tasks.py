"""The three tasks' success rules (MemoryBench's, in order), on monitor sequences and in the simulator."""

from __future__ import annotations

import pytest

from mindpalace.core.actions import Close, Open, Pick, Place, Press
from mindpalace.envs import make
from mindpalace.envs.tabletop.scene import DRAWERS
from mindpalace.envs.tabletop.tasks import (
    DECISION_PHASE,
    TASKS,
    PutBlockBackMonitor,
    RearrangeBlockMonitor,
    ReopenDrawerMonitor,
    WorldState,
)


def world(open_=(), presses=0, resting=None, grasped=None) -> WorldState:
    opened = frozenset(open_)
    return WorldState(opened, frozenset(DRAWERS) - opened, presses, resting or {}, grasped)


def run(monitor, states) -> bool:
    for state in states:
        monitor.advance(state)
    return monitor.success


def test_reopen_drawer_needs_close_then_press_then_open_in_that_order():
    target = "drawer_middle"
    assert run(ReopenDrawerMonitor(drawer=target), [world({target}), world(), world(presses=1), world({target}, presses=1)])
    # Pressed before the drawer was closed: that press does not count, so reopening is not success.
    assert not run(ReopenDrawerMonitor(drawer=target), [world({target}, presses=1), world(presses=1), world({target}, presses=1)])
    # Opened again without a press in between.
    assert not run(ReopenDrawerMonitor(drawer=target), [world({target}), world(), world({target})])


def test_reopen_drawer_fails_on_another_drawer_or_an_extra_open_one():
    target = "drawer_top"
    before = [world({target}), world(), world(presses=1)]
    assert not run(ReopenDrawerMonitor(drawer=target), [*before, world({"drawer_bottom"}, presses=1)])
    assert not run(ReopenDrawerMonitor(drawer=target), [*before, world({target, "drawer_bottom"}, presses=1)])


def test_put_block_back_needs_centre_then_press_then_its_own_patch_with_nothing_grasped():
    patch = "patch_left"
    before = [
        world(resting={"block_a": patch}),
        world(resting={"block_a": "centre"}),
        world(presses=1, resting={"block_a": "centre"}),
    ]
    assert run(PutBlockBackMonitor(block="block_a", patch=patch), [*before, world(presses=1, resting={"block_a": patch})])
    assert not run(
        PutBlockBackMonitor(block="block_a", patch=patch), [*before, world(presses=1, resting={"block_a": "patch_right"})]
    )
    grasped = world(presses=1, resting={"block_a": patch}, grasped="block_a")
    assert not run(PutBlockBackMonitor(block="block_a", patch=patch), [*before, grasped])
    # The press came while the block was still held over the centre: it does not count.
    held = world(presses=1, resting={"block_a": None}, grasped="block_a")
    monitor = PutBlockBackMonitor(block="block_a", patch=patch)
    assert not run(monitor, [held, world(presses=1, resting={"block_a": "centre"}), world(presses=1, resting={"block_a": patch})])
    assert monitor.phase == 1


def test_rearrange_block_needs_both_blocks_in_place_with_nothing_grasped():
    def monitor():
        return RearrangeBlockMonitor(original="block_a", moved="block_b", patch="patch_front", empty="patch_back")

    start = {"block_a": "patch_front", "block_b": "centre"}
    swapped = {"block_a": "patch_front", "block_b": "patch_back"}
    done = {"block_a": "centre", "block_b": "patch_back"}
    before = [world(resting=start), world(resting=swapped), world(presses=1, resting=swapped)]
    assert run(monitor(), [*before, world(presses=1, resting=done)])
    # The wrong block to the centre (the one the robot just put on a patch): both patches are not as they must be.
    assert not run(monitor(), [*before, world(presses=1, resting={"block_a": "patch_front", "block_b": "centre"})])
    assert not run(monitor(), [*before, world(presses=1, resting=done, grasped="block_b")])


def test_each_task_has_one_instruction_and_chance_is_one_over_its_variations():
    for spec in TASKS.values():
        assert spec.chance == pytest.approx(1 / spec.variations)
        assert len({spec.start(v).monitor.__class__ for v in range(spec.variations)}) == 1
    with pytest.raises(ValueError):
        TASKS["put_block_back"].start(4)


@pytest.fixture(scope="module")
def env():
    made = make("mindpalace/Tabletop-v0", width=64, height=64)
    yield made
    made.close()


def test_in_the_simulator_pressing_first_breaks_the_order(env):
    env.reset(seed=3, options={"task": "reopen_drawer", "variation": 0})
    ids = env.privileged.scene.ids
    for action in (Press(ids["button"]), Close(ids["drawer_bottom"]), Open(ids["drawer_bottom"])):
        obs, reward, terminated, *_ = env.step(action)
        assert obs.last_outcome.success
    assert not env.privileged.success and env.privileged.monitor.phase == 1
    assert reward == 0.0 and not terminated


def test_in_the_simulator_the_right_history_succeeds_and_is_rewarded(env):
    env.reset(seed=3, options={"task": "put_block_back", "variation": 3})
    ids = env.privileged.scene.ids
    for action in (Pick(ids["block_a"]), Place(ids["centre"]), Press(ids["button"]), Pick(ids["block_a"])):
        obs, reward, terminated, *_ = env.step(action)
        assert obs.last_outcome.success and not terminated
    assert env.privileged.monitor.phase == DECISION_PHASE
    obs, reward, terminated, *_ = env.step(Place(ids["patch_right"]))
    assert env.privileged.success and reward == 1.0 and terminated
