"""Reliability of the bank with the episodic store: acknowledged writes survive SIGKILL, bad files are refused clearly.

How fast acknowledged writes are (the target: >= 1,000 events/s) is a benchmark: `mindpalace perf memory`."""

from __future__ import annotations

import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mindpalace.core.types import Event
from mindpalace.memory.bank import Bank, BankError
from mindpalace.memory.episodic import EpisodicStore, measure_write_throughput

# Writes in a loop and prints what was acknowledged right after the call returns:
# "e ID I" one event, "b ID ID ID ID ID I" a batch of five, "s ID I" a frontier snapshot.
WRITER = textwrap.dedent("""
    import sys

    import numpy as np

    from mindpalace.core.types import Event
    from mindpalace.memory.bank import Bank
    from mindpalace.memory.episodic import EpisodicStore, SnapshotSelector

    path, round_ = sys.argv[1], int(sys.argv[2])
    store = EpisodicStore(Bank(path))
    selector = SnapshotSelector(store)
    rgb = np.full((24, 32, 3), round_ * 10 % 256, np.uint8)
    print("ready", flush=True)
    i = 0
    while True:
        event = Event("robot", "step", float(i), i + 0.5, {"round": round_, "i": i}, (i % 7,), f"room_{round_}")
        event_id = store.add_event(event, x=float(i), y=float(round_))
        print(f"e {event_id} {i}", flush=True)
        if i % 10 == 9:
            ids = store.add_events([Event("robot", "batch", float(i), i + 0.1, {"round": round_, "i": i, "k": k})
                                    for k in range(5)])
            print("b", *ids, i, flush=True)
        if i % 25 == 24:
            snapshot_id = selector.add_frontier_snapshot(float(i), np.eye(4), rgb, frontier_xy=(float(i), 10.0 * round_))
            print(f"s {snapshot_id} {i}", flush=True)
        i += 1
""")


def kill_writer_round(script: Path, path: Path, round_: int, delay_s: float) -> list[str]:
    """Start the writer, let it write for `delay_s` after its first acknowledged write, SIGKILL it; the complete
    lines it printed. (Counting from the first write, not from start-up: on a loaded machine a writer can wait
    longer than `delay_s` for the CPU, and a round without a write tests nothing.)"""
    # The script lies outside the repository: PYTHONPATH makes it import this checkout's mindpalace.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, str(script), str(path), str(round_)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    ready = process.stdout.readline()
    if ready != "ready\n":
        process.kill()
        raise AssertionError(f"the writer did not start: {process.communicate()[1]}")
    first = process.stdout.readline()
    time.sleep(delay_s)
    process.send_signal(signal.SIGKILL)
    # Read the rest through the same buffered reader: communicate() reads the pipe directly and would lose what
    # readline() buffered ahead, and tear a line in two (its tail then parses as another line).
    out = first + process.stdout.read()
    process.wait(timeout=30)
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return [line for line in out.splitlines(keepends=True) if line.endswith("\n")]


def check_bank(path: Path, events: dict[int, dict], snapshots: dict[int, int]) -> int:
    """The bank opens clean and holds these acknowledged events (id -> arguments) and frontier snapshots (id -> round)."""
    with Bank(path) as bank:
        assert bank.integrity_check() == []
        store = EpisodicStore(bank)
        for event_id, arguments in events.items():
            record = store.get(event_id)
            assert record is not None, f"acknowledged event {event_id} lost"
            assert record.arguments == arguments
            if "k" not in arguments:
                assert (record.action, record.x, record.y, record.objects) == (
                    "step",
                    float(arguments["i"]),
                    float(arguments["round"]),
                    (arguments["i"] % 7,),
                )
        for snapshot_id, round_ in snapshots.items():
            assert store.snapshot(snapshot_id).frontier, f"acknowledged snapshot {snapshot_id} lost"
            image = store.snapshot_image(snapshot_id)
            assert image.shape == (24, 32, 3) and abs(float(image.mean()) - round_ * 10 % 256) <= 2
        return store.count()


def test_acknowledged_writes_survive_sigkill(tmp_path):
    """24 rounds: a writer is killed at a random moment, then the bank opens clean, with every acknowledged write;
    the next round writes on into the same bank."""
    path, script = tmp_path / "bank.db", tmp_path / "writer.py"
    script.write_text(WRITER)
    with Bank(path) as bank:  # created here: a kill while the file itself is being created is another matter
        EpisodicStore(bank)
    rng = random.Random(7)
    events: dict[int, dict] = {}  # every acknowledged event id -> its arguments
    snapshots: dict[int, int] = {}  # every acknowledged snapshot id -> its round
    for round_ in range(24):
        new_events: dict[int, dict] = {}
        new_snapshots: dict[int, int] = {}
        for line in kill_writer_round(script, path, round_, rng.uniform(0.05, 0.5)):
            kind, *ids, i = line.split()
            if kind == "e":
                new_events[int(ids[0])] = {"round": round_, "i": int(i)}
            elif kind == "b":
                new_events.update({int(event_id): {"round": round_, "i": int(i), "k": k} for k, event_id in enumerate(ids)})
            else:
                new_snapshots[int(ids[0])] = round_
        assert new_events, "killed before it wrote anything"
        events.update(new_events)
        snapshots.update(new_snapshots)
        # This round's writes in full; earlier rounds' by count here, in full at the end.
        assert check_bank(path, new_events, new_snapshots) >= len(events)
    check_bank(path, events, snapshots)
    print(f"\n24 kills: {len(events)} acknowledged events and {len(snapshots)} snapshots, all present")


def test_write_throughput_measures_in_a_new_bank_only(tmp_path):
    """The write benchmark (`perf memory`) times n single and n batched writes into a bank of its own, all kept."""
    path = tmp_path / "perf.db"
    figures = measure_write_throughput(path, n=300, batch=100)
    assert set(figures) == {"single_events_per_s", "batched_events_per_s", "bytes_per_event"}
    assert all(math.isfinite(value) and value > 0 for value in figures.values())
    with Bank(path, readonly=True) as bank:
        assert EpisodicStore(bank).count() == 600
        assert figures["bytes_per_event"] == pytest.approx(bank.size_bytes() / 600)
    with pytest.raises(FileExistsError, match="new bank"):
        measure_write_throughput(path, n=10)


# ------------------------------------------------------------------ bad files
def _bank_with_events(path: Path, n: int = 3000) -> None:
    with Bank(path) as bank:
        EpisodicStore(bank).add_events([Event("robot", "look", float(t), t + 1.0, {"t": t}) for t in range(n)])
        bank.checkpoint()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _text(path: Path) -> None:
    path.write_text("these are my notes, not a memory bank\n" * 20)


def _foreign(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE readings (t REAL, value REAL)")
    connection.execute("INSERT INTO readings VALUES (1.0, 2.0)")
    connection.commit()
    connection.close()


def _truncated(path: Path) -> None:
    _bank_with_events(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _truncated_header(path: Path) -> None:
    _bank_with_events(path, 10)
    with path.open("r+b") as handle:
        handle.truncate(60)


def _newer(path: Path) -> None:
    _bank_with_events(path, 10)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    connection.commit()
    connection.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_empty, "empty file"),
        (_text, "not an SQLite file"),
        (_foreign, "foreign"),
        (_truncated, "damaged database"),
        (_truncated_header, r"truncated \(60 bytes\)"),
        (_newer, "schema version 99 is newer"),
    ],
)
def test_bad_files_are_refused_clearly(tmp_path, damage, message):
    path = tmp_path / "bank.db"
    damage(path)
    with pytest.raises(BankError, match=message) as error:
        EpisodicStore(Bank(path))
    assert str(path) in str(error.value)


def test_a_missing_bank_is_not_created_when_asked_not_to(tmp_path):
    with pytest.raises(BankError, match="no such memory bank"):
        Bank(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()
