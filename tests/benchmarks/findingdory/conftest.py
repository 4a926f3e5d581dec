"""Tiny prepared days shared by the FindingDory tests that need the simulator (each takes ~40 s to record here)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path

import pytest

from mindpalace.benchmarks.findingdory.day import DayPaths, DaySpec
from mindpalace.benchmarks.findingdory.jobs import prepare_day

TINY = DaySpec(apartment_seed=2, day_seed=2, n_rooms=3, width=160, height=120, interactions=(2, 2), tour_probability=0.0)
# A second day for the tests that want several: four rooms, a tour, up to three moves.
SMALL = DaySpec(apartment_seed=4, day_seed=4, n_rooms=4, width=160, height=120, interactions=(2, 3), tour_probability=1.0)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("findingdory")


@pytest.fixture(scope="session")
def tiny_day(data_dir: Path) -> DayPaths:
    """Three rooms, two objects moved (one into a drawer or behind a door), no tour, 160x120 frames; prepared."""
    return prepare_day(TINY, data_dir)


@pytest.fixture(scope="session")
def small_day(data_dir: Path) -> DayPaths:
    return prepare_day(SMALL, data_dir)
