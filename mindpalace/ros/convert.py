"""Conversions between ROS 2 messages and mindpalace's arrays and types.

Images follow REP-118: colour as rgb8 or bgr8; depth as 16UC1 in millimetres (0 = no reading) or 32FC1 in metres
(NaN or non-positive = no reading). `step` is the bytes per row and may include padding. A message that cannot be
read raises `MessageError` with a short `reason` ("encoding", "size", ...) for the node's counters.
Poses are 4x4 float64 (child -> parent); quaternions are (x, y, z, w).
"""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import make_pose, matrix_to_quat, quat_to_matrix
from mindpalace.core.types import CameraInfo, InstanceInfo
from mindpalace.ros.messages.common import (
    Header,
    Point,
    Pose,
    PoseArray,
    PoseStamped,
    Quaternion,
    String,
    Time,
    Transform,
    TransformStamped,
    Vector3,
)
from mindpalace.ros.messages.sensor import CameraInfo as CameraInfoMsg
from mindpalace.ros.messages.sensor import Image

COLOR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8")
DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")


class MessageError(ValueError):
    """A message that cannot be used; `reason` names the kind of fault, for counting."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def header(stamp_s: float, frame_id: str) -> Header:
    return Header(Time.from_seconds(stamp_s), frame_id)


# ---------------------------------------------------------------------- images
def image_msg(array: NDArray, encoding: str, stamp_s: float, frame_id: str, row_padding: int = 0) -> Image:
    """An Image from an (H, W, 3) uint8 RGB array (rgb8, bgr8) or an (H, W) depth in metres (16UC1 mm, 32FC1 m).

    `row_padding` adds that many bytes to each row (`step` > width x bytes per pixel), as some drivers do.
    """
    if encoding in ("rgb8", "bgr8"):
        if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
            raise ValueError(f"{encoding} needs an (H, W, 3) uint8 array, got {array.shape} {array.dtype}")
        pixels = array if encoding == "rgb8" else array[:, :, ::-1]
    elif encoding == "16UC1":
        millimetres = np.round(np.nan_to_num(np.asarray(array, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0) * 1000.0)
        pixels = np.where((millimetres > 0) & (millimetres <= 65535), millimetres, 0).astype("<u2")  # out of range: no reading
    elif encoding == "32FC1":
        depth = np.asarray(array, dtype="<f4")
        pixels = np.where(depth > 0, depth, np.float32(np.nan)).astype("<f4")
    elif encoding == "32SC1":
        pixels = np.asarray(array).astype("<i4")
    else:
        raise ValueError(f"cannot write encoding {encoding!r}; use one of rgb8, bgr8, 16UC1, 32FC1, 32SC1")
    height, width = pixels.shape[:2]
    rows = np.ascontiguousarray(pixels).view(np.uint8).reshape(height, -1)
    if row_padding:
        rows = np.concatenate([rows, np.zeros((height, row_padding), dtype=np.uint8)], axis=1)
    return Image(header(stamp_s, frame_id), height, width, encoding, 0, rows.shape[1], rows.tobytes())


def _check_size(msg: Image, bytes_per_pixel: int) -> None:
    """Raises MessageError unless the data holds `height` rows of `step` bytes, each with `width` pixels."""
    if msg.height == 0 or msg.width == 0:
        raise MessageError("size", f"empty {msg.width}x{msg.height} image")
    row = msg.width * bytes_per_pixel
    if msg.step < row:
        raise MessageError("size", f"step {msg.step} is less than width x {bytes_per_pixel} bytes = {row}")
    if len(msg.data) != msg.step * msg.height:
        raise MessageError("size", f"{len(msg.data)} bytes of data for step {msg.step} x height {msg.height}")


def _rows(msg: Image, bytes_per_pixel: int) -> NDArray[np.uint8]:
    """The image's bytes as (height, width x bytes per pixel), row padding removed; checks every size."""
    _check_size(msg, bytes_per_pixel)
    return np.frombuffer(msg.data, dtype=np.uint8).reshape(msg.height, msg.step)[:, : msg.width * bytes_per_pixel]


def check_color(msg: Image) -> int:
    """Raises MessageError unless `rgb_from_msg` can decode the image (its encoding and sizes: no pixel is read);
    the channels per pixel."""
    if msg.encoding not in COLOR_ENCODINGS:
        raise MessageError("encoding", f"colour image in {msg.encoding!r}; expected one of {', '.join(COLOR_ENCODINGS)}")
    channels = 4 if msg.encoding.endswith("a8") else 3
    _check_size(msg, channels)
    return channels


def check_depth(msg: Image) -> int:
    """Raises MessageError unless `depth_from_msg` can decode the image (no pixel is read); the bytes per pixel."""
    if msg.encoding not in DEPTH_ENCODINGS:
        raise MessageError("encoding", f"depth image in {msg.encoding!r}; expected one of {', '.join(DEPTH_ENCODINGS)}")
    size = 4 if msg.encoding == "32FC1" else 2
    _check_size(msg, size)
    return size


def rgb_from_msg(msg: Image) -> NDArray[np.uint8]:
    """(H, W, 3) uint8 RGB from rgb8, bgr8, rgba8 or bgra8."""
    channels = check_color(msg)
    pixels = _rows(msg, channels).reshape(msg.height, msg.width, channels)[:, :, :3]
    if msg.encoding.startswith("bgr"):
        pixels = pixels[:, :, ::-1]
    return np.ascontiguousarray(pixels)


def depth_from_msg(msg: Image) -> NDArray[np.float32]:
    """(H, W) float32 metres, 0 = no reading, from 16UC1 / mono16 (mm) or 32FC1 (m)."""
    size = check_depth(msg)
    order = ">" if msg.is_bigendian else "<"
    if msg.encoding == "32FC1":
        metres = _rows(msg, size).copy().view(f"{order}f4").reshape(msg.height, msg.width).astype(np.float32)
        return np.where(np.isfinite(metres) & (metres > 0), metres, np.float32(0.0)).astype(np.float32)
    millimetres = _rows(msg, size).copy().view(f"{order}u2").reshape(msg.height, msg.width)
    return (millimetres.astype(np.float32) / np.float32(1000.0)).astype(np.float32)


def instances_from_msg(msg: Image) -> NDArray[np.int32]:
    """(H, W) int32 instance ids (0 = none) from a 32SC1 image: a simulator's instance segmentation."""
    if msg.encoding != "32SC1":
        raise MessageError("encoding", f"instance image in {msg.encoding!r}; expected 32SC1")
    order = ">" if msg.is_bigendian else "<"
    return _rows(msg, 4).copy().view(f"{order}i4").reshape(msg.height, msg.width).astype(np.int32)


def instance_table_json(instances: dict[int, InstanceInfo]) -> str:
    """The id -> label table of an instance image, as JSON (published beside it)."""
    return json.dumps({str(i): asdict(info) for i, info in instances.items()})


def instance_table_from_json(text: str) -> dict[int, InstanceInfo]:
    try:
        table = {int(key): InstanceInfo(**value) for key, value in json.loads(text).items()}
    except (ValueError, TypeError, AttributeError) as error:
        raise MessageError("json", f"not an instance table: {error}") from error
    return table


# ---------------------------------------------------------------------- camera info
def camera_info_msg(camera: CameraInfo, stamp_s: float, frame_id: str) -> CameraInfoMsg:
    """A pinhole CameraInfo without distortion (rectified images), K, R = I and P = [K | 0]."""
    k = [camera.fx, 0.0, camera.cx, 0.0, camera.fy, camera.cy, 0.0, 0.0, 1.0]
    p = [camera.fx, 0.0, camera.cx, 0.0, 0.0, camera.fy, camera.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    return CameraInfoMsg(header(stamp_s, frame_id), camera.height, camera.width, "plumb_bob", [0.0] * 5, k, identity, p)


def camera_from_msg(msg: CameraInfoMsg) -> CameraInfo:
    """The intrinsics of rectified images (K); binning divides them, as image_proc does."""
    fx, fy, cx, cy = msg.k[0], msg.k[4], msg.k[2], msg.k[5]
    if not (fx > 0 and fy > 0 and msg.width > 0 and msg.height > 0):
        raise MessageError("camera_info", f"no usable intrinsics (fx {fx}, fy {fy}, {msg.width}x{msg.height})")
    bx, by = max(msg.binning_x, 1), max(msg.binning_y, 1)
    return CameraInfo(msg.width // bx, msg.height // by, fx / bx, fy / by, cx / bx, cy / by)


# ---------------------------------------------------------------------- poses and transforms
def pose_msg(pose: NDArray[np.float64]) -> Pose:
    x, y, z, w = (float(v) for v in matrix_to_quat(pose[:3, :3]))
    return Pose(Point(*(float(v) for v in pose[:3, 3])), Quaternion(x, y, z, w))


def pose_from_msg(msg: Pose | Transform) -> NDArray[np.float64]:
    """4x4 from a Pose or a Transform; a zero quaternion is rejected."""
    t: Vector3 | Point
    if isinstance(msg, Transform):
        t, q = msg.translation, msg.rotation
    else:
        t, q = msg.position, msg.orientation
    quat = np.array([q.x, q.y, q.z, q.w], dtype=np.float64)
    translation = np.array([t.x, t.y, t.z], dtype=np.float64)
    if not (np.all(np.isfinite(quat)) and np.all(np.isfinite(translation)) and np.linalg.norm(quat) > 1e-9):
        raise MessageError("pose", f"not a rigid transform: translation {translation}, quaternion {quat}")
    return make_pose(quat_to_matrix(quat), translation)


def pose_stamped_msg(pose: NDArray[np.float64], stamp_s: float, frame_id: str) -> PoseStamped:
    return PoseStamped(header(stamp_s, frame_id), pose_msg(pose))


def pose_array_msg(poses: list[NDArray[np.float64]], stamp_s: float, frame_id: str) -> PoseArray:
    return PoseArray(header(stamp_s, frame_id), [pose_msg(p) for p in poses])


def transform_msg(pose: NDArray[np.float64], stamp_s: float, parent: str, child: str) -> TransformStamped:
    """The transform child -> parent (what tf2 calls parent <- child: `header.frame_id` is the parent)."""
    p = pose_msg(pose)
    translation = Vector3(p.position.x, p.position.y, p.position.z)
    return TransformStamped(header(stamp_s, parent), child, Transform(translation, p.orientation))


def string_msg(text: str) -> String:
    return String(text)
