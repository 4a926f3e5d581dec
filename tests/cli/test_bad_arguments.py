"""Every command checks its arguments first: a bad one exits 2 with one line on stderr and leaves no output behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mindpalace.cli import sim
from mindpalace.cli.args import output_folder
from mindpalace.cli.main import main

# One bad argument per command, run as a user would (a fresh process); "{out}" is a folder that must not appear.
COMMANDS = {
    "sim": (["sim", "--seed", "-1", "--steps", "2", "--out", "{out}"], "argument --seed: must be an integer >= 0, got '-1'"),
    "eval": (["eval", "perception", "--seed", "-3"], "argument --seed: must be an integer >= 0, got '-3'"),
    "perceive": (["perceive", "--rgbd", "{out}", "--out", "{out}", "--voxel", "0"], "argument --voxel: must be a number > 0"),
    "memory": (["memory", "query", "{bank}", "mug", "--tool", "teleport"], "unknown tool 'teleport'"),
    "perf": (["perf", "planner", "--seed", "-1"], "argument --seed: must be an integer >= 0, got '-1'"),
}


def test_each_command_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    from mindpalace.memory.system import MemorySystem

    bank = tmp_path / "bank.db"
    with MemorySystem.open(bank, spatial=False, text_index=False) as memory:
        memory.remember_object(1, "mug", (1.0, 1.0, 0.8), 10.0, room="kitchen", change="new")
    running = {}
    for name, (arguments, _) in COMMANDS.items():  # all at once: each process spends its time importing
        argv = [a.format(out=tmp_path / f"out_{name}", bank=bank) for a in arguments]
        running[name] = subprocess.Popen(
            [sys.executable, "-m", "mindpalace.cli.main", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 2, (name, stderr)
        assert stdout == "" and len(stderr.splitlines()) == 1, (name, stderr)
        assert stderr.startswith("mindpalace ") and COMMANDS[name][1] in stderr, (name, stderr)
        assert not (tmp_path / f"out_{name}").exists(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.db"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["sim", "--steps", "0"], "argument --steps: must be an integer >= 1, got '0'"),
        (["sim", "--every", "x"], "argument --every: must be an integer >= 1, got 'x'"),
        (["sim", "--width", "8"], "argument --width: must be an integer from 16 to 1920, got '8'"),
        (["sim", "--config", "{tmp}/missing.yaml"], "missing.yaml"),
        (["eval", "perception", "--rooms", "9"], "argument --rooms: must be an integer from 3 to 8, got '9'"),
        (["eval", "perception", "--moves", "-1"], "argument --moves: must be an integer >= 0"),
        (["perceive", "--rgbd", "{tmp}", "--voxel", "-0.01"], "argument --voxel: must be a number > 0, got '-0.01'"),
        (["perceive", "--rgbd", "{tmp}", "--voxel", "nan"], "argument --voxel: must be a number > 0, got 'nan'"),
        (["perceive", "--rgbd", "{tmp}", "--depth-scale", "0"], "argument --depth-scale: must be a number > 0"),
        (["perceive", "--rgbd", "{tmp}", "--max-frames", "0"], "argument --max-frames: must be an integer >= 1"),
        (["perceive", "--rgbd", "{tmp}/missing"], "missing"),
        (["perf", "sim", "--steps", "3"], "argument --steps: must be an integer >= 4, got '3'"),
        (["perf", "perception", "--frames", "0"], "argument --frames: must be an integer >= 1"),
        (["perf", "memory", "--sizes", "10"], "argument --sizes: must list item counts of at least 100, got '10'"),
        (["perf", "memory", "--sizes", "1e999"], "argument --sizes: must list item counts of at least 100"),
        (["perf", "memory", "--hours", "-1"], "argument --hours: must be a number >= 0, got '-1'"),
        (["perf", "planner", "--extra-events", "-5"], "argument --extra-events: must be an integer >= 0"),
        (["perf", "planner", "--set", "llm.bogus=1"], "llm: "),
        (["sim", "--seed", "1", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments, message) -> None:
    out = tmp_path / "out"
    argv = [a.format(tmp=tmp_path) for a in arguments]
    if argv[0] in ("sim", "perceive"):
        argv += ["--out", str(out)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1, captured.err
    assert message in captured.err
    assert not out.exists()


def test_sim_that_fails_midway_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames were written when the map could not be: the folder sim created goes again."""

    def disk_full(*args, **kwargs) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sim, "save_topdown", disk_full)
    out = tmp_path / "runs" / "sim"
    assert main(["sim", "--steps", "2", "--width", "64", "--height", "48", "--out", str(out)]) == 2
    assert not (tmp_path / "runs").exists()


def test_output_folder_removes_only_what_it_created(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    for folder in (existing, tmp_path / "a" / "b" / "c"):
        with pytest.raises(RuntimeError), output_folder(folder) as out:
            (out / "half.png").write_bytes(b"x")
            raise RuntimeError("failed midway")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]
    assert (existing / "keep.txt").read_text() == "mine"
    with output_folder(tmp_path / "ok") as out:
        (out / "done.txt").write_text("done")
    assert (tmp_path / "ok" / "done.txt").exists()
