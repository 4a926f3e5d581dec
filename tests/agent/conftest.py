"""A remembered day in a small apartment, shared by the agent tests that need a world (building one takes ~30 s)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from mindpalace.benchmarks.demo import DemoConfig, World, open_world


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    """Seed 0, three rooms, after the demo's day: memory holds what the robot saw and did.

    Tests move the robot and the things in it: each test must start by going where it needs to be.
    """
    world = open_world(DemoConfig(seed=0, n_rooms=3, moves=2), tmp_path_factory.mktemp("world"), live=True)
    yield world
    world.close()
