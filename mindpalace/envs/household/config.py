"""Configuration of the household env."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class HouseholdConfig:
    width: int = 320
    height: int = 240
    hfov_deg: float = 90.0
    seed: int | None = None  # the apartment of the first reset when reset() gets no seed
    n_rooms: int | None = None  # 3 to 8; None draws it from the seed
    objects_per_room: tuple[int, int] = (4, 7)
    start_time_of_day: str = "08:00"
    timestep: float = 0.01
    reach: float = 1.3  # metres, base centre to object or part, horizontally
    min_visible_fraction: float = 2e-4  # share of the image a target must cover to be "in view" (15 px at 320x240)
    max_linear: float = 1.0  # m/s
    max_angular: float = 2.0  # rad/s
    max_duration: float = 5.0  # s, longest base-velocity or wait action
    articulation_time: float = 1.0  # s an open or close takes
    max_depth: float = 10.0  # m; farther returns read as 0, like a depth sensor's range
    shadows: bool = False  # off: on a software renderer shadows cost about 8x (README)
    max_episode_steps: int = 1000

    def validate(self) -> None:
        """Raise ValueError naming the first invalid field."""
        checks = [
            (
                16 <= self.width <= 1920 and 16 <= self.height <= 1080,
                f"image size {self.width}x{self.height} out of 16..1920 x 16..1080",
            ),
            (10.0 <= self.hfov_deg <= 170.0, f"hfov_deg {self.hfov_deg} out of 10..170"),
            (self.seed is None or self.seed >= 0, f"seed must be >= 0, got {self.seed}"),
            (self.n_rooms is None or 3 <= self.n_rooms <= 8, f"n_rooms must be 3..8, got {self.n_rooms}"),
            (
                0 <= self.objects_per_room[0] <= self.objects_per_room[1] <= 20,
                f"objects_per_room {self.objects_per_room} invalid",
            ),
            (0.001 <= self.timestep <= 0.05, f"timestep {self.timestep} out of 0.001..0.05"),
            (
                all(
                    math.isfinite(v) and v > 0
                    for v in (
                        self.reach,
                        self.max_linear,
                        self.max_angular,
                        self.max_duration,
                        self.articulation_time,
                        self.max_depth,
                    )
                ),
                "limits must be positive",
            ),
            (self.max_episode_steps > 0, "max_episode_steps must be positive"),
            (0.0 < self.min_visible_fraction < 0.5, f"min_visible_fraction {self.min_visible_fraction} out of (0, 0.5)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"invalid household config: {message}")
        self.start_seconds()

    def start_seconds(self) -> float:
        """The start time of day in seconds since midnight."""
        try:
            hours, minutes = (int(part) for part in self.start_time_of_day.split(":"))
        except ValueError as error:
            raise ValueError(f"start_time_of_day must be HH:MM, got {self.start_time_of_day!r}") from error
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(f"start_time_of_day must be HH:MM (00:00 to 23:59), got {self.start_time_of_day!r}")
        return float(hours * 3600 + minutes * 60)
