"""Recipes belong to the weights: the packaged minilm by its folder path, or a copy of its transformers files
elsewhere, gets exactly the defaults `Embedder("minilm")` gets (issue 27)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoModel

from contextvec import Embedder
from contextvec.models.recipes import KNOWN_WEIGHTS, RECIPES, weights_key
from contextvec.models.registry import resolve_model

TEXTS = ["We sat on the bank of the river.", "The bank approved my loan.", "Café naïve 😀 世界, didn't it?"]


@pytest.mark.parametrize("name", ["minilm", "mpnet", "smollm2"])
def test_known_weights_table_matches_the_packages(name: str) -> None:
    model, info = AutoModel.from_pretrained(resolve_model(name).path, output_loading_info=True)
    assert KNOWN_WEIGHTS[weights_key(model, skip=set(info["missing_keys"]))] == name


def test_minilm_by_path_gives_the_same_default_word_vectors(minilm: Embedder, tmp_path: Path) -> None:
    folder = Path(resolve_model("minilm").path)
    by_path = Embedder(str(folder), device="cpu")
    copy = tmp_path / "my-minilm"  # the transformers files only: no sentence-transformers modules
    copy.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(folder / name, copy / name)
    bare_copy = Embedder(str(copy), device="cpu")
    expected = minilm.embed_words(TEXTS)
    assert expected.layers.startswith("layers=2,3,4,5")  # the evaluated recipe, not the top layer
    for other in (by_path, bare_copy):
        assert (other.info.recipe.layers, other.info.recipe.context_only) == (
            RECIPES["minilm"].layers,
            RECIPES["minilm"].context_only,
        )
        got = other.embed_words(TEXTS)
        assert got.layers == expected.layers
        np.testing.assert_array_equal(got.vectors, expected.vectors)
        sentences = other.embed_sentences(TEXTS)
        assert (sentences.pooling, sentences.normalized) == ("mean_all", True)
        np.testing.assert_allclose(sentences.vectors, minilm.embed_sentences(TEXTS).vectors, atol=1e-6)
