"""The perception benchmark: a short household episode scored against ground truth."""

from __future__ import annotations

import json

import pytest

from mindpalace.benchmarks.perception import PerceptionEvalConfig, run_perception_eval
from mindpalace.cli.main import main

KEYS = ("precision", "recall", "centroid_error_median_m", "duplicate_rate", "moved_detected_rate")


@pytest.fixture(scope="module")
def metrics() -> dict:
    # The benchmark's own resolution and pixel criterion, on a smaller apartment to keep the suite quick.
    return run_perception_eval(PerceptionEvalConfig(seed=3, n_rooms=3, moves=2))


def test_a_short_episode_is_perceived_well(metrics: dict) -> None:
    """Objects seen well are found, placed within a few centimetres, not duplicated, and moves are detected."""
    assert metrics["true_objects_seen"] >= 5
    assert metrics["recall"] >= 0.95 and metrics["precision"] >= 0.95
    assert metrics["centroid_error_median_m"] <= 0.03
    assert metrics["duplicate_rate"] <= 0.02
    assert metrics["moves_done"] >= 1 and metrics["moved_objects"] >= 1
    assert metrics["moved_detected_rate"] == 1.0


def test_eval_perception_prints_the_named_keys(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, metrics: dict
) -> None:
    """`eval perception --json` prints one JSON object carrying the keys the issue names."""
    import mindpalace.benchmarks.perception as benchmark

    monkeypatch.setattr(benchmark, "run_perception_eval", lambda config, progress=None: {**metrics, "seed": config.seed})
    assert main(["eval", "perception", "--seed", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert all(key in printed for key in KEYS) and printed["seed"] == 3
