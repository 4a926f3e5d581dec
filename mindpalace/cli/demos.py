"""`mindpalace demos`: scripted demonstrations of the tabletop tasks, in LeRobot's dataset format."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demos", help="scripted demonstrations of the tabletop tasks, in LeRobot's dataset format")
    parser.add_argument("--out", type=Path, required=True, help="an empty folder for the dataset")
    parser.add_argument("--tasks", default="reopen_drawer,put_block_back,rearrange_block")
    parser.add_argument("--episodes", type=int, default=100, help="demonstrations per task (MemoryBench ships 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=128)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mindpalace.benchmarks.demos import export_demos

    tasks = [name.strip() for name in args.tasks.split(",") if name.strip()]
    if args.episodes < 1 or args.seed < 0:
        raise ValueError("--episodes must be >= 1 and --seed >= 0")
    with tqdm(total=len(tasks) * args.episodes, desc="demonstrations", unit="episode") as bar:
        info = export_demos(args.out, tasks, args.episodes, args.seed, args.width, args.height, progress=bar.update)
    print(f"{info['total_episodes']} episodes, {info['total_frames']} frames (LeRobot {info['codebase_version']}) in {args.out}")
    return 0
