"""Helpers for the agent tests that use the remembered-day world (see conftest.py)."""

from __future__ import annotations

from mindpalace.agent.builder import build_planner
from mindpalace.agent.config import AgentConfig
from mindpalace.benchmarks.demo import World
from mindpalace.memory.local_reader import LocalReader
from mindpalace.planning.backends import LLMBackend
from mindpalace.planning.planner import Planner, PlannerConfig


def planner_for(world: World, backend: LLMBackend | None = None, **planner_config: object) -> Planner:
    """The world's planner as the builder makes it (the local model unless a backend is given)."""
    config = AgentConfig(planner=PlannerConfig(**planner_config))  # type: ignore[arg-type]
    return build_planner(config, LocalReader(world.memory), world.env.robot, backend)


def unique_objects(world: World, kind: str = "object") -> dict[str, int]:
    """Labels memory holds exactly one mapped thing of (of `kind`), with its memory id: from memory, not the simulator."""
    counts: dict[str, list[int]] = {}
    for obj in world.runtime.objects().values():
        if world.memory.spatial.scene.kind_of(obj) == kind:
            counts.setdefault(obj.label, []).append(obj.id)
    return {label: ids[0] for label, ids in counts.items() if len(ids) == 1}
