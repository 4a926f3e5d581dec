"""The typed agent config: which env, segmenter, memory, LLM and planner, and their budgets, in one place.

Loaded as defaults <- a YAML file <- `--set key=value` overrides (`mindpalace.core.config.load_config`).
Implementations are chosen by a `type` key and get the rest of their mapping as arguments:

    env: {type: mindpalace/Household-v0, n_rooms: 4}
    llm: {type: openai, model: qwen2.5-7b-instruct}
    perception: {segmenter: {type: open_vocab, model_path: /models/owlv2}}

Each implementation checks its own arguments when it is built (an unknown one is named, with the ones it
takes), so the defaults of an env, a segmenter or a backend live in that implementation, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mindpalace.agent.loop import EpisodeBudget
from mindpalace.agent.skills import SkillConfig
from mindpalace.core.config import Component, ConfigError
from mindpalace.perception.pipeline import PerceptionConfig
from mindpalace.planning.planner import PlannerConfig


def _household() -> Component:
    # An agent lives long in one env: no step limit worth the name.
    return Component("mindpalace/Household-v0", {"n_rooms": 4, "max_episode_steps": 1_000_000})


def _perception() -> PerceptionConfig:
    # Furniture and drawers are mapped too: they are what the robot navigates to, places on and opens.
    return PerceptionConfig(segmenter=Component("ground_truth", {"kinds": ["object", "furniture", "part"]}))


@dataclass
class MemoryBankConfig:
    preset: str = "mindpalace"  # a name in mindpalace.memory.presets.PRESETS
    bank: str = ""  # the bank file to open or continue; "" = a new bank in the run's output folder
    checkpoint_every_s: float = 30.0  # frame-clock seconds between saves of the live map (objects, occupancy, rooms)
    settings: dict[str, Any] = field(default_factory=dict)  # preset fields to override, e.g. {budget_items: 100000}


@dataclass
class AgentConfig:
    env: Component = field(default_factory=_household)
    seed: int = 0  # the env's seed (the household's apartment)
    perception: PerceptionConfig = field(default_factory=_perception)
    memory: MemoryBankConfig = field(default_factory=MemoryBankConfig)
    llm: Component = field(default_factory=lambda: Component("local"))
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    budget: EpisodeBudget = field(default_factory=lambda: EpisodeBudget(max_steps=8, max_wall_s=240.0))
    skills: SkillConfig = field(default_factory=SkillConfig)

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        if not self.memory.checkpoint_every_s > 0:
            raise ConfigError(f"memory.checkpoint_every_s must be > 0, got {self.memory.checkpoint_every_s}")
