"""The planner agents' pieces: the day log cut to the model's context, and a high-level stop committed from memory
without driving (on a replayed tiny day, checked against the truth the way the scoring checks it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindpalace.agent.builder import build_perception, open_memory
from mindpalace.agent.runtime import AgentRuntime
from mindpalace.benchmarks.findingdory.agents import AGENTS, DayContext, Pose
from mindpalace.benchmarks.findingdory.day import DayPaths
from mindpalace.benchmarks.findingdory.ledger import Target
from mindpalace.benchmarks.findingdory.planner_agents import (
    BANK_DIR,
    BANK_FILE,
    Stops,
    agent_config,
    fit_to_context,
    replay_day,
    standing_start,
)
from mindpalace.benchmarks.findingdory.world import TruthWorld
from tests.benchmarks.findingdory.conftest import TINY


class WordCounter:
    """A test double of an LLM backend's tokenizer: one token per word (the real one needs the model loaded)."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_the_day_log_keeps_its_latest_whole_lines_within_the_budget() -> None:
    log = "\n".join(f"07:{i:02d} I saw: mug #{i} at (1.0, 2.0)" for i in range(50))  # 8 words a line
    kept, tokens, dropped = fit_to_context(log, WordCounter(), 70)  # type: ignore[arg-type]
    lines = kept.splitlines()
    assert lines[-1] == "07:49 I saw: mug #49 at (1.0, 2.0)" and len(lines) == 7  # 7 lines of 8 words + 1 each
    assert tokens == 63 and dropped == 400 - 63
    assert fit_to_context("a b c", WordCounter(), 70) == ("a b c", 3, 0)  # type: ignore[arg-type]


def test_every_agent_the_issue_names_is_registered() -> None:
    names = {"chance", "no_memory", "full_context", "oracle_memory", "oracle_answer"}
    names |= {"mindpalace", "karma", "3dmem", "mem4nav", "robomemory"}
    assert names <= set(AGENTS.names())
    assert not any(AGENTS.make(n).privileged for n in names - {"chance", "oracle_answer", "oracle_memory"})


@pytest.mark.slow
def test_a_high_level_stop_is_committed_from_memory_without_driving(tiny_day: DayPaths, tmp_path: Path) -> None:
    config = agent_config()
    info = replay_day(DayContext(TINY.key, tiny_day.recording, tmp_path), config)
    assert info["frames"] > 100 and (tmp_path / BANK_DIR / BANK_FILE).is_file()
    assert info["memory"]["path"] == str(tmp_path / BANK_DIR / BANK_FILE)
    assert replay_day(DayContext(TINY.key, tiny_day.recording, tmp_path), agent_config())["reused"]
    config = agent_config()
    config.memory.bank = str(tmp_path / BANK_DIR / BANK_FILE)
    memory = open_memory(config)
    world = TruthWorld(TINY, tiny_day)
    env, obs = standing_start(tiny_day.recording)
    try:
        runtime = AgentRuntime(env, memory, build_perception(config), obs)
        runtime.set_floor_plan(env.floor_plan())
        start = Pose.of(runtime.obs)
        room = next(r.name for r in world.ledger.rooms if not r.contains(start.x, start.y))
        stops = Stops(low_level=False)
        assert stops(runtime, "navigate_to", {"target": room}, None).success
        assert Pose.of(runtime.obs) == start  # nothing drove
        assert not stops(runtime, "pick", {"object": "mug"}, None).success  # a high-level answer only chooses places
        assert stops(runtime, "done", {}, None).data["final"]
        (stop,) = stops.stops
        assert stop.reached is None and stop.label == room
        assert world.check(Target("room", room), stop.pose).ok  # the committed pose is inside that room
    finally:
        memory.close()
        world.close()
