"""GymnasiumView: the dict view of the household env that gymnasium's checker and RL libraries use."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from household_testkit import ENV_ID, SMALL

from mindpalace.core.actions import BaseVelocity, Look, Pick, Place, Relation, Wait
from mindpalace.envs import make
from mindpalace.envs.gym_view import GymnasiumView, action_from_space
from mindpalace.envs.household.spaces import ACTION_KINDS


@pytest.fixture
def view():
    env = GymnasiumView(make(ENV_ID, **SMALL, n_rooms=3, render_mode="rgb_array"))
    yield env
    env.close()


def test_gymnasium_env_checker_passes():
    """gymnasium's check_env accepts the view of a 3-room, 160x120 apartment (its style warnings aside)."""
    env = GymnasiumView(make(ENV_ID, **SMALL, n_rooms=3))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_observations_lie_in_the_observation_space(view):
    """Reset and random steps give dicts inside observation_space, with the instance table in info."""
    obs, info = view.reset(seed=3)
    assert view.observation_space.contains(obs)
    assert set(info["instances"]) == set(np.unique(obs["segmentation"]).tolist()) - {0}
    view.action_space.seed(0)
    for _ in range(5):
        obs, reward, _terminated, _truncated, info = view.step(view.action_space.sample())
        assert view.observation_space.contains(obs)
        assert "outcome" in info and isinstance(reward, float)


def test_render_returns_the_last_rgb(view):
    """render_mode="rgb_array": render() returns the rgb of the latest observation."""
    obs, _ = view.reset(seed=0)
    assert np.array_equal(view.render(), obs["rgb"])
    obs, *_ = view.step(
        {
            "type": ACTION_KINDS.index("look"),
            "v": np.zeros(1),
            "omega": np.zeros(1),
            "duration": np.full(1, 0.1),
            "pan_tilt": np.array([1.0, 0.5]),
            "target": 0,
            "relation": 0,
        }
    )
    frame = view.render()
    assert frame.shape == (120, 160, 3) and np.array_equal(frame, obs["rgb"])


def test_render_without_render_mode_returns_none():
    """Without a render mode there is nothing to render."""
    env = make(ENV_ID, **SMALL, n_rooms=3)
    try:
        env.reset(seed=0)
        assert env.render() is None
    finally:
        env.close()


@pytest.mark.parametrize(
    "kind,fields,expected",
    [
        ("base_velocity", {"v": [0.5], "omega": [-1.0], "duration": [0.25]}, BaseVelocity(0.5, -1.0, 0.25)),
        ("look", {"pan_tilt": [0.5, -0.25]}, Look(0.5, -0.25)),
        ("wait", {"duration": [0.5]}, Wait(0.5)),
        ("pick", {"target": 42}, Pick(42)),
        ("place", {"target": 7, "relation": 1}, Place(7, Relation.IN)),
    ],
)
def test_space_samples_map_to_typed_actions(kind, fields, expected):
    """A flat action-space dict becomes the typed action its "type" names, with the right fields."""
    sample = {
        "type": ACTION_KINDS.index(kind),
        "v": [0.0],
        "omega": [0.0],
        "duration": [0.1],
        "pan_tilt": [0.0, 0.0],
        "target": 0,
        "relation": 0,
        **fields,
    }
    assert action_from_space(sample) == expected


def test_gymnasium_make_gives_the_checked_dict_view():
    """Importing mindpalace.envs registers the household env with Gymnasium; gymnasium.make builds the dict view."""
    import gymnasium

    from mindpalace.envs.household.env import HouseholdEnv

    env = gymnasium.make(ENV_ID, **SMALL, n_rooms=3, render_mode="rgb_array")
    try:
        assert env.spec is not None and env.spec.id == ENV_ID
        assert isinstance(env.unwrapped, HouseholdEnv) and env.unwrapped.config.n_rooms == 3
        obs, info = env.reset(seed=3)
        assert env.observation_space.contains(obs) and obs["rgb"].shape == (120, 160, 3)
        assert set(info["instances"]) == set(np.unique(obs["segmentation"]).tolist()) - {0}
        assert np.array_equal(env.render(), obs["rgb"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_registration_imports_nothing_until_make():
    """A fresh interpreter: importing mindpalace.envs registers the id by entry point string, without importing the
    household env (MuJoCo); Gymnasium's "module:id" form works without importing mindpalace first."""
    script = (
        "import sys, gymnasium, mindpalace.envs\n"
        f"spec = gymnasium.spec({ENV_ID!r})\n"
        "assert spec.entry_point == 'mindpalace.envs.gym_view:make_view', spec.entry_point\n"
        "assert 'mindpalace.envs.household.env' not in sys.modules and 'mujoco' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    make_by_module = (
        "import gymnasium\n"
        f"env = gymnasium.make('mindpalace.envs:{ENV_ID}', width=160, height=120, n_rooms=3)\n"
        "obs, info = env.reset(seed=0)\n"
        "assert env.observation_space.contains(obs)\n"
        "env.close()\n"
    )
    subprocess.run([sys.executable, "-c", make_by_module], check=True, timeout=300)
