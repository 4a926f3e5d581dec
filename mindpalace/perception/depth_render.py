"""Depth images predicted from a point cloud (z-buffer splatting) and their agreement with measured depth.

`render_depth` is how a fused map is checked against a frame: predict the map's depth at the frame's
camera pose and count the pixels where it agrees with the measured depth (`depth_agreement`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import invert_pose, transform_points
from mindpalace.core.types import CameraInfo, Observation
from mindpalace.core.voxels import voxel_downsample, voxel_keys


class DepthAgreement(NamedTuple):
    """`fraction` of the `compared` pixels (valid in both images) that agree within the tolerance;
    NaN when no pixel could be compared."""

    fraction: float
    compared: int


def render_depth(
    points_world: NDArray[np.float64],
    camera: CameraInfo,
    camera_pose: NDArray[np.float64],
    point_radius_px: int = 1,
    *,
    point_size_m: float | None = None,
    min_depth: float = 1e-3,
) -> NDArray[np.float32]:
    """(H, W) float32 depth (metres along the optical axis, 0 where nothing projects) of world points.

    points_world: (N, 3) world-frame points. camera_pose: camera optical frame -> world, 4x4.
    Each point covers the square of pixels within `point_radius_px` (Chebyshev distance) of the pixel
    it projects to (0 = that pixel only); the nearest point wins each pixel (a z-buffer). With
    `point_size_m` (e.g. the voxel size of a downsampled cloud), a point also covers at least its own
    footprint, ceil(point_size_m * f / z / 2) pixels either side, so that near surfaces have no holes
    that let farther points show through. Points closer than `min_depth` or behind the camera are
    ignored.
    """
    points = np.asarray(points_world, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points_world must be (N, 3), got shape {points.shape}")
    if int(point_radius_px) != point_radius_px or point_radius_px < 0:
        raise ValueError(f"point_radius_px must be a non-negative integer, got {point_radius_px!r}")
    pose = np.asarray(camera_pose, dtype=np.float64)
    if pose.shape != (4, 4):
        raise ValueError(f"camera_pose must be 4x4, got shape {pose.shape}")
    width, height = int(camera.width), int(camera.height)
    zbuffer = np.full(height * width, np.inf, dtype=np.float64)

    cam = transform_points(invert_pose(pose), points)
    z = cam[:, 2]
    keep = np.isfinite(cam).all(axis=1) & (z > min_depth)
    cam, z = cam[keep], z[keep]
    u = np.rint(camera.fx * cam[:, 0] / z + camera.cx)
    v = np.rint(camera.fy * cam[:, 1] / z + camera.cy)
    radius = np.full(len(z), int(point_radius_px), dtype=np.int64)
    if point_size_m is not None and point_size_m > 0:
        footprint = np.ceil(0.5 * point_size_m * max(camera.fx, camera.fy) / z - 0.5).astype(np.int64)
        radius = np.maximum(radius, footprint)
    # Points whose splat cannot reach the image are dropped before the pixel arithmetic.
    inside = (u + radius >= 0) & (u - radius <= width - 1) & (v + radius >= 0) & (v - radius <= height - 1)
    u, v, z, radius = u[inside].astype(np.int64), v[inside].astype(np.int64), z[inside], radius[inside]

    for r in np.unique(radius):
        group = radius == r
        ug, vg, zg = u[group], v[group], z[group]
        for dv in range(-int(r), int(r) + 1):
            vv = vg + dv
            for du in range(-int(r), int(r) + 1):
                uu = ug + du
                ok = (uu >= 0) & (uu < width) & (vv >= 0) & (vv < height)
                np.minimum.at(zbuffer, vv[ok] * width + uu[ok], zg[ok])

    zbuffer[~np.isfinite(zbuffer)] = 0.0
    return zbuffer.reshape(height, width).astype(np.float32)


def depth_agreement(predicted: NDArray[np.floating], measured: NDArray[np.floating], tolerance: float = 0.05) -> DepthAgreement:
    """The fraction of pixels valid (finite, > 0) in both depth images whose depths differ by at most
    `tolerance` metres, and how many pixels were compared."""
    a = np.asarray(predicted, dtype=np.float64)
    b = np.asarray(measured, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"depth images must be (H, W) of one shape, got {a.shape} and {b.shape}")
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative number of metres, got {tolerance!r}")
    both = np.isfinite(a) & (a > 0) & np.isfinite(b) & (b > 0)
    compared = int(both.sum())
    if compared == 0:
        return DepthAgreement(math.nan, 0)
    agree = int((np.abs(a[both] - b[both]) <= tolerance).sum())
    return DepthAgreement(agree / compared, compared)


def map_agreement(cloud: NDArray[np.float64], frames: list[Observation], tolerance: float = 0.05) -> list[float]:
    """Per frame: how well a fused map (its surface points, (N, 3) world) predicts the frame's measured depth.

    The map is rendered at the frame's camera pose; the share of pixels valid in both that agree within `tolerance`.
    """
    return [float(depth_agreement(render_depth(cloud, obs.camera, obs.camera_pose), obs.depth, tolerance)[0]) for obs in frames]


__all__ = ["DepthAgreement", "depth_agreement", "map_agreement", "render_depth", "voxel_downsample", "voxel_keys"]
