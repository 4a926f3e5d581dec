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


# --- depth encodings, units and intrinsics (issue 10, item 4) ------------------------------------


def bit_rotate(millimetres: np.ndarray) -> np.ndarray:
    """SUN RGB-D's storage of millimetres: the 16 bits rotated left by 3 (its reader rotates them back)."""
    mm = millimetres.astype(np.uint32)
    return (((mm << 3) | (mm >> 13)) & 0xFFFF).astype(np.uint16)


def tum_pair(folder: Path, depth: np.ndarray, suffix: str = ".png", color: np.ndarray | None = None) -> Path:
    """A single colour/depth pair folder (the TUM single-pair form) holding the given raw depth."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = np.asarray(Image.open(TUM_PAIR / "TUM_color.png").convert("RGB")) if color is None else color
    Image.fromarray(rgb).save(folder / "scene_color.png")
    if suffix == ".npy":
        np.save(folder / "scene_depth.npy", depth)
    else:
        Image.fromarray(depth).save(folder / f"scene_depth{suffix}")
    return folder


def tum_metres() -> np.ndarray:
    """The real TUM frame's depth in metres (0 = no reading)."""
    return np.asarray(Image.open(TUM_PAIR / "TUM_depth.png")).astype(np.float64) / 5000.0


def test_real_frames_read_without_a_units_warning(real: Path, caplog):
    """Redwood's millimetres and TUM's 1/5000 m are read at their default scale, plausibly, without a warning."""
    with caplog.at_level(logging.WARNING):
        sequence = open_sequence(real)
        frames = list(sequence)
        pair = list(read_sequence(TUM_PAIR, format="tum"))
    assert caplog.text == ""
    assert sequence.describe_depth() == "depth encoding 'mm' (raw / 1000 = metres)"
    for obs in [*frames, *pair]:
        assert 0.5 < np.median(obs.depth[obs.depth > 0]) < 4.0


def test_millimetres_read_as_metres_is_an_error_naming_the_encoding(real: Path):
    """Redwood's millimetre PNGs read as metres would put the room kilometres away: refused, saying how it was read."""
    with pytest.raises(ValueError, match=r"median valid depth \d+ m is impossible for a room.*looks like millimetres.*'m'"):
        list(read_sequence(real, depth_encoding="m"))


def test_wrong_scale_tens_of_metres_away_warns(real: Path, caplog):
    """Raw depth read at a tenth of its scale lands 20-30 m away: a warning names the encoding and the options."""
    with caplog.at_level(logging.WARNING):
        obs = next(read_sequence(real, depth_scale=100.0, max_frames=1))
    assert 15.0 < np.median(obs.depth[obs.depth > 0]) < 100.0
    assert "unusual for a room" in caplog.text and "raw / 100 = metres" in caplog.text and "--depth-encoding" in caplog.text


def test_bit_rotated_millimetres_redwood(redwood_copy: Path, caplog):
    """SUN RGB-D-style PNGs: read as plain millimetres they are 8x too far, with a warning; decoded they are exact."""
    originals = {}
    for image in sorted((redwood_copy / "depth").iterdir()):
        originals[image.name] = np.asarray(Image.open(image))
        Image.fromarray(bit_rotate(originals[image.name])).save(image)
    with caplog.at_level(logging.WARNING):
        wrong = next(read_sequence(redwood_copy, max_frames=1))
    assert "multiple of 8" in caplog.text and "mm_bitshift3" in caplog.text
    np.testing.assert_allclose(
        wrong.depth[wrong.depth > 0], 8 * originals["00000.png"][originals["00000.png"] > 0] / 1000.0, rtol=1e-6
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        frames = list(read_sequence(redwood_copy, depth_encoding="mm_bitshift3"))
    assert caplog.text == ""
    for obs in frames:
        raw = originals[Path(obs.extras["depth_path"]).name]
        np.testing.assert_array_equal(obs.depth == 0, raw == 0)
        np.testing.assert_allclose(obs.depth, raw / 1000.0, rtol=1e-6)


def test_bit_rotated_pair_read_at_tum_scale_is_caught(tmp_path: Path, real: Path, caplog):
    """The reported case: a bit-rotated millimetre pair read with TUM's scale is 1.6x too far, yet plausible; the
    bit pattern gives it away, and --depth-encoding mm_bitshift3 reads it right."""
    metres = tum_metres()
    folder = tum_pair(tmp_path / "sun", bit_rotate(np.round(metres * 1000.0)))
    with caplog.at_level(logging.WARNING):
        wrong = next(read_sequence(folder, format="tum"))
    valid = (metres > 0) & (metres < 8.19)  # the rotation keeps 13 bits: 8.191 m at most
    assert np.count_nonzero(valid) > 0.99 * np.count_nonzero(metres)
    np.testing.assert_allclose(wrong.depth[valid] / metres[valid], 1.6, rtol=2e-3)
    assert "multiple of 8" in caplog.text and "depth_encoding='mm_bitshift3'" in caplog.text
    right = next(read_sequence(folder, format="tum", depth_encoding="mm_bitshift3"))
    np.testing.assert_allclose(right.depth, np.round(metres * 1000.0) / 1000.0, atol=1e-6)


def test_float_metres_tiff_and_millimetre_npy(tmp_path: Path, real: Path, caplog):
    """Float metres in a 32-bit TIFF (encoding m) and uint16 millimetres in .npy (encoding mm) read exactly."""
    metres = tum_metres().astype(np.float32)
    metres[0, :3] = np.nan  # a float file's "no reading" may be NaN
    tiff = tum_pair(tmp_path / "tiff", metres, ".tiff")
    with caplog.at_level(logging.WARNING):
        obs = next(read_sequence(tiff, format="tum", depth_encoding="m"))
    assert caplog.text == ""
    assert obs.depth.dtype == np.float32 and np.all(obs.depth[0, :3] == 0)
    np.testing.assert_array_equal(obs.depth[1:], np.nan_to_num(metres[1:]))
    with pytest.raises(ValueError, match=r"impossible for a room.*'tum'"):
        list(read_sequence(tiff, format="tum"))  # metres read as 1/5000 m: a fifth of a millimetre away
    npy = tum_pair(tmp_path / "npy", np.round(tum_metres() * 1000.0).astype(np.uint16), ".npy")
    obs = next(read_sequence(npy, format="tum", depth_encoding="mm"))
    np.testing.assert_allclose(obs.depth, np.round(tum_metres() * 1000.0) / 1000.0, atol=1e-6)


def test_float_millimetres_as_metres_says_millimetres(tmp_path: Path, real: Path):
    folder = tum_pair(tmp_path / "mm", (tum_metres() * 1000.0).astype(np.float32), ".tiff")
    with pytest.raises(ValueError, match=r"looks like millimetres"):
        list(read_sequence(folder, format="tum", depth_encoding="m"))
    obs = next(read_sequence(folder, format="tum", depth_encoding="mm"))
    np.testing.assert_allclose(obs.depth, tum_metres(), atol=1e-6)


def test_depth_encoding_and_scale_options_are_checked(real: Path):
    with pytest.raises(ValueError, match=r"unknown depth encoding 'inches'; known: mm: .*mm_bitshift3"):
        open_sequence(real, depth_encoding="inches")
    with pytest.raises(ValueError, match=r"depth_scale 5000 contradicts depth encoding 'mm'"):
        open_sequence(real, depth_encoding="mm", depth_scale=5000)
    assert open_sequence(real, depth_encoding="tum").depth_scale == 5000.0
    assert open_sequence(real, depth_encoding="mm", depth_scale=1000).depth_scale == 1000.0
    for bad in (0.0, -1.0, float("nan"), "abc"):
        with pytest.raises(ValueError, match="depth_scale must be a positive number"):
            open_sequence(real, depth_scale=bad)


def test_bit_rotated_encoding_needs_16_bit_integers(tmp_path: Path, real: Path):
    folder = tum_pair(tmp_path / "f", tum_metres().astype(np.float32), ".tiff")
    with pytest.raises(ValueError, match=r"'mm_bitshift3' needs 16-bit integer depth"):
        list(read_sequence(folder, format="tum", depth_encoding="mm_bitshift3"))


def test_intrinsics_as_numbers_take_the_image_size(tmp_path: Path, real: Path):
    """A pair of another camera and size: fx,fy,cx,cy give its intrinsics, the image its size."""
    small_rgb = np.asarray(Image.open(TUM_PAIR / "TUM_color.png").convert("RGB").resize((320, 240)))
    small_depth = np.asarray(Image.open(TUM_PAIR / "TUM_depth.png").resize((320, 240), Image.NEAREST))
    folder = tum_pair(tmp_path / "small", small_depth, color=small_rgb)
    with pytest.raises(ValueError, match=r"intrinsics \(Freiburg defaults\) are for 640x480; give the camera's \(--intrinsics"):
        list(read_sequence(folder, format="tum"))
    obs = next(read_sequence(folder, format="tum", intrinsics="262.5,262.5,159.5,119.5"))
    assert obs.camera == CameraInfo(320, 240, 262.5, 262.5, 159.5, 119.5)
    assert next(read_sequence(folder, format="tum", intrinsics=(262.5, 262.5, 159.5, 119.5))).camera == obs.camera
    assert next(read_sequence(folder, format="tum", intrinsics="262.5 262.5 159.5 119.5 320 240")).camera == obs.camera
    camera_file = tmp_path / "camera.txt"
    camera_file.write_text("fx: 262.5\nfy: 262.5\ncx: 159.5\ncy: 119.5\n")  # no size: the image's
    assert next(read_sequence(folder, format="tum", intrinsics=str(camera_file))).camera == obs.camera
    assert next(read_sequence(folder, format="tum", intrinsics=camera_file)).camera == obs.camera


@pytest.mark.parametrize(
    "spec, message",
    [
        ("525,525,319.5", r"expected fx,fy,cx,cy"),
        ("525,0,319.5,239.5", r"focal lengths must be positive"),
        ("525,525,nan,239.5", r"principal point"),
        ("525,525,900,239.5", r"principal point .* outside the 640x480 image"),
        ("no_such_camera.json", r"no_such_camera.json: no such camera file"),
    ],
)
def test_bad_intrinsics_are_refused(real: Path, spec: str, message: str):
    with pytest.raises(ValueError, match=message):
        open_sequence(TUM_PAIR, format="tum", intrinsics=spec)


def test_folder_without_a_supported_depth_type_names_what_it_holds(redwood_copy: Path):
    (redwood_copy / "rgbd.match").unlink()
    for image in (redwood_copy / "depth").iterdir():
        image.rename(image.with_suffix(".exr"))
    (redwood_copy / "depth" / "notes.txt").write_text("exported")
    with pytest.raises(
        ValueError, match=r"depth: no depth images of a type read here \(.png, .tif, .tiff, .npy\); it holds 5 .exr, 1 .txt"
    ):
        read_sequence(redwood_copy)


def test_pair_folder_without_a_supported_type_names_what_it_holds(tmp_path: Path, real: Path):
    shutil.copy(TUM_PAIR / "TUM_color.png", tmp_path / "TUM_color.png")
    (tmp_path / "TUM_depth.exr").write_bytes(b"not read here")
    with pytest.raises(ValueError, match=r"found 1 colour and 0 depth images; it holds 1 .exr, 1 .png"):
        read_sequence(tmp_path, format="tum")


def test_eight_bit_depth_is_not_depth(tmp_path: Path, real: Path):
    folder = tum_pair(tmp_path / "l", (tum_metres() * 50).astype(np.uint8))
    with pytest.raises(ValueError, match=r"scene_depth.png: not a depth image \(mode L"):
        list(read_sequence(folder, format="tum"))
