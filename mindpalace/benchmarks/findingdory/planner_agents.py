"""The planner agents of the suite (agent side: no ground truth here): every one runs the same planner, skills and model.

- a memory preset by name (`mindpalace`, `karma`, `3dmem`, `mem4nav`, `robomemory`): the recorded day is replayed
  once into a bank of that preset (`prepare`, the runner's second round); each task opens a copy of that bank and
  the planner answers through the memory tools;
- `no_memory`: an empty bank that knows the floor plan; it sees the present (the test start) and nothing of the day;
- `full_context`: the day as text in the prompt instead of memory tools: the robot's own actions and, per frame,
  what perception saw (with the map's ids, so that it can name what to go to), truncated from the start to fit the
  model's context (the truncation is recorded in the answer's notes). It drives on the map the replay built.

A task ends FindingDory's way: `navigate_to` a place, then `checkpoint` (one of several stops) or `done` (the last).
High level (no driving): `navigate_to` only commits to the pose it would stop at, planned on the perceived map
(`skills.stop_pose`), and each stop is that pose. Low level: the robot drives in the live simulator; each stop is the
committed pose (high level) and where the robot stopped (low level).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mindpalace.agent.builder import build_backend, build_perception, build_planner, open_memory
from mindpalace.agent.config import AgentConfig
from mindpalace.agent.episode import EpisodeRecord
from mindpalace.agent.loop import run_episode
from mindpalace.agent.runtime import AgentRuntime
from mindpalace.agent.skills import SkillConfig, SkillOutcome, fail, ok, run_skill, stop_pose
from mindpalace.benchmarks.findingdory.agents import Answer, DayContext, Pose, Stop, TaskContext
from mindpalace.benchmarks.findingdory.replay import ReplayEnv, replay
from mindpalace.core.config import load_config
from mindpalace.core.embedder import EMBEDDERS, Embedder
from mindpalace.core.env import floor_plan_of
from mindpalace.core.types import Observation
from mindpalace.memory.local_reader import LocalReader
from mindpalace.memory.reader import MemoryReader
from mindpalace.memory.system import MemorySystem
from mindpalace.planning.backends import LLMBackend

log = logging.getLogger(__name__)

BANK_DIR = "bank"  # under the agent's per-day folder: the bank one replay built (its files, moved in when complete)
BANK_FILE = "bank.db"
DAY_LOG = "day_log.txt"
# A task is a handful of decisions: where to go, then stop (or several stops).
DEFAULTS = ("budget.max_steps=8", "budget.max_wall_s=900")
_BUDGET_ENDS = ("step budget", "token budget", "time budget")


def agent_config(overrides: tuple[str, ...] | list[str] = (), preset: str = "mindpalace") -> AgentConfig:
    """The planner agents' config: the suite's defaults, then the run's `--set` overrides, with this preset."""
    return load_config(AgentConfig, None, [*DEFAULTS, *overrides, f"memory.preset={preset}"])


class _Shared:
    """The models, loaded once per process and shared by every job (as the memorybench suite does)."""

    backend: LLMBackend | None = None
    key: str = ""
    embedder: Embedder | None = None


def shared_embedder() -> Embedder:
    """The text embedder memory and perception share (MiniLM, as the presets and the pipeline use by default)."""
    if _Shared.embedder is None:
        _Shared.embedder = EMBEDDERS.make("minilm")
    return _Shared.embedder


def open_bank(config: AgentConfig) -> MemorySystem:
    return open_memory(config, embedder=shared_embedder())


def _backend(config: AgentConfig) -> LLMBackend:
    key = repr(config.llm)
    if _Shared.backend is None or _Shared.key != key:
        _Shared.backend, _Shared.key = build_backend(config), key
    return _Shared.backend


def standing_start(recording: Path) -> tuple[ReplayEnv, Observation]:
    """The robot where the day ended (the test start), as an env that does not move: for high-level answers."""
    env = ReplayEnv(recording)
    env.index = len(env.recording) - 1
    return env, env.recording.observation(env.index)


class Stops:
    """Turns the planner's skill calls into FindingDory stops; the skill runner of `run_episode`."""

    def __init__(self, low_level: bool) -> None:
        self.low_level = low_level
        self.stops: list[Stop] = []
        self.chosen: Pose | None = None  # the pose the last navigate_to committed to
        self.label = ""

    def __call__(self, runtime: AgentRuntime, name: str, arguments: dict[str, Any], config: SkillConfig | None) -> SkillOutcome:
        config = config or SkillConfig()
        if name == "navigate_to":
            planned = stop_pose(runtime, arguments["target"], config)
            if isinstance(planned, SkillOutcome):
                return planned
            self.chosen, self.label = Pose(*planned), str(arguments["target"])
            if not self.low_level:
                return ok(f"chose the stop at {self.label} ({planned[0]:.1f}, {planned[1]:.1f})")
            return run_skill(runtime, name, arguments, config)
        if name in ("checkpoint", "done"):
            here = Pose.of(runtime.obs)
            self.stops.append(Stop(self.chosen or here, here if self.low_level else None, self.label or "where it stood"))
            self.chosen, self.label = None, ""
            return run_skill(runtime, name, arguments, config)
        if not self.low_level:
            return fail("not_available", "a high-level answer only chooses places: navigate_to, then checkpoint or done")
        return run_skill(runtime, name, arguments, config)


def run_planner(
    context: TaskContext,
    memory: MemorySystem,
    config: AgentConfig,
    reader: MemoryReader | None = None,
    skill_runner: Stops | None = None,
) -> tuple[Answer, EpisodeRecord]:
    """The planner on one task over `memory`: in the live simulator when the task is low level, else standing still.

    `skill_runner` turns skill calls into stops (`Stops` by default; the oracle memory's stops at viewpoints)."""
    if context.low_level:
        assert context.open_live is not None, "a low-level task comes with the live simulator"
        env, obs = context.open_live()
    else:
        env, obs = standing_start(context.recording)
    runtime = AgentRuntime(env, memory, build_perception(config, shared_embedder()), obs)
    plan = floor_plan_of(env)
    if plan:
        runtime.set_floor_plan(plan)
    planner = build_planner(config, reader or LocalReader(memory), env.robot, _backend(config))
    stops = skill_runner or Stops(context.low_level)
    record = run_episode(
        runtime,
        planner,
        context.instruction,
        budget=config.budget,
        seed=context.seed,
        planner_name=f"{config.llm.type}/{config.planner.mode}",
        skill_config=config.skills,
        skill_runner=stops,
    )
    calls = [f"{s.skill}({', '.join(map(str, s.arguments.values()))}){'' if s.success else ' failed'}" for s in record.steps]
    tools = [f"{m.tool}({', '.join(map(str, m.arguments.values()))})" for s in record.steps for m in s.memory_calls]
    answer = Answer(
        stops=stops.stops,
        error="" if stops.stops else f"no stop: the episode ended by {record.reason}",
        timed_out=record.reason in _BUDGET_ENDS,
        tokens=sum(s.prompt_tokens + s.completion_tokens for s in record.steps),
        notes=[f"ended: {record.reason}", "calls: " + "; ".join(calls), "memory: " + "; ".join(tools), *record.notes],
    )
    if not context.low_level:
        env.close()
    return answer, record


def _bank_copy(bank_dir: Path, into: Path) -> Path:
    """A private copy of a prepared bank: a task's episode writes to memory (its own events), the day's bank stays."""
    if not (bank_dir / BANK_FILE).is_file():
        raise FileNotFoundError(f"{bank_dir} holds no prepared bank: the day's replay has not run")
    copy = into / BANK_DIR
    shutil.copytree(bank_dir, copy)
    return copy / BANK_FILE


def replay_day(context: DayContext, config: AgentConfig, day_log: bool = False) -> dict[str, Any]:
    """Replay the recorded day into a new bank of the config's preset under `work_dir/bank` (once: kept after).

    Built in a temporary folder and moved in whole, so that a replay killed midway leaves nothing that looks done.
    With `day_log`, also writes the day as text (`work_dir/day_log.txt`): each of the robot's actions and, per
    frame, the mapped things it saw, with their ids, places and the time of day.
    """
    final = context.work_dir / BANK_DIR
    if (final / BANK_FILE).is_file() and (not day_log or (context.work_dir / DAY_LOG).is_file()):
        return {"bank": str(final), "reused": True}
    context.work_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix="replay-", dir=context.work_dir))
    env = ReplayEnv(context.recording)
    obs, _ = env.reset()
    config.memory.bank = str(partial / BANK_FILE)
    memory = open_bank(config)
    lines: list[str] = []
    try:
        runtime = AgentRuntime(env, memory, build_perception(config, shared_embedder()), obs)
        runtime.set_floor_plan(env.floor_plan())
        last = [runtime.obs.time_s]

        def write_log(index: int, total: int) -> None:
            lines.extend([*_action_lines(runtime, last[0]), _frame_line(runtime)])
            last[0] = runtime.obs.time_s

        if day_log:
            lines.append(_frame_line(runtime))
        frames = 1 + replay(runtime, write_log if day_log else None)
        stats = {k: v for k, v in memory.stats().items() if isinstance(v, (int, float, str))}
    finally:
        memory.close()
    if day_log:
        (partial / DAY_LOG).write_text("\n".join(lines) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    partial.replace(final)
    if day_log:
        (final / DAY_LOG).replace(context.work_dir / DAY_LOG)
    stats["path"] = str(final / BANK_FILE)  # where the bank is now, not the temporary folder it was built in
    return {"bank": str(final), "frames": frames, "memory": stats, "reused": False}


def _clock(runtime: AgentRuntime) -> str:
    return runtime.obs.clock()[:5] or f"{runtime.obs.time_s:.0f}s"


def _action_lines(runtime: AgentRuntime, start_s: float) -> list[str]:
    """The robot's own events of the last step (a pick, a place, entering a room), as the timeline words them."""
    events = runtime.memory.events.events_between(start_s, runtime.obs.time_s)
    lines = []
    for event in sorted((e for e in events if e.start_s >= start_s), key=lambda e: (e.start_s, e.id)):
        arguments = ", ".join(f"{k}={v}" for k, v in event.arguments.items())
        lines.append(f"{_clock(runtime)} I did {event.action}({arguments}){' in the ' + event.place if event.place else ''}")
    return lines


def _frame_line(runtime: AgentRuntime) -> str:
    """What perception saw in this frame: the mapped things it updated, named as memory names them."""
    now = runtime.obs.time_s
    seen = [o for o in runtime.objects().values() if o.last_seen == now]
    x, y, _ = runtime.pose
    names = ", ".join(f"{o.label.replace('_', ' ')} #{o.id} at ({o.center[0]:.1f}, {o.center[1]:.1f})" for o in seen)
    return f"{_clock(runtime)} at ({x:.1f}, {y:.1f}) in the {runtime.room or 'house'} I saw: {names or 'nothing mapped'}"


class MemoryAgent:
    """The planner over the memory tools of one preset's bank, the recorded day replayed into it."""

    privileged = False
    prepares_day = True

    def __init__(self, preset: str = "mindpalace") -> None:
        self.preset = preset
        self.name = preset

    def prepare(self, context: DayContext) -> dict[str, Any]:
        return replay_day(context, agent_config(context.config, self.preset))

    def answer(self, context: TaskContext, oracle: Any = None) -> Answer:
        config = agent_config(context.config, self.preset)
        with tempfile.TemporaryDirectory(prefix="fd-task-") as folder:
            config.memory.bank = str(_bank_copy(context.work_dir / BANK_DIR, Path(folder)))
            with open_bank(config) as memory:
                return run_planner(context, memory, config)[0]


class NoMemoryAgent:
    """The planner with nothing of the day: an empty bank with the floor plan; it perceives the present only."""

    name = "no_memory"
    privileged = False
    prepares_day = False

    def prepare(self, context: DayContext) -> dict[str, Any]:
        return {}

    def answer(self, context: TaskContext, oracle: Any = None) -> Answer:
        config = agent_config(context.config)
        with tempfile.TemporaryDirectory(prefix="fd-task-") as folder:
            config.memory.bank = str(Path(folder) / BANK_FILE)
            with open_bank(config) as memory:
                return run_planner(context, memory, config)[0]


class DayLogReader:
    """The planner's view for `full_context`: the day log as the prompt's memory context, and no memory tools."""

    def __init__(self, inner: LocalReader, day_log: str) -> None:
        self.inner = inner
        self.day_log = day_log

    def tool_schemas(self) -> dict[str, dict[str, Any]]:
        return {}

    def call_tool(self, name: str, arguments: Any) -> Any:
        return self.inner.call_tool("no_tools", arguments)  # an error result: this agent has no memory tools

    def context(self, task: str, budget_tokens: int) -> str:
        return self.day_log

    def mentioned_labels(self, text: str) -> list[str]:
        return self.inner.mentioned_labels(text)

    def label_kinds(self) -> dict[str, str]:
        return self.inner.label_kinds()

    def room_names(self) -> list[str]:
        return self.inner.room_names()


def fit_to_context(text: str, backend: LLMBackend, budget_tokens: int) -> tuple[str, int, int]:
    """The end of `text` that fits `budget_tokens` (whole lines; the latest kept): (text, tokens, tokens dropped)."""
    lines = text.splitlines()
    total = backend.count_tokens(text)
    if total <= budget_tokens:
        return text, total, 0
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        cost = backend.count_tokens(line) + 1
        if used + cost > budget_tokens:
            break
        kept.append(line)
        used += cost
    return "\n".join(reversed(kept)), used, total - used


class FullContextAgent:
    """The planner reading the whole day as text in its prompt (truncated to the model's context), no memory tools."""

    name = "full_context"
    privileged = False
    prepares_day = True
    # The prompt around the day log: system text, examples, task, state, the plan so far and the longest candidate.
    # Measured at 780-840 tokens on a task's first steps, and the plan grows with every step. With 700, prompts of
    # 8,210-8,227 tokens were cut from the left at `max_context` 8,192, and a cut prompt misses the prefix cache:
    # each such decision ran the whole 7,500-token log again (57 s on one core).
    reserve_tokens = 1200

    def prepare(self, context: DayContext) -> dict[str, Any]:
        return replay_day(context, agent_config(context.config), day_log=True)

    def answer(self, context: TaskContext, oracle: Any = None) -> Answer:
        config = agent_config([*context.config, "planner.max_tool_calls=0"])
        backend = _backend(config)
        window = int(getattr(backend, "max_context", 8192))
        log_text, kept, dropped = fit_to_context(
            (context.work_dir / DAY_LOG).read_text(), backend, max(0, window - self.reserve_tokens)
        )
        with tempfile.TemporaryDirectory(prefix="fd-task-") as folder:
            config.memory.bank = str(_bank_copy(context.work_dir / BANK_DIR, Path(folder)))
            with open_bank(config) as memory:
                answer, _ = run_planner(context, memory, config, DayLogReader(LocalReader(memory), log_text))
        truncation = (
            f"day log: {kept} tokens in the prompt, {dropped} cut from the start" if dropped else f"day log: {kept} tokens, whole"
        )
        answer.notes.insert(0, truncation)
        return answer
