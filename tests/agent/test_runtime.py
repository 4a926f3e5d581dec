"""AgentRuntime drops a frame perception or memory refuses, counts it, and goes on with the next one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mindpalace.agent.runtime import AgentRuntime
from mindpalace.core.actions import Look
from mindpalace.envs import make
from mindpalace.memory.system import MemorySystem
from mindpalace.perception.pipeline import PerceptionPipeline


@pytest.fixture
def runtime(tmp_path: Path):
    env = make("mindpalace/Household-v0", width=160, height=120, n_rooms=3)
    obs, _ = env.reset(seed=0)
    memory = MemorySystem.open(tmp_path / "bank.db")
    yield AgentRuntime(env, memory, PerceptionPipeline(), obs)
    memory.close()
    env.close()


def test_bad_frames_are_dropped_counted_and_leave_memory_as_it_was(runtime: AgentRuntime, caplog) -> None:
    obs = runtime.obs
    bad = [
        replace(obs, time_s=float("nan")),
        replace(obs, rgb=obs.rgb.astype(np.float32)),
        replace(obs, depth=obs.depth * 1000.0),
        replace(obs, base_pose=np.full((4, 4), np.nan)),
    ]
    before = (runtime.memory.stats(), runtime.memory.spatial.frames, len(runtime.memory.spatial.objects.objects))
    for frame in bad:
        assert runtime._perceive(frame) == []
    assert runtime.stats.frames_dropped == len(bad)
    assert (runtime.memory.stats(), runtime.memory.spatial.frames, len(runtime.memory.spatial.objects.objects)) == before
    assert caplog.text.count("dropped") == len(bad) and "time_s must be finite" in caplog.text
    runtime.step(Look(0.3, 0.3))  # the next good frame is filed
    assert runtime.memory.spatial.frames == before[1] + 1 and runtime.stats.frames_dropped == len(bad)


def test_listeners_given_at_the_start_hear_the_first_frame_and_filing_is_counted(tmp_path: Path) -> None:
    """A benchmark's ledger passed to the constructor is told of the first frame's new records too; every filed frame
    is counted with its time."""
    env = make("mindpalace/Household-v0", width=160, height=120, n_rooms=3)
    obs, _ = env.reset(seed=0)
    memory = MemorySystem.open(tmp_path / "bank.db")
    heard: list[tuple[float, list[str]]] = []
    try:
        runtime = AgentRuntime(
            env,
            memory,
            PerceptionPipeline(),
            obs,
            listeners=[lambda o, updates: heard.append((o.time_s, [u.kind for u in updates]))],
        )
        runtime.step(Look(0.3, 0.0))
    finally:
        memory.close()
        env.close()
    assert [t for t, _ in heard] == [obs.time_s, runtime.obs.time_s]
    assert "new" in heard[0][1]  # the first frame made records, and the listener saw them made
    assert runtime.stats.frames_filed == 2 and runtime.stats.filing_s > 0
