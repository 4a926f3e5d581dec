"""Z-buffer splatting of point clouds into a camera, and agreement of predicted with measured depth."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mindpalace.core.geometry import backproject, make_pose
from mindpalace.core.types import CameraInfo
from mindpalace.perception.depth_render import depth_agreement, render_depth, voxel_downsample
from mindpalace.perception.rgbd_io import read_sequence

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_rgbd"
REDWOOD = REAL / "RGBD"

CAMERA = CameraInfo(80, 60, 70.0, 70.0, 39.5, 29.5)


@pytest.fixture(scope="module")
def redwood():
    if not (REDWOOD / "trajectory.log").is_file():
        pytest.skip(f"the real RGB-D fixtures are not at {REAL.resolve()} (the shared data folder)")
    return list(read_sequence(REDWOOD))


def fronto_parallel_scene() -> np.ndarray:
    """A wall 2 m ahead with a 1.5 m box face in front of it in the image centre."""
    depth = np.full((CAMERA.height, CAMERA.width), 2.0, np.float32)
    depth[20:40, 30:50] = 1.5
    depth[0, :5] = 0.0  # no reading
    return depth


def test_render_reproduces_a_backprojected_depth_image():
    depth = fronto_parallel_scene()
    pose = make_pose(np.eye(3), np.array([0.3, -1.0, 0.5]))
    points = backproject(depth, CAMERA, pose)
    exact = render_depth(points, CAMERA, pose, point_radius_px=0)
    assert exact.dtype == np.float32 and exact.shape == depth.shape
    np.testing.assert_allclose(exact, depth, atol=1e-5)
    splatted = render_depth(points, CAMERA, pose)  # radius 1: the nearest point wins each pixel
    fraction, compared = depth_agreement(splatted, depth)
    assert fraction > 0.98 and compared == int((depth > 0).sum())
    np.testing.assert_allclose(splatted[20:40, 30:50], 1.5, atol=1e-5)  # the front face keeps its pixels


def test_shifted_pose_disagrees():
    depth = fronto_parallel_scene()
    points = backproject(depth, CAMERA, np.eye(4))
    shifted = make_pose(np.eye(3), np.array([0.0, 0.0, 0.3]))  # 30 cm along the optical axis
    agreement = depth_agreement(render_depth(points, CAMERA, shifted), depth)
    assert agreement.compared > 0.9 * depth.size
    assert agreement.fraction == pytest.approx(0.0, abs=0.01)


def test_nearest_point_wins_and_behind_is_ignored():
    pose = np.eye(4)
    points = np.array(
        [
            [0.0, 0.0, 2.0],  # on the optical axis: the same pixel as the next, farther
            [0.0, 0.0, 1.0],
            [0.0, 0.0, -1.0],  # behind the camera
            [100.0, 0.0, 1.0],  # far outside the image
        ]
    )
    image = render_depth(points, CAMERA, pose, point_radius_px=0)
    assert np.count_nonzero(image) == 1
    assert image.max() == pytest.approx(1.0)
    grown = render_depth(points, CAMERA, pose, point_radius_px=2)
    assert np.count_nonzero(grown) == 25
    # A point covers at least its footprint when given its size: 0.1 m at 1 m is 7 px wide.
    sized = render_depth(points[1:2], CAMERA, pose, point_radius_px=0, point_size_m=0.1)
    assert np.count_nonzero(sized) == 49


def test_render_in_a_rotated_camera():
    # A point 2 m ahead of a camera that looks along world +x from (1, 2, 3).
    rotation = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])  # columns: cam x, y, z in world
    pose = make_pose(rotation, np.array([1.0, 2.0, 3.0]))
    image = render_depth(np.array([[3.0, 2.0, 3.0]]), CAMERA, pose, point_radius_px=0)
    v, u = np.unravel_index(np.argmax(image), image.shape)
    assert image[v, u] == pytest.approx(2.0) and (u, v) in {(39, 29), (40, 30), (39, 30), (40, 29)}


def test_render_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        render_depth(np.zeros((4, 2)), CAMERA, np.eye(4))
    with pytest.raises(ValueError, match="point_radius_px"):
        render_depth(np.zeros((4, 3)), CAMERA, np.eye(4), point_radius_px=-1)
    assert not render_depth(np.zeros((0, 3)), CAMERA, np.eye(4)).any()


def test_depth_agreement_counts():
    measured = np.array([[1.0, 2.0, 0.0], [3.0, np.nan, 4.0]], np.float32)
    predicted = np.array([[1.04, 2.2, 5.0], [0.0, 1.0, 4.0]], np.float32)
    fraction, compared = depth_agreement(predicted, measured, tolerance=0.05)
    assert compared == 3 and fraction == pytest.approx(2 / 3)  # (1.0, 1.04) and (4, 4) agree, (2, 2.2) not
    assert depth_agreement(predicted, measured, tolerance=0.25).fraction == 1.0
    empty = depth_agreement(np.zeros((2, 3)), measured)
    assert empty.compared == 0 and math.isnan(empty.fraction)
    with pytest.raises(ValueError, match="one shape"):
        depth_agreement(np.zeros((2, 2)), measured)


def test_voxel_downsample_centroids():
    points = np.array([[0.001, 0.001, 0.001], [0.009, 0.009, 0.009], [0.015, 0.0, 0.0], [np.nan, 0, 0]])
    out = voxel_downsample(points, 0.01)
    assert len(out) == 2
    np.testing.assert_allclose(sorted(out[:, 0]), [0.005, 0.015])


def test_render_real_frame_reproduces_it(redwood):
    obs = redwood[0]
    points = backproject(obs.depth, obs.camera, obs.camera_pose)
    exact = depth_agreement(render_depth(points, obs.camera, obs.camera_pose, point_radius_px=0), obs.depth)
    splatted = depth_agreement(render_depth(points, obs.camera, obs.camera_pose), obs.depth)
    # 30 cm sideways and 30 cm forward: the walls and the chair no longer line up.
    moved = obs.camera_pose @ make_pose(np.eye(3), np.array([0.3, 0.0, 0.3]))
    shifted = depth_agreement(render_depth(points, obs.camera, moved), obs.depth)
    print(
        f"\nreal frame 0 reproduced: radius 0 {exact.fraction:.4f}, radius 1 {splatted.fraction:.4f}, "
        f"shifted pose {shifted.fraction:.4f} ({shifted.compared} px)"
    )
    assert exact.fraction > 0.98 and exact.compared == int((obs.depth > 0).sum())
    assert splatted.fraction > 0.95  # a 3x3 splat bleeds foreground one pixel over depth edges
    assert shifted.fraction < 0.35


def test_fused_real_cloud_predicts_each_frame(redwood):
    clouds = [backproject(obs.depth, obs.camera, obs.camera_pose) for obs in redwood]
    fused = voxel_downsample(np.concatenate(clouds), 0.01)
    figures = []
    for obs in redwood:
        predicted = render_depth(fused, obs.camera, obs.camera_pose)
        figures.append(depth_agreement(predicted, obs.depth, tolerance=0.05))
    print(f"\nfused cloud: {len(fused)} points (1 cm voxels) from {sum(map(len, clouds))}")
    for i, agreement in enumerate(figures):
        print(f"  frame {i}: depth_agreement {agreement.fraction:.4f} within 5 cm over {agreement.compared} px")
    for obs, agreement in zip(redwood, figures):
        assert agreement.compared > 0.9 * int((obs.depth > 0).sum())
        assert agreement.fraction >= 0.90
    # The map seen from somewhere else does not agree: the check can fail.
    away = redwood[0].camera_pose @ make_pose(np.eye(3), np.array([0.4, 0.0, 0.0]))
    assert depth_agreement(render_depth(fused, redwood[0].camera, away), redwood[0].depth).fraction < 0.5
