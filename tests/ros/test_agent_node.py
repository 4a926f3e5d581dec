"""The agent node's view of memory: the planner's reader over the query service answers as a LocalReader does, and
the mirror of memory's map grounds names as the runtime does in its own map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mindpalace.agent.skills import resolve_target
from mindpalace.memory.local_reader import LocalReader
from mindpalace.ros.agent_node import MapMirror
from mindpalace.ros.bag import ingest
from mindpalace.ros.map_messages import scene_graph_msg
from mindpalace.ros.memory_node_ros import MemoryNodeRos
from mindpalace.ros.messages.mindpalace_msgs import QUERY
from mindpalace.ros.remote_reader import RemoteReader
from mindpalace.ros.transport import make_transport


@pytest.fixture
def ingested(sim_bag: Path, make_node, tmp_path: Path):
    node = make_node(tmp_path / "bank.db")
    ingest(sim_bag, node)
    return node


def test_the_mirror_holds_memory_s_map(ingested) -> None:
    spatial = ingested.memory.spatial
    mirror = MapMirror()
    mirror.update(scene_graph_msg(spatial).data)
    copy = mirror.spatial
    assert set(copy.objects.objects) == set(spatial.objects.objects)
    for object_id, obj in spatial.objects.objects.items():
        mirrored = copy.objects.objects[object_id]
        np.testing.assert_allclose(mirrored.center, obj.center, atol=1e-3)
        assert mirrored.source_id == obj.source_id
        assert copy.scene.kind_of(mirrored) == spatial.scene.kind_of(obj)
    assert [r.name for r in copy.rooms] == [r.name for r in spatial.rooms]
    original = {(a, b, d["relation"]) for a, b, d in spatial.scene_graph().edges(data=True)}
    assert {(a, b, d["relation"]) for a, b, d in copy.scene_graph().edges(data=True)} == original

    class View:  # what resolve_target reads of a runtime
        memory = mirror
        spatial = copy

        def objects(self):
            return copy.objects.objects

    some = next(iter(spatial.objects.objects.values()))
    target = resolve_target(View(), f"{some.label} #{some.id}")  # type: ignore[arg-type]
    assert target.obj is not None and target.obj.id == some.id
    rooms = [r.name for r in spatial.rooms]
    assert rooms and all(resolve_target(View(), name).kind == "room" for name in rooms)  # type: ignore[arg-type]


def test_the_remote_reader_answers_as_the_local_one(ingested, domain_id: int) -> None:
    local = LocalReader(ingested.memory)
    running = MemoryNodeRos(ingested, make_transport("dds", "memory", domain_id=domain_id))
    agent = make_transport("dds", "agent", domain_id=domain_id)
    try:
        client = agent.client("/mindpalace/query", QUERY)
        assert client.wait_for_service(10.0)
        remote = RemoteReader(client)
        assert remote.tool_schemas() == json.loads(json.dumps(local.tool_schemas()))
        found = remote.call_tool("find_objects", {"limit": 5})
        expected = local.call_tool("find_objects", {"limit": 5})
        assert found.ok and [i.key for i in found.items] == [i.key for i in expected.items]
        assert [i.text for i in found.items] == [i.text for i in expected.items]
        bad = remote.call_tool("where_is", {"object": 3})
        assert not bad.ok and "bad arguments" in bad.error
        assert remote.room_names() == local.room_names()
        assert remote.label_kinds() == local.label_kinds()
        label = found.items[0].data["label"].replace("_", " ")
        assert remote.mentioned_labels(f"where is the {label}?") == local.mentioned_labels(f"where is the {label}?")
        assert remote.context(f"find the {label}", 200) == local.context(f"find the {label}", 200)
    finally:
        agent.close()
        running.close()


def test_a_silent_memory_node_is_an_error_result_not_a_crash(domain_id: int) -> None:
    agent = make_transport("dds", "agent", domain_id=domain_id)
    try:
        remote = RemoteReader(agent.client("/nobody/query", QUERY), timeout_s=0.3)
        result = remote.call_tool("where_is", {"object": "mug"})
        assert not result.ok and "did not answer" in result.error
        assert remote.room_names() == [] and remote.context("x", 10) == ""
    finally:
        agent.close()
