"""The robot description: what agent code may know about the body it drives, for any env.

Skills, the agent runtime and affordances read a robot's size, reach, hand and head only from here, so the
same agent runs on the household's mobile manipulator, a tabletop arm or a ROS 2 robot. Every env provides
one as `env.robot`. Frames follow REP-103: the base frame has x forward, y left, z up; metres and radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import wrap_angle

MANIPULATION_ACTIONS = ("pick", "place", "open", "close", "press")


@dataclass(frozen=True)
class HeadLimits:
    """A pan/tilt head: joint ranges in radians (tilt > 0 looks down) and the axes' crossing point.

    `pivot` is (x, y, z) in the base frame; the camera sits on it.
    """

    pivot: tuple[float, float, float]
    pan: tuple[float, float]
    tilt: tuple[float, float]

    def __post_init__(self) -> None:
        if not (self.pan[0] <= self.pan[1] and self.tilt[0] <= self.tilt[1]):
            raise ValueError(f"head limits must be (low, high): pan {self.pan}, tilt {self.tilt}")


@dataclass(frozen=True)
class RobotDescription:
    """One embodiment, as agent code sees it.

    footprint_radius: m, the base's circumscribed radius (what path planning inflates obstacles by).
    reach: m, horizontal distance from the base centre within which the hand can act.
    hand_offset: (x, y, z) in the base frame, where a held object is carried (perception keeps it out of the map).
    head: the pan/tilt head, or None for a fixed camera.
    max_linear: m/s; max_angular: rad/s (base velocity limits; 0 for a fixed base).
    manipulation: which of pick, place, open, close, press (a button) the robot can do.
    hold_radius: m; what perception sees this close to the hand is what the hand holds (kept out of the map).
    """

    name: str
    footprint_radius: float
    reach: float
    hand_offset: tuple[float, float, float]
    head: HeadLimits | None
    max_linear: float
    max_angular: float
    manipulation: frozenset[str]
    hold_radius: float = 0.3

    def __post_init__(self) -> None:
        numbers = (self.footprint_radius, self.reach, self.max_linear, self.max_angular, self.hold_radius, *self.hand_offset)
        if not all(math.isfinite(v) for v in numbers):
            raise ValueError(f"robot {self.name!r}: every size and limit must be finite")
        if self.footprint_radius <= 0 or self.reach < 0 or self.max_linear < 0 or self.max_angular < 0 or self.hold_radius < 0:
            raise ValueError(f"robot {self.name!r}: sizes must be positive and limits non-negative")
        unknown = set(self.manipulation) - set(MANIPULATION_ACTIONS)
        if unknown:
            raise ValueError(
                f"robot {self.name!r}: unknown manipulation actions {sorted(unknown)}; known: {MANIPULATION_ACTIONS}"
            )

    @property
    def mobile(self) -> bool:
        return self.max_linear > 0

    def can(self, action: str) -> bool:
        """Whether the robot has this manipulation action ("pick", "place", "open", "close", "press")."""
        return action in self.manipulation

    def hand_in_world(self, base_pose: NDArray[np.float64]) -> NDArray[np.float64]:
        """(3,) world position of the hand, from the base pose (4x4, base -> world)."""
        return base_pose[:3, :3] @ np.asarray(self.hand_offset, dtype=np.float64) + base_pose[:3, 3]

    def look_angles(self, base: tuple[float, float, float], target: NDArray[np.float64]) -> tuple[float, float]:
        """Head (pan, tilt) that points the camera from the base pose (x, y, yaw) at a world point, within limits.

        A robot without a head gets (0, 0): its camera looks where the base faces.
        """
        if self.head is None:
            return 0.0, 0.0
        x, y, yaw = base
        px, py, pz = self.head.pivot
        pivot_x = x + px * math.cos(yaw) - py * math.sin(yaw)
        pivot_y = y + px * math.sin(yaw) + py * math.cos(yaw)
        dx, dy, dz = float(target[0]) - pivot_x, float(target[1]) - pivot_y, float(target[2]) - pz
        pan = float(np.clip(wrap_angle(math.atan2(dy, dx) - yaw), *self.head.pan))
        tilt = float(np.clip(math.atan2(-dz, math.hypot(dx, dy)), *self.head.tilt))
        return pan, tilt
