"""The OpenAI-compatible client against real llama.cpp servers serving the SmolLM2 GGUF on 127.0.0.1.

- llama-cpp-python's server (`python -m llama_cpp.server`): from $MINDPALACE_LLAMA_CPP_PYTHON, a Python with
  `llama-cpp-python[server]`, else `.venv-llama/bin/python` in the checkout. It can score (echo with logprobs).
- llama.cpp's own `llama-server`: from $MINDPALACE_LLAMA_SERVER, else PATH. It refuses echo: no scoring.
Each test is skipped, saying why, where its server is not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mindpalace.memory.system import MemorySystem
from mindpalace.planning.backends import ScoringUnsupported
from mindpalace.planning.backends.openai_compat import OpenAICompatibleBackend, flatten
from mindpalace.planning.parsing import Call
from mindpalace.planning.planner import Planner, PlannerConfig, PlannerState

pytestmark = pytest.mark.slow  # a server start and a model load per fixture; minutes on two busy cores

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
STARTUP_S = 180.0  # loading a 135M model takes seconds; a busy two-core machine may need far more


def llama_cpp_python() -> str | None:
    """A Python interpreter that has llama_cpp.server, or None."""
    candidates = [os.environ.get("MINDPALACE_LLAMA_CPP_PYTHON", ""), str(ROOT / ".venv-llama" / "bin" / "python")]
    for python in filter(None, candidates):
        if Path(python).is_file():
            found = subprocess.run([python, "-c", "import llama_cpp.server"], capture_output=True, timeout=120)
            if found.returncode == 0:
                return python
    return None


def llama_server() -> str | None:
    return os.environ.get("MINDPALACE_LLAMA_SERVER") or shutil.which("llama-server")


def smollm2_gguf_path() -> Path:
    from mindpalace.planning.backends.local import smollm2_gguf

    folder, name = smollm2_gguf()
    return Path(folder) / name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(command: list[str], port: int, log: Path) -> Iterator[str]:
    """Start a server, wait until it lists its models, yield its base URL, and stop it."""
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not come up within {STARTUP_S:.0f} s: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


# `python -m llama_cpp.server`, with llama.cpp's extra buffer types (weight repacking, AMX) off: where a CPU
# reports AMX that the kernel does not enable for the process (this build machine), they end the server with
# an illegal instruction at its first request. They change speed only, not the numbers.
LAUNCHER = """
import runpy, sys
import llama_cpp.llama_cpp as api
defaults = api.llama_model_default_params
def without_extra_buffers():
    params = defaults()
    params.use_extra_bufts = False
    return params
api.llama_model_default_params = without_extra_buffers
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def python_server(tmp_path_factory: pytest.TempPathFactory, name: str, *options: str) -> Iterator[str]:
    python = llama_cpp_python()
    if python is None:
        pytest.skip(
            "llama-cpp-python's server is not installed: set MINDPALACE_LLAMA_CPP_PYTHON to a Python with "
            "llama-cpp-python[server], or make .venv-llama (docs/planner.md)"
        )
    port = free_port()
    command = [python, "-c", LAUNCHER, "--model", str(smollm2_gguf_path()), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--verbose", "false", *options]
    yield from serve(command, port, tmp_path_factory.mktemp(name) / "server.log")


# SmolLM2 adds no BOS token; llama-cpp-python's echo needs one to line its log-probabilities up with the tokens.
WITH_BOS = ("--kv_overrides", "tokenizer.ggml.add_bos_token=bool:true")


@pytest.fixture(scope="module")
def scoring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python with logits for every token (its server's default) and a BOS token: it can score."""
    yield from python_server(tmp_path_factory, "scoring", "--logits_all", "true", *WITH_BOS)


@pytest.fixture(scope="module")
def bosless_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python serving SmolLM2 as it is: its echoed log-probabilities are off by one."""
    yield from python_server(tmp_path_factory, "bosless", "--logits_all", "true")


@pytest.fixture(scope="module")
def logitless_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from python_server(tmp_path_factory, "logitless", "--logits_all", "false")


@pytest.fixture(scope="module")
def cpp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = llama_server()
    if executable is None:
        pytest.skip("llama.cpp's llama-server is not installed: put it on PATH or set MINDPALACE_LLAMA_SERVER")
    port = free_port()
    command = [executable, "-m", str(smollm2_gguf_path()), "--host", "127.0.0.1", "--port", str(port), "-c", "2048", "-t", "2"]
    yield from serve(command, port, tmp_path_factory.mktemp("llama_server") / "server.log")


def backend(base_url: str, timeout_s: float = 120.0) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(base_url=base_url, model="smollm2", api_key="unused", timeout_s=timeout_s)


def no_more_completions(client: OpenAICompatibleBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on a /completions request fails the test: the probe's answer must stand."""
    post = client._post

    def only_chat(path, *args, **kwargs):
        assert path != "/completions", "scoring asked the server again after the probe said no"
        return post(path, *args, **kwargs)

    monkeypatch.setattr(client, "_post", only_chat)


def reference_logprobs(prompt: str, candidates: list[str]) -> list[float]:
    """Each candidate's summed token log-probability after BOS + `prompt`, from the same GGUF through transformers."""
    import torch

    from mindpalace.planning.backends.local import _load

    tokenizer, model = _load(str(smollm2_gguf_path().parent), smollm2_gguf_path().name)
    bos = torch.tensor([[tokenizer.bos_token_id]])
    sums = []
    for candidate in candidates:
        prefix = torch.cat([bos, tokenizer(prompt, return_tensors="pt").input_ids], dim=1)
        ids = torch.cat([bos, tokenizer(prompt + candidate, return_tensors="pt").input_ids], dim=1)
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0, :-1].float(), dim=-1)
        start = prefix.shape[1] - 1  # the candidate's tokens, as the server counts them from the boundary token
        targets = ids[0, 1:]
        sums.append(float(logprobs[start:].gather(1, targets[start:, None]).sum()))
    return sums


def test_llama_cpp_python_chats_and_scores(scoring_server):
    client = backend(scoring_server)
    reply = client.chat(MESSAGES, max_tokens=12)
    assert reply.text.strip() and 0 < reply.completion_tokens <= 12
    candidates = [" The capital of France is Paris.", " The capital of France is a banana.", " Paris."]
    started = time.perf_counter()
    scores = client.score(MESSAGES, candidates)
    # Each request generated one token, not the rest of the context: a probe that saw more turned scoring off.
    assert client._scoring is True
    assert time.perf_counter() - started < client.timeout_s
    assert scores.logprobs[0] > scores.logprobs[1]
    assert all(value < 0 for value in scores.logprobs) and all(n > 1 for n in scores.tokens)
    # The same weights through transformers give the same log-likelihoods, up to llama.cpp's quantized arithmetic.
    prefix = flatten(MESSAGES) + "assistant:\n"
    expected = reference_logprobs(prefix, candidates)
    assert scores.logprobs == pytest.approx(expected, abs=0.1 * max(scores.tokens)), (scores.logprobs, expected)


def test_off_by_one_echo_logprobs_are_caught_by_the_probe(bosless_server, monkeypatch):
    """Without a BOS token llama-cpp-python gives each echoed token its own position's log-probability, which
    would rank candidates by nonsense: the probe sees counting score poorly and turns scoring off at once."""
    client = backend(bosless_server)
    with pytest.raises(ScoringUnsupported, match="not those of the prompt's tokens"):
        client.score(MESSAGES, [" Paris."])
    no_more_completions(client, monkeypatch)
    with pytest.raises(ScoringUnsupported):
        client.score(MESSAGES, [" Paris."])
    assert client.chat(MESSAGES, max_tokens=8).text.strip()  # generating still works


def test_a_planner_decision_through_the_server_scores_or_falls_back_at_once(scoring_server, tmp_path, monkeypatch):
    """The issue's question ("where did you put the hat?") in score mode, both rankings through the endpoint.

    The planner's prompt is long, and llama-cpp-python's echo sorts the vocabulary for every prompt token: on a
    busy machine a ranking can miss the deadline. Then scoring is off and no later ranking asks the server.
    """
    client = backend(scoring_server, timeout_s=30.0)
    echo = client._echo

    def echo_while_scoring(*args, **kwargs):
        assert client._scoring is not False, "the server was asked to score after scoring was turned off"
        return echo(*args, **kwargs)

    monkeypatch.setattr(client, "_echo", echo_while_scoring)
    with MemorySystem.open(tmp_path / "bank.db", spatial=False, text_index=False) as memory:
        memory.remember_object(66, "hat", (1.0, 2.0, 0.8), 10.0, room="bedroom", change="new")
        skills = {
            "answer": {
                "type": "function",
                "function": {
                    "name": "answer",
                    "description": "answer the user",
                    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
                },
            }
        }
        planner = Planner(client, memory, skills, PlannerConfig(mode="score"))
        planner.start("Where did you put the hat?")

        def propose(texts: list[str]) -> list[Call]:
            return [Call("answer", {"text": "The hat #66 is in the bedroom."}), Call("answer", {"text": "I do not know."})]

        started = time.perf_counter()
        decision = planner.decide(PlannerState(time_of_day="09:00", room="bedroom", holding=None), propose)
        elapsed = time.perf_counter() - started
    assert decision.call is not None and decision.memory_calls and decision.memory_calls[0].ok
    assert elapsed < 2 * client.timeout_s + 10.0, decision.choice  # each ranking within its deadline
    if "scoring failed" in decision.choice:
        assert "too slow to score candidates" in decision.choice, decision.choice
    else:
        assert "skill candidates (best first)" in decision.choice and decision.inference_s > 0


def test_a_server_without_logits_for_every_token_cannot_score_and_says_so_at_once(logitless_server, monkeypatch):
    client = backend(logitless_server)
    with pytest.raises(ScoringUnsupported, match="logits_all=False"):
        client.score(MESSAGES, [" Paris."])
    no_more_completions(client, monkeypatch)
    with pytest.raises(ScoringUnsupported):
        client.score(MESSAGES, [" Paris."])
    assert client.chat(MESSAGES, max_tokens=8).text.strip()


def test_llama_server_refuses_echo_so_scoring_is_off_at_once(cpp_server, monkeypatch):
    client = backend(cpp_server)
    assert client.chat(MESSAGES, max_tokens=8).text.strip()
    with pytest.raises(ScoringUnsupported, match="echo"):
        client.score(MESSAGES, [" Paris."])
    no_more_completions(client, monkeypatch)
    with pytest.raises(ScoringUnsupported):
        client.score(MESSAGES, [" Paris."])
