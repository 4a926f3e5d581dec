"""Episode reports: files, tables, key frames, maps, escaping and the summary rows."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from mindpalace.agent.episode import EpisodeRecord, MemoryCall, StepRecord
from mindpalace.agent.report import format_table, summary_rows, write_report

RNG = np.random.default_rng(0)


def _frame() -> np.ndarray:
    return RNG.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)


def _map(path: Path) -> Path:
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(path)
    return path


def _episode(tmp_path: Path, task: str = "put the cup in the sink") -> EpisodeRecord:
    lookup = MemoryCall("find_object", {"query": "cup"}, True, "object:12 cup on the table\nobject:40 mug", 3.0)
    steps = [
        StepRecord(
            0,
            "navigate_to",
            {"target": "object:12"},
            True,
            "",
            "arrived",
            4.0,
            memory_calls=[lookup],
            prompt_tokens=100,
            completion_tokens=20,
            inference_s=0.5,
            planner_overhead_s=0.05,
            skill_s=1.5,
            env_steps=40,
            choice="the cup was last seen on the table",
            frame=_frame(),
        ),
        StepRecord(
            1,
            "pick",
            {"object": "object:12"},
            False,
            "not reachable",
            "arm cannot reach",
            5.0,
            prompt_tokens=110,
            completion_tokens=15,
            inference_s=0.4,
            critic="retry closer",
            frame=_frame(),
        ),
        StepRecord(
            2, "look_around", {}, True, "", "looked", 6.0, prompt_tokens=90, completion_tokens=10, inference_s=0.3, frame=None
        ),  # no frame: never a key frame
        StepRecord(
            3,
            "pick",
            {"object": "object:12"},
            True,
            "",
            "holding the cup",
            7.0,
            prompt_tokens=120,
            completion_tokens=12,
            inference_s=0.6,
            repairs=1,
            guard="loop guard: none",
            frame=_frame(),
        ),
        StepRecord(4, "done", {}, True, "", "finished", 8.0, prompt_tokens=80, completion_tokens=5, frame=_frame()),
    ]
    return EpisodeRecord(
        task,
        "local/score",
        7,
        steps,
        success=True,
        reason="done",
        wall_s=12.34,
        maps={"top-down map": str(_map(tmp_path / "topdown.png"))},
        notes=["checker: cup in sink"],
    )


def _table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def _columns(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1  # pipes not escaped, less one: the number of cells


def test_writes_markdown_and_html_with_frames_and_maps(tmp_path: Path) -> None:
    out = tmp_path / "report"
    paths = write_report([_episode(tmp_path)], out)
    assert set(paths) == {"md", "html"} and all(path.is_file() for path in paths.values())
    markdown = paths["md"].read_text()
    assert "| put the cup in the sink | yes | 5 | 1 | 562 | 12.3 | done |" in markdown
    assert 'navigate_to(target="object:12")' in markdown
    assert 'find_object(query="cup") -> object:12 cup on the table' in markdown
    assert "object:40 mug" not in markdown, "only the first line of a memory result"
    assert "the cup was last seen on the table" in markdown and "checker: cup in sink" in markdown
    # Key frames: first, failed, pick ok, done (last); the frameless step is skipped.
    frames = sorted(path.name for path in (out / "frames").iterdir())
    assert frames == ["ep01_step000.png", "ep01_step001.png", "ep01_step003.png", "ep01_step004.png"]
    for name in frames:
        assert f"frames/{name}" in markdown and f"frames/{name}" in paths["html"].read_text()
    assert Image.open(out / "frames" / frames[0]).size == (16, 12)
    assert 'step 3: pick(object="object:12") ok' in markdown
    # The map lay outside out_dir, so it was copied in and is referenced relatively.
    copied = list((out / "maps").iterdir())
    assert len(copied) == 1 and f"maps/{copied[0].name}" in markdown
    assert str(tmp_path) not in markdown
    html_text = paths["html"].read_text()
    assert "<details>" in html_text and "<script" not in html_text and "http" not in html_text


def test_step_rows_and_latency(tmp_path: Path) -> None:
    markdown = write_report([_episode(tmp_path)], tmp_path / "out", formats=("md",))["md"].read_text()
    step_rows = [line for line in _table_rows(markdown) if re.match(r"\| \d \| ", line)]
    assert len(step_rows) == 5
    assert step_rows[1].startswith('| 1 | pick(object="object:12") | no | not reachable: arm cannot reach |')
    assert "| 120 | 500 | 50 | 1500 | 40 |" in step_rows[0]  # tokens, inference, overhead, skill ms, env steps
    assert "| inference ms | 400 | 580 | 5 |" in markdown  # median and p95 of 0.5, 0.4, 0.3, 0.6, 0.0 s
    assert not (tmp_path / "out" / "report.html").exists()


def test_html_escapes_model_and_task_text(tmp_path: Path) -> None:
    episode = _episode(tmp_path, task="<script>alert(1)</script>")
    episode.steps[0].choice = "<script>alert(1)</script> go"
    episode.answer = "<b>two</b>"
    html_text = write_report([episode], tmp_path / "out", formats=("html",))["html"].read_text()
    assert "<script" not in html_text and "<b>two" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; go" in html_text


def test_pipe_in_task_keeps_the_markdown_tables_whole(tmp_path: Path) -> None:
    episode = _episode(tmp_path, task="sort a | b\nthen c")
    episode.steps[0].choice = "x | y\n| z |"
    episode.steps[1].message = "a | b"
    markdown = write_report([episode], tmp_path / "out", formats=("md",))["md"].read_text()
    rows = _table_rows(markdown)
    summary_header = next(line for line in rows if line.startswith("| instruction"))
    summary_row = rows[rows.index(summary_header) + 2]
    assert _columns(summary_row) == _columns(summary_header) == 7
    steps_header = next(line for line in rows if line.startswith("| # "))
    for line in rows[rows.index(steps_header) : rows.index(steps_header) + 7]:
        assert _columns(line) == 13, line


def test_empty_episode_and_long_replies(tmp_path: Path) -> None:
    empty = EpisodeRecord("do nothing", "local/chat", 1, reason="step budget")
    long_reply = "because " + "very " * 1000 + "END"
    episode = _episode(tmp_path)
    episode.maps = {}
    episode.steps[0].choice = long_reply
    episode.steps[0].message = "m" * 500
    paths = write_report([empty, episode], tmp_path / "out")
    markdown = paths["md"].read_text()
    assert "do nothing" in markdown and "No steps." in markdown
    assert "m" * 59 + "…" in markdown and "m" * 60 not in markdown, "table cells are cut to 60 characters"
    assert "because very" in markdown and "END" not in markdown, "the why section keeps ~2000 characters"
    assert long_reply[:1900] in markdown
    assert not (tmp_path / "out" / "maps").exists()
    assert not any(name.startswith("ep01") for name in (path.name for path in (tmp_path / "out" / "frames").iterdir()))
    assert "No steps." in paths["html"].read_text()


def test_max_key_frames_keeps_first_and_last(tmp_path: Path) -> None:
    write_report([_episode(tmp_path)], tmp_path / "out", formats=("md",), max_key_frames=2)
    assert sorted(path.name for path in (tmp_path / "out" / "frames").iterdir()) == ["ep01_step000.png", "ep01_step004.png"]


def test_summary_rows(tmp_path: Path) -> None:
    plain = _episode(tmp_path)
    rows = summary_rows([plain])
    assert rows == [
        {
            "instruction": "put the cup in the sink",
            "success": True,
            "steps": 5,
            "memory_calls": 1,
            "tokens": 562,
            "time_s": 12.3,
            "reason": "done",
        }
    ]
    answered = EpisodeRecord("how many cups?", "local/chat", 2, success=True, reason="answered", answer="two")
    rows = summary_rows([plain, answered])
    assert [row["answer"] for row in rows] == ["", "two"]
    assert list(rows[0]) == ["instruction", "success", "steps", "memory_calls", "tokens", "time_s", "reason", "answer"]


def test_format_table_aligns_and_truncates() -> None:
    rows = [{"instruction": "short", "success": True, "tokens": 5}, {"instruction": "x" * 100, "success": False, "tokens": 12345}]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["instruction", "success", "tokens"]
    assert len(lines) == 4 and set(lines[1].replace(" ", "")) == {"-"}
    assert "yes" in lines[2] and "no" in lines[3]
    assert "x" * 59 + "…" in lines[3] and "x" * 60 not in lines[3]
    assert lines[2].index("yes") == lines[3].index("no") == lines[0].index("success"), "text columns left-aligned"
    assert lines[2].endswith("    5") and lines[3].endswith("12345") and len(lines[2]) == len(lines[3]), "numbers right"
    assert format_table(rows, ["tokens"]).splitlines()[0].strip() == "tokens"


def test_map_inside_out_dir_is_referenced_in_place(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "plots").mkdir(parents=True)
    episode = _episode(tmp_path)
    episode.maps = {"costmap": str(_map(out / "plots" / "cost map.png")), "gone": str(tmp_path / "missing.png")}
    markdown = write_report([episode], out, formats=("md",))["md"].read_text()
    assert "(plots/cost%20map.png)" in markdown and not (out / "maps").exists()
    assert "map not found: gone" in markdown


def test_a_second_report_in_the_same_folder_leaves_no_stale_frames(tmp_path) -> None:
    import numpy as np

    from mindpalace.agent.episode import EpisodeRecord, StepRecord
    from mindpalace.agent.report import write_report

    def episode(steps: int) -> EpisodeRecord:
        frame = np.zeros((8, 8, 3), np.uint8)
        return EpisodeRecord(
            "task",
            "scripted/generate",
            0,
            steps=[StepRecord(i + 1, "look_around", {}, True, "", "ok", float(i), frame=frame) for i in range(steps)],
        )

    write_report([episode(5)], tmp_path)
    write_report([episode(1)], tmp_path)
    assert [p.name for p in (tmp_path / "frames").glob("*.png")] == ["ep01_step001.png"]
