"""rosbag2 files: recording a robot's camera and TF, and ingesting a bag into a memory bank offline.

Bags are written and read with rosbags (sqlite3 or MCAP storage, format version 9). The messages in them are the
CDR of mindpalace's IDL structs, so they are what a ROS 2 camera driver would have recorded. /tf_static is offered
transient local, as tf2's static broadcaster does, and read first on ingest: a bag whose static transforms come
late (or that was cut after them) still gives every frame its pose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from mindpalace.core.types import Observation
from mindpalace.perception.depth_render import map_agreement
from mindpalace.ros.convert import MessageError
from mindpalace.ros.memory_node import Frame, MemoryNode
from mindpalace.ros.messages.common import Clock, String
from mindpalace.ros.messages.idl import IdlStruct, ros_type_name
from mindpalace.ros.messages.sensor import CameraInfo, Image, TFMessage
from mindpalace.ros.qos import SENSOR_DATA, TF, TRANSIENT_LOCAL, QosProfile
from mindpalace.ros.tf import TfError

log = logging.getLogger(__name__)

STORAGES = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
BAG_VERSION: Final = 9  # rosbag2's metadata format (Jazzy writes 9); rosbags needs it said
_INFINITE = QosTime(2147483647, 4294967295)  # rosbag2's "unspecified" duration


def _bag_qos(profile: QosProfile) -> Qos:
    return Qos(
        QosHistory.KEEP_LAST,
        profile.depth,
        QosReliability.RELIABLE if profile.reliable else QosReliability.BEST_EFFORT,
        QosDurability.TRANSIENT_LOCAL if profile.transient_local else QosDurability.VOLATILE,
        _INFINITE,
        _INFINITE,
        QosLiveliness.AUTOMATIC,
        _INFINITE,
        False,
    )


class BagWriter:
    """Writes messages to a new bag; each topic's type and QoS are set by its first message."""

    def __init__(self, path: Path, storage: str = "sqlite3") -> None:
        if storage not in STORAGES:
            raise ValueError(f"unknown bag storage {storage!r}; known: {', '.join(STORAGES)}")
        if path.exists():
            raise ValueError(f"{path} exists; a bag is never overwritten")
        self.path = path
        self._typestore = get_typestore(Stores.ROS2_JAZZY)
        self._writer = Writer(path, version=BAG_VERSION, storage_plugin=STORAGES[storage])
        self._writer.open()
        self._connections: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    def write(self, topic: str, msg: Any, stamp_s: float, qos: QosProfile = SENSOR_DATA) -> None:
        connection = self._connections.get(topic)
        if connection is None:
            connection = self._connections[topic] = self._writer.add_connection(
                topic, ros_type_name(type(msg)), typestore=self._typestore, offered_qos_profiles=[_bag_qos(qos)]
            )
        self._writer.write(connection, round(stamp_s * 1e9), msg.serialize())
        self.counts[topic] = self.counts.get(topic, 0) + 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> BagWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def topic_qos(topic: str) -> QosProfile:
    """The QoS a recorder offers a topic: /tf_static transient local, /tf as tf2 does, the rest as sensor data."""
    if topic == "/tf_static" or topic.endswith("/floor_plan"):
        return TRANSIENT_LOCAL
    return TF if topic == "/tf" else SENSOR_DATA


# ---------------------------------------------------------------------- ingest
@dataclass
class IngestReport:
    bag: str
    storage: str
    frames_used: int
    frames_dropped: int
    dropped: dict[str, int]
    malformed: dict[str, int]
    messages: dict[str, int]
    objects: int
    depth_agreement: float | None
    bank: str
    notes: list[str] = field(default_factory=list)


def _read(path: Path) -> Reader:
    if not (path / "metadata.yaml").exists():
        raise ValueError(f"{path}: not a rosbag2 folder (no metadata.yaml)")
    reader = Reader(path)
    reader.open()
    return reader


def ingest(path: Path, node: MemoryNode, agreement_frames: int = 30) -> IngestReport:
    """Every frame of the bag through the memory node's logic, in stamp order; /tf_static first.

    A frame whose transform is not in the bag yet waits for later /tf messages (up to the node's tf_timeout_s past
    its stamp); frames that never get one, that have no partner, or that perception rejects are dropped and
    counted by reason. `agreement_frames` frames (evenly spread) are kept to measure the map's depth agreement.
    """
    config = node.config
    topics = config.topics
    handlers: dict[str, tuple[type[IdlStruct], Callable[[Any], Frame | None]]] = {
        topics.color: (Image, lambda m: node.on_color(m)),
        topics.depth: (Image, lambda m: node.on_depth(m)),
        topics.camera_info: (CameraInfo, node.on_camera_info),
        topics.floor_plan: (String, lambda m: node.set_floor_plan(m.data)),
        topics.instances: (Image, node.on_instances),
        topics.instance_labels: (String, node.on_instance_labels),
        "/tf": (TFMessage, lambda m: node.on_tf(m, static=False)),
        "/clock": (Clock, lambda m: node.on_clock(m.clock)),
    }
    reader = _read(path)
    notes: list[str] = []
    kept: list[Observation] = []
    try:
        storage = "mcap" if any(path.glob("*.mcap")) else "sqlite3"
        by_topic = {c.topic: c for c in reader.connections}
        for topic, connection in by_topic.items():
            expected = TFMessage if topic == "/tf_static" else handlers.get(topic, (None,))[0]
            if expected is not None and connection.msgtype != ros_type_name(expected):
                raise ValueError(f"{path}: {topic} holds {connection.msgtype}, expected {ros_type_name(expected)}")
        for needed in (topics.color, topics.depth, topics.camera_info):
            if needed not in by_topic:
                raise ValueError(f"{path}: no {needed} topic (topics: {', '.join(sorted(by_topic))}); remap with --set topics...")
        statics = [c for c in reader.connections if c.topic == "/tf_static"]
        if not statics:
            notes.append("no /tf_static in the bag")
        for _, _, raw in reader.messages(connections=statics):
            node.on_tf(_decode(node, "tf_static", TFMessage, raw), static=True)
        streamed = [c for c in reader.connections if c.topic in handlers]
        waiting: list[Frame] = []
        total = reader.message_count
        stride = max(1, by_topic[topics.color].msgcount // max(agreement_frames, 1))
        for connection, _, raw in reader.messages(connections=streamed):
            msg_type, handle = handlers[connection.topic]
            msg = _decode(node, connection.topic, msg_type, raw)
            if msg is None:
                continue
            frame = handle(msg)
            if isinstance(frame, Frame):
                waiting.append(frame)
            waiting = _process_ready(node, waiting, kept, stride, final=False)
        node.end_of_stream()
        _process_ready(node, waiting, kept, stride, final=True)
        log.info("%s: %d messages read", path, total)
    finally:
        reader.close()
    with node.lock:
        node.memory.flush()
        objects = len(node.spatial.objects.objects)
        cloud = node.spatial.surface.points()
    agreements = [a for a in map_agreement(cloud, kept) if a == a] if len(cloud) and kept else []
    counters = node.counters
    return IngestReport(
        str(path),
        storage,
        counters.used,
        counters.frames_dropped,
        dict(counters.dropped),
        dict(counters.malformed),
        dict(counters.received),
        objects,
        round(sum(agreements) / len(agreements), 4) if agreements else None,
        str(node.memory.bank.path),
        notes,
    )


def _decode(node: MemoryNode, topic: str, msg_type: type[IdlStruct], raw: bytes | memoryview) -> Any:
    try:
        return msg_type.deserialize(bytes(raw))
    except Exception as error:  # not CDR of this type: counted, never fatal
        node.counters.bad(topic.strip("/"), MessageError("cdr", str(error)))
        return None


def _process_ready(node: MemoryNode, waiting: list[Frame], kept: list[Observation], stride: int, final: bool) -> list[Frame]:
    """Perceive waiting frames in order while their transforms are known; the frames still waiting."""
    while waiting:
        frame = waiting[0]
        try:
            obs = node.observation(frame, tolerance_s=node.config.tf_timeout_s if final else 0.0)
        except TfError as error:
            if not final and error.reason == "extrapolation" and _tf_may_come(node, frame):
                return waiting
            node.counters.drop(f"tf:{error.reason}", str(error))
            waiting.pop(0)
            continue
        except MessageError as error:
            if not final and error.reason in ("no_camera_info", "no_segmentation"):
                return waiting  # published beside (often after) the image
            node.counters.drop(error.reason, str(error))
            waiting.pop(0)
            continue
        waiting.pop(0)
        before = node.counters.used
        node.perceive(frame, obs)
        if node.counters.used > before and (node.counters.used - 1) % stride == 0:
            kept.append(obs)
    return waiting


def _tf_may_come(node: MemoryNode, frame: Frame) -> bool:
    """Whether a later /tf message may still cover this frame: none is known yet past its stamp + timeout."""
    latest = node.tf.latest_stamp()
    return latest is None or latest < frame.stamp_s + node.config.tf_timeout_s


def bag_messages(path: Path, topics: list[str] | None = None) -> Iterator[tuple[str, float, bytes]]:
    """(topic, receive time in seconds, CDR) of a bag, in time order (all topics, or those given)."""
    reader = _read(path)
    try:
        connections = [c for c in reader.connections if topics is None or c.topic in topics]
        for connection, timestamp, raw in reader.messages(connections=connections):
            yield connection.topic, timestamp * 1e-9, bytes(raw)
    finally:
        reader.close()
