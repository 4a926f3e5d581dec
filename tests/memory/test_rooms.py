"""Rooms: free-space segmentation split at doorways, point-in-polygon, and rooms an env supplies."""

from __future__ import annotations

import numpy as np
import pytest

from mindpalace.core.grid import GridMap
from mindpalace.memory.spatial.rooms import RoomRegion, rooms_from_polygons, segment_free_space

RES = 0.05


def _grid(width_m: float, height_m: float) -> np.ndarray:
    """An all-blocked grid of the given size (rows = y, cols = x), origin (0, 0)."""
    return np.zeros((round(height_m / RES), round(width_m / RES)), bool)


def _open(free: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> None:
    """Mark the rectangle [x0, x1) x [y0, y1) (metres) free."""
    free[round(y0 / RES) : round(y1 / RES), round(x0 / RES) : round(x1 / RES)] = True


def _two_rooms(door: float = 0.9) -> tuple[np.ndarray, GridMap]:
    """Two 4 x 4 m rooms side by side (x 0.1-4.1 and 4.2-8.2), a 0.1 m wall between them with a doorway."""
    free = _grid(8.3, 4.2)
    _open(free, 0.1, 0.1, 4.1, 4.1)
    _open(free, 4.2, 0.1, 8.2, 4.1)
    _open(free, 4.1, 1.6, 4.2, 1.6 + door)
    return free, GridMap(~free, (0.0, 0.0), RES)


def _room_of(rooms: list[RoomRegion], x: float, y: float) -> list[int]:
    return [r.id for r in rooms if r.contains(x, y)]


def test_two_rooms_joined_by_a_doorway_are_two_rooms():
    """A 0.9 m doorway does not merge two rooms: each room's polygon holds its own centre and not the other's."""
    free, grid = _two_rooms()
    labels, rooms = segment_free_space(free, grid)
    assert len(rooms) == 2
    left, right = _room_of(rooms, 2.1, 2.1), _room_of(rooms, 6.2, 2.1)
    assert len(left) == 1 and len(right) == 1 and left != right
    assert [r.name for r in rooms] == ["room 1", "room 2"] and not any(r.privileged for r in rooms)
    # every free cell is labelled, and the two halves get different labels
    assert np.all(labels[free] > 0) and np.all(labels[~free] == 0)
    assert len(np.unique(labels[:, :80][free[:, :80]])) == 1 and len(np.unique(labels[:, 85:][free[:, 85:]])) == 1
    assert labels[42, 40] != labels[42, 125]


def test_a_wide_opening_merges_the_rooms():
    """Without a real doorway (a 3 m opening) the space is one room."""
    free, grid = _two_rooms(door=3.0)
    _, rooms = segment_free_space(free, grid)
    assert len(rooms) == 1
    assert rooms[0].contains(2.1, 2.1) and rooms[0].contains(6.2, 2.1)


def test_a_single_room_is_one_room():
    """One closed 4 x 4 m room gives one region whose polygon spans it."""
    free = _grid(4.2, 4.2)
    _open(free, 0.1, 0.1, 4.1, 4.1)
    labels, rooms = segment_free_space(free, GridMap(~free, (0.0, 0.0), RES))
    assert len(rooms) == 1 and rooms[0].contains(2.1, 2.1) and not rooms[0].contains(5.0, 2.0)
    xs = [x for x, _ in rooms[0].polygon]
    assert min(xs) == pytest.approx(0.1, abs=RES) and max(xs) == pytest.approx(4.05, abs=RES)
    assert set(np.unique(labels[free])) == {1}


def test_a_nook_is_not_a_room():
    """A 1.2 x 1.2 m alcove off a room through a 0.9 m opening joins that room instead of being one."""
    free = _grid(6.0, 4.2)
    _open(free, 0.1, 0.1, 4.1, 4.1)
    _open(free, 4.1, 1.6, 4.2, 2.5)  # the opening
    _open(free, 4.2, 1.45, 5.4, 2.65)  # the alcove
    labels, rooms = segment_free_space(free, GridMap(~free, (0.0, 0.0), RES))
    assert len(rooms) == 1
    assert labels[int(2.0 / RES), int(4.8 / RES)] == labels[int(2.0 / RES), int(2.0 / RES)] == 1


def test_nothing_free_gives_no_rooms():
    """A map with no space wide enough for a room core has no rooms and labels nothing."""
    free = _grid(3.0, 3.0)
    _open(free, 0.1, 0.1, 2.9, 0.6)  # a 0.5 m corridor
    labels, rooms = segment_free_space(free, GridMap(~free, (0.0, 0.0), RES))
    assert rooms == [] and not labels.any()


def test_origin_offsets_the_polygons():
    """Polygons are in world coordinates: moving the grid origin moves the rooms."""
    free, _ = _two_rooms()
    _, rooms = segment_free_space(free, GridMap(~free, (-10.0, 5.0), RES))
    assert len(rooms) == 2
    assert _room_of(rooms, -10.0 + 2.1, 5.0 + 2.1) and _room_of(rooms, -10.0 + 6.2, 5.0 + 2.1)
    assert not _room_of(rooms, 2.1, 2.1)


def test_contains_for_a_convex_polygon():
    """Ray crossing: inside and outside points of a square and a triangle, in either winding."""
    square = RoomRegion(1, "square", ((0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)))
    assert square.contains(1.0, 1.0) and square.contains(0.01, 1.99)
    assert not square.contains(-0.01, 1.0) and not square.contains(1.0, 2.01) and not square.contains(3.0, 1.0)
    triangle = RoomRegion(2, "triangle", ((0.0, 0.0), (0.0, 4.0), (4.0, 0.0)))  # clockwise
    assert triangle.contains(1.0, 1.0) and not triangle.contains(2.5, 2.5)
    assert square.center == (1.0, 1.0)


def test_contains_for_an_l_shaped_polygon():
    """The crossing rule also handles a concave (L-shaped) room: the cut-out corner is outside."""
    ell = RoomRegion(1, "L", ((0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (2.0, 2.0), (2.0, 4.0), (0.0, 4.0)))
    assert ell.contains(1.0, 3.0) and ell.contains(3.0, 1.0)
    assert not ell.contains(3.0, 3.0)


def test_rooms_from_polygons_marks_privileged():
    """Env-supplied polygons become rooms numbered from 1, with names, tuples of floats and the privileged flag."""
    rooms = rooms_from_polygons([("kitchen", [(0, 0), (3, 0), (3, 3), (0, 3)]), ("hall", [(3, 0), (5, 0), (5, 3)])], True)
    assert [(r.id, r.name, r.privileged) for r in rooms] == [(1, "kitchen", True), (2, "hall", True)]
    assert rooms[0].polygon == ((0.0, 0.0), (3.0, 0.0), (3.0, 3.0), (0.0, 3.0))
    assert all(isinstance(v, float) for p in rooms[1].polygon for v in p)
    assert rooms[0].contains(1.5, 1.5) and not rooms[1].contains(1.5, 1.5)
    told = rooms_from_polygons([("den", [(0, 0), (1, 0), (1, 1)])], privileged=False)
    assert told[0].privileged is False
