"""The perception benchmark: a short household day scored against ground truth, identity included."""

from __future__ import annotations

import json

import pytest

from mindpalace.benchmarks.perception import PerceptionEvalConfig, run_perception_eval
from mindpalace.cli.main import main

KEYS = ("precision", "recall", "centroid_error_median_m", "duplicate_rate", "moved_detected_rate")
IDENTITY_KEYS = ("part_merges", "part_splits", "duplicates_after_day", "offcamera_moves_detected_rate")


@pytest.fixture(scope="module")
def metrics() -> dict:
    # The benchmark's own resolution and pixel criterion, on a smaller apartment to keep it short. Seed 4's day has
    # both container jobs (a drawer round trip, an object behind a door); seed 3's oracle cannot reach its cabinet.
    return run_perception_eval(PerceptionEvalConfig(seed=4, n_rooms=3, moves=2, person_moves=2))


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a simulated day: several minutes on a loaded two-core machine
def test_a_short_day_is_perceived_well_and_identity_holds(metrics: dict) -> None:
    """Objects seen well are found, placed within a few centimetres, not duplicated, and moves are detected; no
    drawer or door is merged or split, and what a person moved while the robot was away is found again."""
    assert metrics["true_objects_seen"] >= 5
    assert metrics["recall"] >= 0.95 and metrics["precision"] >= 0.95
    assert metrics["centroid_error_median_m"] <= 0.03
    assert metrics["duplicate_rate"] <= 0.02
    assert metrics["moves_done"] == 5 and metrics["moved_objects"] >= 1
    assert metrics["moved_detected_rate"] == 1.0
    assert metrics["part_merges"] == 0 and metrics["part_splits"] == 0 and metrics["duplicates_after_day"] == 0
    assert metrics["offcamera_moves"] == 2 and metrics["offcamera_moves_detected_rate"] == 1.0


def test_eval_perception_prints_the_named_keys(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`eval perception --json` prints one JSON object carrying the keys the issue names, and passes its options on."""
    import mindpalace.benchmarks.perception as benchmark

    seen: list[PerceptionEvalConfig] = []

    def fake_run(config: PerceptionEvalConfig, progress=None) -> dict:
        seen.append(config)
        return {**dict.fromkeys(KEYS + IDENTITY_KEYS, 0), "seed": config.seed}

    monkeypatch.setattr(benchmark, "run_perception_eval", fake_run)
    assert main(["eval", "perception", "--seed", "3", "--person-moves", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert all(key in printed for key in KEYS + IDENTITY_KEYS) and printed["seed"] == 3
    assert seen[0].person_moves == 2 and seen[0].containers
