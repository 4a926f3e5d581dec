"""Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted), spoken to with the standard library only.

The API key is a secret: it goes into the Authorization header and nowhere else (not into repr, logs or errors).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from typing import Any

from mindpalace.planning.backends.base import CandidateScores, Completion, LLMBackend, LLMError, Message, ToolCall

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://localhost:8000/v1"
EXCERPT_CHARS = 200


def _from_env(value: str | None, *names: str) -> str | None:
    """`value` if given, else the first of the environment variables `names` that is set and non-empty."""
    if value:
        return value
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


class _Rejected(LLMError):
    """The endpoint answered with a client error (4xx other than 429): retrying will not help."""


class OpenAICompatibleBackend(LLMBackend):
    """Chat (with native tool calls) over `POST {base_url}/chat/completions`; scoring over the legacy
    `/completions` endpoint with `echo` and `logprobs`, where the server offers it (vLLM, llama.cpp server).

    base_url, model and api_key fall back to MINDPALACE_LLM_BASE_URL / OPENAI_BASE_URL, MINDPALACE_LLM_MODEL /
    OPENAI_MODEL and MINDPALACE_LLM_API_KEY / OPENAI_API_KEY. Timeouts, connection errors, 429 and 5xx are retried
    `retries` times with exponential backoff.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.5,
    ) -> None:
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise ValueError(f"need timeout_s > 0, retries >= 0 and backoff_s >= 0; got {timeout_s}, {retries}, {backoff_s}")
        self.base_url = (_from_env(base_url, "MINDPALACE_LLM_BASE_URL", "OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.model = _from_env(model, "MINDPALACE_LLM_MODEL", "OPENAI_MODEL")
        self._api_key = _from_env(api_key, "MINDPALACE_LLM_API_KEY", "OPENAI_API_KEY")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return f"OpenAICompatibleBackend(base_url={self.base_url!r}, model={self.model!r}, api_key={key})"

    @property
    def supports_tool_calls(self) -> bool:
        return True

    def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None, max_tokens: int = 256) -> Completion:
        started = time.perf_counter()
        payload: dict[str, Any] = {"model": self._model(), "messages": messages, "max_tokens": max_tokens, "temperature": 0}
        if tools is not None:
            payload["tools"] = tools
            payload["tool_choice"] = "auto"
        body = self._post("/chat/completions", payload)
        try:
            message = body["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as error:
            excerpt = self._excerpt(body)
            raise LLMError(f"{self.base_url}/chat/completions answered without choices[0].message: {excerpt}") from error
        text = message.get("content") or ""
        tool_calls = [self._tool_call(call) for call in message.get("tool_calls") or []]
        usage = body.get("usage") or {}
        prompt_tokens = usage.get("prompt_tokens")
        if prompt_tokens is None:
            prompt_tokens = self.count_tokens(flatten(messages))
        completion_tokens = usage.get("completion_tokens")
        if completion_tokens is None:
            completion_tokens = self.count_tokens(text + "".join(call.arguments for call in tool_calls))
        return Completion(text, tool_calls, prompt_tokens, completion_tokens, time.perf_counter() - started)

    def score(self, messages: list[Message], candidates: list[str]) -> CandidateScores:
        """Log-likelihood of each candidate after the flattened conversation, one echo request per candidate."""
        started = time.perf_counter()
        prefix = flatten(messages) + "assistant:\n"
        logprobs: list[float] = []
        tokens: list[int] = []
        prompt_tokens = 0
        for candidate in candidates:
            if not candidate:
                logprobs.append(0.0)
                tokens.append(0)
                continue
            prompt = prefix + candidate
            payload = {"model": self._model(), "prompt": prompt, "max_tokens": 0, "echo": True, "logprobs": 1, "temperature": 0}
            try:
                body = self._post("/completions", payload)
            except _Rejected as error:
                raise self._no_scoring(str(error)) from error
            try:
                echoed = body["choices"][0]["logprobs"]
                offsets: list[int] = echoed["text_offset"]
                token_logprobs: list[float | None] = echoed["token_logprobs"]
            except (KeyError, IndexError, TypeError) as error:
                raise self._no_scoring(f"no echoed logprobs in {self._excerpt(body)}") from error
            if not offsets or len(offsets) != len(token_logprobs):
                raise self._no_scoring(f"text_offset and token_logprobs do not match in {self._excerpt(body)}")
            # The candidate starts at the last token that starts at or before its first character: a token
            # that straddles the boundary carries the candidate's first characters, so it counts.
            starts = [i for i, offset in enumerate(offsets) if offset <= len(prefix)]
            if not starts:
                raise self._no_scoring(f"text_offset does not cover the prompt in {self._excerpt(body)}")
            start = starts[-1]
            own = [value for value in token_logprobs[start:] if value is not None]
            if len(own) < len(token_logprobs) - start:
                raise self._no_scoring(f"a null logprob among the candidate's tokens in {self._excerpt(body)}")
            logprobs.append(float(sum(own)))
            tokens.append(len(own))
            prompt_tokens = start
        return CandidateScores(logprobs, tokens, prompt_tokens, time.perf_counter() - started)

    def _model(self) -> str:
        if not self.model:
            raise LLMError("no model configured for the openai backend: pass model= or set MINDPALACE_LLM_MODEL or OPENAI_MODEL")
        return self.model

    def _no_scoring(self, detail: str) -> LLMError:
        return LLMError(f"{self.base_url}/completions does not support scoring; use generate mode ({detail})")

    def _tool_call(self, call: Any) -> ToolCall:
        try:
            function = call["function"]
            name = function["name"]
        except (KeyError, TypeError) as error:
            raise LLMError(f"malformed tool call from {self.base_url}: {self._excerpt(call)}") from error
        arguments = function.get("arguments")
        if arguments is None:
            arguments = "{}"
        elif not isinstance(arguments, str):
            # Some servers send the arguments as an object; ToolCall keeps raw JSON text.
            arguments = json.dumps(arguments)
        return ToolCall(name=name, arguments=arguments, id=call.get("id") or "")

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        """POST JSON and return the decoded JSON answer, retrying transient failures."""
        url = self.base_url + path
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = json.dumps(payload).encode("utf-8")
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    raw = response.read()
            except urllib.error.HTTPError as error:
                excerpt = self._excerpt(error.read().decode("utf-8", errors="replace"))
                if error.code != 429 and error.code < 500:
                    raise _Rejected(f"POST {url} failed with HTTP {error.code}: {excerpt}") from None
                failure = f"HTTP {error.code}: {excerpt}"
            except (OSError, http.client.HTTPException) as error:
                # URLError (refused, unreachable), TimeoutError and dropped connections are all worth a retry.
                failure = self._redact(f"{type(error).__name__}: {error}")
            else:
                try:
                    return json.loads(raw)
                except ValueError as error:
                    excerpt = self._excerpt(raw.decode("utf-8", errors="replace"))
                    raise LLMError(f"POST {url} answered with a body that is not JSON: {excerpt}") from error
            if attempt < self.retries:
                delay = self.backoff_s * 2**attempt
                log.warning("POST %s failed (%s); retry %d of %d in %.2f s", url, failure, attempt + 1, self.retries, delay)
                time.sleep(delay)
        raise LLMError(f"POST {url} failed after {self.retries + 1} attempts; last error: {failure}")

    def _excerpt(self, body: Any) -> str:
        # Redact before cutting, so that no part of a key survives at the cut.
        text = self._redact(body if isinstance(body, str) else json.dumps(body))
        return text[:EXCERPT_CHARS] + "..." if len(text) > EXCERPT_CHARS else text

    def _redact(self, text: str) -> str:
        # A server may echo the request's headers in an error body.
        return text.replace(self._api_key, "***") if self._api_key else text


def flatten(messages: list[Message]) -> str:
    """The conversation as plain text, one "role: content" block per message, for endpoints without chat templates."""
    lines = []
    for message in messages:
        content = message.get("content") or ""
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            content += f"\ncall {function.get('name', '')}({function.get('arguments', '')})"
        lines.append(f"{message['role']}: {content.strip()}\n")
    return "".join(lines)
