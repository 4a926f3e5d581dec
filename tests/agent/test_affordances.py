"""Affordances: only calls valid in the robot's current state are offered, grounded in what memory knows."""

from __future__ import annotations

import pytest
from agent_testkit import put_back, unique_objects

from mindpalace.agent.affordances import answers, distance_to, is_question, mentioned_objects, propose, stop_targets
from mindpalace.agent.runtime import display_name
from mindpalace.agent.skills import run_skill
from mindpalace.memory.local_reader import LocalReader
from mindpalace.planning.critic import MultiStop
from mindpalace.planning.parsing import Call


def test_questions_get_answers_and_looking_never_manipulation(world) -> None:
    label = next(iter(unique_objects(world))).replace("_", " ")
    calls = propose(world.runtime, [], f"Where is the {label}?")
    assert {c.name for c in calls} <= {"answer", "look_around", "explore"}
    assert is_question("Which room did you visit first") and not is_question("Bring the mug to the table.")


def test_done_is_offered_only_when_the_caller_allows_it(world) -> None:
    assert not {"done", "checkpoint"} & {c.name for c in propose(world.runtime, [], "Go to the kitchen.", can_finish=False)}
    assert "done" in {c.name for c in propose(world.runtime, [], "Go to the kitchen.", can_finish=True)}


def test_pick_and_place_follow_reach_and_hands(world) -> None:
    runtime = world.runtime
    label, memory_id = next(
        (label, i)
        for label, i in unique_objects(world).items()
        if (loc := world.env.privileged.object_location(runtime.objects()[i].source_id)) and loc[2] == "on"
    )
    source = world.env.privileged.object_location(runtime.objects()[memory_id].source_id)
    name = f"{label.replace('_', ' ')} #{memory_id}"
    task = f"Pick up the {label.replace('_', ' ')}."
    try:
        assert run_skill(runtime, "navigate_to", {"target": name}).success
        calls = {c.render() for c in propose(runtime, [], task)}
        assert f'pick(object="{name}")' in calls
        assert not any(c.startswith("place(") for c in calls), "nothing is held"
        for call in propose(runtime, [], task):
            if call.name == "pick":
                assert distance_to(runtime, runtime.objects()[int(call.arguments["object"].split("#")[1])]) <= 1.1
        assert run_skill(runtime, "pick", {"object": name}).success
        holding = propose(runtime, [], task)
        assert not any(c.name == "pick" for c in holding)
        # Holding it next to the furniture it came from: putting it down there is offered.
        assert any(c.name == "place" for c in holding), [c.render() for c in holding]
        # Unless the task says where it goes: then only there (the furniture near the robot is no destination).
        kind_of = runtime.spatial.scene.kind_of
        nearby = {o.label for o in runtime.objects().values() if kind_of(o) == "furniture" and distance_to(runtime, o) <= 1.1}
        other = next(o for o in runtime.objects().values() if kind_of(o) == "furniture" and o.label not in nearby)
        elsewhere = propose(runtime, [], f"Bring the {label.replace('_', ' ')} to the {other.label.replace('_', ' ')}.")
        assert not any(c.name == "place" for c in elsewhere), [c.render() for c in elsewhere]
        assert f'navigate_to(target="{other.label.replace("_", " ")} #{other.id}")' in {c.render() for c in elsewhere}
    finally:
        put_back(world, memory_id, source[0])


def test_an_object_found_in_a_closed_drawer_offers_opening_it(world) -> None:
    runtime = world.runtime
    drawer = next(o for o in runtime.objects().values() if o.label == "drawer")
    thing = next(o for o in runtime.objects().values() if runtime.memory.spatial.scene.kind_of(o) == "object")
    assert run_skill(runtime, "navigate_to", {"target": f"drawer #{drawer.id}"}).success
    runtime.enclosed[thing.id] = drawer.id
    thing_center = thing.center.copy()
    try:
        thing.set_points(thing.points - thing_center + drawer.center)  # it lies where the drawer is
        calls = {c.render() for c in propose(runtime, [f"{thing.label} #{thing.id}"], "Fetch it.")}
        assert f'open(target="drawer #{drawer.id}")' in calls
        assert f'pick(object="{thing.label.replace("_", " ")} #{thing.id}")' not in calls
    finally:
        thing.set_points(thing.points - drawer.center + thing_center)
        runtime.enclosed.pop(thing.id, None)


def test_answers_come_from_what_the_robot_put_down(world) -> None:
    event = "robot place(object=mug #7, receptacle=dresser #3, relation=on) in the bedroom at 120s"
    assert "I put the mug #7 on the dresser #3 in the bedroom." in answers(world.runtime, [event], "Where did you put it?")


def test_the_call_that_undoes_the_last_one_is_not_offered(world) -> None:
    runtime = world.runtime
    drawer = next(o for o in runtime.objects().values() if o.label == "drawer")
    name = f"drawer #{drawer.id}"
    assert run_skill(runtime, "navigate_to", {"target": name}).success
    assert run_skill(runtime, "open", {"target": name}).success
    try:
        from mindpalace.planning.parsing import Call

        offered = {c.render() for c in propose(runtime, [name], "Tidy up.")}
        assert f'close(target="{name}")' in offered
        after_open = {c.render() for c in propose(runtime, [name], "Tidy up.", last=Call("open", {"target": name}))}
        assert f'close(target="{name}")' not in after_open
    finally:
        assert run_skill(runtime, "close", {"target": name}).success


def test_a_label_memory_named_by_id_offers_no_other_thing_of_that_label(world) -> None:
    runtime = world.runtime
    drawers = [o for o in runtime.objects().values() if o.label == "drawer"]
    assert len(drawers) > 1
    task = "Open the drawer you opened first today."
    recalled = f"robot open(object=drawer #{drawers[0].id}) in the {runtime.room} at 95s"
    # Without memory's answer the task's word offers every drawer; with it, only the one memory named.
    assert len({c.arguments.get("target") for c in propose(runtime, [], task) if "drawer" in str(c.arguments)}) == len(drawers)
    named = {c.arguments.get("target") for c in propose(runtime, [recalled], task) if "drawer" in str(c.arguments)}
    assert named == {f"drawer #{drawers[0].id}"}


def test_going_to_a_room_memory_must_find_offers_rooms_only(world) -> None:
    runtime = world.runtime
    thing = next(o for o in runtime.objects().values() if runtime.spatial.scene.kind_of(o) == "object")
    label = thing.label.replace("_", " ")
    recalled = f"robot pick(object={label} #{thing.id}) in the {runtime.spatial.rooms[0].name} at 50s"
    calls = propose(runtime, [recalled], f"Go to the room where you picked up the {label}.")
    assert {c.name for c in calls} <= {"navigate_to", "look_around", "explore", "done", "checkpoint"}
    # The room memory's result names, and no other; without a result naming one, every room.
    assert {c.arguments["target"] for c in calls if c.name == "navigate_to"} == {runtime.spatial.rooms[0].name}
    unsaid = propose(runtime, [], f"Go to the room where you picked up the {label}.")
    assert {c.arguments["target"] for c in unsaid if c.name == "navigate_to"} == {r.name for r in runtime.spatial.rooms}
    # A room the task names is no such room ("living room"); going to the thing is still offered then.
    named = propose(runtime, [recalled], f"Go to the {label} in the {runtime.spatial.rooms[0].name}.")
    assert f'navigate_to(target="{label} #{thing.id}")' in {c.render() for c in named}


def _moved_today(world) -> tuple[str, list[str]]:
    """Memory's answer to "what did you move today" (the real tool on the lived day) and the objects it lists, in order."""
    text = LocalReader(world.memory).call_tool("interaction_order", {}).text()
    kind_of = world.runtime.spatial.scene.kind_of
    moved = [
        f"{o.label.replace('_', ' ')} #{o.id}" for o in mentioned_objects(world.runtime, [text], "") if kind_of(o) == "object"
    ]
    return f"interaction_order() -> {text}", moved


@pytest.mark.parametrize(
    ("task", "ordered"),
    [
        ("Visit every object you moved today, in any order, and stop at each one.", False),
        ("Please drive to all the things you relocated earlier; stop by each.", False),
        ("Visit the objects you moved today in the order you moved them, and stop at each one.", True),
        ("Retrace your relocations: stop by each relocated item in the same sequence as earlier.", True),
    ],
)
def test_a_visit_to_several_things_stops_at_each_one_memory_lists(world, task: str, ordered: bool) -> None:
    runtime = world.runtime
    text, moved = _moved_today(world)
    assert len(moved) >= 2, text
    first, last = (moved[0], moved[-1]) if ordered else (moved[-1], moved[0])

    def offered(stopped: list[str], arrived: str | None) -> list[str]:
        last_call = Call("navigate_to", {"target": arrived}) if arrived else None
        calls = propose(runtime, [text], task, can_finish=arrived is not None, last=last_call, stopped=stopped)
        return [c.render() for c in calls]

    # Nothing stopped at yet: go to the targets memory listed (only the first, where the task gives an order), no stop.
    going = offered([], None)
    wanted = moved[:1] if ordered else moved
    assert {c for c in going if c.startswith("navigate_to")} == {f'navigate_to(target="{t}")' for t in wanted}
    assert not {"done()", "checkpoint()"} & set(going)
    # Arrived at one while others remain: a checkpoint, and nothing else; at the last one: done.
    assert offered([], first) == ["checkpoint()"]
    remaining = [t for t in moved if t != first]
    assert offered([first, *remaining[:-1]], remaining[-1]) == ["done()"]
    # Stopped at one already: it is no target any more; out of order (an ordered task) is no stop either.
    again = offered([first], first)
    assert "checkpoint()" not in again and f'navigate_to(target="{first}")' not in again
    if ordered:
        assert "checkpoint()" not in offered([], moved[-1]) and "done()" not in offered([], moved[-1])
    else:
        assert offered([], last) == ["checkpoint()"]


@pytest.mark.parametrize(
    "task",
    [
        "Go to the kitchen.",
        "Go to any object you moved today.",
        "Of all the furniture you used today, go to the one farthest from here.",
        "Navigate to one of the items you relocated earlier.",
    ],
)
def test_a_visit_to_one_thing_is_never_offered_a_checkpoint(world, task: str) -> None:
    text, moved = _moved_today(world)
    calls = propose(world.runtime, [text], task, can_finish=True, last=Call("navigate_to", {"target": moved[0]}))
    names = [c.name for c in calls]
    assert "done" in names and "checkpoint" not in names


def test_the_place_a_thing_was_seen_on_says_which_thing_and_is_not_where_to_go(world) -> None:
    """ "Go to the X you saw on the Y": the X is the destination, the Y only says which X; a bare "the X on the Y" (as in
    putting something there) keeps the Y on offer."""
    runtime = world.runtime
    objects = unique_objects(world)
    label, support = next(
        (label, runtime.objects()[held_by])
        for label, i in objects.items()
        if (held_by := runtime.support_of(i)) is not None
        and runtime.spatial.scene.kind_of(runtime.objects()[held_by]) == "furniture"
    )
    thing, place = label.replace("_", " "), support.label.replace("_", " ")
    targets = {
        c.arguments["target"]
        for c in propose(runtime, [], f"Go to the {thing} you saw on the {place}.")
        if c.name == "navigate_to"
    }
    assert f"{thing} #{objects[label]}" in targets
    assert not any(t.startswith(f"{place} #") for t in targets), targets
    # Without the clause, the place is where the thing goes, and it stays offered.
    bare = {c.arguments["target"] for c in propose(runtime, [], f"Put the {thing} on the {place}.") if c.name == "navigate_to"}
    assert f"{place} #{support.id}" in bare


def test_a_thing_picked_from_a_drawer_makes_its_furniture_the_stop(world) -> None:
    """ "The furniture you picked things up from": a pick from a drawer is a pick from the piece the drawer belongs to,
    one stop there, whether memory names the drawer, the piece or both."""
    runtime = world.runtime
    kind_of = runtime.spatial.scene.kind_of
    drawers = [o for o in runtime.objects().values() if kind_of(o) == "part" and runtime.furniture_of(o.id) is not None]
    assert drawers, "the lived day's memory knows a drawer of some piece of furniture"
    drawer = drawers[0]
    whole = runtime.objects()[runtime.furniture_of(drawer.id)]
    source = MultiStop(order="any", kind="furniture", role="source")
    task = "Visit every piece of furniture you picked something up from today, and stop at each."
    text = f"interaction_order() -> 1. mug #900, picked from {display_name(drawer)}, put on table #901"
    assert stop_targets(runtime, [text], task, source) == [display_name(whole)]
    both = f"{text}\n2. cup #902, picked from {display_name(whole)}, put on table #901"
    assert stop_targets(runtime, [both], task, source) == [display_name(whole)]
