"""The memory tools FindingDory's categories need, on a hand-built day: the order of the robot's moves (n-th, before,
after, between), what happened at a time of day, durations on the day's clock, time per room, rooms never entered,
and the farthest of a set from where the robot stands.

The day: the clock runs 60 clock seconds per memory second from 06:00 (time_s 0). The robot starts in the
kitchen, moves a mug (kitchen table -> living-room shelf), then a book (shelf -> bedroom bed, the longest move),
then a cup (bed -> kitchen table, the shortest), and stands in the kitchen. The floor plan has a bathroom it never
entered. A second bank of the KARMA preset (no timeline) still orders the moves it saw from its objects' history.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mindpalace.core.types import Event
from mindpalace.memory.system import MemorySystem
from mindpalace.memory.tools import call_tool

RATE = 60.0  # clock seconds per memory second
ROOMS = {"kitchen": (0.0, 0.0), "living room": (10.0, 0.0), "bedroom": (10.0, 10.0), "bathroom": (0.0, 10.0)}
MOVES = [  # object id, label, source, goal, pick start, place end, pick room, place room
    (1, "mug", "table #10", "shelf #11", 10.0, 20.0, "kitchen", "living room"),
    (2, "book", "shelf #11", "bed #12", 30.0, 60.0, "living room", "bedroom"),
    (3, "cup", "bed #12", "table #10", 70.0, 74.0, "bedroom", "kitchen"),
]
ENTRIES = [("kitchen", 0.0), ("living room", 15.0), ("bedroom", 50.0), ("kitchen", 72.0)]


def square(cx: float, cy: float) -> list[tuple[float, float]]:
    return [(cx - 4, cy - 4), (cx + 4, cy - 4), (cx + 4, cy + 4), (cx - 4, cy + 4)]


def build(path: Path, preset: str) -> MemorySystem:
    memory = MemorySystem.open(path, preset, text_index=False)
    memory.spatial.set_rooms([(name, square(*xy)) for name, xy in ROOMS.items()], privileged=False)
    for t in (0.0, 100.0):
        memory.clock.observe(t, 6 * 3600 + RATE * t)
    for object_id, label, room, xy in (
        (10, "table", "kitchen", (1, 1)),
        (11, "shelf", "living room", (11, 1)),
        (12, "bed", "bedroom", (11, 11)),
    ):
        memory.remember_object(object_id, label, (*xy, 0.5), 0.0, room=room, change="new")
    for room, start in ENTRIES:
        memory.record_event(Event("robot", "enter_room", start, start, {"room": room}, (), room), *ROOMS[room])
    for object_id, label, source, goal, start, end, pick_room, place_room in MOVES:
        memory.remember_object(object_id, label, (*ROOMS[pick_room], 0.8), start, room=pick_room, change="new")
        memory.record_event(
            Event(
                "robot", "pick", start, start + 1, {"object": f"{label} #{object_id}", "from": source}, (object_id,), pick_room
            ),
            *ROOMS[pick_room],
        )
        memory.record_event(
            Event("robot", "place", end - 1, end, {"object": f"{label} #{object_id}", "receptacle": goal, "relation": "on"},
                  (object_id,), place_room),
            *ROOMS[place_room],
        )  # fmt: skip
        memory.remember_object(object_id, label, (*ROOMS[place_room], 0.8), end, room=place_room, change="moved")
    # The task starts where the robot stands: in the kitchen, at (0, 0).
    memory.record_event(Event("robot", "task", 90.0, 90.0, {"text": "..."}, (), "kitchen"), 0.0, 0.0)
    return memory


@pytest.fixture
def memory(tmp_path: Path):
    system = build(tmp_path / "bank.db", "mindpalace")
    yield system
    system.close()


def texts(memory: MemorySystem, tool: str, **arguments) -> list[str]:
    result = call_tool(memory, tool, arguments)
    assert result.ok, result.error
    return [item.text for item in result.items]


def objects(lines: list[str]) -> list[str]:
    """The moved object each interaction line names ("1st object moved: mug #1, ..." -> "mug #1")."""
    return [line.split(": ", 1)[1].split(",")[0].split(" in the ")[0] for line in lines]


def test_moves_in_order_with_n_th_before_after_and_between(memory: MemorySystem) -> None:
    assert objects(texts(memory, "interaction_order")) == ["mug #1", "book #2", "cup #3"]
    assert objects(texts(memory, "interaction_order", position=2)) == ["book #2"]
    assert objects(texts(memory, "interaction_order", position=-1)) == ["cup #3"]
    assert texts(memory, "interaction_order", position=4) == []
    assert objects(texts(memory, "interaction_order", relative_to="mug", offset=1)) == ["book #2"]
    assert objects(texts(memory, "interaction_order", relative_to="cup #3", offset=-2)) == ["mug #1"]
    assert objects(texts(memory, "interaction_order", between=["cup", "mug #1"])) == ["book #2"]
    first = texts(memory, "interaction_order", position=1)[0]
    assert "picked from table #10 in the kitchen" in first and "shelf #11 (on) in the living room" in first
    assert "06:10 to 06:20" in first  # the day's clock, not memory seconds


def test_what_happened_at_a_time_of_day(memory: MemorySystem) -> None:
    # 06:40 is memory second 40: the book was being carried, out of the living room (entered at 15 s).
    lines = texts(memory, "at_time", time="06:40")
    assert objects(lines[:1]) == ["book #2"]
    assert any(line.startswith("in the living room") for line in lines)
    assert not any("mug" in line or "cup" in line for line in lines)
    assert call_tool(memory, "at_time", {"time": "25:00"}).ok is False  # the schema refuses it


def test_durations_on_the_clock_and_time_per_room(memory: MemorySystem) -> None:
    longest = texts(memory, "durations", what="object", order="longest")
    assert objects(longest) == ["book #2", "mug #1", "cup #3"]
    assert longest[0].endswith("(took 30 min)")  # 30 memory seconds at 60x
    assert objects(texts(memory, "durations", what="object", order="shortest"))[0] == "cup #3"
    rooms = texts(memory, "durations", what="room", order="longest")
    # Kitchen 0-15 and 72-90 (33 s), living room 15-50 (35 s), bedroom 50-72 (22 s); on the clock, x60.
    assert [line.split(":")[0] for line in rooms[:3]] == ["the living room", "the kitchen", "the bedroom"]
    assert rooms[0] == "the living room: 35 min in all, first entered 06:15"


def test_rooms_visited_and_never_visited(memory: MemorySystem) -> None:
    lines = texts(memory, "rooms_visited")
    assert [line.split(":")[0] for line in lines] == ["the kitchen", "the living room", "the bedroom", "the bathroom"]
    assert lines[-1] == "the bathroom: never entered"


def test_farthest_from_where_the_robot_stands(memory: MemorySystem) -> None:
    # From (0, 0): the book ended in the bedroom (10, 10), the mug in the living room (10, 0), the cup here.
    assert [line.split(" #")[0] for line in texts(memory, "farthest", of="moved")] == ["book", "mug", "cup"]
    assert texts(memory, "farthest", of="placed on")[0].startswith("bed #12")
    assert texts(memory, "farthest", of="mug")[0].startswith("mug #1")
    assert texts(memory, "farthest", of="unicorn") == []


def test_a_design_without_a_timeline_orders_the_moves_it_saw(tmp_path: Path) -> None:
    karma = build(tmp_path / "karma.db", "karma")
    try:
        assert objects(texts(karma, "interaction_order")) == ["mug #1", "book #2", "cup #3"]
        assert texts(karma, "rooms_visited") == []  # no timeline: it cannot say which rooms it never entered
        assert texts(karma, "farthest", of="moved") == []  # it does not know where it stands
    finally:
        karma.close()
