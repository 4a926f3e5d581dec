"""voxel_groups: the same grouping as sorting the voxel keys, by the dense grid or by the sort."""

from __future__ import annotations

import numpy as np
import pytest

from mindpalace.core.voxels import voxel_downsample, voxel_groups, voxel_keys


@pytest.mark.parametrize(
    "points",
    [
        np.random.default_rng(0).uniform([-2.0, -1.5, 0.3], [2.0, 1.5, 4.0], (20000, 3)),  # dense: a camera frame's box
        np.random.default_rng(1).normal(size=(50, 3)) * 100.0,  # sparse: grouped by sorting the keys
        np.random.default_rng(2).normal(size=(300, 3)) * 0.001 - 5.0,  # one or a few voxels at negative coordinates
        np.zeros((1, 3)),
    ],
)
@pytest.mark.parametrize("voxel", [0.01, 0.05, 0.5])
def test_groups_are_those_of_the_sorted_keys(points, voxel):
    """Keys, each point's voxel and the counts are exactly what np.unique of the keys gives."""
    keys, inverse, counts = voxel_groups(points, voxel)
    expected_keys, expected_inverse, expected_counts = np.unique(
        voxel_keys(points, voxel), return_inverse=True, return_counts=True
    )
    np.testing.assert_array_equal(keys, expected_keys)
    np.testing.assert_array_equal(inverse, expected_inverse.ravel())
    np.testing.assert_array_equal(counts, expected_counts)


def test_no_points_and_downsampling():
    """No points give empty groups; voxel_downsample's means are the groups' means, in key order."""
    assert all(len(part) == 0 for part in voxel_groups(np.zeros((0, 3)), 0.1))
    points = np.array([[0.01, 0.01, 0.01], [0.03, 0.05, 0.07], [0.55, 0.05, 0.05], [-0.05, 0.0, 0.0]])
    np.testing.assert_allclose(voxel_downsample(points, 0.1), [[-0.05, 0.0, 0.0], [0.02, 0.03, 0.04], [0.55, 0.05, 0.05]])
