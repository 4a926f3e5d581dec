"""Spatial memory: objects, occupancy, the fused surface, rooms and the scene graph, updated per frame."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from mindpalace.core.types import FramePercepts
from mindpalace.memory.spatial.objects import DepthView, ObjectMap, ObjectMapConfig, ObjectUpdate
from mindpalace.memory.spatial.occupancy import OccupancyConfig, OccupancyMap
from mindpalace.memory.spatial.rooms import RoomRegion, rooms_from_polygons, segment_free_space
from mindpalace.memory.spatial.scene_graph import SceneGraph, SceneGraphConfig
from mindpalace.memory.spatial.surface import SurfaceMap
from mindpalace.memory.spatial.view_history import ViewHistory, ViewHistoryConfig

log = logging.getLogger(__name__)


@dataclass
class SpatialMemoryConfig:
    objects: ObjectMapConfig = field(default_factory=ObjectMapConfig)
    occupancy: OccupancyConfig = field(default_factory=OccupancyConfig)
    scene_graph: SceneGraphConfig = field(default_factory=SceneGraphConfig)
    views: ViewHistoryConfig = field(default_factory=ViewHistoryConfig)
    surface_voxel: float = 0.02  # m
    self_radius: float = 0.3  # m; percepts this close to the gripper are what the robot holds, not the scene


class SpatialMemory:
    """What the agent knows of space, built online from `FramePercepts`."""

    def __init__(self, config: SpatialMemoryConfig | None = None) -> None:
        self.config = config or SpatialMemoryConfig()
        self.objects = ObjectMap(self.config.objects)
        self.occupancy = OccupancyMap(self.config.occupancy)
        self.surface = SurfaceMap(self.config.surface_voxel)
        self.scene = SceneGraph(self.config.scene_graph)
        self.views = ViewHistory(self.config.views)
        self.rooms: list[RoomRegion] = []
        self._graph_dirty = True
        self.frames = 0
        self.last_timings_ms: dict[str, float] = {}

    def update(
        self, frame: FramePercepts, gripper: NDArray[np.float64] | None = None, hold_radius: float | None = None
    ) -> list[ObjectUpdate]:
        """File one frame: objects are associated and fused, occupancy and the surface grow.

        `gripper` (world xyz) is where the robot's hand is: percepts within `hold_radius` of it (default
        `self_radius`) are its own load, kept out of the map.
        """
        start = time.perf_counter()
        radius = self.config.self_radius if hold_radius is None else hold_radius
        held = [p for p in frame.percepts if gripper is not None and np.linalg.norm(p.centroid - gripper) <= radius]
        percepts = [p for p in frame.percepts if not any(p is h for h in held)]
        view = DepthView(frame.depth, frame.camera, frame.camera_pose)
        updates = self.objects.integrate(percepts, frame.time_s, view, held, self.views)
        updates += self.objects.note_absences(held, view, {u.object_id for u in updates}, self.views)
        self.views.add(view, frame.time_s)
        mark = time.perf_counter()
        self.occupancy.integrate(frame.depth_points, frame.origin)
        octree = time.perf_counter()
        self.surface.add(frame.depth_points)
        self.frames += 1
        # Seeing a known object again barely moves it; only new or moved objects change the graph's structure.
        self._graph_dirty = self._graph_dirty or any(u.kind != "seen" for u in updates)
        end = time.perf_counter()
        self.last_timings_ms = {
            "associate": (mark - start) * 1000,
            "octree": (octree - mark) * 1000,
            "surface": (end - octree) * 1000,
        }
        return updates

    def set_rooms(self, named_polygons: list[tuple[str, list[tuple[float, float]]]], privileged: bool) -> None:
        """Rooms an env labels (privileged=True) or a person names."""
        self.rooms = rooms_from_polygons(named_polygons, privileged)
        self._graph_dirty = True

    def segment_rooms(self) -> list[RoomRegion]:
        """Rooms from the free-space layout of the occupancy map (unnamed: "room N")."""
        navigation, known = self.occupancy.costmap()
        _, self.rooms = segment_free_space(known == 0, navigation)
        self._graph_dirty = True
        return self.rooms

    def set_state(self, object_id: int, state: str) -> None:
        """A state the agent knows from its own actions ("held", "open", "closed"); "" clears it."""
        if state:
            self.scene.states[object_id] = state
        else:
            self.scene.states.pop(object_id, None)
        self._graph_dirty = True

    def scene_graph(self) -> nx.DiGraph:
        if self._graph_dirty:
            self.scene.rebuild(self.objects.objects, self.rooms)
            self._graph_dirty = False
        return self.scene.graph
