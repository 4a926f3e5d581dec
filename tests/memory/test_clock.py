"""The memory's clock: anchors where the time_s -> time of day mapping bends, kept across a reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindpalace.memory.bank import Bank
from mindpalace.memory.clock import ClockStore


def test_a_one_to_one_clock_needs_one_anchor(tmp_path: Path) -> None:
    bank = Bank(tmp_path / "b.db")
    clock = ClockStore(bank)
    for t in range(0, 600, 5):
        clock.observe(float(t), 8 * 3600.0 + t)
    assert len(clock.anchors) == 1
    assert clock.describe(125.0) == "08:02"
    bank.close()


def test_a_fast_day_then_real_time_is_exact_on_both_segments(tmp_path: Path) -> None:
    """A recorded day runs 96x (06:00 -> 22:00 in 600 s), then the clock runs at 1x: both stay exact."""
    bank = Bank(tmp_path / "b.db")
    clock = ClockStore(bank)
    rate = 16 * 3600 / 600.0
    for t in range(0, 601):
        clock.observe(float(t), 6 * 3600 + rate * t)
    for t in range(601, 700):
        clock.observe(float(t), 22 * 3600 + (t - 600))
    assert len(clock.anchors) <= 5
    for t in (0.0, 10.5, 300.0, 599.0, 600.0, 650.0, 699.0, 800.0):
        expected = 6 * 3600 + rate * t if t <= 600 else 22 * 3600 + (t - 600)
        assert clock.at(t).time_of_day_s == pytest.approx(expected, abs=1.0)
    assert clock.describe(300.0) == "14:00"
    bank.close()
    reopened = ClockStore(Bank(tmp_path / "b.db"))
    assert reopened.at(300.0).time_of_day_s == pytest.approx(14 * 3600, abs=1.0)
    reopened.bank.close()


def test_days_carry_over_midnight(tmp_path: Path) -> None:
    bank = Bank(tmp_path / "b.db")
    clock = ClockStore(bank)
    clock.observe(0.0, 23 * 3600.0, day=0)
    clock.observe(7200.0, 3600.0, day=1)  # two hours later: 01:00 of the next day
    reading = clock.at(3600.0)
    assert (reading.day, reading.time_of_day_s) == (1, pytest.approx(0.0))
    assert clock.describe(7200.0) == "day 2, 01:00"
    assert ClockStore(Bank(tmp_path / "empty.db")).describe(5.0) == ""
    bank.close()
