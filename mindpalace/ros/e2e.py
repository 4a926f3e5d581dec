"""`mindpalace ros e2e`: the whole stack over DDS on this machine, after a remembered day.

Three parts, on the loopback interface and a domain of their own:
- the memory node (`mindpalace ros memory`, a process of its own), perceiving the robot's camera;
- the sim bridge (in this process, which is the benchmark's side and alone reads the simulator's ground truth);
- the agent node (`mindpalace ros agent`, a process of its own), with the local planner.

The day is the demo's (`benchmarks.demo.live_day`): the scripted oracle drives the robot through the bridge, every
frame goes over DDS to the memory node (in lockstep: the simulated world waits for memory to file each frame) and
the robot's own pick, place, open and close go to memory's record_event service as the robot did them (the
simulator's ids; memory resolves them). Then the demo's "Where did you put the X?" and "Go to the X you saw on the
Y." go to the agent node as Instruct goals, and the demo's checks judge the outcome.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.agent.episode import EpisodeRecord
from mindpalace.benchmarks.demo import build_tasks, live_day
from mindpalace.core.actions import Action, Close, Open, Pick, Place, Wait
from mindpalace.core.config import Component
from mindpalace.core.types import Observation
from mindpalace.ros.actions import ActionClient
from mindpalace.ros.dds import loopback_config
from mindpalace.ros.messages.common import GoalStatus, Point, Time
from mindpalace.ros.messages.mindpalace_msgs import (
    INSTRUCT,
    RECORD_EVENT,
    Event,
    InstructFeedback,
    InstructGoal,
    RecordEventRequest,
)
from mindpalace.ros.sim_bridge import SimBridge, SimBridgeConfig
from mindpalace.ros.transport import make_transport

log = logging.getLogger(__name__)

INSTRUCTION_KINDS = ("Where did you put", "Go to the ")  # the demo's memory questions that e2e carries out

# The memory node as e2e runs it: the simulator's segmentation, every frame, the map every half second.
MEMORY_SETTINGS = [
    'perception.segmenter={"type": "ground_truth", "kinds": ["object", "furniture", "part"]}',
    "perception.depth_stride=4",
    "rate_hz=0",
    "publish_every_s=0.5",
    "tf_timeout_s=2.0",
]


class BridgeDay:
    """What `live_day` drives: the robot (through the bridge) and its own actions told to memory, as the
    agent runtime tells them in one process (the target by the simulator's id; memory resolves it)."""

    def __init__(self, bridge: SimBridge, record_event: Any) -> None:
        self.bridge = bridge
        self.record_event = record_event

    @property
    def obs(self) -> Observation:
        return self.bridge.obs

    def step(self, action: Action) -> Observation:
        start = self.bridge.obs.time_s
        tell = None
        if isinstance(action, Pick | Place | Open | Close):

            def tell(obs: Observation) -> None:
                self._record(action, obs, start)

        return self.bridge.step(action, before_publish=tell)

    def _record(self, action: Pick | Place | Open | Close, obs: Observation, start_s: float) -> None:
        outcome = obs.last_outcome
        verb = {Pick: "pick", Place: "place", Open: "open", Close: "close"}[type(action)]
        source = (
            action.object_id
            if isinstance(action, Pick)
            else action.receptacle_id
            if isinstance(action, Place)
            else action.target_id
        )
        arguments = {"relation": action.relation.value} if isinstance(action, Place) else {}
        x, y = float(obs.base_pose[0, 3]), float(obs.base_pose[1, 3])
        event = Event(
            "robot",
            verb,
            Time.from_seconds(start_s),
            Time.from_seconds(obs.time_s),
            json.dumps(arguments),
            [],
            [int(source)],
            "",
            bool(outcome and outcome.success),
            "" if outcome is None or outcome.success else outcome.reason.value,
            True,
            Point(x, y, 0.0),
        )
        if not self.record_event.call(RecordEventRequest(event), timeout_s=30.0).ok:
            log.warning("memory refused the %s event", verb)


def _sets(settings: list[str]) -> list[str]:
    return [part for setting in settings for part in ("--set", setting)]


def _spawn(arguments: list[str], domain_id: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "CYCLONEDDS_URI": loopback_config("lo"), "PYTHONPATH": os.pathsep.join(sys.path)}
    handle = log_path.open("w")
    command = [sys.executable, "-m", "mindpalace.cli.main", "ros", *arguments, "--domain-id", str(domain_id), "--interface", "lo"]
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_e2e(
    out_dir: Path,
    seed: int = 0,
    rooms: int = 3,
    moves: int = 2,
    llm: Component | None = None,
    agent_settings: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The day, then the memory instructions; the figures (`instructions`, `succeeded`) and each episode's outcome."""
    say = progress or (lambda message: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    bank = out_dir / "bank.db"
    if bank.exists():
        raise ValueError(f"{bank} exists: e2e lives a new day in a new bank (give another --out)")
    domain_id = 100 + os.getpid() % 100
    os.environ["CYCLONEDDS_URI"] = loopback_config("lo")
    started = time.perf_counter()
    memory = _spawn(["memory", "--bank", str(bank), *_sets(MEMORY_SETTINGS)], domain_id, out_dir / "memory_node.log")
    agent: subprocess.Popen | None = None
    transport = make_transport("dds", "sim_bridge", domain_id=domain_id, interface="lo")
    env_args = {"n_rooms": rooms, "max_episode_steps": 1_000_000}
    config = SimBridgeConfig(env=Component("mindpalace/Household-v0", env_args), seed=seed, rate_hz=2.0, lockstep=True)
    bridge = SimBridge(config, transport)
    bridge.busy.set()  # the day drives every step
    try:
        record_event = transport.client("/mindpalace/record_event", RECORD_EVENT)
        if not record_event.wait_for_service(300.0):
            raise RuntimeError(f"the memory node did not start; see {out_dir / 'memory_node.log'}")
        say("memory node up; living the day (the oracle drives the robot through the bridge, memory perceives over DDS)")
        bridge.step(Wait(0.1))
        day = live_day(bridge.env, BridgeDay(bridge, record_event), np.random.default_rng(seed), moves)  # type: ignore[arg-type]
        bridge.busy.clear()
        say(f"day done: {day.env_steps} steps, {len(day.moves)} objects moved ({time.perf_counter() - started:.0f} s)")
        tasks = [
            t
            for t in build_tasks(bridge.env, day, np.random.default_rng(seed + 1))
            if t.instruction.startswith(INSTRUCTION_KINDS)
        ]
        settings = list(agent_settings or [])
        if llm is not None:
            settings += [f"llm={json.dumps(llm.to_dict())}"]
        agent = _spawn(["agent", *_sets(settings)], domain_id, out_dir / "agent_node.log")
        instruct = ActionClient(transport, "/mindpalace/instruct", INSTRUCT)
        if not instruct.wait_for_server(600.0):
            raise RuntimeError(f"the agent node did not start; see {out_dir / 'agent_node.log'}")
        results = []
        for task in tasks:
            say(f"instruction: {task.instruction}")
            begun = time.perf_counter()

            def feedback(step: InstructFeedback) -> None:
                say(f"  step {step.step}: {step.skill}({step.arguments_json}) -> {'ok' if step.ok else 'failed'}: {step.message}")

            status, result = instruct.run(InstructGoal(task.instruction), feedback, timeout_s=1800.0)
            record = EpisodeRecord(
                task=task.instruction, planner="ros", seed=seed, answer=(result.answer or None) if result else None
            )
            succeeded, detail = task.check(record) if status == GoalStatus.STATUS_SUCCEEDED else (False, f"goal status {status}")
            results.append(
                {
                    "instruction": task.instruction,
                    "success": succeeded,
                    "check": detail,
                    "answer": record.answer,
                    "reason": result.reason if result else "",
                    "steps": len(json.loads(result.record_json)["steps"]) if result and result.record_json else 0,
                    "wall_s": round(time.perf_counter() - begun, 1),
                }
            )
            say(f"  -> {'success' if succeeded else 'failure'}: {detail}")
        summary = {
            "instructions": len(results),
            "succeeded": sum(1 for r in results if r["success"]),
            "results": results,
            "day_env_steps": day.env_steps,
            "objects_moved": len(day.moves),
            "seed": seed,
            "rooms": rooms,
            "bank": str(bank),
            "wall_s": round(time.perf_counter() - started, 1),
        }
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        return summary
    finally:
        if agent is not None:
            _stop(agent)
        _stop(memory)
        bridge.close()
