"""The scripted oracle carries out pick-and-place jobs in a real household episode."""

from __future__ import annotations

import numpy as np

from mindpalace.agent.oracle import Job, OracleAgent, random_jobs
from mindpalace.core.actions import Relation
from mindpalace.envs import make
from mindpalace.envs.household.env import HouseholdEnv


def _run(env: HouseholdEnv, agent: OracleAgent, obs, limit: int = 3000) -> int:
    steps = 0
    while (action := agent.act(obs)) is not None and steps < limit:
        obs, *_ = env.step(action)
        steps += 1
    return steps


def test_oracle_moves_objects_to_their_destinations() -> None:
    """Most random jobs succeed, and each success leaves the object where the job said."""
    env = make("mindpalace/Household-v0", width=160, height=120, n_rooms=4)
    obs, _ = env.reset(seed=11)
    jobs = random_jobs(env, np.random.default_rng(0), 3)
    agent = OracleAgent(env, jobs)
    _run(env, agent, obs)
    assert len(agent.results) == len(jobs)
    assert sum(r.success for r in agent.results) >= 2, agent.results
    apartment = env.privileged.apartment
    for result in agent.results:
        if not result.success:
            continue
        furniture, _receptacle, relation = env.privileged.object_location(result.job.object_id)
        target = next(
            p for p in apartment.furniture if p.id == result.job.receptacle_id or result.job.receptacle_id in p.part_ids.values()
        )
        assert furniture == target.name and relation == result.job.relation.value
    assert env.privileged.held_object() is None
    assert all(not is_open for _, is_open in env.privileged.joint_states().values()), "the oracle closes what it opens"


def test_oracle_reports_an_impossible_job_as_failed() -> None:
    """A job naming a non-receptacle fails with a reason instead of looping or crashing."""
    env = make("mindpalace/Household-v0", width=160, height=120, n_rooms=3)
    obs, _ = env.reset(seed=5)
    obj = env.privileged.apartment.objects[0]
    agent = OracleAgent(env, [Job(obj.id, obj.furniture, Relation.IN)])
    steps = _run(env, agent, obs)
    assert steps < 3000 and len(agent.results) == 1 and not agent.results[0].success
