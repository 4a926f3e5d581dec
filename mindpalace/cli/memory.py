"""`mindpalace memory stats|query|export BANK`: look into a memory bank from the shell."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mindpalace.cli.args import integer
from mindpalace.memory.bank import BankError


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("memory", help="inspect a memory bank")
    actions = parser.add_subparsers(dest="action", required=True)
    stats = actions.add_parser("stats", help="counts and sizes of each store")
    stats.add_argument("bank", type=Path)
    stats.set_defaults(run=run_stats)
    query = actions.add_parser("query", help="ask the bank: by meaning, or with a memory tool")
    query.add_argument("bank", type=Path)
    query.add_argument("text", help="what to look for, e.g. 'where is the red mug'")
    query.add_argument("--tool", default=None, help="a memory tool name (where_is, last_seen, facts_about, ...)")
    query.add_argument("--args", default="{}", help="the tool's arguments as JSON")
    query.add_argument("--budget", type=integer(1), default=400, help="context budget in tokens")
    query.set_defaults(run=run_query)
    export = actions.add_parser("export", help="everything in the bank as JSON (images left out)")
    export.add_argument("bank", type=Path)
    export.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    export.set_defaults(run=run_export)


def _open(path: Path):
    from mindpalace.memory.system import MemorySystem

    if not path.exists():
        raise BankError(f"{path}: no such memory bank")
    return MemorySystem.open(path)


def run_stats(args: argparse.Namespace) -> int:
    with _open(args.bank) as memory:
        print(json.dumps(memory.stats(), indent=2))
    return 0


def run_query(args: argparse.Namespace) -> int:
    from mindpalace.memory.tools import call_tool, check_call

    arguments = None
    if args.tool:  # checked before the bank is opened: an unknown tool or bad arguments exit 2 at once
        try:
            arguments = json.loads(args.args)
        except json.JSONDecodeError as error:
            raise ValueError(f"--args is not JSON: {error}") from error
        problem = check_call(args.tool, arguments)
        if problem:
            raise ValueError(problem)
    with _open(args.bank) as memory:
        if args.tool:
            print(call_tool(memory, args.tool, arguments).text())
        else:
            text, _ = memory.context(args.text, budget_tokens=args.budget)
            print(text)
    return 0


def run_export(args: argparse.Namespace) -> int:
    with _open(args.bank) as memory:
        data = json.dumps(memory.export(), indent=1, default=str)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(data)
    else:
        print(data)
    return 0
