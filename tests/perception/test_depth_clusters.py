"""Class-agnostic depth segmentation: planes removed, the rest clustered, masks mapped back to pixels."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mindpalace.core.geometry import make_pose
from mindpalace.core.types import CameraInfo, Observation
from mindpalace.perception.rgbd_io import read_sequence
from mindpalace.perception.segmenters import SEGMENTERS
from mindpalace.perception.segmenters.depth_clusters import DepthClusterSegmenter, dbscan, fit_plane

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_rgbd"
REDWOOD = REAL / "RGBD"

CAMERA = CameraInfo(320, 240, 260.0, 260.0, 159.5, 119.5)
# (centre x, y, size x, y, z) of two boxes standing on the floor z = 0, world z up.
BOXES = [(2.2, -0.45, 0.35, 0.30, 0.45), (2.5, 0.50, 0.45, 0.35, 0.30)]


def camera_pose(height: float = 1.2, pitch: float = math.radians(30)) -> np.ndarray:
    """Camera at (0, 0, height) looking along world +x, pitched down: columns are the optical axes."""
    z_axis = np.array([math.cos(pitch), 0.0, -math.sin(pitch)])
    x_axis = np.array([0.0, -1.0, 0.0])
    y_axis = np.cross(z_axis, x_axis)
    return make_pose(np.stack([x_axis, y_axis, z_axis], axis=1), np.array([0.0, 0.0, height]))


def render_scene(noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Analytic ray casting: (depth, the true pixel mask of each box, the floor's pixel mask)."""
    pose = camera_pose()
    v, u = np.mgrid[0 : CAMERA.height, 0 : CAMERA.width]
    rays_cam = np.stack([(u - CAMERA.cx) / CAMERA.fx, (v - CAMERA.cy) / CAMERA.fy, np.ones_like(u, float)], axis=-1)
    rays = rays_cam @ pose[:3, :3].T  # world directions, scaled so that t is the optical depth
    origin = pose[:3, 3]
    hits = []
    with np.errstate(divide="ignore", invalid="ignore"):
        floor_t = np.where(rays[..., 2] < 0, -origin[2] / rays[..., 2], np.inf)
        hits.append(floor_t)
        for cx, cy, sx, sy, sz in BOXES:
            low = np.array([cx - sx / 2, cy - sy / 2, 0.0])
            high = np.array([cx + sx / 2, cy + sy / 2, sz])
            t1 = (low - origin) / rays
            t2 = (high - origin) / rays
            near = np.nanmax(np.minimum(t1, t2), axis=-1)
            far = np.nanmin(np.maximum(t1, t2), axis=-1)
            hits.append(np.where((near <= far) & (near > 0), near, np.inf))
    hits = np.stack(hits)
    nearest = np.argmin(hits, axis=0)
    depth = np.min(hits, axis=0)
    depth[~np.isfinite(depth)] = 0.0
    if noise:
        depth = depth + np.random.default_rng(seed).normal(0.0, noise, depth.shape) * (depth > 0)
    finite = depth > 0
    masks = [(nearest == k) & finite for k in range(1, len(BOXES) + 1)]
    return depth.astype(np.float32), masks, (nearest == 0) & finite


def observation(depth: np.ndarray, camera: CameraInfo = CAMERA, rgb: np.ndarray | None = None) -> Observation:
    if rgb is None:
        rgb = np.zeros((*depth.shape, 3), np.uint8) if depth is not None else np.zeros((camera.height, camera.width, 3), np.uint8)
    return Observation(rgb, depth, camera, camera_pose(), camera_pose(), 0.0)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


@pytest.mark.parametrize("noise", [0.0, 0.003])
def test_two_boxes_on_a_floor(noise):
    depth, true_masks, floor = render_scene(noise)
    assert all(mask.sum() > 1500 for mask in true_masks) and floor.sum() > 10 * sum(m.sum() for m in true_masks)
    segmenter = DepthClusterSegmenter()
    segments = segmenter.segment(observation(depth))
    assert len(segmenter.last_stats["planes"]) == 1  # the floor, and no box face
    assert len(segments) == 2, [(s.mask.sum(), s.attributes) for s in segments]
    matched = set()
    for true_mask in true_masks:
        scores = [iou(segment.mask, true_mask) for segment in segments]
        best = int(np.argmax(scores))
        assert scores[best] > 0.7, scores
        matched.add(best)
    assert matched == {0, 1}
    for segment in segments:
        assert segment.label == "object" and 0.0 <= segment.score <= 1.0
        assert segment.mask.shape == depth.shape and segment.mask.dtype == np.bool_
        assert (segment.mask & floor).sum() < 0.05 * segment.mask.sum()  # the floor is removed
    assert [s.source_id for s in segments] == [1, 2]


def test_deterministic():
    depth, _, _ = render_scene(0.003, seed=1)
    first = DepthClusterSegmenter().segment(observation(depth))
    second = DepthClusterSegmenter().segment(observation(depth))
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.mask, b.mask)
        assert a.score == b.score


def test_beyond_max_depth_is_ignored():
    depth, _, _ = render_scene()
    assert DepthClusterSegmenter(max_depth=1.5).segment(observation(depth)) == []
    nothing = np.zeros_like(depth)
    assert DepthClusterSegmenter().segment(observation(nothing)) == []


def test_bad_observations():
    segmenter = DepthClusterSegmenter()
    depth, _, _ = render_scene()
    with pytest.raises(ValueError, match="needs an observation with a depth image"):
        segmenter.segment(observation(None))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"depth is .* but rgb is"):
        segmenter.segment(observation(depth, rgb=np.zeros((100, 100, 3), np.uint8)))
    small = CameraInfo(160, 120, 130.0, 130.0, 79.5, 59.5)
    with pytest.raises(ValueError, match="but the camera is 160x120"):
        segmenter.segment(observation(depth, camera=small))
    with pytest.raises(ValueError, match="voxel must be > 0"):
        DepthClusterSegmenter(voxel=0.0)


def test_registry_builds_it():
    segmenter = SEGMENTERS.make("depth_clusters", voxel=0.03)
    assert isinstance(segmenter, DepthClusterSegmenter) and segmenter.voxel == 0.03


def test_real_redwood_frame():
    if not (REDWOOD / "trajectory.log").is_file():
        pytest.skip(f"the real RGB-D fixtures are not at {REAL.resolve()} (the shared data folder)")
    frames = list(read_sequence(REDWOOD))
    segmenter = DepthClusterSegmenter()
    for obs in frames:
        segments = segmenter.segment(obs)
        assert len(segments) >= 2
        coverage = np.zeros(obs.depth.shape, np.int32)
        for segment in segments:
            assert segment.mask.sum() >= segmenter.min_pixels and 0.0 <= segment.score <= 1.0
            assert (obs.depth[segment.mask] > 0).all()
            coverage += segment.mask
        assert coverage.max() == 1  # no mask overlaps another
        # Objects, not the room: no segment is most of the frame, and the floor and wall are gone.
        assert max(s.mask.sum() for s in segments) < 0.25 * obs.depth.size
        assert len(segmenter.last_stats["planes"]) >= 2


def test_fit_plane_finds_the_dominant_plane_among_outliers_and_is_seeded() -> None:
    """A 2 x 2 m plane tilted 20 degrees with 5 mm noise, 30 % of the points scattered in a box around it: the plane
    and exactly the plane's points within the band; the same seed gives the same answer."""
    rng = np.random.default_rng(3)
    normal = np.array([0.0, math.sin(math.radians(20)), math.cos(math.radians(20))])
    u, v = np.array([1.0, 0.0, 0.0]), np.cross(normal, [1.0, 0.0, 0.0])
    on_plane = rng.uniform(-1, 1, (7000, 1)) * u + rng.uniform(-1, 1, (7000, 1)) * v + np.array([0.0, 0.0, 2.0])
    on_plane += rng.normal(0.0, 0.005, (7000, 1)) * normal
    points = np.concatenate([on_plane, rng.uniform([-1, -1, 1], [1, 1, 3], (3000, 3))])
    plane, inliers = fit_plane(points, 0.02, 200, np.random.default_rng(0))
    assert abs(abs(plane[:3] @ normal) - 1.0) < 1e-3 and abs(np.linalg.norm(plane[:3]) - 1.0) < 1e-9
    assert abs(abs(plane[3]) - 2.0 * normal[2]) < 0.005
    within = np.flatnonzero(np.abs(points @ plane[:3] + plane[3]) < 0.02)
    assert np.array_equal(inliers, within) and set(range(7000)) <= set(inliers.tolist())
    again = fit_plane(points, 0.02, 200, np.random.default_rng(0))
    assert np.array_equal(again[0], plane) and np.array_equal(again[1], inliers)
    assert len(fit_plane(np.ones((10, 3)), 0.02, 50, np.random.default_rng(0))[1]) == 0  # no three points span a plane


def test_dbscan_gives_open3d_labels() -> None:
    """Blobs, a thin chain (border points between clusters) and scattered noise: the labels open3d's cluster_dbscan
    gives, numbering and noise included; no points, no labels."""
    o3d = pytest.importorskip("open3d")
    rng = np.random.default_rng(5)
    blobs = [rng.normal(centre, 0.03, (400, 3)) for centre in ([0, 0, 2], [0.4, 0, 2], [0, 0.5, 2.5])]
    chain = np.linspace([0.05, 0, 2], [0.35, 0, 2], 12)
    points = rng.permutation(np.concatenate([*blobs, chain, rng.uniform([-1, -1, 1], [1, 1, 3], (300, 3))]))
    for eps, min_points in ((0.05, 10), (0.03, 5), (0.1, 30)):
        expected = np.asarray(o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points)).cluster_dbscan(eps, min_points))
        labels = dbscan(points, eps, min_points)
        assert labels.max() >= 1 and (labels == -1).any()
        np.testing.assert_array_equal(labels, expected)
    assert len(dbscan(np.zeros((0, 3)), 0.05, 10)) == 0
