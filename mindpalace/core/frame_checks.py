"""Checks on what an RGB-D frame carries, each raising `FrameError` that names the field.

Shared by perception (`perception.validation.validate_frame`, before a frame is processed; the RGB-D
readers) and memory (`MemorySystem.observe`, before any store is written), so neither can file half a
frame. All are cheap: shapes, dtypes, a few numbers, and a median of every 4th depth pixel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import is_rigid_transform
from mindpalace.core.types import CameraInfo, Observation

SECONDS_PER_DAY = 86400.0
#: Median valid depth (m) of a camera in a room: outside this range a warning says the units look wrong.
ROOM_DEPTH_RANGE_M = (0.2, 15.0)
#: Outside this range no room sensor reads: the depth is in other units (millimetres as metres) and is refused.
POSSIBLE_DEPTH_RANGE_M = (0.01, 100.0)


class FrameError(ValueError):
    """A frame that cannot be used: the message names the field (rgb, depth, camera, camera_pose, time_s, ...)."""


def check_time(value: object, name: str = "time_s") -> float:
    """A finite, non-negative number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise FrameError(f"{name} must be a number of seconds, got {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise FrameError(f"{name} must be finite and >= 0, got {seconds}")
    return seconds


def check_time_of_day(value: object) -> None:
    """None, or seconds since midnight in [0, 86400)."""
    if value is None:
        return
    seconds = check_time(value, "time_of_day_s")
    if seconds >= SECONDS_PER_DAY:
        raise FrameError(f"time_of_day_s must be seconds since midnight in [0, 86400), got {seconds}")


def check_pose(pose: object, name: str) -> None:
    """A finite rigid 4x4 transform (orthonormal right-handed rotation, last row 0 0 0 1)."""
    if not isinstance(pose, np.ndarray) or pose.shape != (4, 4) or not np.issubdtype(pose.dtype, np.number):
        raise FrameError(f"{name} must be a 4x4 array, got {_describe(pose)}")
    matrix = pose.astype(np.float64, copy=False)
    if not np.all(np.isfinite(matrix)):
        raise FrameError(f"{name} has NaN or infinite entries; it is not a rigid transform")
    if not is_rigid_transform(matrix):
        raise FrameError(f"{name} is not a rigid transform (orthonormal rotation, last row 0 0 0 1)")


def check_rgb(rgb: object) -> tuple[int, int]:
    """An (H, W, 3) uint8 image with H, W > 0; returns (H, W)."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise FrameError(f"rgb must be an (H, W, 3) array, got {_describe(rgb)}")
    if rgb.dtype != np.uint8:
        raise FrameError(f"rgb must be uint8 (0-255), got {rgb.dtype}")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise FrameError(f"rgb is an empty {rgb.shape[1]}x{rgb.shape[0]} image")
    return rgb.shape[0], rgb.shape[1]


def check_depth_array(depth: object, shape: tuple[int, int], name: str = "depth") -> None:
    """An (H, W) float array (metres) of the image's size; `check_depth_units` judges its values."""
    if not isinstance(depth, np.ndarray) or depth.ndim != 2:
        raise FrameError(f"{name} must be an (H, W) array, got {_describe(depth)}")
    if depth.shape != shape:
        raise FrameError(f"{name} {depth.shape} and rgb {shape} differ in size")
    if not np.issubdtype(depth.dtype, np.floating):
        raise FrameError(
            f"{name} must be float metres, got {depth.dtype} (integer depth needs its scale: value / scale = metres)"
        )


def check_segmentation(segmentation: object, shape: tuple[int, int]) -> None:
    """None, or (H, W) integer instance ids of the image's size."""
    if segmentation is None:
        return
    if not isinstance(segmentation, np.ndarray) or segmentation.ndim != 2:
        raise FrameError(f"segmentation must be an (H, W) array of instance ids, got {_describe(segmentation)}")
    if segmentation.shape != shape:
        raise FrameError(f"segmentation {segmentation.shape} and depth {shape} differ in size")
    if not np.issubdtype(segmentation.dtype, np.integer):
        raise FrameError(f"segmentation must hold integer instance ids, got {segmentation.dtype}")


def check_camera(camera: object, shape: tuple[int, int]) -> None:
    """Pinhole intrinsics for an image of `shape` (H, W): positive finite focal lengths, the principal point inside."""
    if not isinstance(camera, CameraInfo):
        raise FrameError(f"camera must be a CameraInfo, got {type(camera).__name__}")
    height, width = shape
    if (camera.height, camera.width) != shape:
        raise FrameError(f"camera intrinsics are for {camera.width}x{camera.height}, the image is {width}x{height}")
    fx, fy, cx, cy = (float(v) for v in (camera.fx, camera.fy, camera.cx, camera.cy))
    if not (math.isfinite(fx) and fx > 0 and math.isfinite(fy) and fy > 0):
        raise FrameError(f"camera focal lengths must be positive and finite, got fx={fx}, fy={fy}")
    # Pixel centres are at integer indices, so the image spans [-0.5, W - 0.5] x [-0.5, H - 0.5].
    if not (math.isfinite(cx) and -0.5 <= cx <= width - 0.5 and math.isfinite(cy) and -0.5 <= cy <= height - 0.5):
        raise FrameError(f"camera principal point ({cx}, {cy}) is not finite or lies outside the {width}x{height} image")


def check_observation(obs: Observation) -> None:
    """Everything an Observation carries except the depth values: FrameError naming the first bad field."""
    shape = check_rgb(obs.rgb)
    check_depth_array(obs.depth, shape)
    check_segmentation(obs.segmentation, shape)
    check_camera(obs.camera, shape)
    check_pose(obs.camera_pose, "camera_pose")
    check_pose(obs.base_pose, "base_pose")
    check_time(obs.time_s)
    check_time_of_day(obs.time_of_day_s)


def check_points(points: object, name: str) -> None:
    """(N, 3) finite numbers."""
    if not isinstance(points, np.ndarray) or points.ndim != 2 or points.shape[1] != 3:
        raise FrameError(f"{name} must be an (N, 3) array, got {_describe(points)}")
    if not np.all(np.isfinite(points)):
        raise FrameError(f"{name} has NaN or infinite coordinates")


def depth_units_problem(depth: NDArray[np.floating], stride: int = 4) -> tuple[str, str] | None:
    """("error" or "warning", why) when the median valid depth (metres) is implausible for a room, else None.

    `depth` holds metres with 0 (or a non-finite value) for no reading; every `stride`-th pixel in each
    direction is enough for a median.
    """
    sample = np.asarray(depth[::stride, ::stride], dtype=np.float64)
    valid = sample[np.isfinite(sample) & (sample > 0)]
    if valid.size == 0:
        return None
    median = float(np.median(valid))
    low, high = ROOM_DEPTH_RANGE_M
    if low <= median <= high:
        return None
    hint = ""
    if low <= median / 1000.0 <= high:
        hint = " It looks like millimetres; depth is float metres (millimetres / 1000)."
    where = f"median valid depth {median:.4g} m"
    if not POSSIBLE_DEPTH_RANGE_M[0] <= median <= POSSIBLE_DEPTH_RANGE_M[1]:
        return "error", f"depth: {where} is impossible for a room sensor: wrong units or scale.{hint}"
    return "warning", f"depth: {where} is unusual for a room (expected {low}-{high} m): check the depth units.{hint}"


def check_depth_units(depth: NDArray[np.floating]) -> str | None:
    """FrameError when the depth cannot be metres (`depth_units_problem` says "error"); the warning's text, or None."""
    problem = depth_units_problem(depth)
    if problem is None:
        return None
    level, message = problem
    if level == "error":
        raise FrameError(message)
    return message


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"shape {value.shape} {value.dtype}"
    return type(value).__name__


__all__ = [
    "POSSIBLE_DEPTH_RANGE_M",
    "ROOM_DEPTH_RANGE_M",
    "FrameError",
    "check_camera",
    "check_depth_array",
    "check_depth_units",
    "check_observation",
    "check_points",
    "check_pose",
    "check_rgb",
    "check_segmentation",
    "check_time",
    "check_time_of_day",
    "depth_units_problem",
]
