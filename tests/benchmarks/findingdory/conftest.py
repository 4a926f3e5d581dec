"""A tiny recorded day shared by the FindingDory tests that need one (recording it takes ~30 s here)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from mindpalace.benchmarks.findingdory.day import DayPaths, DaySpec, record_day

TINY = DaySpec(apartment_seed=2, day_seed=2, n_rooms=3, width=160, height=120, interactions=(2, 2), tour_probability=0.0)


@pytest.fixture(scope="session")
def tiny_day(tmp_path_factory) -> DayPaths:
    """Three rooms, two objects moved (one into a drawer or behind a door), no tour, 160x120 frames."""
    paths = DayPaths(tmp_path_factory.mktemp("days") / TINY.key)
    record_day(TINY, paths.folder)
    return paths
