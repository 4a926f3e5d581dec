"""Memory tools take an object by every name form the tools and skills print ("hat #66" and its kin).

The bank holds a red mug seen twice (the older record stale), keys, a wine glass, and a box that perception
filed as two fragments and then merged: the bank keeps both ids, and events name the fragment's id.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mindpalace.core.types import Event
from mindpalace.memory.spatial.objects import ObjectMap, ObjectMapConfig
from mindpalace.memory.system import MemorySystem
from mindpalace.memory.tools import ObjectName, call_tool, read_object_name, same_object_ids


@pytest.fixture
def memory(tmp_path: Path, mem):
    system = MemorySystem.open(tmp_path / "bank.db", text_index=False)
    # Two fragments of one box filed apart, then merged by a view that joins them (as in test_objects).
    system.spatial.objects = ObjectMap(ObjectMapConfig(max_gap=0.02))
    rng = np.random.default_rng(0)
    left = rng.uniform([0.0, 0.0, 0.7], [0.1, 0.2, 0.8], (200, 3))
    for time_s, points in ((1.0, left), (2.0, left + [0.25, 0.0, 0.0])):
        (update,) = system.spatial.objects.integrate([mem.percept("box", points)], time_s)
        system.remember_object(update.object_id, "box", tuple(update.center), time_s, room="study", change="new")
    system.spatial.objects.integrate([mem.percept("box", rng.uniform([0.0, 0.0, 0.7], [0.35, 0.2, 0.8], (400, 3)))], 3.0)
    (box,) = system.spatial.objects.objects.values()
    system.remember_object(box.id, "box", tuple(box.center), 3.0, room="study", attributes={"color": "brown"})
    system.remember_object(10, "mug", (1.0, 1.0, 0.8), 10.0, attributes={"color": "red"}, room="kitchen", change="new")
    system.remember_object(11, "mug", (4.0, -2.0, 0.5), 300.0, attributes={"color": "blue"}, room="living room", change="new")
    system.remember_object(12, "keys", (5.0, 2.0, 0.9), 20.0, room="hallway", change="new")
    system.remember_object(13, "wine_glass", (6.0, -1.0, 0.9), 30.0, room="living room", change="new")
    fragment = next(i for i in (1, 2) if i != box.id)
    for action, start, obj in (("pick", 100.0, fragment), ("place", 110.0, box.id), ("pick", 200.0, 10)):
        system.record_event(Event("robot", action, start, start + 2.0, {"target": obj}, (obj,), "study"), x=0.0, y=0.0)
    system.tell("the red mug is Alice's", time_s=50.0)
    system.tell("this box is Bob's", time_s=60.0, grounding={"this box": f"object:{fragment}"})
    yield system
    system.close()


def box_ids(memory: MemorySystem) -> tuple[int, int]:
    """(the merged box's id, the id of the fragment folded into it)."""
    (box,) = memory.spatial.objects.objects.values()
    return box.id, next(i for i in (1, 2) if i != box.id)


def keys(result) -> list[str]:
    assert result.ok, result.error
    return [item.key for item in result.items]


@pytest.mark.parametrize(
    "name",
    ["mug #10", "#10", "object:10", "10", "Mug #10", "the mug #10", "red mug #10", "blue mug #10", "object 10", "mug #10."],
)
def test_an_id_in_any_form_names_that_object(memory, name):
    assert keys(call_tool(memory, "where_is", {"object": name})) == ["object:10"]
    assert keys(call_tool(memory, "last_seen", {"object": name})) == ["object:10"]
    assert call_tool(memory, "recall_events", {"order": "last", "object": name}).items[0].data["start_s"] == 200.0


@pytest.mark.parametrize("name", ["mug", "mugs", "the mug", "The Mug", "a mug", "my mugs", "mug."])
def test_a_label_in_any_form_names_every_object_of_it(memory, name):
    assert keys(call_tool(memory, "where_is", {"object": name})) == ["object:11", "object:10"]  # latest seen first
    assert keys(call_tool(memory, "last_seen", {"object": name})) == ["object:11"]
    assert keys(call_tool(memory, "find_objects", {"category": name})) == ["object:11", "object:10"]


@pytest.mark.parametrize(
    ("name", "expected"), [("red mug", "object:10"), ("the blue mugs", "object:11"), ("red mug #10", "object:10")]
)
def test_attribute_words_choose_among_objects_of_a_label(memory, name, expected):
    assert keys(call_tool(memory, "where_is", {"object": name})) == [expected]


def test_an_attribute_word_memory_never_recorded_narrows_nothing(memory):
    """Perception's colours are approximate: "big" or a colour no mug has does not hide the mugs."""
    assert len(keys(call_tool(memory, "where_is", {"object": "big mug"}))) == 2
    assert len(keys(call_tool(memory, "where_is", {"object": "green mug"}))) == 2


@pytest.mark.parametrize("name", ["wine_glass", "wine glass", "wine glasses", "the Wine_Glass", "object:13", "wine glass #13"])
def test_labels_of_two_words_with_spaces_or_underscores(memory, name):
    assert keys(call_tool(memory, "where_is", {"object": name})) == ["object:13"]


@pytest.mark.parametrize("name", ["keys", "key", "the keys", "keys #12"])
def test_a_label_stored_in_the_plural(memory, name):
    assert keys(call_tool(memory, "where_is", {"object": name})) == ["object:12"]


def test_a_merged_id_leads_to_the_object_it_lives_on_as(memory):
    box, fragment = box_ids(memory)
    assert same_object_ids(memory, fragment) == same_object_ids(memory, box) == [box, fragment]
    for name in (f"box #{fragment}", f"#{fragment}", f"object:{fragment}"):
        assert read_object_name(memory, name) == ObjectName(object_id=box)
        assert keys(call_tool(memory, "where_is", {"object": name})) == [f"object:{box}"]
        # Events keep the id of their time: the pick named the fragment, the place the merged box.
        assert call_tool(memory, "recall_events", {"order": "first", "object": name}).items[0].data["action"] == "pick"
        assert call_tool(memory, "recall_events", {"order": "last", "object": name}).items[0].data["action"] == "place"
    assert call_tool(memory, "recall_events", {"order": "first", "object_id": fragment}).items[0].data["action"] == "pick"
    assert call_tool(memory, "recall_events", {"order": "first", "object_id": box}).items[0].data["action"] == "pick"
    # A fact told about the fragment is found under the merged box's name.
    assert "Bob" in call_tool(memory, "facts_about", {"subject": f"box #{box}"}).text()


def test_an_id_memory_does_not_hold_falls_back_to_the_words_around_it(memory):
    assert keys(call_tool(memory, "where_is", {"object": "mug #999"})) == ["object:11", "object:10"]
    assert call_tool(memory, "where_is", {"object": "#999"}).text() == "nothing found"
    assert call_tool(memory, "where_is", {"object": "unicorn"}).text() == "nothing found"
    assert call_tool(memory, "recall_events", {"order": "first", "object": "#999"}).items == []


@pytest.mark.parametrize("subject", ["red mug", "the red mug", "mug #10", "object:10", "Red Mug"])
def test_facts_about_an_object_by_any_of_its_names(memory, subject):
    assert "Alice" in call_tool(memory, "facts_about", {"subject": subject}).text()


@pytest.mark.parametrize("room", ["living room", "Living Room", "the living room", "living_room"])
def test_rooms_in_any_case_with_or_without_the(memory, room):
    assert set(keys(call_tool(memory, "describe_room", {"room": room}))) == {"object:11", "object:13"}
    assert keys(call_tool(memory, "find_objects", {"category": "mugs", "room": room})) == ["object:11"]
