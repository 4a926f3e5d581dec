"""Turn a generated `Apartment` into MJCF for MuJoCo.

Collision design: only the robot base collides (with walls, furniture and articulated parts).
Small objects are kinematic, as in Habitat's kinematic mode: gravity-compensated free bodies with
no contacts, placed exactly on their surfaces; a grasp is a weld equality to the gripper.
Geom names carry the segmentation instance id ("i<id>/..."), so ids survive model compilation.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from mindpalace.envs.household.catalog import COLORS, Box, FurnitureType
from mindpalace.envs.household.layout import WALL_HEIGHT, Apartment, Furniture
from mindpalace.envs.household.robot import GRIPPER_OFFSET, HEAD_PAN_RANGE, HEAD_PIVOT, HEAD_TILT_RANGE, ROBOT_RADIUS

FLOOR_ID, WALL_ID, ROBOT_ID = 1, 2, 3


@dataclass(frozen=True)
class ModelOptions:
    width: int = 320
    height: int = 240
    vertical_fov_deg: float = 73.74
    timestep: float = 0.01
    shadows: bool = False
    max_depth: float = 10.0


def _fmt(values: tuple[float, ...] | list[float] | np.ndarray) -> str:
    return " ".join(f"{float(v):.5g}" for v in values)


def _rgba(rgb: tuple[float, float, float], alpha: float = 1.0) -> str:
    return _fmt((*rgb, alpha))


def _box(parent: ET.Element, name: str, box: Box, contype: int, conaffinity: int) -> None:
    ET.SubElement(
        parent,
        "geom",
        name=name,
        type="box",
        pos=_fmt(box.center),
        size=_fmt(box.half),
        rgba=_rgba(box.rgb),
        contype=str(contype),
        conaffinity=str(conaffinity),
    )


def _furniture(world: ET.Element, piece: Furniture) -> None:
    kind: FurnitureType = piece.type
    body = ET.SubElement(world, "body", name=f"f{piece.id}", pos=_fmt((piece.x, piece.y, 0.0)), euler=_fmt((0, 0, piece.yaw)))
    for k, box in enumerate(kind.boxes):
        _box(body, f"i{piece.id}/{piece.name}/{k}", box, 1, 0)
    for part in kind.parts:
        part_id = piece.part_ids[part.name]
        child = ET.SubElement(body, "body", name=f"p{part_id}", pos=_fmt(part.joint_pos), gravcomp="1")
        # A light box inertia keeps the part stable under its position actuator.
        ET.SubElement(child, "inertial", pos="0 0 0", mass="2", diaginertia="0.05 0.05 0.05")
        if part.kind == "drawer":
            ET.SubElement(
                child,
                "joint",
                name=f"j{part_id}",
                type="slide",
                axis="1 0 0",
                range=_fmt((0, part.travel)),
                damping="40",
                armature="1",
            )
        else:
            ET.SubElement(
                child,
                "joint",
                name=f"j{part_id}",
                type="hinge",
                axis="0 0 1",
                range=_fmt((0, part.travel)),
                damping="10",
                armature="0.2",
            )
        for k, box in enumerate(part.boxes):
            _box(child, f"i{part_id}/{piece.name}/{part.name}/{k}", box, 1, 0)


def _robot(world: ET.Element, vertical_fov_deg: float) -> None:
    # The base sits at the origin so its slide and hinge joint values are its world x, y and yaw.
    base = ET.SubElement(world, "body", name="base", pos="0 0 0")
    ET.SubElement(base, "joint", name="base_x", type="slide", axis="1 0 0", damping="0", armature="0")
    ET.SubElement(base, "joint", name="base_y", type="slide", axis="0 1 0")
    ET.SubElement(base, "joint", name="base_yaw", type="hinge", axis="0 0 1")
    ET.SubElement(
        base,
        "geom",
        name=f"i{ROBOT_ID}/base",
        type="cylinder",
        size=_fmt((ROBOT_RADIUS, 0.18)),
        pos="0 0 0.2",
        rgba="0.9 0.45 0.1 1",
        mass="30",
        contype="2",
        conaffinity="1",
        friction="0.3 0.005 0.0001",
    )
    ET.SubElement(
        base,
        "geom",
        name=f"i{ROBOT_ID}/mast",
        type="box",
        size="0.03 0.03 0.45",
        pos="-0.12 0 0.83",
        rgba="0.3 0.3 0.3 1",
        mass="1",
        contype="0",
        conaffinity="0",
    )
    gripper = ET.SubElement(base, "body", name="gripper", pos=_fmt(GRIPPER_OFFSET))
    ET.SubElement(gripper, "site", name="gripper", size="0.02", rgba="0 0 0 0")
    pan = ET.SubElement(base, "body", name="head_pan", pos=_fmt(HEAD_PIVOT), gravcomp="1")
    ET.SubElement(
        pan, "joint", name="head_pan", type="hinge", axis="0 0 1", range=_fmt(HEAD_PAN_RANGE), damping="2", armature="0.01"
    )
    ET.SubElement(pan, "inertial", pos="0 0 0", mass="0.5", diaginertia="0.002 0.002 0.002")
    tilt = ET.SubElement(pan, "body", name="head_tilt", pos="0 0 0", gravcomp="1")
    ET.SubElement(
        tilt, "joint", name="head_tilt", type="hinge", axis="0 1 0", range=_fmt(HEAD_TILT_RANGE), damping="2", armature="0.01"
    )
    ET.SubElement(
        tilt,
        "geom",
        name=f"i{ROBOT_ID}/head",
        type="box",
        size="0.04 0.09 0.04",
        pos="-0.05 0 0",
        rgba="0.2 0.2 0.2 1",
        mass="0.5",
        contype="0",
        conaffinity="0",
    )
    # MuJoCo cameras look along -z with y up: xyaxes puts -z on the head's forward x.
    ET.SubElement(tilt, "camera", name="head", pos="0 0 0", xyaxes="0 -1 0 0 0 1", fovy=_fmt((vertical_fov_deg,)))


def build_mjcf(apartment: Apartment, options: ModelOptions = ModelOptions()) -> str:
    """MJCF text for the apartment; the robot's start pose is set through its joints after compiling."""
    x0, y0, x1, y1 = apartment.bounds
    extent = max(x1 - x0, y1 - y0)
    root = ET.Element("mujoco", model=f"household_{apartment.seed}")
    ET.SubElement(root, "compiler", angle="radian", autolimits="true")
    ET.SubElement(root, "option", timestep=_fmt((options.timestep,)), integrator="implicitfast", cone="elliptic")
    ET.SubElement(root, "statistic", extent=_fmt((extent,)), center=_fmt(((x0 + x1) / 2, (y0 + y1) / 2, 1.0)))
    visual = ET.SubElement(root, "visual")
    ET.SubElement(visual, "global", offwidth=str(max(options.width, 640)), offheight=str(max(options.height, 480)))
    ET.SubElement(visual, "quality", shadowsize="2048" if options.shadows else "0")
    ET.SubElement(visual, "headlight", ambient="0.45 0.45 0.45", diffuse="0.35 0.35 0.35", specular="0 0 0")
    # znear/zfar are fractions of the extent; keep near small for close-up depth.
    ET.SubElement(visual, "map", znear=_fmt((0.02 / extent,)), zfar=_fmt((max(options.max_depth * 1.5, extent * 2) / extent,)))
    world = ET.SubElement(root, "worldbody")
    ET.SubElement(
        world,
        "light",
        name="sun",
        directional="true",
        pos=_fmt(((x0 + x1) / 2, (y0 + y1) / 2, 5)),
        dir="0.3 0.2 -1",
        diffuse="0.5 0.5 0.5",
        castshadow="true" if options.shadows else "false",
    )
    ET.SubElement(
        world,
        "geom",
        name=f"i{FLOOR_ID}/floor",
        type="plane",
        pos=_fmt(((x0 + x1) / 2, (y0 + y1) / 2, 0)),
        size=_fmt(((x1 - x0) / 2, (y1 - y0) / 2, 0.1)),
        rgba="0.78 0.74 0.68 1",
        contype="0",
        conaffinity="0",
    )
    for k, wall in enumerate(apartment.walls):
        (cx, cy), (hx, hy) = wall.box()
        ET.SubElement(
            world,
            "geom",
            name=f"i{WALL_ID}/wall/{k}",
            type="box",
            pos=_fmt((cx, cy, WALL_HEIGHT / 2)),
            size=_fmt((hx, hy, WALL_HEIGHT / 2)),
            rgba="0.93 0.92 0.88 1",
            contype="1",
            conaffinity="0",
        )
    for piece in apartment.furniture:
        _furniture(world, piece)
    for obj in apartment.objects:
        body = ET.SubElement(world, "body", name=f"o{obj.id}", pos=_fmt(obj.position), euler=_fmt((0, 0, obj.yaw)), gravcomp="1")
        ET.SubElement(body, "freejoint", name=f"o{obj.id}")
        ET.SubElement(
            body,
            "geom",
            name=f"i{obj.id}/{obj.name}",
            type=obj.category.shape,
            size=_fmt(obj.category.size),
            rgba=_rgba(COLORS[obj.color]),
            mass="0.2",
            contype="0",
            conaffinity="0",
        )
    _robot(world, options.vertical_fov_deg)
    equality = ET.SubElement(root, "equality")
    for obj in apartment.objects:
        ET.SubElement(
            equality,
            "weld",
            name=f"grasp{obj.id}",
            body1="gripper",
            body2=f"o{obj.id}",
            relpose="0 0 0 1 0 0 0",
            active="false",
            solref="0.01 1",
        )
    actuators = ET.SubElement(root, "actuator")
    ET.SubElement(actuators, "velocity", name="base_x", joint="base_x", kv="1500", ctrlrange="-2 2")
    ET.SubElement(actuators, "velocity", name="base_y", joint="base_y", kv="1500", ctrlrange="-2 2")
    ET.SubElement(actuators, "velocity", name="base_yaw", joint="base_yaw", kv="60", ctrlrange="-4 4")
    ET.SubElement(actuators, "position", name="head_pan", joint="head_pan", kp="20", kv="2")
    ET.SubElement(actuators, "position", name="head_tilt", joint="head_tilt", kp="20", kv="2")
    for piece in apartment.furniture:
        for part in piece.type.parts:
            part_id = piece.part_ids[part.name]
            gain = "400" if part.kind == "drawer" else "60"
            ET.SubElement(actuators, "position", name=f"a{part_id}", joint=f"j{part_id}", kp=gain)
    return ET.tostring(root, encoding="unicode")
