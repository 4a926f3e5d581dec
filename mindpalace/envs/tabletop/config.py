"""Configuration of the tabletop env."""

from __future__ import annotations

import math
from dataclasses import dataclass

CAMERAS = ("front", "left_shoulder", "right_shoulder", "wrist")


@dataclass
class TabletopConfig:
    task: str = "reopen_drawer"  # the task of a reset without options: reopen_drawer, put_block_back, rearrange_block
    variation: int | None = None  # None: drawn from the reset's seed
    width: int = 128
    height: int = 128
    cameras: tuple[str, ...] = CAMERAS  # the first one fills Observation.rgb/depth/segmentation; all are in extras
    timestep: float = 0.004  # s of physics per step (grasps hold at this step with noslip; tested)
    keypose_time: float = 1.2  # s every key-pose motion takes, whatever its length (so time carries no history)
    gripper_time: float = 0.4  # s the fingers get to open or close after a motion
    safe_height: float = 0.18  # m above the table a collision-aware motion travels at
    max_depth: float = 3.0  # m; farther returns read as 0
    shadows: bool = False
    max_episode_steps: int = 400

    def validate(self) -> None:
        """Raise ValueError naming the first invalid field."""
        from mindpalace.envs.tabletop.tasks import TASKS

        checks = [
            (self.task in TASKS, f"task {self.task!r} unknown; known: {', '.join(TASKS)}"),
            (
                16 <= self.width <= 1024 and 16 <= self.height <= 1024,
                f"image size {self.width}x{self.height} out of 16..1024 x 16..1024",
            ),
            (
                len(self.cameras) >= 1 and len(set(self.cameras)) == len(self.cameras) and set(self.cameras) <= set(CAMERAS),
                f"cameras {self.cameras} must be distinct names from {CAMERAS}",
            ),
            (0.0005 <= self.timestep <= 0.01, f"timestep {self.timestep} out of 0.0005..0.01"),
            (
                all(math.isfinite(v) and v > 0 for v in (self.keypose_time, self.gripper_time, self.safe_height, self.max_depth)),
                "times, safe_height and max_depth must be positive",
            ),
            (self.max_episode_steps > 0, "max_episode_steps must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"invalid tabletop config: {message}")
        if self.variation is not None:
            count = TASKS[self.task].variations
            if not 0 <= self.variation < count:
                raise ValueError(f"invalid tabletop config: variation {self.variation} out of 0..{count - 1} for {self.task}")
