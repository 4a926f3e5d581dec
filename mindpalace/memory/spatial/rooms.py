"""Rooms: regions of the free-space map split at doorways, or polygons an env supplies.

Free-space segmentation follows the morphological method used for robot maps: cells farther than a
doorway's half width from any obstacle form one connected core per room (doorways are too narrow to
join them), and every other free cell joins the core it is nearest to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.grid import GridMap


@dataclass(frozen=True)
class RoomRegion:
    """A room: a name, a polygon (world x, y) and where it came from."""

    id: int
    name: str
    polygon: tuple[tuple[float, float], ...]
    privileged: bool = False  # True when it came from the simulator's labels, not from perception

    def contains(self, x: float, y: float) -> bool:
        """Point-in-polygon by ray crossing."""
        inside = False
        pts = self.polygon
        for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
        return inside

    @property
    def center(self) -> tuple[float, float]:
        xs, ys = zip(*self.polygon)
        return float(np.mean(xs)), float(np.mean(ys))


def rooms_from_polygons(named_polygons: list[tuple[str, list[tuple[float, float]]]], privileged: bool) -> list[RoomRegion]:
    return [
        RoomRegion(i + 1, name, tuple((float(x), float(y)) for x, y in poly), privileged)
        for i, (name, poly) in enumerate(named_polygons)
    ]


def segment_free_space(
    free: NDArray[np.bool_], grid: GridMap, door_half_width: float = 0.55, min_room_area: float = 2.0
) -> tuple[NDArray[np.int32], list[RoomRegion]]:
    """Label free cells by room (0 = none) and return the rooms with convex-hull polygons, named "room N"."""
    from scipy import ndimage
    from scipy.spatial import ConvexHull, QhullError

    clearance = ndimage.distance_transform_edt(free) * grid.resolution
    cores, count = ndimage.label(clearance > door_half_width)
    min_cells = min_room_area / grid.resolution**2
    sizes = ndimage.sum(np.ones_like(cores), cores, index=np.arange(1, count + 1))
    # Small cores are nooks, not rooms: dropping them lets their cells join the nearest real room.
    keep = np.zeros(count + 1, dtype=np.int32)
    rooms_kept = [i + 1 for i, size in enumerate(sizes) if size * 4 >= min_cells]
    keep[rooms_kept] = np.arange(1, len(rooms_kept) + 1)
    cores = keep[cores]
    if not rooms_kept:
        return np.zeros(free.shape, np.int32), []
    _, (rows, cols) = ndimage.distance_transform_edt(cores == 0, return_indices=True)
    labels = np.where(free, cores[rows, cols], 0).astype(np.int32)
    regions: list[RoomRegion] = []
    for index in range(1, len(rooms_kept) + 1):
        r, c = np.nonzero(labels == index)
        if len(r) * grid.resolution**2 < min_room_area:
            continue
        xy = np.stack([grid.origin[0] + c * grid.resolution, grid.origin[1] + r * grid.resolution], axis=1)
        try:
            hull = ConvexHull(xy)
            polygon = tuple((float(x), float(y)) for x, y in xy[hull.vertices])
        except QhullError:
            continue
        regions.append(RoomRegion(len(regions) + 1, f"room {len(regions) + 1}", polygon))
    return labels, regions
