"""MemorySystem.observe refuses a bad frame before any store changes: map, object records, working memory,
snapshots and events are exactly as they were (issue 10, item 3)."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from mindpalace.core.actions import Look
from mindpalace.core.frame_checks import FrameError
from mindpalace.core.types import Event
from mindpalace.envs import make
from mindpalace.memory.system import MemorySystem
from mindpalace.perception.pipeline import PerceptionPipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "envs"))
from household_testkit import face


@pytest.fixture(scope="module")
def scene(embedder):
    """Two real household frames facing furniture that holds objects, and the perception pipeline."""
    env = make("mindpalace/Household-v0", width=320, height=240, n_rooms=3)
    env.reset(seed=0)
    contents = env.privileged.receptacle_contents()
    piece = next(p for p in env.privileged.apartment.furniture if any(k[0] == p.id and "drawer" not in k[1] for k in contents))
    first = face(env, piece)
    second, *_ = env.step(Look(0.15, 0.6))
    yield PerceptionPipeline(embedder=embedder), first, second
    env.close()


@pytest.fixture
def memory(tmp_path: Path, embedder, scene):
    """A bank that has filed one frame (objects, a snapshot, working memory) and one event."""
    pipeline, first, _ = scene
    system = MemorySystem.open(tmp_path / "bank.db", embedder=embedder)
    assert system.observe(first, pipeline.process(first))
    system.record_event(Event("robot", "look", 0.0, first.time_s), x=0.0, y=0.0)
    assert system.objects.count() and system.events.snapshot_count() and len(system.working)
    yield system
    system.close()


def everything(memory: MemorySystem) -> str:
    """All a frame could change, as one comparable string: the spatial map and every row of every table of the bank."""
    spatial = memory.spatial
    objects = sorted(
        (i, o.observations, o.last_seen, o.missing_count, len(o.points), *np.round(o.center, 9).tolist())
        for i, o in spatial.objects.objects.items()
    )
    tables = [row[0] for row in memory.bank.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    rows = {
        table: [
            [hashlib.sha1(v).hexdigest() if isinstance(v, bytes) else v for v in row]
            for row in memory.bank.query(f"SELECT * FROM {table}")
        ]
        for table in tables
    }
    state = {
        "objects": objects,
        "leaves": spatial.occupancy.num_leaves,
        "surface": len(spatial.surface),
        "frames": spatial.frames,
        "rows": rows,
        "working": [asdict(w) for w in memory.working.items()],
        "pending_vectors": memory._pending_vectors,
    }
    return json.dumps(state, default=str)


def _with_time(obs, frame, time_s):
    return replace(obs, time_s=time_s), replace(frame, time_s=time_s)


def _with_base_pose(obs, frame, value):
    pose = obs.base_pose.copy()
    pose[0, 3] = value
    return replace(obs, base_pose=pose), frame


def _with_camera_pose(obs, frame, pose):
    return replace(obs, camera_pose=pose), replace(frame, camera_pose=pose)


def _with_camera(obs, frame, **change):
    camera = replace(obs.camera, **change)
    return replace(obs, camera=camera), replace(frame, camera=camera)


# (how to break the second frame, the field the error must name). The frame is perceived from the good
# observation, then both are broken alike: observe's own checks are under test, not perception's.
BAD_INPUT = {
    "rgb-float": (lambda o, f: (replace(o, rgb=o.rgb.astype(np.float32) / 255.0), f), "rgb must be uint8"),
    "rgb-uint16": (lambda o, f: (replace(o, rgb=o.rgb.astype(np.uint16) * 257), f), "rgb must be uint8"),
    "rgb-gray": (lambda o, f: (replace(o, rgb=o.rgb[..., 0]), f), "rgb"),
    "time-nan": (lambda o, f: _with_time(o, f, float("nan")), "time_s"),
    "time-inf": (lambda o, f: _with_time(o, f, float("inf")), "time_s"),
    "time-negative": (lambda o, f: _with_time(o, f, -1.0), "time_s"),
    "frame-time-nan": (lambda o, f: (o, replace(f, time_s=float("nan"))), "frame.time_s"),
    "time-of-day": (lambda o, f: (replace(o, time_of_day_s=90000.0), f), "time_of_day_s"),
    "base-pose-nan": (lambda o, f: _with_base_pose(o, f, float("nan")), "base_pose"),
    "camera-pose-scaled": (lambda o, f: _with_camera_pose(o, f, o.camera_pose @ np.diag([2.0, 2.0, 2.0, 1.0])), "camera_pose"),
    "cx-nan": (lambda o, f: _with_camera(o, f, cx=float("nan")), "principal point"),
    "cy-inf": (lambda o, f: _with_camera(o, f, cy=float("inf")), "principal point"),
    "empty-frame": (
        lambda o, f: (replace(o, rgb=o.rgb[:0, :0], depth=o.depth[:0, :0], camera=replace(o.camera, width=0, height=0)), f),
        "empty",
    ),
    "depth-millimetres": (
        lambda o, f: (replace(o, depth=o.depth * 1000), replace(f, depth=f.depth * 1000)),
        "depth: median valid depth",
    ),
    "gripper-nan": (None, "gripper"),
    "depth-points-nan": (lambda o, f: (o, replace(f, depth_points=np.full((3, 3), np.nan))), "frame.depth_points"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_a_bad_frame_is_refused_and_nothing_is_written(memory: MemorySystem, scene, case: str) -> None:
    """Each bad input raises FrameError naming the field, and the map and every store of the bank are unchanged."""
    pipeline, _, second = scene
    frame = pipeline.process(second)
    breaks, field = BAD_INPUT[case]
    obs, gripper = second, None
    if breaks is None:
        gripper = np.array([np.nan, 0.0, 0.5])
    else:
        obs, frame = breaks(second, frame)
    before = everything(memory)
    with pytest.raises(FrameError, match=field):
        memory.observe(obs, frame, gripper=gripper)
    assert everything(memory) == before
    # The same frame, whole, is filed: the refusal was about the field, not the frame.
    assert memory.observe(second, pipeline.process(second))
    assert everything(memory) != before


@pytest.mark.parametrize("case", ["rgb-float", "rgb-uint16", "time-nan", "time-inf", "cx-nan", "base-pose-nan", "empty-frame"])
def test_perception_refuses_the_same_frames(scene, case: str) -> None:
    """The pipeline's validation catches them first, so the agent drops them before memory sees them."""
    pipeline, _, second = scene
    obs, _ = BAD_INPUT[case][0](second, pipeline.process(second))
    with pytest.raises(FrameError, match=BAD_INPUT[case][1]):
        pipeline.process(obs)


def test_millimetre_depth_does_not_mark_a_known_object_missing(memory: MemorySystem, scene) -> None:
    """Depth in millimetres passed as float metres is refused; the objects memory knows are still there."""
    pipeline, first, _ = scene
    millimetres = replace(first, depth=first.depth * 1000.0)
    with pytest.raises(FrameError, match="millimetres"):
        pipeline.process(millimetres)
    for _ in range(3):
        with pytest.raises(FrameError, match="depth"):
            memory.observe(millimetres, replace(pipeline.process(first), depth=millimetres.depth))
    assert all(o.missing_count == 0 for o in memory.spatial.objects.objects.values())
    assert not [asdict(c) for c in memory.objects.changes(0.0, 1e9) if c.kind == "missing"]
