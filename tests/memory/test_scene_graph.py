"""SceneGraph: kinds, relations (contains / has_part / on / in / near), part states, agent-told states, export.

Objects are built by hand as boxes (MapObjects whose points are the 8 corners), so every relation is known.
"""

from __future__ import annotations

import json

import networkx as nx
import pytest

from mindpalace.memory.spatial.rooms import rooms_from_polygons
from mindpalace.memory.spatial.scene_graph import SceneGraph, SceneGraphConfig, node_id

ROOMS = [
    ("kitchen", [(0.0, 0.0), (5.0, 0.0), (5.0, 5.0), (0.0, 5.0)]),
    ("hall", [(5.0, 0.0), (8.0, 0.0), (8.0, 5.0), (5.0, 5.0)]),
]


@pytest.fixture
def scene(mem):
    """A kitchen and a hall with furniture, drawers and small objects (ids chosen by hand)."""
    b = mem.box_object
    objects = [
        b(1, "table", (1.0, 1.0, 0.0), (2.2, 1.8, 0.75)),
        b(2, "mug", (1.5, 1.3, 0.75), (1.58, 1.38, 0.85)),  # resting on the table top
        b(3, "book", (1.74, 1.24, 0.75), (1.94, 1.44, 0.79)),  # on the table, 0.30 m from the mug
        b(4, "apple", (3.45, 3.45, 0.0), (3.55, 3.55, 0.1)),  # on the floor, ~2.5 m from them
        b(10, "dresser", (0.2, 3.0, 0.0), (0.7, 4.0, 1.0)),  # front at x = 0.7
        b(11, "drawer", (0.5, 3.1, 0.6), (1.0, 3.9, 0.8)),  # pulled out 0.3 m past the front
        b(12, "drawer", (0.25, 3.1, 0.3), (0.7, 3.9, 0.5)),  # flush with the front
        b(13, "keys", (0.8, 3.4, 0.61), (0.85, 3.45, 0.63)),  # in the open drawer
        b(20, "cabinet", (3.0, 0.5, 0.0), (3.6, 1.0, 0.9)),
        b(21, "soap", (3.2, 0.6, 0.3), (3.3, 0.7, 0.4)),  # inside the cabinet, on no top
        b(30, "thing", (5.5, 3.5, 0.0), (6.7, 4.0, 0.5)),  # 1.2 m long: furniture by size, in the hall
        b(31, "box", (6.5, 1.0, 0.0), (7.0, 1.5, 0.5)),  # 0.5 m: still an object
        b(40, "cup", (4.85, 2.45, 0.0), (4.95, 2.55, 0.1)),  # kitchen side of the room border ...
        b(41, "bowl", (5.1, 2.45, 0.0), (5.2, 2.55, 0.1)),  # ... hall side, 0.25 m away
    ]
    return {o.id: o for o in objects}


@pytest.fixture
def rooms():
    return rooms_from_polygons(ROOMS, privileged=True)


def _edges(graph: nx.DiGraph, relation: str) -> set[tuple[str, str]]:
    return {(a, b) for a, b, data in graph.edges(data=True) if data["relation"] == relation}


def test_kinds_by_label_and_by_size(scene, rooms):
    """Furniture and parts are told by label, and anything >= 0.9 m is furniture whatever its label."""
    graph = SceneGraph().rebuild(scene, rooms)
    kinds = {data["label"]: data["kind"] for _, data in graph.nodes(data=True) if data["kind"] != "room"}
    assert kinds["table"] == kinds["dresser"] == kinds["cabinet"] == "furniture"
    assert kinds["drawer"] == "part"
    assert kinds["thing"] == "furniture" and kinds["box"] == "object"
    assert kinds["mug"] == kinds["soap"] == kinds["keys"] == "object"
    assert node_id("furniture", 30) in graph and node_id("object", 31) in graph and node_id("part", 11) in graph


def test_rooms_contain_furniture(scene, rooms):
    """Each room node holds its furniture; every node knows its room by name."""
    graph = SceneGraph().rebuild(scene, rooms)
    assert _edges(graph, "contains") == {
        ("room:1", "furniture:1"),
        ("room:1", "furniture:10"),
        ("room:1", "furniture:20"),
        ("room:2", "furniture:30"),
    }
    assert graph.nodes["room:1"]["label"] == "kitchen" and graph.nodes["room:1"]["privileged"] is True
    assert graph.nodes["object:2"]["room"] == "kitchen" and graph.nodes["object:31"]["room"] == "hall"


def test_on_and_in_relations(scene, rooms):
    """Objects resting on a top are "on" it; objects inside a box are "in" it (drawer or cabinet)."""
    sg = SceneGraph()
    graph = sg.rebuild(scene, rooms)
    assert _edges(graph, "on") == {("furniture:1", "object:2"), ("furniture:1", "object:3")}
    assert _edges(graph, "in") == {("part:11", "object:13"), ("furniture:20", "object:21")}
    assert set(sg.relations()) == {
        ("mug", "on", "table"),
        ("book", "on", "table"),
        ("keys", "in", "drawer"),
        ("soap", "in", "cabinet"),
    }
    assert graph.in_degree("object:4") == 0  # the apple on the floor rests on nothing known, and is near nothing


def test_parts_belong_to_their_furniture_and_open_is_inferred(scene, rooms):
    """Both drawers are parts of the dresser; the one 0.3 m out is open, the flush one closed."""
    graph = SceneGraph().rebuild(scene, rooms)
    assert _edges(graph, "has_part") == {("furniture:10", "part:11"), ("furniture:10", "part:12")}
    assert graph.nodes["part:11"]["state"] == "open"
    assert graph.nodes["part:12"]["state"] == "closed"


def test_open_threshold_is_configurable(scene, rooms):
    """A part counts as open only when it sticks out farther than open_beyond."""
    graph = SceneGraph(SceneGraphConfig(open_beyond=0.35)).rebuild(scene, rooms)
    assert graph.nodes["part:11"]["state"] == "closed"


def test_near_is_symmetric_within_a_room(scene, rooms):
    """Small objects within near_distance in the same room are near each other (both ways, with the distance)."""
    graph = SceneGraph().rebuild(scene, rooms)
    near = _edges(graph, "near")
    assert near == {("object:2", "object:3"), ("object:3", "object:2")}  # not the apple, not across the door
    assert graph.edges["object:2", "object:3"]["distance"] == pytest.approx(0.3015, abs=1e-3)
    assert graph.nodes["object:40"]["room"] != graph.nodes["object:41"]["room"]


def test_told_states_win(scene, rooms):
    """States told by the agent are kept: a held mug rests on nothing, a drawer said closed stays closed."""
    sg = SceneGraph(SceneGraphConfig(states={11: "closed"}))
    sg.states[2] = "held"
    graph = sg.rebuild(scene, rooms)
    assert graph.nodes["object:2"]["state"] == "held"
    assert {d["relation"] for _, _, d in graph.in_edges("object:2", data=True)} == {"near"}  # the book, still near
    assert ("mug", "on", "table") not in sg.relations() and ("book", "on", "table") in sg.relations()
    assert graph.nodes["part:11"]["state"] == "closed"
    del sg.states[2]
    sg.rebuild(scene, rooms)
    assert ("mug", "on", "table") in sg.relations()


def test_without_rooms_nothing_is_contained(scene):
    """With no rooms known, furniture is in no room and near still links close objects."""
    graph = SceneGraph().rebuild(scene, [])
    assert _edges(graph, "contains") == set()
    assert graph.nodes["object:2"]["room"] is None
    assert ("object:40", "object:41") in _edges(graph, "near")  # no room border between them now


def test_json_export_round_trips(scene, rooms, tmp_path):
    """The node-link JSON survives json.dumps/loads and rebuilds the same graph; save_json writes it."""
    sg = SceneGraph()
    graph = sg.rebuild(scene, rooms)
    data = json.loads(json.dumps(sg.to_json()))
    assert {n["id"] for n in data["nodes"]} == set(graph.nodes)
    back = nx.node_link_graph(data, edges="edges")
    assert set(back.edges) == set(graph.edges)
    assert back.nodes["object:2"]["label"] == "mug" and back.nodes["object:2"]["center"] == pytest.approx([1.54, 1.34, 0.8])
    assert back.edges["furniture:1", "object:2"]["relation"] == "on"
    path = sg.save_json(tmp_path / "out" / "graph.json")
    assert json.loads(path.read_text()) == data


def test_rebuild_replaces_the_graph(scene, rooms):
    """A rebuild reflects the objects given now: a removed mug leaves no node or edge behind."""
    sg = SceneGraph()
    sg.rebuild(scene, rooms)
    fewer = {k: v for k, v in scene.items() if k != 2}
    graph = sg.rebuild(fewer, rooms)
    assert "object:2" not in graph and sg.graph is graph
    assert ("mug", "on", "table") not in sg.relations()


def test_object_on_a_dresser_is_on_the_dresser_not_its_top_drawer(mem):
    """A mug resting on a dresser's top is "on" the dresser, even though the closed top drawer is just below it."""
    b = mem.box_object
    objects = {
        o.id: o
        for o in [
            b(10, "dresser", (0.0, 0.0, 0.0), (0.5, 1.0, 0.8)),
            b(11, "drawer", (0.02, 0.03, 0.5), (0.5, 0.97, 0.775)),  # the top drawer, closed
            b(2, "mug", (0.21, 0.46, 0.8), (0.29, 0.54, 0.9)),
        ]
    }
    sg = SceneGraph()
    sg.rebuild(objects, [])
    assert sg.relations() == [("mug", "on", "dresser")]


def test_object_under_a_table_is_not_in_it(mem):
    """Something on the floor under a table is neither on nor in the table."""
    b = mem.box_object
    objects = {o.id: o for o in [b(1, "table", (0.0, 0.0, 0.0), (1.2, 0.8, 0.75)), b(2, "box", (0.5, 0.3, 0.0), (0.7, 0.5, 0.2))]}
    sg = SceneGraph()
    sg.rebuild(objects, [])
    assert sg.relations() == []
