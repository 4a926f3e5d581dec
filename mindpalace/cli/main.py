"""`mindpalace` command line: one subcommand per job, each in its own module."""

from __future__ import annotations

import argparse
import logging
import sys

from mindpalace.cli import bench, demo, demos, evaluate, memory, perceive, perf, ros, run, sim
from mindpalace.cli.args import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mindpalace", description="A memory for embodied agents.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(commands)
    demos.add_parser(commands)
    run.add_parser(commands)
    sim.add_parser(commands)
    perceive.add_parser(commands)
    evaluate.add_parser(commands)
    memory.add_parser(commands)
    perf.add_parser(commands)
    bench.add_parser(commands)
    ros.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a bad argument or a failure the command expects ends it with one line on stderr and 2."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0), or a bad argument, already reported on one line (2)
        return stop.code if isinstance(stop.code, int) else 0
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or 0)
    except (ValueError, RuntimeError, OSError) as error:
        print(f"mindpalace {args.command}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
