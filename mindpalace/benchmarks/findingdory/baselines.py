"""The two agents that need no memory design: `oracle_answer` (the true targets given, navigation only) and `chance`.

Both are privileged baselines (benchmark side): they get `Oracle`, the job's truth. `oracle_answer` is the
ceiling of low-level success, the share of tasks the robot's navigation solves when the answer is known;
`chance` is the floor, picking things of the asked kind uniformly at random (one per stop, no repeats).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from mindpalace.benchmarks.findingdory.agents import Answer, Stop, TaskContext
from mindpalace.benchmarks.findingdory.ledger import Target
from mindpalace.benchmarks.findingdory.scoring import candidates
from mindpalace.benchmarks.findingdory.templates import Task
from mindpalace.benchmarks.findingdory.world import TestEnv, TruthWorld


@dataclass
class Oracle:
    """The truth a privileged baseline is given for one job."""

    task: Task
    world: TruthWorld
    live: TestEnv | None  # the simulator to drive in, when the job is low level


def _stops(oracle: Oracle, targets: list[Target], labels: list[str]) -> list[Stop]:
    """A stop per target: its viewpoint (or an approach when it has none); driven to with the true map when low level."""
    stops = []
    for target, label in zip(targets, labels):
        pose = oracle.world.viewpoint(target) or oracle.world.approach(target)
        reached = oracle.live.oracle_drive(pose, oracle.world.look_point(target)) if oracle.live is not None else None
        stops.append(Stop(pose, reached, label))
    return stops


class OracleAnswerAgent:
    """Is told the answer (the targets) and only navigates: to the nearest valid target, or through all of them
    (in the given order, or in the shortest order for an unordered task)."""

    name = "oracle_answer"
    privileged = True
    prepares_day = False

    def answer(self, context: TaskContext, oracle: Oracle | None = None) -> Answer:
        if oracle is None:
            return Answer(error="oracle_answer is a privileged baseline: it needs the job's truth")
        task, world = oracle.task, oracle.world
        targets = list(task.targets)
        if task.goal == "single":
            seen = [t for t in targets if world.viewpoint(t) is not None] or targets
            targets = [min(seen, key=lambda t: world.distance(t, world.start.x, world.start.y))]
        elif task.goal == "multi_unordered":
            targets = world.tour_order(tuple(targets))
        return Answer(stops=_stops(oracle, targets, [t.key for t in targets]))


class ChanceAgent:
    """Picks, for each stop, a thing of the asked kind uniformly at random (without repeats), seeded by the job."""

    name = "chance"
    privileged = True
    prepares_day = False

    def answer(self, context: TaskContext, oracle: Oracle | None = None) -> Answer:
        if oracle is None:
            return Answer(error="chance is a privileged baseline: it needs to know what kind of thing is asked for")
        task = oracle.task
        pool = candidates(oracle.world.ledger, task.targets[0].kind)
        rng = np.random.default_rng([context.seed, zlib.crc32(f"{context.day}/{task.id}".encode())])
        picks = [pool[int(i)] for i in rng.choice(len(pool), size=min(task.stops, len(pool)), replace=False)]
        return Answer(stops=_stops(oracle, picks, [t.key for t in picks]))
