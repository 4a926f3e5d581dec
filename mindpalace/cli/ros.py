"""`mindpalace ros ...`: the ROS 2 nodes on the DDS transport (or rclpy), rosbag2 record and ingest.

mindpalace ros record --rgbd ../shared/data/real_rgbd/RGBD --out runs/redwood_bag
mindpalace ros ingest runs/redwood_bag --bank runs/redwood.db
mindpalace ros memory --bank runs/home.db --config ros/params/memory_node.yaml
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from mindpalace.core.config import load_config

if TYPE_CHECKING:
    from mindpalace.ros.memory_node import MemoryNodeConfig


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("ros", help="ROS 2: the memory and agent nodes, the sim bridge, rosbag2 record and ingest")
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

    agent = jobs.add_parser("agent", help="run the agent node until interrupted (instructions as an action or a topic)")
    agent.add_argument("--config", type=Path, default=None, help="agent node parameters, YAML (ros/params/agent_node.yaml)")
    agent.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one parameter (repeatable)")
    _transport_arguments(agent)
    agent.set_defaults(run=run_agent)

    sim = jobs.add_parser("sim", help="run the household simulator as a ROS 2 robot until interrupted")
    sim.add_argument("--config", type=Path, default=None, help="sim bridge parameters, YAML (ros/params/sim_bridge.yaml)")
    sim.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one parameter (repeatable)")
    _transport_arguments(sim)
    sim.set_defaults(run=run_sim)

    e2e = jobs.add_parser("e2e", help="sim bridge + memory node + agent node over DDS: a remembered day, then instructions")
    e2e.add_argument("--out", type=Path, default=Path("runs/ros_e2e"), help="output folder (a new bank is made there)")
    e2e.add_argument("--seed", type=int, default=0)
    e2e.add_argument("--rooms", type=int, default=3)
    e2e.add_argument("--moves", type=int, default=2, help="objects moved during the day")
    e2e.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an agent node parameter (repeatable)")
    e2e.add_argument("--json", action="store_true", help="print only the JSON summary")
    e2e.set_defaults(run=run_e2e)


def _node_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="memory node parameters, YAML (ros/params/memory_node.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one parameter (repeatable)")


def _transport_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=("dds", "rclpy"), default="dds")
    parser.add_argument("--domain-id", type=int, default=None, help="ROS domain id (default $ROS_DOMAIN_ID or 0)")
    parser.add_argument("--interface", default=None, help="dds: confine DDS to this network interface (e.g. lo)")


def memory_config(args: argparse.Namespace) -> MemoryNodeConfig:
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
                node.spatial.scene_graph()
                node.spatial.scene.save_json(args.out / "scene_graph.json")
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
        node.warm_up()
        transport = make_transport(args.transport, "mindpalace_memory", domain_id=domain_id(args), interface=args.interface)
    except BaseException:
        node.close()
        raise
    running = MemoryNodeRos(node, transport)
    print(json.dumps({"node": "memory", "bank": str(node.memory.bank.path), "namespace": config.namespace}), flush=True)
    wait_for_signal()
    running.close()
    return 0


def run_agent(args: argparse.Namespace) -> int:
    from mindpalace.ros.agent_node import AgentNode, AgentNodeConfig
    from mindpalace.ros.transport import make_transport

    config = load_config(AgentNodeConfig, args.config, args.set)
    transport = make_transport(args.transport, "mindpalace_agent", domain_id=domain_id(args), interface=args.interface)
    try:
        node = AgentNode(config, transport)
        node.serve(timeout_s=300.0)
        print(json.dumps({"node": "agent", "instruct": f"{config.namespace}/instruct"}), flush=True)
        wait_for_signal()
    finally:
        transport.close()
    return 0


def run_sim(args: argparse.Namespace) -> int:
    from mindpalace.ros.sim_bridge import SimBridge, SimBridgeConfig
    from mindpalace.ros.transport import make_transport

    config = load_config(SimBridgeConfig, args.config, args.set)
    transport = make_transport(args.transport, "mindpalace_sim", domain_id=domain_id(args), interface=args.interface)
    bridge = SimBridge(config, transport)
    print(json.dumps({"node": "sim", "env": config.env.type, "seed": config.seed}), flush=True)
    wait_for_signal()
    bridge.close()
    return 0


def run_e2e(args: argparse.Namespace) -> int:
    from mindpalace.cli.agent_args import progress_printer
    from mindpalace.ros.e2e import run_e2e as e2e

    say = None if args.json else progress_printer()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: the nodes it started are stopped too
    summary = e2e(args.out, args.seed, args.rooms, args.moves, agent_settings=args.set, progress=say)
    print(json.dumps(summary) if args.json else json.dumps({k: summary[k] for k in ("instructions", "succeeded", "wall_s")}))
    return 0


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM (a launch system's stop)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
