"""The simulator's own instance segmentation, read through the observation's label table."""

from __future__ import annotations

import logging

import numpy as np

from mindpalace.core.types import Observation, Segment

log = logging.getLogger(__name__)


class GroundTruthSegmenter:
    """Segments of the kinds asked for (small objects by default), from `obs.segmentation`.

    This is the embedded default: the label table is what the simulator's renderer knows of each
    pixel, as a perfect instance segmenter would report it. It reads no other privileged state.
    """

    def __init__(self, kinds: tuple[str, ...] = ("object",), min_pixels: int = 1) -> None:
        self.kinds = tuple(kinds)
        self.min_pixels = min_pixels

    def segment(self, obs: Observation) -> list[Segment]:
        if obs.segmentation is None:
            raise ValueError("the ground_truth segmenter needs an observation with a segmentation image")
        ids = obs.segmentation
        counts = np.bincount(ids.ravel(), minlength=1)
        segments = []
        for instance_id in np.nonzero(counts >= self.min_pixels)[0]:
            info = obs.instances.get(int(instance_id))
            if info is None:
                if instance_id != 0:
                    log.warning("segment id %d has no entry in the label table; skipped", instance_id)
                continue
            if info.kind not in self.kinds:
                continue
            segments.append(Segment(ids == instance_id, info.category, 1.0, int(instance_id), dict(info.attributes)))
        return segments
