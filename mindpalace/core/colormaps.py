"""False-colour pictures of depth and segmentation (numpy only)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Anchor colours of a perceptually ordered ramp (near = dark purple, far = yellow).
_RAMP = np.array(
    [[48, 18, 59], [70, 107, 227], [40, 187, 236], [49, 242, 153], [162, 252, 60], [237, 208, 58], [251, 128, 34], [122, 4, 3]],
    dtype=np.float64,
)


def colorize_depth(depth: NDArray[np.float32], max_depth: float = 6.0) -> NDArray[np.uint8]:
    """(H, W) metres -> (H, W, 3) uint8; no reading (0 or non-finite) is black."""
    valid = np.isfinite(depth) & (depth > 0)
    t = np.clip(np.where(valid, depth, 0.0) / max_depth, 0.0, 1.0) * (len(_RAMP) - 1)
    low = np.floor(t).astype(int)
    high = np.minimum(low + 1, len(_RAMP) - 1)
    frac = (t - low)[..., None]
    rgb = _RAMP[low] * (1 - frac) + _RAMP[high] * frac
    rgb[~valid] = 0
    return rgb.astype(np.uint8)


def colorize_segmentation(segmentation: NDArray[np.int32]) -> NDArray[np.uint8]:
    """(H, W) instance ids -> (H, W, 3) uint8 with a fixed colour per id; id 0 is black."""
    ids = np.asarray(segmentation, dtype=np.int64)
    # A multiplicative hash spreads neighbouring ids over distinct hues, the same in every frame.
    hashed = (ids * 2654435761) & 0xFFFFFF
    rgb = np.stack([(hashed >> 16) & 255, (hashed >> 8) & 255, hashed & 255], axis=-1).astype(np.uint8)
    rgb = (rgb // 2 + 96).astype(np.uint8)
    rgb[ids == 0] = 0
    return rgb
