"""The multi-memory system: writing every store, querying each kind, tools, presets, forgetting, day 1 -> day 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mindpalace.core.types import Event
from mindpalace.memory.presets import PRESETS
from mindpalace.memory.retrieval import FactQuery, ObjectQuery, OrderQuery, PlaceQuery, TextQuery, TimeQuery
from mindpalace.memory.system import MemorySystem
from mindpalace.memory.tools import TOOLS, call_tool


def _fill(memory: MemorySystem) -> None:
    """A small day: three objects seen, one moved, four events, two facts told."""
    memory.remember_object(1, "mug", (1.0, 1.0, 0.8), 10.0, attributes={"color": "red"}, room="kitchen", change="new")
    memory.remember_object(2, "keys", (5.0, 2.0, 0.9), 20.0, room="hallway", change="new")
    memory.remember_object(3, "book", (6.0, -1.0, 0.5), 30.0, room="office", change="new")
    memory.remember_object(1, "mug", (4.0, -2.0, 0.5), 300.0, attributes={"color": "red"}, room="living room", change="moved")
    for i, (action, start, end, obj) in enumerate(
        [("navigate", 0.0, 40.0, None), ("pick", 100.0, 102.0, 1), ("place", 290.0, 300.0, 1), ("open", 400.0, 401.0, None)]
    ):
        memory.record_event(
            Event(
                "robot",
                action,
                start,
                end,
                {"target": obj} if obj else {},
                (obj,) if obj else (),
                "kitchen" if i < 2 else "living room",
            ),
            x=float(i),
            y=0.0,
        )
    memory.tell("the red mug is Alice's", time_s=50.0)
    memory.tell("I have coffee at 08:00", time_s=60.0, speaker="Bob")
    memory.flush()


@pytest.fixture
def memory(tmp_path: Path, embedder):
    system = MemorySystem.open(tmp_path / "bank.db", embedder=embedder, spatial=False)
    _fill(system)
    yield system
    system.close()


def test_each_query_kind_finds_what_was_written(memory: MemorySystem) -> None:
    assert memory.retrieve([ObjectQuery("mug")])[0].key == "object:1"
    assert "living room" in memory.retrieve([ObjectQuery("mug")])[0].text
    assert [i.key for i in memory.retrieve([PlaceQuery(5.0, 2.0, 0.5)])] == ["object:2"]
    assert {i.kind for i in memory.retrieve([TimeQuery(250.0, 350.0)])} == {"event", "change"}
    first = memory.retrieve([OrderQuery("first")])[0]
    assert first.data["action"] == "navigate"
    assert memory.retrieve([OrderQuery("last", action="pick")])[0].data["action"] == "pick"
    assert memory.retrieve([OrderQuery("longest")])[0].data["action"] == "navigate"
    assert any("Alice" in i.text for i in memory.retrieve([FactQuery("red mug")]))
    texts = [i.text for i in memory.retrieve([TextQuery("morning coffee routine")])]
    assert texts and "coffee" in texts[0]


def test_several_queries_are_fused(memory: MemorySystem) -> None:
    """An item both queries find ranks above items only one finds."""
    items = memory.retrieve([ObjectQuery("mug"), PlaceQuery(4.0, -2.0, 0.5), ObjectQuery("keys")])
    assert items[0].key == "object:1"


def test_context_fits_the_budget(memory: MemorySystem) -> None:
    text, items = memory.context("bring me the red mug", budget_tokens=60)
    assert len(text.split()) <= 60 and any(i.key == "object:1" for i in items)


def test_tools_validate_and_answer(memory: MemorySystem) -> None:
    assert "living room" in call_tool(memory, "where_is", {"object": "red mug"}).text()
    assert call_tool(memory, "last_seen", {"object": "keys"}).items[0].key == "object:2"
    assert {i.key for i in call_tool(memory, "find_objects", {"room": "office"}).items} == {"object:3"}
    assert call_tool(memory, "recall_events", {"order": "first"}).items[0].data["action"] == "navigate"
    assert any(i.kind == "change" for i in call_tool(memory, "what_changed", {"since": 200.0}).items)
    assert call_tool(memory, "describe_room", {"room": "hallway"}).items[0].key == "object:2"
    assert "coffee" in call_tool(memory, "facts_about", {"subject": "Bob"}).text()
    for name, arguments in [
        ("where_is", {}),
        ("where_is", {"object": 3}),
        ("where_is", {"object": "x", "code": "rm"}),
        ("recall_events", {"order": "sideways"}),
        ("nope", {}),
        ("facts_about", "Bob"),
    ]:
        result = call_tool(memory, name, arguments)
        assert not result.ok and result.error


def test_every_tool_has_a_description_and_a_json_schema() -> None:
    for tool in TOOLS.values():
        schema = tool.schema()["function"]
        assert schema["description"] and schema["parameters"]["type"] == "object"
        assert schema["parameters"].get("additionalProperties") is False
        json.dumps(schema)


def test_texts_written_but_not_embedded_before_a_crash_are_embedded_after_it(tmp_path: Path, embedder) -> None:
    """A writer killed between writing items and embedding them: the next open queues exactly those texts again."""
    path = tmp_path / "bank.db"
    memory = MemorySystem.open(path, embedder=embedder, spatial=False)
    _fill(memory)  # flushed
    memory.remember_object(7, "umbrella", (2.0, 2.0, 0.3), 500.0, room="hallway", change="new")
    memory.record_event(Event("robot", "pick", 510.0, 512.0, {"target": 7}, (7,), "hallway"))
    memory.tell("the umbrella is Carol's", time_s=520.0)
    memory.bank.close()  # as a kill would: nothing embedded, the index not saved
    with MemorySystem.open(path, embedder=embedder, spatial=False) as again:
        assert sorted((kind, item_id) for kind, item_id, _ in again._pending_vectors) == [
            ("event", 5),
            ("fact", 3),
            ("object", 7),
        ]
        hits = again.retrieve([TextQuery("whose umbrella")], k=3)
        assert "umbrella" in hits[0].text
    with MemorySystem.open(path, embedder=embedder, spatial=False) as third:
        assert third._pending_vectors == []


def test_day_two_in_a_new_process_remembers_day_one(tmp_path: Path, embedder) -> None:
    """Close the bank, open it in another Python process: objects, events, facts and the text index are all back."""
    path = tmp_path / "home.db"
    with MemorySystem.open(path, embedder=embedder, spatial=False) as memory:
        _fill(memory)
    script = f"""
import json
from mindpalace.memory.system import MemorySystem
from mindpalace.memory.tools import call_tool
with MemorySystem.open({str(path)!r}, spatial=False) as m:
    print(json.dumps({{"stats": m.stats(), "where": call_tool(m, "where_is", {{"object": "mug"}}).text(),
                       "coffee": [i.text for i in m.retrieve([__import__("mindpalace.memory.retrieval", fromlist=["TextQuery"]).TextQuery("coffee")])][:1]}}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    day2 = json.loads(result.stdout.strip().splitlines()[-1])
    assert day2["stats"]["objects"] == 3 and day2["stats"]["events"] == 4 and day2["stats"]["facts"] >= 2
    assert day2["stats"]["vectors"] >= 9 and day2["stats"]["preset"] == "mindpalace"
    assert "living room" in day2["where"] and "coffee" in day2["coffee"][0]


def test_texts_written_before_a_crash_are_embedded_when_the_bank_is_opened_again(tmp_path: Path, embedder) -> None:
    """A writer killed after its writes were acknowledged but before it embedded them (SIGKILL: no flush, no close):
    opening the bank again finds the texts without vectors, embeds them, and text search finds them."""
    path = tmp_path / "crash.db"
    script = f"""
import os, signal
from mindpalace.core.types import Event
from mindpalace.memory.system import MemorySystem
m = MemorySystem.open({str(path)!r}, spatial=False)
m.record_event(Event("robot", "water_plants", 10.0, 20.0, {{"plant": "fern"}}, (), "living_room"), x=1.0, y=2.0)
m.facts.assert_fact("fern", "needs", "water every tuesday", time_s=30.0, source="user")
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr
    with MemorySystem.open(path, embedder=embedder, spatial=False) as memory:
        assert len(memory.vectors) == 0  # nothing was embedded before the kill
        assert memory.flush() == 2
        assert len(memory.vectors) == 2
        found = [item.text for item in memory.retrieve([TextQuery("watering the fern")])]
        assert any("water_plants" in text or "water plants" in text for text in found), found
        assert any("tuesday" in text for text in found), found
    with MemorySystem.open(path, embedder=embedder, spatial=False) as memory:
        assert memory.flush() == 0 and len(memory.vectors) == 2  # embedded once: nothing is queued again


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_keeps_what_it_says(tmp_path: Path, embedder, name: str) -> None:
    with MemorySystem.open(tmp_path / f"{name}.db", preset_name=name, embedder=embedder, spatial=False) as memory:
        _fill(memory)
        stats = memory.stats()
        config = PRESETS[name]
        assert stats["preset"] == name
        assert (stats["objects"] > 0) == config.objects
        assert (stats["events"] > 0) == config.events
        assert (stats["facts"] > 0) == config.semantic
        assert (stats["vectors"] > 0) == config.text_index
        assert memory.working.config.capacity == config.working.capacity
        assert config.description
    assert PRESETS["karma"].working.capacity == 100
    assert (
        PRESETS["mem4nav"].working.capacity,
        PRESETS["mem4nav"].working.mem4nav_lambda,
        PRESETS["mem4nav"].working.radius,
    ) == (128, 0.5, 3.0)


def test_unknown_preset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown memory preset"):
        MemorySystem.open(tmp_path / "b.db", preset_name="nope")


def test_forgetting_keeps_pinned_and_what_pinned_facts_refer_to(tmp_path: Path, embedder) -> None:
    """Under a tight budget the least valuable events go, least important first; use counts as value (an unimportant
    event used just now outlives important ones never used); pinned facts and the events they name stay."""
    importance = np.random.default_rng(0).permutation(40) / 50 + 0.1  # 40 distinct values, 0.10 to 0.88
    with MemorySystem.open(tmp_path / "b.db", embedder=embedder, spatial=False) as memory:
        ids = [
            memory.record_event(Event("robot", "look", float(t), float(t) + 1.0), importance=float(importance[t]))
            for t in range(40)
        ]
        by_value = [ids[t] for t in np.argsort(importance)]  # least important first
        protected, used = by_value[0], by_value[1]
        memory.facts.assert_fact(f"event:{protected}", "is", "the first thing I did", time_s=1.0, source="user", pinned=True)
        memory.events.touch([used], now=1000.0)
        memory.flush()
        report = memory.forget(budget_items=25, now=1000.0)
        remaining = {r[0] for r in memory.bank.query("SELECT id FROM events")}
        # 40 events and the pinned fact are 41 items: the 16 least important events that nothing protects go.
        assert report.removed == {"event": 16, "snapshot": 0, "fact": 0} and report.items_after == 25
        assert remaining == set(ids) - set(by_value[2:18])
        assert memory.facts.count() == 1
        assert len(memory.vectors) == len(remaining)  # the index forgets with the stores


def test_observe_files_a_real_frame(tmp_path: Path, embedder) -> None:
    """Household frames through perception into the system: objects are recorded with rooms, snapshots are kept."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "envs"))
    from household_testkit import face

    from mindpalace.envs import make
    from mindpalace.perception.pipeline import PerceptionPipeline

    env = make("mindpalace/Household-v0", width=320, height=240, n_rooms=3)
    env.reset(seed=0)
    piece = next(
        p
        for p in env.privileged.apartment.furniture
        if any(k[0] == p.id and "drawer" not in k[1] for k in env.privileged.receptacle_contents())
    )
    obs = face(env, piece)
    with MemorySystem.open(tmp_path / "b.db", embedder=embedder) as memory:
        memory.spatial.set_rooms(env.privileged.room_polygons(), privileged=True)
        updates = memory.observe(obs, PerceptionPipeline(embedder=embedder).process(obs))
        assert updates and memory.objects.count() == len({u.object_id for u in updates})
        assert all(r.room for r in memory.objects.find(limit=50))
        assert memory.events.snapshot_count() >= 1
        assert np.asarray(memory.events.snapshot_image(1)).shape == (240, 320, 3)
    env.close()


def test_recall_events_by_object_name(memory: MemorySystem) -> None:
    """'What did I last do with the mug': events of every object memory holds under that name."""
    by_name = call_tool(memory, "recall_events", {"order": "last", "object": "red mug"})
    by_id = call_tool(memory, "recall_events", {"order": "last", "object_id": 1})
    assert by_name.ok and by_name.items and by_name.items[0].key == by_id.items[0].key
    assert by_name.items[0].data["action"] == "place"
    assert call_tool(memory, "recall_events", {"order": "first", "object": "mug"}).items[0].data["action"] == "pick"
    assert call_tool(memory, "recall_events", {"order": "first", "object": "unicorn"}).items == []
