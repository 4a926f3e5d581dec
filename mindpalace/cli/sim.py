"""`mindpalace sim`: the scripted oracle carries out random pick-and-place jobs; frames and a map are written."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from mindpalace.agent.oracle import OracleAgent, random_jobs
from mindpalace.cli.args import integer, output_folder
from mindpalace.core.colormaps import colorize_depth, colorize_segmentation
from mindpalace.core.config import apply_overrides, from_dict, load_yaml
from mindpalace.envs import make
from mindpalace.envs.household.config import HouseholdConfig
from mindpalace.envs.household.topdown import save_topdown


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("sim", help="run the oracle in a household apartment and write frames and a map")
    parser.add_argument("--seed", type=integer(0), default=0, help="apartment and job seed")
    parser.add_argument("--steps", type=integer(1), default=300, help="env steps to run")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--rooms", type=integer(3, 8), default=None, help="number of rooms, 3 to 8 (default: from the seed)")
    parser.add_argument("--width", type=integer(16, 1920), default=None, help="image width (default 320)")
    parser.add_argument("--height", type=integer(16, 1080), default=None, help="image height (default 240)")
    parser.add_argument("--config", type=Path, default=None, help="household env config, YAML (see configs/household.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one config field")
    parser.add_argument("--every", type=integer(1), default=1, help="write the frames of every k-th step")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The config (--config, --set, --rooms and the sizes) is checked and the env made before anything is written.
    env = make("mindpalace/Household-v0", config=env_config(args))
    try:
        obs, _ = env.reset(seed=args.seed)
        with output_folder(args.out) as out:
            summary = _run_oracle(env, obs, args, out)
    finally:
        env.close()
    print(json.dumps(summary))
    return 0


def _run_oracle(env, obs, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The oracle's jobs for `args.steps` steps, frames every `args.every` steps; the map and summary at the end."""
    frames = out / "frames"
    frames.mkdir(exist_ok=True)
    rng = np.random.default_rng(args.seed)
    agent = OracleAgent(env, random_jobs(env, rng, 4))
    trail = [tuple(obs.base_pose[:2, 3])]
    failures: dict[str, int] = {}
    for step in tqdm(range(args.steps), desc="sim", unit="step"):
        action = agent.act(obs)
        if action is None:  # every job done: hand the oracle a fresh list and carry on
            agent = OracleAgent(env, random_jobs(env, rng, 4))
            action = agent.act(obs)
        if action is None:
            break
        obs, _, _, truncated, info = env.step(action)
        trail.append(tuple(obs.base_pose[:2, 3]))
        if not info["outcome"].success:
            failures[info["outcome"].reason.value] = failures.get(info["outcome"].reason.value, 0) + 1
        if step % args.every == 0:
            _write_frames(frames, step, obs)
        if truncated:
            break
    privileged = env.privileged
    save_topdown(
        out / "topdown.png",
        env.apartment,
        robot_pose=privileged.robot_pose(),
        object_positions=privileged.object_positions(),
        held_object=privileged.held_object(),
        path=trail,
    )
    summary = {
        "seed": args.seed,
        "steps": step + 1,
        "sim_time_s": obs.time_s,
        "time_of_day": obs.clock(),
        "rooms": [room.name for room in env.apartment.rooms],
        "jobs_done": sum(r.success for r in agent.results),
        "failed_actions": failures,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def env_config(args: argparse.Namespace) -> HouseholdConfig:
    """The YAML file (if any), then --set overrides, then the --width/--height/--rooms flags."""
    flags = [
        f"{key}={value}"
        for key, value in (("width", args.width), ("height", args.height), ("n_rooms", args.rooms))
        if value is not None
    ]
    if args.config is not None:
        return load_yaml(HouseholdConfig, args.config, [*args.set, *flags])
    return from_dict(HouseholdConfig, apply_overrides({}, [*args.set, *flags]))


def _write_frames(folder: Path, step: int, obs) -> None:
    Image.fromarray(obs.rgb).save(folder / f"rgb_{step:05d}.png")
    Image.fromarray(colorize_depth(obs.depth)).save(folder / f"depth_{step:05d}.png")
    Image.fromarray(colorize_segmentation(obs.segmentation)).save(folder / f"seg_{step:05d}.png")
