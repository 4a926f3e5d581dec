"""The closed-loop planner: each step a prompt (task, budgeted memory context, last outcome, history), memory
tool calls (a bounded number), then one skill call.

Two decoding modes:
- `generate`: the model writes calls freely (native tool calls where the backend has them, else text);
  every reply is parsed and validated against the schemas, invalid replies are repaired a bounded number
  of times, then the planner falls back to `score` mode if the backend can score, else gives up clearly.
- `score` (SayCan): the model ranks valid candidate calls by likelihood, so even a 135M model acts validly.
  Memory-tool candidates come from the task's words; skill candidates come from the agent (what the robot
  can do now, with the objects that memory results named). A candidate's score is its mean log-likelihood
  per token as the next line of a numbered plan that follows worked examples; "pmi" subtracts its
  likelihood without the task and memory.

The planner sees memory only through a `MemoryReader` (read-only queries; `mindpalace.memory.reader`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mindpalace.memory.reader import MemoryReader
from mindpalace.planning.backends.base import Completion, LLMBackend, LLMError, Message
from mindpalace.planning.critic import MultiStop, stops_asked
from mindpalace.planning.parsing import Call, ReplyError, parse_and_validate

log = logging.getLogger(__name__)

# What a task's verbs ask memory about: the event actions the robot records.
_VERB_ACTIONS = {
    "place": ("put", "placed", "put away", "left", "moved", "brought", "tidied"),
    "pick": ("picked", "took", "grabbed", "carried"),
    "open": ("opened",),
    "close": ("closed", "shut"),
    "enter_room": ("visited", "went", "entered", "been"),
}


# What the robot did to things, in a visit to several of them ("every object you moved", "each item you relocated",
# "the furniture you used"): the day's moves list them.
_MOVES = re.compile(
    r"\b(put|placed|left|moved|brought|tidied|relocat\w*|dropped|delivered|picked|took|grabbed|carried|lifted|used|"
    r"interacted|moves|drop-off|pick-up)\b"
)
_CLOCK_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")  # a time of day in a task ("14:05")


@dataclass
class MemoryCall:
    """One read-only memory tool call the planner made, with its result as the model saw it."""

    tool: str
    arguments: dict[str, Any]
    ok: bool
    result: str
    latency_ms: float


@dataclass
class PlannerConfig:
    mode: str = "score"  # "score" or "generate"
    max_tool_calls: int = 1  # memory tool calls per step (one: a second, less likely query mostly added distractors)
    max_repairs: int = 2  # invalid replies asked again per step (generate mode)
    context_tokens: int = 300  # memory context budget in the prompt
    max_reply_tokens: int = 96
    history_steps: int = 6  # past steps shown in the prompt
    score: str = "mean"  # score mode: "mean" log-likelihood per token, or "pmi" (per token, against a prompt
    # without task and memory). On the demo's decisions with SmolLM2-135M, "mean" picked the right call more often.

    def __post_init__(self) -> None:
        if self.mode not in ("score", "generate"):
            raise ValueError(f"mode must be 'score' or 'generate', got {self.mode!r}")
        if self.score not in ("mean", "pmi"):
            raise ValueError(f"score must be 'mean' or 'pmi', got {self.score!r}")
        if self.max_tool_calls < 0 or self.max_repairs < 0:
            raise ValueError("max_tool_calls and max_repairs must be >= 0")


@dataclass
class PlannerState:
    """What the robot knows of itself right now, written by the agent loop."""

    time_of_day: str
    room: str | None
    holding: str | None
    last_outcome: str = ""  # "navigate_to(...) -> ok: at mug #12" or "... -> failed (out_of_reach): ..."
    critic: str = ""
    guard: str = ""
    banned: frozenset[str] = frozenset()  # Call.key()s the loop guard forbids now
    force: str = ""  # a skill the loop guard forces ("explore"), or ""
    step: str = ""  # the step of a multi-step instruction to do now ("press the button"); "" for a one-step task


@dataclass
class Decision:
    call: Call | None  # None: the planner could not produce a valid call (see `choice`)
    memory_calls: list[MemoryCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    inference_s: float = 0.0
    overhead_s: float = 0.0
    repairs: int = 0
    choice: str = ""


Proposer = Callable[[list[str]], list[Call]]  # memory texts seen so far -> the valid skill calls now


class Planner:
    def __init__(
        self, backend: LLMBackend, memory: MemoryReader, skills: dict[str, dict[str, Any]], config: PlannerConfig | None = None
    ) -> None:
        """`skills` maps a skill name to its OpenAI-style function description."""
        self.backend = backend
        self.memory = memory
        self.skills = skills
        self.config = config or PlannerConfig()
        self.task = ""
        self.history: list[str] = []
        self.memory_texts: list[str] = []  # every memory tool result this episode: what grounds candidates
        self._tool_keys: set[str] = set()
        self._step = ""  # the instruction's step memory was last asked about
        self._context = ""
        self._tools = memory.tool_schemas()

    @property
    def functions(self) -> dict[str, dict[str, Any]]:
        return {**self._tools, **self.skills}

    def start(self, task: str) -> None:
        """A new episode: the task's memory context is retrieved once, within its token budget."""
        self.task = " ".join(str(task).split())
        self.history, self.memory_texts, self._tool_keys, self._step = [], [], set(), ""
        # The context is for the model to read; only what memory tools return grounds candidates, so that
        # things merely similar to the task do not become targets.
        self._context = self.memory.context(self.task, self.config.context_tokens)

    def note(self, line: str) -> None:
        """One finished step for the history ("navigate_to(...) -> ok: ...")."""
        self.history.append(line)

    # ------------------------------------------------------------------ the decision
    def decide(self, state: PlannerState, propose: Proposer) -> Decision:
        started = time.perf_counter()
        decision = Decision(None)
        if state.force:
            decision.call = Call(state.force, {})
            decision.choice = f"forced by the loop guard: {state.guard}"
        elif self.config.mode == "generate":
            self._generate(state, propose, decision)
        else:
            self._score(state, propose, decision)
        decision.overhead_s = time.perf_counter() - started - decision.inference_s
        return decision

    # ------------------------------------------------------------------ score mode
    def _score(self, state: PlannerState, propose: Proposer, decision: Decision) -> None:
        if self._wants_memory(state):
            tools = [c for c in self.tool_candidates() if c.key() not in self._tool_keys]
            # A task about what the robot did is answered by that event (where it picked the thing up, not where the
            # thing is now): an event not recalled yet is asked first.
            tools = [c for c in tools if c.name == "recall_events"] or tools
            ranked = self._rank(state, tools, decision, "memory query") if tools else []
            for call, _ in ranked[: self.config.max_tool_calls]:
                self._run_tool(call, decision)
        self._recall_for_step(state, decision)
        candidates = [c for c in propose(self.memory_texts) if c.key() not in state.banned]
        if not candidates:
            decision.choice = "no valid skill call in this state"
            return
        ranked = self._rank(state, candidates, decision, "skill")
        decision.call = ranked[0][0]
        top = "\n".join(f"{score:+.2f}  {call.render()}" for call, score in ranked[:8])
        decision.choice = (decision.choice + "\n" if decision.choice else "") + f"skill candidates (best first):\n{top}"

    def _wants_memory(self, state: PlannerState) -> bool:
        """Memory is queried at the start of an episode and again when the last step failed."""
        return self.config.max_tool_calls > 0 and (not self._tool_keys or "failed" in state.last_outcome)

    def _recall_for_step(self, state: PlannerState, decision: Decision) -> None:
        """When a multi-step instruction moves on to its next step, what the robot last did with each thing the step
        names is recalled ("open that same drawer again": the drawer it closed), so that memory, not the model's
        guess, says which one the step means. Every such query is asked: they are few, and cost no inference."""
        if not state.step or state.step == self._step or "recall_events" not in self._tools:
            return
        self._step = state.step
        for label in self.memory.mentioned_labels(state.step):
            self._run_tool(Call("recall_events", {"order": "last", "object": label.replace("_", " ")}), decision)

    def tool_candidates(self) -> list[Call]:
        """Memory queries the task's words suggest: its objects, its verbs (as event actions) and its rooms."""
        text = f" {self.task.lower()} "
        # Small things are what gets put away and looked for; furniture and drawers are found through events.
        kinds = self.memory.label_kinds()
        labels = [label for label in self.memory.mentioned_labels(self.task) if kinds.get(label, "object") == "object"]
        rooms = self.memory.room_names()
        multi = stops_asked(self.task, [*kinds, *rooms])
        if multi is not None:
            listing = [call for call in self._listing(multi, labels) if call.name in self._tools]
            if listing:
                return listing
        calls: list[Call] = []
        for label in labels:
            name = label.replace("_", " ")
            calls += [Call("where_is", {"object": name}), Call("last_seen", {"object": name})]
        which = "first" if re.search(r"\bfirst\b", text) else "last"
        for action, verbs in _VERB_ACTIONS.items():
            if any(re.search(rf"\b{re.escape(verb)}\b", text) for verb in verbs):
                # When the task names the object, asking about any object's events only adds noise.
                calls += [
                    Call("recall_events", {"order": which, "action": action, "object": label.replace("_", " ")})
                    for label in labels
                ] or [Call("recall_events", {"order": which, "action": action})]
        for room in rooms:
            if f" {room.lower()} " in text:
                calls.append(Call("describe_room", {"room": room}))
        if not labels:
            calls.append(Call("what_changed", {}))
        # The day's order, durations, rooms and distances: offered on every task, for the model to rank (no wording keyed).
        calls += [
            Call("interaction_order", {}),
            Call("durations", {"what": "object", "order": "longest"}),
            Call("durations", {"what": "object", "order": "shortest"}),
            Call("durations", {"what": "room", "order": "longest"}),
            Call("rooms_visited", {}),
            Call("farthest", {"of": "moved"}),
            *(Call("farthest", {"of": label.replace("_", " ")}) for label in labels),
            *(Call("at_time", {"time": f"{int(h):02d}:{m}"}) for h, m in _CLOCK_TIME.findall(self.task)),
        ]
        return [call for call in calls if call.name in self._tools]

    def _listing(self, multi: MultiStop, labels: list[str]) -> list[Call]:
        """The query that lists every target of a visit to several things (a query of "the last" names one only):
        the rooms entered; the day's moves, for things the robot moved or used (objects, furniture); else every
        record of the labels the task names. A task that lists its destinations itself needs no list."""
        if multi.listed:
            return []
        if multi.kind == "room":
            return [Call("rooms_visited", {})]
        if multi.kind == "furniture" or _MOVES.search(self.task.lower()):
            return [Call("interaction_order", {})]
        return [Call("find_objects", {"category": label.replace("_", " ")}) for label in labels] or [
            Call("interaction_order", {})
        ]

    def _run_tool(self, call: Call, decision: Decision) -> None:
        start = time.perf_counter()
        result = self.memory.call_tool(call.name, call.arguments)
        text = result.text()
        decision.memory_calls.append(MemoryCall(call.name, call.arguments, result.ok, text, (time.perf_counter() - start) * 1000))
        self._tool_keys.add(call.key())
        self.memory_texts.append(f"{call.render()} -> {text}")
        self.history.append(f"{call.render()} -> {'; '.join(line.lstrip('- ') for line in text.splitlines()[:3])}")

    def _rank(self, state: PlannerState, candidates: list[Call], decision: Decision, what: str) -> list[tuple[Call, float]]:
        if len(candidates) == 1:
            # A lone candidate is chosen whatever it scores: no inference (often the episode's first memory query,
            # whose prompt the next ranking then runs in the same pass).
            return [(candidates[0], 0.0)]
        prompt = self.messages(state, prefill=True)
        # Each candidate continues the plan's numbered line, as the examples' lines do ("7. done()").
        rendered = [" " + c.render() for c in candidates]
        try:
            scores = self.backend.score(prompt, rendered)
            decision.inference_s += scores.latency_s
            decision.prompt_tokens += scores.prompt_tokens
            # Per token: a sum would favour short candidates, whatever they say.
            values = [v / max(1, n) for v, n in zip(scores.logprobs, scores.tokens)]
            if self.config.score == "pmi":
                prior = self.backend.score(self._neutral(), rendered)
                decision.inference_s += prior.latency_s
                decision.prompt_tokens += prior.prompt_tokens
                values = [v - p / max(1, n) for v, p, n in zip(values, prior.logprobs, scores.tokens)]
        except LLMError as error:
            # Without scores the candidates keep their proposed order (the agent lists the likeliest first).
            log.warning("scoring failed (%s); keeping the proposed order", error)
            decision.choice += f"scoring failed ({error}); took the first {what} candidate\n"
            values = [-float(i) for i in range(len(candidates))]
        order = sorted(range(len(candidates)), key=lambda i: (-values[i], i))
        return [(candidates[i], values[i]) for i in order]

    # ------------------------------------------------------------------ generate mode
    def _generate(self, state: PlannerState, propose: Proposer, decision: Decision) -> None:
        self._recall_for_step(state, decision)
        messages = self.messages(state, describe=not self.backend.supports_tool_calls)
        tools = list(self.functions.values()) if self.backend.supports_tool_calls else None
        tool_calls = 0
        while True:
            try:
                completion = self.backend.chat(messages, tools=tools, max_tokens=self.config.max_reply_tokens)
            except LLMError as error:
                decision.choice += f"model error: {error}\n"
                return self._fallback(state, propose, decision)
            self._count(completion, decision)
            reply = completion.text.strip() or json.dumps([c.name for c in completion.tool_calls])
            try:
                call = parse_and_validate(completion.text, completion.tool_calls, self.functions)
            except ReplyError as error:
                decision.repairs += 1
                decision.choice += f"invalid reply {reply[:200]!r}: {error}\n"
                if decision.repairs > self.config.max_repairs:
                    return self._fallback(state, propose, decision)
                messages += [
                    {"role": "assistant", "content": completion.text},
                    {
                        "role": "user",
                        "content": f"That reply was not a valid call: {error}. Answer with exactly "
                        'one call like name(arg="value").',
                    },
                ]
                continue
            if call.name in self._tools:
                if tool_calls >= self.config.max_tool_calls or call.key() in self._tool_keys:
                    messages += [
                        {"role": "assistant", "content": call.render()},
                        {"role": "user", "content": "No more memory queries this step: choose a skill call."},
                    ]
                    tool_calls = self.config.max_tool_calls
                    decision.repairs += 1
                    if decision.repairs > self.config.max_repairs:
                        return self._fallback(state, propose, decision)
                    continue
                self._run_tool(call, decision)
                tool_calls += 1
                messages += [
                    {"role": "assistant", "content": call.render()},
                    {"role": "user", "content": f"Result: {self.memory_texts[-1]}\nNow the next call."},
                ]
                continue
            if call.key() in state.banned:
                decision.repairs += 1
                decision.choice += f"{call.render()} is banned by the loop guard\n"
                if decision.repairs > self.config.max_repairs:
                    return self._fallback(state, propose, decision)
                messages += [
                    {"role": "assistant", "content": call.render()},
                    {"role": "user", "content": f"{call.render()} was just tried in this state: choose another call."},
                ]
                continue
            decision.call = call
            decision.choice += f"model: {reply[:300]}"
            return None

    def _fallback(self, state: PlannerState, propose: Proposer, decision: Decision) -> None:
        decision.choice += "falling back to score mode\n"
        try:
            self._score(state, propose, decision)
        except LLMError as error:
            decision.call = None
            decision.choice += f"score mode failed too: {error}"

    def _count(self, completion: Completion, decision: Decision) -> None:
        decision.inference_s += completion.latency_s
        decision.prompt_tokens += completion.prompt_tokens
        decision.completion_tokens += completion.completion_tokens

    # ------------------------------------------------------------------ prompts
    def messages(self, state: PlannerState, describe: bool = False, prefill: bool = False) -> list[Message]:
        """The prompt: worked examples, then the task as a numbered plan whose next line the model writes (as SayCan).

        With `prefill` the plan so far is the start of the assistant's reply, which candidates continue.
        What changes least comes first, so that a local model reuses the longest prefix of the last prompt (its
        prefix cache): the system text and the examples never change, the memory context and the task change
        per episode, the robot's state and the notes per step, the plan with every call. (Task before memory
        changed 3 of 41 of the demo's and perf's choices, one for the worse; memory before task 2, for the better.)
        """
        system = (
            "You are the planner of a home robot with a memory of everything it saw and did today. "
            "Each line of a plan is one call: a memory query or a skill. Use memory to find things; do not guess."
        )
        if describe:
            lines = [
                f"- {f['function']['name']}({', '.join(f['function']['parameters'].get('properties', {}))}): "
                f"{f['function']['description']}"
                for f in self.functions.values()
            ]
            system += (
                "\nCalls you can make:\n"
                + "\n".join(lines)
                + '\nAnswer with exactly one call, like navigate_to(target="mug #12").'
            )
        steps = self.history[-self.config.history_steps :]
        first = len(self.history) - len(steps) + 1
        plan = "".join(f"{first + i}. {line}\n" for i, line in enumerate(steps))
        sections = [f"{EXAMPLES}\n\nNow the real task."]
        if self._context:
            sections.append(f"Memory:\n{self._context}")
        sections.append(f"Task: {self.task}")
        if state.step:
            sections.append(f"Step now: {state.step}.")
        sections.append(f"Robot: {state.time_of_day}, in the {state.room or 'house'}, holding {state.holding or 'nothing'}.")
        sections += [f"{label}: {text}" for label, text in (("Critic", state.critic), ("Loop guard", state.guard)) if text]
        user = "\n".join(sections)
        plan += f"{len(self.history) + 1}."
        if prefill:
            return [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
                {"role": "assistant", "content": plan},
            ]
        return [{"role": "system", "content": system}, {"role": "user", "content": f"{user}\n{plan}"}]

    def _neutral(self) -> list[Message]:
        return [
            {"role": "system", "content": "You are the planner of a home robot."},
            {"role": "user", "content": "Task: something"},
            {"role": "assistant", "content": "1."},
        ]


# Worked examples of the plan format, with other objects, ids and rooms than any real task: they teach the
# grammar of skill sequences (query memory, go there, act, finish), as SayCan's prompt does.
EXAMPLES = """Example plans:
Task: Bring the cup you put away first today to the table in the dining room.
1. recall_events(order="first", action="place") -> robot place(object=cup #31, receptacle=drawer #40, relation=in) in the study at 95s
2. navigate_to(target="cup #31") -> ok: at cup #31 in the study
3. open(target="drawer #40") -> ok: opened drawer #40
4. pick(object="cup #31") -> ok: picked cup #31
5. navigate_to(target="table #7") -> ok: at table #7 in the dining room
6. place(receptacle="table #7", relation="on") -> ok: put #31 on table #7
7. done()

Task: Close the cabinet door you opened last.
1. recall_events(order="last", action="open") -> robot open(object=door #52) in the hallway at 300s
2. navigate_to(target="door #52") -> ok: at door #52 in the hallway
3. close(target="door #52") -> ok: closed door #52
4. done()

Task: Where did you leave the keys?
1. where_is(object="keys") -> keys #8 in the hallway at (2.0, 1.5)
2. answer(text="The keys #8 are on the shelf #3 in the hallway.")

Task: Go to the room where you found the towel.
1. recall_events(order="last", action="pick") -> robot pick(object=towel #17) in the laundry at 50s
2. navigate_to(target="laundry") -> ok: at laundry in the laundry
3. done()"""
