"""Scoring an answer as FindingDory scores it: high- and low-level success, SPL, failure modes, chance (benchmark side).

High-level (HL) success: each stop's chosen pose satisfies the goal when checked from that pose (`TruthWorld.check`).
Low-level (LL) success: the same from where the robot actually stopped; it counts only where HL succeeded, as in
FindingDory, where the low-level policy runs only toward a correct high-level goal. A single-goal task takes one
stop that satisfies any of its targets. A multi-goal task takes one stop per target: every stop must satisfy a
target no earlier stop satisfied (a wrong stop fails the task), and for an ordered task stop i must satisfy
target i. SPL = success x shortest / max(shortest, path), with the shortest path to the nearest target, through
the targets in order, or the shortest tour through them; the HL path is the path through the chosen poses, the LL
path the one the robot drove.

A failed task gets one failure mode: `invalid_answer` (no usable answer, or a stop the robot never reached),
`timeout` (the agent ran out of budget), `wrong_number` (not one stop per target), `misidentified` (a chosen
pose satisfies no target, or not the right one), `stopped_too_far` or `out_of_view` (HL right, but where the robot
stopped it was too far, facing away, outside the room, or the target was not in view).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mindpalace.benchmarks.findingdory.agents import Answer, Pose
from mindpalace.benchmarks.findingdory.ledger import Ledger, Target
from mindpalace.benchmarks.findingdory.templates import Task
from mindpalace.benchmarks.findingdory.world import Check, TestEnv, TruthWorld

FAILURE_MODES = ("invalid_answer", "timeout", "wrong_number", "misidentified", "stopped_too_far", "out_of_view")


@dataclass
class Score:
    hl_success: bool
    ll_success: bool | None  # None when the job does not drive
    hl_spl: float
    ll_spl: float | None
    failure_mode: str | None  # None on success (of LL when the job drives, else of HL)
    shortest_m: float
    stops: list[dict[str, Any]] = field(default_factory=list)  # per stop: the target it hit and the checks

    def to_dict(self) -> dict[str, Any]:
        return {
            "hl_success": self.hl_success,
            "ll_success": self.ll_success,
            "hl_spl": self.hl_spl,
            "ll_spl": self.ll_spl,
            "failure_mode": self.failure_mode,
            "shortest_m": self.shortest_m,
            "stops": self.stops,
        }


@dataclass
class Match:
    success: bool
    hits: list[Target | None]  # per stop, the target it is credited with
    checks: list[Check]  # per stop, the check that decided it (the hit, or the nearest miss)


def match(task: Task, poses: list[Pose], world: TruthWorld) -> Match:
    """Whether the stops at `poses` satisfy the task (see the module docstring)."""
    targets = list(task.targets)
    if task.goal == "single":
        checks = [world.check(t, poses[0]) for t in targets]
        hit = next((t for t, c in zip(targets, checks) if c.ok), None)
        return Match(hit is not None, [hit], [_decisive(targets, checks, hit)])
    if task.goal == "multi_ordered":
        checks = [world.check(t, p) for t, p in zip(targets, poses)]
        return Match(all(c.ok for c in checks), [t if c.ok else None for t, c in zip(targets, checks)], checks)
    table = [[world.check(t, p) for t in targets] for p in poses]
    assignment = _matching([[c.ok for c in row] for row in table])
    hits = [targets[j] if j is not None else None for j in assignment]
    checks = [row[j] if j is not None else _decisive(targets, row, None) for row, j in zip(table, assignment)]
    return Match(all(j is not None for j in assignment), hits, checks)


def _decisive(targets: list[Target], checks: list[Check], hit: Target | None) -> Check:
    """The check that decided a stop: the target it hit, else the nearest one it missed (FindingDory's min d2g)."""
    if hit is not None:
        return checks[targets.index(hit)]
    return min(checks, key=lambda c: c.distance_m)


def _matching(ok: list[list[bool]]) -> list[int | None]:
    """A maximum matching of stops (rows) to targets (columns), by augmenting paths; None for an unmatched stop."""
    owner: dict[int, int] = {}

    def augment(row: int, seen: set[int]) -> bool:
        for col, good in enumerate(ok[row]):
            if good and col not in seen:
                seen.add(col)
                if col not in owner or augment(owner[col], seen):
                    owner[col] = row
                    return True
        return False

    for row in range(len(ok)):
        augment(row, set())
    assignment: list[int | None] = [None] * len(ok)
    for col, row in owner.items():
        assignment[row] = col
    return assignment


def score(task: Task, answer: Answer, world: TruthWorld, live: TestEnv | None = None) -> Score:
    """Score one answer; `live` is the test env the agent drove in (None: high level only)."""
    shortest = world.shortest(task.targets, task.goal)
    stops = answer.stops
    low_level = live is not None

    def failed(mode: str, details: list[dict[str, Any]] | None = None, hl: bool = False, hl_spl: float = 0.0) -> Score:
        return Score(hl, False if low_level else None, hl_spl, 0.0 if low_level else None, mode, shortest, details or [])

    if answer.error:
        return failed("invalid_answer")
    if len(stops) != task.stops:
        return failed("timeout" if answer.timed_out else "wrong_number")
    high = match(task, [s.pose for s in stops], world)
    details = [
        {"label": s.label, "pose": s.pose.to_dict(), "hit": t.key if t else None, "hl": c.to_dict()}
        for s, t, c in zip(stops, high.hits, high.checks)
    ]
    hl_spl = _spl(high.success, shortest, world.tour_length([s.pose for s in stops]))
    if not high.success:
        return failed("timeout" if answer.timed_out else "misidentified", details)
    if live is None:
        return Score(True, None, hl_spl, None, None, shortest, details)
    reached = [s.reached for s in stops]
    if any(r is None or not live.was_at(r) for r in reached):
        return failed("timeout" if answer.timed_out else "invalid_answer", details, True, hl_spl)
    low = match(task, [r for r in reached if r is not None], world)
    for detail, check in zip(details, low.checks):
        detail["ll"] = check.to_dict()
    if low.success:
        return Score(True, True, hl_spl, _spl(True, shortest, live.driven_m()), None, shortest, details)
    worst = next(c for c in low.checks if not c.ok)
    mode = "timeout" if answer.timed_out else ("out_of_view" if worst.reason == "out_of_view" else "stopped_too_far")
    return failed(mode, details, True, hl_spl)


def _spl(success: bool, shortest: float, path: float) -> float:
    if not success:
        return 0.0
    if shortest <= 0.0 and path <= 0.0:
        return 1.0
    return shortest / max(shortest, path) if math.isfinite(path) else 0.0


# ---------------------------------------------------------------------- chance
def candidates(ledger: Ledger, kind: str) -> list[Target]:
    """Everything of a kind a chance agent may pick from: every object, piece of furniture or room of the apartment."""
    if kind == "object":
        return [Target("object", o.id) for o in ledger.objects]
    if kind == "furniture":
        return [Target("furniture", f.id) for f in ledger.furniture]
    return [Target("room", r.name) for r in ledger.rooms]


def chance_rate(task: Task, ledger: Ledger) -> float:
    """The chance of picking a right answer uniformly among things of the asked kind (ordered picks, no repeats).

    Single goal: (targets) / N. Unordered, k targets: 1 / C(N, k). Ordered: 1 / (N! / (N - k)!).
    """
    n = len(candidates(ledger, task.targets[0].kind))
    k = len(task.targets)
    if task.goal == "single":
        return min(1.0, k / n)
    if task.goal == "multi_unordered":
        return 1.0 / math.comb(n, k)
    return 1.0 / math.perm(n, k)
