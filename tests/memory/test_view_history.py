"""ViewHistory: earlier coarse views tell whether a place was seen empty, or filled, before a time."""

from __future__ import annotations

import numpy as np

from mindpalace.memory.spatial.objects import DepthView
from mindpalace.memory.spatial.view_history import ViewHistory, ViewHistoryConfig

FLOOR = ((-1.0, -4.0, -0.1), (6.0, 8.0, 0.0))
TABLE = ((2.0, -0.5, 0.0), (2.9, 0.5, 0.75))
MUG = ((2.36, -0.04, 0.75), (2.44, 0.04, 0.85))
SCREEN = ((1.5, -0.6, 0.0), (1.52, 0.6, 1.6))  # a panel between the camera and the table
EYE, TARGET = (1.0, 0.0, 1.4), (2.4, 0.0, 0.75)


def _mug_points(mem) -> np.ndarray:
    """The mug's surface as a camera sees it (the points a percept of it would hold)."""
    _, shown = mem.render([FLOOR, TABLE, MUG], mem.look_at(EYE, TARGET))
    return shown[2]


def _history(mem, boxes, time_s: float = 1.0, config: ViewHistoryConfig | None = None) -> ViewHistory:
    pose = mem.look_at(EYE, TARGET)
    depth, _ = mem.render(boxes, pose)
    history = ViewHistory(config)
    history.add(DepthView(depth, mem.camera, pose), time_s)
    return history


def test_an_empty_table_seen_earlier_is_evidence_that_the_mug_arrived(mem):
    history = _history(mem, [FLOOR, TABLE])
    points = _mug_points(mem)
    assert history.evidence(points, 2.0) == "arrived"
    # Only views before the time count: the table seen empty after the mug was first seen says nothing of before.
    assert history.evidence(points, 1.0) == "unknown"


def test_a_mug_that_stood_there_was_there(mem):
    assert _history(mem, [FLOOR, TABLE, MUG]).evidence(_mug_points(mem), 2.0) == "there"


def test_a_flat_object_gives_no_evidence_that_it_was_there(mem):
    """Keys 1 cm thick: their table reads as close as they do, so a view of them proves nothing either way."""
    keys = ((2.33, -0.05, 0.75), (2.47, 0.05, 0.76))
    _, shown = mem.render([FLOOR, TABLE, keys], mem.look_at(EYE, TARGET))
    assert _history(mem, [FLOOR, TABLE, keys]).evidence(shown[2], 2.0) == "unknown"


def test_a_hidden_place_is_no_evidence(mem):
    assert _history(mem, [FLOOR, TABLE, SCREEN]).evidence(_mug_points(mem), 2.0) == "unknown"


def test_a_place_out_of_view_is_no_evidence(mem):
    history = _history(mem, [FLOOR, TABLE])
    assert history.evidence(_mug_points(mem) + [0.0, 5.0, 0.0], 2.0) == "unknown"


def test_the_history_keeps_only_the_latest_views(mem):
    history = ViewHistory(ViewHistoryConfig(max_views=3))
    pose = mem.look_at(EYE, TARGET)
    empty, _ = mem.render([FLOOR, TABLE], pose)
    occupied, _ = mem.render([FLOOR, TABLE, MUG], pose)
    history.add(DepthView(empty, mem.camera, pose), 1.0)
    for time_s in (2.0, 3.0, 4.0):
        history.add(DepthView(occupied, mem.camera, pose), time_s)
    # The one view that saw the table empty has gone from the ring.
    assert len(history) == 3 and history.evidence(_mug_points(mem), 5.0) == "there"
