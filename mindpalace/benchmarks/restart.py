"""`mindpalace perf restart`: the live map across a restart and a SIGKILL, and what its checkpoints cost.

A day is the demo's day (the household env, the oracle touring the apartment and moving objects, real
perception and memory), lived by one process that checkpoints the live map every `every_s` seconds of the
frame clock; `tours` more tours make it longer. Then:

- restart: the process exits; a new one opens the bank and answers `where_is` for every object of the map
  (ids, and positions compared within 1 cm) and plans the same A* paths (`plan_path` on the occupancy costmap)
  between seeded pairs of free cells as the first process did before it exited;
- kill: the same day in another process, SIGKILLed at a random moment after a few checkpoints; a new process
  finds the bank intact (full integrity check) and the map exactly as the last checkpoint the killed process
  reported (object ids and positions, the costmap);
- cost: checkpoint seconds per minute of the day (frame clock), per checkpoint, and the bank's growth per hour
  (each checkpoint's time, bytes written and bank size go to `restart_checkpoints.json` in the output folder).

Each role runs in its own process (`python -m mindpalace.benchmarks.restart live|read ...`), printing JSON lines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.memory.retrieval import ObjectQuery
from mindpalace.memory.spatial.persistence import CheckpointReport
from mindpalace.memory.system import MemorySystem


class _ReportingMemory(MemorySystem):
    """A memory that prints a line after each checkpoint: its cost, the bank's size and (to check a kill) the map."""

    report_map = False

    def checkpoint(self, time_s: float | None = None) -> CheckpointReport | None:
        report = super().checkpoint(time_s)
        if report is not None:
            line: dict[str, Any] = {
                "checkpoint": report.time_s,
                "seconds": report.seconds,
                "bytes": report.bytes_written,
                "bank_bytes": self.bank.size_bytes(),
            }
            if self.report_map:
                line["map"] = map_summary(self)
            print(json.dumps(line), flush=True)
        return report


def map_summary(memory: MemorySystem) -> dict[str, Any]:
    """Object ids with their labels and centres, and a digest of the costmap."""
    assert memory.spatial is not None
    grid, known = memory.spatial.occupancy.costmap(inflate=False)
    costmap = hashlib.sha256(grid.blocked.tobytes() + known.tobytes() + repr((grid.origin, known.shape)).encode()).hexdigest()
    objects = {str(i): [o.label, o.center.tolist()] for i, o in memory.spatial.objects.objects.items()}
    return {"time_s": memory.map_time_s, "objects": objects, "costmap": costmap}


def answers(memory: MemorySystem, pairs: list[list[float]]) -> dict[str, Any]:
    """What a restart must answer the same: `where_is` for every map object (by its id, and by its label's
    phrase), and A* paths between the pairs of points."""
    from mindpalace.agent.path_planning import plan_path
    from mindpalace.memory.tools import call_tool

    assert memory.spatial is not None
    where = {}
    for object_id in memory.spatial.objects.objects:
        items = memory.retrieve([ObjectQuery(object_id=object_id)])
        where[str(object_id)] = items[0].data["position"] if items else None
    labels = sorted({o.label for o in memory.spatial.objects.objects.values()})
    texts = {label: call_tool(memory, "where_is", {"object": label.replace("_", " ")}).text() for label in labels}
    grid, _ = memory.spatial.occupancy.costmap(inflate=False)
    radius = memory.spatial.occupancy.config.robot_radius
    paths = []
    for sx, sy, gx, gy in pairs:
        path = plan_path(grid, (sx, sy), (gx, gy), robot_radius=radius)
        paths.append(None if path is None else [list(p) for p in path])
    return {"map": map_summary(memory), "where_is": where, "where_is_text": texts, "paths": paths}


def free_pairs(memory: MemorySystem, count: int, seed: int) -> list[list[float]]:
    """`count` seeded (start, goal) pairs of cells where the robot fits on the costmap."""
    assert memory.spatial is not None
    inflated, known = memory.spatial.occupancy.costmap()
    rows, cols = np.nonzero((known == 0) & ~inflated.blocked)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(rows), size=(count, 2), replace=len(rows) < 2 * count)
    return [[*inflated.to_world(rows[a], cols[a]), *inflated.to_world(rows[b], cols[b])] for a, b in picks]


# ---------------------------------------------------------------------- the roles, each in its own process
def live(bank: Path, seed: int, every_s: float, tours: int, pairs: int, report_map: bool) -> None:
    """Live the day into `bank`, printing a line per checkpoint; at the end (unless killed first) the answers."""
    from mindpalace.agent.builder import build_env, build_perception
    from mindpalace.agent.config import AgentConfig
    from mindpalace.agent.oracle import Job, OracleAgent, Visit, tour
    from mindpalace.agent.runtime import AgentRuntime
    from mindpalace.benchmarks.demo import DemoConfig, live_day
    from mindpalace.envs.household.env import HouseholdEnv

    config = DemoConfig(agent=AgentConfig(seed=seed))
    env, obs = build_env(config.agent)
    assert isinstance(env, HouseholdEnv)  # the oracle's day needs the household's privileged state
    memory = _ReportingMemory.open(bank, checkpoint_every_s=every_s)
    assert isinstance(memory, _ReportingMemory)
    memory.report_map = report_map
    runtime = AgentRuntime(env, memory, build_perception(config.agent), obs)
    runtime.set_floor_plan(env.privileged.room_polygons())
    print(json.dumps({"started": True}), flush=True)
    started = time.perf_counter()
    live_day(env, runtime, np.random.default_rng(seed), config.moves)
    for _ in range(tours):  # a longer day: the robot tours the apartment again
        visits: list[Job | Visit] = [*tour(env)]
        agent = OracleAgent(env, visits)
        while (action := agent.act(runtime.obs)) is not None:
            runtime.step(action)
    day_wall_s = time.perf_counter() - started
    memory.flush()
    chosen = free_pairs(memory, pairs, seed)
    result = answers(memory, chosen)
    result.update(
        pairs=chosen,
        day_sim_s=runtime.obs.time_s,
        day_wall_s=day_wall_s,
        env_steps=runtime.stats.env_steps,
        checkpoints=memory.checkpoint_count,
        checkpoint_seconds=memory.checkpoint_seconds,
    )
    print(json.dumps({"closing": True}), flush=True)  # the checkpoint line that follows is close()'s
    started = time.perf_counter()
    memory.close()
    result["close_s"] = time.perf_counter() - started
    print(json.dumps({"day": result}), flush=True)
    env.close()


def read(bank: Path, pairs_file: Path) -> None:
    """Open the bank in this new process (read-only: it changes nothing) and print the same answers."""
    from mindpalace.memory.bank import Bank

    with Bank(bank, readonly=True) as opened:
        problems = opened.integrity_check()
    started = time.perf_counter()
    memory = MemorySystem.open(bank, read_only=True)
    open_s = time.perf_counter() - started
    result = answers(memory, json.loads(pairs_file.read_text()))
    result.update(open_s=open_s, integrity=problems, stats=memory.stats())
    memory.close()
    print(json.dumps({"read": result}), flush=True)


def _child(role: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mindpalace.benchmarks.restart", role, *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _lines(process: subprocess.Popen) -> list[dict[str, Any]]:
    """The complete JSON lines the child printed (read through the buffered reader, which a readline() may have
    filled ahead: communicate() would skip that part)."""
    assert process.stdout is not None
    out = process.stdout.read()
    process.wait()
    return [json.loads(line) for line in out.splitlines(keepends=True) if line.endswith("\n") and line.startswith("{")]


def _compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Figures of how `after` (a new process) answers compared with `before` (the day's process)."""
    ids_before, ids_after = set(before["where_is"]), set(after["where_is"])
    errors = [
        float(np.linalg.norm(np.subtract(before["where_is"][i], after["where_is"][i])))
        for i in ids_before & ids_after
        if before["where_is"][i] is not None and after["where_is"][i] is not None
    ]
    map_errors = [
        float(np.linalg.norm(np.subtract(before["map"]["objects"][i][1], after["map"]["objects"][i][1])))
        for i in before["map"]["objects"].keys() & after["map"]["objects"].keys()
    ]
    return {
        "objects": len(ids_before),
        "ids_equal": ids_before == ids_after and before["map"]["objects"].keys() == after["map"]["objects"].keys(),
        "where_is_answered": sum(after["where_is"][i] is not None for i in ids_after),
        "max_position_error_cm": round(100 * max(errors, default=0.0), 4),
        "max_map_position_error_cm": round(100 * max(map_errors, default=0.0), 4),
        "where_is_text_identical": before["where_is_text"] == after["where_is_text"],
        "costmap_identical": before["map"]["costmap"] == after["map"]["costmap"],
        "paths_identical": sum(a == b for a, b in zip(before["paths"], after["paths"])),
        "paths_planned": sum(p is not None for p in before["paths"]),
    }


def run_restart(out: Path, seed: int = 0, every_s: float = 30.0, tours: int = 0, pairs: int = 20) -> dict[str, Any]:
    """The day in one process, then the answers of a new process: figures of the restart and of the checkpoints."""
    out.mkdir(parents=True, exist_ok=True)
    bank = out / "restart.db"
    if bank.exists():
        raise ValueError(f"{bank} exists: the benchmark writes a new bank (remove it or choose another --out)")
    lines = _lines(_child("live", bank, seed, every_s, tours, pairs, 0))
    day = next((line["day"] for line in lines if "day" in line), None)
    if day is None:
        raise RuntimeError("the day's process failed (see its output above)")
    closing = next(i for i, line in enumerate(lines) if "closing" in line)
    checkpoints = [line for line in lines[:closing] if "checkpoint" in line]  # the periodic ones, not close()'s
    (out / "restart_checkpoints.json").write_text(json.dumps(checkpoints, indent=1))
    pairs_file = out / "restart_pairs.json"
    pairs_file.write_text(json.dumps(day["pairs"]))
    after = next(line["read"] for line in _lines(_child("read", bank, pairs_file)) if "read" in line)
    day_minutes = day["day_sim_s"] / 60
    figures = {f"restart_{k}": v for k, v in _compare(day, after).items()}
    figures.update(
        restart_open_s=round(after["open_s"], 3),
        restart_integrity_ok=after["integrity"] == [],
        restart_map_objects=after["stats"]["map_objects"],
        restart_occupancy_voxels=after["stats"]["occupancy_voxels"],
        day_sim_s=round(day["day_sim_s"], 1),
        day_wall_s=round(day["day_wall_s"], 1),
        day_env_steps=day["env_steps"],
        checkpoint_every_s=every_s,
        checkpoints=len(checkpoints) + 1,  # the one on close
        checkpoint_ms_mean=round(1000 * float(np.mean([c["seconds"] for c in checkpoints])), 1) if checkpoints else None,
        checkpoint_ms_max=round(1000 * max(c["seconds"] for c in checkpoints), 1) if checkpoints else None,
        checkpoint_kb_mean=round(float(np.mean([c["bytes"] for c in checkpoints])) / 1024, 1) if checkpoints else None,
        checkpoint_s_per_day_minute=round(sum(c["seconds"] for c in checkpoints) / day_minutes, 4) if checkpoints else None,
        checkpoint_share_of_day_wall=round(sum(c["seconds"] for c in checkpoints) / day["day_wall_s"], 4),
        close_s=round(day["close_s"], 3),
        bank_mb=round(after["stats"]["bytes"] / 2**20, 2),
        bank_growth_mb_per_hour=_growth(checkpoints),
        bank_growth_mb_per_hour_second_half=_growth(checkpoints[len(checkpoints) // 2 :]),
    )
    return figures


def _growth(checkpoints: list[dict[str, Any]]) -> float | None:
    """MB an hour of the frame clock between the first and the last of these checkpoints (bank, log included)."""
    if len(checkpoints) < 2 or checkpoints[-1]["checkpoint"] <= checkpoints[0]["checkpoint"]:
        return None
    hours = (checkpoints[-1]["checkpoint"] - checkpoints[0]["checkpoint"]) / 3600
    return round((checkpoints[-1]["bank_bytes"] - checkpoints[0]["bank_bytes"]) / 2**20 / hours, 2)


def run_kill(out: Path, seed: int = 0, every_s: float = 30.0, after_checkpoints: int = 3, rng_seed: int = 0) -> dict[str, Any]:
    """The day in a process SIGKILLed at a random moment after `after_checkpoints` checkpoints; then a new process."""
    out.mkdir(parents=True, exist_ok=True)
    bank = out / "killed.db"
    if bank.exists():
        raise ValueError(f"{bank} exists: the benchmark writes a new bank (remove it or choose another --out)")
    process = _child("live", bank, seed, every_s, 0, 0, 1)
    assert process.stdout is not None
    reported: list[dict[str, Any]] = []
    while len(reported) < after_checkpoints:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the day ended before {after_checkpoints} checkpoints; use a shorter --every")
        if '"checkpoint"' in line:
            reported.append(json.loads(line))
    time.sleep(random.Random(rng_seed).uniform(0.0, every_s / 10))
    os.kill(process.pid, signal.SIGKILL)
    reported += [line for line in _lines(process) if "checkpoint" in line]
    pairs_file = out / "killed_pairs.json"
    pairs_file.write_text("[]")
    after = next(line["read"] for line in _lines(_child("read", bank, pairs_file)) if "read" in line)
    last = reported[-1]["map"]
    restored = after["map"]
    return {
        "kill_checkpoints_before_kill": len(reported),
        "kill_integrity_ok": after["integrity"] == [],
        "kill_restored_checkpoint_s": restored["time_s"],
        "kill_last_reported_checkpoint_s": last["time_s"],
        # The kill can land between a checkpoint's commit and its report line: then the restored one is newer.
        "kill_map_equals_last_checkpoint": restored == last,
        "kill_map_newer_than_reported": (restored["time_s"] or 0) > (last["time_s"] or 0),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mindpalace.benchmarks.restart")
    roles = parser.add_subparsers(dest="role", required=True)
    day = roles.add_parser("live")
    for name, kind in (("bank", Path), ("seed", int), ("every", float), ("tours", int), ("pairs", int), ("report_map", int)):
        day.add_argument(name, type=kind)
    reader = roles.add_parser("read")
    reader.add_argument("bank", type=Path)
    reader.add_argument("pairs", type=Path)
    args = parser.parse_args(argv)
    if args.role == "live":
        live(args.bank, args.seed, args.every, args.tours, args.pairs, bool(args.report_map))
    else:
        read(args.bank, args.pairs)


if __name__ == "__main__":
    main()
