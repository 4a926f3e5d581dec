"""The per-frame perception write path: validate -> segment -> lift -> embed, plus occupancy points."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from mindpalace.core.config import Component
from mindpalace.core.embedder import Embedder
from mindpalace.core.geometry import backproject
from mindpalace.core.types import FramePercepts, Observation
from mindpalace.perception.embeddings import TextEmbedder
from mindpalace.perception.lifting import LiftingConfig, lift_segment
from mindpalace.perception.segmenters import SEGMENTERS, Segmenter
from mindpalace.perception.validation import FrameError, validate_frame

log = logging.getLogger(__name__)


@dataclass
class PerceptionConfig:
    segmenter: Component = field(default_factory=lambda: Component("ground_truth"))  # a name in SEGMENTERS, and its arguments
    lifting: LiftingConfig = field(default_factory=LiftingConfig)
    min_pixels: int = 30  # segments smaller than this are too far or too occluded to place well
    depth_stride: int = 4  # every k-th pixel in each direction feeds occupancy
    max_depth: float = 5.0  # m; occupancy rays beyond this are dropped
    ignore_labels: tuple[str, ...] = ()
    self_radius: float = 0.32  # m; depth points this close to the base's axis are the robot's own body (a self filter)


class PerceptionPipeline:
    """Turns observations into `FramePercepts`. Bad frames raise `FrameError`; nothing is half-written."""

    def __init__(
        self, config: PerceptionConfig | None = None, embedder: Embedder | None = None, segmenter: Segmenter | None = None
    ) -> None:
        self.config = config or PerceptionConfig()
        self.embedder = embedder or TextEmbedder()
        self.segmenter = segmenter or SEGMENTERS.make(self.config.segmenter.type, **self.config.segmenter.args)
        self._warned_cameras: set[str] = set()  # cameras whose implausible depth was warned about

    def process(self, obs: Observation) -> FramePercepts:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        obs, repaired = validate_frame(obs, warned=self._warned_cameras)
        if repaired:
            log.info("frame at %.2f s: %d invalid depth pixels set to no reading", obs.time_s, repaired)
        segments = [
            s
            for s in self.segmenter.segment(obs)
            if s.mask.shape == obs.depth.shape
            and np.count_nonzero(s.mask) >= self.config.min_pixels
            and s.label not in self.config.ignore_labels
        ]
        mark = time.perf_counter()
        timings["segment"] = (mark - start) * 1000
        embeddings = self.embedder.embed([s.label for s in segments])
        percepts = []
        for segment, embedding in zip(segments, embeddings):
            percept = lift_segment(segment, obs, embedding, self.config.lifting)
            if percept is not None:
                percepts.append(percept)
        timings["lift"] = (time.perf_counter() - mark) * 1000
        mark = time.perf_counter()
        stride = self.config.depth_stride
        sub = obs.depth[::stride, ::stride]
        valid = (sub > 0) & (sub <= self.config.max_depth)
        full_mask = np.zeros(obs.depth.shape, dtype=bool)
        full_mask[::stride, ::stride] = valid
        depth_points = backproject(obs.depth, obs.camera, obs.camera_pose, full_mask)
        # Looking down (at a drawer, at the floor) the camera sees its own base: left in, it blocks the robot's own cell.
        offset = depth_points[:, :2] - obs.base_pose[:2, 3]
        depth_points = depth_points[np.einsum("ij,ij->i", offset, offset) > self.config.self_radius**2]
        timings["depth_points"] = (time.perf_counter() - mark) * 1000
        return FramePercepts(
            obs.time_s,
            percepts,
            depth_points,
            obs.camera_pose[:3, 3].copy(),
            timings,
            obs.depth,
            obs.camera,
            obs.camera_pose,
            repaired,
        )


__all__ = ["FrameError", "FramePercepts", "PerceptionConfig", "PerceptionPipeline"]
