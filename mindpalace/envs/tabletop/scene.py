"""The tabletop's layout (fixed) and what changes per episode (the nuisance: button position and instance ids).

World frame (REP-103): x forward from the robot, y left, z up; the table top is at z = TABLE_Z. The robot
stands behind the table's back edge (x < 0) and faces +x. The drawer unit stands on the table's left, its
three drawers opening towards -y; the four patches surround the centre zone on the right half; the button
stands somewhere in a region at the front left, drawn per episode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TABLE_Z = 0.75
TABLE_HALF = (0.45, 0.6)  # m, x and y half extents of the top
TABLE_THICKNESS = 0.04

BLOCK_HALF = 0.02  # m, the blocks are 4 cm cubes
PATCH_HALF = 0.045  # m, the patches are 9 cm squares
CENTRE_HALF = 0.05
CENTRE_XY = (0.0, -0.2)
PATCH_XY = {
    "patch_front": (0.16, -0.2),
    "patch_back": (-0.16, -0.2),
    "patch_left": (0.0, -0.04),
    "patch_right": (0.0, -0.36),
}

DRAWER_UNIT_XY = (0.05, 0.45)
DRAWER_UNIT_HALF = (0.13, 0.11)  # x, y
DRAWER_UNIT_HEIGHT = 0.335
DRAWERS = ("drawer_bottom", "drawer_middle", "drawer_top")
DRAWER_LEVELS = {"drawer_bottom": 0.0675, "drawer_middle": 0.1725, "drawer_top": 0.2775}  # slot centres above the table
DRAWER_TRAVEL = 0.16  # m a drawer slides out
DRAWER_FRONT_Y = -0.105  # the front panel's centre, in the drawer's frame (the unit's centre at the slot's height)
HANDLE_Y = -0.145  # the handle bar's axis, in the drawer's frame
HANDLE_RADIUS = 0.007
DRAWER_OPEN_FRACTION = 0.5  # open: slid out beyond this share of its travel
DRAWER_CLOSED_AT = 0.01  # m; closed: within this of shut

BUTTON_REGION = ((0.24, 0.36), (-0.02, 0.2))  # x and y ranges the button's centre is drawn from
BUTTON_RADIUS = 0.035
BUTTON_BASE_HEIGHT = 0.02
BUTTON_CAP_HEIGHT = 0.02
BUTTON_TRAVEL = 0.012  # m the cap goes down
BUTTON_PRESSED_AT = -0.008  # cap joint below this: pressed
BUTTON_RELEASED_AT = -0.004  # and back above this before the next press counts

ROBOT_BASE_XY = (-0.75, 0.0)  # the fixed base the gripper's workspace is described from
HOME_TCP = (-0.25, 0.0, TABLE_Z + 0.3)

# Entities and the segmentation kind and label of each; blocks are added per task.
STATIC_ENTITIES: dict[str, tuple[str, str]] = {
    "floor": ("structure", "floor"),
    "table": ("furniture", "table"),
    "drawer_unit": ("furniture", "dresser"),  # "drawer unit" reads too much like "drawer" to a text embedding
    **{drawer: ("part", "drawer") for drawer in DRAWERS},
    "button": ("part", "button"),
    **{patch: ("furniture", "patch") for patch in PATCH_XY},
    "centre": ("furniture", "centre_zone"),
    "robot": ("robot", "gripper"),
}
BLOCKS = ("block_a", "block_b")
MAX_INSTANCE_ID = 255


def place_xy(place: str) -> tuple[float, float]:
    """The centre of a patch or of the centre zone."""
    return CENTRE_XY if place == "centre" else PATCH_XY[place]


def place_half(place: str) -> float:
    return CENTRE_HALF if place == "centre" else PATCH_HALF


@dataclass(frozen=True)
class Scene:
    """One episode's scene: the task's start state and the nuisance drawn from the seed.

    `blocks` maps a block to the place it starts on; `open_drawer` is the drawer that starts open.
    `ids` maps every entity to its segmentation instance id (drawn for all four patches, whichever are on the
    table, so that the draw does not depend on the task). Nuisance (the button's position, the ids)
    depends on `seed` only, never on the variation, so two variations with one seed look the same
    wherever their histories agree.
    """

    seed: int
    task: str
    variation: int
    button_xy: tuple[float, float]
    ids: dict[str, int]
    blocks: dict[str, str] = field(default_factory=dict)
    open_drawer: str | None = None
    patches: tuple[str, ...] = tuple(PATCH_XY)  # the patches on the table (a task may have fewer)

    @property
    def entities(self) -> dict[str, tuple[str, str]]:
        static = {key: value for key, value in STATIC_ENTITIES.items() if key not in PATCH_XY or key in self.patches}
        return {**static, **{block: ("object", "block") for block in self.blocks}}

    @property
    def places(self) -> tuple[str, ...]:
        """Where a block can be put down in this scene."""
        return (*self.patches, "centre")

    def key_of(self, instance_id: int) -> str | None:
        return next((key for key, value in self.ids.items() if value == instance_id), None)


def draw_nuisance(seed: int, block_keys: tuple[str, ...]) -> tuple[tuple[float, float], dict[str, int]]:
    """The button's position and a shuffled instance id for every entity, from the seed alone."""
    rng = np.random.default_rng([int(seed), 7919])
    (x0, x1), (y0, y1) = BUTTON_REGION
    button = (float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1)))
    keys = sorted({**STATIC_ENTITIES, **dict.fromkeys(BLOCKS)})
    values = rng.choice(MAX_INSTANCE_ID, size=len(keys), replace=False) + 1
    ids = {key: int(value) for key, value in zip(keys, values) if key in STATIC_ENTITIES or key in block_keys}
    return button, ids
