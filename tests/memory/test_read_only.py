"""Reading a bank writes nothing: on a read-only file, in a read-only folder, and left by a killed writer.

Tests may run as root, where chmod does not stop writes. There the file and folder are made immutable with
`chattr +i` (which stops root too) where the file system and the container allow it. Where they do not, the
test still checks that nothing at all was written beside the bank (names, sizes, bytes and times of every
file in the folder), and that the connections are read-only to SQLite itself: a write through them fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import map_testkit as kit
import pytest

from mindpalace.cli.main import main
from mindpalace.core.types import Event
from mindpalace.memory.bank import BankError
from mindpalace.memory.system import MemorySystem

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file in the folder: size, modification time, content digest."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
    }


@contextmanager
def _read_only(folder: Path) -> Iterator[bool]:
    """Make the folder and its files read-only; yields whether writes are really refused now."""
    files = [folder, *folder.iterdir()]
    if os.geteuid() != 0:
        for path in files:
            path.chmod(0o555 if path.is_dir() else 0o444)
        undo = [lambda p=p: p.chmod(0o755 if p.is_dir() else 0o644) for p in files]
    else:
        done = subprocess.run(["chattr", "+i", *map(str, files)], capture_output=True, check=False).returncode == 0
        undo = [lambda: subprocess.run(["chattr", "-i", *map(str, files)], check=True)] if done else []
    try:
        try:
            (folder / "probe").touch()
            (folder / "probe").unlink()
            enforced = False
        except OSError:
            enforced = True
        yield enforced
    finally:
        for step in undo:
            step()


@pytest.fixture(scope="module")
def closed_bank(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    path = tmp_path_factory.mktemp("closed") / "bank.db"
    with MemorySystem.open(path, embedder=embedder) as memory:
        for index in range(12):
            kit.step(memory, index)
        memory.record_event(Event("robot", "pick", 1.0, 2.0, {"target": 4}, (4,), "kitchen"), x=1.0, y=1.0)
        memory.tell("the mug is Alice's", time_s=3.0)
    return path


def test_a_read_only_bank_in_a_read_only_folder_is_read_without_writing(
    closed_bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    for source in closed_bank.parent.iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    path = folder / "bank.db"
    before = _snapshot(folder)
    with _read_only(folder) as enforced:
        assert main(["memory", "stats", str(path), "--json"]) == 0
        stats = json.loads(capsys.readouterr().out)
        assert stats["read_only"] and stats["map_objects"] == 6 and stats["occupancy_voxels"] > 0 and stats["events"] == 1
        assert stats["vector_index"] == "ok" and stats["vectors_pending"] == 0
        assert main(["memory", "query", str(path), "", "--tool", "where_is", "--args", '{"object": "mug"}']) == 0
        assert "mug" in capsys.readouterr().out
        assert main(["memory", "export", str(path), "--out", str(tmp_path / "export.json")]) == 0
        with MemorySystem.open(path, read_only=True) as memory:
            assert memory.stats()["map_objects"] == 6
            with pytest.raises(BankError, match=r"cannot write|read-only"):
                memory.bank.reader().execute("INSERT INTO meta VALUES ('x', 'y')")  # SQLite itself refuses
        if enforced:
            with pytest.raises(BankError, match=r"not writable.*read_only=True"):
                MemorySystem.open(path)
        assert _snapshot(folder) == before
    assert json.loads((tmp_path / "export.json").read_text())["facts"]


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from mindpalace.core.types import Event
    from mindpalace.memory.system import MemorySystem

    memory = MemorySystem.open(sys.argv[1])
    for t in range(40):
        memory.record_event(Event("robot", "look", float(t), t + 1.0, {"t": t}))
    memory.tell("the keys are Bob's", time_s=50.0)
    os.kill(os.getpid(), signal.SIGKILL)  # before anything was embedded
""")


def test_a_bank_left_by_a_killed_writer_is_read_as_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What the writer committed is read from its log; what it had not embedded is reported, not embedded (no
    model is loaded), and nothing is rebuilt or written: the bank, its log and the folder stay as they were."""
    path = tmp_path / "bank.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], env=env, capture_output=True, timeout=120)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert Path(f"{path}-wal").stat().st_size > 0
    before = {name: entry for name, entry in _snapshot(tmp_path).items() if not name.endswith("-shm")}
    assert main(["memory", "stats", str(path), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["events"], stats["facts"], stats["vectors"], stats["vectors_pending"]) == (40, 1, 0, 41)
    assert stats["clean_shutdown"] is False
    assert stats["vector_index"].startswith("stale: no saved vector index")  # not rebuilt on open, only reported
    with MemorySystem.open(path, read_only=True) as memory:
        memory.stats()
        assert memory._embedder is None  # no model was loaded to embed what is pending
    # The -shm index is SQLite's shared memory for reading the log; the bank, its log and the rest are untouched.
    assert {name: entry for name, entry in _snapshot(tmp_path).items() if not name.endswith("-shm")} == before
    with MemorySystem.open(path, checkpoint_every_s=None) as memory:  # the next writer embeds what was pending
        assert memory.stats()["vectors_pending"] == 41
        memory.flush()
        assert memory.stats()["vectors"] == 41
