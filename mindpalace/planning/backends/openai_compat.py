"""Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted), spoken to with the standard library only.

The API key is a secret: it goes into the Authorization header and nowhere else (not into repr, logs or errors).

Every call (`chat`, `score`) ends within `timeout_s`, retries and back-off included: a socket timeout bounds
each read, and a timer shuts the connection when the whole answer is late, so a server that trickles bytes
cannot hold a call longer.

Scoring needs the prompt's own log-probabilities: `/completions` with `echo` and `logprobs`. What the common
servers do with such a request (checked in their sources and trackers):
- vLLM: supported with `max_tokens` >= 1 (it rejects 0 with HTTP 400); it also has its own `prompt_logprobs`.
- llama-cpp-python's server: supported when the model was loaded with `--logits_all true` (else HTTP 500
  "logprobs is not supported for models created with logits_all=False"); `max_tokens` 0 means "until the
  context is full", so each request generated thousands of tokens. Its echo sorts the whole vocabulary in
  Python for every prompt token, so a long prompt takes tens of seconds. For a model that adds no BOS token
  (SmolLM2) its echoed log-probabilities are off by one: each token gets its own position's, which the probe
  below catches; with `--kv_overrides tokenizer.ggml.add_bos_token=bool:true` they are right.
- llama.cpp's own `llama-server`: `echo` is refused ("Only no echo is supported", HTTP 500); its `n_probs`,
  `logprobs` and `/tokenize` give probabilities of generated tokens only, which cannot score a given text.
- Ollama: `echo` is ignored; `logprobs` covers generated tokens only.
So a score request asks for one generated token, which is left out of the score, and the first `score` of
a backend sends a one-token probe (a counting sequence): where the answer does not carry the prompt's
log-probabilities, they are not the prompt's (counting scores poorly), or the server generates more than
asked, scoring is off for that backend and every `score` raises `ScoringUnsupported` at once (the planner
then keeps the proposed order, or generates). So it is after a `score` that misses its deadline.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

from mindpalace.planning.backends.base import (
    CandidateScores,
    Completion,
    LLMBackend,
    LLMError,
    Message,
    ScoringUnsupported,
    ToolCall,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://localhost:8000/v1"
EXCERPT_CHARS = 200
# Counting is predictable to any language model: where the echoed log-probabilities are those of the prompt's
# own tokens, its later tokens score near 0. llama-cpp-python gives a model without a BOS token (SmolLM2) each
# token the log-probability from its own position instead (an off-by-one): about -10 per token here.
PROBE_PROMPT = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16"
PROBE_MIN_LOGPROB = -3.0  # mean per token over the probe's second half
SCORE_NEW_TOKENS = 1  # vLLM refuses 0 and llama-cpp-python reads 0 as "no limit": one token, left out of the score


def _from_env(value: str | None, *names: str) -> str | None:
    """`value` if given, else the first of the environment variables `names` that is set and non-empty."""
    if value:
        return value
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


class _Rejected(LLMError):
    """The endpoint answered with an error that retrying will not help (a 4xx other than 429, by default)."""


class _Late(LLMError):
    """No complete answer by the call's deadline."""


TRANSIENT = frozenset({429, *range(500, 600)})  # HTTP statuses retried by default
BUSY = frozenset({429, 502, 503, 504})  # overloaded, loading, or a proxy's: not the server's answer to the request


class OpenAICompatibleBackend(LLMBackend):
    """Chat (with native tool calls) over `POST {base_url}/chat/completions`; scoring over the legacy
    `/completions` endpoint with `echo` and `logprobs`, where the server offers it (vLLM, llama-cpp-python).

    base_url, model and api_key fall back to MINDPALACE_LLM_BASE_URL / OPENAI_BASE_URL, MINDPALACE_LLM_MODEL /
    OPENAI_MODEL and MINDPALACE_LLM_API_KEY / OPENAI_API_KEY. `timeout_s` is the total deadline of one call
    (`chat`, or `score` with all its candidates), retries and back-off included. Within it, timeouts, connection
    errors, 429 and 5xx are retried up to `retries` times with exponential backoff. HTTP(S)_PROXY and NO_PROXY
    from the environment are honoured for plain-HTTP endpoints and tunnelled for HTTPS ones.
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
        self._scoring: bool | None = None  # None until the first score probes the server
        self._scoring_detail = ""

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return f"OpenAICompatibleBackend(base_url={self.base_url!r}, model={self.model!r}, api_key={key})"

    @property
    def supports_tool_calls(self) -> bool:
        return True

    def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None, max_tokens: int = 256) -> Completion:
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout_s
        payload: dict[str, Any] = {"model": self._model(), "messages": messages, "max_tokens": max_tokens, "temperature": 0}
        if tools is not None:
            payload["tools"] = tools
            payload["tool_choice"] = "auto"
        body = self._post("/chat/completions", payload, deadline)
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
        """Log-likelihood of each candidate after the flattened conversation, one echo request per candidate.

        Raises ScoringUnsupported at once when the server cannot score (found by one probe per backend).
        """
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout_s
        self._probe_scoring(deadline)
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
            try:
                offsets, values = self._echo(prompt, deadline)
            except _Late as error:
                # Echo costs a server the whole prompt per candidate (llama-cpp-python also sorts the vocabulary
                # for each prompt token): one that cannot score a decision in time is not asked again.
                raise self._unsupported(f"too slow to score candidates ({error})") from error
            # The candidate starts at the last token that starts at or before its first character: a token
            # that straddles the boundary carries the candidate's first characters, so it counts.
            start = max(i for i, offset in enumerate(offsets) if offset <= len(prefix))
            own = values[start:]
            if not own or any(value is None for value in own):
                raise self._unsupported(f"no logprob for a token of the candidate {candidate[:40]!r}")
            logprobs.append(float(sum(value for value in own if value is not None)))
            tokens.append(len(own))
            prompt_tokens = start
        return CandidateScores(logprobs, tokens, prompt_tokens, time.perf_counter() - started)

    def _probe_scoring(self, deadline: float) -> None:
        """Once per backend: does the server echo the prompt's log-probabilities and stop after one new token?"""
        if self._scoring is None:
            try:
                _, values = self._echo(PROBE_PROMPT, deadline, probing=True)
            except _Late as error:
                # A one-token answer this late means a server that ignores max_tokens or is far too slow to score.
                raise self._unsupported(str(error)) from error
            later = [float(v) for v in values[len(values) // 2 :] if v is not None]
            mean = sum(later) / max(1, len(later))
            if mean < PROBE_MIN_LOGPROB:
                raise self._unsupported(
                    f"the echoed log-probabilities are not those of the prompt's tokens (counting scored {mean:.1f} per "
                    "token; llama-cpp-python gives a model without a BOS token each token its own position's)"
                )
            self._scoring = True
            log.info("%s/completions can score candidates (echo with logprobs)", self.base_url)
        if self._scoring is False:
            raise ScoringUnsupported(self._scoring_detail)

    def _echo(self, prompt: str, deadline: float, probing: bool = False) -> tuple[list[int], list[float | None]]:
        """Text offsets and log-probabilities of the prompt's own tokens (the generated one left out)."""
        payload = {
            "model": self._model(),
            "prompt": prompt,
            "max_tokens": SCORE_NEW_TOKENS,
            "echo": True,
            "logprobs": 1,
            "temperature": 0,
        }
        try:
            # A probe retries only what is plainly transient: llama.cpp's servers answer an unsupported echo with 500.
            body = self._post("/completions", payload, deadline, BUSY if probing else TRANSIENT)
        except _Rejected as error:
            raise self._unsupported(str(error)) from error
        try:
            echoed = body["choices"][0]["logprobs"]
            offsets: list[int] = echoed["text_offset"]
            values: list[float | None] = echoed["token_logprobs"]
        except (KeyError, IndexError, TypeError) as error:
            raise self._unsupported(f"no echoed logprobs in {self._excerpt(body)}") from error
        if not isinstance(offsets, list) or not isinstance(values, list) or len(offsets) != len(values):
            raise self._unsupported(f"text_offset and token_logprobs do not match in {self._excerpt(body)}")
        inside = sum(1 for offset in offsets if isinstance(offset, int) and offset < len(prompt))
        if inside < 2 or offsets[0] != 0 or not all(isinstance(value, (int, float)) for value in values[1:inside]):
            # Only the generated token's logprob (Ollama, llama-server): nothing of the prompt can be scored.
            raise self._unsupported(f"the answer does not echo the prompt's tokens with logprobs: {self._excerpt(body)}")
        if len(offsets) - inside > SCORE_NEW_TOKENS:
            raise self._unsupported(f"asked for {SCORE_NEW_TOKENS} new token, the server generated {len(offsets) - inside}")
        return offsets[:inside], values[:inside]

    def _unsupported(self, detail: str) -> ScoringUnsupported:
        self._scoring, self._scoring_detail = False, f"{self.base_url}/completions cannot score candidates: {detail}"
        log.warning("%s; scoring is off for this backend", self._scoring_detail)
        return ScoringUnsupported(self._scoring_detail)

    def _model(self) -> str:
        if not self.model:
            raise LLMError("no model configured for the openai backend: pass model= or set MINDPALACE_LLM_MODEL or OPENAI_MODEL")
        return self.model

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

    def _post(self, path: str, payload: dict[str, Any], deadline: float, retry: frozenset[int] = TRANSIENT) -> Any:
        """POST JSON and return the decoded JSON answer by `deadline` (time.monotonic), retrying failures that
        may pass (connection errors; the HTTP statuses in `retry`) while time is left. Other HTTP errors are final."""
        url = self.base_url + path
        data = json.dumps(payload).encode("utf-8")
        failure, attempts = "", 0
        while attempts <= self.retries and (remaining := deadline - time.monotonic()) > 0:
            attempts += 1
            try:
                status, raw = self._request(path, data, remaining)
            except _Late as error:
                raise _Late(f"POST {url}: {error} (attempt {attempts}; the call's deadline is {self.timeout_s:g} s)") from None
            except (OSError, http.client.HTTPException) as error:
                failure = self._redact(f"{type(error).__name__}: {error}")  # refused, unreachable, dropped
            else:
                excerpt = self._excerpt(raw.decode("utf-8", errors="replace"))
                if status < 400:
                    try:
                        return json.loads(raw)
                    except ValueError as error:
                        raise LLMError(f"POST {url} answered with a body that is not JSON: {excerpt}") from error
                if status not in retry:
                    raise _Rejected(f"POST {url} failed with HTTP {status}: {excerpt}")
                failure = f"HTTP {status}: {excerpt}"
            if attempts <= self.retries:
                delay = min(self.backoff_s * 2 ** (attempts - 1), max(0.0, deadline - time.monotonic()))
                log.warning("POST %s failed (%s); retry %d of %d in %.2f s", url, failure, attempts, self.retries, delay)
                time.sleep(delay)
        if not failure:
            raise _Late(f"POST {url}: no time left of the call's {self.timeout_s:g} s deadline")
        raise LLMError(
            f"POST {url} failed after {attempts} attempts within its {self.timeout_s:g} s deadline; last error: {failure}"
        )

    def _request(self, path: str, data: bytes, timeout: float) -> tuple[int, bytes]:
        """One POST, answered in full within `timeout` seconds, else `_Late`.

        The socket timeout bounds each read; a timer shuts the socket when the whole answer is late (a server
        that trickles bytes), which also tells the server to stop working on it.
        """
        started = time.monotonic()
        late = threading.Event()
        connection, target = self._connection(path, timeout)
        try:
            connection.connect()
            sock = connection.sock

            def shut() -> None:
                late.set()
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's own, also under TLS
                except OSError:
                    pass  # closed already

            timer = threading.Timer(max(0.0, timeout - (time.monotonic() - started)), shut)
            timer.daemon = True
            timer.start()
            try:
                connection.request("POST", target, body=data, headers=self._headers())
                response = connection.getresponse()
                status, raw = response.status, response.read()
            finally:
                timer.cancel()
        except (OSError, http.client.HTTPException) as error:
            if late.is_set() or isinstance(error, TimeoutError):
                raise _Late(f"no complete answer within {timeout:.3g} s") from error
            raise
        finally:
            connection.close()
        if late.is_set():  # a body read to the connection's end may have been cut short by the shutdown
            raise _Late(f"no complete answer within {timeout:.3g} s")
        return status, raw

    def _connection(self, path: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
        """A connection for `base_url + path` and the request target to send, through a proxy where the
        environment names one for this host."""
        url = urllib.parse.urlsplit(self.base_url + path)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise LLMError(f"base_url must be an http:// or https:// URL, got {self.base_url!r}")
        port = url.port or (443 if url.scheme == "https" else 80)
        target = url.path + (f"?{url.query}" if url.query else "")
        proxy = urllib.request.getproxies().get(url.scheme)
        if proxy and not urllib.request.proxy_bypass(url.hostname):
            via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            if url.scheme == "http":  # a plain-HTTP proxy takes the absolute URL
                return http.client.HTTPConnection(via.hostname or "", via.port or 80, timeout=timeout), self.base_url + path
            tunnelled = http.client.HTTPSConnection(
                via.hostname or "", via.port or 80, timeout=timeout, context=ssl.create_default_context()
            )
            tunnelled.set_tunnel(url.hostname, port)
            return tunnelled, target
        if url.scheme == "https":
            return http.client.HTTPSConnection(url.hostname, port, timeout=timeout, context=ssl.create_default_context()), target
        return http.client.HTTPConnection(url.hostname, port, timeout=timeout), target

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

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
