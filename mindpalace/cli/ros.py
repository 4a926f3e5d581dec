"""`mindpalace ros ...`: the ROS 2 nodes on the DDS transport (or rclpy), rosbag2 record and ingest.

mindpalace ros record --rgbd ../shared/data/real_rgbd/RGBD --out runs/redwood_bag
mindpalace ros ingest runs/redwood_bag --bank runs/redwood.db
mindpalace ros memory --bank runs/home.db --config ros/params/memory_node.yaml
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from dataclasses import asdict
from pathlib import Path

from mindpalace.core.config import load_config


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("ros", help="ROS 2: the memory node, rosbag2 record and ingest")
    jobs = parser.add_subparsers(dest="job", required=True)

    record = jobs.add_parser("record", help="write a rosbag2 of an RGB-D folder or of the simulated robot")
    source = record.add_mutually_exclusive_group(required=True)
    source.add_argument("--rgbd", type=Path, help="an RGB-D folder (Redwood or TUM), read as `mindpalace perceive` reads it")
    source.add_argument("--sim", action="store_true", help="the household robot doing random jobs")
    record.add_argument("--out", type=Path, required=True, help="the bag folder to create")
    record.add_argument("--storage", choices=("sqlite3", "mcap"), default="sqlite3")
    record.add_argument("--up", choices=("auto", "keep"), default="auto", help="--rgbd: gravity-align the world (as perceive)")
    record.add_argument("--max-frames", type=int, default=None, help="--rgbd: the first N frames")
    record.add_argument("--seed", type=int, default=0, help="--sim: apartment and job seed")
    record.add_argument("--steps", type=int, default=200, help="--sim: env steps")
    record.add_argument("--width", type=int, default=320, help="--sim: image width")
    record.add_argument("--height", type=int, default=240, help="--sim: image height")
    record.set_defaults(run=run_record)

    ingest = jobs.add_parser("ingest", help="build a memory bank offline from a rosbag2 (sqlite3 or MCAP)")
    ingest.add_argument("bag", type=Path)
    ingest.add_argument("--bank", type=Path, required=True, help="the bank to create or continue")
    _node_arguments(ingest)
    ingest.add_argument("--out", type=Path, default=None, help="also write the map's scene_graph.json and report.json here")
    ingest.add_argument("--json", action="store_true", help="print only the JSON line")
    ingest.set_defaults(run=run_ingest)

    memory = jobs.add_parser("memory", help="run the memory node until interrupted")
    memory.add_argument("--bank", type=Path, required=True, help="the bank to open or create (a restart continues it)")
    _node_arguments(memory)
    _transport_arguments(memory)
    memory.set_defaults(run=run_memory)


def _node_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="memory node parameters, YAML (ros/params/memory_node.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one parameter (repeatable)")


def _transport_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=("dds", "rclpy"), default="dds")
    parser.add_argument("--domain-id", type=int, default=None, help="ROS domain id (default $ROS_DOMAIN_ID or 0)")
    parser.add_argument("--interface", default=None, help="dds: confine DDS to this network interface (e.g. lo)")


def memory_config(args: argparse.Namespace):  # -> MemoryNodeConfig
    from mindpalace.ros.memory_node import MemoryNodeConfig

    return load_config(MemoryNodeConfig, args.config, [*args.set, f"memory.bank={json.dumps(str(args.bank))}"])


def domain_id(args: argparse.Namespace) -> int:
    import os

    return args.domain_id if args.domain_id is not None else int(os.environ.get("ROS_DOMAIN_ID", "0"))


def run_record(args: argparse.Namespace) -> int:
    from mindpalace.ros.record import record_rgbd, record_sim

    if args.rgbd is not None:
        summary = record_rgbd(args.rgbd, args.out, args.storage, args.up, max_frames=args.max_frames)
    else:
        summary = record_sim(args.out, args.seed, args.steps, args.storage, width=args.width, height=args.height)
    print(json.dumps(summary))
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    from mindpalace.ros.bag import ingest
    from mindpalace.ros.memory_node import MemoryNode

    config = memory_config(args)
    config.rate_hz = 0.0  # offline: every frame
    node = MemoryNode.open(config)
    try:
        report = ingest(args.bag, node)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            with node.lock:
                node.memory.spatial.scene_graph()
                node.memory.spatial.scene.save_json(args.out / "scene_graph.json")
            (args.out / "report.json").write_text(json.dumps(asdict(report), indent=2))
    finally:
        node.close()
    print(json.dumps(asdict(report)))
    return 0 if report.frames_used else 1


def run_memory(args: argparse.Namespace) -> int:
    from mindpalace.ros.memory_node import MemoryNode
    from mindpalace.ros.memory_node_ros import MemoryNodeRos
    from mindpalace.ros.transport import make_transport

    config = memory_config(args)
    node = MemoryNode.open(config)
    try:
        transport = make_transport(args.transport, "mindpalace_memory", domain_id=domain_id(args), interface=args.interface)
    except BaseException:
        node.close()
        raise
    running = MemoryNodeRos(node, transport)
    print(json.dumps({"node": "memory", "bank": str(node.memory.bank.path), "namespace": config.namespace}), flush=True)
    wait_for_signal()
    running.close()
    return 0


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM (a launch system's stop)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
