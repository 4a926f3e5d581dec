"""`measure_planner` with the local model: the figures the docs give, and a prefix cache that is used."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from mindpalace.benchmarks.planner_perf import _minutes_later, measure_planner


def test_minutes_later_wraps_the_day() -> None:
    assert _minutes_later("08:03", 2) == "08:05"
    assert _minutes_later("09:59", 1) == "10:00"
    assert _minutes_later("23:30", 45) == "00:15"


@pytest.mark.slow
def test_the_local_model_is_timed_with_its_prefix_cache() -> None:
    figures = measure_planner(decisions=2, with_model=True)
    for key in ("local_inference_ms_p50", "local_next_inference_ms_p50", "local_decision_cpu_ms_p50", "local_overhead_ms_p50"):
        assert figures[key] > 0
    # The system text and worked examples are about half of a first prompt and shared by every decision; a next
    # decision shares its episode's task and memory too.
    assert 0.4 < figures["local_prefix_reused"] < 1
