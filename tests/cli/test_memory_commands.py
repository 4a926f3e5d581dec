"""`mindpalace memory stats|query|export BANK` and `perf memory` run and print what they promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mindpalace.cli.main import main
from mindpalace.core.types import Event
from mindpalace.memory.system import MemorySystem


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bank") / "home.db"
    with MemorySystem.open(path, spatial=False) as memory:
        memory.remember_object(1, "mug", (1.0, 1.0, 0.8), 10.0, attributes={"color": "red"}, room="kitchen", change="new")
        memory.record_event(Event("robot", "pick", 20.0, 22.0, {"target": 1}, (1,), "kitchen"))
        memory.tell("the red mug is Alice's", time_s=30.0)
    return path


def test_stats(bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["memory", "stats", str(bank), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["objects"], stats["events"], stats["facts"], stats["schema_version"]) == (1, 1, 1, 2)
    assert main(["memory", "stats", str(bank)]) == 0
    assert "events" in capsys.readouterr().out


def test_query_by_meaning_and_by_tool(bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["memory", "query", str(bank), "whose is the red mug"]) == 0
    assert "Alice" in capsys.readouterr().out
    assert main(["memory", "query", str(bank), "", "--tool", "where_is", "--args", '{"object": "mug"}']) == 0
    assert "kitchen" in capsys.readouterr().out
    assert main(["memory", "query", str(bank), "", "--tool", "where_is", "--args", '{"object": "mug #1"}']) == 0
    assert "kitchen" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tool", "where_is", "--args", '{"object": 5}'], "bad arguments for where_is: 5 is not of type 'string'"),
        (["--tool", "teleport", "--args", "{}"], "unknown tool 'teleport'"),
        (["--tool", "where_is", "--args", "{not json"], "--args is not JSON"),
        (["--budget", "0"], "argument --budget: must be an integer >= 1, got '0'"),
    ],
)
def test_a_bad_query_exits_2_with_one_line(bank: Path, capsys: pytest.CaptureFixture[str], arguments, message) -> None:
    assert main(["memory", "query", str(bank), "", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and message in captured.err


def test_export(bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    assert main(["memory", "export", str(bank), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["objects"][0]["label"] == "mug" and data["events"][0]["action"] == "pick" and data["facts"]


def test_bad_banks_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["memory", "stats", str(tmp_path / "missing.db")]) == 2
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a bank at all" * 20)
    assert main(["memory", "stats", str(junk)]) == 2
    assert "not an SQLite file" in capsys.readouterr().err


@pytest.mark.slow
def test_perf_memory_prints_the_named_keys(tmp_path: Path) -> None:
    """`perf memory --json` on small sizes and a short day: the latency keys per kind and size, the cold start per
    size, and the day's figures."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mindpalace.cli.main",
            "perf",
            "memory",
            "--json",
            "--sizes",
            "1e3,1e4",
            "--queries",
            "20",
            "--hours",
            "0.1",
            "--plot",
            str(tmp_path / "day.png"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for kind in ("text", "object", "place", "time", "order", "fact"):
        assert figures[f"p95_ms_{kind}_1e4"] > 0 and figures[f"p50_ms_{kind}_1e3"] > 0
        assert figures[f"p95_max_ms_{kind}_1e4"] >= figures[f"p95_ms_{kind}_1e4"]
        assert figures[f"cold_first_query_ms_{kind}_1e4"] > 0
    for size in ("1e3", "1e4"):
        assert figures[f"cold_open_s_{size}"] > 0 and figures[f"cold_first_query_ms_{size}"] > 0
    assert figures["write_single_events_per_s"] > 0 and figures["query_embedding_ms_p50"] > 0
    assert figures["day_bank_mb"] > 0 and figures["day_rss_mb_max"] > 0
    assert (tmp_path / "day.png").stat().st_size > 1000
