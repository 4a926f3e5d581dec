"""The interface a FindingDory agent implements, and what it gets and gives back (agent side: no ground truth here).

For one (day, task) job the runner hands an agent a `TaskContext`: the instruction, the recording of the day
(to replay into its memory, see `replay.py`), a folder it may keep per-day state in (a memory bank built by one
replay serves every task of that day), and, when the job scores low-level success, a way to open the live
simulator at the test start. The agent answers with its stops, FindingDory's way: for each place the task asks
for, the pose it chose (high-level success is judged from there, by rendering that view) and, if it drove, the
pose where the robot actually stopped (low-level success). One stop for a single-goal task; one per target
(`checkpoint`, then `done`) for a multi-goal one.

An agent is a class registered in `AGENTS` by name, built with no arguments (or its own keyword arguments),
with a `name`, a `privileged` flag and `answer(context, oracle) -> Answer`. Only privileged baselines
(`oracle_answer`, `chance`, and later `oracle_memory`) get `oracle`, the benchmark's view of the truth; every other
agent gets None and must work from its memory of the replayed day.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mindpalace.core.env import Env
from mindpalace.core.registry import Registry
from mindpalace.core.types import Observation


@dataclass(frozen=True)
class Pose:
    """A base pose (x, y, yaw) with the head's pan and tilt: everything that fixes what the camera sees."""

    x: float
    y: float
    yaw: float
    pan: float = 0.0
    tilt: float = 0.0

    @staticmethod
    def of(obs: Observation) -> Pose:
        """The robot's pose in an observation: the base from its pose, the head from the camera's direction."""
        base = obs.base_pose
        yaw = math.atan2(float(base[1, 0]), float(base[0, 0]))
        forward = obs.camera_pose[:3, 2]  # the optical axis in the world
        heading = math.atan2(float(forward[1]), float(forward[0]))
        pan = math.atan2(math.sin(heading - yaw), math.cos(heading - yaw))
        tilt = math.atan2(-float(forward[2]), math.hypot(float(forward[0]), float(forward[1])))
        return Pose(float(base[0, 3]), float(base[1, 3]), yaw, pan, tilt)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class Stop:
    pose: Pose  # the pose the agent chose: high-level success is judged from here
    reached: Pose | None = None  # where the robot stopped when it drove there: low-level success is judged from here
    label: str = ""  # what the agent meant, in its own words ("mug #12"), for reports

    def to_dict(self) -> dict[str, Any]:
        return {"pose": self.pose.to_dict(), "reached": self.reached.to_dict() if self.reached else None, "label": self.label}


@dataclass
class Answer:
    stops: list[Stop] = field(default_factory=list)
    error: str = ""  # why there is no valid answer ("" when there is one): an unparsable reply, nothing remembered, ...
    timed_out: bool = False  # the agent ran out of its step, token or time budget
    tokens: int = 0  # model tokens spent on this task (prompt + completion)
    notes: list[str] = field(default_factory=list)


@dataclass
class TaskContext:
    """What a job gives an agent: no ground truth, only the experience and the instruction."""

    instruction: str
    day: str  # the day's key: tasks of one day share `work_dir`
    recording: Path  # the recorded day, to replay into memory
    work_dir: Path  # the agent's own folder for this day (e.g. the bank one replay built), kept between tasks
    test_start: Pose  # where the robot stands when the task begins (the last frame of the day)
    low_level: bool  # True: drive to each stop in the live simulator; False: only choose the stops
    seed: int
    open_live: Callable[[], tuple[Env, Observation]] | None = None  # the simulator at the test start, when low_level
    config: tuple[str, ...] = ()  # the planner agents' config overrides ("key=value", as `--set`)

    def day_context(self) -> DayContext:
        return DayContext(self.day, self.recording, self.work_dir, self.config)


@dataclass
class DayContext:
    """What an agent gets to prepare a day once, before its tasks (a replay into its memory bank)."""

    day: str
    recording: Path
    work_dir: Path
    config: tuple[str, ...] = ()


class SuiteAgent(Protocol):
    name: str
    privileged: bool  # True only for baselines that are given the truth (oracle answer, chance, oracle memory)
    prepares_day: bool  # True: `prepare(DayContext)` runs once per day before the day's tasks (the runner's round 2)

    def answer(self, context: TaskContext, oracle: Any = None) -> Answer: ...

    def prepare(self, context: DayContext) -> dict[str, Any]: ...


AGENTS: Registry[SuiteAgent] = Registry("FindingDory agent")
AGENTS.register(
    "chance",
    "mindpalace.benchmarks.findingdory.baselines:ChanceAgent",
    description="Picks targets of the asked kind uniformly at random (the floor).",
)
AGENTS.register(
    "oracle_answer",
    "mindpalace.benchmarks.findingdory.baselines:OracleAnswerAgent",
    description="Is given the true targets and only navigates (the ceiling of low-level success).",
)
AGENTS.register(
    "no_memory",
    "mindpalace.benchmarks.findingdory.planner_agents:NoMemoryAgent",
    description="The planner with an empty memory: it knows the floor plan and what it sees from the test start on.",
)
AGENTS.register(
    "full_context",
    "mindpalace.benchmarks.findingdory.planner_agents:FullContextAgent",
    description="The planner with the day's event log and, per frame, what perception saw, as text in the prompt "
    "(truncated to the model's context), and no memory tools.",
)
AGENTS.register(
    "oracle_memory",
    "mindpalace.benchmarks.findingdory.oracle_memory:OracleMemoryAgent",
    description="The same planner and memory tools over a perfect memory of the day written from the ledger "
    "(the ceiling of memory; high level only).",
)
for _preset in ("mindpalace", "karma", "3dmem", "mem4nav", "robomemory"):
    AGENTS.register(
        _preset,
        "mindpalace.benchmarks.findingdory.planner_agents:MemoryAgent",
        description=f"The planner over the memory tools of a bank of the {_preset!r} preset, the recorded day replayed into it.",
        preset=_preset,
    )
