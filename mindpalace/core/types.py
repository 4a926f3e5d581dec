"""Shared data types that flow between envs, perception, memory and the planner.

Frames follow REP-103/105: world z up, x forward, y left, metres, seconds, radians.
The camera optical frame has z forward, x right, y down. Poses are 4x4 float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.actions import ActionOutcome


@dataclass(frozen=True)
class CameraInfo:
    """Pinhole intrinsics of an image of `width` x `height` pixels (pixel centres at integer indices)."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @property
    def K(self) -> NDArray[np.float64]:
        """The 3x3 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @staticmethod
    def from_horizontal_fov(width: int, height: int, hfov_rad: float) -> CameraInfo:
        """Square pixels, principal point at the image centre."""
        fx = (width / 2.0) / np.tan(hfov_rad / 2.0)
        return CameraInfo(width, height, fx, fx, (width - 1) / 2.0, (height - 1) / 2.0)

    @property
    def vertical_fov_rad(self) -> float:
        return float(2.0 * np.arctan((self.height / 2.0) / self.fy))


@dataclass(frozen=True)
class InstanceInfo:
    """What the segmentation id of one instance stands for.

    `kind` is "object" (small, pickable), "furniture", "part" (an articulated drawer or door,
    `parent` is its furniture id) or "structure" (wall, floor).
    """

    id: int
    label: str
    category: str
    kind: str
    attributes: dict[str, str] = field(default_factory=dict)
    parent: int | None = None

    @property
    def description(self) -> str:
        """Words a person would use: "red ceramic mug, for drinking"."""
        words = [self.attributes[key] for key in ("color", "material") if key in self.attributes]
        text = " ".join([*words, self.category.replace("_", " ")])
        if "function" in self.attributes:
            text += f", {self.attributes['function']}"
        return text


@dataclass
class Observation:
    """One sensor reading of an env step.

    rgb: (H, W, 3) uint8. depth: (H, W) float32 metres along the optical axis, 0 = no reading.
    segmentation: (H, W) int32 instance ids, 0 = none; `instances` maps id -> InstanceInfo.
    camera_pose: camera optical frame -> world, 4x4 float64. base_pose: base frame -> world, 4x4.
    time_s: seconds since reset. time_of_day_s: seconds since midnight, or None. day: which day of a
    multi-day run the clock is in (0 = the first).
    hand_pose: the hand (tool centre point) -> world, 4x4, where the robot knows it from its own joints; None
    where it is only known as a fixed offset from the base (`RobotDescription.hand_in_world`).
    extras: anything else an env reports (the tabletop: the other cameras' views, the gripper's opening).
    """

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    camera: CameraInfo
    camera_pose: NDArray[np.float64]
    base_pose: NDArray[np.float64]
    time_s: float
    segmentation: NDArray[np.int32] | None = None
    instances: dict[int, InstanceInfo] = field(default_factory=dict)
    time_of_day_s: float | None = None
    last_outcome: ActionOutcome | None = None
    hand_pose: NDArray[np.float64] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    day: int = 0

    def clock(self) -> str:
        """The time of day as HH:MM:SS, or "" when the env has none."""
        if self.time_of_day_s is None:
            return ""
        seconds = int(self.time_of_day_s) % 86400
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass(frozen=True)
class Event:
    """Something that happened: who did what to which objects, where, when, and how it went."""

    actor: str
    action: str
    start_s: float
    end_s: float
    arguments: dict[str, Any] = field(default_factory=dict)
    objects: tuple[int, ...] = ()
    place: str | None = None
    success: bool = True
    reason: str = ""


@dataclass
class Segment:
    """One instance a segmenter found in a frame.

    mask: (H, W) bool. label: a category name, or "object" from a class-agnostic segmenter.
    score: confidence in [0, 1]. source_id: the segmenter's own id for it (the simulator's instance
    id for ground truth), 0 when it has none.
    """

    mask: NDArray[np.bool_]
    label: str
    score: float = 1.0
    source_id: int = 0
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class Percept:
    """One object seen in one frame, lifted to the world frame.

    points: (N, 3) float64 world points after downsampling and outlier removal.
    aabb_min, aabb_max: (3,) corners of the axis-aligned box. obb_*: the oriented box (centre (3,),
    rotation 3x3 whose columns are its axes, full extents (3,)). embedding: (D,) float32 unit vector
    of the label's text embedding.
    """

    label: str
    mask: NDArray[np.bool_]
    points: NDArray[np.float64]
    centroid: NDArray[np.float64]
    aabb_min: NDArray[np.float64]
    aabb_max: NDArray[np.float64]
    obb_center: NDArray[np.float64]
    obb_rotation: NDArray[np.float64]
    obb_extent: NDArray[np.float64]
    embedding: NDArray[np.float32]
    confidence: float
    time_s: float
    source_id: int = 0
    attributes: dict[str, str] = field(default_factory=dict)
    pixel_count: int = 0
    color: NDArray[np.float32] | None = None  # median RGB (0-1) under the mask: tells apart objects of one kind


@dataclass
class FramePercepts:
    """What one frame contributes: objects, occupancy end points and where the rays start."""

    time_s: float
    percepts: list[Percept]
    depth_points: NDArray[np.float64]  # (N, 3) world
    origin: NDArray[np.float64]  # (3,) camera centre
    timings_ms: dict[str, float]
    depth: NDArray[np.float32]  # the validated depth image, for negative evidence (what is no longer there)
    camera: CameraInfo
    camera_pose: NDArray[np.float64]
    repaired_depth_pixels: int = 0
