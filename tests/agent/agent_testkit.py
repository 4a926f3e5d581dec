"""Helpers for the agent tests that use the remembered-day world (see conftest.py)."""

from __future__ import annotations

from mindpalace.benchmarks.demo import World


def unique_objects(world: World, kind: str = "object") -> dict[str, int]:
    """Labels memory holds exactly one mapped thing of (of `kind`), with its memory id: from memory, not the simulator."""
    counts: dict[str, list[int]] = {}
    for obj in world.runtime.objects().values():
        if world.memory.spatial.scene.kind_of(obj) == kind:
            counts.setdefault(obj.label, []).append(obj.id)
    return {label: ids[0] for label, ids in counts.items() if len(ids) == 1}
