"""Pure-pursuit path following for a differential-drive base: pose in, (v, omega) out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mindpalace.core.geometry import wrap_angle


@dataclass
class FollowerConfig:
    """Limits and gains; linear in m/s and m, angular in rad/s and rad."""

    max_linear: float = 0.6
    max_angular: float = 1.5
    lookahead: float = 0.4
    goal_tolerance: float = 0.12
    heading_tolerance: float = 0.08
    turn_in_place_angle: float = 0.6  # heading errors above this rotate in place before driving
    slowdown_radius: float = 0.5  # speed falls linearly with goal distance inside this radius
    angular_gain: float = 2.0  # omega per radian of heading error when turning in place


class PathFollower:
    """Tracks a lookahead point along `path`, then turns to `final_yaw` if given."""

    def __init__(
        self,
        path: Sequence[tuple[float, float]],
        config: FollowerConfig | None = None,
        final_yaw: float | None = None,
    ) -> None:
        if len(path) == 0:
            raise ValueError("path must have at least one point")
        self.config = config if config is not None else FollowerConfig()
        self.final_yaw = final_yaw
        self._points = np.asarray(path, dtype=np.float64).reshape(-1, 2)
        self._seg = np.diff(self._points, axis=0)
        self._seg_len = np.hypot(self._seg[:, 0], self._seg[:, 1])
        self._seg_start_s = np.concatenate(([0.0], np.cumsum(self._seg_len)))[:-1]
        self._total = float(self._seg_len.sum())
        self._progress = 0.0  # arc length reached so far; never decreases
        self._at_goal = False
        self._done = False

    @property
    def done(self) -> bool:
        """Whether the last `command` found the base at the goal (and at `final_yaw`, if given)."""
        return self._done

    def command(self, x: float, y: float, yaw: float) -> tuple[float, float]:
        """Velocity command (v, omega) for the base at pose (x, y, yaw)."""
        cfg = self.config
        goal = self._points[-1]
        goal_dist = math.hypot(goal[0] - x, goal[1] - y)
        # Latched so that small drift at the goal cannot restart the approach and make it dither.
        self._at_goal = self._at_goal or goal_dist <= cfg.goal_tolerance
        if self._at_goal:
            return self._align(yaw)

        self._progress = max(self._progress, self._project(x, y))
        tx, ty = self._point_at(min(self._progress + cfg.lookahead, self._total))
        alpha = wrap_angle(math.atan2(ty - y, tx - x) - yaw)
        if abs(alpha) > cfg.turn_in_place_angle:
            return 0.0, _clip(cfg.angular_gain * alpha, cfg.max_angular)

        v = cfg.max_linear * min(1.0, goal_dist / cfg.slowdown_radius)
        curvature = 2.0 * math.sin(alpha) / max(math.hypot(tx - x, ty - y), 1e-9)
        omega = v * curvature
        if abs(omega) > cfg.max_angular:
            # Slow down rather than clip omega alone, so the commanded arc stays the pursuit arc.
            omega = math.copysign(cfg.max_angular, omega)
            v = cfg.max_angular / abs(curvature)
        return v, omega

    def _align(self, yaw: float) -> tuple[float, float]:
        if self.final_yaw is not None:
            error = wrap_angle(self.final_yaw - yaw)
            if abs(error) > self.config.heading_tolerance:
                self._done = False
                return 0.0, _clip(self.config.angular_gain * error, self.config.max_angular)
        self._done = True
        return 0.0, 0.0

    def _project(self, x: float, y: float) -> float:
        """Arc length of the closest path point, searched only a lookahead past the current progress.

        The window stops the projection jumping to a later stretch of path that happens to pass
        close by (a U-turn, a corridor walked both ways).
        """
        if self._total == 0.0:
            return 0.0
        window = self._seg_start_s <= self._progress + self.config.lookahead
        starts = self._points[:-1][window]
        seg = self._seg[window]
        lengths = self._seg_len[window]
        rel = np.array([x, y]) - starts
        t = np.clip(np.einsum("ij,ij->i", rel, seg) / np.maximum(lengths**2, 1e-18), 0.0, 1.0)
        offsets = rel - t[:, None] * seg
        best = int(np.argmin(np.hypot(offsets[:, 0], offsets[:, 1])))
        return float(self._seg_start_s[window][best] + t[best] * lengths[best])

    def _point_at(self, s: float) -> tuple[float, float]:
        if self._total == 0.0:
            return float(self._points[-1, 0]), float(self._points[-1, 1])
        i = int(np.searchsorted(self._seg_start_s, s, side="right")) - 1
        i = min(max(i, 0), len(self._seg_len) - 1)
        frac = (s - self._seg_start_s[i]) / self._seg_len[i] if self._seg_len[i] > 0 else 1.0
        p = self._points[i] + min(frac, 1.0) * self._seg[i]
        return float(p[0]), float(p[1])


def _clip(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))
