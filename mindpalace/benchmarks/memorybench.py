"""The MemoryBench-style suite on the tabletop: agents x tasks x variations x evaluation seeds x episodes.

Every (agent, task, variation, seed, episode) is one `Job`: independent, seeded, JSON-serialisable, run by
`run_job(job, options)` into a JSON-ready result dict. `MemoryBenchSuite` hands them to the generic runner
(`mindpalace bench memorybench`: processes or Ray, resumable), which writes `summary.json`:
{"agents": {NAME: {TASK: {"success_mean", "success_std", "episodes", "by_variation"}}}}, mean and standard
deviation over evaluation seeds of each seed's success fraction.

Agents: `oracle` (the scripted key-pose demonstrator), `chance` (the oracle guessing the memory-dependent
choice), `no_memory` (the planner rebuilt from the current observation at every decision: no memory, no
plan history), the memory presets by name (`mindpalace`, `karma`, `3dmem`, `mem4nav`, `robomemory`: the
planner with that memory), and `policy:module:attr` (a learned policy through `mindpalace.benchmarks.policy`).
The benchmark side alone reads the env's privileged state (the success rule); agent code never does.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mindpalace.agent.builder import build_backend, build_planner
from mindpalace.agent.config import AgentConfig
from mindpalace.agent.loop import EpisodeBudget, run_episode
from mindpalace.agent.runtime import AgentRuntime
from mindpalace.agent.tabletop_oracle import run_oracle
from mindpalace.benchmarks.report import BarChart, ReportItem, Table
from mindpalace.benchmarks.suite import Options, Record, Result, Suite
from mindpalace.core.config import Component, load_config
from mindpalace.core.embedder import EMBEDDERS, Embedder
from mindpalace.envs import make
from mindpalace.envs.tabletop.tasks import TASKS
from mindpalace.memory.local_reader import LocalReader
from mindpalace.memory.presets import PRESETS
from mindpalace.memory.system import MemorySystem
from mindpalace.perception.pipeline import PerceptionPipeline
from mindpalace.planning.backends import LLMBackend

log = logging.getLogger(__name__)

ENV_ID = "mindpalace/Tabletop-v0"
TASK_NAMES = tuple(TASKS)
BASELINES = ("oracle", "chance", "no_memory")
AGENTS = (*BASELINES, *PRESETS)

# MemoryBench's published success (SAM2Act, ICML 2025; RLBench in CoppeliaSim, 25 test episodes per task):
# another simulator, shown side by side, not compared like for like.
PUBLISHED = {
    "SAM2Act+": {"reopen_drawer": 0.84, "put_block_back": 1.00, "rearrange_block": 0.99, "mean": 0.943},
    "SAM2Act": {"mean": 0.55},
    "RVT-2": {"mean": 0.54},
    "chance": {name: spec.chance for name, spec in TASKS.items()},
}


@dataclass(frozen=True)
class Job:
    """One episode of the suite. `seed` is the evaluation seed; the episode's nuisance seed derives from all fields
    but the agent and the variation, so every agent meets the same episodes and the variations of an episode
    index share their nuisance (the memory-dependence invariant holds between them)."""

    agent: str
    task: str
    variation: int
    seed: int
    episode: int

    @property
    def key(self) -> str:
        return f"{self.agent}/{self.task}/v{self.variation}/s{self.seed}/e{self.episode}"

    @property
    def episode_seed(self) -> int:
        return zlib.crc32(f"{self.task}/{self.seed}/{self.episode}".encode()) & 0x7FFFFFFF

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Job:
        return Job(str(data["agent"]), str(data["task"]), int(data["variation"]), int(data["seed"]), int(data["episode"]))


def make_jobs(agents: list[str], tasks: list[str], episodes: int, seeds: list[int]) -> list[Job]:
    """Every agent on every task: `episodes` per evaluation seed, variations in turn (episode e has e % n)."""
    for agent in agents:
        check_agent(agent)
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    if episodes < 1 or not seeds:
        raise ValueError("need at least one episode and one seed")
    return [
        Job(agent, task, episode % TASKS[task].variations, seed, episode)
        for agent in agents
        for task in tasks
        for seed in seeds
        for episode in range(episodes)
    ]


def check_agent(agent: str) -> None:
    if agent in AGENTS or agent.startswith("policy:"):
        return
    raise ValueError(f"unknown agent {agent!r}; known: {', '.join(AGENTS)}, or policy:module:attr")


@dataclass
class SuiteOptions:
    """What every job of a run shares: the env's image size and the planner agents' config."""

    width: int = 128
    height: int = 128
    agent: AgentConfig = field(default_factory=lambda: tabletop_agent_config())


def tabletop_agent_config(overrides: list[str] | None = None) -> AgentConfig:
    """The planner agents' config on the tabletop: the defaults, then `overrides` ("key=value", as `--set`).

    A 4 cm block covers about 25 pixels of a 128x128 view: perception keeps segments from 6 pixels. The env
    section is not used: the suite makes and resets the env itself (the variation stays on the benchmark side).
    """
    defaults = ["perception.min_pixels=6", "budget.max_steps=10", "budget.max_wall_s=900"]
    config = load_config(AgentConfig, None, defaults + list(overrides or []))
    config.env = Component(ENV_ID, {})
    return config


class _Shared:
    """Models loaded once per process and shared by every job: the text embedder and the LLM backend (one per
    backend config, so that jobs of another config in the same process get their own)."""

    embedder: Embedder | None = None
    backends: ClassVar[dict[str, LLMBackend]] = {}


def _embedder() -> Embedder:
    if _Shared.embedder is None:
        _Shared.embedder = EMBEDDERS.make("minilm")
    return _Shared.embedder


def _backend(config: AgentConfig) -> LLMBackend:
    if config.llm.type == "scripted":
        return build_backend(config)  # a test double's script starts over with every episode
    key = json.dumps([config.llm.type, config.llm.args], sort_keys=True, default=str)
    if key not in _Shared.backends:
        _Shared.backends[key] = build_backend(config)
    return _Shared.backends[key]


def run_job(job: Job | dict[str, Any], options: SuiteOptions | None = None) -> dict[str, Any]:
    """Run one episode; a JSON-ready result: the job's fields, success, steps, wall time, why it ended."""
    job = Job.from_dict(job) if isinstance(job, dict) else job
    options = options or SuiteOptions()
    started = time.perf_counter()
    env = make(ENV_ID, width=options.width, height=options.height)
    try:
        obs, info = env.reset(seed=job.episode_seed, options={"task": job.task, "variation": job.variation})
        if job.agent in ("oracle", "chance"):
            guess = np.random.default_rng([job.episode_seed, 31]) if job.agent == "chance" else None
            result = run_oracle(env, obs, guess=guess)
            steps, reason = result.key_poses, "; ".join(result.failures) or "scripted"
        elif job.agent.startswith("policy:"):
            from mindpalace.benchmarks.policy import load_policy, run_policy

            steps, reason = run_policy(env, obs, info["instruction"], load_policy(job.agent.removeprefix("policy:")))
        elif job.agent == "no_memory":
            steps, reason = _run_without_memory(env, obs, info["instruction"], options.agent)
        else:
            steps, reason = _run_planner(env, obs, info["instruction"], job.agent, options.agent)
        success = bool(env.privileged.success)  # the benchmark's side: the task's success rule on ground truth
    finally:
        env.close()
    return {
        **job.to_dict(),
        "success": success,
        "steps": steps,
        "reason": reason,
        "wall_s": round(time.perf_counter() - started, 2),
    }


def _memory(preset: str) -> tuple[MemorySystem, tempfile.TemporaryDirectory]:
    folder = tempfile.TemporaryDirectory(prefix="memorybench-")
    return MemorySystem.open(Path(folder.name) / "bank.db", preset, embedder=_embedder()), folder


def _pipeline(config: AgentConfig) -> PerceptionPipeline:
    return PerceptionPipeline(config.perception, embedder=_embedder())


def _run_planner(env: Any, obs: Any, instruction: str, preset: str, config: AgentConfig) -> tuple[int, str]:
    """The lead's agent on this body: runtime (perception into memory), planner over memory's read-only tools."""
    memory, folder = _memory(preset)
    try:
        runtime = AgentRuntime(env, memory, _pipeline(config), obs)
        planner = build_planner(config, LocalReader(memory), env.robot, _backend(config))
        record = run_episode(
            runtime,
            planner,
            instruction,
            budget=config.budget,
            planner_name=f"{config.llm.type}/{config.planner.mode}",
            skill_config=config.skills,
        )
        calls = "; ".join(
            f"{s.skill}({', '.join(map(str, s.arguments.values()))}){'' if s.success else ' failed'}" for s in record.steps
        )
        return len(record.steps), f"{record.reason}: {calls}"
    finally:
        memory.close()
        folder.cleanup()


def _run_without_memory(env: Any, obs: Any, instruction: str, config: AgentConfig) -> tuple[int, str]:
    """The same planner, rebuilt from the current observation before every decision: a fresh memory that has seen
    this step's frames only, no plan history, no critic or loop-guard state. What the hand holds it knows from
    proprioception (fingers closed on something), not from remembering the pick."""
    steps, reason = 0, "step budget"
    single = EpisodeBudget(max_steps=1, max_tokens=config.budget.max_tokens, max_wall_s=config.budget.max_wall_s)
    for _ in range(config.budget.max_steps):
        memory, folder = _memory("mindpalace")
        try:
            runtime = AgentRuntime(env, memory, _pipeline(config), obs)
            if not obs.extras.get("gripper_open", True) and obs.extras.get("gripper_width", 0.0) > 0.01:
                runtime.held = 0  # something, memory knows not what
            planner = build_planner(config, LocalReader(memory), env.robot, _backend(config))
            record = run_episode(runtime, planner, instruction, budget=single, skill_config=config.skills)
            obs = runtime.obs
        finally:
            memory.close()
            folder.cleanup()
        steps += len(record.steps)
        if record.reason in ("done", "answered") or not record.steps:
            reason = record.reason
            break
    return steps, reason


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Success per agent and task: mean and standard deviation (population) over seeds of each seed's fraction."""
    agents: dict[str, dict[str, Any]] = {}
    for agent in sorted({r["agent"] for r in results}):
        agents[agent] = {}
        for task in [t for t in TASK_NAMES if any(r["agent"] == agent and r["task"] == t for r in results)]:
            rows = [r for r in results if r["agent"] == agent and r["task"] == task]
            per_seed = [np.mean([r["success"] for r in rows if r["seed"] == seed]) for seed in sorted({r["seed"] for r in rows})]
            by_variation = {
                str(v): round(float(np.mean([r["success"] for r in rows if r["variation"] == v])), 4)
                for v in sorted({r["variation"] for r in rows})
            }
            agents[agent][task] = {
                "success_mean": round(float(np.mean(per_seed)), 4),
                "success_std": round(float(np.std(per_seed)), 4),
                "episodes": len(rows),
                "by_variation": by_variation,
                "chance": round(TASKS[task].chance, 4),
            }
    return {"agents": agents, "published": PUBLISHED, "simulator": "mindpalace/Tabletop-v0 (MuJoCo), not RLBench"}


class MemoryBenchSuite(Suite):
    """`mindpalace bench memorybench`: the jobs above through the generic runner (processes or Ray, resumable)."""

    name = "memorybench"
    description = (
        "MemoryBench's three memory tasks (reopen_drawer, put_block_back, rearrange_block) on the MuJoCo tabletop, "
        "per agent: success per task, mean and std over evaluation seeds, beside MemoryBench's published figures."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--agents",
            default="oracle,chance,no_memory,mindpalace",
            help="comma separated: oracle, chance, no_memory, a memory preset (mindpalace, karma, 3dmem, mem4nav, "
            "robomemory), or policy:module:attr",
        )
        parser.add_argument("--tasks", default=",".join(TASK_NAMES))
        parser.add_argument("--episodes", type=int, default=25, help="episodes per task and evaluation seed")
        parser.add_argument("--seeds", type=int, default=3, help="evaluation seeds (from --seed on)")
        parser.add_argument("--seed", type=int, default=0, help="the first evaluation seed: it picks the episodes")
        parser.add_argument("--width", type=int, default=128)
        parser.add_argument("--height", type=int, default=128)
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="planner agents' config override")

    def options(self, args: argparse.Namespace) -> Options:
        agents, tasks = _names(args.agents), _names(args.tasks)
        for agent in agents:
            check_agent(agent)
        unknown = sorted(set(tasks) - set(TASK_NAMES))
        if unknown or not tasks:
            raise ValueError(f"unknown tasks {unknown}; known: {', '.join(TASK_NAMES)}")
        if args.episodes < 1 or args.seeds < 1 or args.seed < 0:
            raise ValueError("--episodes and --seeds must be >= 1 and --seed >= 0")
        if not (16 <= args.width <= 1024 and 16 <= args.height <= 1024):
            raise ValueError("--width and --height must be 16 to 1024")
        tabletop_agent_config(args.set)  # a bad override is refused before any job runs
        seeds = list(range(args.seed, args.seed + args.seeds))
        return {"agents": agents, "tasks": tasks, "episodes": args.episodes, "seeds": seeds,
                "width": args.width, "height": args.height, "set": list(args.set)}  # fmt: skip

    def jobs(self, options: Options, done: Mapping[str, Result]) -> list[dict[str, Any]]:
        jobs = make_jobs(options["agents"], options["tasks"], options["episodes"], options["seeds"])
        return [{"key": job.key, **job.to_dict()} for job in jobs]

    def run(self, job: dict[str, Any], options: Options, out_dir: Path) -> Result:
        suite_options = SuiteOptions(options["width"], options["height"], tabletop_agent_config(options["set"]))
        return run_job({k: v for k, v in job.items() if k != "key"}, suite_options)

    def summarize(self, options: Options, records: Sequence[Record]) -> dict[str, Any]:
        # A job that failed to run (an error, a crashed worker) counts as a failed episode, not as a missing one.
        results = [r.result if r.ok and r.result else {**r.job, "success": False} for r in records]
        return summarize(results)

    def report(self, summary: Mapping[str, Any], records: Sequence[Record]) -> list[ReportItem]:
        agents = summary["agents"]
        rows = [
            [agent, *(f"{100 * tasks[t]['success_mean']:.0f} +- {100 * tasks[t]['success_std']:.0f}% ({tasks[t]['episodes']})"
                      if t in tasks else "-" for t in TASK_NAMES)]
            for agent, tasks in agents.items()
        ]  # fmt: skip
        published = [
            [f"{name} (MemoryBench, RLBench)", *(f"{100 * figures[t]:.0f}%" if t in figures else "-" for t in TASK_NAMES)]
            for name, figures in PUBLISHED.items()
        ]
        means = {agent: {t: tasks[t]["success_mean"] for t in TASK_NAMES if t in tasks} for agent, tasks in agents.items()}
        stds = {agent: {t: tasks[t]["success_std"] for t in TASK_NAMES if t in tasks} for agent, tasks in agents.items()}
        return [
            Table("Success per task (mean +- std over evaluation seeds, episodes)", ["agent", *TASK_NAMES], rows),
            Table(
                "MemoryBench's published success",
                ["agent", *TASK_NAMES],
                published,
                note=f"Another simulator: {summary['simulator']}. Shown beside ours, not compared like for like.",
            ),
            BarChart("Success per task", means, "success", errors=stds, ylim=(0.0, 1.05)),
        ]


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]
