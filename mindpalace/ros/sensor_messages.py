"""What a robot's camera and TF publish for one observation, with a RealSense's topic names by default.

Two TF layouts (REP-105):
- a robot: map -> odom (static: the simulator's odometry does not drift), odom -> base_link (odometry),
  base_link -> camera_color_optical_frame (the head moves, so it is published with every frame);
- a hand-held camera (a recorded RGB-D folder): map -> camera_link per frame, and the static
  camera_link -> camera_color_optical_frame rotation (x forward, y left, z up -> z forward, x right, y down).
A simulator can add its instance segmentation (32SC1) and the id -> label table beside the images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mindpalace.core.geometry import invert_pose, make_pose
from mindpalace.core.types import Observation
from mindpalace.ros.convert import camera_info_msg, image_msg, instance_table_json, transform_msg
from mindpalace.ros.messages.common import String
from mindpalace.ros.messages.sensor import TFMessage

# The optical frame in the camera's body frame (REP-103): its z is the body's x, its x the body's -y.
OPTICAL_IN_BODY = make_pose(np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]), np.zeros(3))


@dataclass(frozen=True)
class CameraTopics:
    color: str = "/camera/color/image_raw"
    depth: str = "/camera/aligned_depth_to_color/image_raw"
    camera_info: str = "/camera/color/camera_info"
    instances: str = "/camera/instances/image_raw"  # a simulator's instance ids (32SC1)
    instance_labels: str = "/camera/instances/labels"  # its id -> label table (std_msgs/String, JSON)


@dataclass(frozen=True)
class RobotFrames:
    map: str = "map"
    odom: str = "odom"
    base: str = "base_link"
    camera_link: str = "camera_link"
    optical: str = "camera_color_optical_frame"


def camera_messages(
    obs: Observation, stamp_s: float, topics: CameraTopics, frames: RobotFrames, *, segmentation: bool = False
) -> list[tuple[str, Any]]:
    """(topic, message) for the colour image (rgb8), aligned depth (16UC1 mm) and camera_info; and the instance
    image and its label table when `segmentation` and the observation has them."""
    # Published before the images they describe, colour last: a node has all it needs when the colour arrives.
    messages: list[tuple[str, Any]] = [(topics.camera_info, camera_info_msg(obs.camera, stamp_s, frames.optical))]
    if segmentation and obs.segmentation is not None:
        messages.append((topics.instance_labels, String(instance_table_json(obs.instances))))
        messages.append((topics.instances, image_msg(obs.segmentation, "32SC1", stamp_s, frames.optical)))
    messages.append((topics.depth, image_msg(obs.depth, "16UC1", stamp_s, frames.optical)))
    messages.append((topics.color, image_msg(obs.rgb, "rgb8", stamp_s, frames.optical)))
    return messages


def robot_static_tf(frames: RobotFrames, stamp_s: float = 0.0) -> TFMessage:
    return TFMessage([transform_msg(np.eye(4), stamp_s, frames.map, frames.odom)])


def robot_tf(obs: Observation, stamp_s: float, frames: RobotFrames) -> TFMessage:
    """odom -> base_link from the base pose, base_link -> optical frame from the camera pose."""
    base_to_camera = invert_pose(obs.base_pose) @ obs.camera_pose
    return TFMessage(
        [
            transform_msg(obs.base_pose, stamp_s, frames.odom, frames.base),
            transform_msg(base_to_camera, stamp_s, frames.base, frames.optical),
        ]
    )


def handheld_static_tf(frames: RobotFrames, stamp_s: float = 0.0) -> TFMessage:
    return TFMessage([transform_msg(OPTICAL_IN_BODY, stamp_s, frames.camera_link, frames.optical)])


def handheld_tf(obs: Observation, stamp_s: float, frames: RobotFrames) -> TFMessage:
    """map -> camera_link, so that map -> camera_link -> optical frame is the observation's camera pose."""
    return TFMessage([transform_msg(obs.camera_pose @ invert_pose(OPTICAL_IN_BODY), stamp_s, frames.map, frames.camera_link)])
