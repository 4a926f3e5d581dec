"""RGB-D sequences in a REP-103 world: z up (the cameras' mean up), the floor at z = 0.

Datasets give camera poses in a world of their own choosing (Redwood's is y-down-ish). `mindpalace perceive`
and `mindpalace ros record` both read a folder through `aligned_sequence`, so a map built from the folder and one
built from the bag recorded from it share one world frame.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.core.geometry import backproject, gravity_alignment, make_pose
from mindpalace.core.types import Observation
from mindpalace.perception.rgbd_io import RGBDSequence, open_sequence

log = logging.getLogger(__name__)


def aligned_sequence(path: str | Path, up: str = "auto", **options: Any) -> RGBDSequence:
    """The sequence at `path`; with up="auto" its world is rotated to z up and shifted to put the floor at z = 0.

    up="keep" uses the poses as given. `options` are those of `open_sequence`.
    """
    if up not in ("auto", "keep"):
        raise ValueError(f"up must be 'auto' or 'keep', got {up!r}")
    sequence = open_sequence(path, **options)
    if up == "keep":
        return sequence
    align = gravity_alignment([f.pose for f in sequence.frames])
    sequence = open_sequence(path, **options, world_transform=align)
    floor = estimate_floor_z(list(sequence)[:10])
    if floor is not None:
        align = make_pose(np.eye(3), np.array([0.0, 0.0, -floor])) @ align
        sequence = open_sequence(path, **options, world_transform=align)
    log.info("world aligned to gravity; floor %s", "at z = 0" if floor is not None else "not found")
    return sequence


def estimate_floor_z(frames: list[Observation], bin_size: float = 0.03, min_share: float = 0.03) -> float | None:
    """The floor's height in a z-up world: the lowest height holding at least `min_share` of the depth points.

    Returns None when no level is that populated (the floor was never in view).
    """
    heights = []
    for obs in frames:
        stride = np.zeros(obs.depth.shape, dtype=bool)
        stride[::4, ::4] = True
        heights.append(backproject(obs.depth, obs.camera, obs.camera_pose, stride)[:, 2])
    z = np.concatenate(heights) if heights else np.zeros(0)
    if len(z) < 100:
        return None
    counts, edges = np.histogram(z, bins=np.arange(z.min(), z.max() + bin_size, bin_size))
    populated = np.nonzero(counts >= min_share * len(z))[0]
    return float((edges[populated[0]] + edges[populated[0] + 1]) / 2) if len(populated) else None
