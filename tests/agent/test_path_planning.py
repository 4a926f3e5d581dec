import heapq
import itertools
import math

import numpy as np
import pytest

from mindpalace.agent import path_planning
from mindpalace.agent.path_planning import GridMap, path_length, plan_path

RES = 0.05
RADIUS = 0.2


def walled_grid(gap_rows: slice | None) -> GridMap:
    """4.95 m x 3.95 m room split by a wall at x = 2.45..2.5 m, open only across `gap_rows`."""
    blocked = np.zeros((80, 100), dtype=bool)
    blocked[:, 49:51] = True
    if gap_rows is not None:
        blocked[gap_rows, 49:51] = False
    return GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=RES)


def sampled_cells(grid: GridMap, path: list[tuple[float, float]], step: float = 0.002) -> np.ndarray:
    """(row, col) of points every `step` metres along the path, in path order."""
    samples = []
    for a, b in itertools.pairwise(path):
        n = max(int(math.dist(a, b) / step), 1) + 1
        t = np.linspace(0.0, 1.0, n)[:, None]
        samples.append(np.asarray(a) + t * (np.asarray(b) - np.asarray(a)))
    pts = np.concatenate(samples)
    cols = np.floor((pts[:, 0] - grid.origin[0]) / grid.resolution + 0.5).astype(int)
    rows = np.floor((pts[:, 1] - grid.origin[1]) / grid.resolution + 0.5).astype(int)
    return np.stack([rows, cols], axis=1)


def blocked_along(grid: GridMap, path: list[tuple[float, float]]) -> np.ndarray:
    cells = sampled_cells(grid, path)
    rows, cols = grid.blocked.shape
    inside = (cells[:, 0] >= 0) & (cells[:, 0] < rows) & (cells[:, 1] >= 0) & (cells[:, 1] < cols)
    assert inside.all(), "path leaves the map"
    return grid.blocked[cells[:, 0], cells[:, 1]]


def test_cell_world_round_trip():
    grid = GridMap(blocked=np.zeros((10, 20), dtype=bool), origin=(-1.0, 2.0), resolution=0.1)
    assert grid.to_cell(-1.0, 2.0) == (0, 0)
    assert grid.to_cell(-0.26, 2.54) == (5, 7)
    assert grid.to_world(5, 7) == pytest.approx((-0.3, 2.5))
    assert grid.in_bounds(9, 19) and not grid.in_bounds(10, 0) and not grid.in_bounds(0, -1)


def test_inflation_is_an_exact_disc():
    blocked = np.zeros((11, 11), dtype=bool)
    blocked[5, 5] = True
    grown = GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=0.1).inflated(0.2).blocked
    rr, cc = np.mgrid[:11, :11]
    expected = (rr - 5) ** 2 + (cc - 5) ** 2 <= 4
    np.testing.assert_array_equal(grown, expected)
    assert grown.sum() == 13


def test_path_goes_round_the_wall_through_the_gap():
    grid = walled_grid(gap_rows=slice(60, 80))
    start, goal = (1.0, 1.0), (4.0, 1.0)
    path = plan_path(grid, start, goal, robot_radius=RADIUS)

    assert path is not None
    assert path[0] == pytest.approx(start) and path[-1] == pytest.approx(goal)
    assert not blocked_along(grid.inflated(RADIUS), path).any()
    # Through the gap (y >= 3 m) means going up and back: at least 2 * 2 m of climb plus 3 m across.
    assert path_length(path) > 5.0
    assert max(y for _, y in path) >= 3.0 - RADIUS


def test_shortcutting_leaves_few_waypoints():
    grid = walled_grid(gap_rows=slice(60, 80))
    path = plan_path(grid, (1.0, 1.0), (4.0, 1.0), robot_radius=RADIUS)
    assert path is not None and len(path) <= 6


def test_closed_gap_is_unreachable():
    assert plan_path(walled_grid(gap_rows=None), (1.0, 1.0), (4.0, 1.0), robot_radius=RADIUS) is None


def test_gap_narrower_than_the_robot_is_unreachable():
    grid = walled_grid(gap_rows=slice(60, 66))  # 0.3 m gap
    assert plan_path(grid, (1.0, 1.0), (4.0, 1.0), robot_radius=RADIUS) is None
    assert plan_path(grid, (1.0, 1.0), (4.0, 1.0), robot_radius=0.05) is not None


def test_no_corner_cutting_through_a_diagonal_wall():
    blocked = np.eye(10, dtype=bool)
    grid = GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=1.0)
    assert plan_path(grid, (1.0, 8.0), (8.0, 1.0), robot_radius=0.0) is None

    opened = blocked.copy()
    opened[5, 5] = False
    path = plan_path(GridMap(opened, (0.0, 0.0), 1.0), (1.0, 8.0), (8.0, 1.0), robot_radius=0.0)
    assert path is not None
    assert not blocked_along(GridMap(opened, (0.0, 0.0), 1.0), path).any()


def test_shortcuts_do_not_graze_a_blocked_corner():
    blocked = np.zeros((5, 5), dtype=bool)
    blocked[1, 2] = True  # touches the diagonal (0, 0)-(3, 3) only at the corner point (1.5, 1.5)
    grid = GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=1.0)
    path = plan_path(grid, (0.0, 0.0), (3.0, 3.0), robot_radius=0.0)
    assert path is not None
    assert len(path) > 2
    assert not blocked_along(grid, path).any()


def test_goal_inside_obstacle_needs_tolerance():
    blocked = np.zeros((80, 100), dtype=bool)
    blocked[20:41, 40:61] = True  # 1 m block centred on (2.5, 1.5)
    grid = GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=RES)
    start, goal = (0.5, 0.5), (2.5, 1.5)
    radius = 0.1

    assert plan_path(grid, start, goal, robot_radius=radius) is None
    path = plan_path(grid, start, goal, robot_radius=radius, goal_tolerance=1.0)

    assert path is not None and path[0] == pytest.approx(start)
    inflated = grid.inflated(radius)
    assert not blocked_along(inflated, path).any()
    free_r, free_c = np.nonzero(~inflated.blocked)
    nearest = np.hypot(free_c * RES - goal[0], free_r * RES - goal[1]).min()
    assert math.dist(path[-1], goal) == pytest.approx(nearest)
    assert math.dist(path[-1], goal) <= 1.0


def test_tolerance_picks_nearest_reachable_cell_when_goal_is_walled_in():
    blocked = np.zeros((80, 100), dtype=bool)
    blocked[20:41, 40] = blocked[20:41, 60] = True  # closed box around (2.5, 1.5)
    blocked[20, 40:61] = blocked[40, 40:61] = True
    grid = GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=RES)
    start, goal = (0.5, 0.5), (2.5, 1.5)

    assert plan_path(grid, start, goal, robot_radius=0.1) is None
    path = plan_path(grid, start, goal, robot_radius=0.1, goal_tolerance=0.8)
    assert path is not None
    end_x, end_y = path[-1]
    assert not (1.9 < end_x < 3.1 and 0.9 < end_y < 2.1), "ended inside the closed box"
    # The box walls sit 0.5 m from the goal; the nearest cell outside their inflation is 0.65 m off.
    assert math.dist(path[-1], goal) == pytest.approx(0.65)


def test_start_inside_inflated_zone_escapes_without_crossing_obstacles():
    grid = walled_grid(gap_rows=slice(60, 80))
    start, goal = (2.3, 1.0), (1.0, 1.0)  # 0.15 m from the wall, robot radius 0.2
    inflated = grid.inflated(RADIUS)
    assert inflated.blocked[grid.to_cell(*start)]

    path = plan_path(grid, start, goal, robot_radius=RADIUS)

    assert path is not None
    assert path[0] == pytest.approx(start) and path[-1] == pytest.approx(goal)
    assert not blocked_along(grid, path).any()
    in_zone = blocked_along(inflated, path)
    first_free = int(np.argmin(in_zone))
    assert not in_zone[first_free:].any(), "path re-enters the inflated zone after escaping"
    assert first_free <= 0.1 / 0.002, "escape should take the nearest way out (about 0.05 m)"


def test_escape_follows_a_bent_corridor_around_obstacles():
    blocked = np.zeros((30, 50), dtype=bool)
    blocked[:, :31] = True
    blocked[5:16, 10:12] = False  # corridor up from the start...
    blocked[14:16, 10:31] = False  # ...then right into the open; too narrow to be free of inflation
    grid = GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=RES)
    start, goal = grid.to_world(5, 10), grid.to_world(20, 45)

    path = plan_path(grid, start, goal, robot_radius=RADIUS)

    assert path is not None and path[-1] == pytest.approx(goal)
    assert not blocked_along(grid, path).any()


def test_start_sealed_in_by_obstacles_is_unreachable():
    blocked = np.zeros((40, 40), dtype=bool)
    blocked[18:23, 18] = blocked[18:23, 22] = blocked[18, 18:23] = blocked[22, 18:23] = True
    grid = GridMap(blocked=blocked, origin=(0.0, 0.0), resolution=RES)
    assert plan_path(grid, (1.0, 1.0), (0.2, 0.2), robot_radius=0.2) is None


def test_large_grid_plan_is_clear_and_visits_each_cell_once(monkeypatch):
    """A* on 60,000 cells closes each cell at most once: at most 8 pushes a cell (a quadratic blow-up breaks this)."""
    rng = np.random.default_rng(7)
    blocked = np.zeros((200, 300), dtype=bool)
    blocked[:150, 100:102] = True
    blocked[50:, 200:202] = True
    for r, c in rng.integers(0, [194, 294], size=(60, 2)):
        blocked[r : r + 6, c : c + 6] = True
    grid = GridMap(blocked=blocked, origin=(-5.0, -3.0), resolution=RES)
    start, goal = (-4.8, -2.8), (9.8, 6.8)
    blocked[grid.to_cell(*start)] = blocked[grid.to_cell(*goal)] = False

    pushes = 0
    push = heapq.heappush

    def counted(heap, item):
        nonlocal pushes
        pushes += 1
        push(heap, item)

    monkeypatch.setattr(path_planning.heapq, "heappush", counted)
    path = plan_path(grid, start, goal, robot_radius=RADIUS, goal_tolerance=0.5)

    assert path is not None
    assert not blocked_along(grid.inflated(RADIUS), path).any()
    assert 0 < pushes <= 8 * blocked.size


def test_out_of_bounds_start_is_unreachable():
    assert plan_path(walled_grid(slice(60, 80)), (-1.0, 1.0), (1.0, 1.0), robot_radius=RADIUS) is None


def test_path_length():
    assert path_length([(0.0, 0.0), (3.0, 4.0), (3.0, 5.0)]) == pytest.approx(6.0)
    assert path_length([(1.0, 1.0)]) == 0.0


def test_a_stop_in_sight_of_furniture_comes_before_a_nearer_one_behind_its_wall():
    """A dresser against the wall (x 2.5-3.0 m), its open drawers out to x = 3.3 m: the free cell nearest the
    dresser's centre is behind the wall, where the robot would not see it; asked to see it, the path ends on its side of the wall."""
    grid = walled_grid(slice(60, 75))
    dresser = ((2.5, 1.0), (3.3, 2.0))  # with its drawers
    grid.blocked[20:40, 51:66] = True
    centre = (2.75, 1.5)
    behind = plan_path(grid, (4.0, 1.5), centre, robot_radius=RADIUS, goal_tolerance=1.0)
    assert behind is not None and behind[-1][0] < 2.45  # nearest the centre: the far side of the wall
    seen = plan_path(grid, (4.0, 1.5), centre, robot_radius=RADIUS, goal_tolerance=1.0, view_box=dresser)
    assert seen is not None and seen[-1][0] > 2.5  # on the dresser's side of the wall (its front or its end)
    # Where no cell in sight can be reached, the stop is still made where it can be.
    grid.blocked[:, 66:] = True
    assert plan_path(grid, (1.0, 1.5), centre, robot_radius=RADIUS, goal_tolerance=1.0, view_box=dresser) is not None
