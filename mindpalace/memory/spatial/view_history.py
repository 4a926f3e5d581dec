"""Earlier views of the scene, kept coarse: was a place seen empty before something was first seen there?

When an object goes missing and another of its kind turns up elsewhere, memory must tell an object that *arrived*
(the missing one, moved) from one that was there all along but first seen late. Only earlier frames can:
- "arrived": one of them saw through the newcomer's place (the depth passed where it now stands): it was empty then;
- "there": else, one of them saw the newcomer's upper points (those more than `margin` above its lowest), the depth
  stopping at them: something stood there then. A flat object has no such points (its support reads as close);
- "unknown": no earlier frame saw the place (it was behind a door, or never in view).

Each frame's depth is kept as its per-pixel nearest reading (`DepthView.nearest`), min-pooled into square blocks
about `width` blocks across (4x4 pixels at 320x240, 8x8 at 640x480), in float16: a block reads no farther than any
pixel in it, so a place counts as seen through only when every reading around it passed it. The history is a
bounded ring of ~10 KB a frame (80x60 readings); it is working state, not saved with the map (after a restart there
is less evidence).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.types import CameraInfo
from mindpalace.memory.spatial.objects import DepthView, look


@dataclass(frozen=True)
class ViewHistoryConfig:
    width: int = 80  # readings across a kept view (at least): the image is pooled in square blocks to about this
    max_views: int = 5000  # frames kept; the oldest go first
    margin: float = 0.02  # m; the depth passed a point by more than this: the point was empty then
    min_through: int = 5  # points seen through, at least, and
    min_through_share: float = 0.3  # of the points that the view saw at all
    max_points: int = 400  # an object's points tested, evenly thinned
    min_there_share: float = 0.5  # of its upper points in a view, the share the depth must stop at for "there"


Evidence = Literal["arrived", "there", "unknown"]


@dataclass(frozen=True)
class _CoarseView:
    time_s: float
    nearest: NDArray[np.float16]  # (h, w) block minimum of the nearest readings; 0 where there is none
    camera: CameraInfo
    pose: NDArray[np.float64]


class ViewHistory:
    """A ring of coarse depth views, asked whether a place was seen empty before a time."""

    def __init__(self, config: ViewHistoryConfig | None = None) -> None:
        self.config = config or ViewHistoryConfig()
        self._views: deque[_CoarseView] = deque(maxlen=self.config.max_views)

    def __len__(self) -> int:
        return len(self._views)

    def add(self, view: DepthView, time_s: float) -> None:
        """Keep a frame's depth (coarsened) taken at `time_s`."""
        block = max(1, view.camera.width // self.config.width)
        nearest = np.where(view.nearest > 0, view.nearest, np.inf)
        h, w = (nearest.shape[0] // block) * block, (nearest.shape[1] // block) * block
        pooled = nearest[:h, :w].reshape(h // block, block, w // block, block).min(axis=(1, 3))
        camera = view.camera
        # Block (r, c) covers pixels [block * c, block * c + block): its centre is pixel block * c + (block - 1) / 2.
        coarse = CameraInfo(
            w // block,
            h // block,
            camera.fx / block,
            camera.fy / block,
            (camera.cx - (block - 1) / 2) / block,
            (camera.cy - (block - 1) / 2) / block,
        )
        pooled = np.where(np.isfinite(pooled), pooled, 0.0).astype(np.float16)
        self._views.append(_CoarseView(time_s, pooled, coarse, view.pose.copy()))

    def evidence(self, points: NDArray[np.float64], time_s: float) -> Evidence:
        """What views taken before `time_s` say of the place these points fill (see the module docstring)."""
        cfg = self.config
        if len(points) > cfg.max_points:
            points = points[np.linspace(0, len(points) - 1, cfg.max_points).astype(int)]
        upper = points[:, 2] > points[:, 2].min() + cfg.margin
        there = False
        for view in self._views:
            if view.time_s >= time_s:
                break
            inside, seen, through_points = look(view.nearest, view.camera, view.pose, points, cfg.margin)
            if not inside.any():
                continue
            through = int(through_points.sum())
            if through >= cfg.min_through and through >= cfg.min_through_share * int(seen.sum()):
                return "arrived"
            stopped = int((seen & upper & ~through_points).sum())
            there = there or (stopped >= cfg.min_through and stopped >= cfg.min_there_share * int((inside & upper).sum()))
        return "there" if there else "unknown"
