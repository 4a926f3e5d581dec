"""Typed memory queries, the items they return, rank fusion and a context that fits a token budget."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextQuery:
    """By meaning: the nearest events, facts and objects to `text` in the embedding index."""

    text: str
    k: int = 10
    kinds: tuple[str, ...] = ("event", "fact", "object")


@dataclass(frozen=True)
class ObjectQuery:
    """By object: a label ("mug", "red mug" with attributes) or an id, optionally in a room."""

    label: str | None = None
    object_id: int | None = None
    room: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    k: int = 10


@dataclass(frozen=True)
class PlaceQuery:
    """By place: objects, events and snapshots within `radius` metres of (x, y)."""

    x: float
    y: float
    radius: float = 1.5
    k: int = 10


@dataclass(frozen=True)
class TimeQuery:
    """By time window: events and object changes between t0 and t1 (seconds)."""

    t0: float
    t1: float
    k: int = 20


@dataclass(frozen=True)
class OrderQuery:
    """By event order: the first or last event (optionally of an action or an object), or the longest ones."""

    which: str = "first"  # "first", "last" or "longest"
    action: str | None = None
    object_id: int | None = None
    after: float | None = None
    k: int = 5


@dataclass(frozen=True)
class FactQuery:
    """By subject: what is known about it (facts valid now, or at `at_time`)."""

    subject: str
    at_time: float | None = None
    k: int = 20


Query = TextQuery | ObjectQuery | PlaceQuery | TimeQuery | OrderQuery | FactQuery


@dataclass
class MemoryItem:
    """One retrieved memory: `key` is unique across stores ("event:12", "object:3", "fact:7", "snapshot:4")."""

    key: str
    kind: str
    text: str
    time_s: float | None = None
    score: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)


def fuse(result_lists: list[list[MemoryItem]], k_rrf: float = 60.0) -> list[MemoryItem]:
    """Reciprocal-rank fusion: an item found by several queries, or ranked high by one, comes first."""
    fused: dict[str, MemoryItem] = {}
    scores: dict[str, float] = {}
    for items in result_lists:
        for rank, item in enumerate(items):
            scores[item.key] = scores.get(item.key, 0.0) + 1.0 / (k_rrf + rank + 1)
            fused.setdefault(item.key, item)
    ranked = sorted(fused.values(), key=lambda item: -scores[item.key])
    for item in ranked:
        item.score = round(scores[item.key], 6)
    return ranked


_WORD = re.compile(r"\w+|[^\w\s]")


def approximate_tokens(text: str) -> int:
    """A tokenizer-free count: words and punctuation, about what BPE tokenizers give for English."""
    return len(_WORD.findall(text))


def build_context(
    items: list[MemoryItem], budget_tokens: int, count_tokens: Callable[[str], int] = approximate_tokens, header: str = "Memory:"
) -> tuple[str, list[MemoryItem]]:
    """Lines of the highest-ranked items until the budget is spent; the text and the items that fit."""
    lines, used, kept = [header], count_tokens(header), []
    for item in items:
        line = f"- [{item.kind}] {item.text}"
        cost = count_tokens(line)
        if used + cost > budget_tokens:
            continue
        lines.append(line)
        used += cost
        kept.append(item)
    return "\n".join(lines), kept
