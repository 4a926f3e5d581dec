"""The agent config: the shipped YAML, --show-config round trips, and checks before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindpalace.agent.builder import BuildError, check_config
from mindpalace.agent.config import AgentConfig
from mindpalace.cli.main import main
from mindpalace.core.config import Component, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_config_sets_the_defaults() -> None:
    assert load_config(AgentConfig, ROOT / "configs" / "agent.yaml") == AgentConfig()


def test_show_config_prints_what_config_reads_back(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--show-config", "--seed", "4", "--set", "llm.type=openai", "--set", "llm.model=m"]) == 0
    path = tmp_path / "shown.yaml"
    path.write_text(capsys.readouterr().out)
    shown = load_config(AgentConfig, path)
    assert shown.seed == 4 and shown.llm == Component("openai", {"model": "m"}) and shown.planner.mode == "score"
    assert shown == load_config(AgentConfig, None, ["seed=4", "llm.type=openai", "llm.model=m"])


def test_checks_name_what_is_wrong_before_anything_is_built() -> None:
    check_config(AgentConfig())
    with pytest.raises(BuildError, match="memory: memory preset settings \\['budget'\\] do not exist"):
        check_config(load_config(AgentConfig, None, ["memory.settings.budget=3"]))
    with pytest.raises(BuildError, match=r"env: unknown env .mindpalace/Kitchen-v9.; registered:"):
        check_config(load_config(AgentConfig, None, ["env.type=mindpalace/Kitchen-v9"]))
    with pytest.raises(ConfigError, match=r"memory\.checkpoint_every_s must be > 0"):
        load_config(AgentConfig, None, ["memory.checkpoint_every_s=0"])
