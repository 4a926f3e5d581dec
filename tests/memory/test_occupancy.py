"""Occupancy on a real OctoMap: synthetic rooms seen from inside, costmap, frontiers, persistence.

What a frame costs is a benchmark, not a test: `python tests/memory/test_occupancy.py` runs `benchmark_integrate()`
and prints it per ray budget; `mindpalace perf perception` times the octree stage of the whole write path.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mindpalace.memory.spatial.occupancy import Frontier, OccupancyConfig, OccupancyMap, subsample_rays

ORIGIN = np.array([2.01, 1.49, 1.2])  # sensor inside the 4 m x 3 m room, off voxel borders
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_rgbd" / "RGBD"
DOOR = (1.0, 1.9, 2.0)  # y_min, y_max, top of the doorway cut into the x = 4 wall
# Every end voxel gets a full ray: one frame sees the whole room.
DENSE = OccupancyConfig(max_rays_per_frame=50_000, max_free_rays_per_frame=50_000)


def _grid(a_range: tuple[float, float], b_range: tuple[float, float], spacing: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.arange(a_range[0] + spacing / 2, a_range[1], spacing)
    b = np.arange(b_range[0] + spacing / 2, b_range[1], spacing)
    aa, bb = np.meshgrid(a, b, indexing="ij")
    return aa.ravel(), bb.ravel()


def room_points(
    width: float = 4.0,
    depth: float = 3.0,
    height: float = 2.5,
    spacing: float = 0.025,
    door: tuple[float, float, float] | None = None,
    floor: bool = True,
    walls: bool = True,
    ceiling: bool = False,
) -> np.ndarray:
    """Surface points of the box [0, width] x [0, depth] x [0, height]; `door` is cut from the x = width wall."""
    parts = []
    if floor:
        x, y = _grid((0, width), (0, depth), spacing)
        parts.append(np.stack([x, y, np.zeros_like(x)], axis=1))
    if ceiling:
        x, y = _grid((0, width), (0, depth), spacing)
        parts.append(np.stack([x, y, np.full_like(x, height - 0.1)], axis=1))
    if walls:
        y, z = _grid((0, depth), (0, height), spacing)
        parts.append(np.stack([np.zeros_like(y), y, z], axis=1))
        far = np.stack([np.full_like(y, width), y, z], axis=1)
        if door is not None:
            far = far[~((y > door[0]) & (y < door[1]) & (z < door[2]))]
        parts.append(far)
        x, z = _grid((0, width), (0, height), spacing)
        parts.append(np.stack([x, np.zeros_like(x), z], axis=1))
        parts.append(np.stack([x, np.full_like(x, depth), z], axis=1))
    return np.concatenate(parts)


def box_points(lo: tuple[float, float, float], hi: tuple[float, float, float], spacing: float = 0.025) -> np.ndarray:
    """Points on the six faces of an axis-aligned box."""
    parts = []
    for axis in range(3):
        a, b = [i for i in range(3) if i != axis]
        u, v = _grid((lo[a], hi[a]), (lo[b], hi[b]), spacing)
        for value in (lo[axis], hi[axis]):
            face = np.empty((len(u), 3))
            face[:, axis], face[:, a], face[:, b] = value, u, v
            parts.append(face)
    return np.concatenate(parts)


def cell_state(known: np.ndarray, grid, x: float, y: float) -> int:
    row, col = grid.to_cell(x, y)
    return int(known[row, col])


@pytest.fixture(scope="module")
def doorway_room() -> OccupancyMap:
    occupancy = OccupancyMap(DENSE)
    occupancy.integrate(room_points(door=DOOR), ORIGIN)
    return occupancy


# ---------------------------------------------------------------------------------------------- octree


def test_walls_occupied_space_between_free_behind_unknown(doorway_room: OccupancyMap) -> None:
    rng = np.random.default_rng(1)
    # Wall points in the band and away from corners, where rays graze other wall voxels.
    wall = [(0.0, rng.uniform(0.4, 2.6), rng.uniform(0.1, 2.3)) for _ in range(60)]
    wall += [(rng.uniform(0.4, 3.6), 3.0, rng.uniform(0.1, 2.3)) for _ in range(60)]
    assert all(doorway_room.is_occupied(p) is True for p in wall)
    for p in wall:
        for fraction in (0.25, 0.5, 0.8):
            between = ORIGIN + fraction * (np.array(p) - ORIGIN)
            assert doorway_room.is_occupied(between) is False, (p, fraction)
    for behind in [(4.5, 0.5, 1.0), (-0.5, 1.5, 1.0), (2.0, 3.5, 0.5), (2.0, -0.4, 1.5), (2.0, 1.5, -0.5)]:
        assert doorway_room.is_occupied(behind) is None, behind
    # Through the doorway nothing was hit, and nothing beyond the wall line was crossed either.
    assert doorway_room.is_occupied((4.3, 1.45, 1.0)) is None


def test_rays_beyond_max_range_mark_free_space_but_no_hit() -> None:
    occupancy = OccupancyMap(OccupancyConfig(max_range=2.0, max_rays_per_frame=50_000, max_free_rays_per_frame=50_000))
    origin = np.array([0.01, 0.01, 1.0])
    y, z = _grid((-1.0, 1.0), (0.5, 1.5), 0.025)
    near = np.stack([np.full_like(y, 1.0), y, z], axis=1)  # a wall 1 m away (hit)
    far = np.stack([np.full_like(y, -3.0), y, z], axis=1)  # a wall 3 m away, behind the sensor (clipped)
    assert occupancy.integrate(np.concatenate([near, far]), origin) > 0
    assert occupancy.is_occupied((1.0, 0.0, 1.0)) is True
    assert occupancy.is_occupied((-3.0, 0.0, 1.0)) is None  # the end point was never reached
    assert occupancy.is_occupied((-2.5, 0.0, 1.0)) is None  # nor anything past max_range
    assert occupancy.is_occupied((-1.5, 0.0, 1.0)) is False  # free up to max_range
    assert len(occupancy.occupied_points()) > 0
    assert np.all(occupancy.occupied_points()[:, 0] > 0)  # no hit on the clipped side


def test_invalid_points_are_dropped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    occupancy = OccupancyMap(DENSE)
    points = np.array([[1.0, 0.0, 1.0], [np.nan, 0.0, 1.0], [1.0, np.inf, 1.0], [1.0, 0.5, 1.0], ORIGIN * 0])
    with caplog.at_level(logging.WARNING):
        cast = occupancy.integrate(points, np.zeros(3))
    assert cast == 2  # the NaN, the inf and the zero-length ray are gone
    assert "dropped 3 of 5" in caplog.text
    assert occupancy.is_occupied((1.0, 0.0, 1.0)) is True
    assert occupancy.is_occupied((0.0, 0.0, 0.0)) is False  # the sensor's own voxel is not a hit


def test_fully_invalid_input_leaves_the_map_untouched() -> None:
    occupancy = OccupancyMap(DENSE)
    occupancy.integrate(room_points(), ORIGIN)
    before_leaves = occupancy.num_leaves
    before_known = occupancy.costmap()[1]
    bad = np.full((100, 3), np.nan)
    bad[::2, 0] = np.inf
    assert occupancy.integrate(bad, ORIGIN) == 0
    assert occupancy.integrate(np.empty((0, 3)), ORIGIN) == 0
    assert occupancy.num_leaves == before_leaves
    assert occupancy.costmap()[1] is before_known  # the cache is still valid: nothing changed
    fresh = OccupancyMap()
    assert fresh.integrate(np.full((10, 3), np.nan), ORIGIN) == 0
    assert fresh.num_leaves == 0 and fresh.is_occupied(ORIGIN) is None


@pytest.mark.parametrize(
    "points, origin",
    [
        (np.zeros((10, 2)), np.zeros(3)),
        (np.zeros(3), np.zeros(3)),
        (np.zeros((4, 3, 1)), np.zeros(3)),
        (np.ones((10, 3)), np.zeros(2)),
        (np.ones((10, 3)), np.array([0.0, np.nan, 0.0])),
        (np.ones((10, 3)), np.array([0.0, 0.0, 1e9])),
    ],
)
def test_wrong_shapes_and_bad_origins_are_rejected(points: np.ndarray, origin: np.ndarray) -> None:
    occupancy = OccupancyMap()
    with pytest.raises(ValueError):
        occupancy.integrate(points, origin)
    assert occupancy.num_leaves == 0


def test_an_empty_map_answers_unknown() -> None:
    occupancy = OccupancyMap()
    grid, known = occupancy.costmap()
    assert known.shape == (1, 1) and known[0, 0] == -1 and not grid.blocked.any()
    assert occupancy.frontiers() == [] and len(occupancy.occupied_points()) == 0
    assert occupancy.is_occupied((1.0, 2.0, 0.5)) is None
    assert occupancy.is_occupied((1e9, 0.0, 0.0)) is None  # beyond what an octree can address
    with pytest.raises(ValueError):
        occupancy.is_occupied((np.nan, 0.0, 0.0))
    with pytest.raises(ValueError):
        occupancy.costmap(bounds=(1.0, 0.0, 0.0, 1.0))  # x_max < x_min


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        OccupancyConfig(resolution=0.0)
    with pytest.raises(ValueError):
        OccupancyConfig(floor_z=1.0, robot_height=0.5)
    with pytest.raises(ValueError):
        OccupancyConfig(max_rays_per_frame=0)
    with pytest.raises(ValueError):
        OccupancyMap(OccupancyConfig(floor_z=0.05, robot_height=0.06))  # no voxel centre in between


# ---------------------------------------------------------------------------------------------- rays


def test_subsample_rays_is_deterministic_and_bounded() -> None:
    points = np.random.default_rng(0).normal(size=(10_000, 3))
    a = subsample_rays(points, 1500, 7)
    assert a.shape == (1500, 3)
    assert np.array_equal(a, subsample_rays(points, 1500, 7))
    assert not np.array_equal(a, subsample_rays(points, 1500, 8))
    assert np.array_equal(subsample_rays(points[:100], 1500, 7), points[:100])  # fewer than the budget: all


def test_integrate_casts_at_most_max_rays_and_the_frames_differ() -> None:
    occupancy = OccupancyMap(OccupancyConfig(max_rays_per_frame=1500))
    points = room_points()
    assert occupancy.integrate(points, ORIGIN) == 1500
    leaves_after_one = occupancy.num_leaves
    occupancy.integrate(points, ORIGIN)
    assert occupancy.num_leaves > leaves_after_one  # the second frame cast other rays


def test_rays_beyond_the_free_budget_add_only_their_hit() -> None:
    occupancy = OccupancyMap(OccupancyConfig(max_rays_per_frame=1000, max_free_rays_per_frame=1))
    y, z = _grid((-1.0, 1.0), (0.5, 1.5), 0.05)  # 40 x 20 points, one per voxel, on a wall 2 m away
    wall = np.stack([np.full_like(y, 2.0), y, z], axis=1)
    assert occupancy.integrate(wall, np.array([0.01, 0.01, 1.0])) == len(wall)
    assert all(occupancy.is_occupied(p) is True for p in wall)  # every hit is in
    free = [occupancy.is_occupied(0.5 * p + [0.005, 0.005, 0.5]) for p in wall]
    assert free.count(False) <= 25 and free.count(None) >= len(wall) - 25  # one ray walked, near its line only
    known = occupancy.costmap(inflate=False)[1]
    assert np.count_nonzero(known == 0) <= 61  # one traced ray: one line of cells (at most 40 + 20 + 1 of them)


def test_same_input_gives_the_same_map() -> None:
    frames = [(room_points(door=DOOR), ORIGIN), (room_points(door=DOOR), ORIGIN + [0.5, -0.3, 0.0])]
    maps = []
    for _ in range(2):
        occupancy = OccupancyMap(OccupancyConfig(max_rays_per_frame=1500))
        for points, origin in frames:
            occupancy.integrate(points, origin)
        maps.append(occupancy)
    a, b = (np.array(sorted(map(tuple, m.occupied_points()))) for m in maps)
    assert len(a) > 100 and np.array_equal(a, b)
    (grid_a, known_a), (grid_b, known_b) = maps[0].costmap(), maps[1].costmap()
    assert np.array_equal(known_a, known_b) and np.array_equal(grid_a.blocked, grid_b.blocked)
    assert grid_a.origin == grid_b.origin
    other = OccupancyMap(OccupancyConfig(max_rays_per_frame=1500, seed=1))
    for points, origin in frames:
        other.integrate(points, origin)
    assert not np.array_equal(np.array(sorted(map(tuple, other.occupied_points()))), a)


# ---------------------------------------------------------------------------------------------- costmap


def test_costmap_blocks_walls_frees_the_room_and_leaves_the_unseen_unknown(doorway_room: OccupancyMap) -> None:
    raw, known = doorway_room.costmap(bounds=(-1.0, -1.0, 5.0, 4.0), inflate=False)
    assert known.dtype == np.int8 and known.shape == raw.blocked.shape == (101, 121)
    assert np.array_equal(raw.blocked, known == 1)
    for y in np.arange(0.05, 2.95, 0.05):
        assert cell_state(known, raw, 0.01, y) == 1  # the x = 0 wall
        if DOOR[0] + 0.05 < y < DOOR[1] - 0.05:
            assert cell_state(known, raw, 4.01, y) == -1  # the doorway is no wall, and nothing was seen in it
        elif not DOOR[0] - 0.05 < y < DOOR[1] + 0.05:
            assert cell_state(known, raw, 4.01, y) == 1
    for x in np.arange(0.05, 3.95, 0.05):
        assert cell_state(known, raw, x, 0.01) == 1 and cell_state(known, raw, x, 3.01) == 1
    inside = known[
        raw.to_cell(0.1, 0.1)[0] : raw.to_cell(0.1, 2.9)[0] + 1, raw.to_cell(0.1, 0.1)[1] : raw.to_cell(3.9, 0.1)[1] + 1
    ]
    assert np.all(inside == 0)  # every column of the room was seen and holds no obstacle
    for outside in [(-0.5, 1.5), (4.5, 1.5), (2.0, 3.5), (2.0, -0.5), (-0.9, -0.9)]:
        assert cell_state(known, raw, *outside) == -1


def test_costmap_inflates_by_the_robot_radius(doorway_room: OccupancyMap) -> None:
    inflated, known = doorway_room.costmap()
    raw, known_raw = doorway_room.costmap(inflate=False)
    assert np.array_equal(known, known_raw) and inflated.origin == raw.origin
    assert np.array_equal(inflated.blocked, raw.inflated(0.25).blocked)
    wall_x = 0.025  # centre of the x = 0 wall's cells
    for dx, blocked in [(0.2, True), (0.25, True), (0.3, False), (1.0, False)]:
        row, col = inflated.to_cell(wall_x + dx, 1.5)
        assert bool(inflated.blocked[row, col]) is blocked, dx
        assert not raw.blocked[row, col]
    assert not inflated.blocked[inflated.to_cell(*ORIGIN[:2])]


def test_floor_and_ceiling_are_not_obstacles_but_low_objects_are() -> None:
    occupancy = OccupancyMap(DENSE)
    points = np.concatenate([room_points(walls=False, ceiling=True), box_points((1.0, 0.5, 0.0), (1.3, 0.8, 0.15))])
    occupancy.integrate(points, ORIGIN)
    assert occupancy.is_occupied((2.5, 2.0, 0.0)) is True  # the floor is a surface in 3D...
    grid, known = occupancy.costmap(inflate=False)
    assert cell_state(known, grid, 2.5, 2.0) == 0  # ...and free floor in 2D
    assert cell_state(known, grid, 1.15, 0.65) == 1  # a 15 cm box is an obstacle
    assert cell_state(known, grid, 1.12, 0.62) == 1
    assert np.count_nonzero(known == 1) < 60  # only the box's footprint (6 x 6 cells + its edges)


def test_costmap_is_cached_until_the_next_integrate(doorway_room: OccupancyMap) -> None:
    first = doorway_room.costmap()
    assert doorway_room.costmap() is first
    assert not first[1].flags.writeable and not first[0].blocked.flags.writeable
    occupancy = OccupancyMap(DENSE)
    occupancy.integrate(room_points(), ORIGIN)
    before = occupancy.costmap()
    occupancy.integrate(box_points((1.0, 1.0, 0.0), (1.2, 1.2, 0.5)), ORIGIN)
    after = occupancy.costmap()
    assert after is not before and after[1][after[0].to_cell(1.1, 1.1)] == 1


def test_a_removed_obstacle_is_cleared_from_the_costmap() -> None:
    """Rays through where an obstacle was flip its voxels to free; the incremental projection sees it."""
    occupancy = OccupancyMap(DENSE)
    room = room_points()
    occupancy.integrate(np.concatenate([room, box_points((2.8, 1.2, 0.0), (3.1, 1.6, 1.0))]), ORIGIN)
    grid, known = occupancy.costmap(inflate=False)
    assert cell_state(known, grid, 2.95, 1.4) == 1
    assert cell_state(known, grid, 2.81, 1.4) == 1
    for _ in range(4):  # the box is gone: the far wall is seen through where it stood
        occupancy.integrate(room, ORIGIN)
    grid, known = occupancy.costmap(inflate=False)
    assert cell_state(known, grid, 2.81, 1.4) == 0
    assert np.count_nonzero(known[2:-2, 2:-2] == 1) == 0  # nothing left inside the walls
    assert occupancy.is_occupied((2.81, 1.4, 0.5)) is False


def test_incremental_projection_matches_a_projection_of_the_whole_octree(tmp_path) -> None:
    occupancy = OccupancyMap(OccupancyConfig(max_rays_per_frame=1500))
    rng = np.random.default_rng(3)
    room = room_points(door=DOOR)
    clutter = box_points((0.8, 0.6, 0.0), (1.4, 1.0, 0.7))
    for i in range(12):
        origin = np.array([rng.uniform(1.0, 3.0), rng.uniform(0.8, 2.2), 1.2])
        occupancy.integrate(np.concatenate([room, clutter]) if i < 6 else room, origin)
        if i % 3 == 0:
            occupancy.costmap()  # projections along the way
    grid, known = occupancy.costmap(inflate=False)
    path = tmp_path / "map.ot"
    occupancy.save(path)
    rebuilt = OccupancyMap.load(path, occupancy.config)
    known_r = rebuilt.costmap(bounds=_bounds(grid, known), inflate=False)[1]
    assert np.array_equal(known == 1, known_r == 1)  # obstacles: exact
    # Known space is traced in 2D when rays are cast, and read from voxels after a load: near-identical.
    assert np.mean((known == -1) == (known_r == -1)) > 0.995


def test_real_frames_mark_their_surfaces_and_the_space_before_them() -> None:
    frames = _real_frames()
    if not frames:
        pytest.skip(f"the real RGB-D fixtures are not at {REAL.resolve()}")
    occupancy = OccupancyMap()
    for points, origin in frames:
        assert occupancy.integrate(points, origin) == 1500
    points, origin = frames[-1]
    sample = points[np.random.default_rng(0).choice(len(points), 300, replace=False)]
    hits = [occupancy.is_occupied(p) for p in sample]
    assert hits.count(True) / len(hits) > 0.85  # real noise; 1,500 of ~4,200 points a frame
    before = [occupancy.is_occupied(origin + 0.5 * (p - origin)) for p in sample]
    assert before.count(False) / len(before) > 0.9  # half-way to a surface is free space
    assert before.count(True) / len(before) < 0.02


def _bounds(grid, known) -> tuple[float, float, float, float]:
    rows, cols = known.shape
    res = grid.resolution
    return (grid.origin[0], grid.origin[1], grid.origin[0] + (cols - 1) * res, grid.origin[1] + (rows - 1) * res)


# ---------------------------------------------------------------------------------------------- frontiers


def test_an_open_doorway_is_a_frontier_seen_from_free_space(doorway_room: OccupancyMap) -> None:
    frontiers = doorway_room.frontiers()
    assert frontiers and all(isinstance(f, Frontier) for f in frontiers)
    assert [f.size for f in frontiers] == sorted((f.size for f in frontiers), reverse=True)
    assert all(f.size >= doorway_room.config.min_frontier_cells and f.cells.shape == (f.size, 2) for f in frontiers)
    door = frontiers[0]
    cx, cy = door.centroid
    assert 3.85 < cx < 4.0 and DOOR[0] < cy < DOOR[1]
    assert door.size >= (DOOR[1] - DOOR[0]) / 0.05 - 2
    grid, known = doorway_room.costmap()
    assert np.all(known[door.cells[:, 0], door.cells[:, 1]] == 0)
    x, y, yaw = door.view_pose
    row, col = grid.to_cell(x, y)
    assert known[row, col] == 0 and not grid.blocked[row, col]  # free, and the robot fits there
    assert 0.7 < math.hypot(cx - x, cy - y) < 1.3  # about frontier_view_distance away
    assert abs(math.remainder(yaw - math.atan2(cy - y, cx - x), 2 * math.pi)) < 1e-9
    assert math.cos(yaw) > 0.5  # looking out through the doorway (+x)
    # A closed room of the same size has no frontier at all.
    closed = OccupancyMap(DENSE)
    closed.integrate(room_points(), ORIGIN)
    assert closed.frontiers() == []


def test_a_view_pose_sees_its_frontier_past_no_wall() -> None:
    """A second room behind the doorway room's south wall has free cells as near the ideal view
    distance as the doorway room's own: the view pose must be on the side that sees the doorway."""
    config = replace(DENSE, frontier_view_distance=1.75)
    occupancy = OccupancyMap(config)
    occupancy.integrate(room_points(door=DOOR), ORIGIN)
    occupancy.integrate(room_points() - [0.0, 3.0, 0.0], ORIGIN - [0.0, 3.0, 0.0])
    door = max(occupancy.frontiers(), key=lambda f: f.centroid[0])
    assert 3.85 < door.centroid[0] < 4.0
    x, y, _ = door.view_pose
    assert y > 0.05  # in the doorway's room, not behind the wall at y = 0
    grid, known = occupancy.costmap()
    assert known[grid.to_cell(x, y)] == 0


def test_the_view_pose_is_the_best_candidate_that_sees_the_frontier() -> None:
    from mindpalace.core.grid import GridMap

    known = np.zeros((40, 40), dtype=np.int8)
    known[20, :30] = 1  # a wall along y = 1.0 m, open beyond x = 1.5 m
    grid = GridMap(blocked=known == 1, origin=(0.0, 0.0), resolution=0.05)
    # Two candidates 1 m from the frontier at (1.0, 1.5): the first (it wins ties) is behind the wall.
    sx, sy = np.array([1.0, 1.0]), np.array([0.5, 2.5])
    x, y, yaw = OccupancyMap()._view_pose(known, grid, sx, sy, 1.0, 1.5)
    assert (x, y) == (1.0, 2.5) and yaw == pytest.approx(-math.pi / 2)


def test_frontiers_follow_new_observations() -> None:
    occupancy = OccupancyMap(DENSE)
    occupancy.integrate(room_points(door=DOOR), ORIGIN)
    assert len(occupancy.frontiers()) == 1
    # A corridor seen through the doorway: the frontier moves out to its end.
    corridor = np.concatenate(
        [
            room_points(width=3.0, depth=0.9, walls=False) + [4.0, 1.0, 0.0],
            box_points((4.0, 0.95, 0.0), (7.0, 1.0, 2.5)),
            box_points((4.0, 1.9, 0.0), (7.0, 1.95, 2.5)),
        ]
    )
    occupancy.integrate(corridor, ORIGIN)
    frontiers = occupancy.frontiers()
    assert frontiers and frontiers[0].centroid[0] > 5.0


# ---------------------------------------------------------------------------------------------- persistence


@pytest.mark.parametrize("suffix", [".bt", ".ot"])
def test_save_and_load_round_trip(doorway_room: OccupancyMap, tmp_path, suffix: str) -> None:
    path = tmp_path / f"occupancy{suffix}"
    doorway_room.save(path)
    loaded = OccupancyMap.load(path, doorway_room.config)
    rng = np.random.default_rng(5)
    queries = rng.uniform([-0.5, -0.5, -0.3], [4.5, 3.5, 2.7], size=(3000, 3))
    answers = [doorway_room.is_occupied(q) for q in queries]
    assert set(answers) == {True, False, None}  # the queries cover all three states
    assert [loaded.is_occupied(q) for q in queries] == answers
    a, b = (np.array(sorted(map(tuple, m.occupied_points()))) for m in (doorway_room, loaded))
    assert np.allclose(a, b)
    grid, known = doorway_room.costmap(inflate=False)
    grid_l = loaded.costmap(bounds=_bounds(grid, known), inflate=False)[0]
    assert np.array_equal(grid.blocked, grid_l.blocked)
    assert loaded.frontiers()[0].size == doorway_room.frontiers()[0].size


def test_saving_a_binary_map_keeps_the_live_probabilities(tmp_path) -> None:
    """.bt holds max-likelihood states: written from the live tree, one weak hit would become certain."""
    origin = np.array([0.01, 0.01, 1.0])
    y, z = _grid((-0.5, 0.5), (0.5, 1.5), 0.05)
    first_wall = np.stack([np.full_like(y, 2.0), y, z], axis=1)
    y, z = _grid((-0.75, 0.75), (0.25, 1.75), 0.025)
    second_wall = np.stack([np.full_like(y, 3.0), y, z], axis=1)  # seen through where the first one was
    saved, unsaved = OccupancyMap(DENSE), OccupancyMap(DENSE)
    for occupancy in (saved, unsaved):
        occupancy.integrate(first_wall, origin)  # one hit each: occupied, but only just
    assert saved.is_occupied(first_wall[100]) is True
    saved.save(tmp_path / "m.bt")
    for occupancy in (saved, unsaved):
        for _ in range(3):  # three misses outweigh one hit
            occupancy.integrate(second_wall, origin)
    assert unsaved.is_occupied(first_wall[100]) is False
    assert [saved.is_occupied(p) for p in first_wall] == [unsaved.is_occupied(p) for p in first_wall]


def test_load_uses_the_files_resolution_and_rejects_bad_files(doorway_room: OccupancyMap, tmp_path, caplog) -> None:
    path = tmp_path / "m.bt"
    doorway_room.save(path)
    with caplog.at_level(logging.WARNING):
        loaded = OccupancyMap.load(path, OccupancyConfig(resolution=0.1))
    assert loaded.config.resolution == pytest.approx(0.05) and "resolution" in caplog.text
    assert loaded.is_occupied((0.0, 1.5, 1.0)) is True
    with pytest.raises(ValueError):
        doorway_room.save(tmp_path / "m.png")
    (tmp_path / "junk.bt").write_text("not a map")
    with pytest.raises(ValueError):
        OccupancyMap.load(tmp_path / "junk.bt")
    with pytest.raises(FileNotFoundError):
        OccupancyMap.load(tmp_path / "missing.ot")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.bt", "m.bt"]  # no temporary files left


def test_size_is_reported(doorway_room: OccupancyMap) -> None:
    assert doorway_room.num_leaves > 10_000
    assert doorway_room.memory_bytes > doorway_room.num_leaves * 8
    assert OccupancyMap().num_leaves == 0


# ---------------------------------------------------------------------------------------------- speed


def _apartment_boxes() -> np.ndarray:
    """(B, 2, 3) boxes of a 10 m x 8 m flat: floor, ceiling, walls with doorways, furniture."""
    boxes = [
        ((-0.1, -0.1, -0.1), (10.1, 8.1, 0.0)),
        ((-0.1, -0.1, 2.5), (10.1, 8.1, 2.6)),  # floor, ceiling
        ((-0.1, -0.1, 0.0), (0.0, 8.1, 2.5)),
        ((10.0, -0.1, 0.0), (10.1, 8.1, 2.5)),
        ((-0.1, -0.1, 0.0), (10.1, 0.0, 2.5)),
        ((-0.1, 8.0, 0.0), (10.1, 8.1, 2.5)),
        ((4.0, 0.0, 0.0), (4.1, 3.0, 2.5)),
        ((4.0, 3.9, 0.0), (4.1, 8.0, 2.5)),  # wall x = 4, door y 3..3.9
        ((4.1, 4.5, 0.0), (7.0, 4.6, 2.5)),
        ((7.9, 4.5, 0.0), (10.0, 4.6, 2.5)),  # wall y = 4.5, door x 7..7.9
        ((1.0, 1.0, 0.0), (2.2, 1.8, 0.75)),
        ((0.0, 6.0, 0.0), (2.0, 6.9, 0.8)),  # table, sofa
        ((6.0, 0.0, 0.0), (7.5, 0.5, 2.0)),
        ((8.5, 6.0, 0.0), (10.0, 8.0, 0.6)),  # cabinet, bed
    ]
    return np.array(boxes, dtype=np.float64)


def render_depth_points(
    boxes: np.ndarray,
    position: np.ndarray,
    yaw: float,
    stride: int = 4,
    size: tuple[int, int] = (320, 240),
    hfov: float = math.radians(69.0),
    pitch: float = math.radians(-15.0),
    max_depth: float = 5.0,
) -> np.ndarray:
    """World points of a pinhole depth camera's strided pixels, ray-cast against axis-aligned boxes."""
    width, height = size
    f = width / 2 / math.tan(hfov / 2)
    v, u = np.mgrid[0:height:stride, 0:width:stride]
    # Optical frame (x right, y down, z forward) -> body (x forward, y left, z up), then pitch and yaw.
    d = np.stack([np.ones(u.size), -(u.ravel() - width / 2) / f, -(v.ravel() - height / 2) / f], axis=1)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    cp, sp, cy, sy = math.cos(pitch), math.sin(pitch), math.cos(yaw), math.sin(yaw)
    pitch_m = np.array([[cp, 0, -sp], [0, 1, 0], [sp, 0, cp]])
    yaw_m = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    d = d @ (yaw_m @ pitch_m).T
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (boxes[None, :, 0, :] - position) / d[:, None, :]
        t2 = (boxes[None, :, 1, :] - position) / d[:, None, :]
    near = np.nanmax(np.minimum(t1, t2), axis=2)
    far = np.nanmin(np.maximum(t1, t2), axis=2)
    t = np.where((far >= near) & (far > 0), np.maximum(near, 0), np.inf).min(axis=1)
    keep = np.isfinite(t) & (t <= max_depth)
    return position + d[keep] * t[keep, None]


def _walks(frames: int, seed: int) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Camera frames in the flat: a smooth drive (2 cm and 1.7 degrees a frame) and random jumps (worst case)."""
    boxes = _apartment_boxes()
    rng = np.random.default_rng(seed)
    jumps = []
    while len(jumps) < frames:
        position = np.array([rng.uniform(0.5, 9.5), rng.uniform(0.5, 7.5), 1.2])
        if not np.any(np.all((position >= boxes[2:, 0] - 0.3) & (position <= boxes[2:, 1] + 0.3), axis=1)):
            jumps.append((render_depth_points(boxes, position, rng.uniform(-math.pi, math.pi)), position))
    drive, position, yaw = [], np.array([1.5, 1.5, 1.2]), 0.3
    for _ in range(frames):
        yaw += 0.03
        position = position + 0.02 * np.array([math.cos(yaw), math.sin(yaw), 0.0])
        drive.append((render_depth_points(boxes, position, yaw), position))
    return {"drive": drive, "jumps": jumps}


def _real_frames(stride: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    """The shared Redwood living-room frames at 320x240, every `stride`-th pixel, in their world frame."""
    if not (REAL / "trajectory.log").is_file():
        return []
    from PIL import Image

    rows = [line.split() for line in (REAL / "trajectory.log").read_text().splitlines() if line.strip()]
    frames = []
    for i in range(len(rows) // 5):
        pose = np.array(rows[5 * i + 1 : 5 * i + 5], dtype=float)
        depth = np.asarray(Image.open(REAL / "depth" / f"{i:05d}.png"), dtype=np.float32)[::2, ::2] / 1000.0
        f, cx, cy = 525.0 / 2, 319.5 / 2, 239.5 / 2  # the PrimeSense intrinsics, halved with the image
        v, u = np.nonzero(depth > 0)
        keep = (v % stride == 0) & (u % stride == 0)
        z = depth[v[keep], u[keep]].astype(np.float64)
        camera = np.stack([(u[keep] - cx) * z / f, (v[keep] - cy) * z / f, z], axis=1)
        frames.append((camera @ pose[:3, :3].T + pose[:3, 3], pose[:3, 3].copy()))
    return frames


def benchmark_integrate(
    budgets: tuple[tuple[int, int], ...] = ((1500, 500), (1500, 1500), (500, 500), (1000, 300), (2000, 700), (5000, 500)),
    frames: int = 60,
    seed: int = 0,
) -> dict[tuple[str, int, int], dict[str, float]]:
    """CPU milliseconds per `integrate` (median, 90th percentile; wall-clock median too) for (max_rays,
    max_free_rays) budgets, on two walks through a 10 m x 8 m flat and on the real Redwood frames; and
    per costmap asked every third frame, and per `frontiers` at the end. CPU time, because a shared
    machine's wall clock counts the other processes too."""
    walks = _walks(frames, seed)
    real = _real_frames()
    if real:
        walks["real"] = real * 4  # 5 frames, four passes
    report = {}
    for name, walk in walks.items():
        for rays, free in budgets:
            occupancy = OccupancyMap(OccupancyConfig(max_rays_per_frame=rays, max_free_rays_per_frame=free))
            wall, cpu, costmaps = [], [], []
            for i, (points, origin) in enumerate(walk):
                start, start_cpu = time.perf_counter(), time.process_time()
                occupancy.integrate(points, origin)
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                if i % 3 == 2:
                    start_cpu = time.process_time()
                    occupancy.costmap()
                    costmaps.append(time.process_time() - start_cpu)
            start_cpu = time.process_time()
            occupancy.frontiers()
            frontier_ms = (time.process_time() - start_cpu) * 1e3
            row = report[(name, rays, free)] = {
                "integrate_ms": float(np.median(cpu) * 1e3),
                "integrate_p90_ms": float(np.percentile(cpu, 90) * 1e3),
                "integrate_wall_ms": float(np.median(wall) * 1e3),
                "costmap_ms": float(np.median(costmaps) * 1e3),
                "frontiers_ms": frontier_ms,
                "points_per_frame": float(np.mean([len(p) for p, _ in walk])),
                "leaves": occupancy.num_leaves,
            }
            print(
                f"{name:5s} {rays:4d} rays ({free:4d} free): integrate {row['integrate_ms']:5.1f} ms CPU median, "
                f"{row['integrate_p90_ms']:5.1f} p90, {row['integrate_wall_ms']:5.1f} wall; costmap {row['costmap_ms']:4.1f} ms; "
                f"frontiers {frontier_ms:5.1f} ms; {row['points_per_frame']:.0f} points/frame, {row['leaves']} leaves"
            )
    return report


if __name__ == "__main__":
    benchmark_integrate()
