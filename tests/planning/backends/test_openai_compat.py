"""OpenAICompatibleBackend against a real local HTTP server that plays scripted answers."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mindpalace.planning.backends import LLMError, ToolCall
from mindpalace.planning.backends.openai_compat import OpenAICompatibleBackend, flatten

KEY = "sk-test-SECRET-4242"
LOGGER = "mindpalace.planning.backends.openai_compat"
MESSAGES = [{"role": "system", "content": "You are a robot."}, {"role": "user", "content": "Where is the mug?"}]


def echo_logprobs(prompt: str) -> dict[str, Any]:
    """Echo the prompt as tokens of one word with its leading whitespace; a token's logprob is -(its letters)."""
    tokens = re.findall(r"\s*\S+|\s+", prompt)
    offsets = [match.start() for match in re.finditer(r"\s*\S+|\s+", prompt)]
    token_logprobs = [None] + [-float(len(token.strip())) for token in tokens[1:]]
    return {"tokens": tokens, "token_logprobs": token_logprobs, "text_offset": offsets}


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
            if self.path == "/v1/completions":
                args = [200, {"choices": [{"text": body["prompt"], "logprobs": echo_logprobs(body["prompt"])}]}]
            else:
                args = [200, text_reply("ok")]
            kind = "json"
        status, payload = args
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except OSError:
            pass  # the client gave up (a timeout test)

    def log_message(self, *args: Any) -> None:
        pass  # keep test output quiet


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[dict[str, Any]]
    actions: list[tuple[Any, ...]]


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
    server.requests, server.actions = [], []
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


def test_timeouts_exhaust_the_retries(backend, fake, caplog):
    fake.actions = [("sleep", 0.6)] * 3
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger=LOGGER), pytest.raises(LLMError, match="after 3 attempts") as error:
        backend.chat(MESSAGES)
    assert time.perf_counter() - started < 1.5
    assert len(fake.requests) == 3
    assert KEY not in str(error.value) and KEY not in caplog.text


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
    assert scores.logprobs == [-7.0, -6.0, 0.0]
    assert scores.tokens == [2, 1, 0]
    assert scores.prompt_tokens > 0
    request = fake.requests[0]
    assert request["path"] == "/v1/completions"
    prefix = flatten(MESSAGES) + "assistant:\n"
    assert request["body"] == {
        "model": "tiny",
        "prompt": prefix + "Blue sky",
        "max_tokens": 0,
        "echo": True,
        "logprobs": 1,
        "temperature": 0,
    }
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "action",
    [("json", 404, {"error": "no such route"}), ("json", 200, {"choices": [{"text": "x", "logprobs": None}]})],
)
def test_score_without_echo_support_says_so(backend, fake, action):
    fake.actions = [action]
    with pytest.raises(LLMError, match="does not support scoring; use generate mode"):
        backend.score(MESSAGES, ["Blue"])
