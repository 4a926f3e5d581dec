"""Skills on a remembered day: targets resolved in memory, A* on the perceived costmap, manipulation through env.step."""

from __future__ import annotations

import numpy as np
import pytest
from agent_testkit import put_back, unique_objects

from mindpalace.agent.skills import SKILLS, SkillOutcome, Target, resolve_target, run_skill


def test_every_skill_has_a_valid_schema() -> None:
    import jsonschema

    for name, skill in SKILLS.items():
        schema = skill.schema()
        assert schema["function"]["name"] == name and schema["function"]["description"]
        jsonschema.Draft202012Validator.check_schema(schema["function"]["parameters"])


def test_targets_resolve_by_id_label_room_and_point(world) -> None:
    runtime = world.runtime
    obj = next(iter(runtime.objects().values()))
    for phrase in (f"{obj.label} #{obj.id}", f"object:{obj.id}", f"#{obj.id}", str(obj.id)):
        target = resolve_target(runtime, phrase)
        assert isinstance(target, Target) and target.obj is obj, phrase
    room = runtime.memory.spatial.rooms[0]
    assert resolve_target(runtime, f"the {room.name.upper()}").kind == "room"
    point = resolve_target(runtime, "(1.5, -2)")
    assert point.kind == "point" and point.xy == (1.5, -2.0)
    label, memory_id = next(iter(unique_objects(world).items()))
    assert resolve_target(runtime, label.replace("_", " ")).obj.id == memory_id


@pytest.mark.parametrize("phrase", ["unicorn", "#99999", "object:424242", ""])
def test_unknown_targets_fail_before_the_env(world, phrase) -> None:
    steps = world.runtime.stats.env_steps
    outcome = run_skill(world.runtime, "navigate_to", {"target": phrase})
    assert not outcome.success and outcome.reason == "unknown_target"
    assert world.runtime.stats.env_steps == steps


def test_merged_ids_still_resolve(world) -> None:
    objects = world.memory.spatial.objects
    alive = next(iter(objects.objects))
    objects.aliases[987654] = alive
    try:
        assert resolve_target(world.runtime, "thing #987654").obj.id == alive
    finally:
        del objects.aliases[987654]


def test_find_pick_carry_and_place_from_memory(world) -> None:
    runtime, env = world.runtime, world.env
    objects = unique_objects(world)
    furniture = unique_objects(world, "furniture")
    label, memory_id = next(
        (label, i)
        for label, i in objects.items()
        if env.privileged.object_location(runtime.objects()[i].source_id) is not None
        and env.privileged.object_location(runtime.objects()[i].source_id)[2] == "on"
    )
    name = f"{label} #{memory_id}"
    source = env.privileged.object_location(runtime.objects()[memory_id].source_id)
    try:
        assert run_skill(runtime, "navigate_to", {"target": name}).success
        picked = run_skill(runtime, "pick", {"object": name})
        assert picked.success, picked
        assert runtime.held == memory_id
        # Hands full: refused by the skill, the env never sees it.
        steps = runtime.stats.env_steps
        assert run_skill(runtime, "pick", {"object": name}).reason == "hands_full"
        assert runtime.stats.env_steps == steps
        target_label, target_id = next(
            (lab, i)
            for lab, i in furniture.items()
            if lab in ("table", "bed", "counter", "desk", "coffee_table", "dining_table", "sofa", "dresser")
        )
        target = f"{target_label} #{target_id}"
        assert run_skill(runtime, "navigate_to", {"target": target}).success
        placed = run_skill(runtime, "place", {"receptacle": target, "relation": "on"})
        assert placed.success, placed
        assert runtime.held is None
        piece = env.privileged.apartment.furniture_by_id(runtime.objects()[target_id].source_id)
        assert env.privileged.object_location(runtime.objects()[memory_id].source_id)[0] == piece.name, source
        # The robot's own events are in memory with memory's ids.
        events = [r[0] for r in world.memory.bank.query("SELECT text FROM events ORDER BY id DESC LIMIT 20")]
        assert any(f"pick(object={name}" in e for e in events) and any(f"place(object={name}" in e for e in events)
    finally:
        put_back(world, memory_id, source[0])


def test_manipulation_refusals_are_structured(world) -> None:
    runtime = world.runtime
    steps = runtime.stats.env_steps
    assert run_skill(runtime, "place", {"receptacle": "bed"}).reason == "hands_empty"
    furniture_label, furniture_id = next(iter(unique_objects(world, "furniture").items()))
    outcome = run_skill(runtime, "open", {"target": f"{furniture_label} #{furniture_id}"})
    assert not outcome.success and outcome.reason == "invalid_argument"
    assert run_skill(runtime, "fly", {}).reason == "invalid_argument"
    assert runtime.stats.env_steps == steps


def test_open_and_close_a_drawer_memory_mapped(world) -> None:
    runtime = world.runtime
    drawer = next(o for o in runtime.objects().values() if o.label == "drawer")
    name = f"drawer #{drawer.id}"
    assert run_skill(runtime, "navigate_to", {"target": name}).success
    before = {pid for pid, (_, is_open) in world.env.privileged.joint_states().items() if is_open}
    opened = run_skill(runtime, "open", {"target": name})
    assert opened.success, opened
    after = {pid for pid, (_, is_open) in world.env.privileged.joint_states().items() if is_open}
    # Exactly one part opened. (Which one is perception's: stacked drawers that touch can share one map object.)
    assert len(after - before) == 1, (before, after)
    assert world.memory.spatial.scene.states[drawer.id] == "open"
    assert run_skill(runtime, "close", {"target": name}).success
    closed = {pid for pid, (_, is_open) in world.env.privileged.joint_states().items() if is_open}
    assert closed == before


def test_navigate_to_a_room_and_look_around(world) -> None:
    runtime = world.runtime
    other = next(r for r in runtime.memory.spatial.rooms if r.name != runtime.room)
    outcome = run_skill(runtime, "navigate_to", {"target": other.name})
    assert outcome.success, outcome
    x, y, _ = world.env.privileged.robot_pose()
    assert world.env.privileged.apartment.room_at(x, y).name == other.name
    assert run_skill(runtime, "look_around", {}).success


def test_an_unreachable_point_fails_with_a_reason(world) -> None:
    outcome = run_skill(world.runtime, "navigate_to", {"target": "40, 40"})
    assert isinstance(outcome, SkillOutcome) and not outcome.success
    assert outcome.reason in ("no_path", "blocked")


def test_answer_and_done_end_the_task(world) -> None:
    answered = run_skill(world.runtime, "answer", {"text": "It is on the bed."})
    assert answered.success and answered.data == {"answer": "It is on the bed.", "final": True}
    assert run_skill(world.runtime, "done", {}).data["final"]
    assert np.isfinite(world.runtime.xy).all()


def test_a_checkpoint_marks_a_stop_and_the_task_goes_on(world) -> None:
    steps = world.runtime.stats.env_steps
    outcome = run_skill(world.runtime, "checkpoint", {})
    x, y, yaw = world.runtime.pose
    assert outcome.success and "final" not in outcome.data
    assert outcome.data["stop"] == {"x": x, "y": y, "yaw": yaw} and world.runtime.stats.env_steps == steps
