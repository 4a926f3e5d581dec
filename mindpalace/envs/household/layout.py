"""Seeded apartment generation: rooms, doorways, walls, furniture against walls, small objects on receptacles.

Rooms are axis-aligned rectangles in two rows, with a hallway between the rows when the
apartment has one; every room touches a hub (the hallway or the living room) or a neighbour,
and a random spanning tree of those contacts gets doorways, so every room can be reached.
Everything here is plain data; `mjcf.py` turns it into a MuJoCo model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mindpalace.core.geometry import rot_z
from mindpalace.core.grid import GridMap
from mindpalace.envs.household.catalog import (
    FURNITURE,
    OBJECTS,
    ROOM_FURNITURE,
    ROOM_SIZES,
    FurnitureType,
    ObjectCategory,
    Receptacle,
)
from mindpalace.envs.household.robot import ROBOT_RADIUS

WALL_THICKNESS = 0.1
WALL_HEIGHT = 2.5
DOOR_WIDTH = 1.0
GRID_RESOLUTION = 0.05
PLACEMENT_REACH = 1.2  # objects start within this distance of their furniture's access pose


@dataclass(frozen=True)
class Room:
    id: int
    name: str
    type: str
    rect: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax on the wall centre lines

    @property
    def polygon(self) -> list[tuple[float, float]]:
        x0, y0, x1, y1 = self.rect
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.rect
        return ((x0 + x1) / 2, (y0 + y1) / 2)

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        x0, y0, x1, y1 = self.rect
        return x0 + margin <= x <= x1 - margin and y0 + margin <= y <= y1 - margin


@dataclass(frozen=True)
class Doorway:
    rooms: tuple[int, int]
    center: tuple[float, float]
    axis: str  # "x": the wall runs along x (doorway crossed along y); "y": the reverse
    width: float = DOOR_WIDTH


@dataclass(frozen=True)
class Wall:
    start: tuple[float, float]
    end: tuple[float, float]

    def box(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Centre and half extents (x, y) of the wall's footprint, thickness included."""
        (x0, y0), (x1, y1) = self.start, self.end
        half_t = WALL_THICKNESS / 2
        center = ((x0 + x1) / 2, (y0 + y1) / 2)
        half = (abs(x1 - x0) / 2 + half_t, abs(y1 - y0) / 2 + half_t)
        return center, half


@dataclass
class Furniture:
    id: int
    name: str  # unique, e.g. "counter_1"
    type: FurnitureType
    room: int
    x: float
    y: float
    yaw: float  # multiple of pi/2; the front faces (cos yaw, sin yaw)
    part_ids: dict[str, int] = field(default_factory=dict)

    def to_world(self, local: tuple[float, float, float] | np.ndarray) -> np.ndarray:
        return rot_z(self.yaw) @ np.asarray(local, dtype=np.float64) + np.array([self.x, self.y, 0.0])

    def footprint(self) -> tuple[float, float, float, float]:
        """Axis-aligned world footprint xmin, ymin, xmax, ymax."""
        half_x, half_y = self.type.depth / 2, self.type.width / 2
        if round(np.cos(self.yaw)) == 0:
            half_x, half_y = half_y, half_x
        return (self.x - half_x, self.y - half_y, self.x + half_x, self.y + half_y)

    def access_pose(self) -> tuple[float, float, float]:
        """Where the robot stands (x, y) and faces (yaw) to use this furniture."""
        distance = self.type.depth / 2 + self.type.access_distance
        return (self.x + distance * np.cos(self.yaw), self.y + distance * np.sin(self.yaw), self.yaw + np.pi)

    def receptacle(self, name: str) -> Receptacle:
        for receptacle in self.type.receptacles:
            if receptacle.name == name:
                return receptacle
        raise KeyError(f"{self.name} has no receptacle {name!r}")


@dataclass
class SmallObject:
    id: int
    name: str  # unique, e.g. "mug_2"
    category: ObjectCategory
    color: str
    furniture: int  # id of the furniture it starts on or in
    receptacle: str
    position: tuple[float, float, float]  # world centre
    yaw: float

    @property
    def attributes(self) -> dict[str, str]:
        return {"color": self.color, "material": self.category.material, "function": self.category.function}


@dataclass
class Apartment:
    seed: int
    rooms: list[Room]
    doorways: list[Doorway]
    walls: list[Wall]
    furniture: list[Furniture]
    objects: list[SmallObject]
    start: tuple[float, float, float]  # robot x, y, yaw
    bounds: tuple[float, float, float, float]

    def room_at(self, x: float, y: float) -> Room | None:
        for room in self.rooms:
            if room.contains(x, y):
                return room
        return None

    def furniture_by_id(self, furniture_id: int) -> Furniture:
        for piece in self.furniture:
            if piece.id == furniture_id:
                return piece
        raise KeyError(furniture_id)


class LayoutError(RuntimeError):
    """The generator could not lay out a valid apartment for this seed and config."""


def _room_types(rng: np.random.Generator, n_rooms: int) -> list[str]:
    """Kitchen, living room and bedroom always; then a bathroom, a hallway, an office, more rooms."""
    types = ["kitchen", "living_room", "bedroom", "bathroom", "hallway", "office"][:n_rooms]
    most = {"bedroom": 3, "office": 2, "bathroom": 2}
    while len(types) < n_rooms:
        extras = [room for room, limit in most.items() if types.count(room) < limit]
        types.append(extras[int(rng.integers(len(extras)))])
    return types


def _snap(value: float) -> float:
    return round(value * 10) / 10


def _rooms(rng: np.random.Generator, types: list[str]) -> list[Room]:
    """Two rows of rooms, stretched to the same length, with the hallway (if any) between them."""
    others = [t for t in types if t != "hallway"]
    order = list(rng.permutation(len(others)))
    sizes = {}
    for index, room_type in enumerate(others):
        w0, w1, d0, d1 = ROOM_SIZES[room_type]
        sizes[index] = (_snap(rng.uniform(w0, w1)), _snap(rng.uniform(d0, d1)))
    split = (len(others) + 1) // 2
    top_idx, bottom_idx = order[:split], order[split:]
    length = max(sum(sizes[i][0] for i in top_idx), sum(sizes[i][0] for i in bottom_idx))
    hallway = "hallway" in types
    hall_depth = _snap(rng.uniform(*ROOM_SIZES["hallway"][2:])) if hallway else 0.0
    rects: list[tuple[str, tuple[float, float, float, float]]] = []
    for row, sign in ((top_idx, 1.0), (bottom_idx, -1.0)):
        if not row:
            continue
        depth = max(sizes[i][1] for i in row)
        scale = length / sum(sizes[i][0] for i in row)
        x = 0.0
        for k, i in enumerate(row):
            x_end = length if k == len(row) - 1 else _snap(x + sizes[i][0] * scale)
            y_near = hall_depth if sign > 0 else 0.0
            y0, y1 = (y_near, y_near + depth) if sign > 0 else (-depth, 0.0)
            rects.append((others[i], (x, y0, x_end, y1)))
            x = x_end
    if hallway:
        rects.append(("hallway", (0.0, 0.0, length, hall_depth)))
    counts: dict[str, int] = {}
    rooms = []
    for room_id, (room_type, rect) in enumerate(rects):
        counts[room_type] = counts.get(room_type, 0) + 1
        total = types.count(room_type)
        label = room_type.replace("_", " ")
        name = f"{label} {counts[room_type]}" if total > 1 else label
        rooms.append(Room(room_id, name, room_type, rect))
    return rooms


def _shared_edge(a: Room, b: Room) -> tuple[str, float, float, float] | None:
    """(axis, fixed coordinate, start, end) of the wall two rooms share, if at least a doorway long."""
    ax0, ay0, ax1, ay1 = a.rect
    bx0, by0, bx1, by1 = b.rect
    for fixed_a, fixed_b, axis in ((ay1, by0, "x"), (ay0, by1, "x")):
        if abs(fixed_a - fixed_b) < 1e-6:
            start, end = max(ax0, bx0), min(ax1, bx1)
            if end - start >= DOOR_WIDTH + 0.6:
                return axis, fixed_a, start, end
    for fixed_a, fixed_b, axis in ((ax1, bx0, "y"), (ax0, bx1, "y")):
        if abs(fixed_a - fixed_b) < 1e-6:
            start, end = max(ay0, by0), min(ay1, by1)
            if end - start >= DOOR_WIDTH + 0.6:
                return axis, fixed_a, start, end
    return None


def _doorways(rng: np.random.Generator, rooms: list[Room]) -> list[Doorway]:
    """A random spanning tree over rooms that share a wall, hubs first; bathrooms stay leaves."""
    contacts = {}
    for i, a in enumerate(rooms):
        for b in rooms[i + 1 :]:
            edge = _shared_edge(a, b)
            if edge:
                contacts[(a.id, b.id)] = edge
    hub_types = ("hallway", "living_room")
    start = next((r.id for t in hub_types for r in rooms if r.type == t), rooms[0].id)
    connected, doorways = {start}, []
    while len(connected) < len(rooms):
        candidates = [
            (pair, edge)
            for pair, edge in contacts.items()
            if (pair[0] in connected) != (pair[1] in connected)
            and rooms[pair[0] if pair[0] in connected else pair[1]].type != "bathroom"
        ]
        if not candidates:
            raise LayoutError("rooms cannot all be connected by doorways")
        hub_first = [c for c in candidates if any(rooms[i].type in hub_types for i in c[0])] or candidates
        pair, (axis, fixed, lo, hi) = hub_first[int(rng.integers(len(hub_first)))]
        along = _snap(rng.uniform(lo + DOOR_WIDTH / 2 + 0.3, hi - DOOR_WIDTH / 2 - 0.3))
        center = (along, fixed) if axis == "x" else (fixed, along)
        doorways.append(Doorway(pair, center, axis))
        connected.update(pair)
    return doorways


def _walls(rooms: list[Room], doorways: list[Doorway]) -> list[Wall]:
    """Every room edge, merged per line, with doorway gaps cut out."""
    lines: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for room in rooms:
        x0, y0, x1, y1 = room.rect
        for key, span in ((("x", y0), (x0, x1)), (("x", y1), (x0, x1)), (("y", x0), (y0, y1)), (("y", x1), (y0, y1))):
            lines.setdefault((key[0], round(key[1], 6)), []).append(span)
    walls = []
    for (axis, fixed), spans in sorted(lines.items()):
        spans.sort()
        merged = [list(spans[0])]
        for lo, hi in spans[1:]:
            if lo <= merged[-1][1] + 1e-6:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        gaps = sorted(
            (
                (d.center[0] if axis == "x" else d.center[1]) - d.width / 2,
                (d.center[0] if axis == "x" else d.center[1]) + d.width / 2,
            )
            for d in doorways
            if d.axis == axis and abs((d.center[1] if axis == "x" else d.center[0]) - fixed) < 1e-6
        )
        for lo, hi in merged:
            pieces = [(lo, hi)]
            for g0, g1 in gaps:
                pieces = [p for a, b in pieces for p in ((a, min(b, g0)), (max(a, g1), b)) if p[1] - p[0] > 1e-6]
            for a, b in pieces:
                walls.append(Wall((a, fixed), (b, fixed)) if axis == "x" else Wall((fixed, a), (fixed, b)))
    return walls


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _front_zone(piece: Furniture, reach: float) -> tuple[float, float, float, float]:
    """The strip in front of a piece of furniture that must stay free for the robot to use it."""
    x0, y0, x1, y1 = piece.footprint()
    c, s = round(np.cos(piece.yaw)), round(np.sin(piece.yaw))
    if c == 1:
        return (x1, y0, x1 + reach, y1)
    if c == -1:
        return (x0 - reach, y0, x0, y1)
    if s == 1:
        return (x0, y1, x1, y1 + reach)
    return (x0, y0 - reach, x1, y0)


def _clearance(piece: Furniture) -> float:
    """Depth of the free strip a piece needs in front: where the robot stands, plus its radius and a margin."""
    return piece.type.access_distance + ROBOT_RADIUS + 0.1


def _place_furniture(rng: np.random.Generator, rooms: list[Room], doorways: list[Doorway], next_id: int) -> list[Furniture]:
    placed: list[Furniture] = []
    margin = WALL_THICKNESS / 2 + 0.02
    door_zones = []
    for door in doorways:
        dx, dy = (DOOR_WIDTH / 2 + 0.2, 1.1) if door.axis == "x" else (1.1, DOOR_WIDTH / 2 + 0.2)
        door_zones.append((door.center[0] - dx, door.center[1] - dy, door.center[0] + dx, door.center[1] + dy))
    counts: dict[str, int] = {}
    for room in rooms:
        required, optional = ROOM_FURNITURE[room.type]
        chosen = list(required) + [name for name in optional if rng.random() < 0.6]
        x0, y0, x1, y1 = room.rect
        inner = (x0 + margin, y0 + margin, x1 - margin, y1 - margin)
        in_room: list[Furniture] = []
        for type_name in chosen:
            kind = FURNITURE[type_name]
            for _ in range(60):
                if kind.freestanding:
                    yaw = float(rng.integers(4)) * np.pi / 2
                    piece = Furniture(0, "", kind, room.id, 0.0, 0.0, yaw)
                    fx0, fy0, fx1, fy1 = piece.footprint()
                    half_x, half_y = (fx1 - fx0) / 2, (fy1 - fy0) / 2
                    piece.x = _snap(rng.uniform(inner[0] + half_x + 0.8, max(inner[0] + half_x + 0.8, inner[2] - half_x - 0.8)))
                    piece.y = _snap(rng.uniform(inner[1] + half_y + 0.8, max(inner[1] + half_y + 0.8, inner[3] - half_y - 0.8)))
                else:
                    side = int(rng.integers(4))  # the wall the back touches: 0 west, 1 south, 2 east, 3 north
                    yaw = (0.0, np.pi / 2, np.pi, -np.pi / 2)[side]
                    piece = Furniture(0, "", kind, room.id, 0.0, 0.0, yaw)
                    fx0, fy0, fx1, fy1 = piece.footprint()
                    half_x, half_y = (fx1 - fx0) / 2, (fy1 - fy0) / 2
                    if side in (0, 2):
                        piece.x = inner[0] + half_x if side == 0 else inner[2] - half_x
                        piece.y = _snap(rng.uniform(inner[1] + half_y, max(inner[1] + half_y, inner[3] - half_y)))
                    else:
                        piece.y = inner[1] + half_y if side == 1 else inner[3] - half_y
                        piece.x = _snap(rng.uniform(inner[0] + half_x, max(inner[0] + half_x, inner[2] - half_x)))
                box = piece.footprint()
                zone = _front_zone(piece, _clearance(piece))
                inside = (
                    inner[0] - 1e-6 <= box[0]
                    and box[2] <= inner[2] + 1e-6
                    and inner[1] - 1e-6 <= box[1]
                    and box[3] <= inner[3] + 1e-6
                )
                zone_inside = inner[0] <= zone[0] and zone[2] <= inner[2] and inner[1] <= zone[1] and zone[3] <= inner[3]
                if not (inside and zone_inside):
                    continue
                if any(
                    _overlaps(box, other.footprint())
                    or _overlaps(zone, other.footprint())
                    or _overlaps(box, _front_zone(other, _clearance(other)))
                    for other in in_room
                ):
                    continue
                if any(_overlaps(box, door_zone) for door_zone in door_zones):
                    continue
                counts[type_name] = counts.get(type_name, 0) + 1
                piece.name = f"{type_name}_{counts[type_name]}"
                in_room.append(piece)
                break
            else:
                if type_name in required:
                    raise LayoutError(f"no room for a {type_name} in the {room.name}")
        placed.extend(in_room)
    for piece in placed:
        piece.id = next_id
        next_id += 1
        for part in piece.type.parts:
            piece.part_ids[part.name] = next_id
            next_id += 1
    return placed


def _place_objects(
    rng: np.random.Generator, rooms: list[Room], furniture: list[Furniture], per_room: tuple[int, int], next_id: int
) -> list[SmallObject]:
    objects: list[SmallObject] = []
    occupied: dict[tuple[int, str], list[tuple[float, float, float]]] = {}
    counts: dict[str, int] = {}
    for room in rooms:
        categories = [c for c in OBJECTS.values() if room.type in c.rooms]
        receptacles = [(p, r) for p in furniture if p.room == room.id for r in p.type.receptacles]
        if not categories or not receptacles:
            continue
        for _ in range(int(rng.integers(per_room[0], per_room[1] + 1))):
            category = categories[int(rng.integers(len(categories)))]
            spot = None
            for _ in range(30):
                piece, receptacle = receptacles[int(rng.integers(len(receptacles)))]
                spot = free_spot(
                    rng,
                    piece,
                    receptacle,
                    category,
                    occupied.get((piece.id, receptacle.name), []),
                    near=(*piece.access_pose()[:2], PLACEMENT_REACH),
                )
                if spot is not None:
                    break
            if spot is None:
                continue
            local_xy, yaw = spot
            occupied.setdefault((piece.id, receptacle.name), []).append((local_xy[0], local_xy[1], category.footprint_radius))
            position = piece.to_world((local_xy[0], local_xy[1], receptacle.z + category.half_height + 0.002))
            counts[category.name] = counts.get(category.name, 0) + 1
            color = category.colors[int(rng.integers(len(category.colors)))]
            objects.append(
                SmallObject(
                    next_id,
                    f"{category.name}_{counts[category.name]}",
                    category,
                    color,
                    piece.id,
                    receptacle.name,
                    (float(position[0]), float(position[1]), float(position[2])),
                    float(yaw + piece.yaw),
                )
            )
            next_id += 1
    return objects


def fits(category: ObjectCategory, receptacle: Receptacle) -> bool:
    """Whether an object of `category` fits on or in `receptacle` at all (its footprint and its height)."""
    radius = category.footprint_radius
    return (
        2 * category.half_height <= receptacle.clearance - 0.01 and receptacle.half[0] >= radius and receptacle.half[1] >= radius
    )


def free_spot(
    rng: np.random.Generator,
    piece: Furniture,
    receptacle: Receptacle,
    category: ObjectCategory,
    occupied: list[tuple[float, float, float]],
    tries: int = 25,
    near: tuple[float, float, float] | None = None,
) -> tuple[tuple[float, float], float] | None:
    """A random spot (furniture-frame x, y) and yaw on `receptacle` that fits `category` and clears `occupied`.

    With `near` = (world x, world y, radius), the spot must also lie within that radius (arm's reach).
    """
    if not fits(category, receptacle):
        return None
    radius = category.footprint_radius
    (cx, cy), (hx, hy) = receptacle.center, receptacle.half
    for _ in range(tries):
        x = float(rng.uniform(cx - hx + radius, cx + hx - radius))
        y = float(rng.uniform(cy - hy + radius, cy + hy - radius))
        if near is not None:
            wx, wy, _ = piece.to_world((x, y, 0.0))
            if (wx - near[0]) ** 2 + (wy - near[1]) ** 2 > near[2] ** 2:
                continue
        if all((x - ox) ** 2 + (y - oy) ** 2 >= (radius + orad + 0.02) ** 2 for ox, oy, orad in occupied):
            return (x, y), float(rng.uniform(-np.pi, np.pi))
    return None


def occupancy_grid(apartment: Apartment, resolution: float = GRID_RESOLUTION) -> tuple[np.ndarray, tuple[float, float]]:
    """A 2D grid (True = blocked) of walls and furniture footprints, and its world origin (x, y) of cell (0, 0).

    Privileged: built from the generator's geometry, for the oracle, placement checks and tests.
    Rows index y, columns index x.
    """
    x0, y0, x1, y1 = apartment.bounds
    width, height = int(np.ceil((x1 - x0) / resolution)) + 1, int(np.ceil((y1 - y0) / resolution)) + 1
    grid = np.zeros((height, width), dtype=bool)

    def fill(bx0: float, by0: float, bx1: float, by1: float) -> None:
        c0, c1 = int(np.floor((bx0 - x0) / resolution)), int(np.ceil((bx1 - x0) / resolution))
        r0, r1 = int(np.floor((by0 - y0) / resolution)), int(np.ceil((by1 - y0) / resolution))
        grid[max(r0, 0) : max(r1, 0), max(c0, 0) : max(c1, 0)] = True

    for wall in apartment.walls:
        (cx, cy), (hx, hy) = wall.box()
        fill(cx - hx, cy - hy, cx + hx, cy + hy)
    for piece in apartment.furniture:
        fill(*piece.footprint())
    return grid, (x0, y0)


def _reachable(free: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Cells 4-connected to `start` through free cells."""
    seen = np.zeros_like(free)
    if not free[start]:
        return seen
    stack = [start]
    seen[start] = True
    h, w = free.shape
    while stack:
        r, c = stack.pop()
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < h and 0 <= nc < w and free[nr, nc] and not seen[nr, nc]:
                seen[nr, nc] = True
                stack.append((nr, nc))
    return seen


def generate_apartment(seed: int, n_rooms: int | None = None, objects_per_room: tuple[int, int] = (4, 7)) -> Apartment:
    """Generate the apartment of `seed` (3 to 8 rooms; random in that range when `n_rooms` is None)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if n_rooms is not None and (isinstance(n_rooms, bool) or not isinstance(n_rooms, (int, np.integer)) or not 3 <= n_rooms <= 8):
        raise ValueError(f"n_rooms must be an integer from 3 to 8, got {n_rooms!r}")
    rng = np.random.default_rng(seed)
    count = int(rng.integers(3, 9)) if n_rooms is None else n_rooms
    for _ in range(20):
        try:
            return _try_generate(rng, seed, count, objects_per_room)
        except LayoutError:
            continue
    raise LayoutError(f"could not lay out a {count}-room apartment for seed {seed}")


def _try_generate(rng: np.random.Generator, seed: int, n_rooms: int, objects_per_room: tuple[int, int]) -> Apartment:
    rooms = _rooms(rng, _room_types(rng, n_rooms))
    doorways = _doorways(rng, rooms)
    walls = _walls(rooms, doorways)
    furniture = _place_furniture(rng, rooms, doorways, next_id=10)
    xs = [v for r in rooms for v in (r.rect[0], r.rect[2])]
    ys = [v for r in rooms for v in (r.rect[1], r.rect[3])]
    bounds = (min(xs) - 0.5, min(ys) - 0.5, max(xs) + 0.5, max(ys) + 0.5)
    hub = next((r for t in ("hallway", "living_room") for r in rooms if r.type == t), rooms[0])
    apartment = Apartment(seed, rooms, doorways, walls, furniture, [], (0.0, 0.0, 0.0), bounds)
    grid, origin = occupancy_grid(apartment)
    clearance_cells = int(np.ceil((ROBOT_RADIUS + 0.03) / GRID_RESOLUTION))
    free = ~GridMap(grid, origin, GRID_RESOLUTION).inflated(clearance_cells * GRID_RESOLUTION).blocked
    start_cell = _nearest_free(free, _cell(hub.center, origin))
    if start_cell is None:
        raise LayoutError("no free cell to start the robot in")
    reachable = _reachable(free, start_cell)
    # Drop furniture whose access pose the robot cannot reach, unless a room would lose required furniture.
    kept = []
    for piece in furniture:
        ax, ay, _ = piece.access_pose()
        cell = _cell((ax, ay), origin)
        if 0 <= cell[0] < free.shape[0] and 0 <= cell[1] < free.shape[1] and reachable[cell]:
            kept.append(piece)
        elif piece.type.name in ROOM_FURNITURE[rooms[piece.room].type][0]:
            raise LayoutError(f"{piece.name} cannot be reached")
    apartment.furniture = kept
    next_id = max([p.id for p in kept] + [v for p in kept for v in p.part_ids.values()]) + 1
    apartment.objects = _place_objects(rng, rooms, kept, objects_per_room, next_id)
    sx, sy = origin[0] + start_cell[1] * GRID_RESOLUTION, origin[1] + start_cell[0] * GRID_RESOLUTION
    apartment.start = (float(sx), float(sy), float(rng.uniform(-np.pi, np.pi)))
    return apartment


def _cell(xy: tuple[float, float], origin: tuple[float, float]) -> tuple[int, int]:
    return (int(round((xy[1] - origin[1]) / GRID_RESOLUTION)), int(round((xy[0] - origin[0]) / GRID_RESOLUTION)))


def _nearest_free(free: np.ndarray, cell: tuple[int, int]) -> tuple[int, int] | None:
    rows, cols = np.nonzero(free)
    if len(rows) == 0:
        return None
    k = int(np.argmin((rows - cell[0]) ** 2 + (cols - cell[1]) ** 2))
    return int(rows[k]), int(cols[k])
