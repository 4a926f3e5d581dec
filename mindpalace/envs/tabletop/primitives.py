"""Key-pose sequences of the tabletop's skills: pick a block, put it down, open or close a drawer, press the button.

The env runs them for its skill actions (`Pick`, `Place`, `Open`, `Close`, `Press`) and the scripted oracle
sends the same key-poses itself, as MemoryBench's demonstrations are key-pose sequences. Every skill has a
fixed number of key-poses, so an episode's clock does not depend on which drawer or patch was involved.
"""

from __future__ import annotations

from mindpalace.core.actions import KeyPose
from mindpalace.envs.tabletop.mjcf import hand_quaternion
from mindpalace.envs.tabletop.robot import FINGERTIP
from mindpalace.envs.tabletop.scene import (
    BLOCK_HALF,
    BUTTON_BASE_HEIGHT,
    BUTTON_CAP_HEIGHT,
    BUTTON_TRAVEL,
    HANDLE_RADIUS,
    TABLE_Z,
)

DOWN = hand_quaternion("down")
LEFT = hand_quaternion("left")
LIFT = 0.12  # m above a block or the button where the hand comes down from and goes back up to
PLACE_GAP = 0.003  # m between a block's bottom and the table as the fingers let go
PREGRASP = 0.08  # m in front of (towards -y) a drawer handle where the hand lines up
PUSH_PAST = 0.004  # m a closing push goes beyond shut, against the drawer's stop
PRESS_PAST = 0.002  # m the fingertips aim below the cap's lowest point, against its stop


def _pose(xyz: tuple[float, float, float], quaternion, gripper_open: bool, ignore_collisions: bool) -> KeyPose:
    return KeyPose((float(xyz[0]), float(xyz[1]), float(xyz[2])), tuple(quaternion), gripper_open, ignore_collisions)


def pick(block_xyz: tuple[float, float, float]) -> list[KeyPose]:
    """Above the block with open fingers, down around it, close, lift (4 key-poses)."""
    x, y, z = block_xyz
    return [
        _pose((x, y, z + LIFT), DOWN, True, False),
        _pose((x, y, z), DOWN, True, True),
        _pose((x, y, z), DOWN, False, True),
        _pose((x, y, z + LIFT), DOWN, False, True),
    ]


def place(target_xy: tuple[float, float]) -> list[KeyPose]:
    """Over the spot carrying the block, down until it nearly touches, let go, back up (4 key-poses)."""
    x, y = target_xy
    z = TABLE_Z + BLOCK_HALF + PLACE_GAP
    return [
        _pose((x, y, z + LIFT), DOWN, False, False),
        _pose((x, y, z), DOWN, False, True),
        _pose((x, y, z), DOWN, True, True),
        _pose((x, y, z + LIFT), DOWN, True, True),
    ]


def open_drawer(handle_xyz: tuple[float, float, float], travel: float) -> list[KeyPose]:
    """In front of the handle pointing into the drawer, onto it, grip, pull it out by `travel`, let go (5 key-poses)."""
    x, y, z = handle_xyz
    return [
        _pose((x, y - PREGRASP, z), LEFT, True, False),
        _pose((x, y, z), LEFT, True, True),
        _pose((x, y, z), LEFT, False, True),
        _pose((x, y - travel, z), LEFT, False, True),
        _pose((x, y - travel, z), LEFT, True, True),
    ]


def close_drawer(handle_xyz: tuple[float, float, float], opened: float) -> list[KeyPose]:
    """In front of the handle with closed fingers, push it shut (slid out by `opened`), back off (5 key-poses).

    The closed fingertips push the handle bar's front: the hand stops a fingertip and a bar radius short of
    where the bar's axis is when shut, plus a little, against the stop.
    """
    x, y, z = handle_xyz
    touch = y - HANDLE_RADIUS - FINGERTIP
    shut = touch + opened + PUSH_PAST
    return [
        _pose((x, touch - PREGRASP, z), LEFT, False, False),
        _pose((x, touch - 0.01, z), LEFT, False, True),
        _pose((x, shut, z), LEFT, False, True),
        _pose((x, shut - PREGRASP, z), LEFT, False, True),
        _pose((x, shut - PREGRASP, z), LEFT, False, True),
    ]


def press(button_xy: tuple[float, float]) -> list[KeyPose]:
    """Above the button with closed fingers, push the cap down to its stop, back up (3 key-poses)."""
    x, y = button_xy
    top = TABLE_Z + BUTTON_BASE_HEIGHT + BUTTON_CAP_HEIGHT
    pressed = top - BUTTON_TRAVEL - PRESS_PAST + FINGERTIP  # the TCP when the fingertips hold the cap at its stop
    return [
        _pose((x, y, top + LIFT), DOWN, False, False),
        _pose((x, y, pressed), DOWN, False, True),
        _pose((x, y, top + LIFT), DOWN, False, True),
    ]
