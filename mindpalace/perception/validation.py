"""Checks on an RGB-D frame before anything is built from it.

A frame that cannot be used raises `FrameError` naming the field; the caller logs it and leaves the
map as it was. Every field is checked (`core.frame_checks`): rgb, depth and segmentation shapes and
dtypes, the intrinsics against the image size, both poses, the time and the time of day. Recoverable
defects (NaN, inf or negative depth) are repaired in a copy: those pixels become "no reading" (0), and
the count is reported. Depth whose typical value no room has (millimetres passed as metres) is refused.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from mindpalace.core.frame_checks import FrameError, check_depth_units, check_observation
from mindpalace.core.types import Observation

log = logging.getLogger(__name__)


def validate_frame(
    obs: Observation, min_valid_fraction: float = 0.001, warned: set[str] | None = None
) -> tuple[Observation, int]:
    """The frame with invalid depth readings set to 0, and how many were; raise FrameError if unusable."""
    check_observation(obs)
    depth = obs.depth
    bad = ~np.isfinite(depth) | (depth < 0)
    n_bad = int(bad.sum())
    if n_bad or depth.dtype != np.float32:
        depth = np.where(bad, np.float32(0.0), depth).astype(np.float32)
        obs = replace(obs, depth=depth)
    if np.count_nonzero(depth > 0) < min_valid_fraction * depth.size:
        raise FrameError("depth: no valid depth in the frame")
    warning = check_depth_units(depth)
    if warning is not None:
        # With `warned` (the cameras warned about already), once per camera at warning level, then at debug level:
        # a wrist camera close to a table reads this on every frame.
        camera = str(obs.extras.get("camera", ""))
        level = logging.DEBUG if warned is not None and camera in warned else logging.WARNING
        if warned is not None:
            warned.add(camera)
        log.log(level, "frame at %.2f s%s: %s", obs.time_s, f" ({camera} camera)" if camera else "", warning)
    return obs, n_bad


__all__ = ["FrameError", "validate_frame"]
