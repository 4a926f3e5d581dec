"""The agent on a second body: the minimal rover (fixed camera, pick and place only, its own size and reach).

Nothing here imports the household: the builder, runtime, skills, affordances and loop must work from the
robot description and the Env protocol alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from minimal_env import FURNITURE, ROVER, MinimalEnv

from mindpalace.agent.affordances import propose
from mindpalace.agent.builder import Agent, build_agent
from mindpalace.agent.config import AgentConfig
from mindpalace.agent.runtime import display_name
from mindpalace.agent.skills import SKILLS, SkillConfig, Target, resolve_target, run_skill, skills_for
from mindpalace.core.actions import Look, Pick
from mindpalace.core.config import Component
from mindpalace.core.env import Env
from mindpalace.envs import ENVS

ENV_ID = "test/MinimalRover-v0"
if ENV_ID not in ENVS.names():
    ENVS.register(ENV_ID, "minimal_env:MinimalEnv", description="the agent tests' second embodiment")

SCRIPT = [
    "look_around()",
    'navigate_to(target="table")',  # the mug is too small to map from the start; it is on the table
    'pick(object="mug")',
    'navigate_to(target="desk")',
    'place(receptacle="desk", relation="on")',
    "done()",
]


def rover_agent(out_dir: Path, replies: list[str], listeners: Sequence[Callable[..., None]] = ()) -> Agent:
    config = AgentConfig(
        env=Component(ENV_ID),
        llm=Component("scripted", {"replies": replies}),
    )
    config.planner.mode = "generate"
    config.planner.max_tool_calls = 0
    return build_agent(config, out_dir, listeners=listeners)


def test_a_listener_given_to_the_builder_hears_the_first_frame(tmp_path: Path) -> None:
    heard: list[float] = []
    agent = rover_agent(tmp_path, ["done()"], listeners=[lambda obs, updates: heard.append(obs.time_s)])
    try:
        assert heard == [agent.runtime.obs.time_s]  # the frame the runtime perceived as it was built
    finally:
        agent.close()


class Recorder:
    """Wraps the rover to see every action that reaches it."""

    def __init__(self, env: MinimalEnv) -> None:
        self.env, self.actions = env, []

    def __getattr__(self, name: str):
        return getattr(self.env, name)

    def step(self, action):
        self.actions.append(action)
        return self.env.step(action)


def test_the_rover_is_an_env_and_offers_only_what_its_body_can_do() -> None:
    assert isinstance(MinimalEnv(), Env)
    assert set(skills_for(ROVER)) == set(SKILLS) - {"open", "close", "press"}


def test_an_agent_for_the_rover_puts_the_mug_on_the_desk(tmp_path: Path) -> None:
    agent = rover_agent(tmp_path, SCRIPT)
    try:
        assert agent.env.robot is ROVER and agent.runtime.robot is ROVER
        assert "open" not in agent.planner.functions and "navigate_to" in agent.planner.functions
        recorder = Recorder(agent.env)  # type: ignore[arg-type]
        agent.runtime.env = recorder
        record = agent.run("Put the mug on the desk.")
        assert [s.skill for s in record.steps] == ["look_around", "navigate_to", "pick", "navigate_to", "place", "done"]
        assert all(s.success for s in record.steps), [(s.skill, s.message) for s in record.steps]
        # The rover has no head: looking around turned the base, and no Look ever reached the env.
        assert not any(isinstance(a, Look) for a in recorder.actions)
        env = agent.env
        mug = env.positions[20]
        desk = next(f for f in FURNITURE if f.label == "desk")
        assert desk.distance(mug[0], mug[1]) == 0.0 and env.held is None
        # Memory filed the robot's own pick and place under its own ids, and the mug where it was put.
        events = sorted(
            (e for e in agent.memory.export()["events"] if e["action"] in ("pick", "place")), key=lambda e: e["start_s"]
        )
        assert [e["action"] for e in events] == ["pick", "place"] and events[0]["objects"][0] == events[1]["objects"][0]
        mug_id = events[0]["objects"][0]
        remembered = agent.runtime.objects()[mug_id].center
        assert desk.distance(remembered[0], remembered[1]) == 0.0 and np.linalg.norm(remembered[:2] - mug[:2]) < 0.3
    finally:
        agent.close()


def test_skills_the_body_lacks_are_refused_before_the_env(tmp_path: Path) -> None:
    agent = rover_agent(tmp_path, ["done()"])
    try:
        runtime = agent.runtime
        recorder = Recorder(agent.env)  # type: ignore[arg-type]
        runtime.env = recorder
        run_skill(runtime, "look_around", {})
        table = next(o for o in runtime.objects().values() if o.label == "table")
        outcome = run_skill(runtime, "open", {"target": f"table #{table.id}"})
        assert not outcome.success and "minimal_rover cannot do 'open'" in outcome.message
        assert outcome.reason == "invalid_argument"
        steps_before = len(recorder.actions)
        run_skill(runtime, "close", {"target": f"table #{table.id}"})
        assert len(recorder.actions) == steps_before
    finally:
        agent.close()


def test_affordances_follow_the_rovers_reach_and_skills(tmp_path: Path) -> None:
    agent = rover_agent(tmp_path, ["done()"])
    try:
        runtime = agent.runtime
        run_skill(runtime, "look_around", {})
        run_skill(runtime, "navigate_to", {"target": "table"})  # the mug is mapped on the way
        assert run_skill(runtime, "navigate_to", {"target": "mug"}).success
        calls = propose(runtime, [], "Put the mug on the desk.", skill_config=SkillConfig())
        names = {c.name for c in calls}
        assert "open" not in names and "close" not in names
        picks = [c for c in calls if c.name == "pick"]
        reach = SkillConfig().stop_distance(ROVER)
        assert reach == pytest.approx(ROVER.reach - SkillConfig().reach_margin)
        x, y = runtime.xy
        for call in picks:
            obj = runtime.objects()[int(call.arguments["object"].rsplit("#", 1)[1])]
            assert math.hypot(obj.center[0] - x, obj.center[1] - y) <= reach
        assert picks, "the mug is within reach"
    finally:
        agent.close()


def test_a_room_named_with_a_number_is_a_room_not_an_object_id(tmp_path: Path) -> None:
    agent = rover_agent(tmp_path, ["done()"])
    try:
        runtime = agent.runtime
        runtime.set_floor_plan([("office 1", [(0.0, 0.0), (3.0, 0.0), (3.0, 5.0), (0.0, 5.0)]),
                                ("bedroom 2", [(3.0, 0.0), (6.0, 0.0), (6.0, 5.0), (3.0, 5.0)])])  # fmt: skip
        target = resolve_target(runtime, "bedroom 2")
        assert isinstance(target, Target) and target.kind == "room" and target.name == "bedroom 2"
        first = min(runtime.objects())
        by_id = resolve_target(runtime, f"#{first}")
        assert isinstance(by_id, Target) and by_id.obj is not None and by_id.obj.id == first
    finally:
        agent.close()


def test_a_pick_of_a_thing_memory_never_filed_names_the_furniture_within_reach(tmp_path: Path) -> None:
    """A small thing is often taken before perception has filed it: the pick's event still says where it came from,
    the furniture within the rover's reach nearest its hand ("the furniture you picked things up from" asks it)."""
    agent = rover_agent(tmp_path, [*SCRIPT[:2], "done()"])
    try:
        agent.run("Go to the table.")
        runtime = agent.runtime
        table = next(o for o in runtime.objects().values() if o.label == "table")
        for mug in [o for o in runtime.objects().values() if o.source_id == 20]:
            runtime.spatial.objects.objects.pop(mug.id)  # as if the mug had never been filed
        assert runtime.memory_id_of(20) is None
        assert runtime.act(Pick(20)).success
        pick = next(e for e in runtime.memory.export()["events"] if e["action"] == "pick")
        assert pick["arguments"] == {"object": "something", "from": display_name(table)}
        assert table.id in pick["objects"]
    finally:
        agent.close()
