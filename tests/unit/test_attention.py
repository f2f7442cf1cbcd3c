"""Attention merged to words: the merge rule, rows summing to 1, the causal mask, against raw transformers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contextvec import Embedder
from contextvec.analysis.attention import attention_by_word, merge_to_words
from contextvec.errors import InvalidInputError, LayerError


def test_merge_sums_columns_and_averages_rows() -> None:
    rng = np.random.default_rng(0)
    attn = rng.random((2, 5, 5)).astype(np.float32)
    attn /= attn.sum(-1, keepdims=True)
    owner = np.array([0, 1, 1, 2, 2])  # tokens 1-2 are one word, 3-4 another
    merged = merge_to_words(attn, owner)
    assert merged.shape == (2, 3, 3)
    direct = np.empty((2, 3, 3))
    for i in range(3):
        for j in range(3):
            rows, cols = np.flatnonzero(owner == i), np.flatnonzero(owner == j)
            direct[:, i, j] = attn[:, rows][:, :, cols].sum(-1).mean(-1)
    np.testing.assert_allclose(merged, direct, atol=1e-6)
    np.testing.assert_allclose(merged.sum(-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("fixture", ["bert_embedder", "llama_embedder"])
def test_word_rows_sum_to_one_and_match_the_model(fixture: str, request: pytest.FixtureRequest) -> None:
    emb: Embedder = request.getfixturevalue(fixture)
    text = "The chicken didn't cross the road because it was tired."
    att = attention_by_word(emb, text)
    assert att.weights.shape[0] == emb.info.num_layers
    np.testing.assert_allclose(att.weights.sum(-1), 1.0, atol=1e-5)
    words = [text[s:e] for s, e in att.spans.tolist() if s >= 0]
    assert words[:2] == ["The", "chicken"] and "it" in words
    # independent: raw transformers eager attention, merged by hand for the word "chicken" (one or more tokens)
    backend = emb.backend
    enc = backend.tokenizer.encode(text, add_special_tokens=True)
    model = backend.model
    model.set_attn_implementation("eager")
    with torch.no_grad():
        raw = model(input_ids=torch.tensor([enc.ids]), output_attentions=True).attentions  # L x (1, H, T, T)
    model.set_attn_implementation("sdpa")
    tok = [t for t, (s, e) in enumerate(enc.offsets) if e > s and s >= 4 and e <= 11]  # "chicken" is text[4:11]
    top = raw[-1][0].mean(0).numpy()  # (T, T), last layer, mean of heads
    ci = att.labels.index("chicken")
    assert att.select(-1)[ci, ci] == pytest.approx(top[np.ix_(tok, tok)].sum(-1).mean(), abs=1e-5)
    if emb.info.causal:  # a decoder never looks right (among words; a merged "(space)" column sits at the end)
        w = np.flatnonzero(att.is_word)
        assert np.allclose(np.triu(att.weights[..., w[:, None], w[None, :]], k=1), 0.0, atol=1e-7)
        assert att.causal


def test_attention_errors(bert_embedder: Embedder) -> None:
    att = attention_by_word(bert_embedder, "it was it")
    assert att.index("it", 2) == att.labels.index("it", att.labels.index("it") + 1)
    with pytest.raises(InvalidInputError, match="occurs 2"):
        att.index("it", 3)
    with pytest.raises(LayerError, match="layer=9"):
        att.select(9)
    with pytest.raises(LayerError, match="head=99"):
        att.select(0, 99)
    with pytest.raises(InvalidInputError, match="window"):
        attention_by_word(bert_embedder, "word " * 200)
    labels, sub = att.words_only(att.select())
    assert labels == ["it", "was", "it"]
    np.testing.assert_allclose(sub.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("fixture", ["bert_embedder", "llama_embedder"])
def test_the_reference_transformer_gives_the_same_word_attention(fixture: str, request: pytest.FixtureRequest) -> None:
    from contextvec.transformer import Transformer

    emb: Embedder = request.getfixturevalue(fixture)
    text = "The chicken didn't cross the road because it was tired."
    ref = Transformer.from_transformers(emb.backend.model)
    plain, traced = attention_by_word(emb, text), attention_by_word(emb, text, reference=ref)
    assert traced.labels == plain.labels
    np.testing.assert_allclose(traced.weights, plain.weights, atol=1e-5)
    assert not np.allclose(traced.weights[0], traced.weights[-1])  # layers differ: the comparison can fail
