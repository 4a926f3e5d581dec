"""Rank fusion and the token-budgeted context."""

from __future__ import annotations

from mindpalace.memory.retrieval import MemoryItem, approximate_tokens, build_context, fuse


def _items(*keys: str) -> list[MemoryItem]:
    return [MemoryItem(k, k.split(":")[0], f"text of {k}") for k in keys]


def test_fusion_prefers_items_found_by_several_queries() -> None:
    fused = fuse([_items("object:1", "object:2"), _items("event:5", "object:2")])
    assert [i.key for i in fused] == ["object:2", "object:1", "event:5"]
    assert fused[0].score > fused[1].score > 0


def test_fusion_keeps_each_item_once() -> None:
    fused = fuse([_items("a:1", "a:1", "b:2")])
    assert [i.key for i in fused] == ["a:1", "b:2"]


def test_context_fits_the_budget_and_keeps_rank_order() -> None:
    items = [MemoryItem(f"e:{i}", "event", "word " * (5 + i)) for i in range(10)]
    text, kept = build_context(items, budget_tokens=40)
    assert approximate_tokens(text) <= 40
    assert kept and [i.key for i in kept] == sorted((i.key for i in kept), key=lambda k: int(k.split(":")[1]))
    assert build_context(items, budget_tokens=1)[1] == []


def test_token_count_is_words_and_punctuation() -> None:
    assert approximate_tokens("The red mug, on the table.") == 8
