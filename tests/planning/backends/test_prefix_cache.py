"""PrefixCache: the longest shared prefix is found, cut and handed out without touching the entry; the LRU bound holds."""

from __future__ import annotations

import pytest
import torch

from mindpalace.planning.backends.prefix_cache import PrefixCache, common_prefix


def states(ids: list[int], layers: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Fake key/value states [1, heads 1, tokens, dim 2] whose values name their token, to see what was cut."""
    column = torch.tensor(ids, dtype=torch.float32).reshape(1, 1, -1, 1).repeat(1, 1, 1, 2)
    return [(column + layer, -column - layer) for layer in range(layers)]


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([5], [1]) == 0


def test_lookup_gives_the_longest_shared_prefix_cut_to_it() -> None:
    cache = PrefixCache(entries=4)
    assert cache.lookup([1, 2, 3]) == (0, [])
    cache.store([1, 2, 3, 4], states([1, 2, 3, 4]))
    cache.store([1, 2, 7, 8, 9], states([1, 2, 7, 8, 9]))
    reused, found = cache.lookup([1, 2, 7, 5])
    assert reused == 3 and len(found) == 2
    assert found[1][0][0, 0, :, 0].tolist() == [2.0, 3.0, 8.0]  # layer 1's keys of tokens 1, 2, 7
    assert found[1][1][0, 0, :, 0].tolist() == [-2.0, -3.0, -8.0]
    assert cache.lookup([9, 1, 2]) == (0, [])
    assert (cache.looked_up_tokens, cache.reused_tokens) == (10, 3)


def test_extending_what_lookup_gave_leaves_the_entry_as_it_was() -> None:
    cache = PrefixCache(entries=2)
    cache.store([1, 2, 3], states([1, 2, 3]))
    _, found = cache.lookup([1, 2, 9])
    keys, _ = found[0]
    grown = torch.cat([keys, torch.full((1, 1, 1, 2), 99.0)], dim=-2)  # what a cache layer's update does
    assert grown.shape[-2] == 3
    reused, again = cache.lookup([1, 2, 3, 4])
    assert reused == 3 and again[0][0][0, 0, :, 0].tolist() == [1.0, 2.0, 3.0]


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = PrefixCache(entries=2)
    cache.store([1, 1], states([1, 1]))
    cache.store([2, 2], states([2, 2]))
    assert cache.lookup([1, 1, 5])[0] == 2  # [1, 1] is now the most recently used
    cache.store([3, 3], states([3, 3]))
    assert len(cache) == 2
    assert cache.lookup([2, 2])[0] == 0
    assert cache.lookup([1, 1])[0] == 2 and cache.lookup([3, 3])[0] == 2


def test_an_entry_that_the_new_prompt_extends_is_replaced() -> None:
    cache = PrefixCache(entries=4)
    cache.store([1, 2], states([1, 2]))
    cache.store([1, 2, 3], states([1, 2, 3]))
    cache.store([1, 5], states([1, 5]))
    assert len(cache) == 2  # [1, 2, 3] covers [1, 2]; [1, 5] is another branch
    assert cache.lookup([1, 2, 3, 4])[0] == 3


def test_zero_entries_hold_nothing_and_negative_is_refused() -> None:
    cache = PrefixCache(entries=0)
    cache.store([1, 2], states([1, 2]))
    assert len(cache) == 0 and cache.lookup([1, 2]) == (0, [])
    with pytest.raises(ValueError):
        PrefixCache(entries=-1)
