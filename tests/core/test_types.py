"""Shared types: instance descriptions, observation clock, camera intrinsics."""

from __future__ import annotations

import numpy as np
import pytest

from mindpalace.core.types import CameraInfo, InstanceInfo, Observation


def instance(category: str = "mug", **attributes: str) -> InstanceInfo:
    return InstanceInfo(id=7, label=f"{category}_1", category=category, kind="object", attributes=attributes)


def test_description_full():
    mug = instance("mug", color="red", material="ceramic", function="for drinking")
    assert mug.description == "red ceramic mug, for drinking"


def test_description_attribute_order_is_fixed():
    # Colour before material, whatever order the dict was built in.
    mug = instance("mug", function="for drinking", material="ceramic", color="red")
    assert mug.description == "red ceramic mug, for drinking"


@pytest.mark.parametrize(
    ("category", "attributes", "expected"),
    [
        ("mug", {}, "mug"),
        ("mug", {"color": "blue"}, "blue mug"),
        ("mug", {"material": "glass"}, "glass mug"),
        ("mug", {"function": "for tea"}, "mug, for tea"),
        ("coffee_table", {}, "coffee table"),
        ("tv_remote_control", {"color": "black"}, "black tv remote control"),
        ("cutting_board", {"material": "wooden", "function": "for chopping"}, "wooden cutting board, for chopping"),
    ],
)
def test_description_variants(category, attributes, expected):
    assert instance(category, **attributes).description == expected


def test_instance_defaults():
    info = InstanceInfo(id=1, label="table_0", category="table", kind="furniture")
    assert info.attributes == {} and info.parent is None
    assert InstanceInfo(2, "a", "b", "part").attributes is not info.attributes


def observation(time_of_day_s: float | None) -> Observation:
    camera = CameraInfo(4, 3, 2.0, 2.0, 1.5, 1.0)
    return Observation(
        rgb=np.zeros((3, 4, 3), np.uint8),
        depth=np.zeros((3, 4), np.float32),
        camera=camera,
        camera_pose=np.eye(4),
        base_pose=np.eye(4),
        time_s=12.0,
        time_of_day_s=time_of_day_s,
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "00:00:00"),
        (0.0, "00:00:00"),
        (8 * 3600, "08:00:00"),
        (3661.9, "01:01:01"),  # fractions are dropped, not rounded
        (13 * 3600 + 5 * 60 + 9, "13:05:09"),
        (86399.99, "23:59:59"),
        (86400, "00:00:00"),  # wraps at midnight
        (86400 + 3600 * 2 + 30, "02:00:30"),
    ],
)
def test_clock(seconds, expected):
    assert observation(seconds).clock() == expected


def test_clock_without_time_of_day():
    assert observation(None).clock() == ""
    assert observation(0).clock() != ""  # midnight is a time, not "no time"


def test_camera_K():
    camera = CameraInfo(width=640, height=480, fx=500.0, fy=510.0, cx=319.5, cy=239.5)
    K = camera.K
    assert K.shape == (3, 3) and K.dtype == np.float64
    np.testing.assert_array_equal(K, [[500.0, 0.0, 319.5], [0.0, 510.0, 239.5], [0.0, 0.0, 1.0]])
    # K maps a camera-frame point to homogeneous pixel coordinates.
    u, v, w = K @ np.array([0.2, -0.1, 2.0])
    assert (u / w, v / w) == pytest.approx((319.5 + 500.0 * 0.1, 239.5 - 510.0 * 0.05))
