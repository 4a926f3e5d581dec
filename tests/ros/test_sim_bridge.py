"""The household as a ROS 2 robot: camera and TF out, NavigateToPose and Manipulate served, faults answered."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from mindpalace.core.config import Component
from mindpalace.core.geometry import pose_from_xy_yaw
from mindpalace.ros.actions import ActionClient
from mindpalace.ros.convert import pose_stamped_msg
from mindpalace.ros.map_messages import occupancy_grid_msg
from mindpalace.ros.messages.common import GoalStatus, String
from mindpalace.ros.messages.maps import OccupancyGrid
from mindpalace.ros.messages.mindpalace_msgs import MANIPULATE, ManipulateGoal
from mindpalace.ros.messages.nav2 import NAVIGATE_TO_POSE, NavigateToPoseGoal
from mindpalace.ros.messages.sensor import Image, TFMessage
from mindpalace.ros.qos import SENSOR_DATA, TF, TRANSIENT_LOCAL
from mindpalace.ros.sim_bridge import ROBOT_DESCRIPTION_TOPIC, SimBridge, SimBridgeConfig, robot_from_json
from mindpalace.ros.tf import TfBuffer
from mindpalace.ros.transport import make_transport


def wait_for(condition, timeout_s: float = 20.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def robot_side(domain_id: int):
    env = Component("mindpalace/Household-v0", {"n_rooms": 3, "width": 160, "height": 120, "max_episode_steps": 100000})
    bridge = SimBridge(SimBridgeConfig(env=env, seed=0, rate_hz=5.0), make_transport("dds", "sim", domain_id=domain_id))
    client = make_transport("dds", "client", domain_id=domain_id)
    yield bridge, client
    client.close()
    bridge.close()


def test_camera_tf_and_the_robot_description_are_published(robot_side) -> None:
    bridge, client = robot_side
    images: list[Image] = []
    descriptions: list[String] = []
    tf = TfBuffer()
    client.subscribe("/camera/color/image_raw", Image, SENSOR_DATA, images.append)
    client.subscribe(ROBOT_DESCRIPTION_TOPIC, String, TRANSIENT_LOCAL, descriptions.append)
    client.subscribe("/tf_static", TFMessage, TRANSIENT_LOCAL, lambda m: [tf.add(t, True) for t in m.transforms])
    client.subscribe("/tf", TFMessage, TF, lambda m: [tf.add(t, False) for t in m.transforms])
    assert wait_for(lambda: len(images) >= 3 and descriptions and tf.latest_stamp() is not None)
    assert (images[-1].width, images[-1].height, images[-1].encoding) == (160, 120, "rgb8")
    assert robot_from_json(descriptions[0].data) == bridge.robot
    stamp = tf.latest_stamp()
    camera = tf.lookup("map", "camera_color_optical_frame", stamp, tolerance_s=0.5)
    assert abs(camera[2, 3] - bridge.obs.camera_pose[2, 3]) < 1e-6  # the camera's height does not change


def test_manipulation_and_navigation_answer_their_faults(robot_side) -> None:
    bridge, client = robot_side
    manipulate = ActionClient(client, "/mindpalace/manipulate", MANIPULATE)
    navigate = ActionClient(client, "/navigate_to_pose", NAVIGATE_TO_POSE)
    assert manipulate.wait_for_server(20.0) and navigate.wait_for_server(20.0)
    status, result = manipulate.run(ManipulateGoal("pick", 1, "mug", 0), timeout_s=60.0)
    assert status == GoalStatus.STATUS_ABORTED and result.reason == "invalid_argument" and "source_id" in result.message
    status, result = manipulate.run(ManipulateGoal("juggle", 1, "mug", 7), timeout_s=60.0)
    assert status == GoalStatus.STATUS_ABORTED and "unknown manipulation" in result.message
    x, y, yaw = bridge.pose
    goal = NavigateToPoseGoal(pose_stamped_msg(pose_from_xy_yaw(x, y, yaw), 0.0, "odom"))
    status, result = navigate.run(goal, timeout_s=60.0)
    assert status == GoalStatus.STATUS_ABORTED and "map frame" in result.error_msg
    goal.pose.header.frame_id = "map"
    status, result = navigate.run(goal, timeout_s=60.0)
    assert status == GoalStatus.STATUS_ABORTED and "no map" in result.error_msg


def test_a_navigate_to_pose_goal_is_reached_on_the_map(robot_side) -> None:
    bridge, client = robot_side
    free = np.zeros((200, 200), np.int8)  # 10 m x 10 m of known free space around the robot
    x, y, yaw = bridge.pose
    grid = client.publisher("/mindpalace/map", OccupancyGrid, TRANSIENT_LOCAL)
    grid.publish(occupancy_grid_msg(free, (x - 5.0, y - 5.0), 0.05, 0.0, "map"))
    navigate = ActionClient(client, "/navigate_to_pose", NAVIGATE_TO_POSE)
    assert navigate.wait_for_server(20.0)
    assert wait_for(lambda: bridge._map is not None)
    target = (x + 0.6 * math.cos(yaw), y + 0.6 * math.sin(yaw))
    goal = NavigateToPoseGoal(pose_stamped_msg(pose_from_xy_yaw(*target, yaw + 1.0), 0.0, "map"))
    status, result = navigate.run(goal, timeout_s=120.0)
    assert status == GoalStatus.STATUS_SUCCEEDED, result.error_msg
    nx, ny, nyaw = bridge.pose
    assert math.hypot(nx - target[0], ny - target[1]) <= 0.3
    assert abs(math.remainder(nyaw - (yaw + 1.0), 2 * math.pi)) <= 0.2
