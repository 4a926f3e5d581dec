"""The memory node: colour, aligned depth, camera_info and TF in; perception and memory; the map and answers out.

`MemoryNode` is the logic, free of any transport: it takes messages, pairs frames by stamp, looks up the camera's
pose (map <- camera optical frame) in TF, perceives and files each frame, and answers the memory services. The
live node (`run_memory_node`) feeds it from a transport at a set rate, latest frame first; `mindpalace ros ingest`
feeds it a bag, every frame. Every frame received is used or dropped with a reason, and every malformed message
is counted by fault: `counters` says what happened, and the node publishes it on `<namespace>/status`.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.agent.builder import build_perception, open_memory
from mindpalace.agent.config import AgentConfig, MemoryBankConfig
from mindpalace.agent.runtime import display_name
from mindpalace.core.config import Component
from mindpalace.core.types import Event, InstanceInfo, Observation
from mindpalace.memory.local_reader import LocalReader
from mindpalace.memory.spatial.memory import SpatialMemory
from mindpalace.memory.spatial.objects import ObjectUpdate
from mindpalace.memory.system import MemorySystem
from mindpalace.perception.pipeline import PerceptionConfig, PerceptionPipeline
from mindpalace.perception.validation import FrameError
from mindpalace.ros.convert import (
    MessageError,
    camera_from_msg,
    check_color,
    check_depth,
    depth_from_msg,
    instance_table_from_json,
    instances_from_msg,
    rgb_from_msg,
)
from mindpalace.ros.messages.common import Point, String, Time
from mindpalace.ros.messages.mindpalace_msgs import (
    ContextRequest,
    ContextResponse,
    ForgetRequest,
    ForgetResponse,
    MemoryObject,
    QueryRequest,
    QueryResponse,
    RecordEventRequest,
    RecordEventResponse,
    SaveRequest,
    SaveResponse,
    TellRequest,
    TellResponse,
    WhereIsRequest,
    WhereIsResponse,
)
from mindpalace.ros.messages.sensor import CameraInfo as CameraInfoMsg
from mindpalace.ros.messages.sensor import Image, TFMessage
from mindpalace.ros.sync import StampPairer
from mindpalace.ros.tf import TfBuffer, TfError

log = logging.getLogger(__name__)

READER_QUERIES = ("tool_schemas", "mentioned_labels", "label_kinds", "room_names", "context")
MANIPULATIONS = ("pick", "place", "open", "close")


@dataclass
class TopicsConfig:
    color: str = "/camera/color/image_raw"
    depth: str = "/camera/aligned_depth_to_color/image_raw"  # registered to the colour camera, same size
    camera_info: str = "/camera/color/camera_info"
    floor_plan: str = "/mindpalace/floor_plan"  # optional room names and outlines (std_msgs/String, JSON)
    # A simulator's instance segmentation (32SC1) and its id -> label table: read only by the ground_truth segmenter.
    instances: str = "/camera/instances/image_raw"
    instance_labels: str = "/camera/instances/labels"


@dataclass
class FramesConfig:
    map: str = "map"
    base: str = "base_link"  # "" or absent from TF: a hand-held camera, whose pose is also the base's


def _real_camera_perception() -> PerceptionConfig:
    # A real camera gives no instance segmentation: depth clusters, as `mindpalace perceive` uses.
    return PerceptionConfig(segmenter=Component("depth_clusters"), depth_stride=2)


@dataclass
class MemoryNodeConfig:
    """The memory node's parameters (configs/ros/memory_node.yaml)."""

    perception: PerceptionConfig = field(default_factory=_real_camera_perception)
    memory: MemoryBankConfig = field(default_factory=MemoryBankConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    frames: FramesConfig = field(default_factory=FramesConfig)
    namespace: str = "/mindpalace"  # the node's outputs and services: /mindpalace/map, /mindpalace/query, ...
    sensor_qos: str = "sensor_data"  # how colour, depth and camera_info are read (mindpalace.ros.qos.PROFILES)
    sensor_queue: int = 30  # frames a reader holds until the node takes them (a busy node takes them late, not never)
    sync_slop_s: float = 0.02  # colour and depth stamps this close make a pair
    tf_timeout_s: float = 0.2  # how long a frame waits for its transform before it is dropped
    rate_hz: float = 5.0  # frames perceived per second, the latest first; 0 = every frame
    publish_every_s: float = 1.0  # the grid, markers, scene graph, frontiers and status
    use_sim_time: bool = False  # the node's clock is /clock (a simulator's or a bag's), not the wall clock
    # Threads of the math libraries' pools (OpenMP: open3d, torch; OpenBLAS: numpy) while perceiving; 0 = their
    # defaults (one per core). A frame's arrays (~300k depth points, a few thousand voxels) are too small for a pool to
    # pay off, and the pool's threads spin against the camera driver and the DDS threads: on 2 cores, with the camera
    # process beside it, the default pools doubled a frame's CPU time (150 -> 290 ms) and held perception to 3.2 Hz.
    compute_threads: int = 1

    def __post_init__(self) -> None:
        if (
            self.sync_slop_s < 0
            or self.tf_timeout_s < 0
            or self.rate_hz < 0
            or self.publish_every_s <= 0
            or self.sensor_queue < 1
            or self.compute_threads < 0
        ):
            raise ValueError(
                "sync_slop_s, tf_timeout_s, rate_hz and compute_threads must be >= 0, publish_every_s > 0, sensor_queue >= 1"
            )

    def agent_config(self) -> AgentConfig:
        """The parts of an agent config the builder needs for perception and memory."""
        return AgentConfig(perception=self.perception, memory=self.memory)


@dataclass
class FrameCounters:
    """What happened to every frame (a colour image) and every message: used, dropped with a reason, malformed."""

    received: dict[str, int] = field(default_factory=dict)  # messages per input
    used: int = 0
    decoded: int = 0  # frames whose images were decoded (those that got as far as perception)
    dropped: dict[str, int] = field(default_factory=dict)  # frames, by reason
    malformed: dict[str, int] = field(default_factory=dict)  # messages, by "<input>:<fault>"
    last_error: str = ""
    latency_ms: list[float] = field(default_factory=list)  # stamp -> map updated, recent frames

    def drop(self, reason: str, detail: str = "", count: int = 1) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count
            if detail:
                self.last_error = detail

    def bad(self, source: str, error: MessageError) -> None:
        key = f"{source}:{error.reason}"
        self.malformed[key] = self.malformed.get(key, 0) + 1
        self.last_error = f"{source}: {error}"

    @property
    def frames_dropped(self) -> int:
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        latency = np.asarray(self.latency_ms[-1000:]) if self.latency_ms else None
        return {
            "received": dict(self.received),
            "frames_used": self.used,
            "frames_decoded": self.decoded,
            "frames_dropped": self.frames_dropped,
            "dropped": dict(self.dropped),
            "malformed": dict(self.malformed),
            "last_error": self.last_error,
            "stamp_to_map_ms_p50": round(float(np.percentile(latency, 50)), 2) if latency is not None else None,
            "stamp_to_map_ms_p95": round(float(np.percentile(latency, 95)), 2) if latency is not None else None,
        }


@dataclass
class Frame:
    """A colour image and its aligned depth as received, with the stamp and frame they were taken in.

    The messages are checked (encoding, sizes) but not decoded: at 30 Hz most frames are superseded before they are
    perceived, and decoding each one would cost the node's perception a core's share; `MemoryNode.observation`
    decodes the one it perceives.
    """

    stamp_s: float
    frame_id: str
    color: Image
    depth: Image
    received_s: float

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of both images."""
        return (self.color.height, self.color.width)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        # One level: the encoder comes back for what the fields hold (asdict's deep copy was a third of a query).
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"not JSON: {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_jsonable)


class MemoryNode:
    """Perception and memory behind ROS messages and services; thread-safe (one lock around memory)."""

    def __init__(self, config: MemoryNodeConfig, memory: MemorySystem, pipeline: PerceptionPipeline) -> None:
        if memory.spatial is None:
            raise ValueError(f"the memory node needs a preset with spatial memory, not {memory.config.preset!r}")
        self.config = config
        self.memory = memory
        self.spatial: SpatialMemory = memory.spatial  # the memory's map, set once when the memory is built
        self.pipeline = pipeline
        self.reader = LocalReader(memory)
        self.tf = TfBuffer()
        self.pairer = StampPairer(config.sync_slop_s, config.sensor_queue)
        self.counters = FrameCounters()
        self.lock = threading.RLock()
        self.camera_info: CameraInfoMsg | None = None
        self.sim_time_s: float | None = None
        self.changes: list[ObjectUpdate] = []  # since the last take_changes()
        self.needs_segmentation = config.perception.segmenter.type == "ground_truth"
        self._segmentations: deque[tuple[float, np.ndarray]] = deque(maxlen=30)
        self._instance_table: dict[int, InstanceInfo] = {}

    @classmethod
    def open(cls, config: MemoryNodeConfig, out_dir: Path | None = None) -> MemoryNode:
        """Perception and the bank (opened or created, never removed) from the builder."""
        agent = config.agent_config()
        return cls(config, open_memory(agent, out_dir), build_perception(agent))

    def warm_up(self) -> None:
        """Load the text models (perception's labels, memory's index) and open3d (lifting's outlier removal imports it,
        ~2 s) now, not on the first frame a robot sends."""
        import open3d  # noqa: F401

        self.pipeline.embedder.embed(["object"])
        if self.memory.vectors is not None:
            self.memory.embedder.embed(["object"])

    def close(self) -> None:
        with self.lock:
            self.memory.close()

    def now(self) -> float:
        """The node's clock: /clock with use_sim_time, else the wall clock (seconds)."""
        if self.config.use_sim_time and self.sim_time_s is not None:
            return self.sim_time_s
        return time.time()

    # ------------------------------------------------------------------ inputs
    def _count(self, source: str) -> None:
        self.counters.received[source] = self.counters.received.get(source, 0) + 1

    def on_tf(self, msg: TFMessage, static: bool) -> None:
        source = "tf_static" if static else "tf"
        self._count(source)
        for transform in msg.transforms:
            try:
                self.tf.add(transform, static)
            except MessageError as error:
                self.counters.bad(source, error)

    def on_camera_info(self, msg: CameraInfoMsg) -> None:
        self._count("camera_info")
        try:
            camera_from_msg(msg)
        except MessageError as error:
            self.counters.bad("camera_info", error)
            return
        self.camera_info = msg

    def on_instances(self, msg: Image) -> None:
        self._count("instances")
        try:
            self._segmentations.append((msg.header.stamp.seconds(), instances_from_msg(msg)))
        except MessageError as error:
            self.counters.bad("instances", error)

    def on_instance_labels(self, msg: String) -> None:
        """Instance ids are stable: every table received adds to the one known."""
        self._count("instance_labels")
        try:
            self._instance_table.update(instance_table_from_json(msg.data))
        except MessageError as error:
            self.counters.bad("instance_labels", error)

    def on_clock(self, stamp: Time) -> None:
        self.sim_time_s = stamp.seconds()

    def on_color(self, msg: Image) -> Frame | None:
        """A frame when this image completes a pair with a depth image."""
        self._count("color")
        try:
            check_color(msg)
        except MessageError as error:
            self.counters.bad("color", error)
            self.counters.drop(f"malformed_color:{error.reason}", str(error))
            return None
        return self._pair(self.pairer.add_color(msg.header.stamp.seconds(), msg))

    def on_depth(self, msg: Image) -> Frame | None:
        self._count("depth")
        try:
            check_depth(msg)
        except MessageError as error:
            self.counters.bad("depth", error)
            return None
        return self._pair(self.pairer.add_depth(msg.header.stamp.seconds(), msg))

    def _pair(self, pair: tuple[Image, Image, float] | None) -> Frame | None:
        self.counters.dropped["unpaired"] = self.pairer.unpaired[0]
        if pair is None:
            return None
        color, depth, stamp = pair
        if (color.height, color.width) != (depth.height, depth.width):
            shapes = f"depth {(depth.height, depth.width)} is not aligned to colour {(color.height, color.width)}"
            self.counters.bad("depth", MessageError("size", shapes))
            self.counters.drop("depth_not_aligned")
            return None
        return Frame(stamp, color.header.frame_id, color, depth, time.time())

    def end_of_stream(self) -> None:
        """Frames still waiting for a partner are dropped (a bag's end)."""
        self.pairer.drain()
        self.counters.dropped["unpaired"] = self.pairer.unpaired[0]

    # ------------------------------------------------------------------ perceiving
    def observation(self, frame: Frame, tolerance_s: float = 0.0) -> Observation:
        """The frame, decoded, with its camera and poses; raises MessageError or TfError (the caller counts or waits).

        The images are decoded last, once everything else the frame needs is there.
        """
        if self.camera_info is None:
            raise MessageError("no_camera_info", "no camera_info received yet")
        camera = camera_from_msg(self.camera_info)
        if (camera.height, camera.width) != frame.shape:
            raise MessageError("camera_info", f"camera_info is {camera.width}x{camera.height}, the image {frame.shape[::-1]}")
        frames = self.config.frames
        camera_pose = self.tf.lookup(frames.map, frame.frame_id, frame.stamp_s, tolerance_s)
        base_pose = camera_pose
        if frames.base and frames.base in self.tf.frames():
            base_pose = self.tf.lookup(frames.map, frames.base, frame.stamp_s, tolerance_s)
        segmentation = None
        if self.needs_segmentation:
            segmentation = next(
                (s for stamp, s in self._segmentations if abs(stamp - frame.stamp_s) <= self.config.sync_slop_s), None
            )
            if segmentation is None or segmentation.shape != frame.shape:
                raise MessageError(
                    "no_segmentation", f"no instance image at {frame.stamp_s:.3f} s (the ground_truth segmenter needs one)"
                )
        obs = Observation(rgb_from_msg(frame.color), depth_from_msg(frame.depth), camera, camera_pose, base_pose, frame.stamp_s)
        self.counters.decoded += 1
        if segmentation is not None:
            obs.segmentation = segmentation
            ids = np.unique(segmentation)
            obs.instances = {int(i): self._instance_table[int(i)] for i in ids if int(i) in self._instance_table}
        return obs

    def perceive(self, frame: Frame, obs: Observation) -> list[ObjectUpdate]:
        """Perception and filing; a frame perception rejects is dropped and counted."""
        try:
            percepts = self.pipeline.process(obs)
        except FrameError as error:
            self.counters.drop("invalid_frame", str(error))
            return []
        with self.lock:
            updates = self.memory.observe(obs, percepts)
            self.changes += [u for u in updates if u.kind != "seen"]
        self.counters.used += 1
        self.counters.latency_ms.append((time.time() - frame.stamp_s) * 1000.0)
        del self.counters.latency_ms[:-5000]
        return updates

    def process(self, frame: Frame) -> list[ObjectUpdate]:
        """Perceive one frame now (no waiting for TF); drops are counted."""
        try:
            obs = self.observation(frame)
        except MessageError as error:
            self.counters.drop(error.reason, str(error))
            return []
        except TfError as error:
            self.counters.drop(f"tf:{error.reason}", str(error))
            return []
        return self.perceive(frame, obs)

    def take_changes(self) -> list[dict[str, Any]]:
        with self.lock:
            changes, self.changes = self.changes, []
        return [
            {"object_id": u.object_id, "kind": u.kind, "label": u.label, "time_s": u.time_s, "center": u.center} for u in changes
        ]

    def set_floor_plan(self, text: str) -> None:
        """Room names and outlines: [{"name": "kitchen", "polygon": [[x, y], ...]}, ...] in the map frame."""
        self._count("floor_plan")
        try:
            rooms = [(str(r["name"]), [(float(x), float(y)) for x, y in r["polygon"]]) for r in json.loads(text)]
            if any(len(polygon) < 3 for _, polygon in rooms):
                raise ValueError("a room outline needs at least 3 points")
        except (ValueError, KeyError, TypeError) as error:
            self.counters.bad("floor_plan", MessageError("json", str(error)))
            return
        with self.lock:
            self.spatial.set_rooms(rooms, privileged=False)

    # ------------------------------------------------------------------ services
    def query(self, request: QueryRequest) -> QueryResponse:
        try:
            arguments = json.loads(request.arguments_json) if request.arguments_json.strip() else {}
        except ValueError as error:
            return QueryResponse(False, f"arguments_json is not JSON: {error}", "")
        with self.lock:
            if request.tool in READER_QUERIES:
                return self._reader_query(request.tool, arguments)
            result = self.reader.call_tool(request.tool, arguments)
        if not result.ok:
            return QueryResponse(False, result.error, "")
        return QueryResponse(True, "", to_json({"items": result.items}))

    def _reader_query(self, name: str, arguments: Any) -> QueryResponse:
        if not isinstance(arguments, dict):
            return QueryResponse(False, f"{name}: arguments must be a JSON object", "")
        if name == "tool_schemas":
            return QueryResponse(True, "", to_json(self.reader.tool_schemas()))
        if name == "label_kinds":
            return QueryResponse(True, "", to_json(self.reader.label_kinds()))
        if name == "room_names":
            return QueryResponse(True, "", to_json(self.reader.room_names()))
        if name == "mentioned_labels":
            if not isinstance(arguments.get("text"), str):
                return QueryResponse(False, 'mentioned_labels needs {"text": "..."}', "")
            return QueryResponse(True, "", to_json(self.reader.mentioned_labels(arguments["text"])))
        task, budget = arguments.get("task"), arguments.get("budget_tokens", 300)
        if not isinstance(task, str) or not isinstance(budget, int) or budget < 1:
            return QueryResponse(False, 'context needs {"task": "...", "budget_tokens": N > 0}', "")
        return QueryResponse(True, "", to_json(self.reader.context(task, budget)))

    def where_is(self, request: WhereIsRequest) -> WhereIsResponse:
        with self.lock:
            result = self.reader.call_tool("where_is", {"object": request.object})
            if not result.ok:
                return WhereIsResponse(False, result.error, [])
            objects = []
            kinds = {o.id: self.spatial.scene.kind_of(o) for o in self.spatial.objects.objects.values()}
            for item in result.items:
                data = item.data
                if item.kind != "object" or data.get("position") is None:
                    continue
                x, y, z = (float(v) for v in data["position"])
                if not all(math.isfinite(v) for v in (x, y, z)):
                    continue
                objects.append(
                    MemoryObject(
                        int(data["id"]),
                        str(data["label"]),
                        kinds.get(int(data["id"]), "object"),
                        data.get("room") or "",
                        Point(x, y, z),
                        Time.from_seconds(float(data.get("last_seen", 0.0))),
                        data.get("state") or "",
                        float(data.get("confidence", 0.0)),
                    )
                )
        return WhereIsResponse(True, "", objects)

    def context(self, request: ContextRequest) -> ContextResponse:
        with self.lock:
            return ContextResponse(self.reader.context(request.task, request.budget_tokens or 300))

    def record_event(self, request: RecordEventRequest) -> RecordEventResponse:
        msg = request.event
        try:
            arguments = json.loads(msg.arguments_json) if msg.arguments_json.strip() else {}
            if not isinstance(arguments, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            return RecordEventResponse(False, f"arguments_json: {error}", 0)
        if not msg.actor or not msg.action:
            return RecordEventResponse(False, "an event needs an actor and an action", 0)
        start, end = msg.start.seconds(), msg.end.seconds()
        x = y = None
        if msg.has_position:
            x, y = float(msg.position.x), float(msg.position.y)
        with self.lock:
            object_ids = list(msg.object_ids)
            if not object_ids and msg.source_ids and msg.action in MANIPULATIONS:
                object_ids, named = self._from_sources(msg.action, list(msg.source_ids), str(arguments.get("relation", "on")))
                arguments = {**named, **{k: v for k, v in arguments.items() if k not in named}}
            place = msg.place or (self._room_at(x, y) if x is not None and y is not None else None)
            event = Event(
                msg.actor, msg.action, start, max(start, end), arguments, tuple(object_ids), place, msg.success, msg.reason
            )
            event_id = self.memory.record_event(event, x, y, importance=0.8 if msg.action in MANIPULATIONS else 0.5)
            if msg.success and msg.action in MANIPULATIONS and object_ids:
                self._apply_manipulation(msg.action, object_ids, end)
        return RecordEventResponse(True, "", event_id)

    def _from_sources(self, action: str, source_ids: list[int], relation: str) -> tuple[list[int], dict[str, str]]:
        """Memory ids and names for what the robot acted on, known by the segmenter's ids (as the agent runtime does):
        the target first (for a place, the object held), then the receptacle."""
        objects = self.spatial.objects.objects

        def memory_id(source_id: int) -> int | None:
            matches = [o for o in objects.values() if o.source_id == source_id]
            return max(matches, key=lambda o: o.last_seen).id if matches else None

        def name(object_id: int | None) -> str:
            return display_name(objects[object_id]) if object_id is not None and object_id in objects else "something"

        if action == "place":
            held = next((i for i, state in self.spatial.scene.states.items() if state == "held"), None)
            receptacle = memory_id(source_ids[0])
            ids = [i for i in (held, receptacle) if i is not None]
            return ids, {"object": name(held), "receptacle": name(receptacle), "relation": relation}
        target = memory_id(source_ids[0])
        return ([target] if target is not None else []), {"object": name(target)}

    def _apply_manipulation(self, action: str, object_ids: list[int], time_s: float) -> None:
        """What a successful pick, place, open or close tells memory about the things it names."""
        spatial = self.spatial
        target = spatial.objects.resolve(object_ids[0])
        if action == "pick":
            self.memory.set_state(target, "held", time_s)
        elif action in ("open", "close"):
            self.memory.set_state(target, "open" if action == "open" else "closed", time_s)
        else:
            self.memory.set_state(target, "", time_s)
            receptacle = spatial.objects.resolve(object_ids[1]) if len(object_ids) > 1 else None
            objects = spatial.objects.objects
            if receptacle is not None and target in objects and receptacle in objects:
                # Until the camera sees it, it is where it was put: on or in the receptacle.
                spatial.objects.move(target, objects[receptacle].center, time_s)
                obj = objects[target]
                room = self._room_at(float(obj.center[0]), float(obj.center[1]))
                self.memory.remember_object(target, obj.label, tuple(obj.center), time_s, room=room, change="moved")

    def _room_at(self, x: float, y: float) -> str | None:
        return next((room.name for room in self.spatial.rooms if room.contains(x, y)), None)

    def tell(self, request: TellRequest) -> TellResponse:
        try:
            grounding = json.loads(request.grounding_json) if request.grounding_json.strip() else None
            if grounding is not None and not (
                isinstance(grounding, dict) and all(isinstance(v, str) for v in grounding.values())
            ):
                raise ValueError('expected {"phrase": "object:<id>"}')
        except ValueError as error:
            return TellResponse(False, f"grounding_json: {error}", 0)
        with self.lock:
            stored = self.memory.tell(request.text, self.now(), request.speaker or "user", grounding, request.pinned)
        return TellResponse(True, "", len(stored))

    def save(self, request: SaveRequest) -> SaveResponse:
        with self.lock:
            self.memory.flush()
            self.memory.bank.checkpoint()
            return SaveResponse(True, "", str(self.memory.bank.path))

    def forget(self, request: ForgetRequest) -> ForgetResponse:
        if request.budget_items < 0 or request.budget_bytes < 0:
            return ForgetResponse(False, "budgets must be >= 0 (0 = the preset's)", "")
        with self.lock:
            report = self.memory.forget(request.budget_items or None, request.budget_bytes or None)
        return ForgetResponse(True, "", to_json(asdict(report)))

    def status(self) -> dict[str, Any]:
        with self.lock:
            stats = self.memory.stats()
            mapped = len(self.spatial.objects.objects)
        return {**self.counters.to_dict(), "mapped": mapped, "memory": stats, "time_s": round(self.now(), 3)}
