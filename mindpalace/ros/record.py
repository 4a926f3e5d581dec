"""`mindpalace ros record`: rosbag2 files of a real RGB-D folder (a hand-held camera) or of the simulated robot.

An RGB-D folder (Redwood or TUM) is read as `mindpalace perceive` reads it (gravity-aligned to REP-103, the floor
at z = 0), so the bag's map frame is perceive's world frame. The simulator's bag is the household robot doing
random pick-and-place jobs (the scripted oracle drives it): its camera, instance segmentation, TF, /clock and
the floor plan's room names, as the sim bridge publishes them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.agent.oracle import OracleAgent, random_jobs
from mindpalace.core.env import floor_plan_of
from mindpalace.envs import make
from mindpalace.perception.alignment import aligned_sequence
from mindpalace.ros.bag import BagWriter, topic_qos
from mindpalace.ros.messages.common import Clock, String, Time
from mindpalace.ros.sensor_messages import (
    CameraTopics,
    RobotFrames,
    camera_messages,
    handheld_static_tf,
    handheld_tf,
    robot_static_tf,
    robot_tf,
)

log = logging.getLogger(__name__)

FLOOR_PLAN_TOPIC = "/mindpalace/floor_plan"


def floor_plan_json(plan: list[tuple[str, list[tuple[float, float]]]]) -> str:
    return json.dumps([{"name": name, "polygon": [[float(x), float(y)] for x, y in polygon]} for name, polygon in plan])


def record_rgbd(folder: Path, out: Path, storage: str = "sqlite3", up: str = "auto", **options: Any) -> dict[str, Any]:
    """A bag of a recorded RGB-D folder: colour (rgb8), aligned depth (16UC1 mm), camera_info and TF per frame."""
    sequence = aligned_sequence(folder, up, **options)
    topics, frames = CameraTopics(), RobotFrames()
    count = 0
    with BagWriter(out, storage) as bag:
        bag.write("/tf_static", handheld_static_tf(frames, 0.0), 0.0, topic_qos("/tf_static"))
        for obs in sequence:
            stamp = obs.time_s
            bag.write("/tf", handheld_tf(obs, stamp, frames), stamp, topic_qos("/tf"))
            for topic, msg in camera_messages(obs, stamp, topics, frames):
                bag.write(topic, msg, stamp, topic_qos(topic))
            count += 1
        counts = dict(bag.counts)
    if not count:
        raise ValueError(f"no frames in {folder}")
    return {"bag": str(out), "storage": storage, "frames": count, "messages": counts}


def record_sim(out: Path, seed: int = 0, steps: int = 200, storage: str = "sqlite3", **env_args: Any) -> dict[str, Any]:
    """A bag of the household robot doing random jobs (the oracle drives; what it records is the robot's sensors)."""
    env = make("mindpalace/Household-v0", **env_args)
    try:
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        agent = OracleAgent(env, random_jobs(env, rng, 4))
        topics, frames = CameraTopics(), RobotFrames()
        with BagWriter(out, storage) as bag:
            bag.write("/tf_static", robot_static_tf(frames, obs.time_s), obs.time_s, topic_qos("/tf_static"))
            plan = floor_plan_of(env)
            if plan:
                bag.write(FLOOR_PLAN_TOPIC, String(floor_plan_json(plan)), obs.time_s, topic_qos(FLOOR_PLAN_TOPIC))
            for _ in range(steps):
                _write_frame(bag, obs, topics, frames)
                action = agent.act(obs)
                if action is None:
                    agent = OracleAgent(env, random_jobs(env, rng, 4))
                    action = agent.act(obs)
                if action is None:
                    break
                obs, _, _, truncated, _ = env.step(action)
                if truncated:
                    break
            _write_frame(bag, obs, topics, frames)
            counts = dict(bag.counts)
    finally:
        env.close()
    return {"bag": str(out), "storage": storage, "frames": counts.get(topics.color, 0), "messages": counts, "seed": seed}


def _write_frame(bag: BagWriter, obs: Any, topics: CameraTopics, frames: RobotFrames) -> None:
    stamp = obs.time_s
    bag.write("/clock", Clock(Time.from_seconds(stamp)), stamp, topic_qos("/clock"))
    bag.write("/tf", robot_tf(obs, stamp, frames), stamp, topic_qos("/tf"))
    for topic, msg in camera_messages(obs, stamp, topics, frames, segmentation=True):
        bag.write(topic, msg, stamp, topic_qos(topic))
