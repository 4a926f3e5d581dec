"""Lifting a 2D segment into the world: erosion, voxel downsampling, outlier removal, boxes, lift_segment."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mindpalace.core.geometry import rot_z
from mindpalace.core.types import Segment
from mindpalace.perception.lifting import (
    LiftingConfig,
    _median_uint8,
    erode,
    lift_segment,
    oriented_box,
    remove_outliers,
    voxel_downsample,
)


# ------------------------------------------------------------------ erode
def test_erode_removes_exactly_one_pixel_ring():
    """One step of erosion turns a 10x10 square into the 8x8 square inside it, and leaves the input alone."""
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    before = mask.copy()
    expected = np.zeros_like(mask)
    expected[6:14, 6:14] = True
    np.testing.assert_array_equal(erode(mask, 1), expected)
    np.testing.assert_array_equal(mask, before)
    expected2 = np.zeros_like(mask)
    expected2[7:13, 7:13] = True
    np.testing.assert_array_equal(erode(mask, 2), expected2)
    np.testing.assert_array_equal(erode(mask, 0), mask)


def test_erode_uses_the_four_neighbourhood():
    """A plus-shaped mask keeps only its centre (diagonal neighbours do not matter); a thin line vanishes."""
    plus = np.zeros((7, 7), bool)
    plus[3, 2:5] = plus[2:5, 3] = True
    out = erode(plus, 1)
    assert out.sum() == 1 and out[3, 3]
    line = np.zeros((7, 7), bool)
    line[3, 1:6] = True
    assert not erode(line, 1).any()


# ------------------------------------------------------------------ voxel_downsample
def test_voxel_downsample_one_mean_point_per_voxel():
    """Points sharing a voxel collapse to their mean; floor() puts small negative coordinates in voxel -1."""
    points = np.array(
        [
            [0.001, 0.002, 0.003],
            [0.009, 0.008, 0.007],  # voxel (0, 0, 0)
            [0.015, 0.005, 0.005],  # voxel (1, 0, 0)
            [-0.001, 0.005, 0.005],  # voxel (-1, 0, 0)
        ]
    )
    out = voxel_downsample(points, 0.01)
    assert out.shape == (3, 3)
    rows = {tuple(np.round(p, 6)) for p in out}
    assert rows == {(0.005, 0.005, 0.005), (0.015, 0.005, 0.005), (-0.001, 0.005, 0.005)}
    assert voxel_downsample(np.zeros((0, 3)), 0.01).shape == (0, 3)


def test_voxel_downsample_is_deterministic_and_order_free():
    """The same points give the same result twice, and a shuffled copy gives the same set of points."""
    rng = np.random.default_rng(0)
    points = rng.uniform(-0.5, 0.5, (2000, 3))
    a, b = voxel_downsample(points, 0.05), voxel_downsample(points, 0.05)
    np.testing.assert_array_equal(a, b)
    shuffled = voxel_downsample(points[rng.permutation(len(points))], 0.05)
    np.testing.assert_allclose(shuffled, a, atol=1e-12)  # output is ordered by voxel, not by input
    keys = np.floor(a / 0.05).astype(int)
    assert len(np.unique(keys, axis=0)) == len(a)  # one point per voxel, inside its voxel
    assert len(a) == len(np.unique(np.floor(points / 0.05).astype(int), axis=0))


# ------------------------------------------------------------------ remove_outliers
def test_remove_outliers_drops_a_far_point_and_keeps_the_cluster():
    """A point 1 m from a dense 1 cm cluster is dropped; nearly all of the cluster stays."""
    rng = np.random.default_rng(1)
    cluster = rng.normal([1.0, 2.0, 0.5], 0.01, (500, 3))
    points = np.vstack([cluster, [[2.0, 2.0, 0.5]]])
    kept = remove_outliers(points, neighbors=10, std_ratio=2.5)
    assert not np.any(np.all(kept == [2.0, 2.0, 0.5], axis=1))
    assert len(kept) >= 0.95 * len(cluster)
    assert all(any(np.array_equal(k, c) for c in points) for k in kept[:20])  # kept rows are input rows


def test_remove_outliers_leaves_small_clouds_alone():
    """With no more points than neighbours the statistics are meaningless: the cloud comes back as is."""
    points = np.array([[0.0, 0, 0], [0.01, 0, 0], [5.0, 0, 0]])
    np.testing.assert_array_equal(remove_outliers(points, neighbors=10, std_ratio=2.5), points)


# ------------------------------------------------------------------ oriented_box
def test_oriented_box_recovers_a_rotated_box(synth):
    """Points on a 0.4 x 0.2 x 0.1 box turned 30 deg about z: extents, heading and centre are recovered."""
    box = synth.Box((1.0, 2.0, 0.5), (0.2, 0.1, 0.05), np.deg2rad(30))
    center, rotation, extent = oriented_box(synth.box_surface_points(box, 0.01))
    np.testing.assert_allclose(center, [1.0, 2.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(sorted(extent[:2]), [0.2, 0.4], atol=1e-6)
    assert extent[2] == pytest.approx(0.1, abs=1e-6)
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-9)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(rotation[:, 2], [0, 0, 1])  # gravity aligned
    long_axis = rotation[:, int(np.argmax(extent[:2]))]
    assert abs(long_axis @ rot_z(np.deg2rad(30))[:, 0]) == pytest.approx(1.0, abs=1e-6)


def test_oriented_box_of_degenerate_clouds():
    """A single point or a vertical line gets the identity heading and zero xy extent, never NaN."""
    for points in (np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 2.0, 0.0], [1.0, 2.0, 1.0]])):
        center, rotation, extent = oriented_box(points)
        assert np.all(np.isfinite(center)) and np.all(np.isfinite(rotation)) and np.all(np.isfinite(extent))
        np.testing.assert_allclose(rotation, np.eye(3))
        np.testing.assert_allclose(center, points.mean(axis=0))


# ------------------------------------------------------------------ lift_segment
@pytest.fixture
def box_frame(synth):
    """A 0.4 x 0.3 x 0.3 box turned 20 deg, standing on the floor 2 m in front of a camera 1.2 m up."""
    box = synth.Box((2.0, 0.3, 0.15), (0.2, 0.15, 0.15), np.deg2rad(20), instance=5, info=synth.mug)
    obs = synth.observation([box], eye=(0.0, 0.0, 1.2))
    segment = Segment(obs.segmentation == 5, "mug", 0.8, 5, {"color": "red"})
    return box, obs, segment


def test_lift_segment_puts_points_on_the_visible_faces(synth, box_frame):
    """The lifted points lie on the true box surface (< 1 cm), on the faces the camera sees, with consistent boxes."""
    box, obs, segment = box_frame
    embedding = np.ones(4, np.float32) / 2
    percept = lift_segment(segment, obs, embedding, LiftingConfig())
    assert percept is not None
    assert synth.box_distance(percept.points, box).max() < 0.01
    assert len(percept.points) >= LiftingConfig().min_points
    # visible faces only: the face each point lies on turns its outside towards the camera
    local = (percept.points - np.asarray(box.center)) @ rot_z(box.yaw)
    axis = np.argmax(np.abs(local) / np.asarray(box.half), axis=1)
    normals = np.zeros_like(local)
    normals[np.arange(len(local)), axis] = np.sign(local[np.arange(len(local)), axis])
    camera_local = (obs.camera_pose[:3, 3] - np.asarray(box.center)) @ rot_z(box.yaw)
    assert np.all(np.sum(normals * (camera_local - local), axis=1) > 0)
    assert {int(a) for a in axis} >= {2}  # the top face is among them, seen from 1.2 m up
    np.testing.assert_allclose(percept.centroid, percept.points.mean(axis=0))
    np.testing.assert_allclose(percept.aabb_min, percept.points.min(axis=0))
    np.testing.assert_allclose(percept.aabb_max, percept.points.max(axis=0))
    assert np.linalg.norm(percept.obb_center[:2] - np.asarray(box.center[:2])) < 0.1
    assert percept.label == "mug" and percept.source_id == 5 and percept.confidence == pytest.approx(0.8)
    assert percept.time_s == obs.time_s and percept.pixel_count == int(segment.mask.sum())
    assert percept.embedding is embedding
    assert percept.attributes == {"color": "red"} and percept.attributes is not segment.attributes


def test_lift_segment_side_view_sees_a_side_face(synth):
    """From a low camera the front face is lifted too: points span the box's height, still on its surface."""
    box = synth.Box((2.0, 0.0, 0.25), (0.2, 0.2, 0.25), 0.0)
    obs = synth.observation([box], eye=(0.0, 0.0, 0.6))
    segment = Segment(obs.segmentation == box.instance, "box")
    percept = lift_segment(segment, obs, np.zeros(3, np.float32), LiftingConfig())
    assert percept is not None
    assert synth.box_distance(percept.points, box).max() < 0.01
    front = np.abs(percept.points[:, 0] - 1.8) < 0.01
    assert front.sum() >= 15 and np.ptp(percept.points[front, 2]) > 0.3


def test_lift_segment_none_without_enough_valid_depth(box_frame):
    """A segment whose pixels have (almost) no depth readings gives no percept."""
    _, obs, segment = box_frame
    depth = obs.depth.copy()
    rows, cols = np.nonzero(segment.mask)
    depth[rows[5:], cols[5:]] = 0.0  # 5 readings left, fewer than min_points
    assert lift_segment(segment, replace(obs, depth=depth), np.zeros(3, np.float32), LiftingConfig()) is None


def test_lift_segment_none_beyond_max_depth(box_frame):
    """Readings farther than max_depth are not used: a box ~2.2 m away is dropped at max_depth=1.5 m."""
    _, obs, segment = box_frame
    assert lift_segment(segment, obs, np.zeros(3, np.float32), LiftingConfig(max_depth=1.5)) is None
    assert lift_segment(segment, obs, np.zeros(3, np.float32), LiftingConfig(max_depth=3.0)) is not None


def test_lift_segment_erosion_drops_border_pixels(synth, box_frame):
    """With erosion, a mask that spills one pixel onto the far floor still lifts only box points."""
    box, obs, segment = box_frame
    grown = segment.mask.copy()
    grown[1:, :] |= segment.mask[:-1, :]
    grown[:-1, :] |= segment.mask[1:, :]
    grown[:, 1:] |= segment.mask[:, :-1]
    grown[:, :-1] |= segment.mask[:, 1:]  # one ring of floor pixels around the box
    spilled = replace(segment, mask=grown)
    eroded = lift_segment(spilled, obs, np.zeros(3, np.float32), LiftingConfig(erode_px=1))
    assert eroded is not None and synth.box_distance(eroded.points, box).max() < 0.01
    raw = lift_segment(spilled, obs, np.zeros(3, np.float32), LiftingConfig(erode_px=0, outlier_std_ratio=100.0))
    assert raw is not None and synth.box_distance(raw.points, box).max() > 0.05


def test_median_colour_is_numpys_median() -> None:
    """The histogram median is np.median's, for odd and even counts (the mean of the two middle values)."""
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 10, 11, 1000, 4001):
        for pixels in (rng.integers(0, 256, (n, 3), dtype=np.uint8), rng.integers(100, 104, (n, 3), dtype=np.uint8)):
            np.testing.assert_array_equal(_median_uint8(pixels), np.median(pixels, axis=0))
