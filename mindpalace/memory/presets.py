"""Memory presets: the seed systems' memory designs on one implementation, selectable by name.

Each preset says which stores are kept and how working memory is bounded. What a preset leaves out
is not written at all, so a comparison between presets measures the design, not the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from mindpalace.memory.working import WorkingMemoryConfig


@dataclass(frozen=True)
class MemoryConfig:
    """Which stores a memory system keeps, and their bounds."""

    preset: str = "mindpalace"
    spatial: bool = True  # live 3D map: objects, occupancy, scene graph
    objects: bool = True  # long-term object records and their change history
    events: bool = True  # the timeline of what the agent did
    snapshots: bool = True  # images chosen by co-visibility (3D-Mem)
    frontier_snapshots: bool = True
    semantic: bool = True  # facts told or inferred, with validity intervals
    text_index: bool = True  # embeddings of events, facts and objects for search by meaning
    working: WorkingMemoryConfig = field(default_factory=lambda: WorkingMemoryConfig(capacity=256, policy="mem4nav"))
    working_kinds: tuple[str, ...] = ("state_change", "event", "fact", "observation")
    budget_items: int = 200_000  # forgetting keeps the bank under these
    budget_bytes: int = 150_000_000
    embedder: str = "minilm"  # a name in mindpalace.core.embedder.EMBEDDERS
    description: str = ""


PRESETS: dict[str, MemoryConfig] = {
    "mindpalace": MemoryConfig(description="all stores: spatial, objects, events, snapshots, facts, text index, working memory"),
    "karma": MemoryConfig(
        preset="karma",
        snapshots=False,
        frontier_snapshots=False,
        semantic=False,
        text_index=False,
        events=False,
        working=WorkingMemoryConfig(capacity=100, policy="lru"),
        working_kinds=("state_change",),
        description="KARMA: scene-graph long-term memory and a recency-capped short-term memory of moved objects "
        "(capacity 100); no snapshots, facts, timeline or text index",
    ),
    "3dmem": MemoryConfig(
        preset="3dmem",
        events=False,
        semantic=False,
        text_index=False,
        working=WorkingMemoryConfig(capacity=1, policy="fifo"),
        working_kinds=(),
        description="3D-Mem: snapshots chosen by co-visibility plus frontier snapshots over the spatial map; no "
        "timeline, facts, text index or working memory",
    ),
    "mem4nav": MemoryConfig(
        preset="mem4nav",
        snapshots=False,
        frontier_snapshots=False,
        semantic=False,
        events=False,
        working=WorkingMemoryConfig(capacity=128, policy="mem4nav", mem4nav_lambda=0.5, radius=3.0),
        working_kinds=("state_change", "observation"),
        description="Mem4Nav: octree + topological (rooms, frontiers) map, short-term memory K=128 with lambda=0.5 "
        "and a 3 m radius, long-term ANN memory of objects; no snapshots, facts or timeline",
    ),
    "robomemory": MemoryConfig(
        preset="robomemory",
        frontier_snapshots=False,
        description="RoboMemory: spatial, temporal (timeline), episodic (snapshots) and semantic stores, updated "
        "and queried in parallel; no frontier snapshots",
    ),
}


def preset(name: str, **overrides: object) -> MemoryConfig:
    """The named preset, with fields overridden."""
    if name not in PRESETS:
        raise ValueError(f"unknown memory preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    known = {f.name for f in fields(MemoryConfig)} - {"preset", "description"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"memory preset settings {unknown} do not exist; known: {', '.join(sorted(known))}")
    return replace(PRESETS[name], **overrides)  # type: ignore[arg-type]
