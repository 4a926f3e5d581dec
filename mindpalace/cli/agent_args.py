"""Command-line arguments shared by the commands that build an agent (`demo`, `run`, the benchmarks).

The agent config is the defaults, then `--config FILE` (YAML), then the shortcut flags below, then every
`--set key=value` in order: the most specific wins. `--set` reaches any field, e.g.
`--set llm.type=openai --set llm.model=qwen2.5 --set planner.mode=generate --set env.width=640`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from mindpalace.agent.builder import check_config
from mindpalace.agent.config import AgentConfig
from mindpalace.core.config import ConfigError, load_config, to_dict


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="an agent config, YAML (see configs/agent.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one config field (repeatable)")
    parser.add_argument("--show-config", action="store_true", help="print the whole agent config (YAML) and exit")
    parser.add_argument("--seed", type=int, default=None, help="apartment, day and instruction seed (seed=...)")
    parser.add_argument("--rooms", type=int, default=None, help="rooms in the apartment, 3 to 8 (env.n_rooms=...)")
    parser.add_argument("--planner", default=None, help="LLM backend: local, openai or scripted (llm.type=...)")
    parser.add_argument(
        "--mode",
        default=None,
        choices=("score", "generate"),
        help="decoding: rank valid candidates (score, the default) or free calls (generate, the default for openai)",
    )
    parser.add_argument("--model", default=None, help="local: a model directory; openai: the model name (llm.model=...)")
    parser.add_argument("--base-url", default=None, help="openai: the endpoint (default $MINDPALACE_LLM_BASE_URL)")
    parser.add_argument(
        "--script", type=Path, default=None, help='scripted: a JSON file {"replies": [...], "choices": [...]} (a test double)'
    )
    parser.add_argument("--max-steps", type=int, default=None, help="planner decisions per instruction (budget.max_steps)")
    parser.add_argument("--max-tokens", type=int, default=None, help="tokens per instruction (budget.max_tokens)")
    parser.add_argument("--max-wall-s", type=float, default=None, help="wall time per instruction (budget.max_wall_s)")


def agent_config(args: argparse.Namespace) -> AgentConfig:
    """The agent config from the command line, checked (names and arguments) before anything is built.

    An API key is never a flag or a config field: the openai backend reads it from the environment.
    """
    shortcuts: list[str] = []
    if args.planner is not None:
        shortcuts.append(f"llm.type={args.planner}")
        if args.planner == "openai" and args.mode is None:
            shortcuts.append("planner.mode=generate")
    for flag, key in (
        ("seed", "seed"),
        ("rooms", "env.n_rooms"),
        ("mode", "planner.mode"),
        ("model", "llm.model"),
        ("base_url", "llm.base_url"),
        ("max_steps", "budget.max_steps"),
        ("max_tokens", "budget.max_tokens"),
        ("max_wall_s", "budget.max_wall_s"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            shortcuts.append(f"{key}={json.dumps(value)}")
    for key in ("bank", "preset"):
        value = getattr(args, key, None)
        if value is not None:
            shortcuts.append(f"memory.{key}={json.dumps(str(value))}")
    if args.script is not None:
        try:
            script = json.loads(args.script.read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"--script {args.script}: not a readable JSON file: {error}") from error
        if not isinstance(script, dict):
            raise ConfigError(f'--script {args.script}: expected {{"replies": [...], "choices": [...]}}')
        shortcuts += [
            f"llm.replies={json.dumps(script.get('replies', []))}",
            f"llm.choices={json.dumps(script.get('choices', []))}",
        ]
    config = load_config(AgentConfig, args.config, [*shortcuts, *args.set])
    if config.llm.type == "scripted" and not (config.llm.args.get("replies") or config.llm.args.get("choices")):
        raise ConfigError("the scripted backend is a test double and replays a script: give --script FILE")
    check_config(config)
    return config


def show_config(config: AgentConfig) -> None:
    """Every field of the config, as YAML that `--config` reads back."""
    import yaml

    print(yaml.safe_dump(to_dict(config), sort_keys=False, default_flow_style=None, width=120), end="")


def progress_printer() -> Callable[[str], None]:
    """Prints each message with the seconds since the command started."""
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", flush=True)

    return say
