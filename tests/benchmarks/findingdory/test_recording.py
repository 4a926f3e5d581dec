"""Recording a few real frames and reading them back; the replay env plays exactly the recorded actions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mindpalace.benchmarks.findingdory.agents import Pose
from mindpalace.benchmarks.findingdory.clock import DayClock
from mindpalace.benchmarks.findingdory.recording import Recording, RecordingError, RecordingWriter
from mindpalace.benchmarks.findingdory.replay import ReplayEnv
from mindpalace.core.actions import BaseVelocity, FailureReason, Look, Pick
from mindpalace.envs import make


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, list, list]:
    env = make("mindpalace/Household-v0", width=96, height=72, n_rooms=3)
    obs, _ = env.reset(seed=1)
    folder = tmp_path_factory.mktemp("rec") / "recording"
    writer = RecordingWriter(folder, env.camera, env.robot, env.floor_plan())
    actions = [BaseVelocity(0.3, 0.2, 0.5), Look(0.4, 0.3), Pick(9999), BaseVelocity(0.2, -0.3, 0.4)] * 20
    frames = [obs]
    writer.add(obs, None)
    for action in actions:
        obs, _, _, _, _ = env.step(action)
        writer.add(obs, action)
        frames.append(obs)
    meta = writer.close(DayClock(duration_s=frames[-1].time_s))
    env.close()
    assert meta.frames == len(frames) and meta.bytes > 0
    return folder, frames, actions


def test_frames_come_back_as_they_were_seen(recorded) -> None:
    folder, frames, actions = recorded
    recording = Recording(folder)
    assert len(recording) == len(frames) == 81  # more than one chunk
    for index in (0, 1, 63, 64, 80):
        live, back = frames[index], recording.observation(index)
        assert np.array_equal(live.rgb, back.rgb)
        assert np.array_equal(live.segmentation, back.segmentation)
        assert np.abs(live.depth - back.depth).max() <= 0.0005 + 1e-6  # millimetres
        assert np.array_equal(live.camera_pose, back.camera_pose) and np.array_equal(live.base_pose, back.base_pose)
        assert back.instances == live.instances and back.camera == live.camera and back.time_s == live.time_s
        assert recording.action(index) == (actions[index - 1] if index else None)
    assert recording.observation(3).last_outcome.reason is FailureReason.UNKNOWN_TARGET
    # The day's clock: 06:00 at the start, 22:00 at the end.
    assert recording.observation(0).time_of_day_s == pytest.approx(6 * 3600)
    assert recording.observation(80).time_of_day_s == pytest.approx(22 * 3600)


def test_the_replay_env_plays_only_its_recorded_actions(recorded) -> None:
    folder, frames, actions = recorded
    env = ReplayEnv(folder)
    obs, info = env.reset()
    assert info["frames"] == 81 and np.array_equal(obs.rgb, frames[0].rgb)
    assert not hasattr(env, "privileged")
    obs, _, _, _, info = env.step(Look(0.0, 0.0))  # not what was recorded
    assert not info["outcome"].success and env.index == 0
    obs, _, _, truncated, info = env.step(env.next_action())
    assert env.index == 1 and np.array_equal(obs.rgb, frames[1].rgb) and info["outcome"].success and not truncated
    while env.next_action() is not None:
        env.step(env.next_action())
    assert env.index == 80 and not env.step(actions[0])[4]["outcome"].success
    assert len(env.floor_plan()) == 3 and env.floor_plan()[0][0] in ("kitchen", "living room", "bedroom")


def test_an_unfinished_recording_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="not a finished recording"):
        Recording(tmp_path)
    with pytest.raises(ValueError, match="not a finished recording"):
        ReplayEnv.check_arguments(recording=str(tmp_path))


def test_a_pose_is_read_back_from_an_observation() -> None:
    env = make("mindpalace/Household-v0", width=96, height=72, n_rooms=3)
    env.reset(seed=1)
    obs, _, _, _, _ = env.step(Look(0.4, 0.3))
    pose = Pose.of(obs)
    x, y, yaw = env.privileged.robot_pose()
    assert (pose.x, pose.y, pose.yaw) == pytest.approx((x, y, yaw)) and (pose.pan, pose.tilt) == pytest.approx(
        (0.4, 0.3), abs=1e-6
    )
    assert (pose.pan, pose.tilt) == pytest.approx(env.privileged.head_angles(), abs=1e-6)
    env.close()
