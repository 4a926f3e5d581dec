"""The memory's clock: the time of day (and day index) behind every `time_s` in the bank.

The stores keep sensor or simulated time (`time_s`, seconds since the robot started). The world's clock
may run at another rate (a benchmark's recorded day maps minutes of simulation onto the waking hours) or
move on to another day. The clock keeps anchors (time_s, time of day, day) wherever that mapping bends,
so any time in memory (an event's start, a sighting) can be told as a time of day. `time_s` is taken to
increase over a bank's life, as the other stores take it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mindpalace.memory.bank import Bank, register_schema

register_schema(
    "clock",
    (
        """CREATE TABLE IF NOT EXISTS clock (
            id INTEGER PRIMARY KEY AUTOINCREMENT, time_s REAL NOT NULL, time_of_day_s REAL NOT NULL, day INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS clock_time ON clock (time_s)",
    ),
)

DAY_S = 86400.0


@dataclass(frozen=True)
class ClockReading:
    time_s: float
    absolute_s: float  # clock seconds since midnight of day 0: day * 86400 + time of day

    @property
    def day(self) -> int:
        return int(self.absolute_s // DAY_S)

    @property
    def time_of_day_s(self) -> float:
        return self.absolute_s - self.day * DAY_S


class ClockStore:
    """Anchors of the time_s -> clock mapping; linear between anchors, extended past the last two."""

    def __init__(self, bank: Bank, tolerance_s: float = 1.0) -> None:
        self.bank = bank
        self.tolerance_s = tolerance_s  # a reading this far off the current line starts a new segment
        self.anchors = [ClockReading(float(r[0]), float(r[2]) * DAY_S + float(r[1])) for r in self._rows()]
        self._last: ClockReading | None = self.anchors[-1] if self.anchors else None

    def _rows(self) -> list:
        return self.bank.query("SELECT time_s, time_of_day_s, day FROM clock ORDER BY time_s, id")

    def observe(self, time_s: float, time_of_day_s: float, day: int = 0) -> None:
        """A reading of the world's clock at `time_s`; written only where the mapping bends."""
        reading = ClockReading(float(time_s), int(day) * DAY_S + float(time_of_day_s))
        predicted = self._extend(reading.time_s)
        if predicted is None or abs(predicted - reading.absolute_s) > self.tolerance_s:
            # The previous reading still lay on the old line: anchoring it keeps the old segment exact up to the bend.
            if self._last is not None and (not self.anchors or self._last != self.anchors[-1]):
                self._write(self._last)
            self._write(reading)
        self._last = reading

    def _extend(self, time_s: float) -> float | None:
        """The clock at `time_s` on the line through the last two anchors (rate 1 after a single one)."""
        if not self.anchors:
            return None
        last = self.anchors[-1]
        rate = 1.0
        if len(self.anchors) >= 2:
            before = self.anchors[-2]
            if last.time_s > before.time_s:
                rate = (last.absolute_s - before.absolute_s) / (last.time_s - before.time_s)
        return last.absolute_s + rate * (time_s - last.time_s)

    def _write(self, reading: ClockReading) -> None:
        with self.bank.write() as connection:
            connection.execute(
                "INSERT INTO clock (time_s, time_of_day_s, day) VALUES (?, ?, ?)",
                (reading.time_s, reading.time_of_day_s, reading.day),
            )
        self.anchors.append(reading)

    def at(self, time_s: float) -> ClockReading | None:
        """The clock at a memory time, or None when the world never gave one."""
        anchors = self.anchors
        if not anchors:
            return None
        if time_s >= anchors[-1].time_s or len(anchors) == 1:
            absolute = self._extend(time_s)
        else:
            later = next(i for i, a in enumerate(anchors) if a.time_s > time_s)
            if later == 0:
                first, second = anchors[0], anchors[1]
            else:
                first, second = anchors[later - 1], anchors[later]
            span = second.time_s - first.time_s
            share = (time_s - first.time_s) / span if span > 0 else 0.0
            absolute = first.absolute_s + share * (second.absolute_s - first.absolute_s)
        assert absolute is not None
        return ClockReading(float(time_s), absolute)

    def describe(self, time_s: float) -> str:
        """ "14:05" (or "day 2, 14:05" after the first day); "" when the world gave no clock."""
        reading = self.at(time_s)
        if reading is None:
            return ""
        minutes = int(reading.time_of_day_s // 60)
        text = f"{minutes // 60:02d}:{minutes % 60:02d}"
        return f"day {reading.day + 1}, {text}" if reading.day else text
