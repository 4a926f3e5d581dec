"""A remembered day in a small apartment, shared by the agent tests that need a world (building one takes ~30 s).

Every test gets the same world and must leave it as it found it: what rests where (on or in which furniture),
which doors and drawers are open, what the robot holds. The `world` fixture checks that after each test and
fails the test that did not, so no test depends on what ran before it. Where the robot stands is not restored:
each test first goes where it needs to be.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from agent_testkit import world_state

from mindpalace.agent.config import AgentConfig
from mindpalace.benchmarks.demo import DemoConfig, World, open_world
from mindpalace.core.config import Component


@pytest.fixture(scope="session")
def lived_day(tmp_path_factory) -> World:
    """Seed 0, three rooms, after the demo's day: memory holds what the robot saw and did."""
    agent = AgentConfig(seed=0, env=Component("mindpalace/Household-v0", {"n_rooms": 3, "max_episode_steps": 1_000_000}))
    world = open_world(DemoConfig(agent=agent, moves=2), tmp_path_factory.mktemp("world"), live=True)
    yield world
    world.close()


@pytest.fixture
def world(lived_day: World, request: pytest.FixtureRequest) -> World:
    """The shared world; the test fails if it leaves anything moved, opened or held."""
    before = world_state(lived_day)
    yield lived_day
    after = world_state(lived_day)
    changed = {
        f"{part} {key}": (before[part].get(key), after[part].get(key))
        for part in before
        for key in before[part].keys() | after[part].keys()
        if before[part].get(key) != after[part].get(key)
    }
    if changed:
        pytest.fail(f"{request.node.name} left the shared world changed (before, after): {changed}", pytrace=False)
