"""A small deterministic scene for the live-map persistence tests, importable by a test and by a child process.

A 6 m x 5 m room with two tables, a dresser and three small objects, seen by a camera turning on the spot in
the room's middle: every frame gives percepts of the objects in view and depth points of the floor, walls and
furniture. The same frame index always gives the same frame, so a replay rebuilds the same map. Along the way
the map gets everything a checkpoint must keep: the first table is seen in two halves that become two objects
and are then merged (an alias), the mug is held (a state) and moved by the robot, and rooms are named.
"""

from __future__ import annotations

import hashlib
import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from mindpalace.agent.path_planning import plan_path
from mindpalace.core.geometry import make_pose
from mindpalace.core.types import CameraInfo, Observation, Percept

DT = 0.1  # s between frames
CAMERA = CameraInfo.from_horizontal_fov(160, 120, np.deg2rad(70.0))
EYE = np.array([3.0, 2.5, 1.2])
LABELS = ("table", "dresser", "mug", "book", "bowl")
BOXES = {  # name -> (label, low corner, high corner)
    "table_a": ("table", (0.8, 0.6, 0.0), (2.0, 1.4, 0.75)),
    "table_b": ("table", (4.0, 3.4, 0.0), (5.2, 4.2, 0.75)),
    "dresser": ("dresser", (5.3, 0.3, 0.0), (5.9, 1.5, 1.0)),
    "mug": ("mug", (1.2, 0.9, 0.75), (1.3, 1.0, 0.85)),
    "book": ("book", (4.4, 3.7, 0.75), (4.7, 3.9, 0.8)),
    "bowl": ("bowl", (1.6, 1.0, 0.75), (1.8, 1.2, 0.82)),
}
ROOMS = [
    ("kitchen", [(0.0, 0.0), (3.0, 0.0), (3.0, 5.0), (0.0, 5.0)]),
    ("living room", [(3.0, 0.0), (6.0, 0.0), (6.0, 5.0), (3.0, 5.0)]),
]
HELD_AT, MOVED_AT = 45, 50  # frames: the mug is picked up, then put on the other table
MUG_MOVED = np.array([4.9, 3.8, 0.8])
PATH_ENDS = ((0.5, 0.5), (5.5, 4.5))


def frame_time(index: int) -> float:
    return round(index * DT, 9)


def _box_points(low: tuple[float, ...], high: tuple[float, ...], step: float = 0.04) -> np.ndarray:
    """Points on the top and the four sides of a box, `step` apart."""
    lo, hi = np.asarray(low), np.asarray(high)
    axes = [np.arange(lo[a], hi[a] + 1e-9, step) for a in range(3)]
    x, y = np.meshgrid(axes[0], axes[1], indexing="ij")
    top = np.stack([x.ravel(), y.ravel(), np.full(x.size, hi[2])], axis=1)
    sides = []
    for axis in (0, 1):
        other = 1 - axis
        u, z = np.meshgrid(axes[other], axes[2], indexing="ij")
        for value in (lo[axis], hi[axis]):
            side = np.empty((u.size, 3))
            side[:, axis], side[:, other], side[:, 2] = value, u.ravel(), z.ravel()
            sides.append(side)
    return np.concatenate([top, *sides])


def _room_points() -> np.ndarray:
    # Sparse (0.25 m): casting the rays is most of a frame's cost, and walls and furniture need few to show.
    xs, ys, zs = np.arange(0.0, 6.0001, 0.25), np.arange(0.0, 5.0001, 0.25), np.arange(0.0, 2.0001, 0.25)
    x, y = np.meshgrid(xs, ys, indexing="ij")
    floor = np.stack([x.ravel(), y.ravel(), np.zeros(x.size)], axis=1)
    walls = []
    for along, fixed, axis in ((xs, (0.0, 5.0), 1), (ys, (0.0, 6.0), 0)):
        u, z = np.meshgrid(along, zs, indexing="ij")
        for value in fixed:
            wall = np.empty((u.size, 3))
            wall[:, axis], wall[:, 1 - axis], wall[:, 2] = value, u.ravel(), z.ravel()
            walls.append(wall)
    furniture = [_box_points(low, high, 0.1) for label, low, high in BOXES.values() if label in ("table", "dresser")]
    return np.concatenate([floor, *walls, *furniture])


ROOM_POINTS = _room_points()


def _embedding(label: str) -> np.ndarray:
    vector = np.zeros(len(LABELS), np.float32)
    vector[LABELS.index(label)] = 1.0
    return vector


def _percept(label: str, points: np.ndarray, time_s: float) -> Percept:
    low, high = points.min(axis=0), points.max(axis=0)
    return Percept(
        label=label,
        mask=np.zeros((2, 2), bool),
        points=points,
        centroid=points.mean(axis=0),
        aabb_min=low,
        aabb_max=high,
        obb_center=(low + high) / 2,
        obb_rotation=np.eye(3),
        obb_extent=high - low,
        embedding=_embedding(label),
        confidence=0.9,
        time_s=time_s,
        pixel_count=len(points),
    )


def _in_view(points: np.ndarray, yaw: float) -> np.ndarray:
    offset = points[:, :2] - EYE[:2]
    angle = np.arctan2(offset[:, 1], offset[:, 0]) - yaw
    return (np.abs((angle + math.pi) % (2 * math.pi) - math.pi) < np.deg2rad(35.0)) & (np.hypot(*offset.T) > 0.3)


def frame(index: int) -> tuple[Observation, SimpleNamespace]:
    """The observation and the perceived frame (what `PerceptionPipeline.process` returns) at frame `index`."""
    time_s = frame_time(index)
    yaw = 0.35 * index
    forward = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    camera_pose = make_pose(np.stack([right, np.cross(forward, right), forward], axis=1), EYE)
    percepts = []
    for name, (label, low, high) in BOXES.items():
        if name == "mug" and index >= MOVED_AT:
            low, high = (
                tuple(np.asarray(low) - (1.25, 0.95, 0.8) + MUG_MOVED),
                tuple(np.asarray(high) - (1.25, 0.95, 0.8) + MUG_MOVED),
            )
        if name == "mug" and HELD_AT <= index < MOVED_AT:
            continue  # in the hand
        points = _box_points(low, high)
        if name == "table_a" and index < 36:  # seen in halves first: two objects, merged once seen whole
            points = points[points[:, 0] <= 1.4] if index < 18 else points[points[:, 0] >= 1.45]
        if _in_view(points.mean(axis=0, keepdims=True), yaw)[0]:
            percepts.append(_percept(label, points, time_s))
    depth_points = ROOM_POINTS[_in_view(ROOM_POINTS, yaw)]
    depth = np.zeros((CAMERA.height, CAMERA.width), np.float32)
    base_pose = make_pose(np.eye(3), np.array([EYE[0], EYE[1], 0.0]))
    obs = Observation(np.zeros((CAMERA.height, CAMERA.width, 3), np.uint8), depth, CAMERA, camera_pose, base_pose, time_s)
    perceived = SimpleNamespace(
        time_s=time_s,
        percepts=percepts,
        depth_points=depth_points,
        origin=EYE.copy(),
        depth=depth,
        camera=CAMERA,
        camera_pose=camera_pose,
    )
    return obs, perceived


def mug_id(memory: Any) -> int:
    return next(i for i, o in memory.spatial.objects.objects.items() if o.label == "mug")


def step(memory: Any, index: int) -> None:
    """What the robot's loop does at frame `index`: its own actions first, then the frame is filed."""
    time_s = frame_time(index)
    if index == 0:
        memory.spatial.set_rooms(ROOMS, privileged=False)
    if index == HELD_AT:
        memory.set_state(mug_id(memory), "held", time_s)
    if index == MOVED_AT:
        memory.spatial.objects.move(mug_id(memory), MUG_MOVED, time_s)
        memory.set_state(mug_id(memory), "", time_s)
    memory.observe(*frame(index))


def summary(memory: Any) -> dict[str, Any]:
    """What a restart must keep, as JSON data: objects, aliases, states, rooms, the costmap, a path, the scene graph."""
    spatial = memory.spatial
    grid, known = spatial.occupancy.costmap(inflate=False)
    path = plan_path(grid, *PATH_ENDS, robot_radius=spatial.occupancy.config.robot_radius)
    graph = spatial.scene_graph()
    costmap = hashlib.sha256(grid.blocked.tobytes() + known.tobytes() + repr((grid.origin, known.shape)).encode())
    return {
        "objects": {
            str(i): [o.label, o.center.tolist(), o.observations, o.last_seen, [float(t) for t, _, _ in o.moves]]
            for i, o in spatial.objects.objects.items()
        },
        "aliases": {str(k): v for k, v in spatial.objects.aliases.items()},
        "next_id": spatial.objects._next_id,
        "states": {str(k): v for k, v in spatial.scene.states.items()},
        "rooms": [r.name for r in spatial.rooms],
        "octree_leaves": spatial.occupancy.num_leaves,
        "costmap": costmap.hexdigest(),
        "path": [list(p) for p in path] if path else None,
        "graph": sorted([a, b, d["relation"]] for a, b, d in graph.edges(data=True)),
        "frames": spatial.frames,
    }
