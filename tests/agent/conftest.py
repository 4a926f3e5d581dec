"""A remembered day in a small apartment, shared by the agent tests that need a world (building one takes ~30 s)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from mindpalace.agent.config import AgentConfig
from mindpalace.benchmarks.demo import DemoConfig, World, open_world
from mindpalace.core.config import Component


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    """Seed 0, three rooms, after the demo's day: memory holds what the robot saw and did.

    Tests move the robot and the things in it: each test must start by going where it needs to be.
    """
    agent = AgentConfig(seed=0, env=Component("mindpalace/Household-v0", {"n_rooms": 3, "max_episode_steps": 1_000_000}))
    world = open_world(DemoConfig(agent=agent, moves=2), tmp_path_factory.mktemp("world"), live=True)
    yield world
    world.close()
