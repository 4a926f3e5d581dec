"""A 2D occupancy grid in world coordinates: the costmap type shared by spatial memory and navigation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Float slack for "distance <= radius" so cells exactly on the disc boundary count as inside.
_EPS = 1e-9


@dataclass(frozen=True)
class GridMap:
    """Occupancy grid: `blocked[row, col]` is True for an obstacle; `origin` is the centre of cell (0, 0)."""

    blocked: NDArray[np.bool_]
    origin: tuple[float, float]
    resolution: float

    def __post_init__(self) -> None:
        # `~blocked` must be a logical not; on an integer array it would be a bitwise one.
        object.__setattr__(self, "blocked", np.asarray(self.blocked, dtype=bool))

    def to_cell(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of the cell containing world point (x, y); a point on a cell border goes up."""
        col = math.floor((x - self.origin[0]) / self.resolution + 0.5)
        row = math.floor((y - self.origin[1]) / self.resolution + 0.5)
        return row, col

    def to_world(self, row: int, col: int) -> tuple[float, float]:
        return (self.origin[0] + col * self.resolution, self.origin[1] + row * self.resolution)

    def in_bounds(self, row: int, col: int) -> bool:
        rows, cols = self.blocked.shape
        return 0 <= row < rows and 0 <= col < cols

    def inflated(self, radius_m: float) -> GridMap:
        """Grid whose blocked cells are those with centre within `radius_m` of a blocked cell's centre."""
        radius = radius_m / self.resolution
        reach = math.floor(radius + _EPS)
        rows, cols = self.blocked.shape
        padded = np.pad(self.blocked, reach)
        # Row prefix sums turn "any blocked cell in a horizontal window" into one subtraction,
        # so the disc dilation costs one vectorised pass per row offset instead of one per cell.
        prefix = np.zeros((padded.shape[0], padded.shape[1] + 1), dtype=np.int64)
        np.cumsum(padded, axis=1, out=prefix[:, 1:])
        grown = np.zeros_like(self.blocked)
        for dr in range(-reach, reach + 1):
            half = math.floor(math.sqrt(max(radius * radius - dr * dr, 0.0)) + _EPS)
            band = prefix[reach + dr : reach + dr + rows]
            window = band[:, reach + half + 1 : reach + half + 1 + cols] - band[:, reach - half : reach - half + cols]
            grown |= window > 0
        return GridMap(blocked=grown, origin=self.origin, resolution=self.resolution)
