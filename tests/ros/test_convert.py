"""Conversions between ROS messages and arrays: every encoding, row padding, and faults named for counting."""

from __future__ import annotations

import numpy as np
import pytest

from mindpalace.core.geometry import make_pose, quat_to_matrix
from mindpalace.core.types import CameraInfo
from mindpalace.ros.convert import (
    MessageError,
    camera_from_msg,
    camera_info_msg,
    depth_from_msg,
    image_msg,
    pose_from_msg,
    pose_msg,
    rgb_from_msg,
    transform_msg,
)
from mindpalace.ros.messages.sensor import Image


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)


@pytest.fixture
def depth() -> np.ndarray:
    values = np.random.default_rng(1).uniform(0.3, 6.0, (6, 5)).astype(np.float32)
    values[0, 0] = 0.0  # no reading
    return values


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8"])
@pytest.mark.parametrize("padding", [0, 3])
def test_colour_round_trip(rgb: np.ndarray, encoding: str, padding: int) -> None:
    msg = Image.deserialize(image_msg(rgb, encoding, 1.25, "cam", row_padding=padding).serialize())
    assert msg.step == 5 * 3 + padding and len(msg.data) == msg.step * 6
    assert msg.header.stamp.sec == 1 and msg.header.stamp.nanosec == 250_000_000
    np.testing.assert_array_equal(rgb_from_msg(msg), rgb)


def test_bgr8_bytes_are_blue_first(rgb: np.ndarray) -> None:
    msg = image_msg(rgb, "bgr8", 0.0, "cam")
    assert msg.data[:3] == bytes(rgb[0, 0, ::-1])


def test_rgba8_drops_alpha(rgb: np.ndarray) -> None:
    rgba = np.concatenate([rgb, np.full((6, 5, 1), 7, np.uint8)], axis=2)
    msg = Image(height=6, width=5, encoding="rgba8", step=20, data=rgba.tobytes())
    np.testing.assert_array_equal(rgb_from_msg(msg), rgb)


@pytest.mark.parametrize("padding", [0, 2])
def test_depth_16uc1_is_millimetres(depth: np.ndarray, padding: int) -> None:
    msg = image_msg(depth, "16UC1", 0.0, "depth", row_padding=padding)
    raw = np.frombuffer(msg.data, np.uint8).reshape(6, -1)[:, :10].copy().view("<u2")
    np.testing.assert_array_equal(raw, np.round(depth * 1000).astype(np.uint16))
    back = depth_from_msg(msg)
    assert back.dtype == np.float32 and back[0, 0] == 0.0
    np.testing.assert_allclose(back, depth, atol=0.0005)


def test_depth_32fc1_is_metres_and_nan_is_no_reading(depth: np.ndarray) -> None:
    msg = image_msg(depth, "32FC1", 0.0, "depth", row_padding=4)
    assert np.isnan(np.frombuffer(msg.data, np.uint8).reshape(6, -1)[:, :20].copy().view("<f4")[0, 0])
    back = depth_from_msg(msg)
    np.testing.assert_array_equal(back, depth)
    infinite = image_msg(np.full((2, 2), np.inf, np.float32), "32FC1", 0.0, "depth")
    assert not depth_from_msg(infinite).any()


def test_big_endian_16uc1_is_read() -> None:
    mm = np.array([[1000, 2500]], dtype=">u2")
    msg = Image(height=1, width=2, encoding="16UC1", is_bigendian=1, step=4, data=mm.tobytes())
    np.testing.assert_allclose(depth_from_msg(msg), [[1.0, 2.5]])


@pytest.mark.parametrize(
    ("msg", "reason"),
    [
        (Image(height=2, width=2, encoding="yuv422", step=4, data=bytes(8)), "encoding"),
        (Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(11)), "size"),
        (Image(height=2, width=2, encoding="rgb8", step=5, data=bytes(10)), "size"),
        (Image(height=0, width=2, encoding="rgb8", step=6, data=b""), "size"),
    ],
)
def test_bad_colour_images_are_named(msg: Image, reason: str) -> None:
    with pytest.raises(MessageError) as error:
        rgb_from_msg(msg)
    assert error.value.reason == reason


def test_colour_encoding_is_not_depth() -> None:
    with pytest.raises(MessageError, match="encoding"):
        depth_from_msg(Image(height=1, width=1, encoding="rgb8", step=3, data=bytes(3)))


def test_camera_info_round_trip() -> None:
    camera = CameraInfo(640, 480, 525.0, 526.0, 319.5, 239.5)
    msg = camera_info_msg(camera, 2.0, "cam")
    assert list(msg.p) == [525.0, 0.0, 319.5, 0.0, 0.0, 526.0, 239.5, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert camera_from_msg(msg) == camera
    msg.binning_x = msg.binning_y = 2
    assert camera_from_msg(msg) == CameraInfo(320, 240, 262.5, 263.0, 159.75, 119.75)
    msg.k = [0.0] * 9
    with pytest.raises(MessageError, match="camera_info"):
        camera_from_msg(msg)


def test_pose_and_transform_round_trip() -> None:
    rotation = quat_to_matrix(np.array([0.1, -0.3, 0.5, 0.8]))
    pose = make_pose(rotation, np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(pose_from_msg(pose_msg(pose)), pose, atol=1e-12)
    stamped = transform_msg(pose, 3.5, "map", "camera")
    assert stamped.header.frame_id == "map" and stamped.child_frame_id == "camera"
    np.testing.assert_allclose(pose_from_msg(stamped.transform), pose, atol=1e-12)
    bad = pose_msg(pose)
    bad.orientation.x = bad.orientation.y = bad.orientation.z = bad.orientation.w = 0.0
    with pytest.raises(MessageError, match="pose"):
        pose_from_msg(bad)
