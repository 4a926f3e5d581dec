"""The transport seam's contract, run on every transport: DDS here, rclpy where ROS 2 is installed.

DDS runs on the loopback interface only (CYCLONEDDS_URI, set by the `domain_id` fixture), on a domain per test.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from mindpalace.ros.convert import image_msg, rgb_from_msg, transform_msg
from mindpalace.ros.messages.common import String
from mindpalace.ros.messages.mindpalace_msgs import QUERY, QueryRequest, QueryResponse
from mindpalace.ros.messages.sensor import Image, TFMessage
from mindpalace.ros.qos import DEFAULT, SENSOR_DATA, TRANSIENT_LOCAL, QosProfile
from mindpalace.ros.transport import Transport, TransportError, make_transport

TRANSPORTS = [
    "dds",
    pytest.param(
        "rclpy",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("rclpy") is None, reason="rclpy is not installed here (no ROS 2); the DDS transport runs"
        ),
    ),
]


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture(params=TRANSPORTS)
def transports(request: pytest.FixtureRequest, domain_id: int) -> Iterator[Callable[[str], Transport]]:
    made: list[Transport] = []

    def make(name: str) -> Transport:
        transport = make_transport(request.param, name, domain_id=domain_id)
        made.append(transport)
        return transport

    make.kind = request.param  # type: ignore[attr-defined]
    yield make
    for transport in made:
        transport.close()


def test_publish_and_subscribe(transports) -> None:
    talker, listener = transports("talker"), transports("listener")
    received: list[String] = []
    listener.subscribe("/chatter", String, DEFAULT, received.append)
    publisher = talker.publisher("/chatter", String, DEFAULT)
    assert wait_for(lambda: publisher.subscribers() == 1)
    publisher.publish(String("hello"))
    assert wait_for(lambda: received == [String("hello")])


def test_a_640x480_image_arrives_intact(transports) -> None:
    camera, node = transports("camera"), transports("node")
    frames: list[Image] = []
    node.subscribe("/camera/color/image_raw", Image, SENSOR_DATA, frames.append)
    publisher = camera.publisher("/camera/color/image_raw", Image, SENSOR_DATA)
    assert wait_for(lambda: publisher.subscribers() == 1)
    rgb = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    publisher.publish(image_msg(rgb, "bgr8", 1.0, "camera_color_optical_frame", row_padding=64))
    assert wait_for(lambda: len(frames) == 1)
    np.testing.assert_array_equal(rgb_from_msg(frames[0]), rgb)


def test_service_call(transports) -> None:
    server, caller = transports("memory"), transports("agent")
    server.serve("/memory/query", QUERY, lambda request: QueryResponse(True, "", f"{request.tool}:{request.arguments_json}"))
    client = caller.client("/memory/query", QUERY)
    assert client.wait_for_service(5.0)
    assert client.call(QueryRequest("where_is", '{"object": "mug"}')) == QueryResponse(True, "", 'where_is:{"object": "mug"}')
    assert client.call(QueryRequest("room_names", "{}")).result_json == "room_names:{}"


def test_a_failing_handler_leaves_the_caller_a_timeout_not_a_hang(transports) -> None:
    server, caller = transports("memory"), transports("agent")

    def handler(request: QueryRequest) -> QueryResponse:
        if request.tool == "boom":
            raise RuntimeError("handler bug")
        return QueryResponse(True, "", "fine")

    server.serve("/memory/query", QUERY, handler)
    client = caller.client("/memory/query", QUERY)
    assert client.wait_for_service(5.0)
    with pytest.raises(TransportError, match="no reply"):
        client.call(QueryRequest("boom", "{}"), timeout_s=0.5)
    assert client.call(QueryRequest("ok", "{}")).result_json == "fine"


def test_a_late_joiner_receives_tf_static(transports) -> None:
    broadcaster = transports("static_broadcaster")
    publisher = broadcaster.publisher("/tf_static", TFMessage, TRANSIENT_LOCAL)
    publisher.publish(TFMessage([transform_msg(np.eye(4), 0.0, "base_link", "camera_link")]))
    time.sleep(0.3)
    late = transports("late_listener")
    received: list[TFMessage] = []
    late.subscribe("/tf_static", TFMessage, TRANSIENT_LOCAL, received.append)
    assert wait_for(lambda: len(received) == 1)
    assert received[0].transforms[0].child_frame_id == "camera_link"


def test_a_best_effort_reader_matches_a_reliable_writer_but_not_the_reverse(transports) -> None:
    writer_side, reader_side = transports("writer"), transports("reader")
    best_effort: list[String] = []
    reliable: list[String] = []
    reader_side.subscribe("/reliable_out", String, SENSOR_DATA, best_effort.append)
    reader_side.subscribe("/best_effort_out", String, QosProfile(reliable=True), reliable.append)
    reliable_out = writer_side.publisher("/reliable_out", String, DEFAULT)
    best_effort_out = writer_side.publisher("/best_effort_out", String, SENSOR_DATA)
    assert wait_for(lambda: reliable_out.subscribers() == 1)
    time.sleep(0.3)
    assert best_effort_out.subscribers() == 0
    reliable_out.publish(String("a"))
    best_effort_out.publish(String("b"))
    assert wait_for(lambda: best_effort == [String("a")])
    time.sleep(0.2)
    assert reliable == []


_CHILD = """
import sys, time
from mindpalace.ros.transport import make_transport
from mindpalace.ros.messages.common import String
from mindpalace.ros.messages.mindpalace_msgs import QUERY, QueryResponse
from mindpalace.ros.qos import DEFAULT
transport = make_transport(sys.argv[1], "child", domain_id=int(sys.argv[2]))
transport.serve("/child/query", QUERY, lambda r: QueryResponse(True, "", "child saw " + r.tool))
publisher = transport.publisher("/child/chatter", String, DEFAULT)
for i in range(300):
    publisher.publish(String(f"tick {i}"))
    time.sleep(0.05)
"""


def test_two_processes_on_one_domain(transports, domain_id: int) -> None:
    parent = transports("parent")
    received: list[String] = []
    parent.subscribe("/child/chatter", String, DEFAULT, received.append)
    client = parent.client("/child/query", QUERY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_CHILD), transports.kind, str(domain_id)], env=env)
    try:
        assert client.wait_for_service(15.0), "the child's service never appeared"
        assert client.call(QueryRequest("where_is", "{}"), timeout_s=5.0).result_json == "child saw where_is"
        assert wait_for(lambda: len(received) >= 3, 10.0)
        assert all(msg.data.startswith("tick ") for msg in received)
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(importlib.util.find_spec("rclpy") is not None, reason="rclpy is installed here")
def test_without_ros_2_the_rclpy_transport_says_what_to_do() -> None:
    with pytest.raises(TransportError, match=r"source a ROS 2 installation.*--transport dds"):
        make_transport("rclpy", "node")


def test_an_unknown_transport_is_named() -> None:
    with pytest.raises(ValueError, match="unknown transport 'zenoh'; known: dds, rclpy"):
        make_transport("zenoh", "node")


def test_an_action_sends_feedback_and_its_result(transports) -> None:
    from mindpalace.ros.actions import ActionClient, ActionServer
    from mindpalace.ros.messages.common import GoalStatus
    from mindpalace.ros.messages.mindpalace_msgs import INSTRUCT, InstructFeedback, InstructGoal, InstructResult

    server_side, client_side = transports("agent"), transports("user")

    def execute(handle):
        for step in (1, 2, 3):
            handle.publish_feedback(InstructFeedback(step, "navigate_to", "{}", True, f"step {step}"))
            time.sleep(0.05)
        if handle.goal.instruction == "fail":
            handle.abort()
        return InstructResult(True, "on the shelf", "answered", "{}")

    ActionServer(server_side, "/mindpalace/instruct", INSTRUCT, execute)
    client = ActionClient(client_side, "/mindpalace/instruct", INSTRUCT)
    assert client.wait_for_server(10.0)
    time.sleep(0.3)  # the feedback topic is matched
    feedback: list[InstructFeedback] = []
    status, result = client.run(InstructGoal("Where is the hat?"), feedback.append, timeout_s=30.0)
    assert status == GoalStatus.STATUS_SUCCEEDED and result.answer == "on the shelf"
    assert wait_for(lambda: [f.step for f in feedback] == [1, 2, 3])
    status, _ = client.run(InstructGoal("fail"), timeout_s=30.0)
    assert status == GoalStatus.STATUS_ABORTED
