"""Scripted demonstrations of the tabletop tasks, exported in LeRobot's dataset format (v2.1), and read back.

MemoryBench ships 100 key-pose demonstrations per task; `export_demos` writes as many from the scripted
oracle, one frame per key-pose (the observation before it and the key-pose sent), in LeRobot's v2.1
layout, which LeRobot's `LeRobotDataset` loads (and its converter takes to v3.0):

    DIR/meta/info.json              codebase_version "v2.1", fps, features (dtype, shape, names), path templates
    DIR/meta/tasks.jsonl            {"task_index", "task"}: one instruction per task
    DIR/meta/episodes.jsonl         {"episode_index", "tasks", "length", "mindpalace": {task, variation, seed}}
    DIR/meta/episodes_stats.jsonl   per episode, min/max/mean/std/count of every feature
    DIR/data/chunk-000/episode_000000.parquet

Columns: `observation.images.<camera>` (RGB, PNG in LeRobot's image struct {"bytes", "path"}),
`observation.depth.<camera>` (depth in millimetres as 16-bit PNG, same struct), `observation.state`
(gripper x, y, z, qx, qy, qz, qw, finger gap, open), `action` (key-pose x, y, z, qx, qy, qz, qw,
gripper_open, ignore_collisions), `timestamp`, `frame_index`, `episode_index`, `index`, `task_index`,
`next.done`. Images are stored in the parquet files, not as videos: no video encoder is needed. A key-pose
takes 1.6 s of simulated time, so `fps` is 0.625. The variation of each episode is in episodes.jsonl
for analysis; a policy must not read it.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mindpalace.agent.tabletop_oracle import SkillStep, run_oracle
from mindpalace.core.actions import KeyPose
from mindpalace.core.types import Observation
from mindpalace.envs import make
from mindpalace.envs.tabletop.spaces import proprioception, views
from mindpalace.envs.tabletop.tasks import TASKS

CODEBASE_VERSION = "v2.1"
CHUNK_SIZE = 1000
STATE_NAMES = ["x", "y", "z", "qx", "qy", "qz", "qw", "finger_gap", "gripper_open"]
ACTION_NAMES = ["x", "y", "z", "qx", "qy", "qz", "qw", "gripper_open", "ignore_collisions"]


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise RuntimeError("exporting demonstrations needs pyarrow: pip install pyarrow") from error
    return pa, pq


def _png(array: NDArray[Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def _unpng(cell: dict[str, Any]) -> NDArray[Any]:
    return np.asarray(Image.open(io.BytesIO(cell["bytes"])))


def state_vector(obs: Observation) -> list[float]:
    own = proprioception(obs)
    return [*map(float, own["gripper_pose"]), float(own["gripper_width"][0]), float(own["gripper_open"])]


def action_vector(pose: KeyPose) -> list[float]:
    return [*map(float, pose.position), *map(float, pose.orientation), float(pose.gripper_open), float(pose.ignore_collisions)]


def _frame(obs: Observation, pose: KeyPose) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, view in views(obs).items():
        row[f"observation.images.{name}"] = _png(view.rgb)
        millimetres = np.clip(np.round(view.depth * 1000.0), 0, 65535).astype(np.uint16)
        row[f"observation.depth.{name}"] = _png(millimetres)
    row["observation.state"] = state_vector(obs)
    row["action"] = action_vector(pose)
    row["timestamp"] = float(obs.time_s)
    return row


def _features(cameras: list[str], height: int, width: int) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for name in cameras:
        features[f"observation.images.{name}"] = {
            "dtype": "image",
            "shape": [height, width, 3],
            "names": ["height", "width", "channel"],
        }
        features[f"observation.depth.{name}"] = {
            "dtype": "image",
            "shape": [height, width, 1],
            "names": ["height", "width", "channel"],
            "info": {"unit": "mm", "png_mode": "I;16"},
        }
    features["observation.state"] = {"dtype": "float32", "shape": [len(STATE_NAMES)], "names": STATE_NAMES}
    features["action"] = {"dtype": "float32", "shape": [len(ACTION_NAMES)], "names": ACTION_NAMES}
    for key, dtype in (("timestamp", "float32"), ("frame_index", "int64"), ("episode_index", "int64"), ("index", "int64")):
        features[key] = {"dtype": dtype, "shape": [1], "names": None}
    features["task_index"] = {"dtype": "int64", "shape": [1], "names": None}
    features["next.done"] = {"dtype": "bool", "shape": [1], "names": None}
    return features


def _stats(values: NDArray[np.float64]) -> dict[str, Any]:
    axis = 0 if values.ndim > 1 else None
    return {
        "min": np.min(values, axis=axis).tolist(),
        "max": np.max(values, axis=axis).tolist(),
        "mean": np.mean(values, axis=axis).tolist(),
        "std": np.std(values, axis=axis).tolist(),
        "count": [len(values)],
    }


def _image_stats(images: list[NDArray[Any]], scale: float) -> dict[str, Any]:
    """Per channel, over pixels and frames, as LeRobot keeps image statistics: shape (C, 1, 1), values in [0, 1]."""
    stack = np.stack([np.atleast_3d(image) for image in images]).astype(np.float64) / scale
    channels = stack.reshape(-1, stack.shape[-1])

    def shaped(values: NDArray[np.float64]) -> list[Any]:
        return values.reshape(-1, 1, 1).tolist()

    return {
        "min": shaped(channels.min(axis=0)),
        "max": shaped(channels.max(axis=0)),
        "mean": shaped(channels.mean(axis=0)),
        "std": shaped(channels.std(axis=0)),
        "count": [len(images)],
    }


def demo_seed(task: str, episode: int, seed: int) -> int:
    """The nuisance seed of a demonstration: apart from the evaluation suite's (which hashes "task/seed/episode")."""
    return zlib.crc32(f"demo/{task}/{seed}/{episode}".encode()) & 0x7FFFFFFF


def export_demos(
    out_dir: Path,
    tasks: list[str],
    episodes_per_task: int = 100,
    seed: int = 0,
    width: int = 128,
    height: int = 128,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the dataset; returns its info.json. Variations go in turn (episode e of a task has e % n)."""
    pa, pq = _pyarrow()
    if (out_dir / "meta" / "info.json").exists():
        raise ValueError(f"{out_dir} already holds a dataset; choose an empty folder")
    env = make("mindpalace/Tabletop-v0", width=width, height=height)
    cameras = list(env.config.cameras)
    features = _features(cameras, height, width)
    tasks_meta = [{"task_index": i, "task": TASKS[task].instruction} for i, task in enumerate(tasks)]
    episodes_meta: list[dict[str, Any]] = []
    stats_meta: list[dict[str, Any]] = []
    index = 0
    try:
        for task_index, task in enumerate(tasks):
            for episode in range(episodes_per_task):
                episode_index = len(episodes_meta)
                variation = episode % TASKS[task].variations
                nuisance = demo_seed(task, episode, seed)
                obs, _ = env.reset(seed=nuisance, options={"task": task, "variation": variation})
                rows: list[dict[str, Any]] = []

                def record(before: Observation, pose: KeyPose, after: Observation, skill: SkillStep, rows=rows) -> None:
                    rows.append(_frame(before, pose))

                result = run_oracle(env, obs, on_step=record)
                if not result.success:
                    raise RuntimeError(f"the oracle failed a demonstration ({task}, variation {variation}, seed {nuisance})")
                for frame_index, row in enumerate(rows):
                    row.update(
                        frame_index=frame_index,
                        episode_index=episode_index,
                        index=index + frame_index,
                        task_index=task_index,
                        **{"next.done": frame_index == len(rows) - 1},
                    )
                index += len(rows)
                path = out_dir / "data" / f"chunk-{episode_index // CHUNK_SIZE:03d}" / f"episode_{episode_index:06d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.Table.from_pylist(rows), path)
                episodes_meta.append(
                    {
                        "episode_index": episode_index,
                        "tasks": [TASKS[task].instruction],
                        "length": len(rows),
                        "mindpalace": {"task": task, "variation": variation, "seed": nuisance},
                    }
                )
                stats_meta.append({"episode_index": episode_index, "stats": _episode_stats(rows, cameras)})
                if progress is not None:
                    progress(1)
    finally:
        env.close()
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": "mindpalace_tabletop_gripper",
        "total_episodes": len(episodes_meta),
        "total_frames": index,
        "total_tasks": len(tasks_meta),
        "total_videos": 0,
        "total_chunks": (len(episodes_meta) - 1) // CHUNK_SIZE + 1,
        "chunks_size": CHUNK_SIZE,
        "fps": 1.0 / (env.config.keypose_time + env.config.gripper_time),
        "splits": {"train": f"0:{len(episodes_meta)}"},
        "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        "video_path": None,
        "features": features,
    }
    meta = out_dir / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks_meta))
    (meta / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes_meta))
    (meta / "episodes_stats.jsonl").write_text("".join(json.dumps(s) + "\n" for s in stats_meta))
    # info.json last: a folder without it is an export that did not finish.
    (meta / "info.json").write_text(json.dumps(info, indent=2))
    return info


def _episode_stats(rows: list[dict[str, Any]], cameras: list[str]) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for name in cameras:
        stats[f"observation.images.{name}"] = _image_stats([_unpng(r[f"observation.images.{name}"]) for r in rows], 255.0)
        stats[f"observation.depth.{name}"] = _image_stats([_unpng(r[f"observation.depth.{name}"]) for r in rows], 1000.0)
    for key in ("observation.state", "action", "timestamp", "frame_index", "episode_index", "index", "task_index"):
        stats[key] = _stats(np.array([r[key] for r in rows], dtype=np.float64))
    return stats


def read_info(dataset: Path) -> dict[str, Any]:
    path = dataset / "meta" / "info.json"
    if not path.exists():
        raise ValueError(f"{dataset} is not a finished dataset export (no meta/info.json)")
    return json.loads(path.read_text())


def read_episode(dataset: Path, episode_index: int, images: bool = True) -> list[dict[str, Any]]:
    """One episode's frames: numpy arrays for images (RGB uint8; depth in metres, float32), state and action."""
    _, pq = _pyarrow()
    info = read_info(dataset)
    if not 0 <= episode_index < info["total_episodes"]:
        raise ValueError(f"episode {episode_index} out of 0..{info['total_episodes'] - 1}")
    path = dataset / info["data_path"].format(episode_chunk=episode_index // info["chunks_size"], episode_index=episode_index)
    frames = []
    for row in pq.read_table(path).to_pylist():
        frame: dict[str, Any] = {}
        for key, value in row.items():
            if key.startswith("observation.images."):
                if images:
                    frame[key] = _unpng(value)
            elif key.startswith("observation.depth."):
                if images:
                    frame[key] = _unpng(value).astype(np.float32) / 1000.0
            elif key in ("observation.state", "action"):
                frame[key] = np.asarray(value, dtype=np.float32)
            else:
                frame[key] = value
        frames.append(frame)
    return frames
