"""The seeded apartment generator: rooms, walls and doorways, reachability, catalogs, articulated furniture."""

from __future__ import annotations

import math
from itertools import combinations

import mujoco
import numpy as np
import pytest
from household_testkit import cell_of, flood_fill, free_cells, inside_box_2d, pieces_of_type

from mindpalace.envs.household.catalog import COLORS, FURNITURE, OBJECTS, ROOM_TYPES
from mindpalace.envs.household.layout import DOOR_WIDTH, Apartment, generate_apartment
from mindpalace.envs.household.mjcf import build_mjcf

SEEDS = (0, 1, 2, 3, 4)


@pytest.fixture(scope="module")
def apartments() -> dict[int, Apartment]:
    return {seed: generate_apartment(seed) for seed in SEEDS}


def wall_containing(apartment: Apartment, x: float, y: float, tol: float = 1e-6):
    for wall in apartment.walls:
        center, half = wall.box()
        if inside_box_2d((x, y), center, half, tol):
            return wall
    return None


def polygon_area(points: list[tuple[float, float]]) -> float:
    """Signed (shoelace) area: positive for counter-clockwise vertices."""
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))


# ------------------------------------------------------------------ rooms
@pytest.mark.parametrize("n_rooms", range(3, 9))
def test_n_rooms_is_honoured(n_rooms):
    """generate_apartment(n_rooms=k) lays out exactly k rooms."""
    assert len(generate_apartment(11, n_rooms=n_rooms).rooms) == n_rooms


def test_room_count_drawn_from_seed_is_3_to_8(apartments):
    """Without n_rooms the seed picks 3..8 rooms."""
    assert all(3 <= len(a.rooms) <= 8 for a in apartments.values())


def test_room_types_are_varied_and_known(apartments):
    """A few seeds cover at least 6 distinct room types, all from the catalog's ROOM_TYPES."""
    types = {room.type for a in apartments.values() for room in a.rooms}
    assert types <= set(ROOM_TYPES)
    assert len(types) >= 6, types


def test_room_names_are_unique(apartments):
    """Rooms are told apart by name (privileged room queries return names)."""
    for a in apartments.values():
        names = [room.name for room in a.rooms]
        assert len(names) == len(set(names)), names


def test_room_polygons_are_proper_and_disjoint(apartments):
    """Each room polygon is a counter-clockwise rectangle of sensible size; rooms never overlap."""
    for a in apartments.values():
        for room in a.rooms:
            polygon = room.polygon
            assert len(polygon) >= 3
            assert polygon_area(polygon) >= 1.5, (room.name, polygon)  # a hallway is >= 1.6 m deep
            assert room.contains(*room.center)
            assert a.room_at(*room.center) is room
        for r1, r2 in combinations(a.rooms, 2):
            ax0, ay0, ax1, ay1 = r1.rect
            bx0, by0, bx1, by1 = r2.rect
            overlap = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
            assert overlap < 1e-9, (r1.name, r2.name)


# ------------------------------------------------------------------ walls and doorways
def test_doorways_are_gaps_in_walls(apartments):
    """A doorway's centre is in no wall box, yet the wall continues just beyond each side of the gap."""
    for a in apartments.values():
        assert a.doorways
        for door in a.doorways:
            cx, cy = door.center
            assert wall_containing(a, cx, cy) is None, door
            beyond = door.width / 2 + 0.15
            for sign in (-1, 1):
                px, py = (cx + sign * beyond, cy) if door.axis == "x" else (cx, cy + sign * beyond)
                assert wall_containing(a, px, py) is not None, (door, sign)
            assert door.width >= DOOR_WIDTH - 1e-9 > 2 * 0.25  # wider than the robot


def test_room_boundaries_are_walls_except_at_doorways(apartments):
    """Every point of every room edge is inside a wall box or a doorway gap: rooms are closed."""
    for a in apartments.values():
        for room in a.rooms:
            corners = room.polygon
            for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
                length = math.hypot(x1 - x0, y1 - y0)
                for t in np.linspace(0.0, 1.0, max(2, int(length / 0.1))):
                    x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                    in_gap = any(
                        abs(x - d.center[0]) <= (d.width / 2 if d.axis == "x" else 1e-6) + 1e-6
                        and abs(y - d.center[1]) <= (d.width / 2 if d.axis == "y" else 1e-6) + 1e-6
                        for d in a.doorways
                    )
                    assert in_gap or wall_containing(a, x, y) is not None, (room.name, x, y)


def test_doorways_join_rooms_that_share_the_wall(apartments):
    """A doorway lies on the boundary of both rooms it joins, and doorways connect all rooms."""
    for a in apartments.values():
        rooms = {room.id: room for room in a.rooms}
        linked = {a.doorways[0].rooms[0]}
        for door in a.doorways:
            for room_id in door.rooms:
                x0, y0, x1, y1 = rooms[room_id].rect
                cx, cy = door.center
                assert rooms[room_id].contains(cx, cy)
                assert min(abs(cx - x0), abs(cx - x1), abs(cy - y0), abs(cy - y1)) < 1e-6
        for _ in a.rooms:
            for door in a.doorways:
                if linked & set(door.rooms):
                    linked |= set(door.rooms)
        assert linked == set(rooms)


def test_every_room_and_furniture_is_reachable(apartments):
    """Flood-filling the robot-inflated occupancy from the start reaches every room and every access pose."""
    for a in apartments.values():
        free, origin = free_cells(a)
        start = cell_of(a.start[:2], origin)
        assert free[start], "the robot starts in a blocked cell"
        reached = flood_fill(free, start)
        for room in a.rooms:
            x0, y0, x1, y1 = room.rect
            rows = slice(cell_of((0, y0 + 0.3), origin)[0], cell_of((0, y1 - 0.3), origin)[0])
            cols = slice(cell_of((x0 + 0.3, 0), origin)[1], cell_of((x1 - 0.3, 0), origin)[1])
            assert reached[rows, cols].any(), f"seed {a.seed}: the {room.name} cannot be reached"
        for piece in a.furniture:
            ax, ay, _ = piece.access_pose()
            assert reached[cell_of((ax, ay), origin)], f"seed {a.seed}: {piece.name} cannot be reached"


def test_furniture_stays_inside_its_room(apartments):
    """Furniture footprints lie within their room's walls and do not overlap each other."""
    for a in apartments.values():
        for piece in a.furniture:
            x0, y0, x1, y1 = piece.footprint()
            rx0, ry0, rx1, ry1 = a.rooms[piece.room].rect
            assert rx0 < x0 and x1 < rx1 and ry0 < y0 and y1 < ry1, piece.name
        for p, q in combinations(a.furniture, 2):
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = p.footprint(), q.footprint()
            assert not (ax0 < bx1 - 1e-6 and bx0 < ax1 - 1e-6 and ay0 < by1 - 1e-6 and by0 < ay1 - 1e-6), (p.name, q.name)


# ------------------------------------------------------------------ catalogs and contents
def test_furniture_catalog_has_at_least_12_types():
    """The furniture catalog is rich enough for varied rooms."""
    assert len(FURNITURE) >= 12


def test_object_catalog_has_30_categories_with_attributes():
    """>= 30 object categories, each with colours, a material and a function, and a valid primitive shape."""
    assert len(OBJECTS) >= 30
    sizes = {"box": 3, "cylinder": 2, "sphere": 1}
    for category in OBJECTS.values():
        assert category.colors and set(category.colors) <= set(COLORS), category.name
        assert category.material.strip() and category.function.strip(), category.name
        assert len(category.size) == sizes[category.shape] and min(category.size) > 0, category.name
        assert set(category.rooms) <= set(ROOM_TYPES), category.name


def test_objects_carry_their_attributes(apartments):
    """Every generated object has a unique name and colour/material/function attributes from its category."""
    for a in apartments.values():
        assert a.objects
        assert len({o.name for o in a.objects}) == len(a.objects)
        for obj in a.objects:
            assert obj.attributes == {"color": obj.color, "material": obj.category.material, "function": obj.category.function}
            assert obj.color in obj.category.colors


def test_every_apartment_has_a_drawer_a_cabinet_and_a_fridge(apartments):
    """Each apartment has a sliding drawer and hinged cabinet and fridge doors, in the layout and the MuJoCo model."""
    for a in apartments.values():
        model = mujoco.MjModel.from_xml_string(build_mjcf(a))

        def joint_type(part_id: int, model: mujoco.MjModel = model) -> int:
            return int(model.jnt_type[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"j{part_id}")])

        drawers = [pid for p in a.furniture for part in p.type.parts if part.kind == "drawer" for pid in [p.part_ids[part.name]]]
        assert drawers and all(joint_type(pid) == mujoco.mjtJoint.mjJNT_SLIDE for pid in drawers)
        for type_name in ("cabinet", "fridge"):
            pieces = pieces_of_type(a, type_name)
            assert pieces, f"seed {a.seed} has no {type_name}"
            assert all(joint_type(p.part_ids["door"]) == mujoco.mjtJoint.mjJNT_HINGE for p in pieces)


def test_instance_ids_are_unique(apartments):
    """Furniture, part and object ids never collide (they are segmentation ids)."""
    for a in apartments.values():
        ids = [p.id for p in a.furniture] + [v for p in a.furniture for v in p.part_ids.values()] + [o.id for o in a.objects]
        assert len(ids) == len(set(ids))
        assert min(ids) > 3  # 1..3 are floor, wall and robot


# ------------------------------------------------------------------ seeding
def test_same_seed_gives_identical_apartment():
    """Generation is a pure function of the seed."""
    assert generate_apartment(7) == generate_apartment(7)
    assert generate_apartment(7, n_rooms=4) == generate_apartment(7, n_rooms=4)


def test_different_seeds_give_different_apartments():
    """Different seeds give different apartments."""
    assert generate_apartment(7) != generate_apartment(8)
    assert generate_apartment(7, n_rooms=4) != generate_apartment(8, n_rooms=4)


@pytest.mark.parametrize("seed", [-1, "x", 1.5, True, None])
def test_invalid_seed_raises_value_error(seed):
    """A seed must be a non-negative integer."""
    with pytest.raises(ValueError):
        generate_apartment(seed)


@pytest.mark.parametrize(
    "n_rooms",
    [
        2,
        9,
        0,
        3.5,
        "4",
    ],
)
def test_invalid_n_rooms_raises_value_error(n_rooms):
    """n_rooms must be an integer in 3..8."""
    with pytest.raises(ValueError):
        generate_apartment(0, n_rooms=n_rooms)
