"""A benchmark day, lived once by the scripted oracle and recorded: benchmark side (it reads privileged state).

Seeded by (apartment seed, day seed), as FindingDory's episodes are: the oracle moves K objects (2 to 8,
across rooms, at least one into a drawer or behind a door), may first tour part of the apartment (so some
rooms can stay unvisited), and ends with a leg to the pose where the tests start. Every frame and action
goes to the recording (what any agent later replays); privileged state goes to the ledger (ground truth)
and to the saved end state (the world the tests run in). A day folder:

    recording/          the agent-visible recording (see recording.py)
    truth/ledger.json   the ground-truth ledger
    truth/end_state.json the simulator at the test start (restored for scoring and for driving)
    truth/day.json      the spec and what recording the day cost
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.agent.oracle import GoTo, Job, OracleAgent, OracleConfig, Visit
from mindpalace.benchmarks.findingdory.clock import DayClock
from mindpalace.benchmarks.findingdory.geometry import Navigable, distances_from_start
from mindpalace.benchmarks.findingdory.ledger import DayRejected, Ledger, LedgerBuilder
from mindpalace.benchmarks.findingdory.recording import RecordingWriter
from mindpalace.core.actions import Look, Relation
from mindpalace.core.types import Observation
from mindpalace.envs.household.env import HouseholdEnv
from mindpalace.envs.household.layout import fits
from mindpalace.envs.household.robot import ROBOT_RADIUS

log = logging.getLogger(__name__)

CLEARANCE = 0.05  # m added to the robot's radius for free space (the oracle's own margin)
MAX_ATTEMPTS = 6  # plans tried before a seed pair is given up (a failed job, a day with too few moves)


@dataclass(frozen=True)
class DaySpec:
    apartment_seed: int
    day_seed: int
    n_rooms: int = 4
    width: int = 320
    height: int = 240
    interactions: tuple[int, int] = (2, 8)  # K is drawn in this range (inclusive)
    tour_probability: float = 0.5  # chance the day starts with a partial tour
    tour_stops: int = 3  # at most this many pieces of furniture on the tour

    def __post_init__(self) -> None:
        low, high = self.interactions
        if not 1 <= low <= high <= 8:
            raise ValueError(f"interactions must be 1 <= low <= high <= 8, got {self.interactions}")
        if self.apartment_seed < 0 or self.day_seed < 0:
            raise ValueError("seeds must be >= 0")

    @property
    def key(self) -> str:
        return f"a{self.apartment_seed}-d{self.day_seed}-r{self.n_rooms}-{self.width}x{self.height}-k{self.interactions[0]}_{self.interactions[1]}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> DaySpec:
        return DaySpec(**{**data, "interactions": tuple(data["interactions"])})


@dataclass(frozen=True)
class DayPaths:
    folder: Path

    @property
    def recording(self) -> Path:
        return self.folder / "recording"

    @property
    def ledger(self) -> Path:
        return self.folder / "truth" / "ledger.json"

    @property
    def end_state(self) -> Path:
        return self.folder / "truth" / "end_state.json"

    @property
    def info(self) -> Path:
        return self.folder / "truth" / "day.json"

    @property
    def viewpoints(self) -> Path:
        return self.folder / "truth" / "viewpoints.json"

    def complete(self) -> bool:
        return all(p.is_file() for p in (self.recording / "meta.json", self.ledger, self.end_state, self.info))


Leg = Job | Visit | GoTo


def make_env(spec: DaySpec) -> HouseholdEnv:
    """The simulator a day of `spec` is lived in (and its end state restored in)."""
    return HouseholdEnv(width=spec.width, height=spec.height, n_rooms=spec.n_rooms, max_episode_steps=10**9)


def navigable(env: HouseholdEnv) -> Navigable:
    """Where the robot's base fits, connected to where the robot stands now."""
    blocked, origin = env.privileged.occupancy()
    x, y, _ = env.privileged.robot_pose()
    return Navigable.build(blocked, origin, 0.05, ROBOT_RADIUS + CLEARANCE, (x, y))


def plan_day(env: HouseholdEnv, rng: np.random.Generator, spec: DaySpec) -> list[Leg]:
    """The oracle's legs: an optional partial tour, K pick-and-place jobs, and the leg to the test start."""
    privileged = env.privileged
    apartment = privileged.apartment
    legs: list[Leg] = []
    if rng.random() < spec.tour_probability:
        rooms = rng.permutation(len(apartment.rooms))[: max(1, len(apartment.rooms) // 2)]
        pieces = [p for p in apartment.furniture if p.room in set(rooms.tolist())]
        for index in rng.permutation(len(pieces))[: spec.tour_stops]:
            legs.append(Visit(pieces[int(index)].id))
    count = int(rng.integers(spec.interactions[0], spec.interactions[1] + 1))
    gated = int(rng.integers(count))  # the job that goes into a drawer or behind a door
    resting = {o.id: privileged.object_location(o.id) for o in apartment.objects}
    movable = [o for o in apartment.objects if resting[o.id] is not None]
    jobs: list[Job] = []
    for obj in rng.permutation(len(movable)):
        if len(jobs) == count:
            break
        item = movable[int(obj)]
        location = resting[item.id]
        assert location is not None
        source = next(p for p in apartment.furniture if p.name == location[0])
        # Into a drawer or behind a door for the gated job; on an open surface for the others, in another room
        # than the object's own most of the time (the day crosses rooms).
        want_gate = len(jobs) == gated
        options = [
            (p, r)
            for p in apartment.furniture
            if p.id != source.id
            for r in p.type.receptacles
            if fits(item.category, r) and (r.part is not None) == want_gate and (r.relation == "in") == want_gate
        ]
        elsewhere = [(p, r) for p, r in options if p.room != source.room]
        if elsewhere and rng.random() < 0.7:
            options = elsewhere
        if not options:
            continue
        piece, receptacle = options[int(rng.integers(len(options)))]
        target = piece.part_ids[receptacle.part] if receptacle.part and receptacle.part.startswith("drawer") else piece.id
        jobs.append(Job(int(item.id), target, Relation(receptacle.relation)))
    legs += jobs
    grid = navigable(env)
    room = apartment.rooms[int(rng.integers(len(apartment.rooms)))]
    cells = grid.free_cells_in(room.rect, margin=0.3) or grid.free_cells_in(room.rect)
    if not cells:
        raise DayRejected(f"no free space in the {room.name} to start the tests from")
    row, col = cells[int(rng.integers(len(cells)))]
    x, y = grid.grid.to_world(row, col)
    legs.append(GoTo(float(x), float(y), float(rng.uniform(-math.pi, math.pi))))
    return legs


def record_day(spec: DaySpec, folder: Path) -> Ledger:
    """Live the day of `spec` with the oracle and write it to `folder` (replaced if it exists); returns its ledger.

    The folder appears complete or not at all: it is written under a temporary name and renamed at the end.
    """
    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    rng = np.random.default_rng([spec.apartment_seed, spec.day_seed])
    env = make_env(spec)
    oracle_config = OracleConfig()
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            shutil.rmtree(partial, ignore_errors=True)
            started = time.perf_counter()
            obs, _ = env.reset(seed=spec.apartment_seed)
            try:
                legs = plan_day(env, rng, spec)
                ledger, writer, steps = _live(env, obs, legs, spec, oracle_config, DayPaths(partial))
            except DayRejected as reason:
                log.info("day %s, attempt %d rejected: %s", spec.key, attempt, reason)
                continue
            clock = DayClock(duration_s=ledger.duration_s)
            ledger.clock = clock.to_dict()
            ledger.distances = distances_from_start(navigable(env), ledger)
            meta = writer.close(clock)
            paths = DayPaths(partial)
            ledger.save(paths.ledger)
            paths.end_state.write_text(json.dumps(env.privileged.save_state()))
            info = {
                "spec": spec.to_dict(),
                "attempt": attempt,
                "steps": steps,
                "frames": meta.frames,
                "sim_s": ledger.duration_s,
                "wall_s": round(time.perf_counter() - started, 2),
                "recording_bytes": meta.bytes,
                "recording_write_s": meta.write_s,
                "interactions": len(ledger.interactions),
            }
            paths.info.write_text(json.dumps(info, indent=1))
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
            return ledger
        raise RuntimeError(f"no usable day for {spec.key} in {MAX_ATTEMPTS} plans")
    finally:
        env.close()
        shutil.rmtree(partial, ignore_errors=True)


def _live(
    env: HouseholdEnv, obs: Observation, legs: list[Leg], spec: DaySpec, oracle_config: OracleConfig, paths: DayPaths
) -> tuple[Ledger, RecordingWriter, int]:
    """Run the oracle's legs, recording every frame and watching the ledger; `DayRejected` if the day is unusable."""
    paths.ledger.parent.mkdir(parents=True, exist_ok=True)
    writer = RecordingWriter(paths.recording, env.camera, env.robot, env.floor_plan())
    try:
        builder = LedgerBuilder(env, Look(0.0, oracle_config.driving_tilt))
        writer.add(obs, None)
        builder.start(obs)
        oracle = OracleAgent(env, legs, oracle_config)
        steps = 0
        while (action := oracle.act(obs)) is not None:
            start_s = obs.time_s
            builder.before(action)
            obs, _, _, _, _ = env.step(action)
            writer.add(obs, action)
            builder.after(action, start_s, obs)
            steps += 1
        final = oracle.results[-1] if oracle.results else None
        if final is None or not isinstance(final.job, GoTo) or not final.success:
            raise DayRejected("the robot did not reach the test start")
        ledger = builder.finish(spec.apartment_seed, spec.day_seed, env.privileged.robot_pose(), obs.time_s)
        moved = len(ledger.interactions)
        if moved < spec.interactions[0]:
            raise DayRejected(f"only {moved} objects moved")
        if not any(i.goal.part is not None for i in ledger.interactions):
            raise DayRejected("nothing went into a drawer or behind a door")
        rooms = {ledger.piece(f).room for i in ledger.interactions for f in (i.source.furniture, i.goal.furniture)}
        if len(rooms) < 2:
            raise DayRejected("every interaction stayed in one room")
    except BaseException:
        writer.abandon()
        raise
    return ledger, writer, steps
