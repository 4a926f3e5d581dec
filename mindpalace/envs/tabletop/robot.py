"""The tabletop robot: a parallel gripper on a fixed base, every size and limit of it defined here once.

The arm is a floating gripper driven by a mocap body through a weld, as Meta-World drives its Sawyer's hand:
key-poses are end-effector poses, and a floating hand reaches every one of them without an IK solver, joint
limits or self-collisions, which would only add failures that say nothing about memory. The fingers are
real: two slide joints (coupled, so a grasp centres the object between them) under a position actuator
with a force limit, and objects are held by friction at the finger pads' contacts, never welded.

Gripper frame: the tool centre point (TCP) lies between the finger pads; the fingers point along the
frame's -z and close along its y. The identity orientation points the fingers down with y along world y.
"""

from __future__ import annotations

from mindpalace.core.robot import MANIPULATION_ACTIONS, RobotDescription
from mindpalace.envs.tabletop.scene import HOME_TCP, ROBOT_BASE_XY

FINGER_TRAVEL = 0.045  # m each finger opens from the centre (a 9 cm gap)
FINGER_PAD_HALF = (0.012, 0.007, 0.035)  # x, y (thickness), z (length) of a pad
FINGER_PAD_Z = 0.03  # the pads' centre above the TCP, along the gripper's z
FINGERTIP = FINGER_PAD_HALF[2] - FINGER_PAD_Z  # m the pads reach beyond the TCP along the fingers
PALM_HALF = (0.025, 0.06, 0.015)
PALM_Z = 0.08
GRIP_FORCE = 20.0  # N at most per finger
HOLD_RADIUS = 0.06  # m; what perception sees this close to the TCP is what the gripper holds
REACH = 1.5  # m from the base to the table's far corner


def tabletop_robot() -> RobotDescription:
    """A fixed-base arm that can pick, place, open, close and press; it cannot drive."""
    base_x, base_y = ROBOT_BASE_XY
    return RobotDescription(
        name="tabletop_gripper",
        footprint_radius=0.2,
        reach=REACH,
        hand_offset=(HOME_TCP[0] - base_x, HOME_TCP[1] - base_y, HOME_TCP[2]),
        head=None,
        max_linear=0.0,
        max_angular=0.0,
        manipulation=frozenset(MANIPULATION_ACTIONS),
        hold_radius=HOLD_RADIUS,
    )
