"""Segmenters behind a registry: `SEGMENTERS.make("ground_truth")`.

Each takes an `Observation` and returns `Segment`s. Heavy ones import their libraries lazily.
"""

from __future__ import annotations

from mindpalace.core.registry import Registry
from mindpalace.perception.segmenters.base import Segmenter

SEGMENTERS: Registry[Segmenter] = Registry("segmenter")
SEGMENTERS.register(
    "ground_truth",
    "mindpalace.perception.segmenters.ground_truth:GroundTruthSegmenter",
    description="the simulator's instance segmentation and label table (the embedded default)",
)
SEGMENTERS.register(
    "open_vocab",
    "mindpalace.perception.segmenters.open_vocab:OpenVocabSegmenter",
    install_hint="pip install transformers torch (weights from a local directory)",
    description="an open-vocabulary detector (OWLv2) through transformers, with masks from depth",
)
SEGMENTERS.register(
    "depth_clusters",
    "mindpalace.perception.segmenters.depth_clusters:DepthClusterSegmenter",
    description="class-agnostic objects from depth alone: dominant planes removed, the rest clustered",
)

__all__ = ["SEGMENTERS", "Segmenter"]
