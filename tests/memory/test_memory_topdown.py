"""Top-down pictures of spatial memory: each costmap cell in its colour, north up; the scene graph drawn where it is."""

from __future__ import annotations

import networkx as nx
import numpy as np
from PIL import Image

from mindpalace.core.grid import GridMap
from mindpalace.memory.spatial.topdown import (
    FREE,
    FRONTIER,
    FURNITURE,
    INFLATED,
    OBJECT,
    OCCUPIED,
    RELATION,
    ROOM_EDGE,
    UNKNOWN,
    costmap_image,
    save_image,
    scene_graph_image,
)

RES, ROWS, COLS, SCALE = 0.1, 20, 30, 4  # a 3 m x 2 m map with its origin at (0, 0)


def _map() -> tuple[GridMap, np.ndarray]:
    known = np.full((ROWS, COLS), -1, np.int8)
    known[:, :15] = 0  # the west half is known free
    known[5, 5] = 1  # one obstacle cell, at x = y = 0.55 m
    blocked = np.zeros((ROWS, COLS), bool)
    blocked[5, 4:7] = True  # the obstacle grown by the robot's radius
    return GridMap(blocked, (0.0, 0.0), RES), known


def _cell(image: Image.Image, row: int, col: int) -> tuple[int, ...]:
    """The colour at the centre of a cell: rows run along +y, and +y is up in the picture."""
    return image.getpixel((col * SCALE + SCALE // 2, (ROWS - 1 - row) * SCALE + SCALE // 2))


def _pixel(x: float, y: float) -> tuple[int, int]:
    """Where scene_graph_image draws the world point (x, y)."""
    return round((x / RES + 0.5) * SCALE), round((ROWS - (y / RES + 0.5)) * SCALE)


def test_costmap_cells_have_their_colours_north_up() -> None:
    grid, known = _map()
    image = costmap_image(known, grid, scale=SCALE)
    assert image.size == (COLS * SCALE, ROWS * SCALE) and image.mode == "RGB"
    assert _cell(image, 5, 5) == OCCUPIED
    assert _cell(image, 5, 4) == _cell(image, 5, 6) == INFLATED  # free, but too close for the robot
    assert _cell(image, 0, 0) == _cell(image, ROWS - 1, 14) == FREE
    assert _cell(image, 0, 15) == _cell(image, ROWS - 1, COLS - 1) == UNKNOWN
    plain = costmap_image(known, None, scale=SCALE)  # no navigation grid: nothing is tinted
    assert _cell(plain, 5, 4) == FREE and _cell(plain, 5, 5) == OCCUPIED


def test_scene_graph_is_drawn_at_its_places() -> None:
    grid, known = _map()
    graph = nx.DiGraph()
    graph.add_node("room:1", kind="room", label="kitchen", polygon=[[0.05, 0.05], [2.95, 0.05], [2.95, 1.95], [0.05, 1.95]])
    graph.add_node("furniture:2", kind="furniture", label="bed", aabb=[[0.3, 1.3, 0.0], [0.9, 1.7, 0.8]], center=[0.6, 1.5, 0.4])
    graph.add_node("object:3", kind="object", label="mug", center=[1.0, 1.0, 0.8])
    graph.add_edge("furniture:2", "object:3", relation="on")
    image = scene_graph_image(graph, grid, known, frontiers=[(2.5, 0.5)], scale=SCALE)
    assert image.size == (COLS * SCALE, ROWS * SCALE)

    def near(point: tuple[int, int], colour: tuple[int, int, int], reach: int = 1) -> bool:
        x, y = point
        return any(
            image.getpixel((x + dx, y + dy)) == colour for dx in range(-reach, reach + 1) for dy in range(-reach, reach + 1)
        )

    assert image.getpixel(_pixel(1.0, 1.0)) == OBJECT  # the object's disc at its centre
    fx, fy = _pixel(2.5, 0.5)
    assert near((fx - 4, fy), FRONTIER)  # the frontier's square around its cell
    assert image.getpixel((fx, fy)) == UNKNOWN  # ... drawn as an outline
    assert near(_pixel(1.5, 0.05), ROOM_EDGE)  # the room's outline, on its south edge
    assert near(_pixel(0.9, 1.5), FURNITURE)  # the furniture's box, on its east edge
    (x0, y0), (x1, y1) = _pixel(0.6, 1.5), _pixel(1.0, 1.0)
    assert near(((x0 + x1) // 2, (y0 + y1) // 2), RELATION)  # "on": a line from the furniture to the object


def test_save_image_makes_the_folder(tmp_path) -> None:
    grid, known = _map()
    path = save_image(costmap_image(known, grid), tmp_path / "maps" / "costmap.png")
    with Image.open(path) as saved:
        assert saved.size == (COLS * 4, ROWS * 4)
