"""The agent loop: env -> perception -> memory -> planner -> skill -> env, until the task ends or a budget runs out.

Every env step is perceived and filed in memory (by `AgentRuntime`); every skill is written to the
timeline as the robot's own event. The critic reviews each step from the second on, and the loop guard
bans repeated calls or forces exploration. Nothing a model says can crash the loop: invalid replies
are repaired or end the episode with a clear reason.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from mindpalace.agent.affordances import propose
from mindpalace.agent.episode import EpisodeRecord, StepRecord
from mindpalace.agent.runtime import AgentRuntime, display_name
from mindpalace.agent.skills import SkillConfig, SkillOutcome, run_skill
from mindpalace.planning.critic import Clause, Critic, current_step
from mindpalace.planning.loop_guard import LoopGuard
from mindpalace.planning.parsing import Call
from mindpalace.planning.planner import Planner, PlannerState

log = logging.getLogger(__name__)

# Skills whose env actions the runtime already writes as events (pick, place, open, close, press) are not written twice.
_RECORDED_BY_RUNTIME = ("pick", "place", "open", "close", "press", "answer")

Checker = Callable[[EpisodeRecord], tuple[bool, str]]


@dataclass
class EpisodeBudget:
    max_steps: int = 12  # planner decisions
    max_tokens: int = 60_000
    max_wall_s: float = 300.0
    # Each stop made (a successful `checkpoint`) earns this many more decisions (going to the next target, stopping
    # there), so that a task of many stops is not cut short by a budget sized for one.
    steps_per_stop: int = 2

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.max_tokens < 1 or not self.max_wall_s > 0:
            raise ValueError("budgets must be positive")
        if self.steps_per_stop < 0:
            raise ValueError("steps_per_stop must be >= 0")


def run_episode(
    runtime: AgentRuntime,
    planner: Planner,
    task: str,
    *,
    budget: EpisodeBudget | None = None,
    planner_name: str = "",
    seed: int = 0,
    checker: Checker | None = None,
    skill_config: SkillConfig | None = None,
    guard: LoopGuard | None = None,
    critic: Critic | None = None,
    progress: Callable[[StepRecord], None] | None = None,
    skill_runner: Callable[..., SkillOutcome] = run_skill,
) -> EpisodeRecord:
    """Run one task to its end; `checker` (privileged, for metrics) judges success, else the planner's own `done`.

    `skill_runner(runtime, name, arguments, skill_config)` carries out each call: the env's own skills by default,
    a ROS 2 robot's actions in the agent node (`mindpalace.ros.agent_node`).
    An unexpected error inside the episode (a skill, memory, the planner) ends it with the error as its reason,
    so that the caller still gets the record and writes its report.
    """
    budget = budget or EpisodeBudget()
    guard = guard or LoopGuard()
    critic = critic or Critic()
    guard.reset()
    critic.reset()
    started = time.perf_counter()
    record = EpisodeRecord(task=task, planner=planner_name, seed=seed)
    trail_start = len(runtime.trail) - 1
    try:
        _run_steps(runtime, planner, task, record, budget, guard, critic, started, skill_config, progress, skill_runner)
    except Exception as error:  # nothing in an episode may take its report with it
        log.exception("episode %r ended by an unexpected error", task)
        record.reason = f"error: {_printable(f'{type(error).__name__}: {error}')}"
        record.notes.append(f"step {len(record.steps) + 1}: {record.reason}")
    record.path = list(runtime.trail[trail_start:])
    record.wall_s = time.perf_counter() - started
    try:
        runtime.memory.flush()
    except Exception as error:  # the same: the record goes back to be reported
        log.exception("memory flush after episode %r failed", task)
        record.notes.append(f"memory flush failed: {_printable(f'{type(error).__name__}: {error}')}")
    if checker is not None:
        record.success, detail = checker(record)
        record.notes.append(f"checker: {detail}")
    else:
        record.success = record.reason in ("done", "answered")
    return record


def _printable(text: str) -> str:
    """Error text as it can be written anywhere: characters UTF-8 cannot encode are escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _run_steps(
    runtime: AgentRuntime,
    planner: Planner,
    task: str,
    record: EpisodeRecord,
    budget: EpisodeBudget,
    guard: LoopGuard,
    critic: Critic,
    started: float,
    skill_config: SkillConfig | None,
    progress: Callable[[StepRecord], None] | None,
    skill_runner: Callable[..., SkillOutcome],
) -> None:
    """The steps of one episode; sets `record.reason` when it ends."""
    runtime.record("task", {"text": task}, (), runtime.obs.time_s, success=True, importance=0.7)
    planner.start(task)
    state = planner_state(runtime)
    for index in itertools.count():
        if index >= budget.max_steps + budget.steps_per_stop * _stops(record.steps):
            record.reason = "step budget"
            break
        if record.tokens >= budget.max_tokens:
            record.reason = "token budget"
            break
        if time.perf_counter() - started >= budget.max_wall_s:
            record.reason = "time budget"
            break
        last = record.steps[-1] if record.steps else None
        succeeded = [s.skill for s in record.steps if s.success]
        finish = critic.may_finish(task, last.skill if last else None, bool(last and last.success), succeeded)
        undo_of = Call(last.skill, last.arguments) if last is not None and last.success else None
        step_now = current_step(task, succeeded)
        state = replace(state, step=step_now.text if step_now is not None else "")
        stopped = _stopped_at(record.steps)
        decision = planner.decide(
            state, partial(_propose, runtime, planner.task, finish, undo_of, skill_config, step_now, stopped)
        )
        if decision.call is None:
            record.reason = "the planner produced no valid call"
            record.notes.append(f"step {index + 1}: {decision.choice.strip()[:500]}")
            break
        call = decision.call
        skill_started, steps_before = time.perf_counter(), runtime.stats.env_steps
        start_s = runtime.obs.time_s
        outcome = skill_runner(runtime, call.name, call.arguments, skill_config)
        skill_s = time.perf_counter() - skill_started
        if call.name not in _RECORDED_BY_RUNTIME:
            runtime.record(call.name, dict(call.arguments), (), start_s, success=outcome.success, reason=outcome.reason)
        summary = _summary(call.render(), outcome)
        planner.note(summary)
        verdict = critic.review(index, call.render(), outcome.success, outcome.reason, outcome.message, _progress(runtime))
        stops = _stops(record.steps) + (call.name == "checkpoint" and outcome.success)
        guard_verdict = guard.check(call, _state_key(runtime, stops), outcome.success)
        step = StepRecord(
            index=index + 1,
            skill=call.name,
            arguments=dict(call.arguments),
            success=outcome.success,
            reason=outcome.reason,
            message=outcome.message,
            time_s=runtime.obs.time_s,
            memory_calls=decision.memory_calls,
            prompt_tokens=decision.prompt_tokens,
            completion_tokens=decision.completion_tokens,
            inference_s=decision.inference_s,
            planner_overhead_s=decision.overhead_s,
            skill_s=skill_s,
            env_steps=runtime.stats.env_steps - steps_before,
            choice=decision.choice,
            critic=verdict,
            guard="" if guard_verdict.action == "ok" else f"{guard_verdict.action}: {guard_verdict.reason}",
            repairs=decision.repairs,
            frame=runtime.obs.rgb.copy(),
            robot_xy=runtime.xy,
        )
        record.steps.append(step)
        if progress is not None:
            progress(step)
        if outcome.data.get("final"):
            record.reason = "answered" if call.name == "answer" else "done"
            record.answer = outcome.data.get("answer")
            break
        if guard_verdict.action == "abort":
            record.reason = f"loop guard: {guard_verdict.reason}"
            break
        if runtime.truncated:
            record.reason = "the env ended the episode"
            break
        state = planner_state(
            runtime,
            summary,
            verdict,
            guard_verdict.reason if guard_verdict.action != "ok" else "",
            guard_verdict.banned,
            "explore" if guard_verdict.action == "explore" else "",
        )


def _stops(steps: list[StepRecord]) -> int:
    """The stops made so far: successful checkpoints."""
    return sum(s.skill == "checkpoint" and s.success for s in steps)


def _propose(
    runtime: AgentRuntime,
    task: str,
    can_finish: bool,
    last: Call | None,
    skill_config: SkillConfig | None,
    step: Clause | None,
    stopped: list[str],
    texts: list[str],
) -> list[Call]:
    return propose(runtime, texts, task, can_finish=can_finish, last=last, skill_config=skill_config, step=step, stopped=stopped)


def _stopped_at(steps: list[StepRecord]) -> list[str]:
    """The targets of a task of several stops that the robot stopped at so far: each navigate_to a checkpoint confirmed."""
    stopped: list[str] = []
    at: str | None = None
    for step in steps:
        if step.skill == "navigate_to":
            at = str(step.arguments.get("target")) if step.success else None
        elif step.skill == "checkpoint" and step.success and at is not None:
            stopped.append(at)
            at = None
    return stopped


def _summary(call: str, outcome: SkillOutcome) -> str:
    if outcome.success:
        return f"{call} -> ok: {outcome.message}"
    return f"{call} -> failed ({outcome.reason}): {outcome.message}"


def planner_state(
    runtime: AgentRuntime,
    last: str = "",
    critic: str = "",
    guard: str = "",
    banned: frozenset[str] = frozenset(),
    force: str = "",
) -> PlannerState:
    held = runtime.objects().get(runtime.held) if runtime.held is not None else None
    return PlannerState(
        time_of_day=runtime.obs.clock()[:5] or f"{runtime.obs.time_s:.0f}s",
        room=runtime.room,
        holding=display_name(held) if held is not None else None,
        last_outcome=last,
        critic=critic,
        guard=guard,
        banned=banned,
        force=force,
    )


def _progress(runtime: AgentRuntime) -> str:
    """What a task can change: where the robot is, what it holds, the parts it opened.

    "Where" is the nearest mapped thing (within 1.5 m), so that arriving at the same place twice reads the same
    even when the base stops a few centimetres apart; in open space, the position to a metre.
    """
    x, y = runtime.xy
    nearest = min(runtime.objects().values(), key=lambda o: math.hypot(o.center[0] - x, o.center[1] - y), default=None)
    if nearest is not None and math.hypot(nearest.center[0] - x, nearest.center[1] - y) <= 1.5:
        place = f"near #{nearest.id}"
    else:
        place = f"{round(x)},{round(y)}"
    opened = sorted(k for k, v in runtime.spatial.scene.states.items() if v == "open")
    return f"{place}|{runtime.held}|{opened}"


def _state_key(runtime: AgentRuntime, stops: int) -> str:
    """The loop guard's state: what the task has changed (what the robot holds, what it opened, the stops it made on a
    task of several), not where it stands; a stop is progress, so that a third checkpoint is no loop.

    With the place in it, a model that drives back and forth between two targets changes "state" every
    step, and a ban on one of the calls would lift as soon as it drove away.
    """
    opened = sorted(k for k, v in runtime.spatial.scene.states.items() if v == "open")
    return f"{runtime.held}|{opened}|{stops}"
