"""validate_frame: recoverable depth defects are repaired in a copy; unusable frames raise FrameError."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from mindpalace.core.frame_checks import FrameError as CoreFrameError
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


def _pose_with(pose: np.ndarray, row: int, col: int, value: float) -> np.ndarray:
    changed = pose.copy()
    changed[row, col] = value
    return changed


# (how to break a clean frame, what the message must name)
UNUSABLE = {
    "rgb-size": (lambda o: replace(o, rgb=np.zeros((o.depth.shape[0], o.depth.shape[1] + 1, 3), np.uint8)), "differ in size"),
    "rgb-2d": (lambda o: replace(o, rgb=np.zeros(o.depth.shape, np.uint8)), "rgb"),
    "rgb-float": (lambda o: replace(o, rgb=o.rgb / 255.0), "rgb must be uint8"),
    "rgb-uint16": (lambda o: replace(o, rgb=o.rgb.astype(np.uint16) * 257), "rgb must be uint8"),
    "rgb-list": (lambda o: replace(o, rgb=o.rgb.tolist()), "rgb must be an"),
    "empty-0x0": (
        lambda o: replace(
            o, rgb=o.rgb[:0, :0], depth=o.depth[:0, :0], segmentation=None, camera=replace(o.camera, width=0, height=0)
        ),
        "empty 0x0",
    ),
    "depth-3d": (lambda o: replace(o, depth=o.depth[None]), "depth"),
    "seg-size": (lambda o: replace(o, segmentation=o.segmentation[:-1]), "segmentation"),
    "seg-float": (lambda o: replace(o, segmentation=o.segmentation.astype(np.float32)), "segmentation must hold integer"),
    "intrinsics-size": (
        lambda o: replace(o, camera=CameraInfo(o.camera.width + 2, o.camera.height, 80.0, 80.0, 80.0, 60.0)),
        "intrinsics",
    ),
    "int-depth": (lambda o: replace(o, depth=(o.depth * 1000).astype(np.uint16)), "float"),
    "scaled-pose": (lambda o: replace(o, camera_pose=o.camera_pose @ np.diag([2.0, 2.0, 2.0, 1.0])), "rigid"),
    "nan-pose": (lambda o: replace(o, camera_pose=np.where(np.eye(4, dtype=bool), np.nan, o.camera_pose)), "camera_pose has NaN"),
    "reflected-pose": (lambda o: replace(o, camera_pose=o.camera_pose @ np.diag([1.0, 1.0, -1.0, 1.0])), "rigid"),
    "3x4-pose": (lambda o: replace(o, camera_pose=o.camera_pose[:3]), "camera_pose must be a 4x4"),
    "nan-base-pose": (lambda o: replace(o, base_pose=_pose_with(o.base_pose, 0, 3, np.nan)), "base_pose has NaN"),
    "inf-base-pose": (lambda o: replace(o, base_pose=_pose_with(o.base_pose, 1, 3, np.inf)), "base_pose"),
    "sheared-base-pose": (lambda o: replace(o, base_pose=_pose_with(o.base_pose, 0, 1, 0.3)), "base_pose is not a rigid"),
    "zero-fx": (lambda o: replace(o, camera=replace(o.camera, fx=0.0)), "focal"),
    "nan-fy": (lambda o: replace(o, camera=replace(o.camera, fy=np.nan)), "focal"),
    "nan-cx": (lambda o: replace(o, camera=replace(o.camera, cx=np.nan)), "principal point"),
    "inf-cy": (lambda o: replace(o, camera=replace(o.camera, cy=np.inf)), "principal point"),
    "cx-outside": (lambda o: replace(o, camera=replace(o.camera, cx=o.camera.width + 5.0)), "outside the 160x120 image"),
    "nan-time": (lambda o: replace(o, time_s=float("nan")), "time_s must be finite"),
    "inf-time": (lambda o: replace(o, time_s=float("inf")), "time_s must be finite"),
    "negative-time": (lambda o: replace(o, time_s=-0.5), "time_s must be finite and >= 0"),
    "text-time": (lambda o: replace(o, time_s="3.0"), "time_s must be a number"),
    "time-of-day-over": (lambda o: replace(o, time_of_day_s=86400.0), "time_of_day_s"),
    "time-of-day-nan": (lambda o: replace(o, time_of_day_s=float("nan")), "time_of_day_s"),
    "zero-depth": (lambda o: replace(o, depth=np.zeros_like(o.depth)), "no valid depth"),
    "all-nan-depth": (lambda o: replace(o, depth=np.full_like(o.depth, np.nan)), "no valid depth"),
    "millimetre-depth": (lambda o: replace(o, depth=o.depth * 1000.0), "looks like millimetres"),
    "micro-depth": (lambda o: replace(o, depth=o.depth / 1000.0), "impossible for a room"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_unusable_frames_raise_frame_error_naming_the_problem(frame, case):
    """Each kind of broken frame is refused with a message that names the field and says what is wrong."""
    breaks, message = UNUSABLE[case]
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


def test_unusual_depth_warns_but_passes(frame, caplog):
    """A median of 30 m is possible (a hall, a window) but not a room's: a warning names the units, the frame passes."""
    far = replace(frame, depth=frame.depth * 20.0)
    with caplog.at_level(logging.WARNING, logger="mindpalace.perception.validation"):
        out, _ = validate_frame(far)
    assert "unusual for a room" in caplog.text and "check the depth units" in caplog.text
    np.testing.assert_array_equal(out.depth, far.depth)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mindpalace.perception.validation"):
        validate_frame(frame)
    assert caplog.text == ""


def test_float64_depth_becomes_float32(frame):
    """Float depth of another precision is accepted and handed on as the float32 the pipeline documents."""
    out, repaired = validate_frame(replace(frame, depth=frame.depth.astype(np.float64)))
    assert repaired == 0 and out.depth.dtype == np.float32
    np.testing.assert_array_equal(out.depth, frame.depth)


def test_frame_error_is_the_core_one():
    """Perception and memory raise one FrameError class, defined in core (memory may not import perception)."""
    assert FrameError is CoreFrameError


def test_a_camera_s_unusual_depth_is_warned_about_once_when_the_caller_keeps_count(frame, caplog):
    """A wrist camera near a table reads 12 cm on every frame: with `warned`, one warning per camera, then debug lines."""
    near = replace(frame, depth=frame.depth * 0.05, extras={**frame.extras, "camera": "wrist"})
    warned: set[str] = set()
    with caplog.at_level(logging.DEBUG, logger="mindpalace.perception.validation"):
        for _ in range(3):
            validate_frame(near, warned=warned)
    levels = [r.levelno for r in caplog.records if "unusual for a room" in r.getMessage()]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG] and "(wrist camera)" in caplog.text
