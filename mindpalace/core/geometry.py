"""Rigid transforms, quaternions (x, y, z, w) and pinhole projection. Poses are 4x4 float64."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.types import CameraInfo

Pose = NDArray[np.float64]

# Rotation from a MuJoCo/OpenGL camera frame (x right, y up, -z forward) to the optical frame.
GL_TO_OPTICAL = np.diag([1.0, -1.0, -1.0])


def make_pose(rotation: NDArray[np.float64], translation: NDArray[np.float64]) -> Pose:
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = translation
    return pose


def rot_z(yaw: float) -> NDArray[np.float64]:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def pose_from_xy_yaw(x: float, y: float, yaw: float, z: float = 0.0) -> Pose:
    return make_pose(rot_z(yaw), np.array([x, y, z]))


def yaw_of(pose: Pose) -> float:
    return float(np.arctan2(pose[1, 0], pose[0, 0]))


def wrap_angle(angle: float) -> float:
    """Wrap to (-pi, pi]."""
    wrapped = math.remainder(angle, 2.0 * math.pi)
    return math.pi if wrapped <= -math.pi else wrapped


def invert_pose(pose: Pose) -> Pose:
    rotation = pose[:3, :3]
    return make_pose(rotation.T, -rotation.T @ pose[:3, 3])


def transform_points(pose: Pose, points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Apply a 4x4 pose to (N, 3) points."""
    return points @ pose[:3, :3].T + pose[:3, 3]


def is_rigid_transform(pose: NDArray[np.float64], tol: float = 1e-5) -> bool:
    """True for a finite 4x4 matrix with an orthonormal, right-handed rotation and [0 0 0 1] last row."""
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        return False
    rotation = pose[:3, :3]
    return bool(
        np.allclose(rotation.T @ rotation, np.eye(3), atol=tol)
        and abs(np.linalg.det(rotation) - 1.0) < tol
        and np.allclose(pose[3], [0.0, 0.0, 0.0, 1.0], atol=tol)
    )


def quat_to_matrix(q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Quaternion (x, y, z, w) -> 3x3 rotation."""
    x, y, z, w = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quat(rotation: NDArray[np.float64]) -> NDArray[np.float64]:
    """3x3 rotation -> quaternion (x, y, z, w) with w >= 0."""
    m = rotation
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    quat = np.array(q)
    return quat if quat[3] >= 0 else -quat


def backproject(
    depth: NDArray[np.float32], camera: CameraInfo, camera_pose: Pose, mask: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """World-frame (N, 3) points of the valid depth pixels (finite, > 0), optionally inside `mask`."""
    valid = np.isfinite(depth) & (depth > 0)
    if mask is not None:
        valid &= mask
    v, u = np.nonzero(valid)
    z = depth[v, u].astype(np.float64)
    points_cam = np.stack([(u - camera.cx) * z / camera.fx, (v - camera.cy) * z / camera.fy, z], axis=1)
    return transform_points(camera_pose, points_cam)


def project(points_world: NDArray[np.float64], camera: CameraInfo, camera_pose: Pose) -> NDArray[np.float64]:
    """(N, 3) world points -> (N, 3) of pixel u, v and depth z (z <= 0 means behind the camera)."""
    points_cam = transform_points(invert_pose(camera_pose), points_world)
    z = points_cam[:, 2]
    safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
    u = camera.fx * points_cam[:, 0] / safe + camera.cx
    v = camera.fy * points_cam[:, 1] / safe + camera.cy
    return np.stack([u, v, z], axis=1)


def rotation_between(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The smallest 3x3 rotation taking direction `a` onto direction `b` (Rodrigues)."""
    a = np.asarray(a, dtype=np.float64) / np.linalg.norm(a)
    b = np.asarray(b, dtype=np.float64) / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(a @ b)
    if s < 1e-9:
        if c > 0:
            return np.eye(3)
        # Opposite directions: half a turn about any axis perpendicular to a.
        perpendicular = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        perpendicular /= np.linalg.norm(perpendicular)
        return 2.0 * np.outer(perpendicular, perpendicular) - np.eye(3)
    k = axis / s
    skew = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * skew + (1 - c) * skew @ skew


def gravity_alignment(camera_poses: list[NDArray[np.float64]], max_tilt_deg: float = 30.0) -> NDArray[np.float64]:
    """A world rotation (4x4) making the cameras' mean "up" (optical -y) the world's +z.

    Datasets with a y-up or arbitrary world (Redwood, a single TUM pair) then follow REP-103.
    Identity when the mean up is already within `max_tilt_deg` of +z.
    """
    up = -np.mean([pose[:3, 1] for pose in camera_poses], axis=0)
    if np.linalg.norm(up) < 1e-6:
        return np.eye(4)
    tilt = math.degrees(math.acos(float(np.clip(up[2] / np.linalg.norm(up), -1.0, 1.0))))
    return np.eye(4) if tilt <= max_tilt_deg else make_pose(rotation_between(up, np.array([0.0, 0.0, 1.0])), np.zeros(3))
