"""What every LLM backend offers the planner: chat completion (with optional tool calling) and scoring.

Messages are OpenAI-style dicts: {"role": "system"|"user"|"assistant"|"tool", "content": str}, where an
assistant message may carry "tool_calls" and a tool message a "tool_call_id". Tools are OpenAI-style
function descriptions ({"type": "function", "function": {"name", "description", "parameters"}}).
A trailing assistant message without tool calls is a prefix (prefill) that the reply or candidates continue.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


class LLMError(RuntimeError):
    """The backend could not answer: an endpoint that timed out or returned an error, a model that failed to load."""


class ScoringUnsupported(LLMError):
    """The backend cannot score candidates (an endpoint without prompt log-probabilities): generate instead."""


@dataclass(frozen=True)
class ToolCall:
    """One tool call as the model wrote it. `arguments` is the raw JSON text: it is parsed and validated later."""

    name: str
    arguments: str
    id: str = ""


@dataclass
class Completion:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0


@dataclass
class CandidateScores:
    """Log-likelihoods of candidate continuations given one prompt (SayCan-style scoring).

    logprobs[i] is the sum of the token log-probabilities of candidate i; tokens[i] its token count.
    """

    logprobs: list[float]
    tokens: list[int]
    prompt_tokens: int = 0
    latency_s: float = 0.0


class LLMBackend(ABC):
    """A chat model. Backends are made by name from `mindpalace.planning.backends.LLM_BACKENDS`."""

    name: str = "base"

    @abstractmethod
    def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None, max_tokens: int = 256) -> Completion:
        """Greedy completion of the conversation. Raises LLMError when the model or endpoint fails."""

    @abstractmethod
    def score(self, messages: list[Message], candidates: list[str]) -> CandidateScores:
        """Log-likelihood of each candidate as the assistant's reply to `messages`.

        Raises ScoringUnsupported when the backend cannot score at all, LLMError when this call failed."""

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` (backends with a tokenizer override this estimate)."""
        return max(1, len(text) // 4)

    @property
    def supports_tool_calls(self) -> bool:
        """Whether `chat` passes `tools` to the model natively (otherwise the planner describes them in the prompt)."""
        return False
