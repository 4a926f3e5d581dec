"""Episodic memory: the event timeline (writes, each query, ordering) and snapshots (3D-Mem co-visibility selection)."""

from __future__ import annotations

import math
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mindpalace.core.types import Event
from mindpalace.memory.bank import Bank
from mindpalace.memory.episodic import EpisodicStore, SnapshotConfig, SnapshotSelector, describe


@pytest.fixture
def store(bank):
    return EpisodicStore(bank)


def event(
    action: str, start: float, end: float | None = None, objects: tuple[int, ...] = (), place: str | None = None, **arguments
) -> Event:
    return Event("robot", action, start, start + 1.0 if end is None else end, arguments, objects, place)


def camera_pose(x: float, y: float, yaw: float, z: float = 1.2) -> np.ndarray:
    """Camera optical frame -> world for a level camera at (x, y, z) looking along `yaw` (z forward, x right, y down)."""
    forward = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, (0.0, 0.0, -1.0), forward, (x, y, z)
    return pose


def image(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A smooth gradient with a little noise: compresses like a real frame, unlike pure noise."""
    rng = np.random.default_rng(seed)
    u, v = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    rgb = np.stack([u * 200, v * 200, (1 - u) * 150 + 50], axis=-1) + rng.normal(0, 4, (height, width, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------ events
def test_event_round_trip(store):
    """Every field of an event comes back as written, with its position, text and bookkeeping."""
    original = Event(
        "robot",
        "pick",
        10.0,
        12.5,
        {"object": 7, "grasp": "top", "offsets": [0.1, 0.2]},
        (7, 3),
        "kitchen",
        success=False,
        reason="out of reach",
    )
    event_id = store.add_event(original, x=1.5, y=-2.0, importance=0.9, text="tried to pick the mug")
    record = store.get(event_id)
    assert record is not None and record.id == event_id
    assert record.event == original
    assert (record.x, record.y, record.importance, record.text) == (1.5, -2.0, 0.9, "tried to pick the mug")
    assert record.duration_s == 2.5 and not record.pinned and record.access_count == 0 and record.last_access is None
    assert record.size_bytes > len("tried to pick the mug")
    assert store.get(event_id + 1) is None and store.count() == 1


def test_default_text_describes_the_event(store):
    record = store.get(store.add_event(Event("robot", "open", 3.0, 4.0, {"target": "fridge"}, (5,), "kitchen", False, "locked")))
    assert record.text == describe(record.event)
    assert record.text == "robot open(target=fridge) objects 5 in the kitchen at 3.0-4.0s: failed (locked)"


def test_add_events_is_one_transaction(store):
    """A batch returns ids in order; a bad event in it keeps none of the batch."""
    ids = store.add_events([event("look", t) for t in range(5)], positions=[(t, 0.0) for t in range(5)])
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [store.get(i).x for i in ids] == [0.0, 1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match="before it starts"):
        store.add_events([event("look", 10.0), event("look", 11.0, end=10.0)])
    assert store.count() == 5
    with pytest.raises(ValueError, match="positions"):
        store.add_events([event("look", 1.0)], positions=[])


def test_add_events_writes_what_add_event_writes(tmp_path: Path) -> None:
    """The batch path (one statement for all rows) gives the rows, ids and object links that one add_event each gives,
    also after the newest event was deleted (AUTOINCREMENT never reuses its id) and with an object named twice."""
    events = [event("pick", float(t), objects=(t % 3, 7, t % 3), place="hall" if t % 2 else None, grasp=t) for t in range(6)]
    positions = [(float(t), -float(t)) if t != 2 else None for t in range(6)]
    dumps = []
    for batched in (False, True):
        with Bank(tmp_path / f"batched-{batched}.db") as bank:
            store = EpisodicStore(bank)
            store.delete([store.add_event(event("look", 0.0))])
            if batched:
                ids = store.add_events(events[:4], positions[:4], importance=0.7) + store.add_events(
                    events[4:], positions[4:], 0.7
                )
            else:
                ids = [store.add_event(e, *(xy or (None, None)), importance=0.7) for e, xy in zip(events, positions)]
            assert ids == list(range(2, 8)) and store.add_events([]) == []
            dumps.append(
                (
                    [tuple(row) for row in bank.query("SELECT * FROM events ORDER BY id")],
                    [tuple(row) for row in bank.query("SELECT * FROM event_objects ORDER BY event_id, object_id")],
                )
            )
    assert dumps[0] == dumps[1]
    assert len(dumps[0][1]) == 6 * 2  # (t % 3, 7) once each


def test_events_between_overlap_newest_first(store):
    """A long event that started before the window but still ran in it counts; order is newest first."""
    long_one = store.add_event(event("navigate", 0.0, 10.0))
    short = store.add_event(event("look", 5.0, 6.0))
    later = store.add_event(event("pick", 12.0, 13.0))
    last = store.add_event(event("place", 20.0, 30.0))
    assert [e.id for e in store.events_between(8.0, 12.5)] == [later, long_one]
    assert [e.id for e in store.events_between(0.0, 100.0, limit=2)] == [last, later]
    assert [e.id for e in store.events_between(5.5, 5.6)] == [short, long_one]
    assert store.events_between(14.0, 19.0) == []
    assert len(store.events_between(-math.inf, math.inf, 10**9)) == 4


def test_events_with_object(store):
    """What did I do with object 7: newest first, each event once even if it names the object twice."""
    first = store.add_event(event("pick", 1.0, objects=(7, 7)))
    store.add_event(event("pick", 2.0, objects=(8,)))
    last = store.add_event(event("place", 3.0, objects=(8, 7)))
    assert [e.id for e in store.events_with_object(7)] == [last, first]
    assert [e.id for e in store.events_with_object(7, limit=1)] == [last]
    assert store.events_with_object(99) == []


def test_events_by_action_and_place(store):
    ids = [
        store.add_event(event(action, t, place=place))
        for t, (action, place) in enumerate([("pick", "kitchen"), ("place", "kitchen"), ("pick", "bedroom"), ("pick", "kitchen")])
    ]
    assert [e.id for e in store.events_by_action("pick")] == [ids[3], ids[2], ids[0]]
    assert [e.id for e in store.events_at("kitchen", limit=2)] == [ids[3], ids[1]]
    assert store.events_by_action("open") == []


def test_events_near_is_a_circle(store):
    """Inside the radius counts; the corner of the bounding box and events without a position do not."""
    inside = store.add_event(event("look", 1.0), x=1.0, y=1.0)
    store.add_event(event("look", 2.0), x=1.9, y=1.9)  # in the box around (1, 1) with radius 1, not in the circle
    edge = store.add_event(event("look", 3.0), x=2.0, y=1.0)
    store.add_event(event("look", 4.0))
    store.add_event(event("look", 5.0), x=-5.0, y=1.0)
    assert [e.id for e in store.events_near(1.0, 1.0, 1.0)] == [edge, inside]
    assert [e.id for e in store.events_near(1.0, 1.0, 1.0, limit=1)] == [edge]


def test_first_and_last_event(store):
    """Event order: the first/last of an action, with an object, after or before a time."""
    a = store.add_event(event("pick", 1.0, objects=(1,)))
    b = store.add_event(event("place", 2.0, objects=(1,)))
    c = store.add_event(event("pick", 3.0, objects=(2,)))
    d = store.add_event(event("pick", 3.0, objects=(1,)))  # same start as c: the id breaks the tie
    assert store.first_event().id == a and store.last_event().id == d
    assert store.first_event(action="place").id == b
    assert store.first_event(action="pick", after=2.0).id == c
    assert store.last_event(object_id=1, before=2.5).id == b
    assert store.first_event(action="pick", object_id=2).id == c
    assert store.last_event(action="open") is None and store.first_event(after=10.0) is None


def test_longest_events_and_duration_filter(store):
    durations = [3.0, 0.5, 10.0, 1.0, 3.0]
    ids = [store.add_event(event("wait", float(10 * i), 10 * i + d)) for i, d in enumerate(durations)]
    assert [e.id for e in store.longest_events(3)] == [ids[2], ids[4], ids[0]]
    assert [e.duration_s for e in store.longest_events(5)] == sorted(durations, reverse=True)
    assert [e.id for e in store.events_longer_than(3.0)] == [ids[4], ids[2], ids[0]]


def test_touch_and_delete(store):
    ids = store.add_events([event("look", t, objects=(4,)) for t in range(3)])
    store.touch(ids[:2], now=100.0)
    store.touch(ids[:1], now=200.0)
    assert [(store.get(i).access_count, store.get(i).last_access) for i in ids] == [(2, 200.0), (1, 100.0), (0, None)]
    assert store.delete([ids[0], ids[2], 9999]) == 2
    assert store.count() == 1 and store.get(ids[0]) is None
    assert [e.id for e in store.events_with_object(4)] == [ids[1]]  # the object links went with the events
    assert store.bank.query("SELECT COUNT(*) FROM event_objects")[0][0] == 1


def test_events_survive_reopening(tmp_path):
    path = tmp_path / "bank.db"
    with Bank(path) as bank:
        store = EpisodicStore(bank)
        ids = store.add_events([event("pick", t, objects=(t,), place="hall", grasp="side") for t in range(20)])
        written = [asdict(store.get(i)) for i in ids]
    with Bank(path) as bank:
        store = EpisodicStore(bank)
        assert [asdict(e) for e in reversed(store.events_between(0, 100))] == written
        assert store.first_event(object_id=3).start_s == 3.0
    with Bank(path, readonly=True) as bank:
        assert EpisodicStore(bank).count() == 20


def test_readers_query_while_a_writer_writes(store):
    """Reader threads (each on its own connection) see counts that only grow, and no errors, while a thread writes."""
    n_events, errors, seen = 400, [], {i: [] for i in range(3)}
    done = threading.Event()

    def write() -> None:
        try:
            for t in range(n_events):
                store.add_event(event("look", float(t), objects=(t % 5,)), x=t * 0.01, y=0.0)
        except Exception as error:
            errors.append(error)
        finally:
            done.set()

    def read(reader: int) -> None:
        try:
            while not done.is_set():
                seen[reader].append(store.count())
                recent = store.events_between(0.0, float(n_events), limit=10)
                assert [e.start_s for e in recent] == sorted((e.start_s for e in recent), reverse=True)
                store.events_with_object(reader, limit=5)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=write, daemon=True)]
    threads += [threading.Thread(target=read, args=(i,), daemon=True) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Daemon threads: one that hangs fails the test here rather than holding the test process open.
    assert not [t.name for t in threads if t.is_alive()], "threads still running after 60 s"
    assert errors == []
    assert store.count() == n_events
    for counts in seen.values():
        assert counts and counts == sorted(counts)
    assert max(max(c) for c in seen.values()) > 0


# ------------------------------------------------------------------ snapshots
@pytest.fixture
def selector(store):
    return SnapshotSelector(store)


def test_snapshot_round_trip_and_image(selector, store):
    """The pose, position, heading, objects and the image (decoded to the right size) come back."""
    pose = camera_pose(2.0, -1.0, math.pi / 2)
    rgb = image()
    snapshot_id = selector.consider(5.0, pose, rgb, {3: 400, 4: 120, 5: 10})  # 10 px of object 5 is too little to count
    record = store.snapshot(snapshot_id)
    np.testing.assert_array_equal(record.pose, pose)
    assert (record.x, record.y, record.time_s, record.width, record.height) == (2.0, -1.0, 5.0, 320, 240)
    assert record.yaw == pytest.approx(math.pi / 2)
    assert record.objects == {3: 400, 4: 120} and not record.frontier
    decoded = store.snapshot_image(snapshot_id)
    assert decoded.shape == (240, 320, 3) and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(float) - rgb).mean() < 4.0  # JPEG at quality 85
    assert 2_000 < record.size_bytes < 40_000
    with pytest.raises(KeyError):
        store.snapshot_image(snapshot_id + 1)


def test_snapshot_bytes_at_320x240(store):
    """What one kept snapshot costs: a real 320x240 frame as JPEG 85 (the default), and as WebP."""
    frame = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_rgbd" / "RGBD" / "color" / "00000.jpg"
    if not frame.exists():
        pytest.skip("the shared real RGB-D frames are not here")
    rgb = np.asarray(Image.open(frame).convert("RGB").resize((320, 240), Image.BILINEAR))
    sizes = {}
    for object_id, image_format in enumerate(("JPEG", "WEBP")):
        selector = SnapshotSelector(store, SnapshotConfig(image_format=image_format))
        snapshot_id = selector.consider(0.0, np.eye(4), rgb, {object_id: 1000})
        sizes[image_format] = store.snapshot(snapshot_id).size_bytes
        decoded = store.snapshot_image(snapshot_id)
        assert decoded.shape == (240, 320, 3) and np.abs(decoded.astype(float) - rgb).mean() < 6.0
    print(f"\nsnapshot bytes at 320x240 (real frame): JPEG 85 {sizes['JPEG']}, WebP 85 {sizes['WEBP']}")
    assert sizes["JPEG"] < 30_000 and sizes["WEBP"] < sizes["JPEG"]


def test_a_frame_is_kept_only_when_it_adds_something(selector, store):
    pose, rgb = camera_pose(0, 0, 0), image(64, 48)
    first = selector.consider(0.0, pose, rgb, {1: 100, 2: 100})
    assert first is not None
    assert selector.consider(1.0, pose, rgb, {1: 140, 2: 50}) is None  # not 1.5x better
    assert selector.consider(2.0, pose, rgb, {1: 20, 9: 30}) is None  # too few pixels of the new object 9
    assert selector.consider(3.0, pose, rgb, {}) is None
    assert selector.consider(4.0, pose, rgb, {1: 100, 2: 100, 3: 60}) is not None  # object 3 had no snapshot
    assert store.snapshot(first) is None  # the new view shows objects 1 and 2 as large: the first one is redundant
    assert store.snapshot_count() == 1


def test_a_better_view_replaces_a_worse_one(selector, store):
    pose, rgb = camera_pose(0, 0, 0), image(64, 48)
    worse = selector.consider(0.0, pose, rgb, {1: 100})
    better = selector.consider(1.0, pose, rgb, {1: 150})
    assert better is not None and store.snapshot(worse) is None
    assert [s.id for s in store.snapshots_of(1)] == [better]


def test_redundant_snapshots_are_pruned_unique_ones_kept(selector, store):
    """A snapshot goes only when every object it shows is shown as large (or large enough) by another one."""
    pose, rgb = camera_pose(0, 0, 0), image(64, 48)
    a = selector.consider(0.0, pose, rgb, {1: 100, 2: 100})
    b = selector.consider(1.0, pose, rgb, {3: 100})
    c = selector.consider(2.0, pose, rgb, {1: 200, 3: 200})
    assert store.snapshot(b) is None  # object 3 is shown larger by c
    assert store.snapshot(a) is not None  # a is still the only view of object 2
    assert [s.id for s in store.snapshots_of(1, limit=5)] == [c, a]  # best first
    d = selector.consider(3.0, pose, rgb, {2: 300})
    assert store.snapshot(a) is None and {s.id for s in store.snapshots_near(0, 0, 1)} == {c, d}


@pytest.mark.parametrize("seed", [0, 1])
def test_selection_keeps_every_object_covered_by_few_snapshots(selector, store, seed):
    """200 frames of a robot circling a room of 30 objects with overlapping views: every object seen stays covered by a
    view within better_ratio of the best it was seen, and every kept snapshot is the strictly best view of some object,
    so there are fewer snapshots than objects."""
    rng = np.random.default_rng(seed)
    objects = {i + 1: rng.uniform((-5.0, -3.0), (5.0, 3.0)) for i in range(30)}
    rgb = image(64, 48)
    best_seen: dict[int, int] = {}
    per_view = []
    for frame in range(200):
        angle = 2 * math.pi * frame / 100  # two laps
        position = np.array([3.0 * math.cos(angle), 1.5 * math.sin(angle)])
        yaw = angle + math.pi / 2 + rng.normal(0, 0.3)  # along the path, looking a little to the sides
        visible = {}
        for object_id, place in objects.items():
            offset = place - position
            distance = float(np.linalg.norm(offset))
            bearing = math.atan2(offset[1], offset[0]) - yaw
            if 0.3 < distance < 4.0 and abs(math.remainder(bearing, 2 * math.pi)) < math.radians(35):
                visible[object_id] = int(4000 / distance**2 * rng.uniform(0.8, 1.2))
        shown = {o: p for o, p in visible.items() if p >= selector.config.min_pixels}
        for object_id, pixels in shown.items():
            best_seen[object_id] = max(best_seen.get(object_id, 0), pixels)
        per_view.append(len(shown))
        selector.consider(float(frame), camera_pose(*position, yaw), rgb, visible)

    kept = store.snapshots_near(0, 0, 100)
    best_kept = {o: max(s.objects.get(o, 0) for s in kept) for o in best_seen}
    print(
        f"\n{len(best_seen)} objects seen, {np.mean(per_view):.1f} per frame; {len(kept)} snapshots "
        f"kept, {np.mean([len(s.objects) for s in kept]):.1f} objects each; "
        f"worst kept view {min(best_kept[o] / best_seen[o] for o in best_seen):.2f} of the best seen"
    )
    assert len(best_seen) >= 25
    assert all(best_kept[o] * selector.config.better_ratio > best_seen[o] for o in best_seen)
    assert len(kept) == store.snapshot_count() <= len(best_seen)
    for snapshot in kept:
        assert any(
            all(other.objects.get(o, 0) < pixels for other in kept if other is not snapshot)
            for o, pixels in snapshot.objects.items()
        )


def test_frontier_snapshots(selector, store):
    """A frontier keeps one (the latest) view; exploring it removes that; object selection leaves frontiers alone."""
    rgb = image(64, 48)
    old = selector.add_frontier_snapshot(0.0, camera_pose(0, 0, 0), rgb, frontier_xy=(4.0, 0.0))
    new = selector.add_frontier_snapshot(1.0, camera_pose(1, 0, 0), rgb, frontier_xy=(4.2, 0.1))  # the same frontier
    other = selector.add_frontier_snapshot(2.0, camera_pose(0, 0, math.pi), rgb, frontier_xy=(-4.0, 0.0))
    assert store.snapshot(old) is None and new != old  # ids are never reused
    record = store.snapshot(new)
    assert record.frontier and record.objects == {} and (record.x, record.y) == (4.2, 0.1)
    selector.consider(3.0, camera_pose(4.2, 0.1, 0), rgb, {1: 500})
    assert store.snapshot_count(frontier=True) == 2 and store.snapshot_count(frontier=False) == 1
    assert [s.id for s in store.snapshots_near(0, 0, 5, frontier=True)] == [other, new]  # 4.0 m, then 4.2 m away
    assert [s.id for s in store.snapshots_near(4, 0, 1, frontier=True)] == [new]
    assert selector.remove_frontier_snapshots_near(4.0, 0.0, 1.0) == [new]
    assert store.snapshot_count(frontier=True) == 1 and store.snapshot_count() == 2


def test_snapshots_near_nearest_first_touch_and_delete(selector, store):
    rgb = image(64, 48)
    far = selector.consider(0.0, camera_pose(3, 0, 0), rgb, {1: 100})
    near = selector.consider(1.0, camera_pose(1, 0, 0), rgb, {2: 100})
    assert [s.id for s in store.snapshots_near(0, 0, 5)] == [near, far]
    assert [s.id for s in store.snapshots_near(0, 0, 2)] == [near]
    store.touch_snapshots([far], now=50.0)
    assert (store.snapshot(far).access_count, store.snapshot(far).last_access) == (1, 50.0)
    assert store.delete_snapshots([far, 12345]) == 1
    assert store.snapshots_of(1) == [] and store.snapshot_count() == 1


def test_snapshots_survive_reopening_and_selection_carries_on(tmp_path):
    path, rgb = tmp_path / "bank.db", image()
    with Bank(path) as bank:
        store = EpisodicStore(bank)
        kept = SnapshotSelector(store).consider(1.0, camera_pose(1, 2, 0.5), rgb, {7: 300, 8: 200})
        before = store.snapshot_image(kept)
    with Bank(path) as bank:
        store = EpisodicStore(bank)
        selector = SnapshotSelector(store)
        assert store.snapshots_of(8)[0].objects == {7: 300, 8: 200}
        np.testing.assert_array_equal(store.snapshot_image(kept), before)
        assert selector.consider(2.0, camera_pose(1, 2, 0.5), rgb, {7: 300, 8: 200}) is None  # nothing new
        assert selector.consider(3.0, camera_pose(1, 2, 0.5), rgb, {7: 450, 8: 300}) is not None
        assert store.snapshot(kept) is None and store.snapshot_count() == 1
