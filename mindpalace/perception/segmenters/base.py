"""The segmenter interface."""

from __future__ import annotations

from typing import Protocol

from mindpalace.core.types import Observation, Segment


class Segmenter(Protocol):
    """Finds object instances in one frame."""

    def segment(self, obs: Observation) -> list[Segment]:
        """The instances in `obs`, each with a full-frame boolean mask."""
        ...
