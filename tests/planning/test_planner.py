"""The planner on a real memory bank with the scripted backend (a test double) and a failing one."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import yaml

from mindpalace.core.types import Event
from mindpalace.memory.local_reader import LocalReader
from mindpalace.memory.system import MemorySystem
from mindpalace.planning.backends import LLM_BACKENDS, CandidateScores, Completion, LLMBackend, LLMError
from mindpalace.planning.critic import Clause, Critic, MultiStop, clauses, current_step, stop_due, stops_asked
from mindpalace.planning.parsing import Call
from mindpalace.planning.planner import EXAMPLES, Planner, PlannerConfig, PlannerState

SKILLS = {
    "navigate_to": {
        "type": "function",
        "function": {
            "name": "navigate_to",
            "description": "go",
            "parameters": {
                "type": "object",
                "properties": {"target": {"type": "string"}},
                "required": ["target"],
                "additionalProperties": False,
            },
        },
    },
    "done": {
        "type": "function",
        "function": {
            "name": "done",
            "description": "finish",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
        },
    },
}
STATE = PlannerState(time_of_day="09:00", room="kitchen", holding=None)
CANDIDATES = [Call("navigate_to", {"target": "mug #1"}), Call("navigate_to", {"target": "kitchen"}), Call("done", {})]


@pytest.fixture(scope="module")
def memory(tmp_path_factory):
    memory = MemorySystem.open(tmp_path_factory.mktemp("planner") / "bank.db")
    memory.remember_object(1, "mug", (1.0, 2.0, 0.8), 10.0, room="kitchen")
    memory.record_event(Event("robot", "open", 20.0, 21.0, {"object": "drawer #4"}, (4,), "bedroom"), 0.5, 0.5)
    memory.record_event(
        Event(
            "robot", "place", 30.0, 31.0, {"object": "mug #1", "receptacle": "counter #2", "relation": "on"}, (1, 2), "kitchen"
        ),
        1.0,
        2.0,
    )
    memory.flush()
    yield memory
    memory.close()


def planner(memory, backend, **config) -> Planner:
    return Planner(backend, LocalReader(memory), SKILLS, PlannerConfig(**config))


def test_memory_queries_come_from_the_task_words(memory) -> None:
    p = planner(memory, LLM_BACKENDS.make("scripted"))
    p.start("Open the drawer you opened first today")
    assert Call("recall_events", {"order": "first", "action": "open"}).key() in {c.key() for c in p.tool_candidates()}
    p.start("Bring me the mug you put away")
    keys = {c.key() for c in p.tool_candidates()}
    assert Call("where_is", {"object": "mug"}).key() in keys
    # The task names the object: its own events, not any object's.
    assert Call("recall_events", {"order": "last", "action": "place", "object": "mug"}).key() in keys
    assert Call("recall_events", {"order": "last", "action": "place"}).key() not in keys


def test_score_mode_runs_the_chosen_queries_then_the_chosen_skill(memory) -> None:
    backend = LLM_BACKENDS.make("scripted", choices=["where_is", 'navigate_to(target="mug #1")'])
    p = planner(memory, backend, max_tool_calls=1)
    p.start("Bring me the mug")
    seen = []
    decision = p.decide(STATE, lambda texts: seen.extend(texts) or CANDIDATES)
    assert [c.tool for c in decision.memory_calls] == ["where_is"]
    assert "mug #1" in decision.memory_calls[0].result
    assert decision.call == Call("navigate_to", {"target": "mug #1"})
    assert any("where_is" in t for t in seen), "the proposer sees the memory results"
    assert "candidates" in decision.choice and decision.overhead_s > 0  # the memory query and the prompt took time
    # The next decision does not query memory again after a success.
    assert p.decide(STATE, lambda texts: CANDIDATES).memory_calls == []


def test_a_task_about_what_the_robot_did_recalls_that_event_first(memory) -> None:
    # The model would rather ask where the mug is now; the task asks where the robot picked it up.
    backend = LLM_BACKENDS.make("scripted", choices=["where_is", 'navigate_to(target="mug #1")'])
    p = planner(memory, backend, max_tool_calls=1)
    p.start("Go to the room where you picked up the mug")
    decision = p.decide(STATE, lambda texts: CANDIDATES)
    assert [c.tool for c in decision.memory_calls] == ["recall_events"]
    assert decision.memory_calls[0].arguments == {"order": "last", "action": "pick", "object": "mug"}
    assert not any("where_is" in c for c in backend.score_calls[0][1])


def test_a_lone_candidate_is_chosen_without_asking_the_model(memory) -> None:
    backend = LLM_BACKENDS.make("scripted")
    p = planner(memory, backend, max_tool_calls=1)
    p.start("Open the drawer you opened first today")  # one query: the first "open" event
    decision = p.decide(STATE, lambda texts: CANDIDATES[:1])
    assert [c.arguments for c in decision.memory_calls] == [{"order": "first", "action": "open"}]
    assert decision.call == CANDIDATES[0]
    assert backend.score_calls == [] and decision.inference_s == 0.0
    p.decide(STATE, lambda texts: CANDIDATES)
    assert len(backend.score_calls) == 1, "two candidates are ranked"


def test_pmi_scores_each_ranking_twice(memory) -> None:
    backend = LLM_BACKENDS.make("scripted")
    p = planner(memory, backend, max_tool_calls=0, score="pmi")
    p.start("Go to the kitchen")
    p.decide(STATE, lambda texts: CANDIDATES)
    assert len(backend.score_calls) == 2
    assert backend.score_calls[1][0][-2]["content"] != backend.score_calls[0][0][-2]["content"]


def test_banned_calls_are_never_chosen_and_no_candidates_give_no_call(memory) -> None:
    backend = LLM_BACKENDS.make("scripted", choices=['navigate_to(target="mug #1")'])
    p = planner(memory, backend, max_tool_calls=0)
    p.start("Go to the mug")
    banned = PlannerState("09:00", "kitchen", None, banned=frozenset({CANDIDATES[0].key()}))
    assert p.decide(banned, lambda texts: CANDIDATES).call != CANDIDATES[0]
    empty = p.decide(STATE, lambda texts: [])
    assert empty.call is None and "no valid skill call" in empty.choice


def test_the_loop_guard_can_force_exploration(memory) -> None:
    p = planner(memory, LLM_BACKENDS.make("scripted"))
    p.start("Find the keys")
    forced = p.decide(PlannerState("09:00", None, None, guard="stalled", force="explore"), lambda texts: CANDIDATES)
    assert forced.call == Call("explore", {}) and "loop guard" in forced.choice


def test_generate_mode_bounds_memory_calls_per_step(memory) -> None:
    replies = [
        'where_is(object="mug")',
        'last_seen(object="mug")',
        {"tool_calls": [{"name": "navigate_to", "arguments": {"target": "mug #1"}}]},
    ]
    backend = LLM_BACKENDS.make("scripted", replies=replies)
    p = planner(memory, backend, mode="generate", max_tool_calls=1)
    p.start("Bring me the mug")
    decision = p.decide(STATE, lambda texts: CANDIDATES)
    assert [c.tool for c in decision.memory_calls] == ["where_is"]
    assert decision.call == Call("navigate_to", {"target": "mug #1"})
    assert decision.repairs == 1  # the second query was refused and asked again
    assert backend.calls[0][1] is not None, "native tool calling: the schemas are passed"
    assert any("No more memory queries" in str(m.get("content")) for m in backend.calls[-1][0])


class FailingBackend(LLMBackend):
    """A backend whose endpoint always fails: chat and score raise."""

    def chat(self, messages, tools=None, max_tokens=256) -> Completion:
        raise LLMError("timed out after 60 s")

    def score(self, messages, candidates) -> CandidateScores:
        raise LLMError("timed out after 60 s")


def test_a_failing_endpoint_ends_in_the_proposed_order_not_a_crash(memory) -> None:
    p = planner(memory, FailingBackend(), mode="generate", max_tool_calls=0)
    p.start("Go to the mug")
    decision = p.decide(STATE, lambda texts: CANDIDATES)
    assert "model error: timed out" in decision.choice and "scoring failed" in decision.choice
    assert decision.call == CANDIDATES[0]


def test_the_prompt_has_examples_task_memory_history_and_critic(memory) -> None:
    backend = LLM_BACKENDS.make("scripted")
    p = planner(memory, backend, max_tool_calls=0)
    p.start("Bring me the mug")
    p.note('navigate_to(target="mug #1") -> ok: at mug #1')
    p.decide(PlannerState("09:00", "kitchen", "nothing", critic="the last step worked"), lambda texts: CANDIDATES)
    messages, candidates = backend.score_calls[0]
    prompt, plan = messages[-2]["content"], messages[-1]
    assert EXAMPLES in prompt and "Task: Bring me the mug" in prompt and "mug #1" in prompt
    assert "Critic: the last step worked" in prompt
    # The plan so far is the start of the reply (prefill); each candidate continues its numbered line.
    assert plan["role"] == "assistant" and plan["content"] == '1. navigate_to(target="mug #1") -> ok: at mug #1\n2.'
    assert candidates == [" " + c.render() for c in CANDIDATES]


def test_the_prompt_puts_what_changes_least_first_and_says_the_same(memory) -> None:
    backend = LLM_BACKENDS.make("scripted")
    p = planner(memory, backend, max_tool_calls=0)
    p.start("Bring me the mug")
    p.decide(STATE, lambda texts: CANDIDATES)
    p.note('navigate_to(target="mug #1") -> ok: at mug #1')
    later = PlannerState("09:05", "bedroom", "mug #1", critic="the last step worked", guard="do not repeat")
    p.decide(later, lambda texts: CANDIDATES)
    (first, _), (second, _) = backend.score_calls
    system, user = first[0]["content"], second[1]["content"]
    # Every line of the prompt, and nothing else: the order changed, not what it says.
    assert p._context
    assert sorted(user.splitlines()) == sorted(
        [
            *EXAMPLES.splitlines(),
            "",
            "Now the real task.",
            "Task: Bring me the mug",
            "Memory:",
            *p._context.splitlines(),
            "Robot: 09:05, in the bedroom, holding mug #1.",
            "Critic: the last step worked",
            "Loop guard: do not repeat",
        ]
    )
    # Unchanging first: examples, then the episode's memory and task, then the step's state and notes.
    assert user.startswith(EXAMPLES)
    order = [user.index(text, len(EXAMPLES)) for text in ("Memory:", "Task:", "Robot:", "Critic:", "Loop guard:")]
    assert order == sorted(order)
    # Two steps of one episode share everything up to the robot's state: what a prefix cache reuses.
    shared = user[: user.index("Robot:")]
    assert second[0]["content"] == system and first[1]["content"].startswith(shared)
    assert first[1]["content"] != user and first[2]["content"] == "1." and second[2]["content"].startswith("1. navigate_to")


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        PlannerConfig(mode="beam")
    with pytest.raises(ValueError):
        PlannerConfig(max_tool_calls=-1)
    with pytest.raises(ValueError):
        PlannerConfig(score="max")


def test_critic_skips_the_first_step_and_notices_no_progress() -> None:
    critic = Critic()
    assert critic.review(0, "look_around()", True, "", "looked", "a") == ""
    assert "failed (out_of_reach)" in critic.review(1, 'pick(object="mug #1")', False, "out_of_reach", "too far", "a")
    assert "progressing" in critic.review(2, "navigate_to()", True, "", "there", "b")
    for step in range(3, 7):
        verdict = critic.review(step, "look_around()", True, "", "looked", "b")
    assert "has not progressed in 4 steps" in verdict


def test_a_multi_step_instruction_is_done_one_step_at_a_time_in_order() -> None:
    task = "Move the block to the centre zone, press the button, then put the block back on the patch it came from."
    assert clauses(task) == [
        Clause("place", "move the block to the centre zone"),
        Clause("press", "press the button"),
        Clause("place", "put the block back on the patch it came from"),
    ]
    assert current_step(task, []) == clauses(task)[0]
    # A pick is no step of its own; a press before the first place does not count for the second step.
    assert current_step(task, ["pick", "press", "place"]) == clauses(task)[1]
    assert current_step(task, ["pick", "place", "press", "pick"]) == clauses(task)[2]
    assert current_step(task, ["pick", "place", "press", "pick", "place"]) is None
    # One step: its order is the model's to find (nothing is imposed).
    assert current_step("Bring the cup to the table.", []) is None


def test_critic_offers_done_only_after_every_clause_of_a_multi_step_instruction() -> None:
    task = "Close the open drawer, press the button, then open that same drawer again."
    assert Critic.required_skills(task) == ["close", "press", "open"]
    assert not Critic.may_finish(task, "close", True, ["close"])
    assert not Critic.may_finish(task, "open", True, ["open"])
    assert not Critic.may_finish(task, "open", True, ["press", "close", "open"])
    assert Critic.may_finish(task, "open", True, ["close", "press", "open"])
    # A verb inside a clause describes the object; only the clause's leading verb asks for a skill.
    assert Critic.required_skills("Bring the cup you put away first today to the table.") == ["place"]
    assert Critic.may_finish("Bring the cup you put away first today to the table.", "place", True, ["pick", "place"])
    assert Critic.may_finish("Go to the kitchen.", "navigate_to", True, ["navigate_to"])


_SLOTS = {"category": "mug", "furniture_type": "table", "object": "mug", "object_b": "cup", "furniture": "table",
          "color": "red", "material": "metal", "function": "used for drinking", "shape": "round", "ordinal": "second",
          "n": 2, "time": "10:15"}  # fmt: skip


@pytest.mark.parametrize("name", ["templates.yaml", "templates_paraphrased.yaml"])
def test_the_instructions_grammar_says_how_many_stops_and_in_what_order(name: str) -> None:
    """Every FindingDory template, in both wordings: several stops exactly where the template is multi-goal, in an
    order exactly where it is ordered. (The benchmark's files are the test's data; the rule never reads them.)"""
    path = Path(__file__).parents[2] / "mindpalace" / "benchmarks" / "findingdory" / name
    names = ["mug", "cup", "table", "kitchen", "living room"]
    for template in yaml.safe_load(path.read_text())["templates"]:
        text = template["text"].format(**_SLOTS)
        asked = stops_asked(text, names)
        expected = {"single": None, "multi_unordered": "any", "multi_ordered": ("given", "reverse")}[template["goal"]]
        if expected is None:
            assert asked is None, text
        else:
            assert asked is not None and asked.order in expected, (text, asked)
    # Instructions of the users' own: a list of destinations, "then", a plural; and names that only look plural.
    assert stops_asked("Go to the mug and the cup.", names) == MultiStop("any", "", "", listed=True)
    assert stops_asked("Go to the kitchen, then to the living room.", names) == MultiStop("given", "", "", listed=True)
    assert stops_asked("Visit the rooms you entered today.", names) == MultiStop("any", "room", "")
    assert stops_asked("Visit the furniture you picked things up from, in order.", names) == MultiStop(
        "given", "furniture", "source"
    )
    assert stops_asked("Go to the keys.", ["keys"]) is None
    assert stops_asked("Go to the object you moved between the mug and the cup.", names) is None
    assert stops_asked("Put every cup in the sink.", names) is None  # a manipulation, not a visit


def test_a_stop_is_due_on_arriving_at_a_target_not_stopped_at_checkpoint_until_the_last() -> None:
    targets = ["mug #1", "cup #2", "plate #3"]
    assert stop_due(targets, [], "cup #2", "any") == "checkpoint"
    assert stop_due(targets, ["mug #1", "cup #2"], "plate #3", "any") == "done"
    assert stop_due(targets, ["cup #2"], "cup #2", "any") is None  # stopped there already
    assert stop_due(targets, [], "table #4", "any") is None  # no target
    assert stop_due(targets, [], "cup #2", "given") is None  # out of order
    assert stop_due(targets, ["mug #1"], "cup #2", "given") == "checkpoint"
