"""Episode reports: a markdown file and a self-contained HTML page with key frames, maps and each step's why."""

from __future__ import annotations

import html
import json
import re
import shutil
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mindpalace.agent.episode import EpisodeRecord, MemoryCall, StepRecord
from mindpalace.core.markup import CSS, html_figure, html_table, md_alt, md_table, one_line, truncate

CELL_CHARS = 60  # table cells longer than this are cut with "…"
WHY_CHARS = 2000  # the why section shows this much of a model reply
KEY_SKILLS = frozenset({"pick", "place", "open", "close", "answer", "done"})  # successes worth a key frame
STEP_COLUMNS = [
    "#",
    "call",
    "ok",
    "reason",
    "memory",
    "tokens",
    "infer ms",
    "overhead ms",
    "skill ms",
    "env steps",
    "critic",
    "guard",
    "repairs",
]


@dataclass
class _Image:
    path: str  # relative to out_dir, URL-quoted
    caption: str


@dataclass
class _EpisodeView:
    """One episode as plain strings, shared by the markdown and HTML writers (each escapes for itself)."""

    heading: str
    facts: list[tuple[str, str]]
    notes: list[str]
    maps: list[_Image]
    step_rows: list[list[str]]
    why: list[tuple[str, str]] = field(default_factory=list)  # (step title, choice)
    frames: list[_Image] = field(default_factory=list)


def summary_rows(episodes: list[EpisodeRecord]) -> list[dict[str, Any]]:
    """One row per episode; the keys are read by scripts outside the tests, so keep them."""
    answered = any(episode.answer is not None for episode in episodes)
    rows = []
    for episode in episodes:
        row: dict[str, Any] = {
            "instruction": episode.task,
            "success": episode.success,
            "steps": len(episode.steps),
            "memory_calls": episode.memory_calls,
            "tokens": episode.tokens,
            "time_s": round(episode.wall_s, 1),
            "reason": episode.reason,
        }
        if answered:
            row["answer"] = episode.answer if episode.answer is not None else ""
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """A plain-text table for the terminal: numbers right-aligned, text left-aligned and cut to ~60 characters."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]
    numeric = [
        all(_is_number(row.get(column)) for row in rows if row.get(column) is not None) and bool(rows) for column in columns
    ]

    def line(values: list[str]) -> str:
        padded = [value.rjust(w) if right else value.ljust(w) for value, w, right in zip(values, widths, numeric)]
        return "  ".join(padded).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(values) for values in cells])


def write_report(
    episodes: list[EpisodeRecord],
    out_dir: Path,
    title: str = "mindpalace episode report",
    formats: tuple[str, ...] = ("md", "html"),
    intro: str = "",
    max_key_frames: int = 6,
) -> dict[str, Path]:
    """Write report.md and/or report.html into out_dir, with key frames in frames/ and outside maps copied to maps/."""
    unknown = set(formats) - {"md", "html"}
    if unknown:
        raise ValueError(f"unknown report formats {sorted(unknown)}; use 'md' and/or 'html'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Key frames of an earlier report in the same folder would otherwise sit beside this one's.
    for stale in (out_dir / "frames").glob("ep*_step*.png"):
        stale.unlink()
    views = [_episode_view(n, episode, out_dir, max_key_frames) for n, episode in enumerate(episodes, start=1)]
    summary = summary_rows(episodes)
    summary_header = list(summary[0]) if summary else []
    summary_cells = [[_cell(row[key]) for key in summary_header] for row in summary]
    latency = _latency_rows([step for episode in episodes for step in episode.steps])
    written: dict[str, Path] = {}
    if "md" in formats:
        written["md"] = out_dir / "report.md"
        written["md"].write_text(_markdown(title, intro, summary_header, summary_cells, latency, views))
    if "html" in formats:
        written["html"] = out_dir / "report.html"
        written["html"].write_text(_html(title, intro, summary_header, summary_cells, latency, views))
    return written


def _episode_view(n: int, episode: EpisodeRecord, out_dir: Path, max_key_frames: int) -> _EpisodeView:
    facts = [
        ("planner", episode.planner),
        ("seed", str(episode.seed)),
        ("success", _cell(episode.success)),
        ("end reason", episode.reason),
    ]
    if episode.answer is not None:
        facts.append(("answer", episode.answer))
    facts += [
        ("wall time", f"{episode.wall_s:.1f} s"),
        ("tokens", str(episode.tokens)),
        ("memory calls", str(episode.memory_calls)),
    ]
    notes = list(episode.notes)
    maps = []
    for k, (caption, source) in enumerate(episode.maps.items()):
        path = _place_map(Path(source), out_dir, f"ep{n:02d}_{k}_")
        if path is None:
            notes.append(f"map not found: {caption} ({source})")
        else:
            maps.append(_Image(path, caption))
    view = _EpisodeView(f"Episode {n}: {episode.task}", facts, notes, maps, [_step_row(s) for s in episode.steps])
    view.why = [(f"step {s.index}: {_call_text(s)}", truncate(s.choice, WHY_CHARS)) for s in episode.steps if s.choice]
    frames_dir = out_dir / "frames"
    frames_dir.mkdir(exist_ok=True)
    for step in _key_frame_steps(episode.steps, max_key_frames):
        name = f"ep{n:02d}_step{step.index:03d}.png"
        assert step.frame is not None  # _key_frame_steps chooses framed steps only
        Image.fromarray(step.frame).save(frames_dir / name)
        outcome = "ok" if step.success else f"failed ({step.reason or 'no reason'})"
        view.frames.append(_Image(f"frames/{name}", f"step {step.index}: {truncate(_call_text(step), CELL_CHARS)} {outcome}"))
    return view


def _place_map(source: Path, out_dir: Path, prefix: str) -> str | None:
    """The map's path relative to out_dir, copying it into out_dir/maps/ when it lies outside; None if it is missing."""
    if not source.is_file():
        return None
    source, root = source.resolve(), out_dir.resolve()
    if source.is_relative_to(root):
        relative = source.relative_to(root)
    else:
        relative = Path("maps") / f"{prefix}{source.name}"
        (root / "maps").mkdir(exist_ok=True)
        shutil.copyfile(source, root / relative)
    return urllib.parse.quote(relative.as_posix())


def _key_frame_steps(steps: list[StepRecord], limit: int) -> list[StepRecord]:
    """Up to `limit` framed steps: first and last first, then key-skill successes, then failures; in step order."""
    framed = [step for step in steps if step.frame is not None]
    if not framed or limit <= 0:
        return []
    wanted = [framed[0], framed[-1]]
    wanted += [step for step in framed if step.success and step.skill in KEY_SKILLS]
    wanted += [step for step in framed if not step.success]
    chosen = list({id(step): step for step in wanted}.values())[:limit]
    return sorted(chosen, key=lambda step: step.index)


def _step_row(step: StepRecord) -> list[str]:
    outcome = ": ".join(part for part in (step.reason, step.message) if part)
    memory = "; ".join(truncate(_memory_text(call), CELL_CHARS) for call in step.memory_calls)
    return [
        str(step.index),
        truncate(_call_text(step), CELL_CHARS),
        _cell(step.success),
        _cell(outcome),
        memory,
        str(step.prompt_tokens + step.completion_tokens),
        _ms(step.inference_s),
        _ms(step.planner_overhead_s),
        _ms(step.skill_s),
        str(step.env_steps),
        _cell(step.critic),
        _cell(step.guard),
        str(step.repairs),
    ]


def _latency_rows(steps: list[StepRecord]) -> list[list[str]]:
    rows = []
    for name, seconds in (
        ("inference ms", [s.inference_s for s in steps]),
        ("planner overhead ms", [s.planner_overhead_s for s in steps]),
        ("skill ms", [s.skill_s for s in steps]),
    ):
        if seconds:
            rows.append([name, _ms(float(np.median(seconds))), _ms(float(np.percentile(seconds, 95))), str(len(seconds))])
        else:
            rows.append([name, "-", "-", "0"])
    return rows


def _markdown(
    title: str,
    intro: str,
    summary_header: list[str],
    summary_cells: list[list[str]],
    latency: list[list[str]],
    views: list[_EpisodeView],
) -> str:
    lines = [f"# {one_line(title)}", ""]
    if intro:
        lines += [intro, ""]
    lines += [
        "## Summary",
        "",
        md_table(summary_header, summary_cells),
        "",
        "### Latency across all steps",
        "",
        md_table(["figure", "median", "p95", "steps"], latency),
        "",
    ]
    for view in views:
        lines += [f"## {one_line(view.heading)}", ""]
        lines += [f"- **{key}**: {one_line(value)}" for key, value in view.facts] + [""]
        if view.notes:
            lines += ["Notes:", ""] + [f"- {one_line(note)}" for note in view.notes] + [""]
        for image in view.maps:
            lines += [f"![{md_alt(image.caption)}]({image.path})", f"*{one_line(image.caption)}*", ""]
        lines += ["### Steps", ""]
        lines += [md_table(STEP_COLUMNS, view.step_rows) if view.step_rows else "No steps.", ""]
        if view.why:
            lines += ["### Why", ""]
            for heading, choice in view.why:
                fence = "`" * max(3, _longest_backtick_run(choice) + 1)  # a reply holding ``` cannot close the block
                lines += [f"**{one_line(heading)}**", "", fence, choice, fence, ""]
        if view.frames:
            lines += ["### Key frames", ""]
            for image in view.frames:
                lines += [f"![{md_alt(image.caption)}]({image.path})", f"*{one_line(image.caption)}*", ""]
    return "\n".join(lines)


def _html(
    title: str,
    intro: str,
    summary_header: list[str],
    summary_cells: list[list[str]],
    latency: list[list[str]],
    views: list[_EpisodeView],
) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>\n{CSS}\n</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if intro:
        parts.append(f'<p class="intro">{esc(intro)}</p>')
    parts += [
        "<h2>Summary</h2>",
        html_table(summary_header, summary_cells),
        "<h3>Latency across all steps</h3>",
        html_table(["figure", "median", "p95", "steps"], latency),
    ]
    for view in views:
        parts.append(f"<h2>{esc(view.heading)}</h2>")
        parts.append("<ul>" + "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in view.facts) + "</ul>")
        if view.notes:
            parts.append("<p>Notes:</p><ul>" + "".join(f"<li>{esc(note)}</li>" for note in view.notes) + "</ul>")
        parts += [html_figure(image.path, image.caption) for image in view.maps]
        parts.append("<h3>Steps</h3>")
        parts.append(html_table(STEP_COLUMNS, view.step_rows) if view.step_rows else "<p>No steps.</p>")
        if view.why:
            parts.append("<h3>Why</h3>")
            parts += [
                f"<details><summary>{esc(heading)}</summary><pre>{esc(choice)}</pre></details>" for heading, choice in view.why
            ]
        if view.frames:
            parts.append("<h3>Key frames</h3>")
            parts += [html_figure(image.path, image.caption) for image in view.frames]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _call_text(step: StepRecord) -> str:
    return _call(step.skill, step.arguments)


def _memory_text(call: MemoryCall) -> str:
    lines = call.result.splitlines()
    return f"{_call(call.tool, call.arguments)} -> {lines[0] if lines else ''}"


def _call(name: str, arguments: dict[str, Any]) -> str:
    """`navigate_to(target="object:12")`: values JSON-encoded, so strings are quoted as the model wrote them."""
    rendered = ", ".join(f"{key}={json.dumps(value, ensure_ascii=False, default=str)}" for key, value in arguments.items())
    return f"{name}({rendered})"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return truncate(one_line(str(value)), CELL_CHARS)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"
