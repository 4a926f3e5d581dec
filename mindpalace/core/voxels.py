"""Voxel keys and voxel downsampling (numpy only): the one implementation every map and filter uses."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_BITS = 21  # per axis: +-2^20 cells, +-10 km at 1 cm
_OFFSET = 1 << (_BITS - 1)
# voxel_groups marks occupied cells in a dense grid over the points' bounding box when that box holds at most this many
# cells per point (a camera frame at 2 cm: ~3 cells a point); a sparser box is grouped by sorting the keys.
_DENSE_CELLS_PER_POINT = 32


def _cells(points: NDArray[np.float64], voxel: float) -> NDArray[np.int64]:
    return np.floor(np.asarray(points, dtype=np.float64).reshape(-1, 3) / voxel).astype(np.int64)


def _pack(cells: NDArray[np.int64]) -> NDArray[np.int64]:
    cells = cells + _OFFSET
    return (cells[:, 0] << (2 * _BITS)) | (cells[:, 1] << _BITS) | cells[:, 2]


def voxel_keys(points: NDArray[np.float64], voxel: float) -> NDArray[np.int64]:
    """(N,) int64 keys, equal exactly for points in the same cube of side `voxel`; stable across calls."""
    return _pack(_cells(points, voxel))


def voxel_groups(points: NDArray[np.float64], voxel: float) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The points grouped by voxel: the occupied voxels' keys (sorted), each point's voxel (an index into them) and
    each voxel's point count; what `np.unique(voxel_keys(points, voxel), return_inverse=True, return_counts=True)` gives.

    The points must be finite. Where their bounding box is small for their number (a camera frame, an object), the
    occupied cells are marked in a dense grid over it, whose flat order is the keys' order: O(n), no sort of the
    n keys (a 640x480 frame: ~2 ms instead of ~25 ms).
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Axis by axis: reductions over contiguous columns are several times faster than over an (N, 3) array's axis 0.
    columns = [np.floor(points[:, axis] / voxel).astype(np.int64) for axis in range(3)]
    low = [int(column.min()) for column in columns]
    span = [int(column.max()) - start + 1 for column, start in zip(columns, low)]
    if span[0] * span[1] * span[2] > _DENSE_CELLS_PER_POINT * len(points):
        keys, inverse, counts = np.unique(_pack(np.stack(columns, axis=1)), return_inverse=True, return_counts=True)
        return keys, inverse.ravel(), counts
    flat = columns[0] - low[0]
    flat *= span[1]
    flat += columns[1]
    flat -= low[1]
    flat *= span[2]
    flat += columns[2]
    flat -= low[2]
    occupied = np.zeros(span[0] * span[1] * span[2], dtype=bool)
    occupied[flat] = True
    where = np.flatnonzero(occupied)
    # Only the occupied cells' entries are written and read: the rest of the array is never touched.
    rank = np.empty(len(occupied), dtype=np.int64)
    rank[where] = np.arange(len(where))
    inverse = rank[flat]
    y, z = np.divmod(where, span[2])
    x, y = np.divmod(y, span[1])
    return _pack(np.stack([x + low[0], y + low[1], z + low[2]], axis=1)), inverse, np.bincount(inverse, minlength=len(where))


def voxel_downsample(points: NDArray[np.float64], voxel: float) -> NDArray[np.float64]:
    """(M, 3) the mean point of each occupied voxel, ordered by key (deterministic)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not voxel > 0:
        raise ValueError(f"voxel must be > 0, got {voxel!r}")
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return np.zeros((0, 3))
    _, inverse, counts = voxel_groups(points, voxel)
    means = np.empty((len(counts), 3))
    for axis in range(3):
        means[:, axis] = np.bincount(inverse, weights=points[:, axis], minlength=len(counts)) / counts
    return means
