"""`mindpalace perf ros`: the memory node under a 30 Hz 640x480 RGB-D stream over DDS, and its query round trip.

A camera process publishes the shared Redwood frames (real 640x480 RGB-D, 16UC1 depth) in a loop at 30 Hz with
their TF, stamped with the wall clock, to a memory node in this process; both on the loopback interface, on a
domain of their own. Figures:
- frames_lost_640x480_30hz: colour frames the camera published that the node's transport never received (loss in
  transport; frames the node receives but skips to keep its perception rate are counted apart, as superseded, and
  are never decoded: frames_decoded is the frames perceived, or a few more where perception rejected one);
- stamp_to_map_ms_p50 / _p95: from a frame's stamp to its filing in memory (the map updated), for frames perceived;
- query_rtt_ms_p95: a memory query (where_is) from another process over the query service, round trip.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.core.config import Component
from mindpalace.perception.pipeline import PerceptionConfig

SHARED_FRAMES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real_rgbd" / "RGBD"


STAMP = struct.Struct("<iI")  # builtin_interfaces/Time


def run_camera(domain_id: int, folder: Path, seconds: float, hz: float, queries: int, settle_s: float = 5.0) -> dict[str, Any]:
    """The camera side (a child process): publish for `seconds` at `hz`, then time `queries` memory queries."""
    from mindpalace.perception.alignment import aligned_sequence
    from mindpalace.ros.dds import DdsTransport
    from mindpalace.ros.messages.mindpalace_msgs import QUERY, QueryRequest
    from mindpalace.ros.qos import SENSOR_DATA, TF, TRANSIENT_LOCAL
    from mindpalace.ros.sensor_messages import CameraTopics, RobotFrames, camera_messages, handheld_static_tf, handheld_tf

    frames = list(aligned_sequence(folder))
    topics, names = CameraTopics(), RobotFrames()
    transport = DdsTransport("camera", domain_id=domain_id)  # DDS itself: the camera writes serialized CDR
    static = transport.publisher("/tf_static", type(handheld_static_tf(names)), TRANSIENT_LOCAL)
    tf = transport.publisher("/tf", type(handheld_static_tf(names)), TF)
    # Each frame's messages serialized once; publishing only writes the stamp into them, as a driver's copy would.
    serialized = [
        [
            (topic, bytearray(msg.serialize()))
            for topic, msg in [("/tf", handheld_tf(obs, 0.0, names)), *camera_messages(obs, 0.0, topics, names)]
        ]
        for obs in frames
    ]
    publishers = {
        topic: transport.publisher(topic, type(msg), SENSOR_DATA) for topic, msg in camera_messages(frames[0], 0.0, topics, names)
    }
    publishers["/tf"] = tf
    static.publish(handheld_static_tf(names))
    end = time.monotonic() + 20.0
    while time.monotonic() < end and not all(p.subscribers() for p in publishers.values()):
        time.sleep(0.05)
    published, late = 0, 0
    start = time.monotonic()
    for index in range(int(seconds * hz)):
        due = start + index / hz
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        elif -wait > 1.0 / hz:
            late += 1
        stamp = STAMP.pack(*divmod(time.time_ns(), 1_000_000_000))
        for topic, cdr in serialized[index % len(frames)]:
            # The header (for a TFMessage, its first transform's) starts after the 4-byte encapsulation (+ a length).
            offset = 8 if topic == "/tf" else 4
            cdr[offset : offset + 8] = stamp
            publishers[topic].publish_raw(bytes(cdr))
        published += 1
    achieved_hz = published / (time.monotonic() - start)
    time.sleep(settle_s)  # the node finishes the frames it was perceiving: queries are timed on an idle node
    client = transport.client("/mindpalace/query", QUERY)
    rtts: list[float] = []
    if client.wait_for_service(20.0):
        request = QueryRequest("where_is", json.dumps({"object": "object"}))
        client.call(request, timeout_s=30.0)
        for _ in range(queries):
            started = time.perf_counter()
            client.call(request, timeout_s=30.0)
            rtts.append((time.perf_counter() - started) * 1000.0)
    transport.close()
    return {"published": published, "late": late, "achieved_hz": round(achieved_hz, 2), "rtt_ms": rtts}


def measure_ros(
    seconds: float = 10.0, hz: float = 30.0, rate_hz: float = 5.0, queries: int = 200, folder: Path = SHARED_FRAMES
) -> dict[str, Any]:
    """Start the memory node here and the camera in a child process; the figures (see the module docstring)."""
    from mindpalace.agent.config import MemoryBankConfig
    from mindpalace.ros.dds import loopback_config
    from mindpalace.ros.memory_node import FramesConfig, MemoryNode, MemoryNodeConfig
    from mindpalace.ros.memory_node_ros import MemoryNodeRos
    from mindpalace.ros.transport import make_transport

    if not folder.is_dir():
        raise ValueError(f"{folder}: the RGB-D frames the camera replays are not there")
    domain_id = 150 + os.getpid() % 80
    os.environ["CYCLONEDDS_URI"] = loopback_config("lo")
    with tempfile.TemporaryDirectory() as scratch:
        config = MemoryNodeConfig(
            perception=PerceptionConfig(segmenter=Component("depth_clusters"), depth_stride=2),
            memory=MemoryBankConfig(bank=str(Path(scratch) / "bank.db")),
            rate_hz=rate_hz,
            frames=FramesConfig(base=""),  # a hand-held camera
        )
        node = MemoryNode.open(config)
        node.warm_up()
        running = MemoryNodeRos(node, make_transport("dds", "memory", domain_id=domain_id))
        try:
            camera = subprocess.run(
                [sys.executable, "-m", "mindpalace.ros.perf", str(domain_id), str(folder), str(seconds), str(hz), str(queries)],
                capture_output=True,
                text=True,
                timeout=seconds + 300,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
            if camera.returncode != 0:
                raise RuntimeError(f"the camera process failed: {camera.stderr[-2000:]}")
            result = json.loads(camera.stdout.strip().splitlines()[-1])
            time.sleep(1.0)
            counters = node.counters
            received = counters.received.get("color", 0)
            latency = np.asarray(counters.latency_ms)
            rtt = np.asarray(result["rtt_ms"])
            return {
                "frames_lost_640x480_30hz": int(result["published"] - received),
                "frames_published": int(result["published"]),
                "publish_hz_achieved": result["achieved_hz"],
                "frames_received": int(received),
                "frames_perceived": int(counters.used),
                "frames_decoded": int(counters.decoded),
                "frames_superseded": int(counters.dropped.get("superseded", 0)),
                "frames_dropped_other": {k: v for k, v in counters.dropped.items() if k not in ("superseded",) and v},
                "perception_rate_hz": rate_hz,
                "stamp_to_map_ms_p50": _percentile(latency, 50, 1),
                "stamp_to_map_ms_p95": _percentile(latency, 95, 1),
                "query_rtt_ms_p50": _percentile(rtt, 50, 3),
                "query_rtt_ms_p95": _percentile(rtt, 95, 3),
                "queries": len(result["rtt_ms"]),
            }
        finally:
            running.close()


def _percentile(values: np.ndarray, q: float, digits: int) -> float | None:
    return round(float(np.percentile(values, q)), digits) if len(values) else None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the camera process of `mindpalace perf ros`")
    for name, kind in (("domain_id", int), ("folder", Path), ("seconds", float), ("hz", float), ("queries", int)):
        parser.add_argument(name, type=kind)
    args = parser.parse_args()
    print(json.dumps(run_camera(args.domain_id, args.folder, args.seconds, args.hz, args.queries)))
