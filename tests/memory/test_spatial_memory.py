"""SpatialMemory on real household frames: what a frame adds, what a bad frame must not touch."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mindpalace.core.actions import Look
from mindpalace.core.config import Component
from mindpalace.envs import make
from mindpalace.memory.spatial.memory import SpatialMemory
from mindpalace.perception.pipeline import FrameError, PerceptionConfig, PerceptionPipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "envs"))
from household_testkit import face


@pytest.fixture(scope="module")
def scene(embedder):
    """A few frames facing a piece of furniture that holds objects, fed through perception into memory."""
    env = make("mindpalace/Household-v0", width=320, height=240, n_rooms=4)
    env.reset(seed=0)
    contents = env.privileged.receptacle_contents()
    piece = next(p for p in env.privileged.apartment.furniture if any(k[0] == p.id and "drawer" not in k[1] for k in contents))
    obs = face(env, piece)
    frames = [obs]
    for pan in (0.2, -0.2):
        obs, *_ = env.step(Look(pan, 0.6))
        frames.append(obs)
    pipeline = PerceptionPipeline(
        PerceptionConfig(segmenter=Component("ground_truth", {"kinds": ("object", "furniture", "part")})), embedder=embedder
    )
    memory = SpatialMemory()
    for frame in frames:
        memory.update(pipeline.process(frame))
    yield env, pipeline, memory, frames
    env.close()


def _snapshot(memory: SpatialMemory) -> tuple:
    return (
        len(memory.objects.objects),
        memory.occupancy.num_leaves,
        len(memory.surface),
        memory.frames,
        tuple(sorted((i, o.observations) for i, o in memory.objects.objects.items())),
    )


def test_frames_fill_every_store(scene):
    """Objects, occupancy, the fused surface and the scene graph all grow from real frames."""
    _env, _, memory, _ = scene
    assert memory.frames == 3 and memory.objects.objects and memory.occupancy.num_leaves > 100 and len(memory.surface) > 1000
    graph = memory.scene_graph()
    kinds = {data["kind"] for _, data in graph.nodes(data=True)}
    assert {"furniture", "object"} <= kinds
    assert any(data["relation"] in ("on", "in") for _, _, data in graph.edges(data=True))


@pytest.mark.parametrize("damage", ["nan_pose", "shape", "no_depth", "scaled_pose"])
def test_a_rejected_frame_leaves_the_map_as_it_was(scene, damage):
    """Each unusable frame raises FrameError before anything is written."""
    _, pipeline, memory, frames = scene
    before = _snapshot(memory)
    obs = frames[0]
    bad = {
        "nan_pose": replace(obs, camera_pose=np.full((4, 4), np.nan)),
        "shape": replace(obs, depth=obs.depth[:-1]),
        "no_depth": replace(obs, depth=np.zeros_like(obs.depth)),
        "scaled_pose": replace(obs, camera_pose=obs.camera_pose @ np.diag([2.0, 2.0, 2.0, 1.0])),
    }[damage]
    with pytest.raises(FrameError):
        memory.update(pipeline.process(bad))
    assert _snapshot(memory) == before


def test_what_the_robot_carries_stays_out_of_the_map(scene):
    """Percepts at the gripper are the robot's own load, not objects of the scene."""
    _, pipeline, _, frames = scene
    frame = pipeline.process(frames[0])
    target = frame.percepts[0]
    memory = SpatialMemory()
    memory.update(frame, gripper=target.centroid)
    assert all(
        o.label != target.label or np.linalg.norm(o.center - target.centroid) > 0.3 for o in memory.objects.objects.values()
    )
    kept = [p for p in frame.percepts if np.linalg.norm(p.centroid - target.centroid) > memory.config.self_radius]
    assert len(memory.objects.objects) == len(kept) < len(frame.percepts)


def test_env_room_labels_are_marked_privileged_and_told_states_show(scene):
    """Room labels the simulator offers carry privileged=True; a state told by the agent appears on its node."""
    env, _, memory, _ = scene
    memory.set_rooms(env.privileged.room_polygons(), privileged=True)
    some_object = next(i for i, o in memory.objects.objects.items() if memory.scene.kind_of(o) == "object")
    memory.set_state(some_object, "held")
    graph = memory.scene_graph()
    rooms = [data for _, data in graph.nodes(data=True) if data["kind"] == "room"]
    assert len(rooms) == 4 and all(r["privileged"] for r in rooms)
    assert graph.nodes[f"object:{some_object}"]["state"] == "held"
    assert any(data.get("room") for _, data in graph.nodes(data=True) if data["kind"] == "furniture")
    memory.set_state(some_object, "")
    assert memory.scene_graph().nodes[f"object:{some_object}"]["state"] == ""
