"""The two baselines on prepared days, through the job interface: oracle answer solves the tasks, chance rarely does;
a wrong checkpoint fails a multi-goal task in the real world too; a user's templates file runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mindpalace.benchmarks.findingdory.agents import Answer, Stop
from mindpalace.benchmarks.findingdory.day import DayPaths
from mindpalace.benchmarks.findingdory.jobs import day_tasks, list_jobs, run_job
from mindpalace.benchmarks.findingdory.ledger import Target
from mindpalace.benchmarks.findingdory.scoring import score
from mindpalace.benchmarks.findingdory.world import TruthWorld
from tests.benchmarks.findingdory.conftest import SMALL, TINY

pytestmark = pytest.mark.slow


def test_oracle_answer_solves_the_tasks_of_two_days(tiny_day: DayPaths, small_day: DayPaths, data_dir: Path) -> None:
    jobs = list_jobs([TINY, SMALL], ["oracle_answer", "chance"], data_dir)
    assert jobs and len({j["id"] for j in jobs}) == len(jobs)
    results = [run_job(json.loads(json.dumps(job))) for job in jobs]  # jobs and results travel as JSON
    json.dumps(results)
    oracle = [r for r in results if r["agent"] == "oracle_answer"]
    chance = [r for r in results if r["agent"] == "chance"]
    assert all(r["hl_success"] for r in oracle), [r["id"] for r in oracle if not r["hl_success"]]
    assert {r["category"] for r in oracle} >= {"interaction", "interaction_order", "time", "ordered_revisitation"}
    assert sum(r["hl_success"] for r in chance) < 0.5 * len(chance)
    # Low level: the oracle drives to one task of each category per day; FindingDory's oracle solves 95.9%.
    driven = {}
    for job in jobs:
        if job["agent"] == "oracle_answer":
            driven.setdefault((job["day"]["apartment_seed"], job["task"]["category"]), {**job, "low_level": True})
    low = [run_job(job) for job in driven.values()]
    assert sum(bool(r["ll_success"]) for r in low) >= 0.9 * len(low), [
        (r["id"], r["failure_mode"]) for r in low if not r["ll_success"]
    ]
    assert all(0.0 < r["ll_spl"] <= 1.0 for r in low if r["ll_success"])


def test_a_wrong_checkpoint_fails_a_multi_goal_task(tiny_day: DayPaths, data_dir: Path) -> None:
    tasks = {t.id: t for t in day_tasks(TINY, data_dir)}
    world = TruthWorld(TINY, tiny_day)
    try:
        ordered = tasks["moved_in_order"]
        right = [Stop(world.viewpoint(t)) for t in ordered.targets]
        assert score(ordered, Answer(right), world).hl_success
        assert score(ordered, Answer(right[::-1]), world).failure_mode == "misidentified"  # out of order
        unordered = tasks["all_moved"]
        assert score(unordered, Answer(right[::-1]), world).hl_success  # any order will do there
        moved = {t.key for t in unordered.targets}
        stray = next(
            o
            for o in world.ledger.objects
            if f"object:{o.id}" not in moved and world.viewpoint(Target("object", o.id)) is not None
        )
        wrong = [right[0], Stop(world.viewpoint(Target("object", stray.id)))]
        result = score(unordered, Answer(wrong), world)
        assert not result.hl_success and result.failure_mode == "misidentified"
        assert result.stops[0]["hit"] is not None and result.stops[1]["hit"] is None
    finally:
        world.close()


def test_a_users_templates_file_runs(tiny_day: DayPaths, data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "version: 1\ntemplates:\n"
        "  - {id: where_from, category: room_visitation, goal: single, kind: room_of_nth, params: {end: source},\n"
        "     text: 'Where did the {ordinal} thing you tidied come from? Walk into that room.'}\n"
    )
    jobs = list_jobs([TINY], ["oracle_answer"], data_dir, templates=path)
    assert [j["task"]["id"] for j in jobs] == ["where_from"] and "tidied" in jobs[0]["task"]["text"]
    result = run_job(jobs[0])
    assert result["hl_success"] and result["category"] == "room_visitation"
