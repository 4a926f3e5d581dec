"""Working memory: each replacement policy on hand-made sequences, the radius rule, bounds, dedup, eviction
hand-over, persistence in a bank, config errors, a full memory under every policy."""

from __future__ import annotations

import math
import random
from contextlib import nullcontext

import numpy as np
import pytest

from mindpalace.memory.bank import Bank
from mindpalace.memory.spatial.objects import ObjectUpdate
from mindpalace.memory.working import POLICIES, WorkingItem, WorkingMemory, WorkingMemoryConfig, from_object_update


def item(key: str, time_s: float = 0.0, **fields) -> WorkingItem:
    return WorkingItem(key=key, kind="event", text=f"event {key}", time_s=time_s, **fields)


def memory(policy: str, capacity: int = 3, **config) -> WorkingMemory:
    return WorkingMemory(WorkingMemoryConfig(capacity=capacity, policy=policy, **config))


def keys(items: list[WorkingItem]) -> list[str]:
    return [i.key for i in items]


# ------------------------------------------------------------------ policies
def test_fifo_evicts_the_oldest_inserted():
    wm = memory("fifo")
    for t, key in enumerate("abc"):
        wm.add(item(key), now=t)
    wm.get("a", now=3)  # reading does not matter to FIFO
    assert keys(wm.add(item("d"), now=4)) == ["a"]
    wm.add(item("b"), now=5)  # a replaced item counts as newly inserted
    assert keys(wm.add(item("e"), now=6)) == ["c"]
    assert keys(wm.items()) == ["d", "b", "e"]


def test_lru_evicts_the_least_recently_accessed():
    wm = memory("lru")
    for t, key in enumerate("abc"):
        wm.add(item(key), now=t)
    wm.get("a", now=3)
    assert keys(wm.add(item("d"), now=4)) == ["b"]
    wm.get("c", now=5)
    assert keys(wm.add(item("e"), now=6)) == ["a"]  # a (3) < d (4) < c (5)


def test_lfu_evicts_the_least_frequent_and_ties_go_to_the_oldest():
    wm = memory("lfu")
    for t, key in enumerate("abc"):
        wm.add(item(key), now=t)
    assert keys(wm.add(item("d"), now=3)) == ["a"]  # all seen once: the oldest id
    wm.get("b", now=4)
    wm.get("b", now=5)
    wm.get("d", now=6)
    assert keys(wm.add(item("e"), now=7)) == ["c"]
    assert keys(wm.add(item("f"), now=8)) == ["e"]  # e (1) < d (2) < b (3), though e is the newest


def test_importance_evicts_the_least_important():
    wm = memory("importance")
    wm.add(item("a", importance=0.9), now=0)
    wm.add(item("b", importance=0.1), now=1)
    wm.add(item("c", importance=0.5), now=2)
    assert keys(wm.add(item("d", importance=0.5), now=3)) == ["b"]
    assert keys(wm.add(item("e", importance=1.0), now=4)) == ["c"]  # c and d tie at 0.5: the older id


def _mem4nav_scene(mem4nav_lambda: float) -> WorkingMemory:
    """At now=10: a is frequent but old (freq 4, age 8), b rare but fresh (1, 1), c in between (2, 5).

    Normalised: frequency a=1, b=0, c=1/3; age a=1, b=0, c=4/7.
    """
    wm = memory("mem4nav", mem4nav_lambda=mem4nav_lambda)
    wm.add(item("a"), now=0)
    for t in (1, 2, 2):
        wm.get("a", now=t)
    wm.add(item("c"), now=3)
    wm.get("c", now=5)
    wm.add(item("b"), now=9)
    return wm


@pytest.mark.parametrize(
    ("mem4nav_lambda", "victim"),
    [
        (0.0, "a"),  # pure age: -age -> a (-1) is lowest
        (1.0, "b"),  # pure frequency -> b (0) is lowest
        (0.5, "c"),  # 0.5 * f - 0.5 * age: a 0, b 0, c (1/3 - 4/7) / 2 = -0.12
    ],
)
def test_mem4nav_score(mem4nav_lambda, victim):
    wm = _mem4nav_scene(mem4nav_lambda)
    assert keys(wm.add(item("d"), now=10)) == [victim]


def test_mem4nav_ties_go_to_the_oldest_id():
    wm = memory("mem4nav")
    for key in "abc":
        wm.add(item(key), now=0)  # equal frequency and age: every score is 0
    assert keys(wm.add(item("d"), now=1)) == ["a"]


def _min_max(values: np.ndarray) -> np.ndarray:
    return np.zeros_like(values) if np.ptp(values) == 0 else (values - values.min()) / np.ptp(values)


def test_mem4nav_formula_against_a_direct_computation():
    """Random states: the victim is the argmin of lambda * f_norm - (1 - lambda) * age_norm (oldest id on ties)."""
    rng = random.Random(7)
    for trial in range(50):
        lam = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])
        wm = memory("mem4nav", capacity=6, mem4nav_lambda=lam)
        now = 0.0
        for key in "abcdef":
            now += rng.uniform(0, 2)
            wm.add(item(key), now=now)
        for _ in range(10):
            now += rng.uniform(0, 2)
            wm.get(rng.choice("abcdef"), now=now)
        now += 1.0
        held = wm.items()
        freq = np.array([i.frequency for i in held], float)
        age = np.array([now - i.last_access for i in held])
        score = lam * _min_max(freq) - (1 - lam) * _min_max(age)
        expected = min(range(len(held)), key=lambda i: (score[i], held[i].id))
        assert keys(wm.add(item("new"), now=now)) == [held[expected].key], trial


def test_radius_rule_evicts_far_items_first():
    """Agent at the origin, radius 2 m: the far item goes before older near ones; items without a place stay."""
    wm = memory("fifo", radius=2.0)
    wm.add(item("near", position=(1.0, 1.0)), now=0)
    wm.add(item("nowhere"), now=1)
    wm.add(item("far", position=(5.0, 0.0)), now=2)
    assert keys(wm.add(item("d"), now=3, position=(0.0, 0.0))) == ["far"]
    # Standing by "far"'s old place, "near" is now the far one.
    assert keys(wm.add(item("e", position=(5.0, 0.0)), now=4, position=(5.0, 0.0))) == ["near"]
    # Nothing beyond the radius: the policy alone decides (FIFO: "nowhere" is the oldest).
    assert keys(wm.add(item("f"), now=5, position=(5.0, 0.0))) == ["nowhere"]


def test_radius_rule_is_off_without_an_agent_position():
    wm = memory("fifo", radius=2.0)
    wm.add(item("near", position=(0.0, 0.0)), now=0)
    wm.add(item("far", position=(9.0, 0.0)), now=1)
    wm.add(item("c"), now=2)
    assert keys(wm.add(item("d"), now=3)) == ["near"]


def test_radius_rule_orders_far_items_by_the_policy():
    wm = memory("importance", radius=1.0)
    wm.add(item("far_important", importance=0.9, position=(3.0, 0.0)), now=0)
    wm.add(item("near_unimportant", importance=0.0, position=(0.0, 0.0)), now=1)
    wm.add(item("far_minor", importance=0.2, position=(0.0, 3.0)), now=2)
    assert keys(wm.add(item("d"), now=3, position=(0.0, 0.0))) == ["far_minor"]
    assert keys(wm.add(item("e"), now=4, position=(0.0, 0.0))) == ["far_important"]


# ------------------------------------------------------------------ bounds, dedup, hand-over
@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("radius", [None, 3.0])
def test_capacity_holds_and_every_item_is_accounted_for(policy, radius):
    """A long random sequence of adds (repeated keys), gets and removes: never over capacity, and every
    evicted item reaches on_evict exactly once, is returned by add() and is no longer held."""
    rng = random.Random(1234)
    handed: list[WorkingItem] = []
    wm = WorkingMemory(WorkingMemoryConfig(capacity=16, policy=policy, radius=radius), on_evict=handed.append)
    returned: list[WorkingItem] = []
    replaced_or_removed: set[int] = set()
    added: set[int] = set()
    now = 0.0
    for step in range(3000):
        now += rng.uniform(0.0, 1.0)
        key = f"k{rng.randrange(60)}"
        roll = rng.random()
        if roll < 0.7:
            before = {i.key: i.id for i in wm.items()}.get(key)
            position = (rng.uniform(-5, 5), rng.uniform(-5, 5)) if rng.random() < 0.7 else None
            agent = (rng.uniform(-5, 5), rng.uniform(-5, 5))
            returned += wm.add(item(key, now, importance=rng.random(), position=position), now, agent)
            added.add(wm.items()[-1].id)
            if before is not None:
                replaced_or_removed.add(before)
        elif roll < 0.9:
            wm.get(key, now)
        else:
            gone = wm.remove(key)
            if gone is not None:
                replaced_or_removed.add(gone.id)
        assert len(wm) <= 16, step
    evicted_ids = [i.id for i in handed]
    assert [i.id for i in returned] == evicted_ids
    assert len(evicted_ids) == len(set(evicted_ids)) > 1000
    held = {i.id for i in wm.items()}
    assert held.isdisjoint(evicted_ids) and held.isdisjoint(replaced_or_removed)
    assert held | set(evicted_ids) | replaced_or_removed == added


def test_same_key_replaces_and_keeps_frequency():
    evicted: list[WorkingItem] = []
    wm = WorkingMemory(WorkingMemoryConfig(capacity=2, policy="lfu"), on_evict=evicted.append)
    wm.add(item("object:12", 1.0, importance=0.3), now=1)
    wm.get("object:12", now=2)
    first_id = wm.items()[0].id
    newer = WorkingItem(key="object:12", kind="state_change", text="mug #12 moved", time_s=3.0, importance=0.8)
    assert wm.add(newer, now=3) == [] and evicted == []
    (held,) = wm.items()
    assert len(wm) == 1 and held.text == "mug #12 moved" and held.importance == 0.8 and held.time_s == 3.0
    assert held.frequency == 3 and held.last_access == 3 and held.id > first_id


def test_object_updates_become_items_keyed_by_object():
    wm = memory("fifo")
    new = ObjectUpdate(12, "new", "mug", 1.0, None, np.array([2.0, 0.5, 0.8]))
    moved = ObjectUpdate(12, "moved", "mug", 5.0, np.array([2.0, 0.5, 0.8]), np.array([-1.0, 3.25, 0.9]))
    missing = ObjectUpdate(7, "missing", "keys", 6.0, np.array([1.0, 1.0, 0.4]), None)
    for update in (new, moved, missing):
        wm.add(from_object_update(update), now=update.time_s)
    mug, key_ring = wm.items()
    assert mug.key == "object:12" and mug.kind == "state_change" and mug.frequency == 2
    assert mug.text == "mug #12 moved at (-1.00, 3.25)" and mug.position == (-1.0, 3.25)
    assert mug.payload == {
        "object_id": 12,
        "label": "mug",
        "change": "moved",
        "previous_center": [2.0, 0.5, 0.8],
        "center": [-1.0, 3.25, 0.9],
    }
    assert key_ring.position == (1.0, 1.0) and "missing" in key_ring.text
    assert from_object_update(new).kind == "observation"


# ------------------------------------------------------------------ reading
def test_get_counts_as_an_access_and_defaults_to_the_latest_time():
    wm = memory("lru")
    wm.add(item("a"), now=1)
    wm.add(item("b"), now=4)
    got = wm.get("a")
    assert got is not None and got.frequency == 2 and got.last_access == 4
    assert wm.get("missing") is None


def test_recent_search_remove_clear():
    wm = memory("fifo", capacity=10)
    wm.add(WorkingItem(key="a", kind="observation", text="Blue mug on the kitchen table", time_s=5.0), now=5)
    wm.add(WorkingItem(key="b", kind="event", text="opened the fridge", time_s=2.0), now=6)
    wm.add(WorkingItem(key="c", kind="state_change", text="red mug moved to the sink", time_s=7.0), now=7)
    assert keys(wm.recent(2)) == ["c", "a"]  # by when it happened, not when it was filed
    assert keys(wm.search("mug table")) == ["a", "c"]  # a matches two words
    assert keys(wm.search(["MUG"])) == ["c", "a"]  # one word each: the newest first
    assert wm.search("mu") == [] and wm.search("") == []
    assert wm.items()[0].frequency == 1  # reading through search is not an access
    removed = wm.remove("a")
    assert removed is not None and removed.key == "a" and "a" not in wm and wm.remove("a") is None
    wm.clear()
    assert len(wm) == 0 and wm.items() == []


# ------------------------------------------------------------------ persistence
def test_persisted_in_a_bank_and_restored(tmp_path):
    path = tmp_path / "bank.db"
    config = WorkingMemoryConfig(capacity=3, policy="lru")
    with Bank(path) as bank:
        wm = WorkingMemory(config, bank)
        wm.add(item("a", 1.0, payload={"x": [1, 2]}, position=(1.5, -2.0), importance=0.7), now=1)
        wm.add(item("b", 2.0), now=2)
        wm.add(item("c", 3.0), now=3)
        wm.get("a", now=4)
        assert keys(wm.add(item("d", 5.0), now=5)) == ["b"]
        wm.add(item("c", 6.0, payload={"state": "open"}), now=6)
        wm.remove("d")
        wm.add(item("e", 7.0), now=7)
        before = wm.items()
        last_id = max(i.id for i in before)
    with Bank(path) as bank:
        restored = WorkingMemory(config, bank)
        assert restored.items() == before
        got = restored.get("a")
        assert got is not None and got.last_access == 7  # the latest time was restored too
        # LRU state survived: c (6) is now the least recently accessed; ids keep increasing.
        assert keys(restored.add(item("f"), now=8)) == ["c"]
        assert restored.items()[-1].id == last_id + 1
    with Bank(path) as bank:
        assert keys(WorkingMemory(config, bank).items()) == ["a", "e", "f"]


def test_restoring_into_a_smaller_capacity_evicts(tmp_path):
    path = tmp_path / "bank.db"
    with Bank(path) as bank:
        wm = WorkingMemory(WorkingMemoryConfig(capacity=4, policy="fifo"), bank)
        for t, key in enumerate("abcd"):
            wm.add(item(key), now=t)
    evicted: list[WorkingItem] = []
    with Bank(path) as bank:
        wm = WorkingMemory(WorkingMemoryConfig(capacity=2, policy="fifo"), bank, on_evict=evicted.append)
        assert keys(evicted) == ["a", "b"] and keys(wm.items()) == ["c", "d"]
    with Bank(path) as bank:
        assert keys(WorkingMemory(WorkingMemoryConfig(capacity=4, policy="fifo"), bank).items()) == ["c", "d"]


def test_clear_is_persisted(tmp_path):
    path = tmp_path / "bank.db"
    with Bank(path) as bank:
        wm = WorkingMemory(WorkingMemoryConfig(capacity=4), bank)
        wm.add(item("a"), now=0)
        wm.clear()
    with Bank(path) as bank:
        wm = WorkingMemory(WorkingMemoryConfig(capacity=4), bank)
        assert len(wm) == 0
        wm.add(item("b"), now=1)
        assert wm.items()[0].id == 2  # ids are not reused


def test_a_bank_without_the_table_gets_it(tmp_path):
    """A bank created before this module registered its schema (here: the table dropped) is given the table."""
    with Bank(tmp_path / "bank.db") as bank:
        with bank.write() as db:
            db.execute("DROP TABLE working_items")
        wm = WorkingMemory(WorkingMemoryConfig(capacity=2), bank)
        wm.add(item("a"), now=0)
        assert [row["key"] for row in bank.query("SELECT key FROM working_items")] == ["a"]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"policy": "random"}, "fifo, importance, lfu, lru, mem4nav"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 2.5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"mem4nav_lambda": 1.5}, "mem4nav_lambda"),
        ({"radius": 0.0}, "radius"),
    ],
)
def test_invalid_config(config, message):
    with pytest.raises(ValueError, match=message):
        WorkingMemoryConfig(**config)


@pytest.mark.parametrize(
    "bad",
    [
        WorkingItem(key="a", kind="event", text="two\nlines", time_s=0.0),
        item("a", importance=1.5),
        item("a", frequency=0),
        item("a", payload={"array": np.zeros(2)}),
    ],
)
def test_invalid_items_are_rejected_and_leave_no_trace(bad, tmp_path):
    with Bank(tmp_path / "bank.db") as bank:
        wm = WorkingMemory(WorkingMemoryConfig(capacity=1), bank)
        wm.add(item("b"), now=0)
        with pytest.raises((ValueError, TypeError)):
            wm.add(bad, now=1)
        assert keys(wm.items()) == ["b"]
        assert [row["key"] for row in bank.query("SELECT key FROM working_items")] == ["b"]


# ------------------------------------------------------------------ full memory
@pytest.mark.parametrize("persisted", [False, True], ids=["ram", "bank"])
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_a_full_memory_evicts_one_far_item_per_add(policy, persisted, tmp_path):
    """Full at capacity 200, each new item evicts exactly one, under every policy: one beyond the radius while any is
    (the radius rule comes first); a bank written through holds exactly what the memory holds."""
    capacity, here = 200, (0.0, 0.0)
    with Bank(tmp_path / "bank.db") if persisted else nullcontext() as bank:
        wm = WorkingMemory(WorkingMemoryConfig(capacity=capacity, policy=policy, radius=5.0), bank)
        for i in range(capacity):
            wm.add(item(f"k{i}", float(i), position=(i % 50 * 0.2, 0.0)), now=float(i))
        for i in range(capacity, capacity + 150):
            far = [x.key for x in wm.items() if math.dist(x.position, here) > 5.0]
            evicted = wm.add(item(f"k{i}", float(i), position=(i % 50 * 0.2, 0.0)), now=float(i), position=here)
            assert len(evicted) == 1 and len(wm) == capacity
            if far:
                assert evicted[0].key in far
        if bank is not None:
            stored = sorted(row["key"] for row in bank.query("SELECT key FROM working_items"))
            assert stored == sorted(keys(wm.items()))
