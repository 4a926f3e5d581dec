"""The tabletop env: its body, observations, determinism by seed, skills through contacts, failures, the dict view."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mindpalace.core.actions import (
    BaseVelocity,
    Close,
    FailureReason,
    KeyPose,
    Open,
    Pick,
    Place,
    Press,
    Relation,
    action_to_dict,
)
from mindpalace.core.geometry import backproject
from mindpalace.core.registry import RegistryError
from mindpalace.envs import make
from mindpalace.envs.gym_view import GymnasiumView
from mindpalace.envs.tabletop import primitives
from mindpalace.envs.tabletop.scene import BLOCK_HALF, TABLE_Z
from mindpalace.envs.tabletop.spaces import views

ENV_ID = "mindpalace/Tabletop-v0"


@pytest.fixture(scope="module")
def env():
    """One env for the module; every test resets it to the episode it needs."""
    made = make(ENV_ID)
    yield made
    made.close()


def reset(env, task="put_block_back", variation=0, seed=0):
    obs, info = env.reset(seed=seed, options={"task": task, "variation": variation})
    return obs, info, env.privileged.scene.ids


def test_the_body_is_a_fixed_base_arm_that_can_press(env):
    robot = env.robot
    assert not robot.mobile and robot.max_linear == 0 and robot.head is None
    assert robot.manipulation == {"pick", "place", "open", "close", "press"}
    household = make("mindpalace/Household-v0", width=32, height=32, n_rooms=3)
    try:
        assert not household.robot.can("press")
    finally:
        household.close()


def test_four_cameras_give_rgb_depth_and_segmentation_at_128(env):
    obs, info, ids = reset(env)
    assert info["instruction"] and "variation" not in info  # the variation is history; the agent is not told
    cameras = views(obs)
    assert list(cameras) == ["front", "left_shoulder", "right_shoulder", "wrist"]
    for view in cameras.values():
        assert view.rgb.shape == (128, 128, 3) and view.rgb.dtype == np.uint8
        assert view.depth.shape == (128, 128) and view.depth.dtype == np.float32
        assert view.segmentation.shape == (128, 128)
        assert set(view.instances) == set(np.unique(view.segmentation).tolist()) - {0}
    assert ids["block_a"] in cameras["front"].instances
    assert cameras["front"].instances[ids["block_a"]].label == "block"
    assert obs.hand_pose is not None and 0.0 < obs.extras["gripper_width"] <= 0.1


def test_a_block_pixel_back_projects_onto_the_block(env):
    obs, _, ids = reset(env)
    truth = env.privileged.position("block_a")
    for view in views(obs).values():
        mask = (view.segmentation == ids["block_a"]) & (view.depth > 0)
        if mask.sum() < 3:
            continue
        points = backproject(view.depth, view.camera, view.camera_pose, mask)
        assert np.max(np.abs(points - truth)) <= BLOCK_HALF * np.sqrt(3) + 0.005


def test_the_same_seed_gives_the_same_episode_and_ids_are_shuffled_by_seed(env):
    first, _, ids = reset(env, seed=11)
    again, _, ids_again = reset(env, seed=11)
    assert ids == ids_again and env.privileged.scene.button_xy == env.privileged.scene.button_xy
    for a, b in zip(views(first).values(), views(again).values()):
        assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.depth, b.depth)
    _, _, other_ids = reset(env, seed=12)
    assert other_ids != ids
    _, _, other_variation = reset(env, seed=11, variation=2)
    assert other_variation == ids  # ids come from the seed, never from the variation


def test_stepping_is_deterministic(env):
    states = []
    for _ in range(2):
        _, _, ids = reset(env, seed=4)
        env.step(Pick(ids["block_a"]))
        env.step(Place(ids["centre"]))
        states.append(env.privileged.physics_state())
    assert np.array_equal(states[0], states[1])


def test_a_grasp_holds_by_friction_and_opening_the_fingers_drops_the_block(env):
    _, _, ids = reset(env)
    obs, *_ = env.step(Pick(ids["block_a"]))
    assert obs.last_outcome.success and env.privileged.grasped() == "block_a"
    lifted = env.privileged.position("block_a")
    assert lifted[2] > TABLE_Z + 0.1
    assert obs.extras["gripper_width"] == pytest.approx(2 * BLOCK_HALF, abs=0.004)  # the pads stop at the block
    x, y, z = (float(v) for v in env.privileged.position("gripper"))
    obs, *_ = env.step(KeyPose((x, y, z), primitives.DOWN, gripper_open=True, ignore_collisions=True))
    assert obs.last_outcome.success and env.privileged.grasped() is None
    assert env.privileged.position("block_a")[2] < TABLE_Z + 0.03  # it fell: nothing welded it to the hand


def test_skills_open_close_press_and_place(env):
    _, _, ids = reset(env, task="reopen_drawer", variation=1)
    assert env.privileged.drawer_opening("drawer_middle") > 0.1
    for action in (Close(ids["drawer_middle"]), Press(ids["button"]), Open(ids["drawer_top"])):
        obs, *_ = env.step(action)
        assert obs.last_outcome.success, obs.last_outcome.message
    assert env.privileged.drawer_opening("drawer_middle") < 0.01
    assert env.privileged.drawer_opening("drawer_top") > 0.1
    assert env.privileged.world().presses == 1


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (lambda ids: Pick(ids["patch_front"]), FailureReason.NOT_PICKABLE),
        (lambda ids: Pick(999), FailureReason.UNKNOWN_TARGET),
        (lambda ids: Place(ids["centre"]), FailureReason.HANDS_EMPTY),
        (lambda ids: Open(ids["button"]), FailureReason.NOT_ARTICULATED),
        (lambda ids: Open(ids["drawer_unit"]), FailureReason.NOT_ARTICULATED),
        (lambda ids: Close(ids["drawer_top"]), FailureReason.ALREADY_CLOSED),
        (lambda ids: Press(ids["block_a"]), FailureReason.NOT_ARTICULATED),
        (lambda ids: BaseVelocity(0.2, 0.0, 0.5), FailureReason.INVALID_ARGUMENT),
        (lambda ids: KeyPose((2.0, 0.0, 1.0)), FailureReason.OUT_OF_REACH),
        (lambda ids: KeyPose((0.0, 0.0, 1.0), (0.0, 0.0, 0.0, 0.0)), FailureReason.INVALID_ARGUMENT),
        (lambda ids: KeyPose((0.0, 0.0, float("nan"))), FailureReason.INVALID_ARGUMENT),
        (lambda ids: {"type": "key_pose", "position": "up"}, FailureReason.INVALID_ARGUMENT),
        (lambda ids: {"type": "press"}, FailureReason.INVALID_ARGUMENT),
    ],
)
def test_bad_requests_fail_with_a_reason_and_never_raise(env, action, reason):
    _, _, ids = reset(env)
    obs, reward, terminated, _, info = env.step(action(ids))
    assert not info["outcome"].success and info["outcome"].reason is reason
    assert obs.last_outcome is info["outcome"] and reward == 0.0 and not terminated


def test_placing_in_a_drawer_or_on_an_occupied_place_fails(env):
    _, _, ids = reset(env, task="rearrange_block", variation=0)
    env.step(Pick(ids["block_b"]))  # the centre block
    obs, *_ = env.step(Place(ids["patch_front"]))
    assert obs.last_outcome.reason is FailureReason.NO_FREE_SPOT
    obs, *_ = env.step(Place(ids["patch_back"], Relation.IN))
    assert obs.last_outcome.reason is FailureReason.NOT_A_RECEPTACLE


def test_actions_round_trip_as_dicts(env):
    _, _, ids = reset(env)
    obs, *_ = env.step(action_to_dict(Pick(ids["block_a"])))
    assert obs.last_outcome.success


def test_gymnasium_env_checker_passes_on_the_dict_view():
    view = GymnasiumView(make(ENV_ID, width=48, height=48))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            check_env(view, skip_render_check=True)
        obs, _ = view.reset(seed=0)
        assert view.observation_space.contains(obs)
        assert set(obs) >= {"front_rgb", "wrist_depth", "left_shoulder_segmentation", "gripper_pose", "gripper_width"}
        view.action_space.seed(0)
        obs, _, _, _, info = view.step(view.action_space.sample())
        assert view.observation_space.contains(obs) and "outcome" in info
    finally:
        view.close()


def test_invalid_config_and_reset_options_are_named():
    with pytest.raises(RegistryError, match="task 'stack_blocks' unknown"):
        make(ENV_ID, task="stack_blocks")
    with pytest.raises(RegistryError, match="cameras"):
        make(ENV_ID, cameras=["front", "ceiling"])
    env = make(ENV_ID, width=32, height=32)
    try:
        with pytest.raises(ValueError, match=r"variations 0\.\.2"):
            env.reset(seed=0, options={"task": "reopen_drawer", "variation": 3})
        with pytest.raises(ValueError, match="unknown reset options"):
            env.reset(seed=0, options={"colour": "red"})
    finally:
        env.close()
