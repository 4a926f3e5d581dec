"""Benchmark-side control of the household simulator: save and restore its whole state, render from any pose."""

from __future__ import annotations

import json

import numpy as np

from mindpalace.core.actions import BaseVelocity, Look
from tests.envs.household_testkit import make_env


def test_a_restored_state_continues_exactly_as_the_original() -> None:
    env, _obs = make_env(seed=2)
    for _ in range(5):
        env.step(BaseVelocity(0.4, 0.3, 0.5))
    state = json.loads(json.dumps(env.privileged.save_state()))  # JSON round trip, as a day folder keeps it
    actions = [BaseVelocity(0.3, -0.2, 0.5), Look(0.5, 0.2), BaseVelocity(0.5, 0.0, 0.4)]
    first = [env.step(a)[0] for a in actions]
    again, _ = make_env(seed=2)
    again.privileged.restore_state(state)
    second = [again.step(a)[0] for a in actions]
    for a, b in zip(first, second):
        assert a.time_s == b.time_s and np.array_equal(a.base_pose, b.base_pose) and np.array_equal(a.rgb, b.rgb)
    env.close()
    again.close()


def test_rendering_from_a_pose_changes_nothing() -> None:
    env, obs = make_env(seed=2)
    x, y, yaw = env.privileged.robot_pose()
    _rgb, depth, segmentation = env.privileged.render_from(x + 0.3, y, yaw + 1.0, pan=0.5, tilt=0.4)
    assert segmentation.shape == obs.segmentation.shape and depth.dtype == np.float32
    assert env.privileged.robot_pose() == (x, y, yaw)
    same, _, _, _, _ = env.step(Look(0.0, 0.0))
    reference, _ = make_env(seed=2)
    expected, _, _, _, _ = reference.step(Look(0.0, 0.0))
    assert np.array_equal(same.rgb, expected.rgb) and same.time_s == expected.time_s
    # The view from where the robot stands is the robot's own view.
    _, _, seg_here = env.privileged.render_from(*env.privileged.robot_pose(), pan=0.0, tilt=0.0)
    assert np.array_equal(seg_here, same.segmentation)
    env.close()
    reference.close()
