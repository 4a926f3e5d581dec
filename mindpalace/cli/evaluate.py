"""`mindpalace eval ...`: quality benchmarks that print metrics (one JSON object with --json)."""

from __future__ import annotations

import argparse

from tqdm import tqdm

from mindpalace.cli.args import integer
from mindpalace.cli.output import print_figures


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("eval", help="quality benchmarks")
    targets = parser.add_subparsers(dest="target", required=True)
    perception = targets.add_parser("perception", help="perceived objects vs ground truth over a household episode")
    perception.add_argument("--seed", type=integer(0), default=0)
    perception.add_argument("--rooms", type=integer(3, 8), default=5)
    perception.add_argument("--moves", type=integer(0), default=3, help="objects the robot moves between the two tours")
    perception.add_argument(
        "--person-moves", type=integer(0), default=3, help="objects a person moves while the robot is in another room"
    )
    perception.add_argument(
        "--no-containers", action="store_true", help="skip the drawer round trip and the object put behind a cupboard's door"
    )
    perception.add_argument("--width", type=integer(16, 1920), default=320)
    perception.add_argument("--height", type=integer(16, 1080), default=240)
    perception.add_argument("--json", action="store_true", help="print one JSON object")
    perception.set_defaults(run=run_perception)


def run_perception(args: argparse.Namespace) -> int:
    from mindpalace.benchmarks.perception import PerceptionEvalConfig, run_perception_eval

    config = PerceptionEvalConfig(
        seed=args.seed,
        n_rooms=args.rooms,
        width=args.width,
        height=args.height,
        moves=args.moves,
        containers=not args.no_containers,
        person_moves=args.person_moves,
    )
    with tqdm(desc="eval perception", unit="frame", disable=args.json) as bar:
        metrics = run_perception_eval(config, progress=bar.update)
    print_figures(metrics, args.json)
    return 0
