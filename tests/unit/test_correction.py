"""Anisotropy correction: the per-layer means compose with every layer pooling; applied by the Embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contextvec import Embedder
from contextvec.analysis.correction import fit_correction
from contextvec.correction import Correction
from contextvec.errors import InputFileError, OptionError
from contextvec.options import resolve_layer_selection

TEXTS = [
    f"the {w} sat on the {v} near a river bank number {i}"
    for i, (w, v) in enumerate(
        zip(["cat", "dog", "bird", "man", "fox"] * 4, ["mat", "log", "wall", "hill", "road"] * 4, strict=True)
    )
]


@pytest.fixture(scope="module")
def centering(bert_embedder: Embedder) -> Correction:
    return fit_correction(bert_embedder, TEXTS, kind="center")


def test_means_are_the_token_means_of_every_layer(bert_embedder: Embedder, centering: Correction) -> None:
    L = bert_embedder.info.num_layers
    assert centering.means.shape == (L + 1, bert_embedder.info.hidden_size)
    tokens = bert_embedder.embed_tokens(TEXTS, layers=2).vectors
    np.testing.assert_allclose(centering.means[2], tokens.mean(axis=0), atol=1e-5)


@pytest.mark.parametrize(
    "layers,pooling", [(-1, "mean"), ("1:3", "mean"), ("0,2", "sum"), ("0,2", "concat"), ("1,2", [0.3, 0.7])]
)
def test_corrected_vectors_have_zero_mean_for_any_layer_selection(
    bert_embedder: Embedder, centering: Correction, layers: object, pooling: object
) -> None:
    corrected = Embedder.from_backend(bert_embedder.backend, token_budget=256, correction=centering)
    res = corrected.embed_tokens(TEXTS, layers=layers, layer_pooling=pooling)  # type: ignore[arg-type]
    np.testing.assert_allclose(res.vectors.mean(axis=0), 0.0, atol=1e-4)
    assert "correction=center" in res.layers
    raw = bert_embedder.embed_tokens(TEXTS, layers=layers, layer_pooling=pooling)  # type: ignore[arg-type]
    sel = resolve_layer_selection(layers, pooling, bert_embedder.info.num_layers)  # type: ignore[arg-type]
    np.testing.assert_allclose(res.vectors, raw.vectors - centering.shift(sel), atol=1e-5)


def test_sentence_vectors_are_never_corrected(bert_embedder: Embedder, centering: Correction) -> None:
    corrected = Embedder.from_backend(bert_embedder.backend, token_budget=256, correction=centering)
    a = corrected.embed_sentences(TEXTS[:3]).vectors
    b = bert_embedder.embed_sentences(TEXTS[:3]).vectors
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_whitening_decorrelates_the_fitted_layer(bert_embedder: Embedder, tmp_path: Path) -> None:
    w = fit_correction(bert_embedder, TEXTS, kind="whiten", layers=-1, dims=8)
    corrected = Embedder.from_backend(bert_embedder.backend, token_budget=256, correction=w)
    v = corrected.embed_tokens(TEXTS, layers=-1).vectors  # (n, 8)
    assert v.shape[1] == 8
    np.testing.assert_allclose(np.cov(v.T, bias=True), np.eye(8), atol=1e-2)
    with pytest.raises(OptionError, match="fitted for"):
        corrected.embed_tokens(TEXTS, layers=0)
    loaded = Correction.load(w.save(tmp_path / "w.npz"))
    assert loaded.selection == w.selection and loaded.whitening is not None
    np.testing.assert_allclose(loaded.whitening, w.whitening)  # type: ignore[arg-type]


def test_bad_correction_files_and_shapes(bert_embedder: Embedder, tmp_path: Path, centering: Correction) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        Correction.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="not a contextvec correction"):
        Correction.load(tmp_path / "junk.npz")
    wrong = Correction("other", "center", np.zeros((3, 7), np.float32), "x")
    with pytest.raises(OptionError, match="hidden states of size"):
        Embedder.from_backend(bert_embedder.backend, correction=wrong)
    with pytest.raises(OptionError, match="packages no corrections"):
        Embedder.from_backend(bert_embedder.backend, correction="center")
    path = centering.save(tmp_path / "c.npz")
    again = Embedder.from_backend(bert_embedder.backend, token_budget=256, correction=str(path))
    assert again.correction is not None
    np.testing.assert_allclose(again.correction.means, centering.means)


def test_context_only_subtracts_the_isolated_vector(bert_embedder: Embedder) -> None:
    text = "we sat on the bank of the river"
    full = bert_embedder.embed_spans([(text, 10, 18)], layers="1:")  # "the bank"
    alone = bert_embedder.embed_spans([("the bank", 0, 8)], layers="1:")
    ctx = bert_embedder.embed_spans([(text, 10, 18)], layers="1:", context_only=True)
    np.testing.assert_allclose(ctx.vectors, full.vectors - alone.vectors, atol=1e-5)
    assert ctx.layers.endswith("context_only")
    words = bert_embedder.embed_words([text, "the bank said no"], layers=-1, context_only=True)
    plain = bert_embedder.embed_words([text, "the bank said no"], layers=-1)
    isolated = bert_embedder.embed_words(["bank"], layers=-1).vectors[0]
    row = words.strings.index("bank")
    np.testing.assert_allclose(words.vectors[row], plain.vectors[row] - isolated, atol=1e-5)


def test_recipes_set_defaults_and_explicit_options_win(
    bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextvec.analysis.compare import compare_word
    from contextvec.models import recipes

    texts = ["the bank of the river", "the bank approved it"]
    from dataclasses import replace

    recipe = recipes.Recipe(layers="1:", context_only=True)  # a model's recipe is fixed when it loads (info.recipe)
    monkeypatch.setattr(bert_embedder.backend, "info", replace(bert_embedder.backend.info, recipe=recipe))
    default = bert_embedder.embed_words(texts)
    assert default.layers.startswith("layers=1,2,3 ")
    explicit = bert_embedder.embed_words(texts, layers=-1)
    assert explicit.layers.startswith("layers=3 ")
    cmp = compare_word(bert_embedder, texts, "bank")
    assert cmp.spans.layers.endswith("context_only")
    assert not compare_word(bert_embedder, texts, "bank", context_only=False).spans.layers.endswith("context_only")


def test_fitting_leaves_the_embedder_as_it_was(bert_embedder: Embedder, centering: Correction) -> None:
    corrected = Embedder.from_backend(bert_embedder.backend, token_budget=256, correction=centering)
    refit = fit_correction(corrected, TEXTS, kind="center")
    assert corrected.correction is centering  # not swapped out and back, not replaced
    np.testing.assert_allclose(refit.means, centering.means, atol=1e-5)  # fitted on uncorrected vectors
