"""Path distances in an apartment, from the true occupancy: benchmark side (scoring, SPL, test start poses).

Distances run over the cells the robot's base fits on (walls and furniture grown by its radius), 8-connected,
as habitat-sim's geodesic distance runs over its navmesh. A point off that free space (an object on a
table) is snapped to the nearest free cell in its room first, as FindingDory snaps goals to the navmesh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import label
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from mindpalace.benchmarks.findingdory.ledger import Ledger, Target
from mindpalace.core.grid import GridMap

ROOM_SLACK = 0.06  # m: a room's rectangle runs along the wall centre lines; its free cells start just inside
FURNITURE_NEAR = 1.0  # m: the base this close to a piece's footprint, in its room, is at one of its access viewpoints


@dataclass
class Navigable:
    """The free cells of an apartment for a robot of a given radius, with the graph that path distances run on."""

    grid: GridMap  # blocked = not free for the base's centre
    graph: csr_matrix
    index: NDArray[np.int64]  # (rows, cols) -> node number, -1 where blocked

    @staticmethod
    def build(
        blocked: NDArray[np.bool_], origin: tuple[float, float], resolution: float, radius: float, start: tuple[float, float]
    ) -> Navigable:
        """Free cells (obstacles grown by `radius`) connected to `start`; the rest counts as blocked."""
        grid = GridMap(blocked, origin, resolution).inflated(radius)
        free = ~grid.blocked
        components, _ = label(free, structure=np.ones((3, 3)))
        row, col = _nearest(free, grid.to_cell(*start))
        free &= components == components[row, col]
        grid = GridMap(~free, origin, resolution)
        index = np.full(free.shape, -1, dtype=np.int64)
        index[free] = np.arange(int(free.sum()))
        sources, targets, weights = [], [], []
        height, width = free.shape
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            c0, c1 = max(0, -dc), width - max(0, dc)
            both = free[: height - dr, c0:c1] & free[dr:, c0 + dc : c1 + dc]
            r, c = np.nonzero(both)
            c = c + c0
            sources.append(index[r, c])
            targets.append(index[r + dr, c + dc])
            weights.append(np.full(len(r), resolution * math.hypot(dr, dc)))
        a, b, w = np.concatenate(sources), np.concatenate(targets), np.concatenate(weights)
        n = int(free.sum())
        graph = coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)).tocsr()
        return Navigable(grid, graph, index)

    def cell(self, x: float, y: float, within: tuple[float, float, float, float] | None = None) -> tuple[int, int] | None:
        """The free cell nearest (x, y), inside the rectangle `within` (a room) if given; None if there is none."""
        free = ~self.grid.blocked
        if within is not None:
            x0, y0, x1, y1 = within
            rows, cols = np.indices(free.shape)
            wx = self.grid.origin[0] + cols * self.grid.resolution
            wy = self.grid.origin[1] + rows * self.grid.resolution
            free = free & (wx >= x0 + ROOM_SLACK) & (wx <= x1 - ROOM_SLACK) & (wy >= y0 + ROOM_SLACK) & (wy <= y1 - ROOM_SLACK)
        if not free.any():
            return None
        return _nearest(free, self.grid.to_cell(x, y))

    def distances_from(self, cells: list[tuple[int, int]]) -> NDArray[np.float64]:
        """Path distance (m) from the nearest of `cells` to every cell; inf where blocked or unreachable."""
        nodes = [int(self.index[r, c]) for r, c in cells if self.index[r, c] >= 0]
        out = np.full(self.index.shape, np.inf)
        if not nodes:
            return out
        dist = dijkstra(self.graph, directed=False, indices=nodes, min_only=True)
        free = self.index >= 0
        out[free] = dist[self.index[free]]
        return out

    def distance(self, field: NDArray[np.float64], x: float, y: float) -> float:
        """A distance field read at (x, y): the base's own cell, or the nearest free one if it stands on a grown edge."""
        cell = self.cell(x, y)
        if cell is None:
            return math.inf
        row, col = cell
        snap = math.hypot(*np.subtract(self.grid.to_world(row, col), (x, y)))
        return float(field[row, col]) + snap

    def free_cells_in(self, rect: tuple[float, float, float, float], margin: float = 0.0) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = rect
        rows, cols = np.nonzero(~self.grid.blocked)
        wx = self.grid.origin[0] + cols * self.grid.resolution
        wy = self.grid.origin[1] + rows * self.grid.resolution
        keep = (wx >= x0 + margin) & (wx <= x1 - margin) & (wy >= y0 + margin) & (wy <= y1 - margin)
        return list(zip(rows[keep].tolist(), cols[keep].tolist()))


def target_cells(nav: Navigable, ledger: Ledger, target: Target) -> list[tuple[int, int]]:
    """The free cells that stand for a target: an object's snapped cell, a piece of furniture's access viewpoints
    (within `FURNITURE_NEAR` of its footprint, in its room), a room's free cells."""
    if target.kind == "room":
        return nav.free_cells_in(ledger.room(str(target.ref)).rect, ROOM_SLACK)
    if target.kind == "furniture":
        piece = ledger.piece(int(target.ref))
        x0, y0, x1, y1 = piece.footprint
        cells = []
        for row, col in nav.free_cells_in(ledger.room(piece.room).rect, ROOM_SLACK):
            x, y = nav.grid.to_world(row, col)
            if math.hypot(x - min(max(x, x0), x1), y - min(max(y, y0), y1)) <= FURNITURE_NEAR:
                cells.append((row, col))
        return cells
    obj = ledger.object(int(target.ref))
    x, y, _ = obj.final_position
    room = ledger.room(obj.final_room).rect if obj.final_room else None
    cell = nav.cell(x, y, within=room)
    return [cell] if cell is not None else []


def distances_from_start(nav: Navigable, ledger: Ledger) -> dict[str, float]:
    """Path distance from the test start to every object, piece of furniture and room (the nearest of its cells)."""
    x, y, _ = ledger.test_start
    start = nav.cell(x, y)
    field = nav.distances_from([start] if start is not None else [])
    targets = [Target("object", o.id) for o in ledger.objects] + [Target("furniture", f.id) for f in ledger.furniture]
    targets += [Target("room", r.name) for r in ledger.rooms]
    distances = {}
    for target in targets:
        cells = target_cells(nav, ledger, target)
        distances[target.key] = float(min((field[c] for c in cells), default=math.inf))
    return distances


def _nearest(mask: NDArray[np.bool_], cell: tuple[int, int]) -> tuple[int, int]:
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        raise ValueError("no free cell at all")
    k = int(np.argmin((rows - cell[0]) ** 2 + (cols - cell[1]) ** 2))
    return int(rows[k]), int(cols[k])
