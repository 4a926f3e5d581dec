"""The one place that assembles a working agent from an `AgentConfig`: env, perception, memory, planner.

    config = load_config(AgentConfig, "configs/agent.yaml", ["llm.type=openai"])
    agent = build_agent(config, Path("runs/x"))
    record = agent.run("Where did you put the mug?")
    agent.close()

`demo`, `run`, the benchmarks and the ROS 2 nodes build their agents (or the parts they need) here. A memory
bank is opened or created, never removed: a bank that exists is continued, with its live map.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindpalace.agent.config import AgentConfig
from mindpalace.agent.episode import EpisodeRecord, StepRecord
from mindpalace.agent.loop import Checker, run_episode
from mindpalace.agent.runtime import AgentRuntime
from mindpalace.agent.skills import skills_for
from mindpalace.core.config import Component, ConfigError, to_dict
from mindpalace.core.embedder import Embedder
from mindpalace.core.env import Env, floor_plan_of
from mindpalace.core.registry import Registry, RegistryError
from mindpalace.core.robot import RobotDescription
from mindpalace.core.types import Observation
from mindpalace.envs import ENVS
from mindpalace.memory.bank import Bank
from mindpalace.memory.local_reader import LocalReader
from mindpalace.memory.presets import preset
from mindpalace.memory.reader import MemoryReader
from mindpalace.memory.spatial.objects import ObjectUpdate
from mindpalace.memory.system import MemorySystem
from mindpalace.perception.pipeline import PerceptionPipeline
from mindpalace.perception.segmenters import SEGMENTERS
from mindpalace.planning.backends import LLM_BACKENDS, LLMBackend
from mindpalace.planning.planner import Planner

log = logging.getLogger(__name__)

WORLD_META_KEY = "world"  # the bank's record of the env and seed it was built in


class BuildError(ValueError):
    """A config that names something unknown or gives an implementation arguments it does not take."""


def check_config(config: AgentConfig) -> None:
    """Every name and argument the config gives, checked before anything is built or written.

    Raises `BuildError` naming the section, the unknown name or argument, and the known ones.
    """
    checks: list[tuple[str, Registry[Any], Component]] = [
        ("env", ENVS, config.env),
        ("perception.segmenter", SEGMENTERS, config.perception.segmenter),
        ("llm", LLM_BACKENDS, config.llm),
    ]
    for section, registry, component in checks:
        try:
            registry.check(component.type, **component.args)
        except RegistryError as error:
            raise BuildError(f"{section}: {error}") from error
    try:
        preset(config.memory.preset, **config.memory.settings)
    except ValueError as error:
        raise BuildError(f"memory: {error}") from error


def build_env(config: AgentConfig) -> tuple[Env, Observation]:
    """The env named by `config.env`, reset with `config.seed`."""
    try:
        env = ENVS.make(config.env.type, **config.env.args)
    except (RegistryError, ConfigError, TypeError, ValueError) as error:
        raise BuildError(f"env: {error}") from error
    obs, _ = env.reset(seed=config.seed)
    return env, obs


def build_perception(config: AgentConfig, embedder: Embedder | None = None) -> PerceptionPipeline:
    """The perception pipeline; `embedder` shares a loaded text model (else the pipeline loads its own)."""
    try:
        return PerceptionPipeline(config.perception, embedder=embedder)
    except (RegistryError, TypeError, ValueError) as error:
        raise BuildError(f"perception.segmenter: {error}") from error


def new_bank_path(out_dir: Path) -> Path:
    """A bank file under `out_dir/banks/` that does not exist yet (named by the time it was made)."""
    folder = out_dir / "banks"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}.db"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{stamp}-{counter}.db"
    return path


def open_memory(config: AgentConfig, out_dir: Path | None = None, embedder: Embedder | None = None) -> MemorySystem:
    """Open `config.memory.bank` (continuing it if it exists) or a new bank under `out_dir`; never removes one.

    `embedder` shares a loaded text model (else memory loads the preset's when it first needs one)."""
    if config.memory.bank:
        path = Path(config.memory.bank)
    elif out_dir is not None:
        path = new_bank_path(out_dir)
    else:
        raise BuildError("memory.bank is empty and there is no output folder to make a new bank in")
    try:
        memory = MemorySystem.open(
            path,
            config.memory.preset,
            checkpoint_every_s=config.memory.checkpoint_every_s,
            embedder=embedder,
            **config.memory.settings,
        )
    except (TypeError, ValueError) as error:
        raise BuildError(f"memory: {error}") from error
    return memory


def recorded_world(memory: MemorySystem) -> dict[str, Any] | None:
    """The env and seed a bank was built in, as the builder wrote them when it made the bank."""
    raw = memory.bank.meta().get(WORLD_META_KEY)
    return json.loads(raw) if raw else None


def recorded_world_of(path: Path) -> dict[str, Any] | None:
    """The env and seed the bank at `path` was built in, read without opening its stores."""
    bank = Bank(path, create=False, readonly=True)
    try:
        raw = bank.meta().get(WORLD_META_KEY)
    finally:
        bank.close()
    return json.loads(raw) if raw else None


def build_backend(config: AgentConfig) -> LLMBackend:
    try:
        return LLM_BACKENDS.make(config.llm.type, **config.llm.args)
    except (RegistryError, TypeError, ValueError) as error:
        raise BuildError(f"llm: {error}") from error


def build_planner(
    config: AgentConfig, memory: MemoryReader, robot: RobotDescription, backend: LLMBackend | None = None
) -> Planner:
    """The planner over a read-only view of memory, offered the skills this robot has."""
    skills = {name: skill.schema() for name, skill in skills_for(robot).items()}
    return Planner(backend or build_backend(config), memory, skills, config.planner)


@dataclass
class Agent:
    """One robot: its env, perception, memory, planner, and the runtime that ties them together."""

    config: AgentConfig
    env: Env
    memory: MemorySystem
    runtime: AgentRuntime
    planner: Planner

    @property
    def planner_name(self) -> str:
        return f"{self.config.llm.type}/{self.config.planner.mode}"

    def run(
        self, task: str, *, checker: Checker | None = None, progress: Callable[[StepRecord], None] | None = None
    ) -> EpisodeRecord:
        """Carry out one instruction; `checker` (privileged, benchmark side) judges success, else the planner's `done`."""
        return run_episode(
            self.runtime,
            self.planner,
            task,
            budget=self.config.budget,
            seed=self.config.seed,
            planner_name=self.planner_name,
            checker=checker,
            skill_config=self.config.skills,
            progress=progress,
        )

    def close(self) -> None:
        self.memory.close()
        self.env.close()


def build_agent(
    config: AgentConfig,
    out_dir: Path | None = None,
    *,
    backend: LLMBackend | None = None,
    listeners: Sequence[Callable[[Observation, list[ObjectUpdate]], None]] = (),
) -> Agent:
    """Env, perception, memory (opened or created), runtime and planner, from one config.

    `listeners` are told what every frame did to the map, from the first (which the runtime perceives as it is
    built: a listener added afterwards misses it).

    The env's floor plan (room names, as a person gives them), where it has one, is handed to memory. A bank
    built in another env or seed is continued with a warning: its map describes another place.
    """
    check_config(config)
    backend = backend or build_backend(config)
    env, obs = build_env(config)
    try:
        pipeline = build_perception(config)
        memory = open_memory(config, out_dir)
    except BuildError:
        env.close()
        raise
    world = {"env": to_dict(config.env), "seed": config.seed}
    recorded = recorded_world(memory)
    if recorded is None:
        memory.bank.set_meta(WORLD_META_KEY, json.dumps(world, sort_keys=True))
    elif recorded != json.loads(json.dumps(world, sort_keys=True)):
        log.warning("%s was built in %s; continuing it in %s", memory.bank.path, recorded, world)
    try:
        runtime = AgentRuntime(env, memory, pipeline, obs, listeners=listeners)
        plan = floor_plan_of(env)
        if plan:
            runtime.set_floor_plan(plan)
        planner = build_planner(config, LocalReader(memory), env.robot, backend)
    except BaseException:
        memory.close()
        env.close()
        raise
    return Agent(config, env, memory, runtime, planner)
