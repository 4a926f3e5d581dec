"""End to end over DDS: the sim bridge, the memory node and the agent node (separate processes, loopback only)
carry out the demo's memory instructions after a remembered day. Minutes on this machine: slow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_stack_answers_from_a_day_it_remembers_over_dds(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mindpalace.cli.main", "ros", "e2e", "--out", str(tmp_path / "e2e"), "--json"],
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["instructions"] == 2 and summary["objects_moved"] == 2
    where, go = summary["results"]
    assert where["instruction"].startswith("Where did you put") and go["instruction"].startswith("Go to the ")
    # What the robot did during the day reached memory over DDS and the planner answered from it.
    assert where["success"], where
    assert "the robot ends" in go["check"]
    assert summary["succeeded"] == sum(r["success"] for r in summary["results"])
