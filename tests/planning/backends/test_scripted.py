"""ScriptedBackend: replay order, tool calls, scripted errors, exhaustion, and scripted choices."""

from __future__ import annotations

import pytest

from mindpalace.planning.backends import LLMError, ToolCall
from mindpalace.planning.backends.scripted import ScriptedBackend

USER = [{"role": "user", "content": "Fetch the mug."}]


def test_replies_replay_in_order_and_calls_are_recorded():
    backend = ScriptedBackend(["first", {"text": "second"}])
    tools = [{"type": "function", "function": {"name": "go_to"}}]
    conversation = list(USER)
    assert backend.chat(conversation).text == "first"
    conversation.append({"role": "assistant", "content": "first"})
    assert backend.chat(conversation, tools=tools).text == "second"
    assert backend.calls == [(USER, None), (conversation, tools)]
    # The record is a copy: later changes to the conversation do not rewrite it.
    conversation.append({"role": "user", "content": "again"})
    assert len(backend.calls[1][0]) == 2


def test_tool_calls_keep_raw_json_arguments():
    backend = ScriptedBackend(
        [
            {
                "text": "going",
                "tool_calls": [
                    {"name": "go_to", "arguments": {"room": "kitchen"}},
                    {"name": "pick", "arguments": '{"object": "mug"}', "id": "x"},
                ],
            },
        ]
    )
    completion = backend.chat(USER)
    assert completion.text == "going"
    assert completion.tool_calls == [
        ToolCall("go_to", '{"room": "kitchen"}', "call_0_0"),
        ToolCall("pick", '{"object": "mug"}', "x"),
    ]
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0


def test_error_entries_raise_llm_error_once():
    backend = ScriptedBackend([{"error": "endpoint timed out"}, "recovered"])
    with pytest.raises(LLMError, match="endpoint timed out"):
        backend.chat(USER)
    assert backend.chat(USER).text == "recovered"
    assert len(backend.calls) == 2


def test_exhausted_script_repeats_the_last_reply_or_raises():
    repeating = ScriptedBackend(["a", "b"])
    assert [repeating.chat(USER).text for _ in range(4)] == ["a", "b", "b", "b"]
    strict = ScriptedBackend(["a"], repeat_last=False)
    assert strict.chat(USER).text == "a"
    with pytest.raises(LLMError, match="script exhausted"):
        strict.chat(USER)
    with pytest.raises(LLMError, match="script exhausted"):
        ScriptedBackend().chat(USER)


@pytest.mark.parametrize(
    "reply", [{"txt": "typo"}, {"tool_calls": [{"arguments": {}}]}, {"tool_calls": [{"name": "x", "arguments": 3}]}, 7]
)
def test_malformed_scripts_fail_when_written(reply):
    with pytest.raises(ValueError, match="scripted"):
        ScriptedBackend([reply])


def test_score_follows_the_choices():
    backend = ScriptedBackend(choices=["pick(mug)", "kitchen"])
    candidates = ["go_to(kitchen)", "pick(mug)", "go_to(hall)"]
    assert backend.score(USER, candidates).logprobs == [-10.0, 0.0, -30.0]
    # Failing an exact match, the first candidate containing the choice wins.
    assert backend.score(USER, candidates).logprobs == [0.0, -20.0, -30.0]
    # Choices ran out: the last one repeats.
    assert backend.score(USER, candidates).logprobs == [0.0, -20.0, -30.0]
    assert backend.score_calls[0] == (USER, candidates)
    scores = backend.score(USER, ["", "a" * 40])
    assert scores.tokens == [1, 10]
    # A choice that matches nothing leaves the first candidate best.
    assert ScriptedBackend(choices=["open(door)"]).score(USER, candidates).logprobs == [-10.0, -20.0, -30.0]


def test_score_choices_exhaust_without_repeat():
    backend = ScriptedBackend(choices=["a"], repeat_last=False)
    backend.score(USER, ["a", "b"])
    with pytest.raises(LLMError, match="script exhausted"):
        backend.score(USER, ["a", "b"])


def test_score_without_choices_prefers_the_shortest():
    scores = ScriptedBackend().score(USER, ["go_to(kitchen)", "wait()", "pick(mug)"])
    assert scores.logprobs == [-14.0, -6.0, -9.0]
    assert max(range(3), key=scores.logprobs.__getitem__) == 1
