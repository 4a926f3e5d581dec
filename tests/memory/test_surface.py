"""SurfaceMap: depth points merged on a voxel grid (one mean point per voxel), and its PLY export."""

from __future__ import annotations

import numpy as np
import pytest

from mindpalace.memory.spatial.surface import SurfaceMap


def _cloud(seed: int = 0, n: int = 3000) -> np.ndarray:
    return np.random.default_rng(seed).uniform([-1.0, -1.0, 0.0], [1.0, 1.0, 0.5], (n, 3))


def test_one_mean_point_per_voxel():
    """Points in one voxel become their mean; points in other voxels stay apart."""
    surface = SurfaceMap(voxel_size=0.1, merge_every=1)
    surface.add(np.array([[0.01, 0.01, 0.01], [0.03, 0.05, 0.07]]))
    surface.add(np.array([[0.05, 0.03, 0.01], [0.55, 0.05, 0.05]]))
    points = surface.points()
    assert len(surface) == 2 and points.shape == (2, 3)
    rows = sorted(map(tuple, np.round(points, 9)))
    assert rows == [(0.03, 0.03, 0.03), (0.55, 0.05, 0.05)]


def test_the_same_frame_twice_adds_no_points():
    """Seeing the same surface again refines it, it does not grow it: same count, same mean points."""
    cloud = _cloud()
    once = SurfaceMap(0.05, merge_every=1)
    once.add(cloud)
    twice = SurfaceMap(0.05, merge_every=1)
    twice.add(cloud)
    twice.add(cloud)
    assert len(once) == len(twice) == len(np.unique(np.floor(cloud / 0.05).astype(int), axis=0))
    np.testing.assert_allclose(twice.points(), once.points(), atol=1e-12)


def test_merge_timing_does_not_change_the_result():
    """Merging every frame or once at the end gives the same fused cloud."""
    frames = [_cloud(seed) for seed in range(5)]
    every, batched = SurfaceMap(0.05, merge_every=1), SurfaceMap(0.05, merge_every=100)
    for frame in frames:
        every.add(frame)
        batched.add(frame)
    assert len(batched._pending) == 5  # not merged yet ...
    np.testing.assert_allclose(batched.points(), every.points(), atol=1e-12)  # ... until read
    assert len(batched) == len(every)


def test_empty_map_and_empty_frames():
    """No points in, no points out; an empty frame changes nothing."""
    surface = SurfaceMap()
    surface.add(np.zeros((0, 3)))
    assert len(surface) == 0 and surface.points().shape == (0, 3)


def test_save_ply_round_trips_through_open3d(tmp_path):
    """The ASCII PLY opens in open3d with the same number of points at the same places (to 0.1 mm)."""
    o3d = pytest.importorskip("open3d")
    surface = SurfaceMap(0.05, merge_every=3)
    for seed in range(4):
        surface.add(_cloud(seed, 500))
    path = surface.save_ply(tmp_path / "maps" / "surface.ply")
    assert path.exists() and path.read_text().startswith("ply\n")
    cloud = o3d.io.read_point_cloud(str(path))
    read = np.asarray(cloud.points)
    assert len(read) == len(surface) > 0
    np.testing.assert_allclose(np.sort(read, axis=0), np.sort(surface.points(), axis=0), atol=1e-4)


def test_save_ply_of_an_empty_map(tmp_path):
    """An empty map writes a valid PLY with no vertices."""
    o3d = pytest.importorskip("open3d")
    path = SurfaceMap().save_ply(tmp_path / "empty.ply")
    assert "element vertex 0" in path.read_text()
    assert len(o3d.io.read_point_cloud(str(path)).points) == 0
