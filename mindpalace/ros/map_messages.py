"""What the memory node publishes about its map: the occupancy grid, markers, frontiers and the scene graph.

All in the map frame. The grid's cells are the occupancy map's 2D projection (0 free, 100 occupied, -1 unknown);
markers draw each mapped thing's box and label, on / in relations as lines, and the rooms' outlines and names.
"""

from __future__ import annotations

import json
import math
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import pose_from_xy_yaw
from mindpalace.core.grid import GridMap
from mindpalace.memory.spatial.memory import SpatialMemory
from mindpalace.ros.convert import MessageError, header, pose_array_msg, pose_msg
from mindpalace.ros.messages.common import ColorRGBA, Point, Pose, PoseArray, Quaternion, String, Time, Vector3
from mindpalace.ros.messages.maps import MapMetaData, Marker, MarkerArray, OccupancyGrid

KIND_COLORS = {
    "object": ColorRGBA(0.95, 0.45, 0.1, 0.6),
    "furniture": ColorRGBA(0.2, 0.5, 0.9, 0.35),
    "part": ColorRGBA(0.3, 0.8, 0.4, 0.5),
}
_WHITE = ColorRGBA(1.0, 1.0, 1.0, 1.0)
_RELATION = ColorRGBA(1.0, 0.9, 0.2, 0.9)
_ROOM = ColorRGBA(0.7, 0.7, 0.7, 0.9)


def occupancy_grid_msg(
    known: NDArray[np.int8], origin: tuple[float, float], resolution: float, stamp_s: float, frame: str
) -> OccupancyGrid:
    """A grid from memory's known-state costmap (-1 unknown, 0 free, 1 occupied); `origin` is cell (0, 0)'s centre."""
    cells = np.where(known == 1, 100, np.where(known == 0, 0, -1)).astype(np.int8)
    rows, cols = cells.shape
    corner = pose_from_xy_yaw(origin[0] - resolution / 2, origin[1] - resolution / 2, 0.0)
    info = MapMetaData(Time.from_seconds(stamp_s), resolution, cols, rows, pose_msg(corner))
    return OccupancyGrid(header(stamp_s, frame), info, cells.tobytes())


def grid_from_msg(msg: OccupancyGrid, include: list[tuple[float, float]], margin: float = 1.0) -> GridMap:
    """The grid's occupied cells (100) as blocked; unknown and free cells are not. Widened to hold every point of
    `include` (e.g. the start and the goal) with `margin` metres around, as unknown space."""
    resolution = float(msg.info.resolution)
    rows, cols = int(msg.info.height), int(msg.info.width)
    if resolution <= 0 or len(msg.data) != rows * cols:
        raise MessageError("size", f"{len(msg.data)} cells for a {cols}x{rows} grid at {resolution} m")
    occupied = np.frombuffer(msg.data, np.int8).reshape(rows, cols) == 100
    x0 = float(msg.info.origin.position.x) + resolution / 2  # cell (0, 0)'s centre
    y0 = float(msg.info.origin.position.y) + resolution / 2
    xs = [x0, x0 + (cols - 1) * resolution] + [p[0] for p in include]
    ys = [y0, y0 + (rows - 1) * resolution] + [p[1] for p in include]
    left = math.ceil((x0 - (min(xs) - margin)) / resolution)
    below = math.ceil((y0 - (min(ys) - margin)) / resolution)
    right = max(0, math.ceil((max(xs) + margin - (x0 + (cols - 1) * resolution)) / resolution))
    above = max(0, math.ceil((max(ys) + margin - (y0 + (rows - 1) * resolution)) / resolution))
    blocked = np.pad(occupied, ((max(0, below), above), (max(0, left), right)))
    return GridMap(blocked, (x0 - max(0, left) * resolution, y0 - max(0, below) * resolution), resolution)


def _point(xyz: Any) -> Point:
    return Point(float(xyz[0]), float(xyz[1]), float(xyz[2]) if len(xyz) > 2 else 0.0)


def markers_msg(graph: nx.DiGraph, stamp_s: float, frame: str) -> MarkerArray:
    """Boxes and labels of every mapped thing, on / in relations as lines, rooms as outlines with their names.

    The array starts with a DELETEALL, so things memory merged or forgot disappear from RViz too.
    """
    head = header(stamp_s, frame)
    markers = [Marker(header=head, ns="mindpalace", action=Marker.DELETEALL)]
    relations = Marker(header=head, ns="relations", id=0, type=Marker.LINE_LIST, scale=Vector3(0.01, 0.0, 0.0), color=_RELATION)
    identity = Pose(Point(), Quaternion())
    relations.pose = identity
    for node, data in graph.nodes(data=True):
        number = int(str(node).split(":")[-1])
        if data.get("kind") == "room":
            outline = [_point(p) for p in data["polygon"]]
            markers.append(
                Marker(
                    head,
                    "rooms",
                    number,
                    Marker.LINE_STRIP,
                    Marker.ADD,
                    identity,
                    Vector3(0.03, 0.0, 0.0),
                    _ROOM,
                    points=outline + outline[:1],
                )
            )
            cx, cy = np.mean([p[0] for p in data["polygon"]]), np.mean([p[1] for p in data["polygon"]])
            markers.append(
                Marker(
                    head,
                    "room_names",
                    number,
                    Marker.TEXT_VIEW_FACING,
                    Marker.ADD,
                    pose_msg(pose_from_xy_yaw(cx, cy, 0.0, 0.3)),
                    Vector3(0.0, 0.0, 0.4),
                    _WHITE,
                    text=str(data["label"]),
                )
            )
            continue
        low, high = np.asarray(data["aabb"][0]), np.asarray(data["aabb"][1])
        centre, size = (low + high) / 2, np.maximum(high - low, 0.01)
        box = pose_msg(pose_from_xy_yaw(float(centre[0]), float(centre[1]), 0.0, float(centre[2])))
        color = KIND_COLORS.get(str(data.get("kind")), _WHITE)
        markers.append(Marker(head, "boxes", number, Marker.CUBE, Marker.ADD, box, Vector3(*map(float, size)), color))
        text = f"{str(data['label']).replace('_', ' ')} #{number}" + (f" ({data['state']})" if data.get("state") else "")
        label = pose_msg(pose_from_xy_yaw(float(centre[0]), float(centre[1]), 0.0, float(high[2]) + 0.1))
        markers.append(
            Marker(head, "labels", number, Marker.TEXT_VIEW_FACING, Marker.ADD, label, Vector3(0.0, 0.0, 0.12), _WHITE, text=text)
        )
    relation_points: list[Point] = []
    for holder, held, data in graph.edges(data=True):
        if data.get("relation") in ("on", "in") and "center" in graph.nodes[holder] and "center" in graph.nodes[held]:
            relation_points += [_point(graph.nodes[holder]["center"]), _point(graph.nodes[held]["center"])]
    if relation_points:
        relations.points = relation_points
        markers.append(relations)
    return MarkerArray(markers)


def frontiers_msg(spatial: SpatialMemory, stamp_s: float, frame: str) -> PoseArray:
    """Where the robot would stand to look at each frontier, facing it (biggest frontier first)."""
    poses = [pose_from_xy_yaw(*f.view_pose) for f in spatial.occupancy.frontiers()]
    return pose_array_msg(poses, stamp_s, frame)


def scene_graph_msg(spatial: SpatialMemory) -> String:
    """The scene graph as node-link JSON (what `mindpalace perceive` writes to scene_graph.json), and under
    "mindpalace" what a client needs to mirror the map: each thing's segmenter id, merged ids, agent-told states."""
    data = nx.node_link_data(spatial.scene_graph(), edges="edges")
    data["mindpalace"] = {
        "source_ids": {str(i): o.source_id for i, o in spatial.objects.objects.items()},
        "aliases": {str(k): v for k, v in spatial.objects.aliases.items()},
        "states": {str(k): v for k, v in spatial.scene.states.items()},
    }
    return String(json.dumps(data, default=float))
