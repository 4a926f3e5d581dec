"""`mindpalace demo`: a day of activity the robot remembers, then memory-dependent instructions with the local model."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mindpalace.agent.report import format_table, summary_rows, write_report
from mindpalace.benchmarks.demo import DemoConfig, run_demo
from mindpalace.cli.agent_args import add_agent_arguments, agent_config, progress_printer, show_config


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="a remembered day, then instructions that need the memory (offline)")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output directory (report, maps, memory banks)")
    parser.add_argument("--moves", type=int, default=3, help="objects the robot moves during the day, 1 to 8")
    add_agent_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not 1 <= args.moves <= 8:
        raise ValueError(f"--moves must be 1 to 8, got {args.moves}")
    config = DemoConfig(agent=agent_config(args), moves=args.moves)
    if args.show_config:
        show_config(config.agent)
        return 0
    seed = config.agent.seed
    result = run_demo(config, args.out, progress=progress_printer())
    rows = summary_rows(result.episodes)
    for row, cause in zip(rows, result.failure_causes, strict=True):
        row["failure_cause"] = cause  # the benchmark's diagnosis (`benchmarks.failure_cause`), None for a success
    intro = (
        f"Seed {seed}: an apartment of {len(result.rooms)} rooms ({', '.join(result.rooms)}). The robot lived a day "
        f"of {result.day.env_steps} env steps ({result.day.sim_time_s:.0f} s simulated, {result.day_wall_s:.0f} s wall) "
        f"and moved {len(result.day.moves)} objects; its memory holds only what its camera saw and what it did. "
        f"Then the planner ({config.agent.llm.type}, {config.agent.planner.mode} mode) carried out {len(rows)} instructions. "
        f"Actions the env rejected as invalid: {result.invalid_env_actions}; other env refusals: {result.env_failures}."
    )
    paths = write_report(result.episodes, args.out, title="mindpalace demo", intro=intro)
    succeeded = sum(r["success"] for r in rows)
    summary = {
        "seed": seed,
        "bank": result.bank,
        "instructions": len(rows),
        "succeeded": succeeded,
        "invalid_env_actions": result.invalid_env_actions,
        "env_failures": result.env_failures,
        "day_env_steps": result.day.env_steps,
        "day_wall_s": round(result.day_wall_s, 1),
        "wall_s": round(time.perf_counter() - started, 1),
        "episodes": rows,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print()
    print(format_table(rows))
    print(f"\n{succeeded}/{len(rows)} instructions succeeded; invalid actions that reached the env: {result.invalid_env_actions}")
    print(f"report: {paths.get('html', paths.get('md'))}  ({summary['wall_s']:.0f} s in all)")
    return 0
