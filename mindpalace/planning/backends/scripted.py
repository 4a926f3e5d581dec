"""A test double for LLM backends: it replays scripted replies and choices instead of running a model."""

from __future__ import annotations

import copy
import json
from typing import Any

from mindpalace.planning.backends.base import CandidateScores, Completion, LLMBackend, LLMError, Message, ToolCall

Reply = str | dict[str, Any]
REPLY_KEYS = {"text", "tool_calls", "error"}


class ScriptedBackend(LLMBackend):
    """TEST DOUBLE: replays `replies` to `chat` and `choices` to `score`, one per call, in order.

    A reply is a str (the text) or a dict with optional "text", "tool_calls" (a list of {"name", "arguments":
    dict or JSON str, optional "id"}) and "error" (chat then raises LLMError with that message, like a failing
    endpoint). A choice picks the candidate equal to it, or else the first candidate that contains it: that one
    scores 0.0 and every other candidate i scores -10 * (1 + i); a choice that matches nothing leaves every
    candidate at -10 * (1 + i), so the first wins. Without any choices the shortest candidate wins.
    When a script runs out, its last entry repeats if `repeat_last`, else the call raises LLMError.

    Every call is recorded: `calls` holds (messages, tools) per chat, `score_calls` (messages, candidates) per score.
    """

    name = "scripted"

    def __init__(self, replies: list[Reply] | None = None, choices: list[str] | None = None, repeat_last: bool = True) -> None:
        self.replies = list(replies or [])
        self.choices = list(choices or [])
        self.repeat_last = repeat_last
        for reply in self.replies:
            _check_reply(reply)
        self.calls: list[tuple[list[Message], list[dict[str, Any]] | None]] = []
        self.score_calls: list[tuple[list[Message], list[str]]] = []

    @property
    def supports_tool_calls(self) -> bool:
        return True

    def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None, max_tokens: int = 256) -> Completion:
        # Copies, so that a caller that keeps appending to its conversation does not rewrite the record.
        self.calls.append((copy.deepcopy(messages), copy.deepcopy(tools)))
        reply = self._next(self.replies, len(self.calls) - 1, "replies")
        if isinstance(reply, str):
            reply = {"text": reply}
        if "error" in reply:
            raise LLMError(reply["error"])
        text = reply.get("text", "")
        tool_calls = [
            ToolCall(
                name=call["name"],
                arguments=call["arguments"] if isinstance(call["arguments"], str) else json.dumps(call["arguments"]),
                id=call.get("id", f"call_{len(self.calls) - 1}_{index}"),
            )
            for index, call in enumerate(reply.get("tool_calls", []))
        ]
        prompt_tokens = self.count_tokens(" ".join(str(message.get("content") or "") for message in messages))
        completion_tokens = self.count_tokens(text + "".join(call.arguments for call in tool_calls))
        return Completion(text, tool_calls, prompt_tokens, completion_tokens, 0.0)

    def score(self, messages: list[Message], candidates: list[str]) -> CandidateScores:
        self.score_calls.append((copy.deepcopy(messages), list(candidates)))
        tokens = [self.count_tokens(candidate) for candidate in candidates]
        if not self.choices:
            return CandidateScores([-float(len(candidate)) for candidate in candidates], tokens)
        choice = self._next(self.choices, len(self.score_calls) - 1, "choices")
        chosen = next((i for i, candidate in enumerate(candidates) if candidate.strip() == choice.strip()), None)
        if chosen is None:
            chosen = next((i for i, candidate in enumerate(candidates) if choice in candidate), None)
        logprobs = [0.0 if i == chosen else -10.0 * (1 + i) for i in range(len(candidates))]
        return CandidateScores(logprobs, tokens)

    def _next(self, script: list[Any], index: int, what: str) -> Any:
        if index < len(script):
            return script[index]
        if self.repeat_last and script:
            return script[-1]
        raise LLMError(f"script exhausted: call {index + 1} but only {len(script)} {what}")


def _check_reply(reply: Reply) -> None:
    """Catch a malformed script when it is written, not when a test happens to reach that reply."""
    if isinstance(reply, str):
        return
    if not isinstance(reply, dict) or not set(reply) <= REPLY_KEYS:
        raise ValueError(f"a scripted reply is a str or a dict with keys from {sorted(REPLY_KEYS)}; got {reply!r}")
    for call in reply.get("tool_calls", []):
        if not isinstance(call, dict) or "name" not in call or not isinstance(call.get("arguments"), (str, dict)):
            raise ValueError(f"a scripted tool call is {{'name': str, 'arguments': dict or str}}; got {call!r}")
