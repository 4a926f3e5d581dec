"""The scripted tabletop oracle: every variation of every task succeeds, with the same number of key-poses."""

from __future__ import annotations

import pytest

from mindpalace.agent.tabletop_oracle import oracle_skills, run_oracle
from mindpalace.envs import make
from mindpalace.envs.tabletop.tasks import TASKS


@pytest.fixture(scope="module")
def env():
    made = make("mindpalace/Tabletop-v0", width=64, height=64)
    yield made
    made.close()


@pytest.mark.slow
@pytest.mark.parametrize("task", list(TASKS))
def test_the_oracle_succeeds_on_every_variation(env, task):
    counts = set()
    for variation in range(TASKS[task].variations):
        obs, _ = env.reset(seed=20 + variation, options={"task": task, "variation": variation})
        result = run_oracle(env, obs)
        assert result.success and not result.failures, (variation, result)
        counts.add((result.key_poses, result.decision_step))
    assert len(counts) == 1  # every variation takes as many key-poses, so time carries no history


def test_the_oracle_skills_follow_the_variation(env):
    env.reset(seed=0, options={"task": "reopen_drawer", "variation": 2})
    assert [(s.skill, s.target) for s in oracle_skills(env)] == [
        ("close", "drawer_top"),
        ("press", "button"),
        ("open", "drawer_top"),
    ]
    env.reset(seed=0, options={"task": "rearrange_block", "variation": 1})
    assert [(s.skill, s.target) for s in oracle_skills(env)] == [
        ("pick", "block_a"),
        ("place", "patch_front"),
        ("press", "button"),
        ("pick", "block_b"),
        ("place", "centre"),
    ]
