"""Rigid transforms, quaternions (x, y, z, w), angle wrapping and pinhole (back)projection."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mindpalace.core.geometry import (
    backproject,
    invert_pose,
    is_rigid_transform,
    make_pose,
    matrix_to_quat,
    pose_from_xy_yaw,
    project,
    quat_to_matrix,
    rot_z,
    transform_points,
    wrap_angle,
    yaw_of,
)
from mindpalace.core.types import CameraInfo


def random_quats(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform random unit quaternions (x, y, z, w) with w >= 0."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[q[:, 3] < 0] *= -1
    return q


def random_pose(rng: np.random.Generator) -> np.ndarray:
    return make_pose(quat_to_matrix(random_quats(rng, 1)[0]), rng.uniform(-5, 5, size=3))


def axis_angle(axis, angle: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    return np.array([*(axis * math.sin(angle / 2)), math.cos(angle / 2)])


# --- poses -------------------------------------------------------------------------------


def test_make_pose_layout():
    rotation = rot_z(0.3)
    pose = make_pose(rotation, np.array([1.0, -2.0, 3.0]))
    assert pose.shape == (4, 4) and pose.dtype == np.float64
    np.testing.assert_array_equal(pose[:3, :3], rotation)
    np.testing.assert_array_equal(pose[:3, 3], [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(pose[3], [0, 0, 0, 1])


def test_invert_pose_round_trip():
    rng = np.random.default_rng(0)
    for _ in range(20):
        pose = random_pose(rng)
        inverse = invert_pose(pose)
        np.testing.assert_allclose(pose @ inverse, np.eye(4), atol=1e-12)
        np.testing.assert_allclose(inverse @ pose, np.eye(4), atol=1e-12)
        np.testing.assert_allclose(invert_pose(inverse), pose, atol=1e-12)
        np.testing.assert_allclose(inverse, np.linalg.inv(pose), atol=1e-12)
        assert is_rigid_transform(inverse)


def test_transform_points_matches_homogeneous_product():
    rng = np.random.default_rng(1)
    pose = random_pose(rng)
    points = rng.uniform(-3, 3, size=(50, 3))
    homogeneous = np.hstack([points, np.ones((50, 1))]) @ pose.T
    np.testing.assert_allclose(transform_points(pose, points), homogeneous[:, :3], atol=1e-12)
    np.testing.assert_allclose(transform_points(invert_pose(pose), transform_points(pose, points)), points, atol=1e-12)


def test_transform_points_known_values():
    pose = pose_from_xy_yaw(1.0, 2.0, math.pi / 2, z=0.5)
    out = transform_points(pose, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
    np.testing.assert_allclose(out, [[1.0, 3.0, 0.5], [0.0, 2.0, 1.5]], atol=1e-12)


# --- quaternions -------------------------------------------------------------------------


def test_quat_matrix_round_trip_random():
    rng = np.random.default_rng(2)
    for q in random_quats(rng, 200):
        rotation = quat_to_matrix(q)
        assert is_rigid_transform(make_pose(rotation, np.zeros(3)))
        back = matrix_to_quat(rotation)
        assert back.shape == (4,)
        assert back[3] >= 0
        np.testing.assert_allclose(back, q, atol=1e-9)
        np.testing.assert_allclose(quat_to_matrix(back), rotation, atol=1e-12)


@pytest.mark.parametrize("axis", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, -1), (1, -1, 1)])
@pytest.mark.parametrize("angle", [3.0, -3.0, math.pi])
def test_quat_matrix_round_trip_large_rotations(axis, angle):
    # Near-180-degree rotations have trace <= 0 and take the other branches of matrix_to_quat.
    q = axis_angle(axis, angle)
    rotation = quat_to_matrix(q)
    back = matrix_to_quat(rotation)
    assert back[3] >= 0
    assert np.isclose(np.linalg.norm(back), 1.0)
    np.testing.assert_allclose(quat_to_matrix(back), rotation, atol=1e-12)
    if q[3] > 1e-6:  # unique once w > 0
        np.testing.assert_allclose(back, q if q[3] >= 0 else -q, atol=1e-9)


def test_matrix_to_quat_returns_w_nonnegative_for_negative_w_input():
    q = axis_angle((0.2, -0.5, 1.0), 4.0)  # angle > pi: w < 0
    assert q[3] < 0
    np.testing.assert_allclose(matrix_to_quat(quat_to_matrix(q)), -q, atol=1e-12)


@pytest.mark.parametrize("angle", [0.0, 0.4, -1.2, 2.5, math.pi / 2])
def test_z_quaternion_is_a_yaw(angle):
    q = np.array([0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2)])
    rotation = quat_to_matrix(q)
    np.testing.assert_allclose(rotation, rot_z(angle), atol=1e-12)
    assert yaw_of(make_pose(rotation, np.zeros(3))) == pytest.approx(angle)
    np.testing.assert_allclose(matrix_to_quat(rot_z(angle)), q, atol=1e-12)


def test_quat_to_matrix_normalises():
    q = axis_angle((1, 2, 3), 0.7)
    np.testing.assert_allclose(quat_to_matrix(5.0 * q), quat_to_matrix(q), atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix([0, 0, 0, 2.0]), np.eye(3), atol=1e-12)


# --- yaw ---------------------------------------------------------------------------------


def test_rot_z_rotates_x_towards_y():
    np.testing.assert_allclose(rot_z(math.pi / 2) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(rot_z(math.pi / 2) @ [0.0, 0.0, 1.0], [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(rot_z(0.3) @ rot_z(0.5), rot_z(0.8), atol=1e-12)
    assert np.linalg.det(rot_z(1.1)) == pytest.approx(1.0)


@pytest.mark.parametrize("yaw", [0.0, 0.5, -2.0, 3.0, 4.0, -7.0, math.pi])
def test_pose_from_xy_yaw_and_yaw_of(yaw):
    pose = pose_from_xy_yaw(1.5, -2.0, yaw, z=0.3)
    assert is_rigid_transform(pose)
    np.testing.assert_allclose(pose[:3, 3], [1.5, -2.0, 0.3])
    assert pose_from_xy_yaw(1.0, 2.0, yaw)[2, 3] == 0.0
    assert yaw_of(pose) == pytest.approx(wrap_angle(yaw), abs=1e-12)


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (math.pi, math.pi),
        (-math.pi, math.pi),
        (3 * math.pi, math.pi),
        (-3 * math.pi, math.pi),
        (2 * math.pi, 0.0),
        (0.0, 0.0),
        (0.1, 0.1),
        (-0.1, -0.1),
        (1e-9, 1e-9),
        (3.0, 3.0),
        (-3.0, -3.0),
        (math.pi + 0.5, -math.pi + 0.5),
        (-math.pi - 0.5, math.pi - 0.5),
        (10.0, 10.0 - 4 * math.pi),
    ],
)
def test_wrap_angle(angle, expected):
    assert wrap_angle(angle) == pytest.approx(expected, abs=1e-12)


def test_wrap_angle_range_and_equivalence():
    rng = np.random.default_rng(3)
    for angle in rng.uniform(-50, 50, size=500):
        wrapped = wrap_angle(float(angle))
        assert -math.pi < wrapped <= math.pi
        assert math.cos(wrapped) == pytest.approx(math.cos(angle), abs=1e-9)
        assert math.sin(wrapped) == pytest.approx(math.sin(angle), abs=1e-9)


def test_small_angles_are_unchanged_exactly():
    for angle in [0.0, 0.25, -0.25, 1.0, -1.0, 3.14, -3.14]:
        assert wrap_angle(angle) == angle


# --- is_rigid_transform ------------------------------------------------------------------


def test_rigid_transform_accepts_proper_poses():
    rng = np.random.default_rng(4)
    assert is_rigid_transform(np.eye(4))
    for _ in range(10):
        assert is_rigid_transform(random_pose(rng))


def _bad_last_row():
    pose = np.eye(4)
    pose[3] = [0.1, 0.0, 0.0, 1.0]
    return pose


def _with(value):
    pose = pose_from_xy_yaw(1.0, 2.0, 0.3)
    pose[1, 1] = value
    return pose


@pytest.mark.parametrize(
    "pose",
    [
        make_pose(2.0 * np.eye(3), np.zeros(3)),  # scaled
        make_pose(1.001 * rot_z(0.4), np.zeros(3)),  # slightly scaled
        make_pose(np.diag([1.0, 1.0, -1.0]), np.zeros(3)),  # reflection, det -1
        make_pose(-np.eye(3), np.zeros(3)),  # point reflection, det -1
        make_pose(np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), np.zeros(3)),  # shear
        _with(math.nan),
        _with(math.inf),
        make_pose(np.eye(3), np.array([math.nan, 0.0, 0.0])),
        np.eye(3),  # wrong shape
        np.eye(4)[:3],
        np.eye(5),
        _bad_last_row(),
        np.diag([1.0, 1.0, 1.0, 2.0]),
    ],
    ids=[
        "scaled",
        "slightly-scaled",
        "reflected",
        "point-reflected",
        "sheared",
        "nan",
        "inf",
        "nan-translation",
        "3x3",
        "3x4",
        "5x5",
        "bad-last-row",
        "last-row-w2",
    ],
)
def test_rigid_transform_rejects(pose):
    assert is_rigid_transform(pose) is False


# --- camera and projection ---------------------------------------------------------------


def test_camera_from_horizontal_fov():
    camera = CameraInfo.from_horizontal_fov(320, 240, math.pi / 2)
    assert (camera.width, camera.height) == (320, 240)
    assert camera.fx == pytest.approx(160.0)
    assert camera.fy == camera.fx
    assert camera.cx == 159.5
    assert camera.cy == 119.5
    assert camera.vertical_fov_rad == pytest.approx(2 * math.atan(120 / 160))
    # Horizontal and vertical fields of view follow from the same focal length.
    assert 2 * math.atan(camera.width / 2 / camera.fx) == pytest.approx(math.pi / 2)
    assert math.tan(camera.vertical_fov_rad / 2) / math.tan(math.pi / 4) == pytest.approx(240 / 320)


def test_vertical_fov_of_square_image_equals_horizontal():
    camera = CameraInfo.from_horizontal_fov(64, 64, 1.1)
    assert camera.vertical_fov_rad == pytest.approx(1.1)


def test_vertical_fov_uses_fy():
    camera = CameraInfo(width=100, height=80, fx=50.0, fy=40.0, cx=49.5, cy=39.5)
    assert camera.vertical_fov_rad == pytest.approx(math.pi / 2)


CAMERA = CameraInfo.from_horizontal_fov(32, 24, 1.2)
# Non-square pixels and an off-centre principal point, so fx/fy and cx/cy mix-ups show.
SKEWED_CAMERA = CameraInfo(width=20, height=14, fx=18.0, fy=25.0, cx=8.3, cy=7.9)


def camera_pose() -> np.ndarray:
    # A camera 1.2 m up, yawed and tilted: not the identity, not axis-aligned.
    rotation = quat_to_matrix(axis_angle((0.3, -1.0, 0.4), 2.1))
    return make_pose(rotation, np.array([0.7, -1.3, 1.2]))


def pixel_grid(camera: CameraInfo) -> tuple[np.ndarray, np.ndarray]:
    v, u = np.mgrid[0 : camera.height, 0 : camera.width]
    return u, v


@pytest.mark.parametrize("camera", [CAMERA, SKEWED_CAMERA], ids=["square", "skewed"])
def test_backproject_then_project_returns_pixels_and_depth(camera):
    rng = np.random.default_rng(5)
    depth = rng.uniform(0.2, 8.0, size=(camera.height, camera.width)).astype(np.float32)
    pose = camera_pose()
    points = backproject(depth, camera, pose)
    assert points.shape == (camera.height * camera.width, 3)
    assert points.dtype == np.float64
    uvz = project(points, camera, pose)
    u, v = pixel_grid(camera)
    np.testing.assert_allclose(uvz[:, 0], u.ravel(), atol=1e-6)
    np.testing.assert_allclose(uvz[:, 1], v.ravel(), atol=1e-6)
    np.testing.assert_allclose(uvz[:, 2], depth.ravel(), rtol=1e-9)
    # Points lie in the world frame: their distance from the camera centre is at least the depth.
    distances = np.linalg.norm(points - pose[:3, 3], axis=1)
    assert np.all(distances >= depth.ravel() - 1e-9)


def test_backproject_principal_point_lies_on_the_optical_axis():
    camera = CameraInfo(width=5, height=3, fx=10.0, fy=10.0, cx=2.0, cy=1.0)
    depth = np.zeros((3, 5), dtype=np.float32)
    depth[1, 2] = 2.0  # the principal point
    depth[0, 4] = 1.0  # two pixels right (+x) and one up (-y) of it
    pose = pose_from_xy_yaw(1.0, 0.0, 0.0, z=0.5)
    points = backproject(depth, camera, pose)
    # Row-major pixel order: (v=0, u=4) comes before (v=1, u=2).
    np.testing.assert_allclose(points, [[1.0 + 0.2, -0.1, 0.5 + 1.0], [1.0, 0.0, 0.5 + 2.0]], atol=1e-12)


def test_project_marks_points_behind_the_camera():
    uvz = project(np.array([[0.0, 0.0, -2.0], [0.1, 0.0, 3.0]]), CAMERA, np.eye(4))
    assert uvz[0, 2] == -2.0
    assert uvz[1, 2] == 3.0
    assert uvz[1, 0] == pytest.approx(CAMERA.cx + CAMERA.fx * 0.1 / 3.0)


def test_backproject_drops_invalid_depth():
    rng = np.random.default_rng(6)
    depth = rng.uniform(0.5, 4.0, size=(CAMERA.height, CAMERA.width)).astype(np.float32)
    bad = {(0, 0): 0.0, (3, 7): np.nan, (10, 2): np.inf, (23, 31): -1.0, (5, 5): -np.inf, (8, 9): -0.0}
    for (v, u), value in bad.items():
        depth[v, u] = value
    pose = camera_pose()
    points = backproject(depth, CAMERA, pose)
    assert points.shape == (depth.size - len(bad), 3)
    assert np.all(np.isfinite(points))
    uvz = project(points, CAMERA, pose)
    pixels = {(int(round(v)), int(round(u))) for u, v in uvz[:, :2]}
    assert pixels.isdisjoint(bad)
    assert len(pixels) == depth.size - len(bad)
    assert np.all(uvz[:, 2] > 0)


def test_backproject_all_invalid_gives_empty():
    depth = np.zeros((CAMERA.height, CAMERA.width), dtype=np.float32)
    assert backproject(depth, CAMERA, camera_pose()).shape == (0, 3)


def test_backproject_honours_mask():
    rng = np.random.default_rng(7)
    depth = rng.uniform(0.5, 4.0, size=(CAMERA.height, CAMERA.width)).astype(np.float32)
    depth[2, 3] = 0.0  # masked in but invalid: still dropped
    mask = np.zeros(depth.shape, dtype=bool)
    mask[2:6, 3:10] = True
    pose = camera_pose()
    points = backproject(depth, CAMERA, pose, mask=mask)
    assert points.shape == (mask.sum() - 1, 3)
    uvz = project(points, CAMERA, pose)
    u, v = np.round(uvz[:, 0]).astype(int), np.round(uvz[:, 1]).astype(int)
    assert np.all(mask[v, u])
    assert not np.any((v == 2) & (u == 3))
    # Masked points are exactly the corresponding subset of the unmasked back-projection.
    full = backproject(depth, CAMERA, pose)
    valid = np.isfinite(depth) & (depth > 0)
    np.testing.assert_array_equal(points, full[mask[valid]])
    assert backproject(depth, CAMERA, pose, mask=np.zeros_like(mask)).shape == (0, 3)
