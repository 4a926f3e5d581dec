"""The clock of a recorded day: a few simulated minutes mapped onto the waking hours, 06:00 to 22:00.

As in FindingDory, a day's frames are spread evenly over the hours the household is awake, so that
"what did you move at 10:40?" has an answer in the frames. After the day the clock runs at real speed
from 22:00 (the test phase). This is what the agent sees on its frames; it is not ground truth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

WAKE_S = 6 * 3600.0
SLEEP_S = 22 * 3600.0


@dataclass(frozen=True)
class DayClock:
    duration_s: float  # simulated seconds the recorded day lasted
    wake_s: float = WAKE_S
    sleep_s: float = SLEEP_S
    day: int = 0  # the day's index in a multi-day run

    def __post_init__(self) -> None:
        if not self.duration_s > 0 or not 0 <= self.wake_s < self.sleep_s <= 86400:
            raise ValueError(f"a day clock needs a positive duration and 0 <= wake < sleep <= 24 h, got {self}")

    @property
    def rate(self) -> float:
        """Clock seconds per simulated second during the day."""
        return (self.sleep_s - self.wake_s) / self.duration_s

    def time_of_day(self, time_s: float) -> float:
        """Seconds since midnight at simulated time `time_s` (linear over the day, real speed after it)."""
        if time_s <= self.duration_s:
            return self.wake_s + max(time_s, 0.0) * self.rate
        return self.sleep_s + (time_s - self.duration_s)

    def time_s(self, time_of_day_s: float) -> float:
        """The simulated time at which the day's clock showed `time_of_day_s` (within the day)."""
        if not self.wake_s <= time_of_day_s <= self.sleep_s:
            raise ValueError(f"{hhmm(time_of_day_s)} is outside the day ({hhmm(self.wake_s)} to {hhmm(self.sleep_s)})")
        return (time_of_day_s - self.wake_s) / self.rate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> DayClock:
        return DayClock(**data)


def hhmm(time_of_day_s: float) -> str:
    """ "14:05" for 14:05:59 (minutes are floored, as a wall clock shows them)."""
    minutes = int(time_of_day_s // 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> float:
    """Seconds since midnight of "HH:MM"; ValueError otherwise."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
    except ValueError as error:
        raise ValueError(f"expected HH:MM, got {text!r}") from error
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"expected HH:MM between 00:00 and 23:59, got {text!r}")
    return hours * 3600.0 + minutes * 60.0
