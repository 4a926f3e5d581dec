"""OpenAICompatibleBackend against a real local HTTP server that plays scripted answers."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mindpalace.planning.backends import LLMError, ScoringUnsupported, ToolCall
from mindpalace.planning.backends.openai_compat import PROBE_PROMPT, OpenAICompatibleBackend, flatten

KEY = "sk-test-SECRET-4242"
LOGGER = "mindpalace.planning.backends.openai_compat"
MESSAGES = [{"role": "system", "content": "You are a robot."}, {"role": "user", "content": "Where is the mug?"}]


def echo_logprobs(prompt: str, generated: int = 1) -> dict[str, Any]:
    """Echo the prompt as tokens of one word with its leading whitespace, then `generated` new tokens (" x"), as
    vLLM and llama-cpp-python answer echo with max_tokens; a prompt token's logprob is -(its letters)."""
    tokens = re.findall(r"\s*\S+|\s+", prompt)
    offsets = [match.start() for match in re.finditer(r"\s*\S+|\s+", prompt)]
    token_logprobs: list[float | None] = [None] + [-float(len(token.strip())) for token in tokens[1:]]
    for i in range(generated):
        tokens.append(" x")
        offsets.append(len(prompt) + 2 * i)
        token_logprobs.append(-0.5)
    return {"tokens": tokens, "token_logprobs": token_logprobs, "text_offset": offsets}


def vllm_completions(body: dict[str, Any]) -> tuple[int, Any]:
    """vLLM: echo with logprobs works; max_tokens must be at least 1."""
    if body["max_tokens"] < 1:
        return 400, {"object": "error", "message": f"max_tokens must be at least 1, got {body['max_tokens']}."}
    logprobs = echo_logprobs(body["prompt"], body["max_tokens"])
    return 200, {"choices": [{"text": body["prompt"] + " x" * body["max_tokens"], "logprobs": logprobs}]}


class Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        kind, *args = self.server.actions.pop(0) if self.server.actions else ("default",)
        if kind == "sleep":
            time.sleep(args[0])
            kind, args = "json", [200, text_reply("late")]
        if kind == "default":
            kind = "json"
            args = (
                list(self.server.completions(body))
                if self.path.endswith("/completions") and "prompt" in body
                else [200, text_reply("ok")]
            )
        status, payload = args[:2]
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if kind == "trickle":  # one byte every args[2] seconds
                for byte in raw:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(args[2])
            else:
                self.wfile.write(raw)
        except OSError:
            pass  # the client gave up (a timeout test)

    def log_message(self, *args: Any) -> None:
        pass  # keep test output quiet


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[dict[str, Any]]
    actions: list[tuple[Any, ...]]
    completions: Callable[[dict[str, Any]], tuple[int, Any]]


def text_reply(text: str | None, **message: Any) -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": text, **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 17, "completion_tokens": 3},
    }


@pytest.fixture(scope="module")
def server():
    httpd = FakeServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fake(server):
    server.requests, server.actions, server.completions = [], [], vllm_completions
    return server


@pytest.fixture
def backend(fake) -> OpenAICompatibleBackend:
    host, port = fake.server_address
    return OpenAICompatibleBackend(base_url=f"http://{host}:{port}/v1/", model="tiny", api_key=KEY, timeout_s=0.2, backoff_s=0.01)


def test_text_reply_and_request(backend, fake):
    completion = backend.chat(MESSAGES, max_tokens=32)
    assert completion.text == "ok"
    assert completion.tool_calls == []
    assert (completion.prompt_tokens, completion.completion_tokens) == (17, 3)
    request = fake.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["body"] == {"model": "tiny", "messages": MESSAGES, "max_tokens": 32, "temperature": 0}


def test_tool_calls_with_string_and_object_arguments(backend, fake):
    calls = [
        {"id": "a", "type": "function", "function": {"name": "go_to", "arguments": '{"room": "kitchen"}'}},
        {"id": "b", "type": "function", "function": {"name": "pick", "arguments": {"object": "mug"}}},
    ]
    reply = text_reply(None, tool_calls=calls)
    del reply["usage"]
    fake.actions = [("json", 200, reply)]
    tools = [{"type": "function", "function": {"name": "go_to", "description": "go", "parameters": {"type": "object"}}}]
    completion = backend.chat(MESSAGES, tools=tools)
    assert completion.text == ""
    assert completion.tool_calls == [
        ToolCall("go_to", '{"room": "kitchen"}', "a"),
        ToolCall("pick", '{"object": "mug"}', "b"),
    ]
    # Without usage the counts are estimates.
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
    assert fake.requests[0]["body"]["tools"] == tools
    assert fake.requests[0]["body"]["tool_choice"] == "auto"
    assert backend.supports_tool_calls


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_errors_are_retried(backend, fake, caplog, status):
    fake.actions = [("json", status, {"error": f"busy, key {KEY}"})]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert backend.chat(MESSAGES).text == "ok"
    assert len(fake.requests) == 2
    assert f"HTTP {status}" in caplog.text
    assert KEY not in caplog.text


def test_a_slow_answer_ends_the_call_at_its_deadline(backend, fake, caplog):
    """timeout_s is the whole call's deadline, retries included: no retry starts after it."""
    fake.actions = [("sleep", 2.0)] * 3
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger=LOGGER), pytest.raises(LLMError, match="no complete answer") as error:
        backend.chat(MESSAGES)
    assert time.perf_counter() - started < 1.5
    assert len(fake.requests) == 1
    assert "deadline is 0.2 s" in str(error.value)
    assert KEY not in str(error.value) and KEY not in caplog.text


def test_a_trickling_server_cannot_hold_a_call_past_its_deadline(fake):
    """Each byte comes well within the socket timeout, but the whole answer would take 8 s: the call ends at 1 s."""
    fake.actions = [("trickle", 200, text_reply("slow " * 5), 0.05)]
    host, port = fake.server_address
    backend = OpenAICompatibleBackend(base_url=f"http://{host}:{port}/v1", model="tiny", timeout_s=1.0, backoff_s=0.01)
    started = time.perf_counter()
    with pytest.raises(LLMError, match="no complete answer"):
        backend.chat(MESSAGES)
    assert 0.9 < time.perf_counter() - started < 3.0
    assert len(fake.requests) == 1


def test_retries_share_the_deadline(fake):
    """Three quick 500s with 0.4 s back-off between them: the third attempt does not fit in a 0.5 s deadline."""
    fake.actions = [("json", 500, {"error": "busy"})] * 3
    host, port = fake.server_address
    backend = OpenAICompatibleBackend(base_url=f"http://{host}:{port}/v1", model="tiny", timeout_s=0.5, backoff_s=0.4)
    started = time.perf_counter()
    with pytest.raises(LLMError, match=r"after 2 attempts within its 0\.5 s deadline; last error: HTTP 500"):
        backend.chat(MESSAGES)
    assert time.perf_counter() - started < 1.5
    assert len(fake.requests) == 2


def test_an_http_proxy_from_the_environment_is_used(fake, monkeypatch):
    host, port = fake.server_address
    monkeypatch.setenv("http_proxy", f"http://{host}:{port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    backend = OpenAICompatibleBackend(base_url="http://llm.example:8000/v1", model="tiny", timeout_s=2.0)
    assert backend.chat(MESSAGES).text == "ok"
    assert fake.requests[0]["path"] == "http://llm.example:8000/v1/chat/completions"


def test_connection_refused_is_an_llm_error(fake):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = OpenAICompatibleBackend(base_url=f"http://127.0.0.1:{port}/v1", model="tiny", api_key=KEY, retries=1, backoff_s=0.01)
    with pytest.raises(LLMError, match="after 2 attempts") as error:
        closed.chat(MESSAGES)
    assert KEY not in str(error.value)


def test_client_error_is_not_retried_and_hides_the_key(backend, fake):
    fake.actions = [("json", 400, {"error": {"message": f"bad request from Bearer {KEY}"}})]
    with pytest.raises(LLMError, match="HTTP 400") as error:
        backend.chat(MESSAGES)
    assert len(fake.requests) == 1
    assert "bad request from Bearer ***" in str(error.value)
    assert KEY not in str(error.value)


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"<html>oops</html>", "not JSON: <html>oops</html>"), ({"object": "chat.completion"}, "without choices")],
)
def test_malformed_answers_are_llm_errors(backend, fake, payload, message):
    fake.actions = [("json", 200, payload)]
    with pytest.raises(LLMError, match=message):
        backend.chat(MESSAGES)
    assert len(fake.requests) == 1


def test_missing_model_is_a_clear_error(fake, monkeypatch):
    for name in ("MINDPALACE_LLM_MODEL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    host, port = fake.server_address
    unset = OpenAICompatibleBackend(base_url=f"http://{host}:{port}/v1")
    with pytest.raises(LLMError, match=r"no model configured.*MINDPALACE_LLM_MODEL"):
        unset.chat(MESSAGES)
    assert fake.requests == []


def test_configuration_from_the_environment(fake, monkeypatch):
    host, port = fake.server_address
    monkeypatch.setenv("MINDPALACE_LLM_BASE_URL", f"http://{host}:{port}/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://unused.invalid/v1")
    monkeypatch.delenv("MINDPALACE_LLM_MODEL", raising=False)
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    monkeypatch.delenv("MINDPALACE_LLM_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    from_env = OpenAICompatibleBackend()
    assert from_env.chat(MESSAGES).text == "ok"
    assert fake.requests[0]["body"]["model"] == "env-model"
    assert fake.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(from_env) and "api_key='***'" in repr(from_env)


def test_no_key_sends_no_authorization(fake, monkeypatch):
    for name in ("MINDPALACE_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    host, port = fake.server_address
    keyless = OpenAICompatibleBackend(base_url=f"http://{host}:{port}/v1", model="tiny")
    keyless.chat(MESSAGES)
    assert "Authorization" not in fake.requests[0]["headers"]
    assert "api_key=None" in repr(keyless)


def test_score_sums_the_candidate_logprobs(backend, fake):
    scores = backend.score(MESSAGES, ["Blue sky", "fridge", ""])
    # Each candidate's first word carries the prompt's last newline ("\nBlue"): it still counts for the candidate.
    # The one token the server generates after the prompt (" x", -0.5) is not part of the score.
    assert scores.logprobs == [-7.0, -6.0, 0.0]
    assert scores.tokens == [2, 1, 0]
    assert scores.prompt_tokens > 0
    probe, first = fake.requests[0], fake.requests[1]
    assert probe["path"] == first["path"] == "/v1/completions"
    assert probe["body"]["prompt"] == PROBE_PROMPT
    prefix = flatten(MESSAGES) + "assistant:\n"
    assert first["body"] == {
        "model": "tiny",
        "prompt": prefix + "Blue sky",
        "max_tokens": 1,  # vLLM refuses 0; llama-cpp-python reads 0 as "until the context is full"
        "echo": True,
        "logprobs": 1,
        "temperature": 0,
    }
    assert len(fake.requests) == 3
    backend.score(MESSAGES, ["fridge"])
    assert len(fake.requests) == 4  # probed once per backend


def llama_server_completions(body: dict[str, Any]) -> tuple[int, Any]:
    """llama.cpp's llama-server: echo is refused with HTTP 500."""
    if body.get("echo"):
        return 500, {"error": {"code": 500, "message": "Only no echo is supported", "type": "server_error"}}
    return 200, {"choices": [{"text": " x"}]}


def llama_cpp_python_without_logits_all(body: dict[str, Any]) -> tuple[int, Any]:
    """llama-cpp-python's server started without --logits_all true."""
    return 500, {"error": {"message": "logprobs is not supported for models created with logits_all=False"}}


def ollama_completions(body: dict[str, Any]) -> tuple[int, Any]:
    """Ollama: echo is ignored; the answer has the generated text and no prompt logprobs."""
    return 200, {"choices": [{"text": " x", "index": 0, "finish_reason": "length"}]}


def generated_only_logprobs(body: dict[str, Any]) -> tuple[int, Any]:
    """Logprobs of the generated tokens only, offsets counted from the completion."""
    return 200, {"choices": [{"text": " x", "logprobs": {"tokens": [" x"], "token_logprobs": [-0.5], "text_offset": [0]}}]}


def ignores_max_tokens(body: dict[str, Any]) -> tuple[int, Any]:
    """Echo with logprobs, but generating on regardless of max_tokens (as llama-cpp-python does for 0)."""
    return 200, {"choices": [{"text": body["prompt"], "logprobs": echo_logprobs(body["prompt"], generated=40)}]}


@pytest.mark.parametrize(
    ("completions", "detail"),
    [
        (llama_server_completions, "HTTP 500: .*Only no echo is supported"),
        (llama_cpp_python_without_logits_all, "logits_all=False"),
        (ollama_completions, "no echoed logprobs"),
        (generated_only_logprobs, "does not echo the prompt's tokens"),
        (ignores_max_tokens, "asked for 1 new token, the server generated 40"),
        (lambda body: (404, {"error": "no such route"}), "HTTP 404"),
    ],
)
def test_a_server_that_cannot_score_is_found_by_one_probe(backend, fake, completions, detail):
    """One request finds out, without retries; every later score fails at once, without a request."""
    fake.completions = completions
    with pytest.raises(ScoringUnsupported, match=f"cannot score candidates: .*{detail}"):
        backend.score(MESSAGES, ["Blue", "fridge"])
    assert len(fake.requests) == 1 and fake.requests[0]["body"]["max_tokens"] == 1
    with pytest.raises(ScoringUnsupported):
        backend.score(MESSAGES, ["Blue"])
    assert len(fake.requests) == 1
    assert backend.chat(MESSAGES).text == "ok"  # generating still works


def test_a_busy_server_is_probed_again_within_the_deadline(backend, fake):
    fake.actions = [("json", 503, {"error": "Loading model"})]
    assert backend.score(MESSAGES, ["Blue"]).logprobs == [-4.0]
    assert len(fake.requests) == 3  # the probe twice, then the candidate


def test_a_probe_that_is_too_late_turns_scoring_off(backend, fake):
    fake.actions = [("sleep", 1.0)]
    with pytest.raises(ScoringUnsupported, match="no complete answer"):
        backend.score(MESSAGES, ["Blue"])
    with pytest.raises(ScoringUnsupported):
        backend.score(MESSAGES, ["Blue"])
    assert len(fake.requests) == 1


def test_a_late_candidate_turns_scoring_off(backend, fake):
    """A server that cannot score one decision within the deadline is not asked again (each try would cost that)."""
    backend.score(MESSAGES, ["Blue"])
    fake.actions = [("sleep", 1.0)]
    with pytest.raises(ScoringUnsupported, match=r"too slow to score candidates .*no complete answer"):
        backend.score(MESSAGES, ["Blue"])
    requests = len(fake.requests)
    with pytest.raises(ScoringUnsupported):
        backend.score(MESSAGES, ["Blue"])
    assert len(fake.requests) == requests
