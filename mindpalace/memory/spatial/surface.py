"""The fused surface cloud of the whole scene: depth points merged on a voxel grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.voxels import voxel_keys


class SurfaceMap:
    """Points are appended per frame and merged (one mean point per voxel) every `merge_every` frames."""

    def __init__(self, voxel_size: float = 0.02, merge_every: int = 20) -> None:
        self.voxel_size = voxel_size
        self.merge_every = merge_every
        self._keys = np.zeros(0, dtype=np.int64)  # sorted
        self._sums = np.zeros((0, 3))
        self._counts = np.zeros(0)
        self._pending: list[NDArray[np.float64]] = []

    def add(self, points: NDArray[np.float64]) -> None:
        if len(points):
            self._pending.append(np.asarray(points, dtype=np.float64))
        if len(self._pending) >= self.merge_every:
            self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        new = np.concatenate(self._pending)
        self._pending = []
        keys = np.concatenate([self._keys, voxel_keys(new, self.voxel_size)])
        sums = np.concatenate([self._sums, new])
        counts = np.concatenate([self._counts, np.ones(len(new))])
        unique, inverse = np.unique(keys, return_inverse=True)
        inverse = inverse.ravel()
        self._keys = unique
        self._sums = np.stack([np.bincount(inverse, weights=sums[:, a], minlength=len(unique)) for a in range(3)], axis=1)
        # numpy's stub says bincount gives intp; with weights it gives float64.
        self._counts = np.bincount(inverse, weights=counts, minlength=len(unique))  # type: ignore[assignment]

    def points(self) -> NDArray[np.float64]:
        """(M, 3) one point per voxel: the mean of what fell in it."""
        self._merge()
        return self._sums / np.maximum(self._counts, 1.0)[:, None]

    def __len__(self) -> int:
        self._merge()
        return len(self._keys)

    def save_ply(self, path: str | Path) -> Path:
        """An ASCII PLY of the fused points (readable by open3d, MeshLab, CloudCompare)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        points = self.points()
        header = f"ply\nformat ascii 1.0\nelement vertex {len(points)}\nproperty float x\nproperty float y\nproperty float z\nend_header\n"
        with path.open("w") as handle:
            handle.write(header)
            np.savetxt(handle, points, fmt="%.4f")
        return path
