import math

import numpy as np
import pytest
from PIL import Image

from mindpalace.envs.household.catalog import COLORS
from mindpalace.envs.household.layout import generate_apartment
from mindpalace.envs.household.topdown import (
    OPEN,
    PATH,
    ROBOT,
    ROOM_COLORS,
    WALL,
    render_topdown,
    save_topdown,
    world_to_pixel,
)

PPM = 60.0


@pytest.fixture(scope="module")
def apartment():
    return generate_apartment(seed=3)


def pixel(image, apartment, x, y, ppm=PPM):
    c, r = world_to_pixel(apartment, ppm, x, y)
    return image.getpixel((int(c), int(r)))


def rgb(color):
    return tuple(round(v * 255) for v in color)


def clear_floor_point(apartment, room):
    """A point in `room` well away from walls, furniture and objects."""
    x0, y0, x1, y1 = room.rect
    for x in np.arange(x0 + 0.4, x1 - 0.4, 0.1):
        for y in np.arange(y0 + 0.4, y1 - 0.4, 0.1):
            near_furniture = any(
                fx0 - 0.2 < x < fx1 + 0.2 and fy0 - 0.2 < y < fy1 + 0.2
                for fx0, fy0, fx1, fy1 in (p.footprint() for p in apartment.furniture)
            )
            near_object = any(math.hypot(x - o.position[0], y - o.position[1]) < 0.2 for o in apartment.objects)
            if not near_furniture and not near_object:
                return float(x), float(y)
    raise AssertionError(f"no clear floor in {room.name}")


def test_image_size_matches_bounds(apartment):
    for ppm in (20.0, 60.0):
        image = render_topdown(apartment, pixels_per_metre=ppm)
        xmin, ymin, xmax, ymax = apartment.bounds
        assert image.size == (round((xmax - xmin) * ppm), round((ymax - ymin) * ppm))
        assert image.mode == "RGB"


def test_world_to_pixel_flips_y(apartment):
    xmin, ymin, xmax, ymax = apartment.bounds
    assert world_to_pixel(apartment, PPM, xmin, ymax) == pytest.approx((0.0, 0.0))
    assert world_to_pixel(apartment, PPM, xmax, ymin) == pytest.approx(((xmax - xmin) * PPM, (ymax - ymin) * PPM))
    _, r_low = world_to_pixel(apartment, PPM, 0.0, 0.0)
    _, r_high = world_to_pixel(apartment, PPM, 0.0, 1.0)
    assert r_high < r_low  # north is up


def test_rooms_filled_with_their_type_colour(apartment):
    image = render_topdown(apartment, labels=False)
    for room in apartment.rooms:
        assert pixel(image, apartment, *clear_floor_point(apartment, room)) == ROOM_COLORS[room.type], room.name
    assert len(set(ROOM_COLORS.values())) == len(ROOM_COLORS)


def test_room_label_written_at_centre(apartment):
    plain = np.asarray(render_topdown(apartment, labels=False))
    labelled = np.asarray(render_topdown(apartment, labels=True))
    room = next(r for r in apartment.rooms if r.type == "office")
    c, r = (int(v) for v in world_to_pixel(apartment, PPM, *room.center))
    window = (slice(r - 5, r + 5), slice(c - 20, c + 20))
    assert (plain[window] != labelled[window]).any()


def test_walls_drawn_and_doorways_left_open(apartment):
    image = render_topdown(apartment, labels=False)
    for wall in apartment.walls:
        (cx, cy), _ = wall.box()
        assert pixel(image, apartment, cx, cy) == WALL
    for door in apartment.doorways:
        assert pixel(image, apartment, *door.center) != WALL


def test_furniture_drawn_over_floor(apartment):
    image = render_topdown(apartment, labels=False)
    room_colours = set(ROOM_COLORS.values())
    for piece in apartment.furniture:
        x0, y0, _x1, _y1 = piece.footprint()
        # A point near a corner of the footprint, clear of objects on it.
        value = pixel(image, apartment, x0 + 0.08, y0 + 0.08)
        assert value not in room_colours, piece.name


def test_robot_drawn_at_pose(apartment):
    x, y, yaw = 6.0, 0.85, 0.0
    image = render_topdown(apartment, robot_pose=(x, y, yaw), labels=False)
    # Behind the heading line, inside the 0.25 m disc.
    assert pixel(image, apartment, x - 0.12, y) == ROBOT
    assert pixel(image, apartment, x, y + 0.12) == ROBOT
    assert pixel(image, apartment, x - 0.4, y) != ROBOT


def test_object_disc_has_object_colour(apartment):
    image = render_topdown(apartment, labels=False)
    last = apartment.objects[-1]  # drawn last, so nothing covers its centre
    assert pixel(image, apartment, *last.position[:2]) == rgb(COLORS[last.color])


def test_object_positions_override(apartment):
    obj = apartment.objects[0]
    room = next(r for r in apartment.rooms if r.type == "hallway")
    x, y = clear_floor_point(apartment, room)
    before = render_topdown(apartment, labels=False)
    assert pixel(before, apartment, x, y) == ROOM_COLORS["hallway"]
    after = render_topdown(apartment, object_positions={obj.id: (x, y, 0.5)}, labels=False)
    assert pixel(after, apartment, x, y) == rgb(COLORS[obj.color])
    assert pixel(after, apartment, *obj.position[:2]) != rgb(COLORS[obj.color])


def test_held_object_drawn_at_robot(apartment):
    obj = apartment.objects[0]
    pose = (6.0, 0.85, math.pi / 2)
    image = render_topdown(apartment, robot_pose=pose, held_object=obj.id, labels=False)
    assert pixel(image, apartment, pose[0], pose[1]) == rgb(COLORS[obj.color])
    assert pixel(image, apartment, *obj.position[:2]) != rgb(COLORS[obj.color])


def test_path_drawn(apartment):
    room = next(r for r in apartment.rooms if r.type == "hallway")
    x, y = clear_floor_point(apartment, room)
    image = render_topdown(apartment, path=[(x - 0.3, y), (x + 0.3, y)], labels=False)
    assert pixel(image, apartment, x, y) == PATH


def test_open_parts_marked(apartment):
    piece = next(p for p in apartment.furniture if p.part_ids)
    closed = np.asarray(render_topdown(apartment, labels=False))
    opened = np.asarray(render_topdown(apartment, open_parts=set(piece.part_ids.values()), labels=False))
    changed_rows, changed_cols = np.nonzero((closed != opened).any(axis=2))
    assert len(changed_rows) > 0
    x0, y0, x1, y1 = piece.footprint()
    c0, r0 = world_to_pixel(apartment, PPM, x0 - 0.4, y1 + 0.4)
    c1, r1 = world_to_pixel(apartment, PPM, x1 + 0.4, y0 - 0.4)
    assert changed_cols.min() >= c0 and changed_cols.max() <= c1
    assert changed_rows.min() >= r0 and changed_rows.max() <= r1
    # The flap sits in front of the front side, beyond the 0.15 m front tick.
    fx, fy = round(math.cos(piece.yaw)), round(math.sin(piece.yaw))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    front = (cx + fx * ((x1 - x0) / 2 + 0.2), cy + fy * ((y1 - y0) / 2 + 0.2))
    assert pixel(Image.fromarray(opened), apartment, *front) == OPEN
    assert pixel(Image.fromarray(closed), apartment, *front) != OPEN


def test_save_topdown_writes_png(apartment, tmp_path):
    out = save_topdown(tmp_path / "maps" / "seed3.png", apartment, robot_pose=apartment.start, path=[(0, 0), (1, 1)])
    assert out == tmp_path / "maps" / "seed3.png"
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == render_topdown(apartment).size
