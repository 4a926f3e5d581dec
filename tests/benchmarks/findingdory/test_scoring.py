"""Scoring without the simulator: multi-goal matching, failure modes, SPL, chance rates (a stub world decides checks)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from mindpalace.benchmarks.findingdory.agents import Answer, Pose, Stop, TaskContext
from mindpalace.benchmarks.findingdory.baselines import ChanceAgent, Oracle
from mindpalace.benchmarks.findingdory.ledger import Target
from mindpalace.benchmarks.findingdory.scoring import FAILURE_MODES, candidates, chance_rate, match, score
from mindpalace.benchmarks.findingdory.templates import Task, instantiate, load_templates
from mindpalace.benchmarks.findingdory.world import Check
from tests.benchmarks.findingdory.handmade import handmade_ledger


class StubWorld:
    """TEST DOUBLE for TruthWorld: a pose "sees" the targets whose refs are in `pose_sees[pose.x]`; paths are straight."""

    def __init__(self, pose_sees: dict[float, set[str]]) -> None:
        self.pose_sees = pose_sees
        self.ledger = handmade_ledger()
        self.start = Pose(0.0, 0.0, 0.0)

    def check(self, target: Target, pose: Pose) -> Check:
        ok = target.key in self.pose_sees.get(pose.x, set())
        return Check(ok, "" if ok else "out_of_view", 1.0 if ok else 5.0, 0.0, 0.01 if ok else 0.0)

    def shortest(self, targets: tuple[Target, ...], goal: str) -> float:
        return 4.0

    def tour_length(self, poses: list[Pose]) -> float:
        return sum(p.x for p in poses)

    def viewpoint(self, target: Target) -> Pose:
        return Pose(float(hash(target.key) % 1000), 0.0, 0.0)

    approach = viewpoint

    def look_point(self, target: Target) -> None:
        return None


def task(goal: str, *keys: str) -> Task:
    return Task("t", "interaction", goal, "all_of", "Visit them.", tuple(Target.from_key(k) for k in keys), {})


def stops(*xs: float) -> list[Stop]:
    return [Stop(Pose(x, 0.0, 0.0)) for x in xs]


WORLD = StubWorld({1.0: {"object:30"}, 2.0: {"object:32"}, 3.0: {"object:30", "object:32"}, 9.0: set()})


def test_a_single_goal_takes_any_one_target() -> None:
    single = task("single", "object:30", "object:32")
    assert match(single, [Pose(2.0, 0, 0)], WORLD).success
    assert not match(single, [Pose(9.0, 0, 0)], WORLD).success


def test_each_stop_of_a_multi_goal_task_must_hit_a_new_target() -> None:
    both = task("multi_unordered", "object:30", "object:32")
    assert match(both, [p.pose for p in stops(2.0, 1.0)], WORLD).success  # any order
    assert match(both, [p.pose for p in stops(3.0, 1.0)], WORLD).success  # a stop seeing both may count for the other
    assert not match(both, [p.pose for p in stops(1.0, 1.0)], WORLD).success  # the same target twice
    wrong = match(both, [p.pose for p in stops(1.0, 9.0)], WORLD)  # a wrong checkpoint fails the task
    assert not wrong.success and wrong.hits == [Target("object", 30), None]


def test_an_ordered_task_must_be_visited_in_order() -> None:
    ordered = task("multi_ordered", "object:30", "object:32")
    assert match(ordered, [p.pose for p in stops(1.0, 2.0)], WORLD).success
    assert not match(ordered, [p.pose for p in stops(2.0, 1.0)], WORLD).success


def test_failure_modes_and_spl() -> None:
    both = task("multi_unordered", "object:30", "object:32")
    assert score(both, Answer(stops(1.0, 2.0)), WORLD).to_dict() | {"stops": []} == {
        "hl_success": True,
        "ll_success": None,
        "hl_spl": pytest.approx(4.0 / 4.0),  # path 1 + 2 = 3 m is shorter than the shortest: capped at 1
        "ll_spl": None,
        "failure_mode": None,
        "shortest_m": 4.0,
        "stops": [],
    }
    assert score(both, Answer(stops(1.0, 9.0)), WORLD).failure_mode == "misidentified"
    assert score(both, Answer(stops(1.0)), WORLD).failure_mode == "wrong_number"
    assert score(both, Answer(error="no reply"), WORLD).failure_mode == "invalid_answer"
    assert score(both, Answer(stops(1.0), timed_out=True), WORLD).failure_mode == "timeout"
    longer = StubWorld({9.0: {"object:32"}})
    assert score(task("single", "object:32"), Answer(stops(9.0)), longer).hl_spl == pytest.approx(4.0 / 9.0)
    assert set(FAILURE_MODES) >= {"misidentified", "wrong_number", "invalid_answer", "timeout", "stopped_too_far", "out_of_view"}


def test_chance_rates_are_computed_per_task() -> None:
    ledger = handmade_ledger()
    n_objects, n_furniture, n_rooms = (len(candidates(ledger, k)) for k in ("object", "furniture", "room"))
    assert (n_objects, n_furniture, n_rooms) == (7, 9, 4)
    tasks = {t.id: t for t in instantiate(load_templates(), ledger, seed=0)}
    assert chance_rate(tasks["moved_any"], ledger) == pytest.approx(4 / 7)
    assert chance_rate(tasks["unused_any"], ledger) == pytest.approx(2 / 9)
    assert chance_rate(tasks["room_unvisited"], ledger) == pytest.approx(1 / 4)
    assert chance_rate(tasks["all_moved"], ledger) == pytest.approx(1 / math.comb(7, 4))
    assert chance_rate(tasks["moved_in_order"], ledger) == pytest.approx(1 / (7 * 6 * 5 * 4))


def test_the_chance_agent_picks_uniformly_and_matches_its_rate() -> None:
    """Over many seeds, chance picks each candidate equally often; its hit rate is the computed chance rate."""
    ledger = handmade_ledger()
    single = next(t for t in instantiate(load_templates(), ledger) if t.id == "moved_any")
    agent = ChanceAgent()
    picks: Counter[str] = Counter()
    hits = 0
    runs = 1400
    for seed in range(runs):
        context = TaskContext(single.text, "day", None, None, Pose(0, 0, 0), False, seed)  # type: ignore[arg-type]
        answer = agent.answer(context, Oracle(single, StubWorld({}), None))  # type: ignore[arg-type]
        picked = answer.stops[0].label
        picks[picked] += 1
        hits += picked in {t.key for t in single.targets}
    assert set(picks) == {f"object:{o.id}" for o in ledger.objects}
    assert all(abs(count - runs / 7) < 0.25 * runs / 7 for count in picks.values())
    assert hits / runs == pytest.approx(chance_rate(single, ledger), abs=0.05)
    ordered = next(t for t in instantiate(load_templates(), ledger) if t.id == "moved_in_order")
    context = TaskContext(ordered.text, "day", None, None, Pose(0, 0, 0), False, 0)  # type: ignore[arg-type]
    labels = [s.label for s in agent.answer(context, Oracle(ordered, StubWorld({}), None)).stops]  # type: ignore[arg-type]
    assert len(labels) == 4 == len(set(labels))
