"""`mindpalace run --task "..."`: one instruction carried out by the agent in the household, with a report.

Without `--bank`, the robot first lives a day (as in the demo) into a new memory bank under `--out`, unless
`--no-day`. With `--bank BANK`, an existing bank is continued (its memory and live map, in the env and seed
it was built in, unless given others) and no day is lived; a bank is never removed or overwritten.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mindpalace.agent.builder import recorded_world_of
from mindpalace.agent.report import format_table, summary_rows, write_report
from mindpalace.benchmarks.demo import DemoConfig, open_world, save_episode_map
from mindpalace.cli.agent_args import add_agent_arguments, agent_config, progress_printer, show_config


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="one instruction carried out by the planner; writes a report")
    parser.add_argument("--task", required=True, help='the instruction, e.g. "Where did you put the mug?"')
    parser.add_argument("--bank", type=Path, default=None, help="a memory bank to continue (memory.bank=...)")
    parser.add_argument("--no-day", action="store_true", help="start with an empty memory instead of after a remembered day")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    add_agent_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.task.strip():
        raise ValueError("--task is empty")
    continuing = args.bank is not None and args.bank.exists()
    if continuing:
        recorded = recorded_world_of(args.bank)
        if recorded is not None:
            # The bank's own env and seed come first; flags and --set given now still win.
            args.set = [f"env={json.dumps(recorded['env'])}", f"seed={recorded['seed']}", *args.set]
    config = DemoConfig(agent=agent_config(args))
    if args.show_config:
        show_config(config.agent)
        return 0
    say = progress_printer()
    world = open_world(config, args.out, live=not (args.no_day or continuing), progress=say)
    try:
        say(f"task: {args.task}")
        record = world.agent.run(
            args.task,
            progress=lambda step: say(
                f"  step {step.index}: {step.skill}({step.arguments}) -> "
                f"{'ok' if step.success else 'failed ' + step.reason}: {step.message}"
            ),
        )
        record.maps["top-down map with the robot's path (ground-truth layout)"] = str(
            save_episode_map(world.env, record, args.out / "maps" / "episode_1.png")
        )
        bank = str(world.agent.memory.bank.path)
    finally:
        world.close()
    paths = write_report([record], args.out, title=f"mindpalace run: {args.task}")
    rows = summary_rows([record])
    summary = {"seed": config.agent.seed, "bank": bank, "continued": continuing, "episodes": rows}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print()
    print(format_table(rows))
    print(f"report: {paths.get('html', paths.get('md'))}")
    print(f"memory bank: {bank} (continue it with --bank)")
    if os.environ.get("MINDPALACE_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY"):
        print("(the API key was read from the environment and is not written anywhere)")
    return 0
