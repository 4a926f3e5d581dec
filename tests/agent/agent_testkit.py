"""Helpers for the agent tests that use the remembered-day world (see conftest.py)."""

from __future__ import annotations

from mindpalace.agent.builder import build_planner
from mindpalace.agent.config import AgentConfig
from mindpalace.agent.runtime import display_name
from mindpalace.agent.skills import run_skill
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


def world_state(world: World) -> dict[str, dict]:
    """What a test may change in the shared world and must put back (ground truth, for the check only): where each
    object rests ((furniture, "on" | "in"), or None while held), which parts are open, what the robot holds and
    what it found inside closed parts."""
    privileged = world.env.privileged
    resting = {o.id: privileged.object_location(o.id) for o in privileged.apartment.objects}
    return {
        "object": {i: (where[0], where[2]) if where else None for i, where in resting.items()},
        "open": {pid: is_open for pid, (_, is_open) in privileged.joint_states().items()},
        "robot": {"held": world.runtime.held},
        "enclosed": dict(world.runtime.enclosed),
    }


def put_back(world: World, memory_id: int, furniture: str) -> None:
    """Carry an object (by memory id) back onto the furniture it was on (by the simulator's name), with the skills."""
    runtime = world.runtime
    piece = next(p for p in world.env.privileged.apartment.furniture if p.name == furniture)
    home = runtime.memory_id_of(piece.id)
    assert home is not None, f"memory has no object for {furniture}"
    home_name = display_name(runtime.objects()[home])
    if runtime.held != memory_id:
        thing = display_name(runtime.objects()[memory_id])
        assert run_skill(runtime, "navigate_to", {"target": thing}).success
        assert run_skill(runtime, "pick", {"object": thing}).success
    assert run_skill(runtime, "navigate_to", {"target": home_name}).success
    placed = run_skill(runtime, "place", {"receptacle": home_name, "relation": "on"})
    assert placed.success, placed
