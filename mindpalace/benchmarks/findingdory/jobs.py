"""The suite as independent jobs for a runner: one (agent, day, task) each, JSON in, a result dict out (benchmark side).

    days = days_for(count=10, seed=0)                    # day i: apartment and day seed S + i
    for spec in days:
        prepare_day(spec, data_dir)                      # records the day once (idempotent; days may run in parallel)
    jobs = list_jobs(days, ["chance", "oracle_answer"], data_dir, low_level_agents=["oracle_answer"])
    result = run_job(jobs[0])                            # any process, any order: each job is self-contained

A job dict holds the agent's name, the day's spec, the task (its text and, benchmark side, its targets), the
seed, whether it drives (low level) and the data folder. `run_job` gives the agent only the instruction and the
day's recording (privileged baselines also get the truth), scores its answer and returns a flat result:
HL/LL success and SPL, the failure mode, tokens and seconds, the category, and the chance of the task.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from pathlib import Path
from typing import Any

from mindpalace.benchmarks.findingdory.agents import AGENTS, Answer, DayContext, TaskContext
from mindpalace.benchmarks.findingdory.baselines import Oracle
from mindpalace.benchmarks.findingdory.day import DayPaths, DaySpec, record_day
from mindpalace.benchmarks.findingdory.ledger import Ledger
from mindpalace.benchmarks.findingdory.scoring import chance_rate, score
from mindpalace.benchmarks.findingdory.templates import Task, Template, instantiate, load_templates
from mindpalace.benchmarks.findingdory.world import TestEnv, TruthWorld

log = logging.getLogger(__name__)

SUITE = "findingdory"


def days_for(count: int, seed: int = 0, **spec: Any) -> list[DaySpec]:
    """`count` days; day i uses seed + i for both its apartment and its day (`spec` overrides DaySpec's defaults)."""
    if count < 1:
        raise ValueError(f"at least one day, got {count}")
    return [DaySpec(apartment_seed=seed + i, day_seed=seed + i, **spec) for i in range(count)]


def day_paths(spec: DaySpec, data_dir: Path | str) -> DayPaths:
    return DayPaths(Path(data_dir) / "days" / spec.key)


def prepare_day(spec: DaySpec, data_dir: Path | str) -> DayPaths:
    """Record the day if it is not on disk yet, and find a viewpoint for everything in it (FindingDory's oracle
    solution); both are done once and kept. Safe to run for different days in parallel."""
    paths = day_paths(spec, data_dir)
    if not paths.complete():
        record_day(spec, paths.folder)
    if not paths.viewpoints.is_file():
        world = TruthWorld(spec, paths)
        try:
            partial = paths.viewpoints.with_suffix(".partial")
            partial.write_text(json.dumps(world.all_viewpoints()))
            partial.replace(paths.viewpoints)
        finally:
            world.close()
    return paths


def day_tasks(
    spec: DaySpec, data_dir: Path | str, templates: Path | str | list[Template] | None = None, seed: int = 0
) -> list[Task]:
    """The tasks of a prepared day that can be solved at all: a single goal needs one target that some pose shows,
    a multi-goal task needs every target seen from some pose. `templates`: a file, loaded templates, or the shipped."""
    paths = day_paths(spec, data_dir)
    if not paths.complete() or not paths.viewpoints.is_file():
        raise FileNotFoundError(f"day {spec.key} is not prepared in {data_dir}: run prepare_day first")
    ledger = Ledger.load(paths.ledger)
    viewpoints = json.loads(paths.viewpoints.read_text())
    tasks = []
    loaded = templates if isinstance(templates, list) else load_templates(templates)
    for task in instantiate(loaded, ledger, seed):
        seen = [viewpoints.get(t.key) is not None for t in task.targets]
        if any(seen) if task.goal == "single" else all(seen):
            tasks.append(task)
        else:
            log.info("day %s: %s left out: a target no pose can see", spec.key, task.id)
    return tasks


def list_jobs(
    days: list[DaySpec],
    agents: list[str],
    data_dir: Path | str,
    templates: Path | str | None = None,
    seed: int = 0,
    low_level_agents: list[str] | tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Every (agent, day, task) job, as JSON-ready dicts with a unique "id"; the days must be prepared."""
    for name in agents:
        AGENTS.entry(name)  # an unknown agent is named now, with the known ones
    jobs = []
    for spec in days:
        for task in day_tasks(spec, data_dir, templates, seed):
            for name in agents:
                jobs.append(
                    {
                        "id": f"{name}/{spec.key}/{task.id}",
                        "suite": SUITE,
                        "agent": name,
                        "day": spec.to_dict(),
                        "task": task.to_dict(),
                        "seed": seed,
                        "low_level": name in low_level_agents,
                        "data_dir": str(data_dir),
                    }
                )
    return jobs


def agent_dir(data_dir: Path | str, agent: str, spec: DaySpec) -> Path:
    """An agent's own folder for a day (its replayed bank): shared by that day's tasks."""
    return Path(data_dir) / "agents" / agent / spec.key


def prepare_agent_day(agent: str, spec: DaySpec, data_dir: Path | str, config: tuple[str, ...] = ()) -> dict[str, Any]:
    """Let an agent that prepares days (a replay into its memory) prepare this one; a no-op for the others."""
    made = AGENTS.make(agent)
    if not made.prepares_day:
        return {}
    paths = day_paths(spec, data_dir)
    started = time.perf_counter()
    info = made.prepare(DayContext(spec.key, paths.recording, agent_dir(data_dir, agent, spec), tuple(config)))
    return {**info, "seconds": round(time.perf_counter() - started, 3)}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job and score it; an agent that raises gets an invalid answer (its error in the notes), not a crash."""
    spec = DaySpec.from_dict(job["day"])
    task = Task.from_dict(job["task"])
    data_dir = Path(job["data_dir"])
    paths = day_paths(spec, data_dir)
    agent = AGENTS.make(job["agent"])
    world = TruthWorld(spec, paths)
    live: list[TestEnv] = []

    def open_live() -> tuple[TestEnv, Any]:
        if not live:
            live.append(world.open_live())
        return live[0], live[0].obs

    try:
        if job["low_level"]:
            open_live()
        context = TaskContext(
            instruction=task.text,
            day=spec.key,
            recording=paths.recording,
            work_dir=agent_dir(data_dir, job["agent"], spec),
            test_start=world.start,
            low_level=bool(job["low_level"]),
            seed=int(job["seed"]),
            open_live=open_live if job["low_level"] else None,
            config=tuple(job.get("config", ())),
        )
        context.work_dir.mkdir(parents=True, exist_ok=True)
        oracle = Oracle(task, world, live[0] if live else None) if agent.privileged else None
        started = time.perf_counter()
        try:
            answer = agent.answer(context, oracle)
        except Exception as error:  # an agent's bug costs its task, not the run
            log.exception("agent %s failed on %s", job["agent"], job["id"])
            answer = Answer(error=f"the agent raised {type(error).__name__}: {error}", notes=[traceback.format_exc(limit=5)])
        seconds = time.perf_counter() - started
        result = score(task, answer, world, live[0] if job["low_level"] else None)
        ledger = world.ledger
    finally:
        for env in live:
            env.close()
        world.close()
    return {
        "id": job["id"],
        "suite": SUITE,
        "agent": job["agent"],
        "day": spec.key,
        "task_id": task.id,
        "category": task.category,
        "kind": task.kind,
        "goal": task.goal,
        "instruction": task.text,
        "targets": [t.key for t in task.targets],
        **result.to_dict(),
        "tokens": answer.tokens,
        "seconds": round(seconds, 3),
        "chance": chance_rate(task, ledger),
        "error": answer.error,
        "notes": answer.notes,
    }
