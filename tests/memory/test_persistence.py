"""The live map in the bank: its encoding, checkpoints on the frame clock, restore, and restarts in new processes."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import map_testkit as kit
import networkx as nx
import numpy as np
import pytest

from mindpalace.memory.bank import BankError
from mindpalace.memory.spatial.objects import ObjectMapConfig
from mindpalace.memory.spatial.persistence import decode, encode
from mindpalace.memory.spatial.rooms import RoomRegion
from mindpalace.memory.system import MemorySystem

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _open(path: Path, **options: Any) -> MemorySystem:
    return MemorySystem.open(path, text_index=False, **options)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _replay(path: Path, last: int) -> dict[str, Any]:
    """The map after frames 0..last in one process that never stopped (no checkpoints)."""
    with _open(path, checkpoint_every_s=None) as memory:
        for index in range(last + 1):
            kit.step(memory, index)
        return _json(kit.summary(memory))


# ---------------------------------------------------------------------- encoding
def test_every_supported_value_round_trips_exactly() -> None:
    graph = nx.DiGraph()
    graph.add_node("room:1", label="kitchen", polygon=[[0.0, 0.0], [1.0, 0.0]])
    graph.add_edge("room:1", "object:2", relation="contains", distance=0.25)
    value = {
        "floats": [0.1, -0.0, float("inf"), 1e-300],
        "ints": (1, -(2**62), 2**70),
        "text": "näive ∑",
        "none_and_bools": [None, True, False],
        "arrays": [np.arange(6, dtype=np.int64).reshape(2, 3), np.zeros((0, 3)), np.array([True, False]), np.float32([0.5])],
        "scalars": [np.float32(0.1), np.int16(-3), np.bool_(True)],
        "int_keys": {3: "c", 1: "a"},
        "tuple_keys": {(1, 2): {"nested": {4, 2, 3}}},
        "dollar": {"$": "not a tag"},
        "frozen": frozenset({"b", "a"}),
        "bytes": b"\x00\xff",
        "room": RoomRegion(1, "kitchen", ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)), privileged=True),
        "config": ObjectMapConfig(max_points=7),
        "graph": graph,
    }
    blob = encode(value)
    restored = decode(blob)
    assert encode(restored) == blob  # the same value gives the same bytes: digests find real changes only
    assert list(restored["int_keys"]) == [3, 1] and restored["tuple_keys"] == {(1, 2): {"nested": {2, 3, 4}}}
    assert restored["arrays"][0].dtype == np.int64 and np.array_equal(restored["arrays"][0], value["arrays"][0])
    assert restored["arrays"][1].shape == (0, 3) and restored["arrays"][0].flags.writeable
    assert type(restored["scalars"][0]) is np.float32 and restored["scalars"][0] == np.float32(0.1)
    assert restored["ints"] == (1, -(2**62), 2**70) and restored["floats"][2] == float("inf")
    assert restored["room"] == value["room"] and restored["config"] == value["config"]
    assert restored["dollar"] == {"$": "not a tag"} and restored["frozen"] == frozenset({"a", "b"})
    assert nx.utils.graphs_equal(restored["graph"], graph) and restored["graph"].is_directed()


def test_what_cannot_be_saved_is_named() -> None:
    with pytest.raises(TypeError, match=r"cannot save ObjectMap\.extra\['k'\]\[1\]: a builtins\.object"):
        encode({"k": [1, object()]}, "ObjectMap.extra")
    with pytest.raises(TypeError, match="dtype object"):
        encode(np.array([None, 1]), "x")


def test_a_blob_cannot_make_a_class_outside_mindpalace() -> None:
    """Restoring runs no code from the file: a header naming another module's class is refused."""
    header = json.dumps({"$": "dc", "cls": "subprocess:Popen", "v": {"args": ["true"]}}).encode()
    with pytest.raises(ValueError, match="not a mindpalace class"):
        decode(b"MPM1" + len(header).to_bytes(4, "little") + header)
    with pytest.raises(ValueError, match="not a map blob"):
        decode(b"garbage")


# ---------------------------------------------------------------------- checkpoints and restore
def test_a_reopened_bank_has_the_same_map_and_continues_as_if_never_stopped(tmp_path: Path) -> None:
    """Frames 0-29, close, reopen, frames 30-59: the same objects, ids, aliases, states, rooms, costmap, path and
    scene graph as one process that saw all 60; a read-only open shows the same map."""
    path = tmp_path / "bank.db"
    with _open(path) as memory:
        for index in range(30):
            kit.step(memory, index)
        at_close = _json(kit.summary(memory))
    with _open(path) as memory:
        assert _json(kit.summary(memory)) == at_close
        for index in range(30, 60):
            kit.step(memory, index)
    expected = _replay(tmp_path / "reference.db", 59)
    assert expected["aliases"] and expected["path"] and len(expected["objects"]) == 6  # the scene exercises all of it
    with _open(path, read_only=True) as memory:
        assert _json(kit.summary(memory)) == expected
        assert memory.map_time_s == kit.frame_time(59)


def test_a_checkpoint_writes_only_what_changed(tmp_path: Path) -> None:
    with _open(tmp_path / "bank.db", checkpoint_every_s=None) as memory:
        for index in range(40):
            kit.step(memory, index)
        first = memory.checkpoint()
        assert first is not None and first.objects_written == len(memory.spatial.objects.objects)
        assert "octree" in first.parts_written
        again = memory.checkpoint()
        assert again is not None and (again.objects_written, again.objects_deleted) == (0, 0)
        assert set(again.parts_written) == {"checkpoint"}  # the octree is not serialised again when no frame changed it
        some_id = next(iter(memory.spatial.objects.objects))
        memory.spatial.objects.move(some_id, np.array([2.0, 2.0, 0.5]), 4.0)
        moved = memory.checkpoint()
        assert moved is not None and moved.objects_written == 1 and "octree" not in moved.parts_written
        other = next(i for i in memory.spatial.objects.objects if i != some_id)
        # Objects seen apart from the folded one are now apart from the one it became: their records change too.
        apart = [o for i, o in memory.spatial.objects.objects.items() if i != some_id and other in o.apart]
        memory.spatial.objects.absorb(some_id, other)
        folded = memory.checkpoint()
        assert folded is not None and (folded.objects_written, folded.objects_deleted) == (1 + len(apart), 1)
        assert {r[0] for r in memory.bank.query("SELECT id FROM map_objects")} == set(memory.spatial.objects.objects)


def test_attributes_added_to_the_map_later_are_saved(tmp_path: Path) -> None:
    """The object map's and map objects' attributes are saved generically: one added by another part of the code
    (a dict keyed by object id, any other attribute, an extra attribute of one object) comes back."""
    path = tmp_path / "bank.db"
    with _open(path) as memory:
        for index in range(20):
            kit.step(memory, index)
        objects = memory.spatial.objects
        ids = list(objects.objects)
        objects.missing_since = {i: float(i) for i in ids}  # keyed by object id: saved with each object's row
        objects.notes = {"version": np.arange(3), "labels": {"mug", "cup"}}
        objects.objects[ids[0]].tracks = [(1.0, np.eye(2))]
    with _open(path) as memory:
        objects = memory.spatial.objects
        assert objects.missing_since == {i: float(i) for i in ids} and list(objects.missing_since) == ids
        assert np.array_equal(objects.notes["version"], np.arange(3)) and objects.notes["labels"] == {"mug", "cup"}
        assert np.array_equal(objects.objects[ids[0]].tracks[0][1], np.eye(2))
        objects.objects[ids[1]].bad = object()
        with pytest.raises(TypeError, match=rf"ObjectMap\.objects\[{ids[1]}\]\['object'\]\.bad"):
            memory.checkpoint()
        del objects.objects[ids[1]].bad


def test_checkpoints_follow_the_frame_clock(tmp_path: Path) -> None:
    with _open(tmp_path / "a.db", checkpoint_every_s=1.0) as memory:
        times = []
        for index in range(36):
            kit.step(memory, index)
            if memory.last_checkpoint is not None and memory.last_checkpoint.time_s not in times:
                times.append(memory.last_checkpoint.time_s)
        assert times == [1.0, 2.0, 3.0]  # counted from the first frame, at t = 0
        # The frame clock starting again (a new episode at t = 0): the interval counts anew from there.
        for index in range(12):
            kit.step(memory, index)
        assert memory.checkpoint_count == 4 and memory.last_checkpoint.time_s == 1.0
    with _open(tmp_path / "b.db", checkpoint_every_s=None) as memory:
        for index in range(20):
            kit.step(memory, index)
        assert memory.checkpoint_count == 0 and not memory.bank.query("SELECT 1 FROM map_state")
    with _open(tmp_path / "b.db", read_only=True) as memory:
        assert memory.map_time_s == kit.frame_time(19)  # close() checkpointed


def test_a_damaged_map_row_is_reported_not_restored(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    with _open(path) as memory:
        for index in range(10):
            kit.step(memory, index)
    connection = sqlite3.connect(path)
    data = bytearray(connection.execute("SELECT data FROM map_objects LIMIT 1").fetchone()[0])
    data[-1] ^= 0xFF
    connection.execute("UPDATE map_objects SET data = ? WHERE id = (SELECT MIN(id) FROM map_objects)", (bytes(data),))
    connection.commit()
    connection.close()
    with pytest.raises(BankError, match=r"damaged live map.*digest.*memory repair"):
        _open(path)


def test_a_version_1_bank_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    with _open(path) as memory:
        memory.remember_object(1, "mug", (1.0, 2.0, 0.5), 3.0, change="new")
    connection = sqlite3.connect(path)
    connection.executescript(
        "DROP TABLE map_objects; DROP TABLE map_state; UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    )
    connection.close()
    with _open(path, read_only=True) as memory:  # a reader migrates nothing: version 1, no map
        assert memory.bank.schema_version == 1 and memory.map_time_s is None and memory.objects.count() == 1
    with _open(path) as memory:
        assert memory.bank.schema_version == 2 and memory.bank.has_table("map_state") and memory.objects.count() == 1


# ---------------------------------------------------------------------- restarts in new processes
WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    import map_testkit as kit
    from mindpalace.memory.system import MemorySystem

    path, first, last, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    memory = MemorySystem.open(path, text_index=False, checkpoint_every_s=every)
    print("ready", flush=True)
    index = first
    while last < 0 or index <= last:
        kit.step(memory, index)
        print("frame", index, flush=True)
        if memory.last_checkpoint is not None and memory.last_checkpoint.time_s == kit.frame_time(index):
            print("checkpoint", index, flush=True)
        index += 1
    memory.close()
""")
READER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {here!r})
    import map_testkit as kit
    from mindpalace.memory.system import MemorySystem

    with MemorySystem.open(sys.argv[1], read_only=True, text_index=False) as memory:
        print(json.dumps({{"time_s": memory.map_time_s, "integrity": memory.bank.integrity_check(), "map": kit.summary(memory)}}))
""")


def _python(code: str, *args: object, **options: Any) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code.format(here=str(HERE)), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **options,
    )


def _read_back(path: Path) -> dict[str, Any]:
    process = _python(READER, path)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_restart_in_new_processes_after_a_clean_exit(tmp_path: Path) -> None:
    """Process 1 sees frames 0-24 and exits; process 2 continues with 25-54; process 3 reads the map:
    the same ids, positions, costmap, path and scene graph as one process that saw all of it."""
    path = tmp_path / "bank.db"
    for first, last in ((0, 24), (25, 54)):
        process = _python(WRITER, path, first, last, 1.0)
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    restored = _read_back(path)
    assert restored["integrity"] == [] and restored["time_s"] == kit.frame_time(54)
    assert restored["map"] == _replay(tmp_path / "reference.db", 54)


def test_memory_stats_in_a_new_process_prints_the_restored_map(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    with _open(path) as memory:
        for index in range(15):
            kit.step(memory, index)
        expected = (len(memory.spatial.objects.objects), memory.spatial.occupancy.num_leaves)
    command = [sys.executable, "-m", "mindpalace.cli.main", "memory", "stats", str(path), "--json"]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    stats = json.loads(result.stdout)
    assert (stats["map_objects"], stats["occupancy_voxels"]) == expected and expected[0] > 0
    assert stats["map_checkpoint_s"] == kit.frame_time(14)


@pytest.mark.slow
def test_a_sigkill_loses_at_most_the_last_checkpoint_interval(tmp_path: Path) -> None:
    """A writer checkpointing every 1 s of frames is killed at a random moment: the bank passes its integrity
    check, and the map restored in a new process is the one of the last checkpoint (compared with a replay of
    the same frames), no older than one interval before the last frame the writer finished."""
    path = tmp_path / "bank.db"
    process = _python(WRITER, path, 0, -1, 1.0)
    assert process.stdout.readline() == "ready\n", process.communicate()[1]
    frames, checkpoints = [], []
    while len(checkpoints) < 3:
        kind, index = process.stdout.readline().split()
        (frames if kind == "frame" else checkpoints).append(int(index))
    time.sleep(random.Random(3).uniform(0.0, 1.5))
    process.send_signal(signal.SIGKILL)
    out = process.stdout.read()  # not communicate(): it would skip what readline() buffered ahead
    process.wait(timeout=30)
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    for line in out.splitlines(keepends=True):
        if line.endswith("\n"):
            kind, index = line.split()
            (frames if kind == "frame" else checkpoints).append(int(index))
    restored = _read_back(path)
    assert restored["integrity"] == []
    index = round(restored["time_s"] / kit.DT)
    assert index >= checkpoints[-1]  # nothing acknowledged is lost
    assert kit.frame_time(frames[-1]) - restored["time_s"] <= 1.0 + kit.DT  # at most the interval (and the frame in flight)
    assert restored["map"] == _replay(tmp_path / "reference.db", index)
    with _open(path) as memory:  # the next writer knows the last one was killed, and checked the whole file
        assert memory.bank.last_shutdown_clean is False
        assert _json(kit.summary(memory)) == restored["map"]
