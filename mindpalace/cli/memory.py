"""`mindpalace memory stats|query|export|check|repair BANK`: look into a memory bank from the shell.

stats, query and export open the bank read-only: they write nothing (they work on a read-only file or folder)
and never embed or rebuild anything; what a writer left pending is reported. check reads everything and says
what is damaged; repair salvages what is readable into a new bank and never touches the damaged one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mindpalace.cli.args import integer
from mindpalace.memory.bank import BankError


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("memory", help="inspect a memory bank")
    actions = parser.add_subparsers(dest="action", required=True)
    stats = actions.add_parser("stats", help="counts and sizes of each store, and the live map's")
    stats.add_argument("bank", type=Path)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
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
    check = actions.add_parser("check", help="read the whole bank and report damage (exit 1 when damaged)")
    check.add_argument("bank", type=Path)
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(run=run_check)
    repair = actions.add_parser("repair", help="salvage what is readable of a damaged bank into a new one")
    repair.add_argument("bank", type=Path)
    repair.add_argument("--out", type=Path, required=True, help="the new bank to write (must not exist)")
    repair.add_argument("--json", action="store_true", help="print one JSON object")
    repair.set_defaults(run=run_repair)


def _open(path: Path):
    from mindpalace.memory.system import MemorySystem

    if not path.exists():
        raise BankError(f"{path}: no such memory bank")
    return MemorySystem.open(path, read_only=True)


def run_stats(args: argparse.Namespace) -> int:
    with _open(args.bank) as memory:
        stats = memory.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        width = max(len(key) for key in stats)
        for key, value in stats.items():
            print(f"{key:<{width}}  {value}")
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
        pending = memory.stats()["vectors_pending"]
        if pending and not args.tool:
            print(
                f"note: {pending} items a writer left unembedded are not found by meaning until it embeds them", file=sys.stderr
            )
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


def run_check(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from mindpalace.memory.repair import check_bank

    report = check_bank(args.bank)
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    elif report.ok:
        print(f"{args.bank}: ok (schema version {report.schema_version}, last shutdown clean: {report.clean_shutdown})")
    else:
        print(f"{args.bank}: damaged; {len(report.problems)} problems:")
        for problem in report.problems[:20]:
            print(f"  {problem}")
        if len(report.problems) > 20:
            print(f"  ... and {len(report.problems) - 20} more")
        print(f"salvage what is readable with: mindpalace memory repair {args.bank} --out NEW.db")
    return 0 if report.ok else 1


def run_repair(args: argparse.Namespace) -> int:
    from mindpalace.memory.repair import repair_bank

    report = repair_bank(args.bank, args.out)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0
    print(f"{report.out}: a new bank with what {report.source} held that could be read ({args.bank} is unchanged)")
    for name, table in report.tables.items():
        lost = [f"{count} dropped: {reason}" for reason, count in table.dropped.items()]
        lost += [f"rowids {low}..{'end' if high is None else high} on unreadable pages" for low, high in table.unreadable]
        if table.unread:
            lost.append(f"{table.unread} rows its indexes list could not be read")
        print(f"  {name}: {table.copied} rows kept" + (f"; {'; '.join(lost)}" if lost else ""))
    if report.rebuilt:
        print(f"  rebuilt from the rows kept: {', '.join(report.rebuilt)}")
    for note in report.notes:
        print(f"  note: {note}")
    print(
        "  nothing was lost" if report.lossless else "  some rows were lost (above); what was kept is exactly what the bank held"
    )
    return 0
