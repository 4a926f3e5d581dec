"""MJCF of the tabletop: a table, a unit of three drawers, four patches and a centre zone, blocks, a push
button on a spring, and the floating parallel gripper with its wrist camera; three fixed cameras.

Collision design: the gripper collides with everything it can touch; blocks with the gripper, the table,
the drawer unit and each other; drawers and the button cap only with the gripper (their joints keep them
in their slots). Patches and the centre zone are flat decals on the table, seen but not felt.
Geom names carry the entity's key ("e<key>/..."); the env maps keys to the episode's shuffled instance ids.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from mindpalace.envs.tabletop.robot import FINGER_PAD_HALF, FINGER_PAD_Z, FINGER_TRAVEL, GRIP_FORCE, PALM_HALF, PALM_Z
from mindpalace.envs.tabletop.scene import (
    BLOCK_HALF,
    BUTTON_BASE_HEIGHT,
    BUTTON_CAP_HEIGHT,
    BUTTON_RADIUS,
    BUTTON_TRAVEL,
    CENTRE_HALF,
    CENTRE_XY,
    DRAWER_FRONT_Y,
    DRAWER_LEVELS,
    DRAWER_TRAVEL,
    DRAWER_UNIT_HALF,
    DRAWER_UNIT_HEIGHT,
    DRAWER_UNIT_XY,
    DRAWERS,
    HANDLE_RADIUS,
    HANDLE_Y,
    HOME_TCP,
    PATCH_HALF,
    PATCH_XY,
    ROBOT_BASE_XY,
    TABLE_HALF,
    TABLE_THICKNESS,
    TABLE_Z,
)

# contype / conaffinity bits: two geoms touch when one's contype meets the other's conaffinity.
GRIPPER, BLOCK, STATIC, DRAWER, BUTTON = 1, 2, 4, 8, 16
COLLIDES = {
    GRIPPER: BLOCK | STATIC | DRAWER | BUTTON,
    BLOCK: GRIPPER | BLOCK | STATIC,
    STATIC: GRIPPER | BLOCK,
    DRAWER: GRIPPER,
    BUTTON: GRIPPER,
}

CAMERA_FOVY = {"front": 62.0, "left_shoulder": 62.0, "right_shoulder": 62.0, "wrist": 75.0}
# Fixed cameras: (position, the point they look at), world frame.
FIXED_CAMERAS = {
    "front": ((0.72, 0.08, TABLE_Z + 0.62), (0.0, 0.08, TABLE_Z)),
    "left_shoulder": ((-0.45, 0.42, TABLE_Z + 0.62), (0.05, 0.05, TABLE_Z)),
    "right_shoulder": ((-0.45, -0.42, TABLE_Z + 0.62), (0.05, -0.05, TABLE_Z)),
}

WOOD = (0.62, 0.45, 0.3)
UNIT = (0.85, 0.84, 0.8)
DRAWER_FRONT = (0.72, 0.78, 0.86)
METAL = (0.35, 0.35, 0.38)
PATCH = (0.2, 0.55, 0.9)
CENTRE = (0.95, 0.8, 0.2)
BLOCK_RGB = (0.85, 0.15, 0.15)
BUTTON_RGB = (0.9, 0.1, 0.1)
GRIPPER_RGB = (0.25, 0.25, 0.28)


@dataclass(frozen=True)
class ModelOptions:
    width: int = 128
    height: int = 128
    timestep: float = 0.004
    shadows: bool = False
    max_depth: float = 3.0


def _fmt(values: tuple[float, ...] | list[float] | np.ndarray) -> str:
    return " ".join(f"{float(v):.6g}" for v in values)


def _geom(parent: ET.Element, name: str, group: int | None, rgb: tuple[float, float, float], **attributes: str) -> None:
    """A geom of collision group `group` (None: seen, not felt)."""
    contype, conaffinity = (group, COLLIDES[group]) if group is not None else (0, 0)
    ET.SubElement(
        parent,
        "geom",
        {"name": name, "rgba": _fmt((*rgb, 1.0)), "contype": str(contype), "conaffinity": str(conaffinity), **attributes},
    )


def _box(parent: ET.Element, name: str, group: int | None, rgb: tuple[float, float, float], pos, half, **attributes: str) -> None:
    _geom(parent, name, group, rgb, type="box", pos=_fmt(pos), size=_fmt(half), **attributes)


def look_at_axes(position: tuple[float, float, float], target: tuple[float, float, float]) -> str:
    """MJCF xyaxes of a camera at `position` looking at `target` (MuJoCo cameras look along -z, y up)."""
    forward = np.subtract(target, position, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return _fmt((*right, *up))


def _table(world: ET.Element, patches: tuple[str, ...]) -> None:
    hx, hy = TABLE_HALF
    table = ET.SubElement(world, "body", name="table", pos=_fmt((0, 0, TABLE_Z)))
    _box(
        table, "etable/top", STATIC, WOOD, (0, 0, -TABLE_THICKNESS / 2), (hx, hy, TABLE_THICKNESS / 2), friction="0.8 0.01 0.001"
    )
    leg_height = (TABLE_Z - TABLE_THICKNESS) / 2
    for k, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        _box(
            table,
            f"etable/leg{k}",
            None,
            WOOD,
            (sx * (hx - 0.04), sy * (hy - 0.04), -TABLE_THICKNESS - leg_height),
            (0.03, 0.03, leg_height),
        )
    decal = 0.0005
    for key in patches:
        x, y = PATCH_XY[key]
        _box(table, f"e{key}/decal", None, PATCH, (x, y, decal), (PATCH_HALF, PATCH_HALF, decal))
    _box(table, "ecentre/decal", None, CENTRE, (*CENTRE_XY, decal), (CENTRE_HALF, CENTRE_HALF, decal))


def _drawer_unit(world: ET.Element) -> None:
    hx, hy = DRAWER_UNIT_HALF
    height = DRAWER_UNIT_HEIGHT
    unit = ET.SubElement(world, "body", name="drawer_unit", pos=_fmt((*DRAWER_UNIT_XY, TABLE_Z)))
    wall = 0.005
    shell = [
        ((-hx + wall, 0, height / 2), (wall, hy, height / 2)),  # side walls
        ((hx - wall, 0, height / 2), (wall, hy, height / 2)),
        ((0, hy - wall, height / 2), (hx - 2 * wall, wall, height / 2)),  # back
        ((0, 0, height - wall), (hx, hy, wall)),  # top
        ((0, 0, 0.01), (hx - 2 * wall, hy - 2 * wall, 0.01)),  # plinth
        ((0, 0, 0.12), (hx - 2 * wall, hy - 2 * wall, wall)),  # dividers between the drawers
        ((0, 0, 0.225), (hx - 2 * wall, hy - 2 * wall, wall)),
    ]
    for k, (pos, half) in enumerate(shell):
        _box(unit, f"edrawer_unit/{k}", STATIC, UNIT, pos, half)
    inner = hx - 2 * wall
    for drawer in DRAWERS:
        body = ET.SubElement(unit, "body", name=drawer, pos=_fmt((0, 0, DRAWER_LEVELS[drawer])))
        ET.SubElement(body, "inertial", pos="0 0 0", mass="0.6", diaginertia="0.004 0.004 0.004")
        # Opening slides the drawer towards -y, out of the unit's front.
        ET.SubElement(
            body, "joint", name=drawer, type="slide", axis="0 -1 0", range=_fmt((0, DRAWER_TRAVEL)), damping="3", armature="0.05"
        )
        _box(body, f"e{drawer}/front", DRAWER, DRAWER_FRONT, (0, DRAWER_FRONT_Y, 0), (inner - 0.002, 0.007, 0.045))
        _box(body, f"e{drawer}/bottom", None, DRAWER_FRONT, (0, -0.003, -0.04), (inner - 0.006, 0.095, 0.004))
        for side in (-1, 1):
            _box(
                body, f"e{drawer}/side{side}", None, DRAWER_FRONT, (side * (inner - 0.008), -0.003, -0.015), (0.004, 0.095, 0.025)
            )
        _box(body, f"e{drawer}/back", None, DRAWER_FRONT, (0, 0.088, -0.015), (inner - 0.006, 0.004, 0.025))
        for k, x in enumerate((-0.045, 0.045)):
            post_y = (DRAWER_FRONT_Y - 0.007 + HANDLE_Y) / 2
            _box(body, f"e{drawer}/post{k}", DRAWER, METAL, (x, post_y, 0), (0.005, abs(post_y - HANDLE_Y), 0.005))
        _geom(
            body,
            f"e{drawer}/handle",
            DRAWER,
            METAL,
            type="capsule",
            fromto=_fmt((-0.055, HANDLE_Y, 0, 0.055, HANDLE_Y, 0)),
            size=_fmt((HANDLE_RADIUS,)),
            friction="1.2 0.02 0.002",
        )


def _button(world: ET.Element) -> None:
    # The env moves the button per episode (body_pos); the cap sits on a spring and rests against its upper stop.
    base = ET.SubElement(world, "body", name="button", pos=_fmt((0.3, 0.1, TABLE_Z)))
    _geom(
        base,
        "ebutton/base",
        STATIC,
        METAL,
        type="cylinder",
        pos=_fmt((0, 0, BUTTON_BASE_HEIGHT / 2)),
        size=_fmt((BUTTON_RADIUS, BUTTON_BASE_HEIGHT / 2)),
    )
    cap = ET.SubElement(base, "body", name="button_cap", pos=_fmt((0, 0, BUTTON_BASE_HEIGHT)))
    ET.SubElement(cap, "inertial", pos="0 0 0.01", mass="0.05", diaginertia="1e-5 1e-5 1e-5")
    ET.SubElement(
        cap,
        "joint",
        name="button",
        type="slide",
        axis="0 0 1",
        range=_fmt((-BUTTON_TRAVEL, 0)),
        stiffness="300",
        springref="0.01",
        damping="3",
    )
    _geom(
        cap,
        "ebutton/cap",
        BUTTON,
        BUTTON_RGB,
        type="cylinder",
        pos=_fmt((0, 0, BUTTON_CAP_HEIGHT / 2)),
        size=_fmt((BUTTON_RADIUS - 0.01, BUTTON_CAP_HEIGHT / 2)),
    )


def _gripper(world: ET.Element, options: ModelOptions) -> None:
    ET.SubElement(world, "body", name="gripper_target", mocap="true", pos=_fmt(HOME_TCP))
    hand = ET.SubElement(world, "body", name="gripper", pos=_fmt(HOME_TCP), gravcomp="1")
    ET.SubElement(hand, "freejoint", name="gripper")
    ET.SubElement(hand, "inertial", pos=_fmt((0, 0, PALM_Z)), mass="0.6", diaginertia="0.002 0.002 0.002")
    ET.SubElement(hand, "site", name="tcp", size="0.005", rgba="0 0 0 0")
    _box(hand, "erobot/palm", GRIPPER, GRIPPER_RGB, (0, 0, PALM_Z), PALM_HALF)
    _geom(hand, "erobot/wrist", GRIPPER, GRIPPER_RGB, type="cylinder", pos=_fmt((0, 0, PALM_Z + 0.04)), size="0.03 0.025")
    # The wrist camera looks along the fingers (the gripper's -z), from beside the palm.
    ET.SubElement(
        hand,
        "camera",
        name="wrist",
        pos=_fmt((0.045, 0, PALM_Z + 0.005)),
        xyaxes="0 -1 0 1 0 0",
        fovy=_fmt((CAMERA_FOVY["wrist"],)),
    )
    px, py, pz = FINGER_PAD_HALF
    for side, name in ((1, "finger_left"), (-1, "finger_right")):
        finger = ET.SubElement(hand, "body", name=name, pos="0 0 0", gravcomp="1")
        ET.SubElement(finger, "inertial", pos=_fmt((0, side * py, FINGER_PAD_Z)), mass="0.05", diaginertia="2e-5 2e-5 2e-5")
        ET.SubElement(
            finger,
            "joint",
            name=name,
            type="slide",
            axis=_fmt((0, side, 0)),
            range=_fmt((0, FINGER_TRAVEL)),
            damping="2",
            armature="0.01",
        )
        _box(
            finger,
            f"erobot/{name}",
            GRIPPER,
            (0.15, 0.15, 0.15),
            (0, side * py, FINGER_PAD_Z),
            (px, py, pz),
            friction="1.5 0.02 0.002",
            condim="4",
        )


def _block(world: ET.Element, key: str, x: float, y: float) -> None:
    body = ET.SubElement(world, "body", name=key, pos=_fmt((x, y, TABLE_Z + BLOCK_HALF)))
    ET.SubElement(body, "freejoint", name=key)
    _box(body, f"e{key}/box", BLOCK, BLOCK_RGB, (0, 0, 0), (BLOCK_HALF,) * 3, mass="0.05", friction="1.0 0.01 0.001")


def build_mjcf(
    blocks: tuple[str, ...], patches: tuple[str, ...] = tuple(PATCH_XY), options: ModelOptions = ModelOptions()
) -> str:
    """MJCF text of the tabletop with these blocks and patches (keys); the env sets the blocks' start poses and the
    button's place."""
    root = ET.Element("mujoco", model="tabletop")
    ET.SubElement(root, "compiler", angle="radian", autolimits="true")
    # noslip: a block held by friction does not creep in the fingers, whatever path the hand takes.
    ET.SubElement(
        root, "option", timestep=_fmt((options.timestep,)), integrator="implicitfast", cone="elliptic", noslip_iterations="4"
    )
    ET.SubElement(root, "statistic", extent="2", center=_fmt((0, 0, TABLE_Z)))
    visual = ET.SubElement(root, "visual")
    ET.SubElement(visual, "global", offwidth=str(max(options.width, 256)), offheight=str(max(options.height, 256)))
    # No multisampling: on a software renderer it costs more than the 128x128 images are worth.
    ET.SubElement(visual, "quality", shadowsize="1024" if options.shadows else "0", offsamples="0")
    ET.SubElement(visual, "headlight", ambient="0.4 0.4 0.4", diffuse="0.4 0.4 0.4", specular="0 0 0")
    ET.SubElement(visual, "map", znear=_fmt((0.01 / 2,)), zfar=_fmt((max(options.max_depth * 1.5, 4.0) / 2,)))
    world = ET.SubElement(root, "worldbody")
    ET.SubElement(
        world,
        "light",
        name="sun",
        directional="true",
        pos="0 0 3",
        dir="0.3 0.2 -1",
        diffuse="0.5 0.5 0.5",
        castshadow="true" if options.shadows else "false",
    )
    ET.SubElement(
        world, "geom", name="efloor/plane", type="plane", size="3 3 0.1", rgba="0.55 0.55 0.58 1", contype="0", conaffinity="0"
    )
    for name, (position, target) in FIXED_CAMERAS.items():
        ET.SubElement(
            world, "camera", name=name, pos=_fmt(position), xyaxes=look_at_axes(position, target), fovy=_fmt((CAMERA_FOVY[name],))
        )
    # The robot's base: a pedestal behind the table that the gripper's workspace is described from.
    _geom(
        world,
        "erobot/pedestal",
        None,
        GRIPPER_RGB,
        type="cylinder",
        pos=_fmt((*ROBOT_BASE_XY, TABLE_Z / 2)),
        size=_fmt((0.12, TABLE_Z / 2)),
    )
    _table(world, patches)
    _drawer_unit(world)
    _button(world)
    for k, key in enumerate(blocks):
        _block(world, key, 0.3, -0.5 + 0.1 * k)
    _gripper(world, options)
    equality = ET.SubElement(root, "equality")
    ET.SubElement(equality, "weld", name="hand", body1="gripper_target", body2="gripper", solref="0.01 1")
    contact = ET.SubElement(root, "contact")
    ET.SubElement(contact, "exclude", body1="finger_left", body2="finger_right")
    # One position actuator per finger, with equal gains: a grasp stops where the two forces balance, with the
    # object centred between the pads (below the force limit, which only bounds a squeeze on nothing).
    actuators = ET.SubElement(root, "actuator")
    for name in ("finger_left", "finger_right"):
        ET.SubElement(
            actuators,
            "position",
            name=name,
            joint=name,
            kp="400",
            kv="10",
            ctrlrange=_fmt((0, FINGER_TRAVEL)),
            forcerange=_fmt((-GRIP_FORCE, GRIP_FORCE)),
        )
    return ET.tostring(root, encoding="unicode")


def hand_quaternion(pointing: str) -> tuple[float, float, float, float]:
    """The gripper orientation (x, y, z, w) that points the fingers `down` or `left` (+y, into a drawer's front).

    Pointing left, the fingers close vertically: above and below a horizontal handle.
    """
    if pointing == "down":
        return (0.0, 0.0, 0.0, 1.0)
    if pointing == "left":
        half = math.pi / 4  # a quarter turn about x: the fingers' -z onto +y, their closing y onto +z
        return (math.sin(half), 0.0, 0.0, math.cos(half))
    raise ValueError(f"pointing must be 'down' or 'left', got {pointing!r}")
