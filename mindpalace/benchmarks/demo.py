"""The demo: a day of activity the robot carries out and remembers, then instructions that need that memory.

The day is driven by the scripted oracle, as FindingDory's data collection is: it tours the apartment,
moves objects (some into drawers), and the robot's memory sees only its own camera frames and the
outcomes of its own actions. Then the planner, with the local model by default, carries out
memory-dependent instructions. The instructions and their success checks are built from the day's
ground truth: that is the benchmark's side (privileged); the agent never sees it. The one prior the robot
is given is the floor plan's room names, as a person names the rooms of their home.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mindpalace.agent.builder import Agent, build_agent
from mindpalace.agent.config import AgentConfig
from mindpalace.agent.episode import EpisodeRecord
from mindpalace.agent.oracle import Job, OracleAgent, tour
from mindpalace.agent.runtime import AgentRuntime
from mindpalace.benchmarks.failure_cause import EpisodeTruth, TargetRecords, diagnose
from mindpalace.benchmarks.identity import IdentityLedger
from mindpalace.core.actions import Open, Relation
from mindpalace.envs.household.catalog import FURNITURE
from mindpalace.envs.household.env import HouseholdEnv
from mindpalace.envs.household.layout import fits
from mindpalace.envs.household.topdown import save_topdown
from mindpalace.memory.spatial.objects import ObjectMap
from mindpalace.memory.system import MemorySystem
from mindpalace.planning.backends import LLMBackend

log = logging.getLogger(__name__)


@dataclass
class DemoConfig:
    agent: AgentConfig = field(default_factory=AgentConfig)
    moves: int = 3  # objects the robot moves during the day (the first one into a drawer)


@dataclass
class DemoTask:
    instruction: str
    check: Callable[[EpisodeRecord], tuple[bool, str]]
    # The task's right targets as memory holds them when its episode starts, for the diagnosis of a failure.
    truth: Callable[[IdentityLedger, ObjectMap], EpisodeTruth]


@dataclass
class DayLog:
    """What the oracle did (ground truth, for building instructions and checks; never shown to the agent)."""

    moves: list[Job]
    sources: dict[int, str]  # object id -> the room it was picked up in
    drawers_opened: list[int]
    env_steps: int
    sim_time_s: float


def live_day(env: HouseholdEnv, runtime: AgentRuntime, rng: np.random.Generator, moves: int) -> DayLog:
    """Tour the apartment, then move objects: the robot's memory is built from what it sees and does."""
    steps = 0
    drawer_ids = {
        pid for piece in env.privileged.apartment.furniture for name, pid in piece.part_ids.items() if name.startswith("drawer")
    }
    drawers: list[int] = []  # drawers in the order the robot opened them (closed ones at the start of the moves)

    def run(agent: OracleAgent, closed_before: set[int]) -> None:
        nonlocal steps
        while (action := agent.act(runtime.obs)) is not None:
            outcome = runtime.step(action).last_outcome
            steps += 1
            if (
                isinstance(action, Open)
                and outcome is not None
                and outcome.success
                and action.target_id in drawer_ids
                and action.target_id in closed_before
            ):
                drawers.append(action.target_id)

    run(OracleAgent(env, tour(env)), set())  # the tour opens nothing; only the moves count
    jobs = _day_jobs(env, rng, moves)
    sources = {job.object_id: env.privileged.object_room(job.object_id) or "" for job in jobs}
    closed = {pid for pid, (_, is_open) in env.privileged.joint_states().items() if not is_open}
    mover = OracleAgent(env, jobs)
    run(mover, closed)
    done = [r.job for r in mover.results if r.success]
    return DayLog(
        moves=[j for j in jobs if j in done],
        sources=sources,
        drawers_opened=drawers,
        env_steps=steps,
        sim_time_s=runtime.obs.time_s,
    )


def _day_jobs(env: HouseholdEnv, rng: np.random.Generator, count: int) -> list[Job]:
    """Objects of categories unique in the apartment (so "the mug" is unambiguous), moved to other furniture;
    the first one into a drawer."""
    privileged = env.privileged
    apartment = privileged.apartment
    counts: dict[str, int] = {}
    for obj in apartment.objects:
        counts[obj.category.name] = counts.get(obj.category.name, 0) + 1
    jobs: list[Job] = []
    for obj in [apartment.objects[i] for i in rng.permutation(len(apartment.objects))]:
        location = privileged.object_location(obj.id)
        if counts[obj.category.name] != 1 or location is None or location[2] != "on":
            continue
        source = next(p for p in apartment.furniture if p.name == location[0])
        if source.receptacle(location[1]).part is not None:
            continue
        want_drawer = not jobs
        options = [
            (p, r)
            for p in apartment.furniture
            if p.id != source.id
            for r in p.type.receptacles
            if fits(obj.category, r)
            and ((r.part or "").startswith("drawer") if want_drawer else (r.relation == "on" and not r.part))
        ]
        if not options:
            continue
        piece, receptacle = options[int(rng.integers(len(options)))]
        target = piece.part_ids[receptacle.part] if receptacle.part else piece.id
        jobs.append(Job(int(obj.id), target, Relation(receptacle.relation)))
        if len(jobs) == count:
            break
    return jobs


def build_tasks(env: HouseholdEnv, day: DayLog, rng: np.random.Generator) -> list[DemoTask]:
    """Five memory-dependent instructions and their checks (privileged: the benchmark's side)."""
    privileged = env.privileged
    apartment = privileged.apartment
    category = {o.id: o.category.name.replace("_", " ") for o in apartment.objects}
    furniture_of_part = {pid: p for p in apartment.furniture for pid in p.part_ids.values()}
    tasks: list[DemoTask] = []
    label_counts: dict[str, int] = {}
    for piece in apartment.furniture:
        label_counts[piece.type.name] = label_counts.get(piece.type.name, 0) + 1

    if day.moves:
        first = day.moves[0]
        here = privileged.object_room(first.object_id)
        targets = [
            p
            for p in apartment.furniture
            if label_counts[p.type.name] == 1
            and apartment.rooms[p.room].name != here
            and any(r.relation == "on" and not r.part for r in p.type.receptacles)
        ]
        if targets:
            goal = targets[int(rng.integers(len(targets)))]
            room = apartment.rooms[goal.room].name
            holder = furniture_of_part.get(first.receptacle_id) or apartment.furniture_by_id(first.receptacle_id)
            tasks.append(
                DemoTask(
                    f"Bring the {category[first.object_id]} you put away first today to the {goal.type.name.replace('_', ' ')} "
                    f"in the {room}.",
                    _on_furniture(env, first.object_id, goal.name),
                    _truth(
                        env,
                        first.object_id,
                        {first.object_id, first.receptacle_id, holder.id, goal.id},
                        {here or "", room},
                        "place",
                        goal={goal.id},
                    ),
                )
            )
    if day.drawers_opened:
        drawer = day.drawers_opened[0]
        dresser = furniture_of_part[drawer]
        tasks.append(
            DemoTask(
                "Open the drawer you opened first today.",
                _is_open(env, drawer),
                _truth(env, drawer, {drawer, dresser.id}, {apartment.rooms[dresser.room].name}, "open", goal={drawer}),
            )
        )
    if len(day.moves) > 1:
        second = day.moves[1]
        piece = furniture_of_part.get(second.receptacle_id) or apartment.furniture_by_id(second.receptacle_id)
        tasks.append(
            DemoTask(
                f"Where did you put the {category[second.object_id]}?",
                _answer_names(piece.type.name.replace("_", " ")),
                _truth(
                    env,
                    second.object_id,
                    {second.object_id, second.receptacle_id, piece.id},
                    set(),
                    "answer",
                    set(),
                    question=True,
                ),
            )
        )
    if len(day.moves) > 2:
        third = day.moves[2]
        room = day.sources[third.object_id]
        tasks.append(
            DemoTask(
                f"Go to the room where you picked up the {category[third.object_id]}.",
                _in_room(env, room),
                _truth(env, third.object_id, set(), {room}, "navigate_to", goal=set(), in_room=room),
            )
        )
    moved = {j.object_id for j in day.moves}
    counts: dict[str, int] = {}
    for obj in apartment.objects:
        counts[obj.category.name] = counts.get(obj.category.name, 0) + 1
    resting = {o.id: where for o in apartment.objects if (where := privileged.object_location(o.id)) is not None}
    seen = [
        o
        for o in apartment.objects
        if o.id not in moved and counts[o.category.name] == 1 and o.id in resting and resting[o.id][2] == "on"
    ]
    if seen:
        target = seen[int(rng.integers(len(seen)))]
        location = resting[target.id]
        piece = next(p for p in apartment.furniture if p.name == location[0])
        tasks.append(
            DemoTask(
                f"Go to the {category[target.id]} you saw on the {piece.type.name.replace('_', ' ')}.",
                _near(env, target.id),
                _truth(
                    env, target.id, {target.id, piece.id}, {apartment.rooms[piece.room].name}, "navigate_to", goal={target.id}
                ),
            )
        )
    return tasks


# ---------------------------------------------------------------------- diagnosis (privileged: metrics only)
def _truth(
    env: HouseholdEnv,
    target: int,
    right: set[int],
    rooms: set[str],
    final_skill: str,
    goal: set[int],
    question: bool = False,
    in_room: str | None = None,
) -> Callable[[IdentityLedger, ObjectMap], EpisodeTruth]:
    """The task's target, right targets and goal (true instance ids; with `in_room`, everything in that room is right
    and a goal) as memory's records when the episode starts, from the identity ledger."""

    def truth(ledger: IdentityLedger, objects: ObjectMap) -> EpisodeTruth:
        records = ledger.records(objects)
        majority = {record: held.most_common(1)[0][0] for record, held in records.items()}
        inside = {i for i in ledger.kinds if _instance_room(env, i) == in_room} if in_room is not None else set()
        return EpisodeTruth(
            [_target_records(env, ledger, objects, target)],
            {record for record, instance in majority.items() if instance in right | inside},
            rooms,
            final_skill,
            question=question,
            goal_records={record for record, instance in majority.items() if instance in goal | inside},
            goal_rooms=rooms if in_room is not None else set(),
        )

    return truth


def _target_records(env: HouseholdEnv, ledger: IdentityLedger, objects: ObjectMap, instance: int) -> TargetRecords:
    """Memory's records of one true instance: its own (mostly of it), or the records it was merged into; stale or not."""
    records = ledger.records(objects)
    majority = {record: held.most_common(1)[0][0] for record, held in records.items()}
    own = tuple(sorted(record for record, i in majority.items() if i == instance))
    if not own:
        holders = tuple(sorted(record for record, held in records.items() if held[instance]))
        return TargetRecords(instance, holders, tuple(sorted({majority[r] for r in holders})))
    kind = ledger.kinds.get(instance)
    merged = tuple(sorted({i for r in own for i in records[r] if i != instance and ledger.kinds.get(i) == kind}))
    stale = False
    if kind == "object" and len(own) == 1:
        obj = objects.objects[own[0]]
        truly = np.array(env.privileged.object_positions()[instance])
        stale = float(np.hypot(*(obj.center[:2] - truly[:2]))) > max(0.5, obj.spread + 0.2)
    return TargetRecords(instance, own, merged, stale)


def _instance_room(env: HouseholdEnv, instance: int) -> str | None:
    """The room a true instance is in now: an object's, or its furniture's (a part's furniture's)."""
    apartment = env.privileged.apartment
    if any(o.id == instance for o in apartment.objects):
        return env.privileged.object_room(instance)
    piece = next((p for p in apartment.furniture if p.id == instance or instance in p.part_ids.values()), None)
    return apartment.rooms[piece.room].name if piece is not None else None


# ---------------------------------------------------------------------- checks (privileged: metrics only)
def _on_furniture(env: HouseholdEnv, object_id: int, furniture_name: str) -> Callable[[EpisodeRecord], tuple[bool, str]]:
    def check(record: EpisodeRecord) -> tuple[bool, str]:
        location = env.privileged.object_location(object_id)
        where = f"{location[2]} {location[0]}" if location else "held"
        return location is not None and location[0] == furniture_name, f"the object is {where} (goal: on {furniture_name})"

    return check


def _is_open(env: HouseholdEnv, part_id: int) -> Callable[[EpisodeRecord], tuple[bool, str]]:
    def check(record: EpisodeRecord) -> tuple[bool, str]:
        is_open = bool(env.privileged.joint_states()[part_id][1])
        return is_open, f"part {part_id} (the first drawer opened today) is {'open' if is_open else 'closed'}"

    return check


# A negated or unsure answer ("not the table", "I don't know", "no idea") does not say where the thing is.
_NEGATION = re.compile(r"\b(?:not|no|never|nowhere|neither|nor|cannot|unsure|unknown)\b|n't\b|\bdon'?t know\b")


def answer_names(answer: str, furniture_label: str) -> tuple[bool, str]:
    """Whether an answer says the thing is at `furniture_label` ("coffee table"): it names that furniture and no
    other (a "table" inside "coffee table" is the coffee table), and nothing in it is negated or unsure."""
    text = " ".join(re.findall(r"[a-z0-9']+", answer.lower().replace("_", " ").replace("\u2019", "'")))
    if not text:
        return False, "no answer"
    if _NEGATION.search(text):
        return False, f"answer {answer!r} is negated or unsure; it must say the {furniture_label}"
    named = []
    for label in sorted((name.replace("_", " ") for name in FURNITURE), key=len, reverse=True):
        pattern = rf"\b{re.escape(label)}s?\b"
        if re.search(pattern, text):
            named.append(label)
            text = re.sub(pattern, " ", text)  # "coffee table" is not also a "table"
    if named != [furniture_label]:
        found = ", ".join(named) if named else "no furniture"
        return False, f"answer {answer!r} names {found}; it must name the {furniture_label} and nothing else"
    return True, f"answer {answer!r} names the {furniture_label}"


def _answer_names(furniture_label: str) -> Callable[[EpisodeRecord], tuple[bool, str]]:
    def check(record: EpisodeRecord) -> tuple[bool, str]:
        return answer_names(record.answer or "", furniture_label)

    return check


def _in_room(env: HouseholdEnv, room: str) -> Callable[[EpisodeRecord], tuple[bool, str]]:
    def check(record: EpisodeRecord) -> tuple[bool, str]:
        x, y, _ = env.privileged.robot_pose()
        actual = env.privileged.apartment.room_at(x, y)
        name = actual.name if actual else "no room"
        return name == room, f"the robot is in the {name} (goal: {room})"

    return check


def _near(env: HouseholdEnv, object_id: int, distance: float = 1.3) -> Callable[[EpisodeRecord], tuple[bool, str]]:
    def check(record: EpisodeRecord) -> tuple[bool, str]:
        x, y, _ = env.privileged.robot_pose()
        ox, oy, _ = env.privileged.object_positions()[object_id]
        d = float(np.hypot(ox - x, oy - y))
        return d <= distance, f"the robot ends {d:.2f} m from the object (goal: within {distance} m)"

    return check


# ---------------------------------------------------------------------- the whole demo
@dataclass
class DemoResult:
    episodes: list[EpisodeRecord]
    day: DayLog
    day_wall_s: float
    rooms: list[str]
    invalid_env_actions: int  # actions the env rejected as malformed or unknown (the target: 0)
    env_failures: dict[str, int]
    bank: str  # the memory bank the day and the instructions were written to
    failure_causes: list[str | None]  # per episode: why it failed (`benchmarks.failure_cause`), None for a success


# Env failures that mean the action itself was malformed, not that the world refused it.
INVALID_ACTION_REASONS = ("invalid_argument", "unknown_target", "not_pickable", "not_a_receptacle", "not_articulated")


@dataclass
class World:
    """One apartment, the robot in it with its memory, and the day it lived (if it lived one in this process)."""

    agent: Agent
    day: DayLog | None
    day_wall_s: float = 0.0

    @property
    def env(self) -> HouseholdEnv:
        assert isinstance(self.agent.env, HouseholdEnv)
        return self.agent.env

    @property
    def runtime(self) -> AgentRuntime:
        return self.agent.runtime

    @property
    def memory(self) -> MemorySystem:
        return self.agent.memory

    def close(self) -> None:
        """Keep the world beside the bank (for a later `run --bank`), then close memory and the env."""
        try:
            self.env.save_world(world_file(self.agent.memory.bank.path))
        finally:
            self.agent.close()


def world_file(bank: Path) -> Path:
    """Where the simulated world is kept beside a memory bank ("banks/X.db" -> "banks/X.world.npz")."""
    return bank.with_suffix(".world.npz")


def open_world(
    config: DemoConfig,
    out_dir: Path,
    live: bool = True,
    progress: Callable[[str], None] | None = None,
    backend: LLMBackend | None = None,
    ledger: IdentityLedger | None = None,
) -> World:
    """Build the agent (a new bank under `out_dir`, or the configured one continued) and, if `live`, live the day.

    A `ledger` (the benchmark's) is told what every frame did to the map, from the first.
    """
    say = progress or (lambda message: None)
    agent = build_agent(config.agent, out_dir, backend=backend, listeners=[ledger.file] if ledger is not None else ())
    if not isinstance(agent.env, HouseholdEnv):
        agent.close()
        raise ValueError(f"the demo's day is lived in the household simulator, not {config.agent.env.type!r}")
    world = World(agent, None)
    say(f"memory bank: {agent.memory.bank.path}")
    saved = world_file(agent.memory.bank.path)
    if saved.exists():
        # A continued memory meets the world it remembers: the apartment as the last run left it.
        agent.runtime.resume(world.env.load_world(saved))
        say(f"world: continued from {saved}")
    if live:
        say("living a day: touring the apartment and moving things (the oracle drives; memory watches)")
        started = time.perf_counter()
        world.day = live_day(world.env, agent.runtime, np.random.default_rng(config.agent.seed), config.moves)
        world.day_wall_s = time.perf_counter() - started
        agent.memory.flush()
        say(
            f"day done: {world.day.env_steps} env steps, {len(world.day.moves)} objects moved, "
            f"{len(agent.runtime.objects())} things mapped, {agent.memory.stats()['events']} events remembered "
            f"({world.day_wall_s:.0f} s)"
        )
    return world


def run_demo(
    config: DemoConfig, out_dir: Path, backend: LLMBackend | None = None, progress: Callable[[str], None] | None = None
) -> DemoResult:
    """The day, then each instruction as an episode; the bank and the maps are written under `out_dir`."""
    say = progress or (lambda message: None)
    ledger = IdentityLedger()
    world = open_world(config, out_dir, live=True, progress=say, backend=backend, ledger=ledger)
    try:
        assert world.day is not None
        tasks = build_tasks(world.env, world.day, np.random.default_rng(config.agent.seed + 1))
        runtime = world.agent.runtime
        objects = runtime.spatial.objects
        failures_before = dict(runtime.stats.failures)
        episodes = []
        causes: list[str | None] = []
        for number, task in enumerate(tasks, 1):
            say(f"instruction {number}/{len(tasks)}: {task.instruction}")
            truth = task.truth(ledger, objects)
            record = world.agent.run(task.instruction, checker=task.check)
            cause, why = diagnose(record, truth, objects.resolve)
            causes.append(cause)
            if cause is not None:
                record.notes.append(f"failure cause: {cause} ({why})")
            record.maps["top-down map with the robot's path (ground-truth layout)"] = str(
                save_episode_map(world.env, record, out_dir / "maps" / f"episode_{number}.png")
            )
            episodes.append(record)
            say(
                f"  -> {'success' if record.success else 'failure'} in {len(record.steps)} steps ({record.reason}); "
                f"{record.notes[-1] if record.notes else ''}"
            )
        during = {k: v - failures_before.get(k, 0) for k, v in runtime.stats.failures.items() if v - failures_before.get(k, 0)}
        return DemoResult(
            episodes,
            world.day,
            world.day_wall_s,
            [r.name for r in world.env.privileged.apartment.rooms],
            sum(during.get(k, 0) for k in INVALID_ACTION_REASONS),
            during,
            str(world.agent.memory.bank.path),
            causes,
        )
    finally:
        world.close()


def save_episode_map(env: HouseholdEnv, record: EpisodeRecord, path: Path) -> Path:
    privileged = env.privileged
    save_topdown(
        path,
        privileged.apartment,
        robot_pose=privileged.robot_pose(),
        object_positions=privileged.object_positions(),
        held_object=privileged.held_object(),
        path=record.path,
    )
    return path
