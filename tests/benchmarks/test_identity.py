"""The identity ledger: map records traced to true instances, and merges, splits, duplicates and off-camera moves counted."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mindpalace.benchmarks.identity import IdentityLedger, OffCameraMove
from mindpalace.core.types import CameraInfo, InstanceInfo, Observation, Percept
from mindpalace.memory.spatial.objects import MapObject, ObjectMap, ObjectUpdate

# A 10x10 instance image: two drawers (parts) in the top rows, two mugs (objects) below.
DRAWER_A, DRAWER_B, MUG_1, MUG_2 = 5, 6, 7, 8
SEGMENTATION = np.zeros((10, 10), np.int32)
SEGMENTATION[0:3] = DRAWER_A
SEGMENTATION[3:6] = DRAWER_B
SEGMENTATION[6:, :5] = MUG_1
SEGMENTATION[6:, 5:] = MUG_2
INSTANCES = {
    DRAWER_A: InstanceInfo(DRAWER_A, "dresser_1/drawer_1", "drawer", "part", parent=4),
    DRAWER_B: InstanceInfo(DRAWER_B, "dresser_1/drawer_2", "drawer", "part", parent=4),
    MUG_1: InstanceInfo(MUG_1, "mug_1", "mug", "object", {"color": "red"}),
    MUG_2: InstanceInfo(MUG_2, "mug_2", "mug", "object", {"color": "blue"}),
}


def _frame(time_s: float) -> Observation:
    return Observation(
        rgb=np.zeros((10, 10, 3), np.uint8),
        depth=np.ones((10, 10), np.float32),
        camera=CameraInfo(10, 10, 10.0, 10.0, 4.5, 4.5),
        camera_pose=np.eye(4),
        base_pose=np.eye(4),
        time_s=time_s,
        segmentation=SEGMENTATION,
        instances=INSTANCES,
    )


def _update(object_id: int, instance: int, kind: str = "seen", spill: int = 0) -> ObjectUpdate:
    """An update whose percept's mask covers `instance` (and `spill` pixels of the row below, a ragged segment)."""
    mask = SEGMENTATION == instance
    rows = np.nonzero(mask.any(axis=1))[0]
    if spill and rows[-1] + 1 < 10:
        mask[rows[-1] + 1, :spill] = True
    points = np.zeros((1, 3))
    percept = Percept(
        "thing",
        mask,
        points,
        points[0],
        points[0],
        points[0],
        points[0],
        np.eye(3),
        np.zeros(3),
        np.ones(1, np.float32),
        1.0,
        0.0,
    )
    return ObjectUpdate(object_id, kind, "thing", 0.0, percept=percept)


def _record(object_id: int, label: str, center) -> MapObject:
    return MapObject(object_id, label, np.ones(1, np.float32), np.array([center], float), 1, 0.0, 0.0, 1.0)


def test_merges_splits_and_duplicates_are_counted_against_the_true_instances() -> None:
    objects = ObjectMap()
    for object_id, label, center in ((1, "drawer", 0), (2, "drawer", 1), (3, "mug", 2), (4, "mug", 3), (5, "mug", 4)):
        objects.objects[object_id] = _record(object_id, label, (center, 0.0, 0.0))
    ledger = IdentityLedger()
    ledger.file(
        _frame(1.0),
        [
            _update(1, DRAWER_A, "new", spill=3),  # mostly drawer A: traced to A
            _update(3, MUG_1, "new"),
            _update(4, MUG_1, "new"),
        ],
    )
    ledger.file(_frame(2.0), [_update(1, DRAWER_B), _update(2, DRAWER_A, "new"), _update(1, DRAWER_A), _update(5, MUG_2, "new")])
    # Record 5 was folded into record 3 since: 3 now holds both mugs.
    objects.objects.pop(5)
    objects.aliases[5] = 3
    scores = ledger.score(objects, [], {}, 0.15)
    assert ledger.records(objects) == {1: {DRAWER_A: 2, DRAWER_B: 1}, 2: {DRAWER_A: 1}, 3: {MUG_1: 1, MUG_2: 1}, 4: {MUG_1: 1}}
    assert scores["part_merges"] == 1  # record 1 holds both drawers
    assert scores["part_splits"] == 1  # drawer A is most of records 1 and 2
    assert scores["object_merges"] == 1  # record 3 holds both mugs
    assert scores["duplicates_after_day"] == 1  # mug 1 is most of records 3 (a tie, first seen) and 4
    assert scores["furniture_merges"] == scores["furniture_splits"] == 0
    assert scores["offcamera_moves"] == 0 and scores["offcamera_moves_detected_rate"] is None
    detail = scores["identity_detail"]
    assert [(m["kind"], m["record"], sorted(m["instances"])) for m in detail["merges"]] == [
        ("part", 1, ["dresser_1/drawer_1", "dresser_1/drawer_2"]),
        ("object", 3, ["mug_1", "mug_2"]),
    ]
    assert [(s["kind"], s["instance"], [r["record"] for r in s["records"]]) for s in detail["splits"]] == [
        ("part", "dresser_1/drawer_1", [1, 2]),
        ("object", "mug_1", [3, 4]),
    ]
    assert detail["splits"][1]["records"][1] == {
        "record": 4,
        "label": "mug",
        "first_seen_s": 0.0,
        "last_seen_s": 0.0,
        "center": [3.0, 0.0, 0.0],
        "moves": 0,
    }


def test_an_offcamera_move_counts_when_its_record_went_missing_and_is_at_the_new_place() -> None:
    objects = ObjectMap()
    objects.objects[3] = _record(3, "mug", (2.0, 0.0, 0.8))
    objects.objects[4] = _record(4, "mug", (5.0, 0.0, 0.8))
    objects.objects[6] = _record(6, "mug", (7.0, 1.0, 0.8))
    objects.aliases[9] = 3  # the sighting at the new place, folded into the record that went missing
    ledger = IdentityLedger()
    ledger.file(_frame(1.0), [_update(3, MUG_1, "new"), _update(4, MUG_2, "new")])
    ledger.file(_frame(5.0), [ObjectUpdate(9, "missing", "mug", 1.0)])  # missing after the move (reported as its alias)
    ledger.file(_frame(6.0), [ObjectUpdate(4, "missing", "mug", 1.0)])
    moves = [
        OffCameraMove(MUG_1, 3.0, 3),  # missing after the move, found at its new place: detected
        OffCameraMove(MUG_2, 3.0, 4),  # missing, but its record is not where the mug is now: not detected
    ]
    truth = {MUG_1: np.array([2.05, 0.0, 0.8]), MUG_2: np.array([7.0, 1.0, 0.8])}
    scores = ledger.score(objects, moves, truth, 0.15)
    assert scores["offcamera_moves"] == 2 and scores["offcamera_moves_detected_rate"] == 0.5
    early = [OffCameraMove(MUG_1, 5.5, 3)]  # the only missing report came before this move: not detected
    assert ledger.score(objects, early, truth, 0.15)["offcamera_moves_detected_rate"] == 0.0
    assert ledger.record_of(objects, MUG_1) == 3 and ledger.record_of(objects, MUG_2) == 4
    assert ledger.record_of(objects, DRAWER_A) is None


def test_look_alikes_moved_unseen_count_whichever_record_ends_at_whichever_place() -> None:
    """Two red mugs moved unseen, each record reported missing and found at the other's new place: no camera can tell
    them apart, so both moves count; mugs of two colours ending swapped count as none."""
    objects = ObjectMap()
    objects.objects[3] = _record(3, "mug", (7.0, 1.0, 0.8))  # mug 1's record, at mug 2's new place
    objects.objects[4] = _record(4, "mug", (2.0, 0.0, 0.8))  # mug 2's record, at mug 1's new place
    moves = [OffCameraMove(MUG_1, 3.0, 3), OffCameraMove(MUG_2, 3.0, 4)]
    truth = {MUG_1: np.array([2.0, 0.0, 0.8]), MUG_2: np.array([7.0, 1.0, 0.8])}
    for colors, rate in (({"color": "red"}, {"color": "red"}), 1.0), (({"color": "red"}, {"color": "blue"}), 0.0):
        instances = {
            **INSTANCES,
            MUG_1: InstanceInfo(MUG_1, "mug_1", "mug", "object", colors[0]),
            MUG_2: InstanceInfo(MUG_2, "mug_2", "mug", "object", colors[1]),
        }
        ledger = IdentityLedger()
        ledger.file(replace(_frame(1.0), instances=instances), [_update(3, MUG_1, "new"), _update(4, MUG_2, "new")])
        missing = [ObjectUpdate(3, "missing", "mug", 1.0), ObjectUpdate(4, "missing", "mug", 1.0)]
        ledger.file(replace(_frame(5.0), instances=instances), missing)
        assert ledger.score(objects, moves, truth, 0.15)["offcamera_moves_detected_rate"] == rate, colors


def test_a_move_no_frame_showed_again_is_counted_apart_not_as_missed() -> None:
    """No memory can find again an object no later frame showed: such a move is left out of the detected rate and
    counted as unseen; once a frame shows it with enough pixels, it counts (here: not found, so the rate is 0)."""
    objects = ObjectMap()
    objects.objects[3] = _record(3, "mug", (2.0, 0.0, 0.8))  # still at the old place
    ledger = IdentityLedger()
    ledger.file(_frame(1.0), [_update(3, MUG_1, "new")])
    moves = [OffCameraMove(MUG_1, 3.0, 3)]
    truth = {MUG_1: np.array([5.0, 0.0, 0.8])}
    unseen = ledger.score(objects, moves, truth, 0.15, min_pixels=10)
    assert unseen["offcamera_moves"] == 1 and unseen["offcamera_moves_unseen"] == 1
    assert unseen["offcamera_moves_detected_rate"] is None
    assert unseen["identity_detail"]["offcamera"] == [
        {"instance": "mug_1", "seen_again": False, "most_pixels_after": 0, "record": 3, "reported_missing": False, "error_m": 3.0}
    ]
    ledger.file(_frame(4.0), [])  # mug 1 fills 20 pixels of this frame
    assert ledger.score(objects, moves, truth, 0.15, min_pixels=30)["offcamera_moves_unseen"] == 1
    seen = ledger.score(objects, moves, truth, 0.15, min_pixels=10)
    assert seen["offcamera_moves_unseen"] == 0 and seen["offcamera_moves_detected_rate"] == 0.0
