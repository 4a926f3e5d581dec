"""The ground-truth segmenter: the simulator's instance ids and label table turned into Segments."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from mindpalace.core.types import InstanceInfo
from mindpalace.perception.segmenters import SEGMENTERS
from mindpalace.perception.segmenters.ground_truth import GroundTruthSegmenter


@pytest.fixture
def labelled_frame(synth):
    """A frame with floor (1), a mug (5), a table (6), a drawer part (7) and an id 9 missing from the table."""
    obs = synth.observation([synth.Box((2.0, 0.0, 0.15), (0.2, 0.15, 0.15), info=synth.mug)])
    seg = obs.segmentation.copy()
    seg[:10, :20] = 6
    seg[:10, 20:30] = 7
    seg[-5:, -5:] = 9
    instances = {
        1: synth.floor,
        5: synth.mug,
        6: synth.table,
        7: InstanceInfo(7, "table_1/drawer_1", "drawer", "part", parent=6),
    }
    return replace(obs, segmentation=seg, instances=instances)


def test_default_kinds_are_small_objects_only(labelled_frame):
    """By default only "object" instances are returned, with masks equal to their id pixels."""
    segments = GroundTruthSegmenter().segment(labelled_frame)
    assert [s.source_id for s in segments] == [5]
    (mug,) = segments
    assert mug.mask.dtype == bool and mug.mask.shape == labelled_frame.depth.shape
    np.testing.assert_array_equal(mug.mask, labelled_frame.segmentation == 5)
    assert mug.label == "mug" and mug.score == 1.0  # the category, not the instance name "mug_1"


def test_requested_kinds_and_labels_are_categories(labelled_frame):
    """Asking for furniture and parts adds them, labelled by category; structure stays out unless asked for."""
    segments = GroundTruthSegmenter(kinds=("object", "furniture", "part")).segment(labelled_frame)
    assert {s.source_id: s.label for s in segments} == {5: "mug", 6: "table", 7: "drawer"}
    for s in segments:
        np.testing.assert_array_equal(s.mask, labelled_frame.segmentation == s.source_id)
    only_structure = GroundTruthSegmenter(kinds=("structure",)).segment(labelled_frame)
    assert [(s.source_id, s.label) for s in only_structure] == [(1, "floor")]


def test_attributes_are_copied(labelled_frame, synth):
    """A segment carries the instance's attributes as its own dict: changing it leaves the label table alone."""
    (mug,) = GroundTruthSegmenter().segment(labelled_frame)
    assert mug.attributes == {"color": "red", "material": "ceramic"}
    mug.attributes["color"] = "blue"
    assert labelled_frame.instances[5].attributes["color"] == "red"


def test_unknown_id_is_skipped_with_a_warning(labelled_frame, caplog):
    """An id with no label-table entry is not a segment, and a warning names it; id 0 (none) is silent."""
    with caplog.at_level(logging.WARNING, logger="mindpalace.perception.segmenters.ground_truth"):
        segments = GroundTruthSegmenter(kinds=("object", "furniture", "part", "structure")).segment(labelled_frame)
    assert 9 not in {s.source_id for s in segments}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "9" in warnings[0].getMessage()


def test_min_pixels_drops_small_instances(labelled_frame):
    """Instances with fewer pixels than min_pixels are left out."""
    mug_pixels = int((labelled_frame.segmentation == 5).sum())
    assert GroundTruthSegmenter(min_pixels=mug_pixels).segment(labelled_frame)
    assert GroundTruthSegmenter(min_pixels=mug_pixels + 1).segment(labelled_frame) == []


def test_no_segmentation_is_a_value_error(labelled_frame):
    """An observation without a segmentation image cannot be segmented this way."""
    with pytest.raises(ValueError, match="segmentation"):
        GroundTruthSegmenter().segment(replace(labelled_frame, segmentation=None))


def test_registered_as_the_default_segmenter():
    """SEGMENTERS.make("ground_truth", kinds=...) builds this segmenter with those kinds."""
    segmenter = SEGMENTERS.make("ground_truth", kinds=("furniture",))
    assert isinstance(segmenter, GroundTruthSegmenter) and segmenter.kinds == ("furniture",)
