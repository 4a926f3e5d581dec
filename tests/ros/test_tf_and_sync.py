"""The TF buffer (chains, statics, interpolation, errors that name the fault) and stamp pairing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mindpalace.core.geometry import make_pose, pose_from_xy_yaw, rot_z
from mindpalace.ros.convert import MessageError, transform_msg
from mindpalace.ros.sync import StampPairer
from mindpalace.ros.tf import TfBuffer, TfError

OPTICAL = make_pose(np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]), np.zeros(3))  # optical -> body


@pytest.fixture
def buffer() -> TfBuffer:
    tf = TfBuffer()
    tf.add(transform_msg(np.eye(4), 0.0, "map", "odom"), static=True)
    tf.add(transform_msg(make_pose(np.eye(3), np.array([0.1, 0.0, 1.2])), 0.0, "base_link", "camera_link"), static=True)
    tf.add(transform_msg(OPTICAL, 0.0, "camera_link", "camera_optical_frame"), static=True)
    tf.add(transform_msg(pose_from_xy_yaw(0.0, 0.0, 0.0), 10.0, "odom", "base_link"), static=False)
    tf.add(transform_msg(pose_from_xy_yaw(2.0, 0.0, math.pi / 2), 11.0, "odom", "base_link"), static=False)
    return tf


def test_a_chain_through_statics_and_an_interpolated_base(buffer: TfBuffer) -> None:
    pose = buffer.lookup("map", "camera_optical_frame", 10.5)
    base = pose_from_xy_yaw(1.0, 0.0, math.pi / 4)
    expected = base @ make_pose(np.eye(3), np.array([0.1, 0.0, 1.2])) @ OPTICAL
    np.testing.assert_allclose(pose, expected, atol=1e-9)
    # The camera looks along its z axis: the base's heading, 45 degrees.
    np.testing.assert_allclose(pose[:3, 2], rot_z(math.pi / 4)[:, 0], atol=1e-9)


def test_inverse_lookups_agree(buffer: TfBuffer) -> None:
    forward = buffer.lookup("camera_optical_frame", "map", 10.25)
    np.testing.assert_allclose(forward @ buffer.lookup("map", "camera_optical_frame", 10.25), np.eye(4), atol=1e-9)


def test_times_outside_the_samples_are_refused_beyond_the_tolerance(buffer: TfBuffer) -> None:
    with pytest.raises(TfError) as error:
        buffer.lookup("map", "camera_optical_frame", 11.5)
    assert error.value.reason == "extrapolation"
    expected = pose_from_xy_yaw(2.0, 0.0, math.pi / 2)
    np.testing.assert_allclose(buffer.lookup("map", "base_link", 11.05, tolerance_s=0.1), expected, atol=1e-12)


def test_unknown_and_unconnected_frames_are_named(buffer: TfBuffer) -> None:
    with pytest.raises(TfError, match="unknown_frame: no frame 'camera_depth_frame'"):
        buffer.lookup("map", "camera_depth_frame", 10.0)
    buffer.add(transform_msg(np.eye(4), 0.0, "world", "table"), static=True)
    with pytest.raises(TfError) as error:
        buffer.lookup("map", "table", 10.0)
    assert error.value.reason == "not_connected"


def test_a_broken_transform_is_a_message_error() -> None:
    msg = transform_msg(np.eye(4), 0.0, "map", "odom")
    msg.transform.rotation.w = 0.0
    with pytest.raises(MessageError):
        TfBuffer().add(msg, static=True)


def test_old_dynamic_samples_are_dropped_after_the_cache_time() -> None:
    tf = TfBuffer(cache_s=1.0)
    for stamp in np.arange(0.0, 5.0, 0.5):
        tf.add(transform_msg(pose_from_xy_yaw(stamp, 0.0, 0.0), float(stamp), "odom", "base_link"), static=False)
    with pytest.raises(TfError):
        tf.lookup("odom", "base_link", 2.0)
    np.testing.assert_allclose(tf.lookup("odom", "base_link", 4.25)[0, 3], 4.25)


def test_pairs_within_the_slop_and_counts_what_is_left_behind() -> None:
    pairer = StampPairer(slop_s=0.01)
    assert pairer.add_color(1.000, "c1") is None
    assert pairer.add_color(1.033, "c2") is None
    assert pairer.add_depth(1.034, "d2") == ("c2", "d2", 1.034)
    assert pairer.unpaired == [1, 0]  # c1 can no longer be paired
    assert pairer.add_depth(1.066, "d3") is None
    assert pairer.add_color(1.100, "c4") is None  # 34 ms from d3: beyond the slop
    pairer.drain()
    assert pairer.unpaired == [2, 1]


def test_a_full_queue_drops_its_oldest() -> None:
    pairer = StampPairer(slop_s=0.001, queue=3)
    for i in range(5):
        pairer.add_color(float(i), i)
    assert pairer.unpaired == [2, 0]
    assert pairer.add_depth(4.0, "d") == (4, "d", 4.0)
