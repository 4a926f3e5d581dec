"""The key/value states of recent prompts, so that a new prompt's longest common token prefix with them is not recomputed.

As vLLM's automatic prefix caching: the planner's prompts all start with the same system text and worked
examples, the decisions of one task share its memory context and the task too, and the two rankings of one
decision (memory query, then skill) share everything but the last lines of the plan.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch

# Per layer, the keys and values of a prompt's tokens: [batch 1, heads, tokens, head dim].
KeyValues = list[tuple[torch.Tensor, torch.Tensor]]


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens `a` and `b` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class PrefixCache:
    """At most `entries` prompts' key/value states, keyed by their token ids; the least recently used goes first.

    An entry of SmolLM2-135M costs 46 KB per token in float32 (30 layers, keys and values of 3 heads of 64),
    so ~45 MB for a planner prompt of ~1,000 tokens. `entries=0` holds nothing.
    """

    def __init__(self, entries: int = 4) -> None:
        if entries < 0:
            raise ValueError(f"entries must be >= 0, got {entries}")
        self.entries = entries
        self._states: OrderedDict[tuple[int, ...], KeyValues] = OrderedDict()
        self.looked_up_tokens = 0  # tokens asked for by `lookup`
        self.reused_tokens = 0  # of which found here

    def __len__(self) -> int:
        return len(self._states)

    def lookup(self, ids: Sequence[int]) -> tuple[int, KeyValues]:
        """The longest prefix of `ids` that an entry shares, as (its length, the states cut to it); (0, []) if none.

        The entry it came from becomes the most recently used. The states returned are views: running the model
        on them appends to copies and leaves the entry as it was.
        """
        self.looked_up_tokens += len(ids)
        best, best_key = 0, None
        for key in self._states:
            n = common_prefix(key, ids)
            if n > best:
                best, best_key = n, key
        if best_key is None:
            return 0, []
        self._states.move_to_end(best_key)
        self.reused_tokens += best
        return best, [(keys[:, :, :best], values[:, :, :best]) for keys, values in self._states[best_key]]

    def store(self, ids: Sequence[int], states: KeyValues) -> None:
        """Hold the states of `ids`; an entry that is a prefix of `ids` goes (the new one covers it), and so does the
        least recently used one beyond the bound."""
        if self.entries == 0 or not ids:
            return
        key = tuple(ids)
        for old in [old for old in self._states if len(old) <= len(key) and key[: len(old)] == old]:
            del self._states[old]
        self._states[key] = states
        while len(self._states) > self.entries:
            self._states.popitem(last=False)
