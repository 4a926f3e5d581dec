"""Readers of recorded RGB-D sequences: Redwood/Open3D and TUM folders, on real frames and written ones."""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mindpalace.core.geometry import is_rigid_transform
from mindpalace.core.types import CameraInfo
from mindpalace.perception.rgbd_io import (
    Y_UP_TO_Z_UP,
    associate,
    detect_format,
    load_intrinsics,
    open_sequence,
    read_sequence,
    read_trajectory_log,
)

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_rgbd"
REDWOOD = REAL / "RGBD"
TUM_PAIR = REDWOOD / "other_formats"


@pytest.fixture
def real() -> Path:
    if not (REDWOOD / "trajectory.log").is_file():
        pytest.skip(f"the real RGB-D fixtures are not at {REAL.resolve()} (the shared data folder)")
    return REDWOOD


def expected_trajectory() -> list[np.ndarray]:
    """trajectory.log parsed independently of the reader: 5-line blocks, header then 4 rows."""
    rows = [line.split() for line in (REDWOOD / "trajectory.log").read_text().splitlines() if line.strip()]
    return [np.array(rows[5 * i + 1 : 5 * i + 5], dtype=float) for i in range(len(rows) // 5)]


@pytest.fixture
def redwood_copy(real: Path, tmp_path: Path) -> Path:
    """A writable copy of the real Redwood folder, its intrinsics JSON in the parent as in the original."""
    folder = tmp_path / "seq" / "RGBD"
    shutil.copytree(real, folder, ignore=shutil.ignore_patterns("other_formats"))
    shutil.copy(REAL / "camera_primesense.json", tmp_path / "seq" / "camera_primesense.json")
    return folder


# --- Redwood on the real frames ------------------------------------------------------------------


def test_redwood_real_frames(real: Path):
    assert detect_format(real) == "redwood"
    frames = list(read_sequence(real))
    poses = expected_trajectory()
    assert len(frames) == len(poses) == 5
    for i, obs in enumerate(frames):
        assert obs.rgb.shape == (480, 640, 3) and obs.rgb.dtype == np.uint8
        assert obs.depth.shape == (480, 640) and obs.depth.dtype == np.float32
        assert obs.camera == CameraInfo(640, 480, 525.0, 525.0, 319.5, 239.5)
        assert obs.camera_pose.shape == (4, 4) and obs.camera_pose.dtype == np.float64
        assert is_rigid_transform(obs.camera_pose)
        np.testing.assert_allclose(obs.camera_pose, poses[i], atol=1e-9)
        np.testing.assert_array_equal(obs.base_pose, obs.camera_pose)
        assert obs.segmentation is None
        assert obs.time_s == pytest.approx(i / 30.0)
        assert obs.extras["frame_index"] == i and obs.extras["depth_path"].endswith(f"{i:05d}.png")

        raw = np.asarray(Image.open(real / "depth" / f"{i:05d}.png"))
        np.testing.assert_array_equal(obs.depth == 0, raw == 0)  # no reading stays 0
        assert (raw == 0).any()
        np.testing.assert_allclose(obs.depth, raw / 1000.0, rtol=1e-6)
        valid = obs.depth[obs.depth > 0]
        assert 0.3 < valid.min() and valid.max() < 6.0
        np.testing.assert_array_equal(obs.rgb, np.asarray(Image.open(real / "color" / f"{i:05d}.jpg").convert("RGB")))


def test_redwood_options(real: Path):
    sequence = open_sequence(real, max_frames=2, stride=2)
    assert len(sequence) == 2 and sequence.format == "redwood" and sequence.depth_scale == 1000.0
    assert [obs.extras["frame_index"] for obs in sequence] == [0, 2]
    # An explicit depth scale and intrinsics win over the defaults and the JSON.
    camera = CameraInfo(640, 480, 500.0, 501.0, 320.0, 240.0)
    obs = next(read_sequence(real, depth_scale=2000.0, intrinsics=camera, max_frames=1))
    raw = np.asarray(Image.open(real / "depth" / "00000.png"))
    np.testing.assert_allclose(obs.depth, raw / 2000.0, rtol=1e-6)
    assert obs.camera == camera


def test_world_transform_makes_redwood_z_up(real: Path):
    # Redwood's world is y up: the image's up direction (-y of the optical frame) is world +y.
    obs = next(read_sequence(real, max_frames=1))
    assert (obs.camera_pose[:3, :3] @ [0.0, -1.0, 0.0])[1] > 0.9
    obs = next(read_sequence(real, max_frames=1, world_transform=Y_UP_TO_Z_UP))
    assert (obs.camera_pose[:3, :3] @ [0.0, -1.0, 0.0])[2] > 0.9
    assert is_rigid_transform(obs.camera_pose)


def test_redwood_sorted_pairing_without_match_file(redwood_copy: Path):
    (redwood_copy / "rgbd.match").unlink()
    frames = list(read_sequence(redwood_copy))
    assert [Path(obs.extras["rgb_path"]).name for obs in frames] == [f"{i:05d}.jpg" for i in range(5)]
    assert frames[0].camera.fx == 525.0  # the JSON in the parent folder


def test_redwood_without_intrinsics_json_uses_primesense_defaults(redwood_copy: Path, caplog):
    (redwood_copy.parent / "camera_primesense.json").unlink()
    with caplog.at_level(logging.WARNING):
        obs = next(read_sequence(redwood_copy))
    assert obs.camera == CameraInfo(640, 480, 525.0, 525.0, 319.5, 239.5)
    assert "PrimeSense defaults" in caplog.text


# --- TUM -----------------------------------------------------------------------------------------


def test_tum_single_pair(real: Path):
    with pytest.raises(ValueError, match="format='tum'"):
        detect_format(TUM_PAIR)
    frames = list(read_sequence(TUM_PAIR, format="tum"))
    assert len(frames) == 1
    obs = frames[0]
    raw = np.asarray(Image.open(TUM_PAIR / "TUM_depth.png"))
    np.testing.assert_allclose(obs.depth, raw / 5000.0, rtol=1e-6)
    np.testing.assert_array_equal(obs.depth == 0, raw == 0)
    valid = obs.depth[obs.depth > 0]
    assert 0.3 < np.median(valid) < 6.0
    np.testing.assert_array_equal(obs.camera_pose, np.eye(4))
    assert obs.camera == CameraInfo(640, 480, 525.0, 525.0, 319.5, 239.5)
    assert obs.rgb.shape == (480, 640, 3)


def rotation_about(axis, angle: float) -> np.ndarray:
    """Rodrigues' formula, independent of the quaternion code under test."""
    k = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross


def ground_truth_pose(t: float) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = rotation_about([0.3, -0.5, 1.0], 0.8 * t)
    pose[:3, 3] = [1.0 + 0.5 * t, -0.2 * t, 1.5]
    return pose


def quaternion_xyzw(axis, angle: float) -> list[float]:
    k = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    return [*(k * math.sin(angle / 2)), math.cos(angle / 2)]


def write_tum_folder(folder: Path, size=(32, 24), camera_file: bool = True) -> dict:
    """rgb at 30 Hz, depth 7 ms later, one extra depth frame far from any rgb, and ground truth at
    100 Hz from t = 1.04 s (so the first frame has no pose). Colour encodes the rgb index and depth
    (raw / 5000 = 1 + 0.1 k m) the depth index."""
    width, height = size
    (folder / "rgb").mkdir(parents=True)
    (folder / "depth").mkdir()
    rgb_times = [1.0 + k / 30.0 for k in range(6)]
    depth_times = [t + 0.007 for t in rgb_times] + [5.0]
    rgb_lines = ["# color images", "# file: 'synthetic'", "# timestamp filename"]
    depth_lines = ["# depth maps", "# timestamp filename"]
    for k, t in enumerate(rgb_times):
        Image.fromarray(np.full((height, width, 3), 10 * k, np.uint8)).save(folder / "rgb" / f"{t:.6f}.png")
        rgb_lines.append(f"{t:.6f} rgb/{t:.6f}.png")
    for k, t in enumerate(depth_times):
        raw = np.full((height, width), 5000 + 500 * k, np.uint16)
        raw[0, 0] = 0
        Image.fromarray(raw).save(folder / "depth" / f"{t:.6f}.png")
        depth_lines.append(f"{t:.6f} depth/{t:.6f}.png")
    # Shuffled order in the files: association must not rely on it.
    (folder / "rgb.txt").write_text("\n".join(rgb_lines[:3] + rgb_lines[3:][::-1]) + "\n")
    (folder / "depth.txt").write_text("\n".join(depth_lines) + "\n")
    gt_lines = ["# ground truth trajectory", "# timestamp tx ty tz qx qy qz qw"]
    for n in range(40):
        t = 1.04 + n / 100.0
        pose = ground_truth_pose(t)
        q = quaternion_xyzw([0.3, -0.5, 1.0], 0.8 * t)
        gt_lines.append(f"{t:.4f} " + " ".join(f"{x:.9f}" for x in [*pose[:3, 3], *q]))
    (folder / "groundtruth.txt").write_text("\n".join(gt_lines) + "\n")
    if camera_file:
        (folder / "camera.txt").write_text("fx: 30.0\nfy: 31.0\ncx: 15.5\ncy: 11.5\nwidth: 32\nheight: 24\n")
    return {"rgb_times": rgb_times, "depth_times": depth_times}


def test_tum_synthetic_folder_association_and_poses(tmp_path: Path, caplog):
    info = write_tum_folder(tmp_path)
    assert detect_format(tmp_path) == "tum"
    with caplog.at_level(logging.WARNING):
        frames = list(read_sequence(tmp_path, intrinsics=tmp_path / "camera.txt"))
    # Frame 0 (t = 1.007) is 33 ms before the first pose: dropped, and said so.
    assert "no ground-truth pose" in caplog.text
    assert len(frames) == 5
    for n, obs in enumerate(frames):
        k = n + 1
        assert obs.camera == CameraInfo(32, 24, 30.0, 31.0, 15.5, 11.5)
        assert obs.rgb[0, 0, 0] == 10 * k  # the rgb image of timestamp k
        assert obs.depth[1, 1] == pytest.approx(1.0 + 0.1 * k)  # the depth image paired with it
        assert obs.depth[0, 0] == 0.0
        t_depth = info["depth_times"][k]
        assert obs.extras["timestamp"] == pytest.approx(t_depth, abs=1e-6)  # written with 6 decimals
        assert obs.time_s == pytest.approx(t_depth - info["depth_times"][1], abs=2e-6)
        t_gt = round(t_depth, 2)  # the nearest pose of the 100 Hz ground truth
        np.testing.assert_allclose(obs.camera_pose, ground_truth_pose(t_gt), atol=1e-7)
        assert is_rigid_transform(obs.camera_pose)


def test_tum_default_intrinsics_need_640x480(tmp_path: Path):
    write_tum_folder(tmp_path, camera_file=False)
    with pytest.raises(ValueError, match=r"intrinsics \(Freiburg defaults\) are for 640x480"):
        list(read_sequence(tmp_path))


def test_tum_without_ground_truth_gets_identity(tmp_path: Path, caplog):
    write_tum_folder(tmp_path)
    (tmp_path / "groundtruth.txt").unlink()
    with caplog.at_level(logging.WARNING):
        frames = list(read_sequence(tmp_path, intrinsics=tmp_path / "camera.txt"))
    assert len(frames) == 6 and "identity pose" in caplog.text
    assert all(np.array_equal(obs.camera_pose, np.eye(4)) for obs in frames)


def test_associate_is_one_to_one_and_nearest():
    pairs = associate([1.0, 1.01, 2.0, 3.0], [1.012, 1.004, 2.03, 3.019], 0.02)
    assert pairs == [(0, 1), (1, 0), (3, 3)]


def test_tum_non_unit_quaternion_is_an_error(tmp_path: Path):
    write_tum_folder(tmp_path)
    lines = (tmp_path / "groundtruth.txt").read_text().splitlines()
    lines[5] = "1.0700 1 2 3 0 0 0 2"
    (tmp_path / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"groundtruth.txt:6: the pose at t=1.0700 is not a rigid transform"):
        read_sequence(tmp_path, intrinsics=tmp_path / "camera.txt")


def test_tum_malformed_list_is_an_error(tmp_path: Path):
    write_tum_folder(tmp_path)
    (tmp_path / "depth.txt").write_text("1.0 depth/a.png extra\n")
    with pytest.raises(ValueError, match=r"depth.txt:1: expected 'timestamp filename'"):
        read_sequence(tmp_path)


def test_tum_missing_depth_list(tmp_path: Path):
    write_tum_folder(tmp_path)
    (tmp_path / "depth.txt").unlink()
    with pytest.raises(ValueError, match=r"depth.txt: missing"):
        read_sequence(tmp_path, format="tum")


def test_tum_pair_with_unreadable_depth(tmp_path: Path, real: Path):
    shutil.copy(TUM_PAIR / "TUM_color.png", tmp_path / "TUM_color.png")
    (tmp_path / "TUM_depth.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(ValueError, match=r"TUM_depth.png: unreadable image"):
        list(read_sequence(tmp_path, format="tum"))


# --- bad input -----------------------------------------------------------------------------------


def test_missing_folder(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ValueError, match=r"nowhere: no such folder"):
        read_sequence(missing)
    with pytest.raises(ValueError, match=r"nowhere: no such folder"):
        detect_format(missing)


def test_unknown_format_and_undetectable_folder(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="cannot tell the format"):
        read_sequence(tmp_path)
    with pytest.raises(ValueError, match="unknown RGB-D format 'kitti'"):
        read_sequence(tmp_path, format="kitti")


def test_mismatched_counts(redwood_copy: Path):
    (redwood_copy / "rgbd.match").unlink()
    (redwood_copy / "depth" / "00004.png").unlink()
    with pytest.raises(ValueError, match=r"5 colour images in .*color but 4 depth images in .*depth"):
        read_sequence(redwood_copy)


def test_trajectory_with_too_few_poses(redwood_copy: Path):
    log_file = redwood_copy / "trajectory.log"
    log_file.write_text("\n".join(log_file.read_text().splitlines()[:20]) + "\n")
    with pytest.raises(ValueError, match=r"trajectory.log: 4 poses for 5 frames"):
        read_sequence(redwood_copy)


def test_non_rigid_pose_names_the_frame(redwood_copy: Path):
    log_file = redwood_copy / "trajectory.log"
    lines = log_file.read_text().splitlines()
    row = lines[11].split()  # frame 2, first matrix row
    row[0] = str(float(row[0]) * 1.5)
    lines[11] = " ".join(row)
    log_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"trajectory.log:12: the pose of frame 2 is not a rigid transform"):
        read_sequence(redwood_copy)
    assert len(read_trajectory_log(REDWOOD / "trajectory.log")) == 5


def test_malformed_trajectory(redwood_copy: Path):
    log_file = redwood_copy / "trajectory.log"
    lines = log_file.read_text().splitlines()
    lines[7] = "1 0 0"
    log_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"trajectory.log:8: expected 4 numbers of frame 1's pose"):
        read_sequence(redwood_copy)


def test_all_frames_unreadable_is_an_error(redwood_copy: Path):
    for image in (redwood_copy / "color").iterdir():
        image.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"no frame could be read .*00000.jpg: unreadable image"):
        list(read_sequence(redwood_copy))


def test_depth_colour_size_mismatch_is_an_error(redwood_copy: Path):
    for image in (redwood_copy / "depth").iterdir():
        Image.open(image).resize((320, 240), Image.NEAREST).save(image)
    with pytest.raises(ValueError, match=r"00000.png: depth is 320x240 but colour .*00000.jpg is 640x480"):
        list(read_sequence(redwood_copy))


def test_intrinsics_for_another_size_is_an_error(redwood_copy: Path, tmp_path: Path):
    camera = tmp_path / "small.json"
    camera.write_text('{"width": 320, "height": 240, "intrinsic_matrix": [262.5, 0, 0, 0, 262.5, 0, 159.5, 119.5, 1]}')
    assert load_intrinsics(camera) == CameraInfo(320, 240, 262.5, 262.5, 159.5, 119.5)
    with pytest.raises(ValueError, match=r"image is 640x480 but the intrinsics \(.*small.json\) are for 320x240"):
        list(read_sequence(redwood_copy, intrinsics=camera))


def test_bad_intrinsics_file(tmp_path: Path):
    camera = tmp_path / "camera.json"
    camera.write_text('{"width": 640, "height": 480, "intrinsic_matrix": [1, 2, 3]}')
    with pytest.raises(ValueError, match=r"camera.json: not a camera intrinsics file"):
        load_intrinsics(camera)


def test_single_corrupt_frame_is_skipped_with_a_warning(redwood_copy: Path, caplog):
    data = (redwood_copy / "color" / "00003.jpg").read_bytes()
    (redwood_copy / "color" / "00003.jpg").write_bytes(data[: len(data) // 3])  # truncated
    with caplog.at_level(logging.WARNING):
        frames = list(read_sequence(redwood_copy))
    assert [obs.extras["frame_index"] for obs in frames] == [0, 1, 2, 4]
    assert "skipping corrupt frame 3" in caplog.text and "00003.jpg" in caplog.text
    with pytest.raises(ValueError, match=r"frame 3: .*00003.jpg"):
        list(read_sequence(redwood_copy, strict=True))


def test_single_size_mismatch_frame_is_skipped(redwood_copy: Path, caplog):
    image = redwood_copy / "depth" / "00001.png"
    Image.open(image).resize((320, 240), Image.NEAREST).save(image)
    with caplog.at_level(logging.WARNING):
        frames = list(read_sequence(redwood_copy))
    assert len(frames) == 4
    assert "skipping corrupt frame 1" in caplog.text and "depth is 320x240" in caplog.text


def test_swapped_colour_and_depth_is_reported(redwood_copy: Path):
    shutil.copy(redwood_copy / "depth" / "00000.png", redwood_copy / "color" / "00000.jpg")
    with pytest.raises(ValueError, match=r"frame 0: .*00000.jpg: a single-channel"):
        list(read_sequence(redwood_copy, strict=True))
