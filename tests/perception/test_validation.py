"""validate_frame: recoverable depth defects are repaired in a copy; unusable frames raise FrameError."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mindpalace.core.types import CameraInfo
from mindpalace.perception.validation import FrameError, validate_frame


@pytest.fixture
def frame(synth):
    """A clean synthetic frame: a box on the floor seen from 1.2 m up."""
    return synth.observation([synth.Box((2.0, 0.0, 0.15), (0.2, 0.15, 0.15), info=synth.mug)])


def test_clean_frame_passes_unchanged(frame):
    """A valid frame comes back with zero repairs and the same depth values."""
    out, repaired = validate_frame(frame)
    assert repaired == 0
    np.testing.assert_array_equal(out.depth, frame.depth)


def test_nan_inf_negative_depth_repaired_in_a_copy(frame):
    """NaN, +-inf and negative readings become 0 ("no reading"), are counted, and the input is untouched."""
    depth = frame.depth.copy()
    depth[0, :5] = np.nan
    depth[1, :3] = np.inf
    depth[2, :2] = -np.inf
    depth[3, :4] = -0.5
    original = depth.copy()
    obs = replace(frame, depth=depth)
    out, repaired = validate_frame(obs)
    assert repaired == 5 + 3 + 2 + 4
    assert out.depth is not depth
    assert out.depth.dtype == np.float32
    assert np.all(np.isfinite(out.depth)) and np.all(out.depth >= 0)
    assert np.all(out.depth[:4][~np.isfinite(original[:4]) | (original[:4] < 0)] == 0)
    good = np.isfinite(original) & (original >= 0)
    np.testing.assert_array_equal(out.depth[good], original[good])
    np.testing.assert_array_equal(obs.depth, original, strict=True)  # the caller's array is untouched (NaN == NaN here)


def test_frame_error_is_a_value_error():
    """Callers that catch ValueError also catch FrameError."""
    assert issubclass(FrameError, ValueError)


@pytest.mark.parametrize(
    "breaks, message",
    [
        (lambda o: replace(o, rgb=np.zeros((o.depth.shape[0], o.depth.shape[1] + 1, 3), np.uint8)), "differ in size"),
        (lambda o: replace(o, rgb=np.zeros(o.depth.shape, np.uint8)), "rgb"),
        (lambda o: replace(o, depth=o.depth[None]), "depth"),
        (lambda o: replace(o, segmentation=o.segmentation[:-1]), "segmentation"),
        (lambda o: replace(o, camera=CameraInfo(o.camera.width + 2, o.camera.height, 80.0, 80.0, 80.0, 60.0)), "intrinsics"),
        (lambda o: replace(o, depth=(o.depth * 1000).astype(np.uint16)), "float"),
        (lambda o: replace(o, camera_pose=o.camera_pose @ np.diag([2.0, 2.0, 2.0, 1.0])), "rigid"),
        (lambda o: replace(o, camera_pose=np.where(np.eye(4, dtype=bool), np.nan, o.camera_pose)), "rigid"),
        (lambda o: replace(o, camera_pose=o.camera_pose @ np.diag([1.0, 1.0, -1.0, 1.0])), "rigid"),  # a reflection
        (lambda o: replace(o, camera_pose=o.camera_pose[:3]), "rigid"),
        (lambda o: replace(o, camera=replace(o.camera, fx=0.0)), "focal"),
        (lambda o: replace(o, camera=replace(o.camera, fy=np.nan)), "focal"),
        (lambda o: replace(o, depth=np.zeros_like(o.depth)), "no valid depth"),
        (lambda o: replace(o, depth=np.full_like(o.depth, np.nan)), "no valid depth"),
    ],
    ids=[
        "rgb-size",
        "rgb-2d",
        "depth-3d",
        "seg-size",
        "intrinsics-size",
        "int-depth",
        "scaled-pose",
        "nan-pose",
        "reflected-pose",
        "3x4-pose",
        "zero-fx",
        "nan-fy",
        "zero-depth",
        "all-nan-depth",
    ],
)
def test_unusable_frames_raise_frame_error_naming_the_problem(frame, breaks, message):
    """Each kind of broken frame is refused with a message that says what is wrong."""
    with pytest.raises(FrameError, match=message):
        validate_frame(breaks(frame))


def test_too_few_valid_pixels_is_no_valid_depth(frame):
    """A handful of readings below min_valid_fraction of the image is not a usable frame."""
    depth = np.zeros_like(frame.depth)
    depth[10, :5] = 2.0
    with pytest.raises(FrameError, match="no valid depth"):
        validate_frame(replace(frame, depth=depth))
    out, repaired = validate_frame(replace(frame, depth=depth), min_valid_fraction=0.0001)
    assert repaired == 0 and np.count_nonzero(out.depth) == 5
