"""The 3D scene graph: rooms -> furniture -> objects, with on / in / near relations and object states.

Built from the object map's geometry (networkx). Furniture, articulated parts and controls (buttons) are told
apart from small objects by label (configurable) or by size; relations come from boxes: an object is "in" a
piece it sits inside, "on" one whose top it rests on, and "near" objects close by in the same room.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from mindpalace.memory.spatial.objects import MapObject
from mindpalace.memory.spatial.rooms import RoomRegion

FURNITURE_LABELS = (
    "table",
    "coffee_table",
    "dining_table",
    "console_table",
    "counter",
    "fridge",
    "refrigerator",
    "cabinet",
    "dresser",
    "nightstand",
    "bed",
    "sofa",
    "couch",
    "armchair",
    "chair",
    "desk",
    "bookshelf",
    "shelf",
    "tv_stand",
    "vanity",
    "sink",
    "toilet",
    "wardrobe",
    "stove",
    "oven",
    "bathtub",
    "patch",  # a marked place on a table that things are put on
    "centre_zone",
)
PART_LABELS = ("drawer", "door")
CONTROL_LABELS = ("button", "switch")


@dataclass
class SceneGraphConfig:
    furniture_labels: tuple[str, ...] = FURNITURE_LABELS
    part_labels: tuple[str, ...] = PART_LABELS
    control_labels: tuple[str, ...] = CONTROL_LABELS  # pressed, not opened: a kind of their own
    furniture_min_extent: float = 0.9  # m; anything this big is furniture whatever its label
    near_distance: float = 0.6  # m between centres
    on_tolerance: float = 0.06  # m between an object's bottom and a surface's top
    open_beyond: float = 0.12  # m a part must stick out of its furniture's box to count as open
    states: dict[int, str] = field(default_factory=dict)


def node_id(kind: str, identifier: int) -> str:
    return f"{kind}:{identifier}"


class SceneGraph:
    """A networkx DiGraph rebuilt from objects and rooms: nodes "room:N", "furniture:N", "part:N", "object:N"."""

    def __init__(self, config: SceneGraphConfig | None = None) -> None:
        self.config = config or SceneGraphConfig()
        self.graph = nx.DiGraph()
        self.states: dict[int, str] = dict(self.config.states)  # object id -> "held", "open", ... told by the agent

    def kind_of(self, obj: MapObject) -> str:
        label = obj.label.lower()
        if label in self.config.part_labels:
            return "part"
        if label in self.config.control_labels:
            return "control"
        if (
            label in self.config.furniture_labels
            or float(np.max(obj.aabb_max - obj.aabb_min)) >= self.config.furniture_min_extent
        ):
            return "furniture"
        return "object"

    def rebuild(self, objects: dict[int, MapObject], rooms: list[RoomRegion]) -> nx.DiGraph:
        cfg = self.config
        graph = nx.DiGraph()
        for room in rooms:
            graph.add_node(
                node_id("room", room.id),
                kind="room",
                label=room.name,
                polygon=[list(p) for p in room.polygon],
                privileged=room.privileged,
            )
        kinds = {oid: self.kind_of(obj) for oid, obj in objects.items()}
        for oid, obj in objects.items():
            graph.add_node(
                node_id(kinds[oid], oid),
                kind=kinds[oid],
                label=obj.label,
                center=obj.center.round(3).tolist(),
                aabb=[obj.aabb_min.round(3).tolist(), obj.aabb_max.round(3).tolist()],
                observations=obj.observations,
                first_seen=obj.first_seen,
                last_seen=obj.last_seen,
                state=self.states.get(oid, ""),
                attributes=dict(obj.attributes),
            )
            home = next((r for r in rooms if r.contains(float(obj.center[0]), float(obj.center[1]))), None)
            if home is not None and kinds[oid] == "furniture":
                graph.add_edge(node_id("room", home.id), node_id("furniture", oid), relation="contains")
            graph.nodes[node_id(kinds[oid], oid)]["room"] = home.name if home else None
        furniture = [oid for oid, kind in kinds.items() if kind == "furniture"]
        for oid in (o for o, kind in kinds.items() if kind == "part"):
            parent = self._parent(objects[oid], [objects[f] for f in furniture])
            if parent is not None:
                graph.add_edge(node_id("furniture", parent.id), node_id("part", oid), relation="has_part")
                if oid not in self.states:
                    graph.nodes[node_id("part", oid)]["state"] = "open" if self._sticks_out(objects[oid], parent) else "closed"
        for oid in (o for o, kind in kinds.items() if kind == "object"):
            obj = objects[oid]
            if self.states.get(oid) == "held":
                continue
            support = self._support(obj, [objects[f] for f in furniture], [objects[p] for p, k in kinds.items() if k == "part"])
            if support is not None:
                holder, relation = support
                graph.add_edge(node_id(kinds[holder.id], holder.id), node_id("object", oid), relation=relation)
        small = [oid for oid, kind in kinds.items() if kind == "object"]
        if len(small) > 1:
            centers = np.stack([objects[o].center for o in small])
            distance = np.linalg.norm(centers[:, None] - centers[None], axis=2)
            for i, j in zip(*np.nonzero(np.triu(distance <= cfg.near_distance, k=1))):
                a, b = node_id("object", small[i]), node_id("object", small[j])
                if graph.nodes[a].get("room") == graph.nodes[b].get("room"):
                    graph.add_edge(a, b, relation="near", distance=round(float(distance[i, j]), 3))
                    graph.add_edge(b, a, relation="near", distance=round(float(distance[i, j]), 3))
        self.graph = graph
        return graph

    def _parent(self, part: MapObject, furniture: list[MapObject]) -> MapObject | None:
        """The furniture whose box, grown by a drawer's travel, holds the part's centre; the nearest if several."""
        holders = [f for f in furniture if np.all(part.center >= f.aabb_min - 0.45) and np.all(part.center <= f.aabb_max + 0.45)]
        return min(holders, key=lambda f: float(np.linalg.norm(f.center[:2] - part.center[:2])), default=None)

    def _sticks_out(self, part: MapObject, parent: MapObject) -> bool:
        beyond = np.maximum(parent.aabb_min[:2] - part.aabb_min[:2], part.aabb_max[:2] - parent.aabb_max[:2])
        return bool(np.max(beyond) > self.config.open_beyond)

    def _support(self, obj: MapObject, furniture: list[MapObject], parts: list[MapObject]) -> tuple[MapObject, str] | None:
        """What the object rests on (the nearest top below it), else what it is inside.

        "In" a drawer when its centre is inside the drawer's box; "in" furniture only when it is also off
        the floor, so a box under a table is not in the table.
        """
        c = obj.center
        holders = [h for h in [*parts, *furniture] if np.all(c[:2] >= h.aabb_min[:2]) and np.all(c[:2] <= h.aabb_max[:2])]
        tops = [(abs(obj.aabb_min[2] - h.aabb_max[2]), h) for h in holders]
        resting = [(gap, h) for gap, h in tops if gap <= self.config.on_tolerance]
        if resting:
            return min(resting, key=lambda item: item[0])[1], "on"
        for holder in holders:
            is_part = holder.label.lower() in self.config.part_labels
            off_floor = obj.aabb_min[2] > holder.aabb_min[2] + 0.03
            if holder.aabb_min[2] <= c[2] <= holder.aabb_max[2] and (is_part or off_floor):
                return holder, "in"
        return None

    # ------------------------------------------------------------------ export
    def to_json(self) -> dict[str, Any]:
        return nx.node_link_data(self.graph, edges="edges")

    def save_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1))
        return path

    def relations(self) -> list[tuple[str, str, str]]:
        """(subject label, relation, object label) of every on / in edge, e.g. ("mug", "on", "table")."""
        out = []
        for a, b, data in self.graph.edges(data=True):
            if data["relation"] in ("on", "in"):
                out.append((self.graph.nodes[b]["label"], data["relation"], self.graph.nodes[a]["label"]))
        return out
