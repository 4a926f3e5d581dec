"""The key-pose motion primitive: the path the hand takes to a key-pose, as a function of time.

RLBench and PerAct hand a key-pose to a motion planner; here the planner is a fixed rule. With
`ignore_collisions` the hand moves along the straight line; without, it rises to a safe height, travels
there (turning on the way) and comes straight down, so it passes over the drawer unit, the button and the
blocks. Every motion takes the same time whatever its length, so the clock carries no trace of where the
hand came from. Positions interpolate with a smooth (minimum-jerk) profile, orientations by slerp.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


def slerp(q0: NDArray[np.float64], q1: NDArray[np.float64], s: float) -> NDArray[np.float64]:
    """Spherical interpolation of unit quaternions (x, y, z, w), the short way round."""
    dot = float(np.dot(q0, q1))
    if dot < 0.0:
        q1, dot = -q1, -dot
    if dot > 0.9995:
        q = q0 + s * (q1 - q0)
        return q / np.linalg.norm(q)
    theta = np.arccos(dot)
    return (np.sin((1 - s) * theta) * q0 + np.sin(s * theta) * q1) / np.sin(theta)


def smooth(s: float) -> float:
    """Minimum-jerk time scaling: 0 -> 0, 1 -> 1, zero velocity and acceleration at both ends."""
    s = min(max(s, 0.0), 1.0)
    return s * s * s * (10 - 15 * s + 6 * s * s)


@dataclass(frozen=True)
class Waypoint:
    position: NDArray[np.float64]  # (3,) world
    quaternion: NDArray[np.float64]  # (4,) x, y, z, w


class HandPath:
    """Waypoints from the start pose to the key-pose, timed so the whole path takes `duration` seconds.

    Each segment gets time in proportion to its length (turning counts as 0.1 m per radian), at least a
    fifth of the whole, so short corrections are not jerky.
    """

    def __init__(self, waypoints: list[Waypoint], duration: float) -> None:
        self.waypoints = waypoints
        lengths = [
            float(np.linalg.norm(b.position - a.position)) + 0.1 * _angle(a.quaternion, b.quaternion)
            for a, b in itertools.pairwise(waypoints)
        ]
        total = sum(lengths)
        shares = [max(length / total, 0.2) if total > 1e-9 else 1.0 for length in lengths] or [1.0]
        scale = duration / sum(shares)
        self.ends = np.cumsum([share * scale for share in shares])
        self.duration = duration

    def at(self, t: float) -> Waypoint:
        """The commanded pose `t` seconds after the start."""
        if len(self.waypoints) == 1:
            return self.waypoints[0]
        index = int(np.searchsorted(self.ends, t, side="right"))
        if index >= len(self.ends):
            return self.waypoints[-1]
        start = 0.0 if index == 0 else float(self.ends[index - 1])
        s = smooth((t - start) / max(float(self.ends[index]) - start, 1e-9))
        a, b = self.waypoints[index], self.waypoints[index + 1]
        return Waypoint(a.position + s * (b.position - a.position), slerp(a.quaternion, b.quaternion, s))


def _angle(q0: NDArray[np.float64], q1: NDArray[np.float64]) -> float:
    return float(2 * np.arccos(min(1.0, abs(float(np.dot(q0, q1))))))


def plan(start: Waypoint, goal: Waypoint, safe_z: float, ignore_collisions: bool, duration: float) -> HandPath:
    """The hand's path from `start` to `goal`: a straight line, or up to `safe_z`, across, and down."""
    if ignore_collisions:
        return HandPath([start, goal], duration)
    height = max(safe_z, float(start.position[2]), float(goal.position[2]))
    up = Waypoint(np.array([*start.position[:2], height]), start.quaternion)
    across = Waypoint(np.array([*goal.position[:2], height]), goal.quaternion)
    points = [start]
    for point in (up, across, goal):
        if np.linalg.norm(point.position - points[-1].position) > 1e-6 or _angle(point.quaternion, points[-1].quaternion) > 1e-6:
            points.append(point)
    return HandPath(points, duration)
