"""The memory node on a transport: its subscriptions, publications and services, a perception thread and a
publishing thread around `MemoryNode`.

Inputs: colour, aligned depth and camera_info (the sensor QoS of the parameters), /tf, /tf_static (transient
local), the floor plan (transient local), a simulator's instance topics (ground_truth segmenter only), /clock
(use_sim_time). Outputs under the namespace: map (nav_msgs/OccupancyGrid, transient local), markers, scene_graph
(std_msgs/String JSON, transient local), changes (JSON), frontiers (geometry_msgs/PoseArray), status (JSON); services
query, where_is, context, record_event, tell, save, forget (mindpalace_msgs).

Perception runs at `rate_hz`: a frame that arrives while the previous one is being perceived replaces the one
waiting (latest frame wins) and the replaced one is counted as dropped ("superseded"). Frames wait undecoded (the
transport's thread only checks them): only the frame perceived is decoded, in the perception thread.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time

from threadpoolctl import threadpool_limits

from mindpalace.ros.convert import MessageError
from mindpalace.ros.map_messages import frontiers_msg, markers_msg, occupancy_grid_msg, scene_graph_msg
from mindpalace.ros.memory_node import Frame, MemoryNode, to_json
from mindpalace.ros.messages.common import Clock, PoseArray, String, Time
from mindpalace.ros.messages.maps import MarkerArray, OccupancyGrid
from mindpalace.ros.messages.mindpalace_msgs import CONTEXT, FORGET, QUERY, RECORD_EVENT, SAVE, TELL, WHERE_IS
from mindpalace.ros.messages.sensor import CameraInfo, Image, TFMessage
from mindpalace.ros.qos import DEFAULT, TF, TRANSIENT_LOCAL, QosProfile, profile
from mindpalace.ros.tf import TfError
from mindpalace.ros.transport import Transport, resolve

log = logging.getLogger(__name__)

_CHANGES = QosProfile(depth=100)


class MemoryNodeRos:
    """`MemoryNode` wired to a transport. Call `close()` to stop it (the bank is closed too)."""

    def __init__(self, node: MemoryNode, transport: Transport) -> None:
        self.node = node
        self.transport = transport
        config = node.config
        topics = config.topics
        sensor = dataclasses.replace(profile(config.sensor_qos), depth=config.sensor_queue)
        ns = config.namespace

        def name(leaf: str) -> str:
            return resolve(leaf, ns)

        self._pending: Frame | None = None
        self._wake = threading.Condition()
        self._closing = threading.Event()
        self.map_published = threading.Event()
        self._map = transport.publisher(name("map"), OccupancyGrid, TRANSIENT_LOCAL)
        self._markers = transport.publisher(name("markers"), MarkerArray, DEFAULT)
        self._graph = transport.publisher(name("scene_graph"), String, TRANSIENT_LOCAL)
        self._changes = transport.publisher(name("changes"), String, _CHANGES)
        self._frontiers = transport.publisher(name("frontiers"), PoseArray, DEFAULT)
        self._status = transport.publisher(name("status"), String, DEFAULT)
        # The stamp of each frame the node is done with (filed or dropped): a simulator can run in lockstep with it.
        self._filed = transport.publisher(name("filed"), Time, QosProfile(depth=100))
        transport.subscribe("/tf_static", TFMessage, TRANSIENT_LOCAL, lambda m: node.on_tf(m, static=True))
        transport.subscribe("/tf", TFMessage, TF, lambda m: node.on_tf(m, static=False))
        transport.subscribe(topics.camera_info, CameraInfo, sensor, node.on_camera_info)
        transport.subscribe(topics.floor_plan, String, TRANSIENT_LOCAL, lambda m: node.set_floor_plan(m.data))
        if node.needs_segmentation:
            transport.subscribe(topics.instances, Image, sensor, node.on_instances)
            transport.subscribe(topics.instance_labels, String, sensor, node.on_instance_labels)
        if config.use_sim_time:
            transport.subscribe("/clock", Clock, QosProfile(reliable=False, depth=1), lambda m: node.on_clock(m.clock))
        transport.subscribe(topics.color, Image, sensor, lambda m: self._offer(node.on_color(m)))
        transport.subscribe(topics.depth, Image, sensor, lambda m: self._offer(node.on_depth(m)))
        for service, kind, handler in (
            ("query", QUERY, node.query),
            ("where_is", WHERE_IS, node.where_is),
            ("context", CONTEXT, node.context),
            ("record_event", RECORD_EVENT, node.record_event),
            ("tell", TELL, node.tell),
            ("save", SAVE, node.save),
            ("forget", FORGET, node.forget),
        ):
            transport.serve(name(service), kind, handler)
        self._threads = [
            threading.Thread(target=self._perceive_loop, name="memory-perception", daemon=True),
            threading.Thread(target=self._publish_loop, name="memory-publisher", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._closing.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=30.0)
        self.transport.close()
        self.node.close()

    # ------------------------------------------------------------------ perception
    def _offer(self, frame: Frame | None) -> None:
        if frame is None:
            return
        with self._wake:
            if self._pending is not None:
                self.node.counters.drop("superseded")
            self._pending = frame
            self._wake.notify()

    def _perceive_loop(self) -> None:
        if threads := self.node.config.compute_threads:
            # OpenMP's limit is this thread's (perception's); OpenBLAS's is the process's.
            threadpool_limits(limits=threads)
        rate = self.node.config.rate_hz
        next_start = 0.0
        while not self._closing.is_set():
            if rate > 0 and (wait := next_start - time.monotonic()) > 0:
                self._closing.wait(wait)  # newer frames replace the waiting one meanwhile
                continue
            with self._wake:
                while self._pending is None and not self._closing.is_set():
                    self._wake.wait(0.2)
                frame, self._pending = self._pending, None
            if frame is None:
                continue
            next_start = time.monotonic() + (1.0 / rate if rate > 0 else 0.0)
            try:
                self._perceive(frame)
            except Exception:  # a bug in one frame's perception must not stop the node
                log.exception("frame at %.3f s failed", frame.stamp_s)
                self.node.counters.drop("error")
            self._filed.publish(Time.from_seconds(frame.stamp_s))

    def _perceive(self, frame: Frame) -> None:
        node = self.node
        deadline = time.monotonic() + node.config.tf_timeout_s
        while True:
            try:
                obs = node.observation(frame)
                break
            except TfError as error:
                if error.reason != "extrapolation" or time.monotonic() >= deadline:
                    node.counters.drop(f"tf:{error.reason}", str(error))
                    return
            except MessageError as error:
                if error.reason not in ("no_camera_info", "no_segmentation") or time.monotonic() >= deadline:
                    node.counters.drop(error.reason, str(error))
                    return
            time.sleep(0.005)
        node.perceive(frame, obs)
        changes = node.take_changes()
        if changes:
            self._changes.publish(String(to_json(changes)))

    # ------------------------------------------------------------------ publishing
    def publish_map(self) -> None:
        node, frame = self.node, self.node.config.frames.map
        with node.lock:
            stamp = node.now()
            spatial = node.spatial
            grid, known = spatial.occupancy.costmap(inflate=False)
            graph = spatial.scene_graph()
            self._map.publish(occupancy_grid_msg(known, grid.origin, grid.resolution, stamp, frame))
            self._markers.publish(markers_msg(graph, stamp, frame))
            self._graph.publish(scene_graph_msg(spatial))
            self._frontiers.publish(frontiers_msg(spatial, stamp, frame))
        self._status.publish(String(json.dumps(node.status())))
        self.map_published.set()

    def _publish_loop(self) -> None:
        period = self.node.config.publish_every_s
        while not self._closing.wait(period):
            try:
                self.publish_map()
            except Exception:
                log.exception("publishing the map failed")
