"""rosbag2: a recorded bag reads back, ingests through the memory node's logic, /tf_static first, any storage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from mindpalace.memory.system import MemorySystem
from mindpalace.ros.bag import BagWriter, bag_messages, ingest, topic_qos
from mindpalace.ros.messages import MESSAGES
from mindpalace.ros.messages.sensor import Image
from mindpalace.ros.record import record_sim

REDWOOD = Path(__file__).resolve().parents[3] / "shared" / "data" / "real_rgbd" / "RGBD"


def test_a_recorded_bag_reads_back_as_it_was_written(sim_bag: Path) -> None:
    metadata = yaml.safe_load((sim_bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert metadata["version"] == 9 and metadata["storage_identifier"] == "sqlite3"
    counts: dict[str, int] = {}
    for topic, _, raw in bag_messages(sim_bag):
        counts[topic] = counts.get(topic, 0) + 1
        if topic == "/camera/color/image_raw":
            image = Image.deserialize(raw)
            assert (image.width, image.height, image.encoding) == (160, 120, "rgb8")
    assert counts["/camera/color/image_raw"] == counts["/tf"] == 13
    assert counts["/tf_static"] == 1 and counts["/mindpalace/floor_plan"] == 1
    # /tf_static is offered transient local, as tf2's static broadcaster does.
    offered = {
        t["topic_metadata"]["name"]: t["topic_metadata"]["offered_qos_profiles"][0] for t in metadata["topics_with_message_count"]
    }
    assert offered["/tf_static"]["durability"] == "transient_local" and offered["/tf_static"]["reliability"] == "reliable"
    assert offered["/camera/color/image_raw"]["reliability"] == "best_effort"


def test_ingest_uses_every_frame_and_the_bank_keeps_what_it_saw(sim_bag: Path, make_node, tmp_path: Path, embedder) -> None:
    node = make_node(tmp_path / "bank.db")
    report = ingest(sim_bag, node)
    assert (report.frames_used, report.frames_dropped, report.malformed) == (13, 0, {})
    assert report.objects > 0 and report.storage == "sqlite3"
    rooms = [room.name for room in node.memory.spatial.rooms]
    assert rooms, "the floor plan's room names reach memory"
    node.close()
    with MemorySystem.open(tmp_path / "bank.db", embedder=embedder) as again:
        assert again.objects.count() == report.objects


def test_tf_static_is_read_first_even_when_the_bag_has_it_last(sim_bag: Path, make_node, tmp_path: Path) -> None:
    late = tmp_path / "late_static"
    with BagWriter(late, "mcap") as bag:
        statics = []
        for topic, stamp, raw in bag_messages(sim_bag):
            msg_type = _type_of(topic)
            if topic == "/tf_static":
                statics.append(msg_type.deserialize(raw))
                continue
            bag.write(topic, msg_type.deserialize(raw), stamp, topic_qos(topic))
        for msg in statics:
            bag.write("/tf_static", msg, 1000.0, topic_qos("/tf_static"))
    assert list(late.glob("*.mcap"))
    report = ingest(late, make_node(tmp_path / "bank.db"))
    assert report.storage == "mcap" and report.frames_used == 13 and report.frames_dropped == 0


def _type_of(topic: str) -> type:
    from mindpalace.ros.messages.common import Clock, String
    from mindpalace.ros.messages.sensor import CameraInfo, TFMessage

    if topic.startswith("/tf"):
        return TFMessage
    if topic == "/clock":
        return Clock
    if topic.endswith("camera_info"):
        return CameraInfo
    return String if topic.endswith(("labels", "floor_plan")) else Image


def test_frames_without_a_pose_are_dropped_with_the_reason(tmp_path: Path, make_node, sim_bag: Path) -> None:
    no_tf = tmp_path / "no_tf"
    with BagWriter(no_tf) as bag:
        for topic, stamp, raw in bag_messages(sim_bag):
            if topic != "/tf":
                bag.write(topic, _type_of(topic).deserialize(raw), stamp, topic_qos(topic))
    report = ingest(no_tf, make_node(tmp_path / "bank.db"))
    assert report.frames_used == 0
    assert report.dropped == {"unpaired": 0, "tf:unknown_frame": 13}


def test_a_bag_without_camera_topics_is_refused_by_name(tmp_path: Path, make_node) -> None:
    empty = tmp_path / "tf_only"
    from mindpalace.ros.sensor_messages import RobotFrames, robot_static_tf

    with BagWriter(empty) as bag:
        bag.write("/tf_static", robot_static_tf(RobotFrames()), 0.0, topic_qos("/tf_static"))
    with pytest.raises(ValueError, match="no /camera/color/image_raw topic"):
        ingest(empty, make_node(tmp_path / "bank.db"))


def test_every_message_type_is_known_to_rosbags_jazzy() -> None:
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    standard = [name for name in MESSAGES if not name.startswith(("mindpalace_msgs", "nav2_msgs"))]
    assert all(name in store.types for name in standard)


def test_record_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "bag").mkdir()
    with pytest.raises(ValueError, match="never overwritten"):
        record_sim(tmp_path / "bag", steps=1, width=160, height=120)


@pytest.mark.slow
@pytest.mark.skipif(not REDWOOD.is_dir(), reason="the shared Redwood frames are not here")
def test_the_redwood_bag_gives_the_map_perceive_gives(tmp_path: Path) -> None:
    """Real frames: `ros record --rgbd` then `ros ingest` against `perceive` on the folder (same surface voxel)."""
    run = [sys.executable, "-m", "mindpalace.cli.main"]
    subprocess.run([*run, "ros", "record", "--rgbd", str(REDWOOD), "--out", str(tmp_path / "bag")], check=True)
    ingested = subprocess.run(
        [*run, "ros", "ingest", str(tmp_path / "bag"), "--bank", str(tmp_path / "bank.db"), "--out", str(tmp_path / "ingested")],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(ingested.stdout.strip().splitlines()[-1])
    perceived = subprocess.run(
        [*run, "perceive", "--rgbd", str(REDWOOD), "--out", str(tmp_path / "map"), "--voxel", "0.02"],
        check=True,
        capture_output=True,
        text=True,
    )
    summary = json.loads(perceived.stdout.strip().splitlines()[-1])
    assert report["frames_used"] == summary["frames_used"] == 5 and report["frames_dropped"] == 0
    assert report["objects"] == summary["objects"]
    assert report["depth_agreement"] == pytest.approx(summary["depth_agreement"], abs=0.001)
    centres = {}
    for name in ("map", "ingested"):
        graph = json.loads((tmp_path / name / "scene_graph.json").read_text())
        centres[name] = np.array([node["center"] for node in graph["nodes"] if "center" in node])
    found, expected = centres["ingested"], centres["map"]
    assert len(found) == len(expected) == 14  # what depth_clusters (seed 0) finds in the five frames
    distance = np.linalg.norm(found[:, None] - expected[None], axis=2).min(axis=1)
    assert distance.max() <= 0.01
