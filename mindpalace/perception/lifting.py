"""Lift a 2D segment into the world: mask + depth + intrinsics + camera pose -> points, centroid, boxes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import backproject
from mindpalace.core.types import Observation, Percept, Segment
from mindpalace.core.voxels import voxel_downsample


@dataclass
class LiftingConfig:
    voxel_size: float = 0.01  # m; downsampling of each segment's points
    erode_px: int = 1  # drop the mask's border pixels, where real depth mixes foreground and background
    max_depth: float = 6.0  # m; farther readings are too noisy to place an object
    outlier_neighbors: int = 10
    outlier_std_ratio: float = 2.5
    min_points: int = 15  # fewer points after filtering: no percept
    max_pixels: int = 1500  # a big segment (a sofa) is sampled evenly: its voxels fill long before all its pixels are used


def erode(mask: NDArray[np.bool_], pixels: int) -> NDArray[np.bool_]:
    """Shrink a mask by `pixels` (4-neighbourhood), without scipy."""
    out = mask.copy()
    for _ in range(pixels):
        inner = out.copy()
        inner[1:, :] &= out[:-1, :]
        inner[:-1, :] &= out[1:, :]
        inner[:, 1:] &= out[:, :-1]
        inner[:, :-1] &= out[:, 1:]
        out = inner
    return out


def remove_outliers(points: NDArray[np.float64], neighbors: int, std_ratio: float) -> NDArray[np.float64]:
    """Open3D's statistical outlier removal: drop points whose mean neighbour distance is unusually large."""
    if len(points) <= neighbors:
        return points
    import open3d as o3d

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    _, kept = cloud.remove_statistical_outlier(nb_neighbors=neighbors, std_ratio=std_ratio)
    return points[np.asarray(kept, dtype=np.int64)]


def oriented_box(points: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Gravity-aligned oriented box (centre, rotation with columns as axes, full extents).

    Objects rest upright, so the box turns about z only: PCA of the xy spread gives its heading.
    """
    xy = points[:, :2] - points[:, :2].mean(axis=0)
    if len(points) >= 3 and np.ptp(xy, axis=0).max() > 1e-6:
        _, vectors = np.linalg.eigh(xy.T @ xy)
        major = vectors[:, 1]
    else:
        major = np.array([1.0, 0.0])
    rotation = np.array([[major[0], -major[1], 0.0], [major[1], major[0], 0.0], [0.0, 0.0, 1.0]])
    local = points @ rotation
    low, high = local.min(axis=0), local.max(axis=0)
    return rotation @ ((low + high) / 2), rotation, high - low


def lift_segment(segment: Segment, obs: Observation, embedding: NDArray[np.float32], config: LiftingConfig) -> Percept | None:
    """The segment as a world-frame `Percept`, or None when too little valid depth remains."""
    # Work inside the segment's bounding box (plus the erosion margin): full-frame passes per segment add up.
    row_any, col_any = np.any(segment.mask, axis=1), np.any(segment.mask, axis=0)
    if not row_any.any():
        return None
    margin = config.erode_px + 1
    r0, r1 = max(int(np.argmax(row_any)) - margin, 0), min(len(row_any) - int(np.argmax(row_any[::-1])) + margin, len(row_any))
    c0, c1 = max(int(np.argmax(col_any)) - margin, 0), min(len(col_any) - int(np.argmax(col_any[::-1])) + margin, len(col_any))
    mask = segment.mask[r0:r1, c0:c1]
    depth = obs.depth[r0:r1, c0:c1]
    if config.erode_px:
        mask = erode(mask, config.erode_px)
    usable = mask & (depth > 0) & (depth <= config.max_depth)
    rows, cols = np.nonzero(usable)
    if len(rows) > config.max_pixels:
        keep = np.linspace(0, len(rows) - 1, config.max_pixels).astype(np.int64)
        usable = np.zeros_like(usable)
        usable[rows[keep], cols[keep]] = True
    crop = replace(obs.camera, width=c1 - c0, height=r1 - r0, cx=obs.camera.cx - c0, cy=obs.camera.cy - r0)
    points = backproject(depth, crop, obs.camera_pose, usable)
    if len(points) < config.min_points:
        return None
    points = voxel_downsample(points, config.voxel_size)
    points = remove_outliers(points, config.outlier_neighbors, config.outlier_std_ratio)
    if len(points) < config.min_points:
        return None
    center, rotation, extent = oriented_box(points)
    return Percept(
        label=segment.label,
        mask=segment.mask,
        points=points,
        centroid=points.mean(axis=0),
        aabb_min=points.min(axis=0),
        aabb_max=points.max(axis=0),
        obb_center=center,
        obb_rotation=rotation,
        obb_extent=extent,
        embedding=embedding,
        confidence=float(segment.score),
        time_s=obs.time_s,
        source_id=segment.source_id,
        attributes=dict(segment.attributes),
        pixel_count=int(np.count_nonzero(segment.mask)),
        color=_median_color(obs, (r0, r1, c0, c1), mask),
    )


def _median_color(obs: Observation, window: tuple[int, int, int, int], mask: NDArray[np.bool_]) -> NDArray[np.float32] | None:
    """The median RGB (0-1) of the (eroded) mask's pixels in the window: the edges, which mix in the background,
    are left out."""
    r0, r1, c0, c1 = window
    pixels = obs.rgb[r0:r1, c0:c1][mask]
    if not len(pixels):
        return None
    return (_median_uint8(pixels) / 255.0).astype(np.float32)


def _median_uint8(pixels: NDArray[np.uint8]) -> NDArray[np.float64]:
    """np.median(pixels, axis=0) of (N, C) uint8 values from a histogram per channel: linear in N, no sort."""
    n = len(pixels)
    # The (n - 1) // 2-th and n // 2-th smallest values (0-based), the same one when n is odd.
    low, high = (n - 1) // 2, n // 2
    medians = np.empty(pixels.shape[1])
    for channel in range(pixels.shape[1]):
        below = np.cumsum(np.bincount(pixels[:, channel], minlength=256))
        medians[channel] = (np.searchsorted(below, low, side="right") + np.searchsorted(below, high, side="right")) / 2
    return medians
