"""The household catalog: room types, furniture (boxes, articulated parts, receptacles) and small objects.

Furniture is described in its own frame: origin at the centre of its footprint on the floor,
x forward (the front faces +x, towards the room), y left, z up. `depth` runs along x, `width` along y.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mindpalace.envs.household.robot import ROBOT_RADIUS

ROOM_TYPES = ("kitchen", "living_room", "bedroom", "bathroom", "office", "hallway")

COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.80, 0.12, 0.12),
    "blue": (0.15, 0.30, 0.80),
    "green": (0.15, 0.60, 0.20),
    "yellow": (0.95, 0.85, 0.15),
    "white": (0.95, 0.95, 0.95),
    "black": (0.08, 0.08, 0.08),
    "orange": (0.95, 0.50, 0.10),
    "purple": (0.50, 0.20, 0.65),
    "pink": (0.95, 0.55, 0.70),
    "brown": (0.45, 0.28, 0.12),
    "grey": (0.50, 0.50, 0.50),
    "silver": (0.75, 0.75, 0.78),
}

WOOD = (0.55, 0.38, 0.22)
LIGHT_WOOD = (0.76, 0.60, 0.42)
WHITE = (0.92, 0.92, 0.90)
STEEL = (0.70, 0.72, 0.74)
FABRIC = (0.35, 0.40, 0.55)
HANDLE = (0.20, 0.20, 0.20)
DRAWER_DEPTH = 0.12  # m, bottom of a drawer's tray to the top of its front
ACCESS_DISTANCE = 0.65  # m, from a furniture front to where the robot's centre stands to use it


@dataclass(frozen=True)
class Box:
    """A box geom: centre and half sizes in the frame of its furniture (or of its part at rest)."""

    center: tuple[float, float, float]
    half: tuple[float, float, float]
    rgb: tuple[float, float, float]


@dataclass(frozen=True)
class Part:
    """An articulated part: a drawer (slide along +x) or a door (hinge about z at one side)."""

    name: str
    kind: str  # "drawer" or "door"
    boxes: tuple[Box, ...]
    joint_pos: tuple[float, float, float]  # in the furniture frame
    travel: float  # metres for a drawer (along +x), radians for a door (about +z, hinge on the +y side)


@dataclass(frozen=True)
class Receptacle:
    """A surface things can be put on or in: a rectangle at height `z` in the furniture frame.

    `part` names the drawer the surface moves with, or the door that must be open to reach it.
    `clearance` is the free height above the surface (inside a shelf or drawer).
    """

    name: str
    relation: str  # "on" or "in"
    center: tuple[float, float]
    half: tuple[float, float]
    z: float
    part: str | None = None
    clearance: float = 1.0


@dataclass(frozen=True)
class FurnitureType:
    name: str
    depth: float
    width: float
    height: float
    boxes: tuple[Box, ...]
    parts: tuple[Part, ...] = ()
    receptacles: tuple[Receptacle, ...] = ()
    freestanding: bool = False  # placed anywhere in a room rather than against a wall
    access_distance: float = ACCESS_DISTANCE  # front to the robot's centre when using it


def _slab(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, rgb: tuple[float, float, float]) -> Box:
    return Box(((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2), ((x1 - x0) / 2, (y1 - y0) / 2, (z1 - z0) / 2), rgb)


def _table(name: str, depth: float, width: float, height: float, rgb: tuple[float, float, float], free: bool) -> FurnitureType:
    d, w, t, leg = depth / 2, width / 2, 0.03, 0.03
    legs = tuple(
        _slab(sx * (d - leg) - leg, sx * (d - leg) + leg, sy * (w - leg) - leg, sy * (w - leg) + leg, 0, height - t, rgb)
        for sx in (-1, 1)
        for sy in (-1, 1)
    )
    top = _slab(-d, d, -w, w, height - t, height, rgb)
    surface = Receptacle("top", "on", (0.0, 0.0), (d - 0.05, w - 0.05), height)
    return FurnitureType(name, depth, width, height, (top, *legs), (), (surface,), free)


def _block(name: str, depth: float, width: float, height: float, rgb: tuple[float, float, float]) -> FurnitureType:
    """A solid piece with a usable top (tv stand, console, vanity)."""
    d, w = depth / 2, width / 2
    surface = Receptacle("top", "on", (0.0, 0.0), (d - 0.05, w - 0.05), height)
    return FurnitureType(name, depth, width, height, (_slab(-d, d, -w, w, 0, height, rgb),), (), (surface,))


def _drawer_unit(
    name: str, depth: float, width: float, height: float, drawers: int, rgb: tuple[float, float, float]
) -> FurnitureType:
    """A carcass with a top and `drawers` drawers stacked in front (counter, dresser, nightstand, desk)."""
    d, w, t = depth / 2, width / 2, 0.02
    carcass = [
        _slab(-d, d, -w, w, height - t, height, rgb),  # top
        _slab(-d, -d + t, -w, w, 0, height - t, rgb),  # back
        _slab(-d, d, -w, -w + t, 0, height - t, rgb),  # sides
        _slab(-d, d, w - t, w, 0, height - t, rgb),
        _slab(-d, d, -w, w, 0, 0.06, rgb),  # plinth
    ]
    slot = (height - t - 0.06) / drawers
    parts: list[Part] = []
    receptacles = [Receptacle("top", "on", (0.0, 0.0), (d - 0.05, w - 0.05), height)]
    inner_w = w - t - 0.005
    for i in range(drawers):
        z0 = 0.06 + i * slot + 0.005
        z1 = z0 + slot - 0.01
        dz = d - t  # drawer box runs from the back (-dz + 0.02) to the front (d)
        # A shallow tray under a full-height front: from a standing camera the front panel hides little of it.
        zb = z1 - DRAWER_DEPTH
        boxes = (
            _slab(-dz + 0.02, d, -inner_w, inner_w, zb, zb + 0.015, rgb),  # bottom
            _slab(d - 0.02, d, -inner_w, inner_w, z0, z1, LIGHT_WOOD),  # front panel
            _slab(-dz + 0.02, -dz + 0.035, -inner_w, inner_w, zb, z1 - 0.03, rgb),  # back
            _slab(-dz + 0.02, d - 0.02, -inner_w, -inner_w + 0.012, zb, z1 - 0.03, rgb),
            _slab(-dz + 0.02, d - 0.02, inner_w - 0.012, inner_w, zb, z1 - 0.03, rgb),
            _slab(d, d + 0.025, -0.06, 0.06, (z0 + z1) / 2 - 0.012, (z0 + z1) / 2 + 0.012, HANDLE),
        )
        part = f"drawer_{i + 1}"
        # Fully out, drawer and handle stay clear of a robot at its access pose (0.40 m from the front).
        travel = min(0.8 * depth, 0.36)
        parts.append(Part(part, "drawer", boxes, (0.0, 0.0, 0.0), travel=travel))
        # Things go in the part of the drawer that slides out, where they can be seen and reached.
        x_front, x_back = d - 0.05, d - travel + 0.03
        receptacles.append(
            Receptacle(
                part,
                "in",
                ((x_front + x_back) / 2, 0.0),
                ((x_front - x_back) / 2, inner_w - 0.04),
                zb + 0.015,
                part=part,
                clearance=(z1 - 0.03) - (zb + 0.015),
            )
        )
    return FurnitureType(name, depth, width, height, tuple(carcass), tuple(parts), tuple(receptacles))


def _cupboard(
    name: str,
    depth: float,
    width: float,
    height: float,
    shelves: int,
    rgb: tuple[float, float, float],
    door_rgb: tuple[float, float, float],
) -> FurnitureType:
    """A carcass with inner shelves behind one hinged door (cabinet, fridge)."""
    d, w, t = depth / 2, width / 2, 0.03
    boxes = [
        _slab(-d, d - t, -w, w, height - t, height, rgb),
        _slab(-d, d - t, -w, w, 0, 0.08, rgb),
        _slab(-d, -d + t, -w, w, 0.08, height - t, rgb),
        _slab(-d, d - t, -w, -w + t, 0.08, height - t, rgb),
        _slab(-d, d - t, w - t, w, 0.08, height - t, rgb),
    ]
    spacing = (height - t - 0.08) / shelves
    receptacles = [Receptacle("top", "on", (0.0, 0.0), (d - 0.05, w - 0.05), height)] if height < 1.3 else []
    for i in range(shelves):
        z = 0.08 + i * spacing
        if i > 0:
            boxes.append(_slab(-d + t, d - t, -w + t, w - t, z - 0.015, z, rgb))
        receptacles.append(
            Receptacle(
                f"shelf_{i + 1}", "in", (-t / 2, 0.0), (d - t - 0.06, w - t - 0.05), z, part="door", clearance=spacing - 0.03
            )
        )
    # The door's frame sits on its hinge at the front +y corner; the panel spans y in [-width, 0] when closed.
    door = Part(
        "door",
        "door",
        (
            _slab(-t / 2, t / 2, -2 * w, 0.0, 0.01, height - 0.01, door_rgb),
            _slab(t / 2, t / 2 + 0.03, -2 * w + 0.05, -2 * w + 0.08, height * 0.45, height * 0.65, HANDLE),
        ),
        joint_pos=(d - t / 2, w, 0.0),
        travel=1.75,
    )
    # Stand far enough out that the swinging door clears the base: |robot - hinge| >= door width + radius.
    clear = ((2 * w + ROBOT_RADIUS + 0.05) ** 2 - w**2) ** 0.5
    return FurnitureType(
        name, depth, width, height, tuple(boxes), (door,), tuple(receptacles), access_distance=max(ACCESS_DISTANCE, clear)
    )


def _seat(name: str, depth: float, width: float, seat_h: float, back_h: float, rgb: tuple[float, float, float]) -> FurnitureType:
    d, w = depth / 2, width / 2
    boxes = (
        _slab(-d, d, -w, w, 0, seat_h, rgb),
        _slab(-d, -d + 0.2, -w, w, seat_h, back_h, rgb),
    )
    surface = Receptacle("seat", "on", (0.1, 0.0), (d - 0.2 - 0.05, w - 0.1), seat_h)
    return FurnitureType(name, depth, width, back_h, boxes, (), (surface,))


def _bed() -> FurnitureType:
    d, w = 1.0, 0.75
    boxes = (
        _slab(-d, d, -w, w, 0.0, 0.3, WOOD),
        _slab(-d, d, -w, w, 0.3, 0.5, WHITE),
        _slab(-d, -d + 0.06, -w, w, 0.0, 0.9, WOOD),
    )
    return FurnitureType("bed", 2.0, 1.5, 0.9, boxes, (), (Receptacle("mattress", "on", (0.2, 0.0), (0.7, 0.6), 0.5),))


def _bookshelf() -> FurnitureType:
    d, w, h, t = 0.175, 0.45, 1.6, 0.02
    boxes = [_slab(-d, -d + t, -w, w, 0, h, WOOD), _slab(-d, d, -w, -w + t, 0, h, WOOD), _slab(-d, d, w - t, w, 0, h, WOOD)]
    receptacles = []
    for i, z in enumerate((0.05, 0.45, 0.85, 1.25)):
        boxes.append(_slab(-d, d, -w, w, z - t, z, WOOD))
        receptacles.append(Receptacle(f"shelf_{i + 1}", "on", (0.01, 0.0), (d - t - 0.04, w - t - 0.04), z, clearance=0.38))
    boxes.append(_slab(-d, d, -w, w, h - t, h, WOOD))
    return FurnitureType("bookshelf", 2 * d, 2 * w, h, tuple(boxes), (), tuple(receptacles))


def _toilet() -> FurnitureType:
    boxes = (_slab(-0.3, 0.1, -0.19, 0.19, 0, 0.42, WHITE), _slab(-0.35, -0.15, -0.22, 0.22, 0.42, 0.8, WHITE))
    return FurnitureType("toilet", 0.7, 0.45, 0.8, boxes, (), (Receptacle("tank", "on", (-0.25, 0.0), (0.05, 0.17), 0.8),))


FURNITURE: dict[str, FurnitureType] = {
    f.name: f
    for f in (
        _table("table", 0.9, 1.4, 0.75, WOOD, free=True),
        _table("coffee_table", 0.6, 1.0, 0.42, LIGHT_WOOD, free=True),
        _drawer_unit("counter", 0.6, 1.6, 0.9, 2, WHITE),
        _cupboard("fridge", 0.65, 0.7, 1.8, 3, STEEL, WHITE),
        _cupboard("cabinet", 0.45, 0.8, 0.9, 2, LIGHT_WOOD, WOOD),
        _drawer_unit("dresser", 0.5, 1.2, 0.9, 3, WOOD),
        _drawer_unit("nightstand", 0.4, 0.5, 0.55, 1, WOOD),
        _bed(),
        _seat("sofa", 0.9, 2.0, 0.45, 0.85, FABRIC),
        _seat("armchair", 0.8, 0.8, 0.45, 0.9, (0.55, 0.25, 0.20)),
        _drawer_unit("desk", 0.7, 1.3, 0.75, 1, LIGHT_WOOD),
        _bookshelf(),
        _block("tv_stand", 0.45, 1.5, 0.5, (0.15, 0.15, 0.15)),
        _block("vanity", 0.5, 0.9, 0.85, WHITE),
        _table("console_table", 0.35, 1.1, 0.8, WOOD, free=False),
        _toilet(),
    )
}

# Per room type: furniture that every such room has, then furniture it may have.
ROOM_FURNITURE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "kitchen": (("counter", "fridge", "cabinet"), ("table",)),
    "living_room": (("sofa", "coffee_table"), ("tv_stand", "bookshelf", "armchair")),
    "bedroom": (("bed", "nightstand"), ("dresser", "desk")),
    "bathroom": (("vanity",), ("toilet", "cabinet")),
    "office": (("desk", "bookshelf"), ("cabinet", "armchair")),
    "hallway": (("console_table",), ("cabinet",)),
}

# Room size ranges in metres: (min width, max width, min depth, max depth).
ROOM_SIZES: dict[str, tuple[float, float, float, float]] = {
    "kitchen": (3.4, 4.4, 3.4, 4.2),
    "living_room": (4.4, 5.6, 4.0, 5.0),
    "bedroom": (3.6, 4.4, 3.6, 4.4),
    "bathroom": (2.6, 3.0, 2.6, 3.2),
    "office": (3.2, 4.0, 3.2, 4.0),
    "hallway": (0.0, 0.0, 1.6, 1.8),
}


@dataclass(frozen=True)
class ObjectCategory:
    """A small-object category. `shape` is a MuJoCo geom type, `size` its MuJoCo size (half extents)."""

    name: str
    shape: str  # "box", "cylinder" or "sphere"
    size: tuple[float, ...]
    colors: tuple[str, ...]
    material: str
    function: str
    rooms: tuple[str, ...]
    receptacles: tuple[str, ...] = field(default=())  # furniture types; empty = any in its rooms

    @property
    def half_height(self) -> float:
        return self.size[-1] if self.shape in ("box", "cylinder") else self.size[0]

    @property
    def footprint_radius(self) -> float:
        if self.shape == "box":
            return float((self.size[0] ** 2 + self.size[1] ** 2) ** 0.5)
        return self.size[0]


K, L, B, BA, O, H = "kitchen", "living_room", "bedroom", "bathroom", "office", "hallway"

OBJECTS: dict[str, ObjectCategory] = {
    c.name: c
    for c in (
        ObjectCategory(
            "mug", "cylinder", (0.04, 0.05), ("red", "blue", "white", "green", "yellow"), "ceramic", "for drinking", (K, L, O)
        ),
        ObjectCategory("cup", "cylinder", (0.035, 0.045), ("white", "blue", "pink"), "glass", "for drinking water", (K, L, B)),
        ObjectCategory("bowl", "cylinder", (0.07, 0.03), ("white", "blue", "green"), "ceramic", "for eating cereal", (K,)),
        ObjectCategory("plate", "cylinder", (0.11, 0.01), ("white", "blue"), "ceramic", "for serving food", (K,)),
        ObjectCategory(
            "bottle", "cylinder", (0.035, 0.11), ("blue", "green", "silver"), "plastic", "for carrying water", (K, O, L)
        ),
        ObjectCategory(
            "soda_can", "cylinder", (0.033, 0.06), ("red", "silver", "green"), "aluminium", "for drinking soda", (K, L)
        ),
        ObjectCategory("spoon", "box", (0.08, 0.015, 0.008), ("silver",), "metal", "for eating soup", (K,)),
        ObjectCategory("fork", "box", (0.08, 0.016, 0.008), ("silver",), "metal", "for eating", (K,)),
        ObjectCategory("knife", "box", (0.1, 0.012, 0.006), ("silver", "black"), "metal", "for cutting food", (K,)),
        ObjectCategory("apple", "sphere", (0.04,), ("red", "green"), "organic", "a fruit to eat", (K, L)),
        ObjectCategory("orange", "sphere", (0.042,), ("orange",), "organic", "a fruit to eat", (K,)),
        ObjectCategory("banana", "box", (0.09, 0.02, 0.02), ("yellow",), "organic", "a fruit to eat", (K,)),
        ObjectCategory("cereal_box", "box", (0.1, 0.035, 0.15), ("yellow", "red", "blue"), "cardboard", "breakfast food", (K,)),
        ObjectCategory("sponge", "box", (0.05, 0.035, 0.02), ("yellow", "green"), "foam", "for cleaning dishes", (K, BA)),
        ObjectCategory("book", "box", (0.1, 0.07, 0.02), ("red", "blue", "green", "black"), "paper", "for reading", (L, B, O)),
        ObjectCategory(
            "notebook", "box", (0.1, 0.075, 0.008), ("black", "purple", "orange"), "paper", "for writing notes", (O, B)
        ),
        ObjectCategory("pen", "box", (0.07, 0.006, 0.006), ("blue", "black", "red"), "plastic", "for writing", (O, B)),
        ObjectCategory("laptop", "box", (0.17, 0.12, 0.012), ("silver", "black"), "aluminium", "for working", (O, L, B)),
        ObjectCategory(
            "cell_phone", "box", (0.075, 0.037, 0.005), ("black", "white", "blue"), "glass", "for calling people", (L, B, O, K)
        ),
        ObjectCategory(
            "remote_control", "box", (0.09, 0.025, 0.01), ("black", "grey"), "plastic", "for controlling the TV", (L,)
        ),
        ObjectCategory("keys", "box", (0.04, 0.02, 0.005), ("silver",), "metal", "for opening the front door", (H, L, K)),
        ObjectCategory("wallet", "box", (0.055, 0.045, 0.012), ("brown", "black"), "leather", "for carrying money", (H, B, L)),
        ObjectCategory(
            "glasses", "box", (0.07, 0.025, 0.015), ("black", "brown"), "plastic", "for reading small print", (B, L, O)
        ),
        ObjectCategory("watch", "cylinder", (0.022, 0.006), ("silver", "black"), "metal", "for telling the time", (B, BA)),
        ObjectCategory(
            "headphones", "box", (0.09, 0.08, 0.03), ("black", "white", "red"), "plastic", "for listening to music", (O, B, L)
        ),
        ObjectCategory(
            "toothbrush", "box", (0.09, 0.01, 0.01), ("blue", "green", "pink"), "plastic", "for brushing teeth", (BA,)
        ),
        ObjectCategory("soap", "box", (0.045, 0.03, 0.015), ("white", "pink", "green"), "soap", "for washing hands", (BA, K)),
        ObjectCategory("shampoo", "cylinder", (0.03, 0.09), ("blue", "orange", "white"), "plastic", "for washing hair", (BA,)),
        ObjectCategory("towel", "box", (0.15, 0.1, 0.03), ("white", "blue", "pink"), "cotton", "for drying off", (BA, B)),
        ObjectCategory(
            "medicine_bottle", "cylinder", (0.025, 0.045), ("orange", "white"), "plastic", "for taking medicine", (BA, K, B)
        ),
        ObjectCategory("candle", "cylinder", (0.03, 0.05), ("white", "red", "purple"), "wax", "for light and scent", (L, B, BA)),
        ObjectCategory("vase", "cylinder", (0.05, 0.1), ("blue", "white", "green"), "glass", "for holding flowers", (L, H)),
        ObjectCategory("plant_pot", "cylinder", (0.07, 0.08), ("brown", "white"), "terracotta", "a small houseplant", (L, O, H)),
        ObjectCategory("teddy_bear", "box", (0.07, 0.06, 0.1), ("brown", "white", "pink"), "fabric", "a soft toy", (B, L)),
        ObjectCategory("tennis_ball", "sphere", (0.033,), ("yellow", "green"), "felt", "for playing tennis", (L, B, H)),
        ObjectCategory("toy_car", "box", (0.06, 0.03, 0.025), ("red", "blue", "yellow"), "plastic", "a toy", (L, B)),
        ObjectCategory("alarm_clock", "box", (0.06, 0.04, 0.05), ("black", "white", "red"), "plastic", "for waking up", (B,)),
        ObjectCategory("scissors", "box", (0.08, 0.03, 0.005), ("red", "black", "orange"), "metal", "for cutting paper", (O, K)),
        ObjectCategory("stapler", "box", (0.08, 0.02, 0.03), ("black", "red"), "metal", "for stapling paper", (O,)),
        ObjectCategory("hat", "cylinder", (0.11, 0.05), ("black", "brown", "blue"), "fabric", "to wear outside", (H, B)),
    )
}
