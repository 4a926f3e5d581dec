"""`perceive`, `eval perception` and `perf perception` run and write or print what they promise."""

from __future__ import annotations

import json
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
    for key in ("fps_320x240", "fps_640x480"):
        assert figures[key] > 0
    for stage in ("segment", "lift", "associate", "octree", "scene_graph"):
        assert figures["stage_ms_320x240"][stage] >= 0
