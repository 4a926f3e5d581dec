"""Planner overhead outside model inference: prompt building, memory tool calls, candidate proposal, parsing.

The world is a remembered day (the demo's), the backend the scripted test double (whose inference costs
nothing), so what is timed is the planner's own work per decision, in both decoding modes. With
`with_model` the local model's inference per decision is timed as well, apart (`_time_local_model`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.agent.affordances import propose
from mindpalace.agent.builder import build_planner
from mindpalace.agent.config import AgentConfig
from mindpalace.agent.loop import planner_state
from mindpalace.benchmarks.demo import DemoConfig, World, build_tasks, open_world
from mindpalace.core.types import Event
from mindpalace.memory.local_reader import LocalReader
from mindpalace.planning.backends import LLM_BACKENDS
from mindpalace.planning.planner import PlannerConfig, PlannerState


def _propose(runtime, task: str, texts: list[str]):
    return propose(runtime, texts, task)


def _add_history(memory, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    actions = ("pick", "place", "open", "close", "enter_room", "navigate_to")
    for i in range(count):
        start = -86_400.0 + i * 86_400.0 / max(count, 1)  # the day before
        memory.record_event(
            Event(
                "robot",
                str(rng.choice(actions)),
                start,
                start + 2.0,
                {"object": f"thing #{10_000 + i % 500}"},
                (10_000 + i % 500,),
                f"room {i % 7}",
            ),
            float(rng.uniform(-5, 5)),
            float(rng.uniform(-5, 5)),
        )
    memory.flush()


def _stats(values_s: list[float], prefix: str) -> dict[str, float]:
    ms = np.array(values_s) * 1000
    return {f"{prefix}_p50": round(float(np.median(ms)), 2), f"{prefix}_p95": round(float(np.percentile(ms, 95)), 2)}


def _minutes_later(clock: str, minutes: int) -> str:
    """An "HH:MM" time of day `minutes` later."""
    hours, mins = divmod(int(clock[:2]) * 60 + int(clock[3:5]) + minutes, 60)
    return f"{hours % 24:02d}:{mins:02d}"


def _time_local_model(
    config: AgentConfig, reader: LocalReader, world: World, state: PlannerState, tasks: list[str], episodes: int
) -> dict[str, Any]:
    """The local model's inference in score mode: an episode's first decision (a memory query, then a skill; ranked
    twice) and its next one after a step (a skill; ranked once), with the prefix cache as the suite runs it.

    Every decision has its own time of day, so that no prompt repeats whole: what the prefix cache gives
    is what decisions share (the examples; within an episode the task, memory context and plan so far).
    """
    from mindpalace.planning.backends.local import LocalBackend  # torch: imported when the local model is timed

    planner = build_planner(config, reader, world.env.robot)
    first, following, overheads, cpu = [], [], [], []
    propose = partial(_propose, world.runtime)
    for i in range(episodes):
        planner.start(tasks[i % len(tasks)])
        now = replace(state, time_of_day=_minutes_later(state.time_of_day, 2 * i))
        cpu_started = time.process_time()
        decision = planner.decide(now, partial(propose, planner.task))
        cpu.append(time.process_time() - cpu_started)
        first.append(decision.inference_s)
        overheads.append(decision.overhead_s)
        step = f"{decision.call.render() if decision.call else 'look_around()'} -> ok"
        planner.note(step)
        then = replace(now, time_of_day=_minutes_later(now.time_of_day, 1), last_outcome=step)
        following.append(planner.decide(then, partial(propose, planner.task)).inference_s)
    backend = planner.backend
    assert isinstance(backend, LocalBackend), "timed with the local model"
    prefixes = backend.prefixes
    return {
        **_stats(first, "local_inference_ms"),
        **_stats(cpu, "local_decision_cpu_ms"),
        **_stats(following, "local_next_inference_ms"),
        **_stats(overheads, "local_overhead_ms"),
        "local_prefix_reused": round(prefixes.reused_tokens / max(1, prefixes.looked_up_tokens), 3),
    }


def measure_planner(
    seed: int = 0,
    decisions: int = 40,
    with_model: bool = False,
    extra_events: int = 0,
    progress: Callable[[str], None] | None = None,
    config: AgentConfig | None = None,
) -> dict[str, Any]:
    """`extra_events` older events (other objects, other rooms) are added to the day's memory first, to time the
    planner against a bank that has been in use for a while. `config`: the agent's (default: the defaults at `seed`);
    its `llm` is the model timed with `with_model`."""
    say = progress or (lambda message: None)
    with tempfile.TemporaryDirectory() as folder:
        config = config or AgentConfig(seed=seed)
        # The day needs no model: a script stands in until the local model is timed below.
        script = LLM_BACKENDS.make("scripted", replies=["look_around()"])
        world = open_world(DemoConfig(agent=config), Path(folder), live=True, progress=say, backend=script)
        reader = LocalReader(world.memory)
        try:
            assert world.day is not None
            _add_history(world.memory, extra_events, seed)
            tasks = [t.instruction for t in build_tasks(world.env, world.day, np.random.default_rng(seed + 1))]
            results: dict[str, Any] = {
                "seed": seed,
                "decisions": decisions,
                "tasks": len(tasks),
                "extra_events": extra_events,
                "objects_in_memory": len(world.runtime.objects()),
                "events_in_memory": world.memory.stats()["events"],
            }
            state = planner_state(world.runtime)
            for mode in ("score", "generate"):
                # The scripted double answers generate mode with a valid skill call after one memory query.
                backend = LLM_BACKENDS.make("scripted", replies=['where_is(object="mug")', "look_around()"] * decisions)
                planner = build_planner(replace(config, planner=PlannerConfig(mode=mode)), reader, world.env.robot, backend)
                overheads, starts, memory_ms = [], [], []
                for i in range(decisions):
                    started = time.perf_counter()
                    planner.start(tasks[i % len(tasks)])
                    starts.append(time.perf_counter() - started)
                    decision = planner.decide(state, partial(_propose, world.runtime, planner.task))
                    overheads.append(decision.overhead_s)
                    memory_ms += [c.latency_ms / 1000 for c in decision.memory_calls]
                results.update(_stats(overheads, f"{mode}_overhead_ms"))
                results.update(_stats(starts, f"{mode}_episode_start_ms"))
                if memory_ms:
                    results.update(_stats(memory_ms, f"{mode}_memory_call_ms"))
            results["overhead_ms_per_step"] = max(results["score_overhead_ms_p50"], results["generate_overhead_ms_p50"])
            if with_model:
                say("timing the local model (score mode)")
                results.update(_time_local_model(config, reader, world, state, tasks, min(decisions, 10)))
            return results
        finally:
            world.close()
