"""`mindpalace run --task "..."`: one episode of the agent loop in a household apartment, with a report."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mindpalace.agent.loop import EpisodeBudget, run_episode
from mindpalace.agent.report import format_table, summary_rows, write_report
from mindpalace.benchmarks.demo import DemoConfig, make_planner, open_world, save_episode_map
from mindpalace.planning.planner import PlannerConfig


def add_planner_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--planner", default="local", choices=("local", "openai", "scripted"), help="LLM backend")
    parser.add_argument(
        "--mode",
        default=None,
        choices=("score", "generate"),
        help="decoding: rank valid candidates (score, the default for local) or free calls (generate, the default for openai)",
    )
    parser.add_argument("--model", default=None, help="local: a model directory; openai: the model name")
    parser.add_argument("--base-url", default=None, help="openai: the endpoint (default $MINDPALACE_LLM_BASE_URL)")
    parser.add_argument(
        "--script", type=Path, default=None, help='scripted: a JSON file {"replies": [...], "choices": [...]} (a test double)'
    )
    parser.add_argument("--max-steps", type=int, default=8, help="planner decisions per instruction")
    parser.add_argument("--max-tokens", type=int, default=60_000, help="tokens per instruction")
    parser.add_argument("--max-wall-s", type=float, default=240.0, help="wall time per instruction")


def demo_config(args: argparse.Namespace) -> DemoConfig:
    """The world and planner settings from the command line (an API key only ever from the environment)."""
    backend_args: dict[str, Any] = {}
    if args.planner == "local" and args.model:
        backend_args["model"] = args.model
    if args.planner == "openai":
        backend_args.update({k: v for k, v in (("model", args.model), ("base_url", args.base_url)) if v})
    if args.planner == "scripted":
        if args.script is None:
            raise ValueError("--planner scripted needs --script FILE")
        script = json.loads(args.script.read_text())
        backend_args.update(replies=script.get("replies", []), choices=script.get("choices", []))
    mode = args.mode or ("generate" if args.planner == "openai" else "score")
    budget = EpisodeBudget(max_steps=args.max_steps, max_tokens=args.max_tokens, max_wall_s=args.max_wall_s)
    return DemoConfig(
        seed=args.seed,
        n_rooms=args.rooms,
        planner=args.planner,
        backend_args=backend_args,
        planner_config=PlannerConfig(mode=mode),
        budget=budget,
    )


def progress_printer() -> Callable[[str], None]:
    """Prints each message with the seconds since the command started."""
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", flush=True)

    return say


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="one instruction carried out by the planner; writes a report")
    parser.add_argument("--task", required=True, help='the instruction, e.g. "Where did you put the mug?"')
    parser.add_argument("--seed", type=int, default=0, help="apartment and day seed")
    parser.add_argument("--rooms", type=int, default=4, help="rooms in the apartment, 3 to 8")
    parser.add_argument("--no-day", action="store_true", help="start with an empty memory instead of after a remembered day")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    add_planner_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = demo_config(args)
    say = progress_printer()
    world = open_world(config, args.out, live=not args.no_day, progress=say)
    try:
        planner = make_planner(config, world.memory)
        say(f"task: {args.task}")
        record = run_episode(
            world.runtime,
            planner,
            args.task,
            budget=config.budget,
            seed=args.seed,
            planner_name=f"{config.planner}/{config.planner_config.mode}",
            progress=lambda step: say(
                f"  step {step.index}: {step.skill}({step.arguments}) -> "
                f"{'ok' if step.success else 'failed ' + step.reason}: {step.message}"
            ),
        )
        record.maps["top-down map with the robot's path (ground-truth layout)"] = str(
            save_episode_map(world.env, record, args.out / "maps" / "episode_1.png")
        )
    finally:
        world.close()
    paths = write_report([record], args.out, title=f"mindpalace run: {args.task}")
    rows = summary_rows([record])
    (args.out / "summary.json").write_text(json.dumps({"seed": args.seed, "episodes": rows}, indent=2))
    print()
    print(format_table(rows))
    print(f"report: {paths.get('html', paths.get('md'))}")
    if os.environ.get("MINDPALACE_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY"):
        print("(the API key was read from the environment and is not written anywhere)")
    return 0
