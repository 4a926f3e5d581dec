"""A TF buffer: the transforms of /tf and /tf_static, looked up between any two frames of one tree at a time.

Frames form a tree (each child has one parent). Static transforms hold at every time; dynamic ones are kept for
`cache_s` seconds and interpolated between the two samples around the asked time (translation linearly, rotation
by slerp), as tf2 does. A time outside a dynamic transform's samples by more than `tolerance_s` is an error: the
caller waits for the transform or drops the frame, it never uses a stale pose silently.
"""

from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import invert_pose, make_pose, matrix_to_quat, quat_to_matrix
from mindpalace.ros.convert import MessageError, pose_from_msg
from mindpalace.ros.messages.common import TransformStamped


class TfError(LookupError):
    """No transform between two frames at a time; `reason` is "unknown_frame", "not_connected" or "extrapolation"."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass
class _Link:
    parent: str
    static: NDArray[np.float64] | None = None  # child -> parent
    stamps: list[float] = field(default_factory=list)
    poses: list[NDArray[np.float64]] = field(default_factory=list)


def _interpolate(a: NDArray[np.float64], b: NDArray[np.float64], share: float) -> NDArray[np.float64]:
    qa, qb = matrix_to_quat(a[:3, :3]), matrix_to_quat(b[:3, :3])
    dot = float(np.dot(qa, qb))
    if dot < 0:
        qb, dot = -qb, -dot
    if dot > 0.9995:
        q = qa + share * (qb - qa)
    else:
        angle = math.acos(dot)
        q = (math.sin((1 - share) * angle) * qa + math.sin(share * angle) * qb) / math.sin(angle)
    return make_pose(quat_to_matrix(q / np.linalg.norm(q)), a[:3, 3] + share * (b[:3, 3] - a[:3, 3]))


class TfBuffer:
    def __init__(self, cache_s: float = 10.0) -> None:
        self.cache_s = cache_s
        self._links: dict[str, _Link] = {}
        self._lock = threading.Lock()

    def add(self, msg: TransformStamped, static: bool) -> None:
        """One transform (parent `header.frame_id` <- child); raises MessageError for one that is not rigid."""
        pose = pose_from_msg(msg.transform)
        child, parent = msg.child_frame_id.lstrip("/"), msg.header.frame_id.lstrip("/")
        if not child or not parent or child == parent:
            raise MessageError("frame", f"transform from {parent!r} to {child!r}")
        stamp = msg.header.stamp.seconds()
        with self._lock:
            link = self._links.get(child)
            if link is None or link.parent != parent:
                link = self._links[child] = _Link(parent)  # a re-parented frame starts over
            if static:
                link.static = pose
                return
            index = bisect.bisect(link.stamps, stamp)
            if index and link.stamps[index - 1] == stamp:
                link.poses[index - 1] = pose
            else:
                link.stamps.insert(index, stamp)
                link.poses.insert(index, pose)
            cut = bisect.bisect_left(link.stamps, link.stamps[-1] - self.cache_s)
            del link.stamps[:cut], link.poses[:cut]

    def latest_stamp(self) -> float | None:
        """The newest stamp of any dynamic transform (None before the first)."""
        with self._lock:
            stamps = [link.stamps[-1] for link in self._links.values() if link.stamps]
        return max(stamps) if stamps else None

    def frames(self) -> set[str]:
        with self._lock:
            return set(self._links) | {link.parent for link in self._links.values()}

    def lookup(self, target: str, source: str, stamp_s: float, tolerance_s: float = 0.0) -> NDArray[np.float64]:
        """4x4 source -> target (tf2's lookupTransform(target, source, time)) at `stamp_s`."""
        target, source = target.lstrip("/"), source.lstrip("/")
        with self._lock:
            known = set(self._links) | {link.parent for link in self._links.values()}
            for frame in (target, source):
                if frame not in known:
                    raise TfError("unknown_frame", f"no frame {frame!r} in TF (frames: {', '.join(sorted(known)) or 'none'})")
            up_source = self._chain(source)
            up_target = self._chain(target)
            common = next((frame for frame, _ in up_source if frame in {f for f, _ in up_target}), None)
            if common is None:
                raise TfError("not_connected", f"{source!r} and {target!r} are in different TF trees")
            source_to_common = self._compose(up_source, common, stamp_s, tolerance_s)
            target_to_common = self._compose(up_target, common, stamp_s, tolerance_s)
        return invert_pose(target_to_common) @ source_to_common

    def _chain(self, frame: str) -> list[tuple[str, _Link | None]]:
        """The frames from `frame` up to its root, each with the link to its parent (None at the root)."""
        chain, seen = [], set()
        while frame not in seen:
            seen.add(frame)
            link = self._links.get(frame)
            chain.append((frame, link))
            if link is None:
                break
            frame = link.parent
        return chain

    def _compose(
        self, chain: list[tuple[str, _Link | None]], until: str, stamp_s: float, tolerance_s: float
    ) -> NDArray[np.float64]:
        pose = np.eye(4)
        for frame, link in chain:
            if frame == until or link is None:
                break
            pose = self._at(frame, link, stamp_s, tolerance_s) @ pose
        return pose

    @staticmethod
    def _at(frame: str, link: _Link, stamp_s: float, tolerance_s: float) -> NDArray[np.float64]:
        if link.static is not None:
            return link.static
        stamps = link.stamps
        if not stamps:
            raise TfError("extrapolation", f"no transform {link.parent!r} <- {frame!r} yet")
        index = bisect.bisect_left(stamps, stamp_s)
        if index < len(stamps) and stamps[index] == stamp_s:
            return link.poses[index]
        if 0 < index < len(stamps):
            share = (stamp_s - stamps[index - 1]) / (stamps[index] - stamps[index - 1])
            return _interpolate(link.poses[index - 1], link.poses[index], share)
        nearest = 0 if index == 0 else len(stamps) - 1
        if abs(stamps[nearest] - stamp_s) <= tolerance_s:
            return link.poses[nearest]
        raise TfError(
            "extrapolation",
            f"{link.parent!r} <- {frame!r} is known from {stamps[0]:.3f} to {stamps[-1]:.3f} s, not at {stamp_s:.3f} s",
        )
