"""`mindpalace bench findingdory`: the suite's jobs through the generic runner (processes or Ray, resumable).

Three rounds, each listed once the one before has finished for a day (`Suite.jobs` with `done`):

1. one job per day: it lives and records the day (once; kept under DIR/data) and lists the day's tasks;
2. one job per (agent, day) for agents that prepare a day: the recorded day replayed into that agent's memory bank;
3. one job per (agent, day, task): the agent answers, the benchmark scores (high level always; low level where the
   agent drives).

Day i uses seed S + i (apartment and day). `DIR/summary.json`: {"agents": {NAME: {"tasks", "hl_sr", "ll_sr",
"hl_spl", "ll_spl", "tokens_per_task", "seconds_per_task", "by_category": {CATEGORY: {"tasks", "hl_sr", "ll_sr"}}}}},
then, beside "agents", "by_kind" (HL success per task kind), "memory_gain" (each agent's HL success minus
no_memory's, per kind), "failure_modes" and "chance" (the mean chance rate per category). A job the runner could
not finish (it raised, its worker died) counts as a failed task. `ll_sr` is null where no task of an agent drove.
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mindpalace.benchmarks.findingdory.agents import AGENTS
from mindpalace.benchmarks.findingdory.day import DaySpec
from mindpalace.benchmarks.findingdory.jobs import SUITE, day_tasks, days_for, prepare_agent_day, prepare_day, run_job
from mindpalace.benchmarks.findingdory.templates import CATEGORIES, load_templates, parse_templates
from mindpalace.benchmarks.report import BarChart, ReportItem, Table, differences, nested_table
from mindpalace.benchmarks.suite import Job, Options, Record, Result, Suite

DEFAULT_AGENTS = "chance,oracle_answer,no_memory,mindpalace"
DATA = "data"  # under DIR: the recorded days and the agents' banks


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _interactions(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError as error:
        raise ValueError(f"--interactions takes LOW-HIGH (e.g. 2-8), got {text!r}") from error


class FindingDorySuite(Suite):
    name = SUITE
    description = (
        "FindingDory's memory tasks on the household simulator: seeded days of pick-and-place recorded once and "
        "replayed into every agent's memory, then 11 categories of tasks answered by navigating and stopping; "
        "high- and low-level success and SPL per category x agent."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=10, help="days to run (day i uses seed S + i)")
        parser.add_argument(
            "--agents",
            default=DEFAULT_AGENTS,
            help=f"comma separated, of: {', '.join(AGENTS.names())}",
        )
        parser.add_argument("--templates", default=None, metavar="FILE", help="a templates file (default: the shipped one)")
        parser.add_argument("--seed", type=int, default=0, help="S: day i uses apartment and day seed S + i")
        parser.add_argument("--rooms", type=int, default=4, help="rooms per apartment")
        parser.add_argument("--width", type=int, default=320, help="camera width of the recorded days")
        parser.add_argument("--height", type=int, default=240)
        parser.add_argument("--interactions", default="2-8", help="LOW-HIGH: objects moved per day")
        parser.add_argument(
            "--low-level",
            default="all",
            help="agents that drive to their stops (low-level success): 'all', 'none' or a comma list",
        )
        parser.add_argument("--hl-only", action="store_true", help="no driving: high-level success only (= --low-level none)")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="planner agents' config override")

    def options(self, args: argparse.Namespace) -> Options:
        agents = _names(args.agents)
        if not agents:
            raise ValueError("--agents names no agent")
        for name in agents:
            if name not in AGENTS.names():
                raise ValueError(f"unknown agent {name!r}; known: {', '.join(AGENTS.names())}")
        if args.days < 1 or args.seed < 0:
            raise ValueError("--days must be >= 1 and --seed >= 0")
        if not 2 <= args.rooms <= 8:
            raise ValueError("--rooms must be 2 to 8")
        if not (64 <= args.width <= 1024 and 48 <= args.height <= 1024):
            raise ValueError("--width must be 64 to 1024 and --height 48 to 1024")
        day = {
            "n_rooms": args.rooms,
            "width": args.width,
            "height": args.height,
            "interactions": list(_interactions(args.interactions)),
        }
        DaySpec(0, 0, **{**day, "interactions": tuple(day["interactions"])})  # a bad range is refused now
        low = "none" if args.hl_only else args.low_level
        driving = agents if low == "all" else [] if low == "none" else _names(low)
        # The oracle memory stops at viewpoints and never drives: it is the ceiling of high-level success.
        if low != "all" and "oracle_memory" in driving:
            raise ValueError("oracle_memory does not drive (it stops at viewpoints): leave it out of --low-level")
        driving = [a for a in driving if a != "oracle_memory"]
        stray = sorted(set(driving) - set(agents))
        if stray:
            raise ValueError(f"--low-level names agents not in --agents: {stray}")
        templates = None
        if args.templates:
            path = Path(args.templates)
            try:
                text = path.read_text()
            except OSError as error:
                raise ValueError(f"--templates {path}: cannot read it ({error.strerror or error})") from error
            load_templates(path)  # validated now, with errors that name the file and the template
            # The text travels with the jobs (a Ray node need not see the file); its digest identifies the run.
            templates = {"path": str(path), "sha256": hashlib.sha256(text.encode()).hexdigest(), "text": text}
        if args.set:
            from mindpalace.benchmarks.findingdory.planner_agents import agent_config

            agent_config(args.set)  # a bad override is refused before any job runs
        return {"days": args.days, "agents": agents, "seed": args.seed, "day": day, "low_level": driving,
                "templates": templates, "set": list(args.set)}  # fmt: skip

    def _specs(self, options: Options) -> list[DaySpec]:
        day = options["day"]
        return days_for(options["days"], options["seed"], n_rooms=day["n_rooms"], width=day["width"],
                        height=day["height"], interactions=tuple(day["interactions"]))  # fmt: skip

    def jobs(self, options: Options, done: Mapping[str, Result]) -> list[Job]:
        jobs: list[Job] = []
        tasks: list[Job] = []
        preparing = [a for a in options["agents"] if AGENTS.make(a).prepares_day]
        for spec in self._specs(options):
            day_key = f"day/{spec.key}"
            jobs.append({"key": day_key, "type": "day", "day": _plain(spec)})
            if day_key not in done:
                continue
            for agent in preparing:
                jobs.append({"key": f"prepare/{agent}/{spec.key}", "type": "prepare", "agent": agent, "day": _plain(spec)})
            # One agent's tasks of a day in a row: its planner's prefix cache then holds what they share (for
            # `full_context`, the whole day log: 57-94 s to run again on one core when other prompts evicted it).
            for agent in options["agents"]:
                if agent in preparing and f"prepare/{agent}/{spec.key}" not in done:
                    continue
                for task in done[day_key]["tasks"]:
                    tasks.append(
                        {
                            "key": f"{agent}/{spec.key}/{task['id']}",
                            "type": "task",
                            "id": f"{agent}/{spec.key}/{task['id']}",
                            "suite": SUITE,
                            "agent": agent,
                            "day": _plain(spec),
                            "task": task,
                            "seed": options["seed"],
                            "low_level": agent in options["low_level"],
                            "config": list(options["set"]),
                        }
                    )
        return jobs + tasks

    def run(self, job: Job, options: Options, out_dir: Path) -> Result:
        data_dir = Path(out_dir) / DATA
        spec = DaySpec.from_dict(job["day"])
        if job["type"] == "day":
            paths = prepare_day(spec, data_dir)
            templates = options["templates"]
            loaded = None if templates is None else parse_templates(yaml.safe_load(templates["text"]), templates["path"])
            tasks = day_tasks(spec, data_dir, loaded, options["seed"])
            return {"day": spec.key, "folder": str(paths.folder), "tasks": [t.to_dict() for t in tasks]}
        if job["type"] == "prepare":
            return {
                "day": spec.key,
                "agent": job["agent"],
                **prepare_agent_day(job["agent"], spec, data_dir, tuple(options["set"])),
            }
        if job["type"] == "task":
            return run_job({**{k: v for k, v in job.items() if k not in ("key", "type")}, "data_dir": str(data_dir)})
        raise ValueError(f"unknown job type {job.get('type')!r}")

    def summarize(self, options: Options, records: Sequence[Record]) -> dict[str, Any]:
        rows = [_task_row(r) for r in records if r.job.get("type") == "task"]
        failed_setup = [r.key for r in records if r.job.get("type") != "task" and not r.ok]
        agents: dict[str, Any] = {}
        by_kind: dict[str, dict[str, float]] = {}
        failure_modes: dict[str, dict[str, int]] = {}
        for agent in options["agents"]:
            mine = [row for row in rows if row["agent"] == agent]
            if not mine:
                continue
            agents[agent] = {
                **_rates(mine),
                "hl_spl": _mean([r["hl_spl"] for r in mine]),
                "ll_spl": _mean([r["ll_spl"] for r in mine if r["ll_success"] is not None]),
                "tokens_per_task": _mean([r["tokens"] for r in mine]),
                "seconds_per_task": _mean([r["seconds"] for r in mine]),
                "by_category": {
                    category: _rates([r for r in mine if r["category"] == category])
                    for category in CATEGORIES
                    if any(r["category"] == category for r in mine)
                },
            }
            by_kind[agent] = {kind: _mean([float(r["hl_success"]) for r in mine if r["kind"] == kind]) or 0.0
                              for kind in sorted({r["kind"] for r in mine})}  # fmt: skip
            failure_modes[agent] = dict(Counter(r["failure_mode"] or "success" for r in mine).most_common())
        chance = {
            category: _mean([r["chance"] for r in rows if r["category"] == category and r["chance"] is not None])
            for category in CATEGORIES
            if any(r["category"] == category for r in rows)
        }
        gain = differences(by_kind, "no_memory") if "no_memory" in by_kind else {}
        return {"agents": agents, "by_kind": by_kind, "memory_gain": {a: v for a, v in gain.items() if a != "no_memory"},
                "failure_modes": failure_modes, "chance": chance, "days": [s.key for s in self._specs(options)],
                "setup_failures": failed_setup}  # fmt: skip

    def report(self, summary: Mapping[str, Any], records: Sequence[Record]) -> list[ReportItem]:
        agents = summary["agents"]
        overall = [
            [name, a["tasks"], a["hl_sr"], a["ll_sr"], a["hl_spl"], a["ll_spl"], a["tokens_per_task"], a["seconds_per_task"]]
            for name, a in agents.items()
        ]
        hl = {name: {c: v["hl_sr"] for c, v in a["by_category"].items()} for name, a in agents.items()}
        ll = {name: {c: v["ll_sr"] for c, v in a["by_category"].items()} for name, a in agents.items() if a["ll_sr"] is not None}
        items: list[ReportItem] = [
            Table(
                "Overall",
                ["agent", "tasks", "HL success", "LL success", "HL SPL", "LL SPL", "tokens/task", "s/task"],
                overall,
                note="LL is blank for agents that did not drive. Success and SPL as fractions.",
            ),
            nested_table(
                "High-level success per category",
                {**hl, "chance rate (computed)": summary["chance"]},
                "agent",
                note="The last row is each category's mean chance rate (scoring.chance_rate), not an agent.",
            ),
            BarChart("High-level success per category", hl, "HL success", ylim=(0.0, 1.05)),
        ]
        if ll:
            items.append(nested_table("Low-level success per category", ll, "agent"))
        if summary["memory_gain"]:
            items += [
                nested_table("Memory gain per task kind (HL success minus no_memory's)", summary["memory_gain"], "agent"),
                BarChart("Memory gain per task kind", summary["memory_gain"], "HL success - no_memory"),
            ]
        items += [
            BarChart("Tokens per task", {name: {"tokens": a["tokens_per_task"]} for name, a in agents.items()}, "tokens"),
            nested_table("Failure modes (tasks)", summary["failure_modes"], "agent"),
            BarChart("Failure modes", summary["failure_modes"], "tasks"),
        ]
        if summary["setup_failures"]:
            items.append(Table("Days or replays that failed", ["job"], [[k] for k in summary["setup_failures"]]))
        return items


def _plain(spec: DaySpec) -> dict[str, Any]:
    """A day's spec as plain JSON (its interaction range as a list)."""
    return {**spec.to_dict(), "interactions": list(spec.interactions)}


def _task_row(record: Record) -> dict[str, Any]:
    """A task's scored result, or, for a job that did not finish, a failed task of its agent and category."""
    if record.ok and record.result is not None:
        return record.result
    task = record.job["task"]
    return {"agent": record.job["agent"], "category": task["category"], "kind": task["kind"], "hl_success": False,
            "ll_success": False if record.job["low_level"] else None, "hl_spl": 0.0, "ll_spl": 0.0,
            "failure_mode": "invalid_answer", "tokens": 0, "seconds": record.seconds, "chance": None}  # fmt: skip


def _mean(values: Sequence[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None


def _rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    driven = [r for r in rows if r["ll_success"] is not None]
    return {
        "tasks": len(rows),
        "hl_sr": _mean([float(r["hl_success"]) for r in rows]),
        "ll_sr": _mean([float(r["ll_success"]) for r in driven]) if driven else None,
    }
