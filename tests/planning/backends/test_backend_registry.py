"""The LLM backend registry: the three backends by name, made with their configuration."""

from __future__ import annotations

from mindpalace.planning.backends import LLM_BACKENDS, LLMBackend
from mindpalace.planning.backends.scripted import ScriptedBackend


def test_three_backends_are_registered():
    assert LLM_BACKENDS.names() == ["local", "openai", "scripted"]
    for name in LLM_BACKENDS.names():
        backend_class = LLM_BACKENDS.load(name)
        assert issubclass(backend_class, LLMBackend)
        assert backend_class.name == name


def test_make_scripted_with_replies():
    backend = LLM_BACKENDS.make("scripted", replies=["hello"], choices=["b"])
    assert isinstance(backend, ScriptedBackend)
    assert backend.chat([{"role": "user", "content": "hi"}]).text == "hello"
    assert backend.score([], ["a", "b"]).logprobs == [-10.0, 0.0]


def test_make_openai_keeps_the_key_out_of_repr():
    backend = LLM_BACKENDS.make("openai", base_url="http://localhost:1/v1", model="m", api_key="sk-hidden")
    assert backend.supports_tool_calls
    assert "sk-hidden" not in repr(backend)
