"""Checks on an RGB-D frame before anything is built from it.

A frame that cannot be used raises `FrameError` with the reason; the caller logs it and leaves the
map as it was. Recoverable defects (NaN, inf or negative depth) are repaired in a copy: those pixels
become "no reading" (0), and the count is reported.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mindpalace.core.geometry import is_rigid_transform
from mindpalace.core.types import Observation


class FrameError(ValueError):
    """A frame that cannot be used: wrong shapes or dtypes, a pose that is not rigid, no valid depth."""


def validate_frame(obs: Observation, min_valid_fraction: float = 0.001) -> tuple[Observation, int]:
    """The frame with invalid depth readings set to 0, and how many were; raise FrameError if unusable."""
    rgb, depth = obs.rgb, obs.depth
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise FrameError(f"rgb must be an (H, W, 3) array, got {getattr(rgb, 'shape', type(rgb).__name__)}")
    if not isinstance(depth, np.ndarray) or depth.ndim != 2:
        raise FrameError(f"depth must be an (H, W) array, got {getattr(depth, 'shape', type(depth).__name__)}")
    if depth.shape != rgb.shape[:2]:
        raise FrameError(f"depth {depth.shape} and rgb {rgb.shape[:2]} differ in size")
    if (obs.camera.height, obs.camera.width) != depth.shape:
        raise FrameError(
            f"intrinsics are for {obs.camera.width}x{obs.camera.height}, the image is {depth.shape[1]}x{depth.shape[0]}"
        )
    if obs.segmentation is not None and obs.segmentation.shape != depth.shape:
        raise FrameError(f"segmentation {obs.segmentation.shape} and depth {depth.shape} differ in size")
    if not np.issubdtype(depth.dtype, np.floating):
        raise FrameError(f"depth must be float metres, got {depth.dtype}")
    if not is_rigid_transform(np.asarray(obs.camera_pose, dtype=np.float64)):
        raise FrameError("camera_pose is not a rigid transform (orthonormal rotation, last row 0 0 0 1)")
    if not (np.isfinite(obs.camera.fx) and obs.camera.fx > 0 and np.isfinite(obs.camera.fy) and obs.camera.fy > 0):
        raise FrameError(f"focal lengths must be positive, got fx={obs.camera.fx}, fy={obs.camera.fy}")
    bad = ~np.isfinite(depth) | (depth < 0)
    n_bad = int(bad.sum())
    if n_bad:
        depth = np.where(bad, np.float32(0.0), depth).astype(np.float32)
        obs = replace(obs, depth=depth)
    if np.count_nonzero(depth > 0) < min_valid_fraction * depth.size:
        raise FrameError("no valid depth in the frame")
    return obs, n_bad
