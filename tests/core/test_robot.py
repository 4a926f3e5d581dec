"""The robot description: validation, head aiming within limits, the hand in the world."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mindpalace.core.geometry import pose_from_xy_yaw
from mindpalace.core.robot import HeadLimits, RobotDescription

HEAD = HeadLimits(pivot=(-0.12, 0.0, 1.25), pan=(-2.6, 2.6), tilt=(-0.8, 1.3))


def robot(**changes: object) -> RobotDescription:
    fields: dict[str, object] = dict(
        name="test",
        footprint_radius=0.25,
        reach=1.3,
        hand_offset=(0.32, 0.0, 0.85),
        head=HEAD,
        max_linear=1.0,
        max_angular=2.0,
        manipulation=frozenset({"pick", "place"}),
    )
    fields.update(changes)
    return RobotDescription(**fields)  # type: ignore[arg-type]


def test_look_angles_point_the_head_at_a_target() -> None:
    """Straight ahead at camera height: no pan or tilt; to the left: pan left; below: tilt down."""
    body = robot()
    pan, tilt = body.look_angles((0.0, 0.0, 0.0), np.array([3.0, 0.0, 1.25]))
    assert abs(pan) < 1e-9 and abs(tilt) < 1e-9
    pan, _ = body.look_angles((0.0, 0.0, 0.0), np.array([0.0, 2.0, 1.25]))
    assert pan == pytest.approx(math.atan2(2.0, 0.12), abs=1e-9)
    _, tilt = body.look_angles((1.0, 1.0, np.pi / 2), np.array([1.0, 2.0, 0.25]))
    assert tilt == pytest.approx(math.atan2(1.0, 1.12), abs=1e-9)


def test_look_angles_stay_within_the_head_limits() -> None:
    narrow = robot(head=HeadLimits(pivot=(0.0, 0.0, 1.0), pan=(-0.5, 0.5), tilt=(-0.2, 0.3)))
    pan, tilt = narrow.look_angles((0.0, 0.0, 0.0), np.array([-1.0, 0.1, 0.0]))  # behind and below
    assert pan == 0.5 and tilt == 0.3
    assert robot(head=None).look_angles((0.0, 0.0, 0.0), np.array([0.0, 5.0, 0.0])) == (0.0, 0.0)


def test_the_hand_follows_the_base() -> None:
    hand = robot().hand_in_world(pose_from_xy_yaw(1.0, 2.0, math.pi / 2))
    assert hand == pytest.approx([1.0, 2.32, 0.85])


def test_capabilities_and_mobility() -> None:
    arm = robot(max_linear=0.0, max_angular=0.0)
    assert not arm.mobile and arm.can("pick") and not arm.can("open")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"footprint_radius": 0.0}, "positive"),
        ({"reach": float("nan")}, "finite"),
        ({"manipulation": frozenset({"pick", "teleport"})}, "teleport"),
    ],
)
def test_invalid_descriptions_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        robot(**changes)


def test_head_limits_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="low, high"):
        HeadLimits(pivot=(0.0, 0.0, 1.0), pan=(1.0, -1.0), tilt=(0.0, 0.1))
