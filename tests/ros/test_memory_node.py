"""The memory node: malformed input is counted and reported, never fatal; services answer as the memory tools do;
a restart continues the same memory; the live node over DDS publishes the map and its status."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from mindpalace.ros.bag import bag_messages, ingest
from mindpalace.ros.convert import depth_from_msg, image_msg, rgb_from_msg, transform_msg
from mindpalace.ros.memory_node import MemoryNode
from mindpalace.ros.memory_node_ros import MemoryNodeRos
from mindpalace.ros.messages.common import Point, String, Time
from mindpalace.ros.messages.maps import OccupancyGrid
from mindpalace.ros.messages.mindpalace_msgs import (
    FORGET,
    QUERY,
    RECORD_EVENT,
    SAVE,
    TELL,
    WHERE_IS,
    Event,
    ForgetRequest,
    QueryRequest,
    RecordEventRequest,
    SaveRequest,
    TellRequest,
    WhereIsRequest,
)
from mindpalace.ros.messages.sensor import CameraInfo, Image, TFMessage
from mindpalace.ros.qos import DEFAULT, SENSOR_DATA, TF, TRANSIENT_LOCAL
from mindpalace.ros.transport import make_transport


def wait_for(condition, timeout_s: float = 10.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def first(bag: Path, topic: str, msg_type: type):
    return next(msg_type.deserialize(raw) for name, _, raw in bag_messages(bag, [topic]) if name == topic)


@pytest.fixture
def ingested(sim_bag: Path, make_node, tmp_path: Path) -> MemoryNode:
    node = make_node(tmp_path / "bank.db")
    ingest(sim_bag, node)
    return node


def test_malformed_messages_are_counted_by_fault_and_never_raise(ingested: MemoryNode) -> None:
    node = ingested
    used = node.counters.used
    good = np.zeros((120, 160, 3), np.uint8)
    node.on_color(Image(height=120, width=160, encoding="yuv422", step=320, data=bytes(320 * 120)))
    node.on_color(Image(height=120, width=160, encoding="rgb8", step=480, data=bytes(100)))
    node.on_depth(Image(height=120, width=160, encoding="16UC1", step=320, data=bytes(7)))
    node.on_camera_info(CameraInfo(height=120, width=160))
    broken = transform_msg(np.eye(4), 0.0, "map", "odom")
    broken.transform.rotation.w = 0.0
    node.on_tf(TFMessage([broken]), static=False)
    node.set_floor_plan("not json")
    # A well-formed pair in a frame TF does not know.
    frame = node.on_color(image_msg(good, "rgb8", 500.0, "nowhere_optical_frame"))
    assert frame is None
    frame = node.on_depth(image_msg(np.ones((120, 160), np.float32), "16UC1", 500.0, "nowhere_optical_frame"))
    assert frame is not None
    assert node.process(frame) == []
    assert node.counters.malformed == {
        "color:encoding": 1,
        "color:size": 1,
        "depth:size": 1,
        "camera_info:camera_info": 1,
        "tf:pose": 1,
        "floor_plan:json": 1,
    }
    assert node.counters.dropped["tf:unknown_frame"] == 1
    assert node.counters.dropped["malformed_color:encoding"] == 1
    assert "nowhere_optical_frame" in node.counters.last_error
    status = node.status()
    assert status["malformed"]["color:encoding"] == 1 and status["frames_used"] == used


def test_depth_of_another_size_than_colour_is_refused(ingested: MemoryNode) -> None:
    ingested.on_color(image_msg(np.zeros((120, 160, 3), np.uint8), "rgb8", 600.0, "camera_color_optical_frame"))
    assert ingested.on_depth(image_msg(np.ones((60, 80), np.float32), "16UC1", 600.0, "camera_color_optical_frame")) is None
    assert ingested.counters.dropped["depth_not_aligned"] == 1


def test_frames_are_decoded_only_when_perceived(sim_bag: Path, ingested: MemoryNode) -> None:
    """A frame is checked on arrival and decoded only when it is perceived: frames a newer one replaces cost no
    decoding, and the frame perceived decodes to what the conversions give."""
    topics = ingested.config.topics
    messages = {
        topic: [Image.deserialize(raw) for _, _, raw in bag_messages(sim_bag, [topic])] for topic in (topics.color, topics.depth)
    }
    decoded, used = ingested.counters.decoded, ingested.counters.used
    frames = []
    for color, depth in zip(messages[topics.color], messages[topics.depth]):
        assert ingested.on_depth(depth) is None
        frames.append(ingested.on_color(color))
    assert len(frames) > 3 and all(frame is not None for frame in frames)
    assert ingested.counters.decoded == decoded
    obs = ingested.observation(frames[-1])
    assert ingested.counters.decoded == decoded + 1
    assert np.array_equal(obs.rgb, rgb_from_msg(messages[topics.color][-1]))
    assert np.array_equal(obs.depth, depth_from_msg(messages[topics.depth][-1]))
    ingested.perceive(frames[-1], obs)
    assert ingested.counters.used == used + 1 and ingested.counters.to_dict()["frames_decoded"] == decoded + 1


def test_the_query_service_mirrors_the_memory_tools(ingested: MemoryNode) -> None:
    found = json.loads(ingested.query(QueryRequest("find_objects", '{"limit": 50}')).result_json)["items"]
    assert found and all(item["kind"] == "object" for item in found)
    label = found[0]["data"]["label"]
    answer = ingested.query(QueryRequest("where_is", json.dumps({"object": label.replace("_", " ")})))
    assert answer.ok and label.replace("_", " ") in answer.result_json
    assert ingested.query(QueryRequest("no_such_tool", "{}")).error.startswith("unknown tool 'no_such_tool'")
    assert "bad arguments" in ingested.query(QueryRequest("where_is", '{"thing": 1}')).error
    assert "not JSON" in ingested.query(QueryRequest("where_is", "{")).error
    kinds = json.loads(ingested.query(QueryRequest("label_kinds", "")).result_json)
    assert kinds[label] in ("object", "furniture", "part")
    rooms = json.loads(ingested.query(QueryRequest("room_names", "{}")).result_json)
    assert rooms == [room.name for room in ingested.memory.spatial.rooms]
    schemas = json.loads(ingested.query(QueryRequest("tool_schemas", "{}")).result_json)
    assert "where_is" in schemas and schemas["where_is"]["function"]["name"] == "where_is"
    where = ingested.where_is(WhereIsRequest(label.replace("_", " ")))
    assert where.ok and where.objects[0].label == label and where.objects[0].kind == kinds[label]


def test_events_and_what_people_say_are_remembered(ingested: MemoryNode) -> None:
    found = json.loads(ingested.query(QueryRequest("find_objects", "{}")).result_json)["items"]
    target = found[0]["data"]
    event = Event("robot", "pick", Time(100), Time(102), json.dumps({"object": f"thing #{target['id']}"}), [target["id"]])
    assert ingested.record_event(RecordEventRequest(event)).ok
    assert ingested.memory.spatial.scene.states[target["id"]] == "held"
    recalled = ingested.query(QueryRequest("recall_events", '{"order": "last", "action": "pick"}'))
    assert f"#{target['id']}" in recalled.result_json
    assert not ingested.record_event(RecordEventRequest(Event("robot", "pick", arguments_json="[1]"))).ok
    assert ingested.tell(TellRequest("the mug is Alice's", "", "", False)).stored == 1
    assert "alice" in ingested.query(QueryRequest("facts_about", '{"subject": "mug"}')).result_json.lower()
    assert not ingested.tell(TellRequest("this mug is Bob's", "", "{not json", False)).ok
    assert ingested.save(SaveRequest()).path.endswith("bank.db")
    report = json.loads(ingested.forget(ForgetRequest(10_000, 0)).report_json)
    assert report["items_after"] <= report["items_before"]


def test_the_live_node_publishes_its_map_and_a_restart_continues_its_memory(
    sim_bag: Path, make_node, tmp_path: Path, domain_id: int
) -> None:
    """Over DDS: a camera replays the bag into the node; the map, its status and the services answer; then a second
    node on the same bank remembers what the first was told."""
    bank = tmp_path / "bank.db"
    node = make_node(bank, rate_hz=0.0, publish_every_s=0.3, tf_timeout_s=1.0)
    running = MemoryNodeRos(node, make_transport("dds", "memory", domain_id=domain_id))
    robot = make_transport("dds", "robot", domain_id=domain_id)
    try:
        grids: list[OccupancyGrid] = []
        statuses: list[dict] = []
        robot.subscribe("/mindpalace/map", OccupancyGrid, TRANSIENT_LOCAL, grids.append)
        robot.subscribe("/mindpalace/status", String, DEFAULT, lambda m: statuses.append(json.loads(m.data)))
        types = {
            "/tf_static": (TFMessage, TRANSIENT_LOCAL),
            "/tf": (TFMessage, TF),
            "/mindpalace/floor_plan": (String, TRANSIENT_LOCAL),
        }
        types |= {"/camera/color/camera_info": (CameraInfo, SENSOR_DATA), "/camera/instances/labels": (String, SENSOR_DATA)}
        publishers = {}
        for topic in ("/tf_static", "/mindpalace/floor_plan", "/tf", "/camera/color/camera_info", "/camera/instances/labels"):
            publishers[topic] = robot.publisher(topic, *types[topic])
        for topic in ("/camera/color/image_raw", "/camera/aligned_depth_to_color/image_raw", "/camera/instances/image_raw"):
            publishers[topic] = robot.publisher(topic, Image, SENSOR_DATA)
        assert wait_for(lambda: all(p.subscribers() for p in publishers.values()))
        for topic, _, raw in bag_messages(sim_bag, list(publishers)):
            publishers[topic].publish_raw(raw)
            time.sleep(0.01)
        # Every frame is perceived or, when a newer one came first, dropped as superseded: none unaccounted for.
        assert wait_for(lambda: node.counters.used + node.counters.frames_dropped == 13, 60.0), node.counters.to_dict()
        assert node.counters.used >= 1 and set(node.counters.dropped) <= {"unpaired", "superseded"}
        assert node.counters.decoded == node.counters.used  # a superseded frame is never decoded
        # A malformed image over the wire: counted and reported, and the node goes on.
        publishers["/camera/color/image_raw"].publish(Image(height=2, width=2, encoding="rgb8", step=6, data=b"x"))
        assert wait_for(lambda: statuses and statuses[-1]["malformed"].get("color:size") == 1, 10.0)
        assert wait_for(lambda: grids and grids[-1].info.width > 0)
        assert (np.frombuffer(grids[-1].data, np.int8) == 100).any()
        agent = robot.client("/mindpalace/record_event", RECORD_EVENT)
        assert agent.wait_for_service(5.0)
        event = Event(
            "robot",
            "answer",
            Time(50),
            Time(50),
            '{"text": "the hat is on the shelf"}',
            has_position=True,
            position=Point(1.0, 2.0),
        )
        assert agent.call(RecordEventRequest(event)).ok
        objects = node.memory.objects.count()
        assert objects > 0
    finally:
        robot.close()
        running.close()
    again = make_node(bank)
    assert again.memory.objects.count() == objects
    recalled = again.query(QueryRequest("recall_events", '{"order": "last", "action": "answer"}'))
    assert "the hat is on the shelf" in recalled.result_json
    clients = make_transport("dds", "client", domain_id=domain_id)
    running = MemoryNodeRos(again, make_transport("dds", "memory2", domain_id=domain_id))
    try:
        query = clients.client("/mindpalace/query", QUERY)
        assert query.wait_for_service(5.0)
        assert (
            "the hat is on the shelf"
            in query.call(QueryRequest("recall_events", '{"order": "last", "action": "answer"}')).result_json
        )
        for name, srv in (("where_is", WHERE_IS), ("tell", TELL), ("save", SAVE), ("forget", FORGET)):
            assert clients.client(f"/mindpalace/{name}", srv).wait_for_service(5.0)
    finally:
        clients.close()
        running.close()
