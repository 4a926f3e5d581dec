"""Fixtures for the household env tests; helpers live in household_testkit.py (importable, unlike a conftest).

Env creation + reset costs ~0.15 s: module-scoped envs are shared by tests that only observe (or whose
stepping cannot matter to the others); tests that pick, place, open or drive get a fresh env.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest
from household_testkit import make_env


@pytest.fixture(scope="module")
def shared_env():
    """A 3-room, 160x120 apartment (seed 0) shared by a module's observe-only tests."""
    env, _ = make_env(seed=0)
    yield env
    env.close()


@pytest.fixture(scope="module")
def big_env():
    """The same apartment at 640x480, for tests that need many pixels per object."""
    env, _ = make_env(seed=0, width=640, height=480)
    yield env
    env.close()


@pytest.fixture
def fresh_env():
    """A 3-room, 160x120 apartment (seed 0) of the test's own, free to mutate."""
    env, _ = make_env(seed=0)
    yield env
    env.close()


@pytest.fixture
def env_factory():
    """make_env(...) for a test that needs its own configs or seeds; closes every env it made."""
    made = []

    def factory(*args, **kwargs):
        env, obs = make_env(*args, **kwargs)
        made.append(env)
        return env, obs

    yield factory
    for env in made:
        env.close()
