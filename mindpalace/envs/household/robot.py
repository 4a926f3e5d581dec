"""The household robot's body: every size and limit of it is defined here once.

The MJCF model, the action space, the layout generator and `env.robot` (what agent code sees) all read
these constants. Base frame: x forward, y left, z up (REP-103); metres and radians.
"""

from __future__ import annotations

from mindpalace.core.robot import HeadLimits, RobotDescription

ROBOT_RADIUS = 0.25  # the round base's radius
CAMERA_HEIGHT = 1.25
HEAD_PIVOT = (-0.12, 0.0, CAMERA_HEIGHT)  # pan/tilt axes' crossing point in the base frame; the camera sits on it
HEAD_PAN_RANGE = (-2.6, 2.6)
HEAD_TILT_RANGE = (-0.8, 1.3)  # tilt > 0 looks down
GRIPPER_OFFSET = (0.32, 0.0, 0.85)  # in the base frame: where a held object is carried


def household_robot(reach: float, max_linear: float, max_angular: float) -> RobotDescription:
    """The mobile manipulator with a pan/tilt head; reach and speeds come from the env's config."""
    return RobotDescription(
        name="household_mobile_manipulator",
        footprint_radius=ROBOT_RADIUS,
        reach=reach,
        hand_offset=GRIPPER_OFFSET,
        head=HeadLimits(pivot=HEAD_PIVOT, pan=HEAD_PAN_RANGE, tilt=HEAD_TILT_RANGE),
        max_linear=max_linear,
        max_angular=max_angular,
        manipulation=frozenset({"pick", "place", "open", "close"}),  # no buttons to press in the apartments
    )
