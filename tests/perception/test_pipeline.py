"""The per-frame write path (validate -> segment -> lift -> embed + occupancy points), on synthetic frames
and on real frames rendered by the household env (privileged poses are used only to check the result)."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mindpalace.core.config import Component
from mindpalace.core.geometry import invert_pose, transform_points
from mindpalace.core.types import InstanceInfo
from mindpalace.perception.pipeline import FrameError, PerceptionConfig, PerceptionPipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "envs"))


def _pipeline(embedder, segmenter_args=None, **config) -> PerceptionPipeline:
    return PerceptionPipeline(
        PerceptionConfig(segmenter=Component("ground_truth", segmenter_args or {}), **config), embedder=embedder
    )


# ------------------------------------------------------------------ synthetic frames
@pytest.fixture
def two_box_frame(synth):
    """A mug-sized box (id 5, "mug") and a bigger box (id 6, "table") on the floor, both in view."""
    mug = synth.Box((2.0, 0.4, 0.1), (0.1, 0.1, 0.1), instance=5, info=synth.mug)
    table = synth.Box((2.2, -0.5, 0.3), (0.3, 0.3, 0.3), instance=6, info=synth.table)
    obs = synth.observation([mug, table], target=(2.1, 0.0, 0.2))
    assert (obs.segmentation == 5).sum() > 100 and (obs.segmentation == 6).sum() > 100
    return obs, mug, table


def test_synthetic_frame_gives_percepts_on_the_objects(embedder, synth, two_box_frame):
    """Each requested instance becomes a percept whose points lie on its box, with its label's embedding."""
    obs, mug, table = two_box_frame
    frame = _pipeline(embedder, segmenter_args={"kinds": ("object", "furniture")}).process(obs)
    by_label = {p.label: p for p in frame.percepts}
    assert set(by_label) == {"mug", "table"}
    assert synth.box_distance(by_label["mug"].points, mug).max() < 0.01
    assert synth.box_distance(by_label["table"].points, table).max() < 0.01
    np.testing.assert_allclose(by_label["mug"].embedding, embedder.embed(["mug"])[0])
    assert by_label["mug"].attributes == dict(synth.mug.attributes)
    assert frame.time_s == obs.time_s and frame.repaired_depth_pixels == 0
    np.testing.assert_allclose(frame.origin, obs.camera_pose[:3, 3])


def test_default_segmenter_ignores_furniture(embedder, two_box_frame):
    """The default pipeline keeps small objects only."""
    obs, _, _ = two_box_frame
    assert [p.label for p in _pipeline(embedder).process(obs).percepts] == ["mug"]


def test_depth_points_are_a_strided_subset_in_range(embedder, two_box_frame):
    """Occupancy points come from every k-th pixel with a reading within max_depth, in the world frame."""
    obs, _, _ = two_box_frame
    frame = _pipeline(embedder, depth_stride=4, max_depth=5.0).process(obs)
    sub = obs.depth[::4, ::4]
    assert len(frame.depth_points) == int(((sub > 0) & (sub <= 5.0)).sum())
    in_camera = transform_points(invert_pose(obs.camera_pose), frame.depth_points)
    assert np.all(in_camera[:, 2] > 0) and np.all(in_camera[:, 2] <= 5.0 + 1e-6)
    assert np.all(frame.depth_points[:, 2] > -1e-4)  # nothing below the floor


def test_ignore_labels_and_min_pixels_filter(embedder, two_box_frame):
    """ignore_labels drops a label; min_pixels drops segments smaller than it."""
    obs, _, _ = two_box_frame
    kinds = {"kinds": ("object", "furniture")}
    assert [p.label for p in _pipeline(embedder, segmenter_args=kinds, ignore_labels=("table",)).process(obs).percepts] == ["mug"]
    sizes = {5: int((obs.segmentation == 5).sum()), 6: int((obs.segmentation == 6).sum())}
    threshold = min(sizes.values()) + 1
    kept = _pipeline(embedder, segmenter_args=kinds, min_pixels=threshold).process(obs).percepts
    assert [p.source_id for p in kept] == [max(sizes, key=sizes.get)]
    assert _pipeline(embedder, segmenter_args=kinds, min_pixels=max(sizes.values()) + 1).process(obs).percepts == []


def test_segments_of_the_wrong_shape_are_skipped(embedder, two_box_frame):
    """A segmenter that returns a mask of another size cannot break the frame: that segment is dropped."""
    obs, _, _ = two_box_frame

    class Odd:
        def segment(self, o):
            from mindpalace.core.types import Segment

            return [Segment(np.ones((10, 10), bool), "mug"), Segment(o.segmentation == 5, "mug", source_id=5)]

    frame = PerceptionPipeline(PerceptionConfig(), embedder=embedder, segmenter=Odd()).process(obs)
    assert [p.source_id for p in frame.percepts] == [5]


def test_nan_depth_is_repaired_and_reported(embedder, synth, two_box_frame, caplog):
    """A frame with NaN / negative depth still yields percepts, counts the repaired pixels, and keeps them out."""
    obs, mug, _ = two_box_frame
    depth = obs.depth.copy()
    depth[:20, :] = np.nan
    depth[20, :10] = -1.0
    broken = replace(obs, depth=depth)
    with caplog.at_level(logging.INFO, logger="mindpalace.perception.pipeline"):
        frame = _pipeline(embedder).process(broken)
    assert frame.repaired_depth_pixels == 20 * obs.depth.shape[1] + 10
    assert any("invalid depth" in r.getMessage() for r in caplog.records)
    assert np.all(np.isfinite(frame.depth_points)) and np.all(frame.depth >= 0)
    assert np.isnan(broken.depth[0, 0])  # the caller's frame is untouched
    (percept,) = frame.percepts
    assert synth.box_distance(percept.points, mug).max() < 0.01


def test_bad_frame_raises_frame_error(embedder, two_box_frame):
    """A non-rigid pose or a frame without depth is refused before anything is built."""
    obs, _, _ = two_box_frame
    pipeline = _pipeline(embedder)
    with pytest.raises(FrameError, match="rigid"):
        pipeline.process(replace(obs, camera_pose=obs.camera_pose * 2.0))
    with pytest.raises(FrameError, match="no valid depth"):
        pipeline.process(replace(obs, depth=np.zeros_like(obs.depth)))


def test_unknown_instance_ids_do_not_break_the_frame(embedder, two_box_frame, caplog):
    """Ids missing from the label table are skipped (with a warning), the rest are perceived."""
    obs, _, _ = two_box_frame
    instances = {k: v for k, v in obs.instances.items() if k != 6}
    instances[5] = InstanceInfo(5, "mug_1", "mug", "object")
    with caplog.at_level(logging.WARNING):
        frame = _pipeline(embedder, segmenter_args={"kinds": ("object", "furniture")}).process(replace(obs, instances=instances))
    assert [p.label for p in frame.percepts] == ["mug"]
    assert any("no entry" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ real household frames
@pytest.fixture(scope="module")
def household():
    """A 3-room 160x120 household apartment (seed 0) and a frame facing furniture with objects of >= 2 kinds in view."""
    import os

    os.environ.setdefault("MUJOCO_GL", "egl")
    from household_testkit import face, look_at, make_env, object_xyz, pixels_of

    env, _ = make_env(seed=0)
    try:
        for piece in env.apartment.furniture:
            objects = [o for o in env.apartment.objects if o.furniture == piece.id]
            if not objects:
                continue
            face(env, piece)
            obs = look_at(env, np.mean([object_xyz(env, o.id) for o in objects], axis=0))
            if len({o.category.name for o in objects if pixels_of(obs, o.id) >= 40}) >= 2:
                yield env, obs
                return
        pytest.fail("no furniture piece in the seed-0 apartment shows two kinds of objects well")
    finally:
        env.close()


def _object_radius(category) -> float:
    """Half-diagonal of a catalog object's bounding box (its farthest surface point from its centre)."""
    if category.shape == "sphere":
        return category.size[0]
    if category.shape == "cylinder":
        return float(np.hypot(category.size[0], category.size[1]))
    return float(np.linalg.norm(category.size))


def test_household_percepts_are_visible_objects_at_their_true_places(embedder, household):
    """On a rendered frame, percepts are the visible objects, labelled by category, with points near their poses."""
    env, obs = household
    frame = _pipeline(embedder).process(obs)
    assert len(frame.percepts) >= 2
    visible = {int(i) for i in np.unique(obs.segmentation)}
    objects = {o.id: o for o in env.apartment.objects}
    for percept in frame.percepts:
        assert percept.source_id in visible and percept.source_id in objects
        obj = objects[percept.source_id]
        assert percept.label == obj.category.name
        assert percept.attributes.get("color") == obj.color
        center = env.privileged.object_pose(obj.id)[:3, 3]
        distance = np.linalg.norm(percept.points - center, axis=1)
        assert distance.max() <= _object_radius(obj.category) + 0.02, percept.label
        assert np.linalg.norm(percept.embedding) == pytest.approx(1.0, abs=1e-5)


def test_household_depth_points_lie_in_front_of_the_camera(embedder, household):
    """Every occupancy point is in front of the camera, within max_depth, and above the floor."""
    _, obs = household
    frame = _pipeline(embedder).process(obs)
    assert len(frame.depth_points) > 100
    in_camera = transform_points(invert_pose(obs.camera_pose), frame.depth_points)
    assert np.all(in_camera[:, 2] > 0) and np.all(in_camera[:, 2] <= 5.0 + 1e-6)
    assert frame.depth_points[:, 2].min() > -0.02


def test_household_frame_with_nan_depth_still_works(embedder, household):
    """A rendered frame with a NaN band reports the repaired pixels and still finds objects."""
    _, obs = household
    depth = obs.depth.copy()
    depth[:5] = np.nan
    frame = _pipeline(embedder).process(replace(obs, depth=depth))
    assert frame.repaired_depth_pixels == 5 * obs.depth.shape[1]
    assert frame.percepts and np.all(np.isfinite(frame.depth_points))


def test_household_ignore_labels_and_min_pixels(embedder, household):
    """On a rendered frame, an ignored label disappears and min_pixels keeps only big enough segments."""
    _, obs = household
    percepts = _pipeline(embedder).process(obs).percepts
    ignored = percepts[0].label
    assert ignored not in {p.label for p in _pipeline(embedder, ignore_labels=(ignored,)).process(obs).percepts}
    threshold = min(p.pixel_count for p in percepts) + 1
    big = _pipeline(embedder, min_pixels=threshold).process(obs).percepts
    assert {p.source_id for p in big} == {p.source_id for p in percepts if p.pixel_count >= threshold}
    assert 0 < len(big) < len(percepts)
