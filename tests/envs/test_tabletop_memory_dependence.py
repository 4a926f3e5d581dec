"""MemoryBench's premise, tested: at the decision point (just after the button press) every variation of a task,
with the same nuisance seed, looks and is the same. So an agent without memory cannot beat chance there.

The histories differ (another drawer was closed, the block came from another patch); what the cameras show and the
simulator's state do not. RGB and segmentation are compared bit for bit; depth and the physics state to 1e-6 (the
histories' different contact paths leave ~1e-8 m differences that round a few depth pixels by one float32 step).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mindpalace.agent.tabletop_oracle import run_oracle
from mindpalace.envs import make
from mindpalace.envs.tabletop.spaces import views
from mindpalace.envs.tabletop.tasks import DECISION_PHASE, TASKS


@pytest.fixture(scope="module")
def env():
    made = make("mindpalace/Tabletop-v0")
    yield made
    made.close()


def decision_point(env, task: str, variation: int, seed: int):
    """The observation and physics state right after the oracle's button press."""
    obs, _ = env.reset(seed=seed, options={"task": task, "variation": variation})
    seen = {}
    run_oracle(env, obs, on_step=lambda before, pose, after, skill: seen.update(obs=after), stop_at_decision=True)
    assert env.privileged.monitor.phase == DECISION_PHASE
    return seen["obs"], env.privileged.physics_state()


@pytest.mark.slow
@pytest.mark.parametrize(("task", "seed"), [("reopen_drawer", 5), ("put_block_back", 6), ("rearrange_block", 7)])
def test_every_variation_pair_is_identical_at_the_decision_point(env, task, seed):
    points = [decision_point(env, task, variation, seed) for variation in range(TASKS[task].variations)]
    for (a, (obs_a, state_a)), (b, (obs_b, state_b)) in itertools.combinations(enumerate(points), 2):
        pair = f"{task} variations {a} and {b}"
        assert obs_a.time_s == obs_b.time_s, pair
        assert np.allclose(state_a, state_b, rtol=0, atol=1e-6), f"{pair}: state differs by {np.abs(state_a - state_b).max()}"
        np.testing.assert_allclose(obs_a.hand_pose, obs_b.hand_pose, rtol=0, atol=1e-6)
        assert obs_a.extras["gripper_width"] == pytest.approx(obs_b.extras["gripper_width"], abs=1e-6)
        for (name, view_a), view_b in zip(views(obs_a).items(), views(obs_b).values()):
            assert np.array_equal(view_a.rgb, view_b.rgb), f"{pair}: {name} RGB differs"
            assert np.array_equal(view_a.segmentation, view_b.segmentation), f"{pair}: {name} segmentation differs"
            assert view_a.instances == view_b.instances, f"{pair}: {name} label table differs"
            assert np.allclose(view_a.depth, view_b.depth, rtol=0, atol=1e-6), f"{pair}: {name} depth differs"
            np.testing.assert_allclose(view_a.camera_pose, view_b.camera_pose, rtol=0, atol=1e-6)  # the wrist's moves


def test_the_histories_do_differ_before_the_press(env):
    """The invariant is not vacuous: at the start the variations look different."""
    starts = []
    for variation in range(TASKS["put_block_back"].variations):
        obs, _ = env.reset(seed=6, options={"task": "put_block_back", "variation": variation})
        starts.append(obs.rgb)
    assert all(not np.array_equal(a, b) for a, b in itertools.combinations(starts, 2))
