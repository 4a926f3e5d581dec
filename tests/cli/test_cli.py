"""The `mindpalace` command: each subcommand runs and writes what it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mindpalace.cli.main import main


def test_sim_writes_frames_map_and_summary(tmp_path: Path) -> None:
    """`sim` writes RGB, depth and segmentation frames, the top-down map and a summary for its steps."""
    out = tmp_path / "sim"
    assert (
        main(["sim", "--seed", "2", "--steps", "12", "--out", str(out), "--every", "5", "--width", "160", "--height", "120"]) == 0
    )
    for kind in ("rgb", "depth", "seg"):
        names = sorted(p.name for p in (out / "frames").glob(f"{kind}_*.png"))
        assert names == [f"{kind}_00000.png", f"{kind}_00005.png", f"{kind}_00010.png"]
        with Image.open(out / "frames" / names[0]) as image:
            assert image.size == (160, 120) and image.mode == "RGB"
    with Image.open(out / "frames" / "rgb_00000.png") as image:
        assert np.asarray(image).std() > 1, "the RGB frame is blank"
    with Image.open(out / "topdown.png") as image:
        assert image.width > 200 and image.height > 200
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 12 and summary["seed"] == 2 and len(summary["rooms"]) >= 3
    assert summary["sim_time_s"] > 0


def test_sim_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad arguments end with a clear message and exit status 2, not a traceback."""
    assert main(["sim", "--steps", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--steps" in capsys.readouterr().err
    assert main(["sim", "--rooms", "12", "--steps", "2", "--out", str(tmp_path / "y")]) == 2
    assert "argument --rooms: must be an integer from 3 to 8, got '12'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_perf_sim_prints_the_named_json_keys() -> None:
    """`perf sim --json` prints one JSON object with the figures the issue names (run as a console script)."""
    result = subprocess.run(
        [sys.executable, "-m", "mindpalace.cli.main", "perf", "sim", "--json", "--steps", "8", "--warmup", "2", "--rooms", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("steps_per_s_320x240", "steps_per_s_640x480", "apartment_build_s", "render_ms_320x240"):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key


def test_sim_reads_a_yaml_config_with_overrides(tmp_path: Path) -> None:
    """`--config` loads the env config from YAML; `--set` and the size flags override it; bad keys are refused."""
    config = tmp_path / "household.yaml"
    config.write_text("width: 200\nheight: 100\nn_rooms: 3\nstart_time_of_day: '07:00'\n")
    out = tmp_path / "run"
    assert (
        main(
            [
                "sim",
                "--config",
                str(config),
                "--set",
                "start_time_of_day=12:30",
                "--width",
                "96",
                "--height",
                "72",
                "--steps",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with Image.open(out / "frames" / "rgb_00000.png") as image:
        assert image.size == (96, 72)
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["rooms"]) == 3 and summary["time_of_day"].startswith("12:30")
    assert main(["sim", "--set", "bogus=1", "--steps", "2", "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()  # the config is checked before anything is written
