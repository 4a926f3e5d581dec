"""`mindpalace perf ...`: benchmarks that print figures, and one JSON object with --json."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.cli.args import integer, non_negative_number
from mindpalace.cli.output import print_figures
from mindpalace.core.actions import BaseVelocity


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("perf", help="benchmarks")
    targets = parser.add_subparsers(dest="target", required=True)
    sim = targets.add_parser("sim", help="household env steps/s with RGB + depth + segmentation every step")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("--steps", type=integer(4), default=200, help="timed steps per resolution")
    sim.add_argument("--warmup", type=integer(0), default=20)
    sim.add_argument("--rooms", type=integer(3, 8), default=6)
    sim.add_argument("--seed", type=integer(0), default=0)
    sim.set_defaults(run=run_sim)
    perception = targets.add_parser("perception", help="frames/s of the perception write path on household frames")
    perception.add_argument("--json", action="store_true", help="print one JSON object")
    perception.add_argument("--frames", type=integer(1), default=150, help="timed frames per resolution (after 10 warm-up)")
    perception.add_argument("--rooms", type=integer(3, 8), default=5)
    perception.add_argument("--seed", type=integer(0), default=0)
    perception.set_defaults(run=run_perception)
    memory = targets.add_parser(
        "memory", help="memory query latency at 1e4..1e7 items, warm and after a cold start, write throughput, a 24 h day"
    )
    memory.add_argument("--json", action="store_true", help="print one JSON object")
    memory.add_argument(
        "--sizes",
        type=_sizes,
        default="1e4,1e5,1e6",
        help="items per store, comma separated (a 1e7 bank takes ~2 hours to build on one core; keep it with --bank-folder)",
    )
    memory.add_argument(
        "--bank-folder",
        type=Path,
        default=None,
        help="keep the benchmark banks here and reuse them in later runs (keyed by size, seed and --queries); "
        "by default they are built in a temporary folder and deleted",
    )
    memory.add_argument("--queries", type=integer(1), default=200, help="timed queries per kind and size")
    memory.add_argument("--hours", type=non_negative_number, default=24.0, help="length of the simulated day (0 to skip)")
    memory.add_argument("--plot", type=Path, default=None, help="write the day's bank size and RSS as a PNG")
    memory.add_argument(
        "--tight-budget",
        type=integer(1),
        default=1500,
        help="item budget of the second simulated day, small enough that forgetting runs",
    )
    memory.set_defaults(run=run_memory)
    restart = targets.add_parser("restart", help="the live map across a restart and a SIGKILL; checkpoint cost")
    restart.add_argument("--json", action="store_true", help="print one JSON object")
    restart.add_argument("--seed", type=int, default=0)
    restart.add_argument("--every", type=float, default=30.0, help="checkpoint interval, seconds of the frame clock")
    restart.add_argument("--tours", type=int, default=0, help="extra tours of the apartment after the day, to lengthen it")
    restart.add_argument("--paths", type=int, default=20, help="A* paths compared across the restart")
    restart.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    restart.add_argument("--out", type=Path, default=Path("runs/perf_restart"), help="folder for the banks (must not hold them)")
    restart.set_defaults(run=run_restart)
    planner = targets.add_parser("planner", help="planner overhead per decision outside model inference")
    planner.add_argument("--json", action="store_true", help="print one JSON object")
    planner.add_argument("--decisions", type=integer(1), default=40, help="timed decisions per decoding mode")
    planner.add_argument("--seed", type=integer(0), default=0)
    planner.add_argument("--with-model", action="store_true", help="also time the local model's inference per decision")
    planner.add_argument("--extra-events", type=integer(0), default=0, help="older events added to memory before timing")
    planner.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="agent config field, e.g. llm.dtype=bfloat16 (repeatable)"
    )
    planner.set_defaults(run=run_planner)
    ros = targets.add_parser("ros", help="the memory node under 30 Hz 640x480 RGB-D over DDS, and the query round trip")
    ros.add_argument("--json", action="store_true", help="print one JSON object")
    ros.add_argument("--seconds", type=float, default=10.0, help="how long the camera streams")
    ros.add_argument("--hz", type=float, default=30.0, help="camera frame rate")
    ros.add_argument("--rate", type=float, default=5.0, help="the memory node's perception rate (rate_hz)")
    ros.add_argument("--queries", type=int, default=200, help="timed memory queries")
    ros.set_defaults(run=run_ros)
    tabletop = targets.add_parser(
        "tabletop", help="tabletop key-pose steps/s with four cameras (run it on one core: taskset -c 0)"
    )
    tabletop.add_argument("--json", action="store_true", help="print one JSON object")
    tabletop.add_argument("--steps", type=int, default=40, help="timed key-poses")
    tabletop.add_argument("--warmup", type=int, default=4)
    tabletop.add_argument("--size", type=int, default=128, help="camera images are size x size")
    tabletop.add_argument("--seed", type=int, default=0)
    tabletop.set_defaults(run=run_tabletop)


def _sizes(text: str) -> list[int]:
    """An argparse type: item counts of at least 100, comma separated ("1e4,1e5")."""
    try:
        sizes = [int(float(size)) for size in text.split(",") if size.strip()]
    except (ValueError, OverflowError):
        sizes = []
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError(f"must list item counts of at least 100, got {text!r}")
    return sizes


def _time_steps(width: int, height: int, args: argparse.Namespace) -> dict[str, float]:
    from mindpalace.envs import make
    from mindpalace.envs.household.layout import generate_apartment
    from mindpalace.envs.household.mjcf import ModelOptions, build_mjcf
    from mindpalace.envs.rendering import mujoco

    start = time.perf_counter()
    apartment = generate_apartment(args.seed, n_rooms=args.rooms)
    generated = time.perf_counter()
    mujoco.MjModel.from_xml_string(build_mjcf(apartment, ModelOptions(width, height)))
    compiled = time.perf_counter()

    env = make("mindpalace/Household-v0", width=width, height=height, n_rooms=args.rooms)
    reset_start = time.perf_counter()
    env.reset(seed=args.seed)
    reset_s = time.perf_counter() - reset_start
    # Drive a slow circle so every frame shows a new view.
    action = BaseVelocity(0.2, 0.6, 0.1)
    for _ in range(args.warmup):
        env.step(action)
    start_steps = time.perf_counter()
    for _ in range(args.steps):
        env.step(action)
    elapsed = time.perf_counter() - start_steps
    render_start = time.perf_counter()
    for _ in range(args.steps // 4):
        env._renderer.render(env.data)
    render_ms = (time.perf_counter() - render_start) * 1000 / max(args.steps // 4, 1)
    env.close()
    return {
        "steps_per_s": args.steps / elapsed,
        "render_ms": render_ms,
        "generate_s": generated - start,
        "compile_s": compiled - generated,
        "reset_s": reset_s,
        "ngeom": float(env.model.ngeom),
    }


def run_sim(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {
        "rooms": args.rooms,
        "seed": args.seed,
        "steps": args.steps,
        "cpus": len(os.sched_getaffinity(0)),
        "mujoco_gl": os.environ.get("MUJOCO_GL", "egl"),
    }
    for width, height in ((320, 240), (640, 480)):
        figures = _time_steps(width, height, args)
        key = f"{width}x{height}"
        results[f"steps_per_s_{key}"] = round(figures["steps_per_s"], 1)
        results[f"render_ms_{key}"] = round(figures["render_ms"], 2)
        if width == 320:
            results["apartment_generate_s"] = round(figures["generate_s"], 4)
            results["model_compile_s"] = round(figures["compile_s"], 4)
            results["apartment_build_s"] = round(figures["generate_s"] + figures["compile_s"], 4)
            results["reset_s"] = round(figures["reset_s"], 3)
            results["ngeom"] = int(figures["ngeom"])
    print_figures(results, args.json)
    return 0


def run_perception(args: argparse.Namespace) -> int:
    from mindpalace.benchmarks.perception import measure_write_path, record_tour_frames

    results: dict[str, Any] = {"rooms": args.rooms, "seed": args.seed, "cpus": len(os.sched_getaffinity(0))}
    for width, height in ((320, 240), (640, 480)):
        frames = record_tour_frames(args.seed, args.rooms, width, height, args.frames + 10)
        figures = measure_write_path(frames)
        key = f"{width}x{height}"
        results[f"fps_{key}"] = round(figures.pop("fps"), 1)
        results[f"frames_{key}"] = figures.pop("frames")
        results[f"stage_ms_{key}"] = {stage.removesuffix("_ms"): round(value, 2) for stage, value in figures.items()}
    print_figures(results, args.json)
    return 0


def run_restart(args: argparse.Namespace) -> int:
    from mindpalace.benchmarks.restart import run_kill, run_restart

    if args.seed < 0 or not args.every > 0 or args.tours < 0 or args.paths < 1:
        raise ValueError("--seed and --tours must be >= 0, --every > 0 and --paths >= 1")
    figures = run_restart(args.out, args.seed, args.every, args.tours, args.paths)
    if not args.no_kill:
        figures.update(run_kill(args.out, args.seed, args.every))
    print_figures(figures, args.json)
    return 0


def run_memory(args: argparse.Namespace) -> int:
    import sys

    from mindpalace.benchmarks.memory_perf import measure_queries, simulate_day, write_throughput
    from mindpalace.perception.embeddings import TextEmbedder

    def progress(message: str) -> None:
        print(f"[perf memory] {message}", file=sys.stderr, flush=True)

    # The text index says when it has built a kind: at 10^7 items each takes a while.
    logging.getLogger("mindpalace.memory.vector_index").setLevel(logging.INFO)
    sizes = args.sizes  # a string default goes through _sizes too
    results: dict[str, Any] = {"cpus": len(os.sched_getaffinity(0))}
    results.update({f"write_{k}": v for k, v in write_throughput().items()})
    embedder = TextEmbedder()
    embedder.embed(["warm up"])
    samples = []
    for q in range(50):
        start = time.perf_counter()
        embedder.embed([f"where did I leave the object number {q}"])
        samples.append((time.perf_counter() - start) * 1000)
    results["query_embedding_ms_p50"] = round(float(np.percentile(samples, 50)), 2)
    results["query_embedding_ms_p95"] = round(float(np.percentile(samples, 95)), 2)
    for size in sizes:
        tag = f"1e{round(np.log10(size))}" if float(size) == 10 ** round(np.log10(size)) else str(size)
        figures = measure_queries(size, args.queries, progress=progress, bank_folder=args.bank_folder)
        results.update({f"{key}_{tag}": value for key, value in figures.items()})
    if args.hours > 0:
        # Each day runs in a fresh process, so its RSS is its own, not what the 10^6 runs above left behind.
        context = multiprocessing.get_context("spawn")
        days = {}
        for name, budget in (("day", None), ("day_tight", args.tight_budget)):
            with ProcessPoolExecutor(1, mp_context=context) as pool:
                days[name] = pool.submit(simulate_day, args.hours, budget).result()
            results.update({f"{name}_{k}": v for k, v in days[name].items() if k != "hourly"})
        if args.plot:
            _plot_day(days, args.plot)
    print_figures(results, args.json)
    return 0


def _plot_day(days: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, day in days.items():
        hours = [h["hour"] for h in day["hourly"]]
        axes[0].plot(hours, [h["bank_mb"] for h in day["hourly"]], label=name)
        axes[1].plot(hours, [h["rss_mb"] for h in day["hourly"]], label=name)
    for axis, title in zip(axes, ("bank size (MB)", "RSS (MB)")):
        axis.set_title(title)
        axis.set_xlabel("simulated hour")
        axis.grid(alpha=0.3)
        axis.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def run_tabletop(args: argparse.Namespace) -> int:
    """Key-poses per second (motion primitive, physics, four RGB-D-segmentation cameras), and where the time goes."""
    from mindpalace.core.actions import KeyPose
    from mindpalace.envs import make
    from mindpalace.envs.tabletop.primitives import DOWN
    from mindpalace.envs.tabletop.scene import TABLE_Z

    if args.steps < 2 or args.warmup < 0:
        raise ValueError("--steps must be >= 2 and --warmup >= 0")
    env = make("mindpalace/Tabletop-v0", width=args.size, height=args.size)
    reset_start = time.perf_counter()
    env.reset(seed=args.seed, options={"task": "put_block_back", "variation": 0})
    reset_s = time.perf_counter() - reset_start
    # Back and forth over the table with the gripper opening and closing: every key-pose moves the hand.
    poses = [
        KeyPose((0.15, -0.2, TABLE_Z + 0.15), DOWN, gripper_open=True),
        KeyPose((-0.15, 0.1, TABLE_Z + 0.1), DOWN, gripper_open=False, ignore_collisions=True),
    ]
    for k in range(args.warmup):
        env.step(poses[k % 2])
    start = time.perf_counter()
    for k in range(args.steps):
        env.step(poses[k % 2])
    elapsed = time.perf_counter() - start
    render_start = time.perf_counter()
    for _ in range(5):
        env._observe(None)
    render_ms = (time.perf_counter() - render_start) * 1000 / 5
    results = {
        "keypose_steps_per_s": round(args.steps / elapsed, 2),
        "ms_per_keypose": round(1000 * elapsed / args.steps, 1),
        "render_ms_four_cameras": round(render_ms, 1),
        "simulated_s_per_keypose": env.config.keypose_time + env.config.gripper_time,
        "physics_steps_per_keypose": round((env.config.keypose_time + env.config.gripper_time) / env.config.timestep),
        "reset_s": round(reset_s, 3),
        "cameras": len(env.config.cameras),
        "size": args.size,
        "cpus": len(os.sched_getaffinity(0)),
        "mujoco_gl": os.environ.get("MUJOCO_GL", "egl"),
    }
    env.close()
    print_figures(results, args.json)
    return 0


def run_planner(args: argparse.Namespace) -> int:
    from mindpalace.agent.builder import check_config
    from mindpalace.agent.config import AgentConfig
    from mindpalace.benchmarks.planner_perf import measure_planner
    from mindpalace.core.config import load_config

    config = load_config(AgentConfig, None, [f"seed={args.seed}", *args.set])
    check_config(config)
    results = measure_planner(
        config.seed,
        args.decisions,
        args.with_model,
        args.extra_events,
        progress=None if args.json else lambda message: print(message, flush=True),
        config=config,
    )
    print_figures(results, args.json)
    return 0


def run_ros(args: argparse.Namespace) -> int:
    from mindpalace.ros.perf import measure_ros

    if args.seconds <= 0 or args.hz <= 0 or args.rate < 0 or args.queries < 1:
        raise ValueError("--seconds and --hz must be > 0, --rate >= 0 and --queries >= 1")
    print_figures(measure_ros(args.seconds, args.hz, args.rate, args.queries), args.json)
    return 0
