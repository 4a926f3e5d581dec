"""`perceive`, `eval perception` and `perf perception` run and write or print what they promise."""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mindpalace.cli.main import main

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_rgbd" / "RGBD"


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real RGB-D frames are not beside this checkout")
def test_perceive_builds_a_map_from_real_redwood_frames(tmp_path: Path) -> None:
    """On the five real Redwood frames: the map predicts each frame's depth within 5 cm for >= 90% of pixels."""
    out = tmp_path / "map"
    assert main(["perceive", "--rgbd", str(REAL), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_used"] == 5 and summary["depth_agreement"] >= 0.9
    assert all(a >= 0.9 for a in summary["depth_agreement_per_frame"])
    assert summary["objects"] >= 2 and summary["fused_points"] > 10_000
    header = (out / "fused_cloud.ply").read_text().splitlines()[:4]
    assert header[0] == "ply" and int(header[2].split()[-1]) == summary["fused_points"]
    graph = json.loads((out / "scene_graph.json").read_text())
    assert len([n for n in graph["nodes"] if n["kind"] != "room"]) == summary["objects"]
    for picture in ("costmap.png", "scene_graph.png"):
        with Image.open(out / picture) as image:
            pixels = np.asarray(image)
            assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) >= 3, picture


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real RGB-D frames are not beside this checkout")
def test_perceive_aligns_the_world_to_gravity(tmp_path: Path) -> None:
    """Redwood's world is y-up: after alignment the floor is at z ~ 0 and the costmap has free floor."""
    out = tmp_path / "map"
    assert main(["perceive", "--rgbd", str(REAL), "--out", str(out)]) == 0
    header_lines = 7
    points = np.loadtxt(out / "fused_cloud.ply", skiprows=header_lines)
    assert abs(np.percentile(points[:, 2], 1)) < 0.1, "the floor should be at z = 0"
    assert np.percentile(points[:, 2], 99) > 1.0, "walls and furniture rise above the floor"


def test_perceive_rejects_a_missing_folder(tmp_path: Path) -> None:
    assert main(["perceive", "--rgbd", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2


def test_perf_perception_prints_the_named_keys() -> None:
    """`perf perception --json` prints fps at both resolutions and the time of each stage."""
    result = subprocess.run(
        [sys.executable, "-m", "mindpalace.cli.main", "perf", "perception", "--json", "--frames", "5", "--rooms", "3"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for size in ("320x240", "640x480"):
        stages = figures[f"stage_ms_{size}"]
        assert set(stages) >= {"segment", "lift", "associate", "octree", "scene_graph"}
        # The stages are parts of a frame: together they take no longer than the whole frame does.
        assert all(math.isfinite(ms) and ms >= 0 for ms in stages.values())
        assert 0 < sum(stages.values()) <= 1000.0 / figures[f"fps_{size}"] * 1.02  # 2%: the printed figures are rounded


def _bit_rotated_copy(tmp_path: Path) -> Path:
    """The real Redwood frames with depth stored as SUN RGB-D stores millimetres (16 bits rotated left by 3)."""
    folder = tmp_path / "sun" / "RGBD"
    shutil.copytree(REAL, folder, ignore=shutil.ignore_patterns("other_formats"))
    shutil.copy(REAL.parent / "camera_primesense.json", folder.parent / "camera_primesense.json")
    for image in (folder / "depth").iterdir():
        mm = np.asarray(Image.open(image)).astype(np.uint32)
        Image.fromarray((((mm << 3) | (mm >> 13)) & 0xFFFF).astype(np.uint16)).save(image)
    return folder


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real RGB-D frames are not beside this checkout")
def test_perceive_reads_bit_rotated_depth_with_its_encoding(tmp_path: Path, caplog) -> None:
    """--depth-encoding mm_bitshift3 reads SUN RGB-D-style depth right: the map agrees with the frames as on the originals."""
    folder = _bit_rotated_copy(tmp_path)
    out = tmp_path / "map"
    with caplog.at_level(logging.WARNING):
        code = main(
            ["perceive", "--rgbd", str(folder), "--out", str(out), "--depth-encoding", "mm_bitshift3", "--max-frames", "2"]
        )
    assert code == 0 and "multiple of 8" not in caplog.text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_used"] == 2 and summary["depth_agreement"] >= 0.95


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real RGB-D frames are not beside this checkout")
@pytest.mark.parametrize(
    "options, message",
    [
        (["--depth-encoding", "m"], r"impossible for a room.*looks like millimetres.*--depth-encoding"),
        (["--depth-encoding", "mm", "--depth-scale", "5000"], r"depth_scale 5000 contradicts depth encoding 'mm'"),
        (["--intrinsics", "525,525,319.5"], r"expected fx,fy,cx,cy"),
        (["--intrinsics", "525,525,1000,239.5"], r"principal point"),
        (["--intrinsics", "nowhere.json"], r"nowhere.json: no such camera file"),
    ],
)
def test_perceive_refuses_wrong_units_and_intrinsics(tmp_path: Path, capsys, options: list[str], message: str) -> None:
    """Depth units no room has and impossible intrinsics exit 2 with one line, and write nothing."""
    out = tmp_path / "map"
    assert main(["perceive", "--rgbd", str(REAL), "--out", str(out), *options]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("mindpalace perceive: error:") and re.search(message, error)
    assert not out.exists()


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real RGB-D frames are not beside this checkout")
def test_perceive_a_pair_of_another_camera_with_its_intrinsics(tmp_path: Path) -> None:
    """A single 320x240 colour/depth pair: --intrinsics fx,fy,cx,cy gives its camera, the image its size."""
    pair = REAL / "other_formats"
    folder = tmp_path / "pair"
    folder.mkdir()
    Image.open(pair / "TUM_color.png").convert("RGB").resize((320, 240)).save(folder / "TUM_color.png")
    Image.open(pair / "TUM_depth.png").resize((320, 240), Image.NEAREST).save(folder / "TUM_depth.png")
    out = tmp_path / "map"
    base = ["perceive", "--rgbd", str(folder), "--format", "tum", "--out", str(out), "--up", "keep"]
    assert main(base) == 2  # the default camera is 640x480
    assert main([*base, "--intrinsics", "262.5,262.5,159.5,119.5"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_used"] == 1 and summary["depth_agreement"] >= 0.9
