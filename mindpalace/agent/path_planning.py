"""A* on an occupancy grid for a circular mobile base, with line-of-sight path shortcutting.

Cells are addressed as (row, col); rows index world y and cols index world x. Internally the
search runs on a flat list over the grid padded by one blocked cell on every side, so that
neighbour look-ups never need a bounds check (Python lists index far faster than numpy scalars).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.grid import GridMap

Point = tuple[float, float]

# Fixed-point step costs (1 and sqrt(2) in micro-cells): integer f-scores tie exactly, so ties
# break on the heuristic rather than on float rounding noise, which would flood open areas.
_ORTHOGONAL = 1_000_000
_DIAGONAL = 1_414_214
# Float slack so that exact geometric ties (a cell on the disc boundary, a segment through a
# cell corner) are recognised as ties despite rounding.
_EPS = 1e-9


def path_length(path: Sequence[Point]) -> float:
    return float(sum(math.dist(a, b) for a, b in itertools.pairwise(path)))


def plan_path(
    grid: GridMap,
    start_xy: Point,
    goal_xy: Point,
    *,
    robot_radius: float,
    goal_tolerance: float = 0.0,
    view_box: tuple[Point, Point] | None = None,
) -> list[Point] | None:
    """Shortest 8-connected collision-free path for a disc robot as world waypoints, or None.

    If the start lies in the inflated zone around an obstacle, the path first escapes to the
    nearest inflation-free cell without entering a real obstacle. If the goal cell cannot be
    reached and `goal_tolerance` > 0, the path ends at the reachable free cell nearest the goal
    within that distance. The first waypoint is `start_xy`; the last is `goal_xy` or that cell.

    `view_box` ((x_min, y_min), (x_max, y_max)): a thing the end must see. End cells from which the straight
    line to the box's centre meets no obstacle before the box come first (nearest the goal first); the
    others only where none of those can be reached. Standing nearest a piece of furniture can be behind
    the wall it stands against.
    """
    inflated = grid.inflated(robot_radius)
    start = grid.to_cell(*start_xy)
    goal = grid.to_cell(*goal_xy)
    if not grid.in_bounds(*start):
        return None
    rows, cols = grid.blocked.shape
    width = cols + 2
    free = _padded_flat(~inflated.blocked)
    raw_free = _padded_flat(~grid.blocked)

    def flat(cell: tuple[int, int]) -> int:
        return (cell[0] + 1) * width + cell[1] + 1

    def cell_point(index: int) -> Point:
        row, col = divmod(index, width)
        return (float(col - 1), float(row - 1))

    escape: list[int] = [flat(start)]
    if not free[escape[0]]:
        parent, reached = _search(raw_free, escape[0], free, [0] * len(free), width)
        if reached is None:
            return None
        escape = _trace(parent, reached)

    candidates = _goal_candidates(inflated, goal, goal_xy, goal_tolerance)
    if view_box is not None:
        candidates = sorted(candidates, key=lambda cell: not _sees(grid, cell, view_box))  # stable: nearest first
    if not candidates:
        return None
    target = flat(candidates[0])
    is_target = [False] * len(free)
    is_target[target] = True
    parent, reached = _search(free, escape[-1], is_target, _octile_to(candidates[0], rows, cols), width)
    if reached is None:
        # The failed search expanded every reachable cell with an optimal parent, so any
        # reachable fallback's path can be read straight off `parent`.
        reached = next((flat(c) for c in candidates[1:] if parent[flat(c)] >= 0), None)
        if reached is None:
            return None
    cells = _trace(parent, reached)

    reached_goal = grid.in_bounds(*goal) and reached == flat(goal)
    end_pt = _grid_coords(grid, goal_xy) if reached_goal else cell_point(reached)
    main_pts = [cell_point(i) for i in _turns(cells)] + [end_pt]
    start_pt = _grid_coords(grid, start_xy)
    if len(escape) == 1:
        waypoints = _shortcut([start_pt] + main_pts, free, width)
    else:
        # The escape leg runs inside the inflated zone by necessity, so only real obstacles bound it;
        # its end stays a waypoint so that no shortcut re-enters the zone afterwards.
        escape_pts = [start_pt] + [cell_point(i) for i in _turns(escape)]
        waypoints = _shortcut(escape_pts, raw_free, width)[:-1] + _shortcut(main_pts, free, width)
    return [_world_coords(grid, p) for p in waypoints]


def _padded_flat(mask: NDArray[np.bool_]) -> list[bool]:
    return np.pad(mask, 1, constant_values=False).ravel().tolist()


def _grid_coords(grid: GridMap, xy: Point) -> Point:
    """World point in continuous (col, row) units, where cell centres are integers."""
    return ((xy[0] - grid.origin[0]) / grid.resolution, (xy[1] - grid.origin[1]) / grid.resolution)


def _world_coords(grid: GridMap, point: Point) -> Point:
    return (grid.origin[0] + point[0] * grid.resolution, grid.origin[1] + point[1] * grid.resolution)


def _goal_candidates(inflated: GridMap, goal: tuple[int, int], goal_xy: Point, tolerance: float) -> list[tuple[int, int]]:
    """Acceptable end cells, nearest to `goal_xy` first: the goal cell if free, then free cells within tolerance."""
    exact = [goal] if inflated.in_bounds(*goal) and not inflated.blocked[goal] else []
    if tolerance <= 0.0:
        return exact
    reach = math.ceil(tolerance / inflated.resolution) + 1
    rows, cols = inflated.blocked.shape
    r0, r1 = max(goal[0] - reach, 0), min(goal[0] + reach + 1, rows)
    c0, c1 = max(goal[1] - reach, 0), min(goal[1] + reach + 1, cols)
    if r0 >= r1 or c0 >= c1:
        return exact
    rr, cc = np.mgrid[r0:r1, c0:c1]
    xs = inflated.origin[0] + cc * inflated.resolution
    ys = inflated.origin[1] + rr * inflated.resolution
    dist = np.hypot(xs - goal_xy[0], ys - goal_xy[1])
    ok = (dist <= tolerance + _EPS) & ~inflated.blocked[r0:r1, c0:c1]
    order = np.argsort(dist[ok], kind="stable")
    nearby = [(int(r), int(c)) for r, c in zip(rr[ok][order], cc[ok][order])]
    return exact + [cell for cell in nearby if cell != goal]


def _sees(grid: GridMap, cell: tuple[int, int], box: tuple[Point, Point]) -> bool:
    """Whether the straight line from `cell` to the centre of `box` meets no blocked cell before it is in the box
    (grown by half a cell: the cells its outline passes through are its own)."""
    (x0, y0), (x1, y1) = box
    margin = grid.resolution / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    sx, sy = grid.to_world(*cell)
    steps = max(1, math.ceil(math.hypot(cx - sx, cy - sy) / (grid.resolution / 2)))
    for i in range(1, steps + 1):
        x, y = sx + (cx - sx) * i / steps, sy + (cy - sy) * i / steps
        if x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin:
            return True
        row, col = grid.to_cell(x, y)
        if grid.in_bounds(row, col) and grid.blocked[row, col]:
            return False
    return True


def _octile_to(goal: tuple[int, int], rows: int, cols: int) -> list[int]:
    """Octile distance from every padded cell to `goal` in step-cost units, flattened like the search grid."""
    rr, cc = np.mgrid[-1 : rows + 1, -1 : cols + 1]
    dy = np.abs(rr - goal[0])
    dx = np.abs(cc - goal[1])
    return ((dx + dy) * _ORTHOGONAL + (_DIAGONAL - 2 * _ORTHOGONAL) * np.minimum(dx, dy)).ravel().tolist()


def _search(
    passable: list[bool], start: int, is_goal: list[bool], heuristic: list[int], width: int
) -> tuple[list[int], int | None]:
    """A* over flat padded cells; returns the parent links (-1 = never reached) and the goal reached.

    Diagonal steps need both orthogonal neighbours passable, so paths never cut a blocked corner.
    """
    moves = [
        (1, _ORTHOGONAL, 0, 0),
        (-1, _ORTHOGONAL, 0, 0),
        (width, _ORTHOGONAL, 0, 0),
        (-width, _ORTHOGONAL, 0, 0),
        (width + 1, _DIAGONAL, width, 1),
        (width - 1, _DIAGONAL, width, -1),
        (-width + 1, _DIAGONAL, -width, 1),
        (-width - 1, _DIAGONAL, -width, -1),
    ]
    unreached = 1 << 62
    g = [unreached] * len(passable)
    parent = [-1] * len(passable)
    closed = bytearray(len(passable))
    g[start] = 0
    parent[start] = start
    # Ties on f go to the smaller heuristic, which keeps A* diving toward the goal on open ground.
    heap = [(heuristic[start], heuristic[start], start)]
    while heap:
        _, _, cur = heapq.heappop(heap)
        if closed[cur]:
            continue
        closed[cur] = 1
        if is_goal[cur]:
            return parent, cur
        g_cur = g[cur]
        for step, cost, side_a, side_b in moves:
            nxt = cur + step
            if not passable[nxt] or closed[nxt]:
                continue
            if side_a and not (passable[cur + side_a] and passable[cur + side_b]):
                continue
            g_next = g_cur + cost
            if g_next < g[nxt]:
                g[nxt] = g_next
                parent[nxt] = cur
                h = heuristic[nxt]
                heapq.heappush(heap, (g_next + h, h, nxt))
    return parent, None


def _trace(parent: list[int], end: int) -> list[int]:
    cells = [end]
    while parent[cells[-1]] != cells[-1]:
        cells.append(parent[cells[-1]])
    cells.reverse()
    return cells


def _turns(cells: list[int]) -> list[int]:
    """Endpoints and the cells where the step direction changes: the only useful shortcut anchors."""
    if len(cells) < 3:
        return cells
    kept = [cells[0]]
    for prev, cur, nxt in zip(cells, cells[1:], cells[2:]):
        if cur - prev != nxt - cur:
            kept.append(cur)
    kept.append(cells[-1])
    return kept


def _shortcut(points: list[Point], free: list[bool], width: int) -> list[Point]:
    """Line-of-sight simplification of a polyline whose consecutive segments are already clear.

    From each kept point, jump to the farthest later point in sight; trying the far end first
    (rather than extending step by step) avoids keeping corners a step-by-step scan gets stuck on.
    """
    kept = [points[0]]
    anchor = 0
    while anchor < len(points) - 1:
        nxt = len(points) - 1
        while nxt > anchor + 1 and not _segment_clear(free, width, points[anchor], points[nxt]):
            nxt -= 1
        kept.append(points[nxt])
        anchor = nxt
    return kept


def _segment_clear(free: list[bool], width: int, p0: Point, p1: Point) -> bool:
    """Whether every cell the segment touches is free (a supercover walk, a conservative Bresenham).

    Points are in (col, row) units. Where the segment passes exactly through a cell corner, both
    cells beside the corner must be free, matching the planner's no-corner-cutting rule.
    """
    col, row = math.floor(p0[0] + 0.5), math.floor(p0[1] + 0.5)
    col_end, row_end = math.floor(p1[0] + 0.5), math.floor(p1[1] + 0.5)
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    step_c = 1 if dx > 0 else -1
    step_r = 1 if dy > 0 else -1
    # Segment parameter t at the next column / row border, and its increment per further border.
    t_c = (col + 0.5 * step_c - p0[0]) / dx if dx else math.inf
    t_r = (row + 0.5 * step_r - p0[1]) / dy if dy else math.inf
    dt_c = abs(1.0 / dx) if dx else math.inf
    dt_r = abs(1.0 / dy) if dy else math.inf
    left_c, left_r = abs(col_end - col), abs(row_end - row)
    index = (row + 1) * width + col + 1
    if not free[index]:
        return False
    while left_c or left_r:
        if left_c and left_r and abs(t_c - t_r) < _EPS:
            if not (free[index + step_c] and free[index + step_r * width]):
                return False
            index += step_c + step_r * width
            t_c += dt_c
            t_r += dt_r
            left_c -= 1
            left_r -= 1
        elif left_c and (not left_r or t_c < t_r):
            index += step_c
            t_c += dt_c
            left_c -= 1
        else:
            index += step_r * width
            t_r += dt_r
            left_r -= 1
        if not free[index]:
            return False
    return True
