"""Pairing colour and depth frames by stamp, as message_filters' approximate-time policy does for two topics.

A frame is paired with the other stream's frame nearest in stamp, if that is within `slop_s`. Frames left behind
(their partner never came, or a later pair was made first) are dropped and counted per stream in `unpaired`
(colour, depth), never silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

Item = tuple[float, Any]  # (stamp in seconds, message)


@dataclass
class StampPairer:
    slop_s: float = 0.02
    queue: int = 10  # frames kept per stream while waiting for a partner

    def __post_init__(self) -> None:
        if self.slop_s < 0 or self.queue < 1:
            raise ValueError("slop must be >= 0 and the queue at least 1")
        self._streams: tuple[list[Item], list[Item]] = ([], [])
        self.unpaired = [0, 0]  # colour, depth

    def add_color(self, stamp_s: float, msg: Any) -> tuple[Any, Any, float] | None:
        """(colour, depth, stamp) when this frame completes a pair."""
        return self._add(0, stamp_s, msg)

    def add_depth(self, stamp_s: float, msg: Any) -> tuple[Any, Any, float] | None:
        return self._add(1, stamp_s, msg)

    def _add(self, side: int, stamp_s: float, msg: Any) -> tuple[Any, Any, float] | None:
        mine, other = self._streams[side], self._streams[1 - side]
        partner = min(range(len(other)), key=lambda i: abs(other[i][0] - stamp_s), default=None)
        if partner is not None and abs(other[partner][0] - stamp_s) <= self.slop_s:
            _, matched = other[partner]
            # Everything older than this pair can no longer be paired in order: dropped.
            self.unpaired[1 - side] += partner
            self.unpaired[side] += sum(1 for s, _ in mine if s < stamp_s)
            del other[: partner + 1]
            mine[:] = [(s, m) for s, m in mine if s > stamp_s]
            color, depth = (msg, matched) if side == 0 else (matched, msg)
            return color, depth, stamp_s
        mine.append((stamp_s, msg))
        mine.sort(key=itemgetter(0))
        if len(mine) > self.queue:
            del mine[0]
            self.unpaired[side] += 1
        return None

    def drain(self) -> None:
        """Drop what waits (at the end of a stream), counted as unpaired."""
        for side, stream in enumerate(self._streams):
            self.unpaired[side] += len(stream)
            stream.clear()
