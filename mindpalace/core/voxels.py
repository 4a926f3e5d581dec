"""Voxel keys and voxel downsampling (numpy only): the one implementation every map and filter uses."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_BITS = 21  # per axis: +-2^20 cells, +-10 km at 1 cm
_OFFSET = 1 << (_BITS - 1)


def voxel_keys(points: NDArray[np.float64], voxel: float) -> NDArray[np.int64]:
    """(N,) int64 keys, equal exactly for points in the same cube of side `voxel`; stable across calls."""
    cells = np.floor(np.asarray(points, dtype=np.float64).reshape(-1, 3) / voxel).astype(np.int64) + _OFFSET
    return (cells[:, 0] << (2 * _BITS)) | (cells[:, 1] << _BITS) | cells[:, 2]


def voxel_downsample(points: NDArray[np.float64], voxel: float) -> NDArray[np.float64]:
    """(M, 3) the mean point of each occupied voxel, ordered by key (deterministic)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not voxel > 0:
        raise ValueError(f"voxel must be > 0, got {voxel!r}")
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return np.zeros((0, 3))
    _, inverse, counts = np.unique(voxel_keys(points, voxel), return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    means = np.empty((len(counts), 3))
    for axis in range(3):
        means[:, axis] = np.bincount(inverse, weights=points[:, axis], minlength=len(counts)) / counts
    return means
