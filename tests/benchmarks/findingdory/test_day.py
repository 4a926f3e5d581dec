"""A recorded day: its files, its ledger, the same day again from the same seeds, and its replay into memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mindpalace.agent.runtime import AgentRuntime
from mindpalace.benchmarks.findingdory.clock import DayClock
from mindpalace.benchmarks.findingdory.day import DayPaths, record_day
from mindpalace.benchmarks.findingdory.ledger import Ledger
from mindpalace.benchmarks.findingdory.recording import Recording
from mindpalace.benchmarks.findingdory.replay import ReplayEnv, replay
from mindpalace.benchmarks.findingdory.templates import instantiate, load_templates
from mindpalace.core.config import Component
from mindpalace.memory.system import MemorySystem
from mindpalace.perception.pipeline import PerceptionConfig, PerceptionPipeline
from tests.benchmarks.findingdory.conftest import TINY

pytestmark = pytest.mark.slow


def test_a_day_keeps_its_recording_ledger_and_end_state(tiny_day: DayPaths) -> None:
    assert tiny_day.complete()
    ledger = Ledger.load(tiny_day.ledger)
    recording = Recording(tiny_day.recording)
    assert len(ledger.interactions) == 2 and any(i.goal.part is not None for i in ledger.interactions)
    assert len({ledger.piece(f).room for i in ledger.interactions for f in (i.source.furniture, i.goal.furniture)}) >= 2
    for first, second in zip(ledger.interactions, ledger.interactions[1:]):
        assert first.end_s <= second.start_s
    for interaction in ledger.interactions:
        moved = ledger.object(interaction.object)
        assert moved.first_spot == interaction.source and moved.final_spot == interaction.goal
        assert interaction.start_s <= interaction.source_span[1] <= interaction.goal_span[0] <= interaction.end_s
        assert moved.id in ledger.seen
    assert sum(ledger.time_in_room.values()) == pytest.approx(ledger.duration_s)
    assert ledger.start_room == ledger.rooms_visited[0] and set(ledger.time_in_room) == set(ledger.rooms_visited)
    last = recording.observation(len(recording) - 1)
    assert last.base_pose[0, 3] == pytest.approx(ledger.test_start[0]) and last.time_s == pytest.approx(ledger.duration_s)
    assert recording.meta.clock == DayClock.from_dict(ledger.clock) and last.time_of_day_s == pytest.approx(22 * 3600)
    info = json.loads(tiny_day.info.read_text())
    assert info["frames"] == len(recording) and info["recording_bytes"] > 0


def test_the_same_seeds_give_the_same_day_ledger_and_tasks(tiny_day: DayPaths, tmp_path: Path) -> None:
    again = DayPaths(tmp_path / "again")
    record_day(TINY, again.folder)
    assert json.loads(again.ledger.read_text()) == json.loads(tiny_day.ledger.read_text())
    first, second = (instantiate(load_templates(), Ledger.load(p.ledger), seed=5) for p in (tiny_day, again))
    assert [t.to_dict() for t in first] == [t.to_dict() for t in second] and first
    assert (again.recording / "steps.jsonl").read_text() == (tiny_day.recording / "steps.jsonl").read_text()
    for chunk in sorted(tiny_day.recording.glob("chunk_*.npz")):
        assert (again.recording / chunk.name).read_bytes() == chunk.read_bytes()


def test_a_replay_gives_memory_the_days_events_at_their_times_of_day(tiny_day: DayPaths, tmp_path: Path) -> None:
    ledger = Ledger.load(tiny_day.ledger)
    clock = DayClock.from_dict(ledger.clock)
    env = ReplayEnv(tiny_day.recording)
    obs, _ = env.reset()
    memory = MemorySystem.open(tmp_path / "bank.db", "mindpalace")
    pipeline = PerceptionPipeline(
        PerceptionConfig(segmenter=Component("ground_truth", {"kinds": ["object", "furniture", "part"]}))
    )
    runtime = AgentRuntime(env, memory, pipeline, obs)
    runtime.set_floor_plan(env.floor_plan())
    played = replay(runtime)
    assert played == len(env.recording) - 1 and runtime.stats.frames_dropped == 0
    events = sorted(memory.events.events_between(-1e9, 1e9, 10_000), key=lambda e: e.start_s)
    picks = [e for e in events if e.action == "pick" and e.success]
    places = [e for e in events if e.action == "place" and e.success]
    assert len(picks) == len(places) == len(ledger.interactions)
    for event, interaction in zip(picks, ledger.interactions):
        # The pick happens inside the interaction's source span; memory tells its time of day as the day's clock does.
        assert interaction.source_span[0] <= event.start_s <= interaction.source_span[1]
        assert memory.clock.at(event.start_s).time_of_day_s == pytest.approx(clock.time_of_day(event.start_s), abs=1.0)
    assert memory.clock.at(ledger.duration_s).time_of_day_s == pytest.approx(22 * 3600, abs=1.0)
    memory.close()
