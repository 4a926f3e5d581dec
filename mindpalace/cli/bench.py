"""`mindpalace bench ...`: task suites that score agents (a summary.json and a table), and their datasets."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("bench", help="task suites that score agents")
    targets = parser.add_subparsers(dest="target", required=True)
    suite = targets.add_parser("memorybench", help="MemoryBench's three tasks on the tabletop, per agent")
    suite.add_argument(
        "--agents",
        default="oracle,chance,no_memory,mindpalace",
        help="comma separated: oracle, chance, no_memory, a memory preset (mindpalace, karma, 3dmem, mem4nav, "
        "robomemory), or policy:module:attr",
    )
    suite.add_argument("--tasks", default="reopen_drawer,put_block_back,rearrange_block")
    suite.add_argument("--episodes", type=int, default=25, help="episodes per task and evaluation seed")
    suite.add_argument("--seeds", type=int, default=3, help="evaluation seeds (from --seed on)")
    suite.add_argument("--seed", type=int, default=0, help="the first evaluation seed: it picks the episodes")
    suite.add_argument("--out", type=Path, required=True, help="folder for results.jsonl (resumable) and summary.json")
    suite.add_argument("--width", type=int, default=128)
    suite.add_argument("--height", type=int, default=128)
    suite.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="planner agents' config override")
    suite.set_defaults(run=run_memorybench)
    demos = targets.add_parser("demos", help="scripted demonstrations of the tabletop tasks, in LeRobot's dataset format")
    demos.add_argument("--out", type=Path, required=True, help="an empty folder for the dataset")
    demos.add_argument("--tasks", default="reopen_drawer,put_block_back,rearrange_block")
    demos.add_argument("--episodes", type=int, default=100, help="demonstrations per task (MemoryBench ships 100)")
    demos.add_argument("--seed", type=int, default=0)
    demos.add_argument("--width", type=int, default=128)
    demos.add_argument("--height", type=int, default=128)
    demos.set_defaults(run=run_demos)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def run_memorybench(args: argparse.Namespace) -> int:
    from mindpalace.benchmarks.memorybench import SuiteOptions, make_jobs, run_suite, table, tabletop_agent_config

    if args.seeds < 1:
        raise ValueError("--seeds must be >= 1")
    jobs = make_jobs(_names(args.agents), _names(args.tasks), args.episodes, list(range(args.seed, args.seed + args.seeds)))
    options = SuiteOptions(width=args.width, height=args.height, agent=tabletop_agent_config(args.set))
    with tqdm(total=len(jobs), desc="memorybench", unit="episode") as bar:
        summary = run_suite(jobs, args.out, options, progress=lambda result: bar.update(1))
    print(table(summary))
    print(f"summary: {args.out / 'summary.json'}")
    return 0


def run_demos(args: argparse.Namespace) -> int:
    from mindpalace.benchmarks.demos import export_demos

    tasks = _names(args.tasks)
    with tqdm(total=len(tasks) * args.episodes, desc="demonstrations", unit="episode") as bar:
        info = export_demos(args.out, tasks, args.episodes, args.seed, args.width, args.height, progress=bar.update)
    print(f"{info['total_episodes']} episodes, {info['total_frames']} frames (LeRobot {info['codebase_version']}) in {args.out}")
    return 0
