"""One embedder contract: every embedder satisfies EmbedderProtocol and fills the shared fields identically."""

from __future__ import annotations

import numpy as np
import pytest

from contextvec import Embedder
from contextvec.errors import OptionError
from contextvec.loader import load_contextual, load_embedder, load_static
from contextvec.protocol import EmbedderProtocol
from contextvec.static.embedder import StaticEmbedder
from contextvec.static.vectors import StaticVectors

TEXTS = ["The bank approved my loan.", "We sat on the bank of the river.", "The bank approved my loan."]
# (text, start, end): several spans in one text, a text given twice, a multi-word span, spans out of text order
SPANS = [(TEXTS[1], 14, 18), (TEXTS[0], 4, 8), (TEXTS[1], 3, 6), (TEXTS[2], 4, 17), (TEXTS[0], 4, 8)]
WORDS = ["the", "bank", "approved", "my", "loan", "we", "sat", "on", "of", "river", "."]


@pytest.fixture()
def static() -> StaticEmbedder:
    rng = np.random.default_rng(0)
    return StaticEmbedder(
        StaticVectors(WORDS, rng.normal(size=(len(WORDS), 8)).astype(np.float32), name="toy", lowercase=True)
    )


def test_both_embedders_satisfy_the_protocol(bert_embedder: Embedder, static: StaticEmbedder) -> None:
    for emb in (bert_embedder, static):
        assert isinstance(emb, EmbedderProtocol)
    assert (bert_embedder.contextual, static.contextual) == (True, False)
    assert bert_embedder.num_states == bert_embedder.info.num_layers + 1 and static.num_states == 1
    assert (bert_embedder.dim, static.dim) == (bert_embedder.info.hidden_size, 8)


def test_spans_share_provenance_across_embedders(bert_embedder: Embedder, static: StaticEmbedder) -> None:
    contextual = bert_embedder.embed_spans(SPANS)
    fixed = static.embed_spans(SPANS)
    for field in ("text_index", "start", "end"):
        assert getattr(contextual, field).tolist() == getattr(fixed, field).tolist(), field
    assert contextual.strings == fixed.strings == ["bank", "bank", "sat", "bank approved", "bank"]
    assert contextual.text_index.tolist() == [0, 1, 2, 3, 4]  # the span's position in the request


def test_words_and_sentences_share_provenance(bert_embedder: Embedder, static: StaticEmbedder) -> None:
    words_c, words_s = bert_embedder.embed_words(TEXTS), static.embed_words(TEXTS)
    for field in ("text_index", "start", "end", "strings"):
        assert np.asarray(getattr(words_c, field)).tolist() == np.asarray(getattr(words_s, field)).tolist(), field
    sent_c, sent_s = bert_embedder.embed_sentences(TEXTS), static.embed_sentences(TEXTS)
    assert sent_c.text_index.tolist() == sent_s.text_index.tolist() == [0, 1, 2]
    assert sent_c.end.tolist() == sent_s.end.tolist() == [len(t) for t in TEXTS]
    tokens = static.embed_tokens(TEXTS)  # a static model's tokens are its words
    assert tokens.strings == words_s.strings and tokens.pieces == words_s.strings


def test_static_refuses_what_it_cannot_mean(static: StaticEmbedder) -> None:
    with pytest.raises(OptionError, match="single layer"):
        static.embed_words(TEXTS, layers="0,1")
    with pytest.raises(OptionError, match="no context to isolate"):
        static.embed_spans(SPANS, context_only=True)


def test_the_one_loader_names_what_is_wrong(tmp_path: object) -> None:
    with pytest.raises(OptionError, match="unknown option"):
        load_embedder("glove-50d", devcie="cpu")
    with pytest.raises(OptionError, match="static vector model"):
        load_embedder("glove-50d", device="cpu")
    vec = tmp_path / "v.txt"  # type: ignore[operator]
    vec.write_text("2 2\nbank 1 0\nriver 0 1\n", encoding="utf-8")
    assert isinstance(load_embedder(str(vec)), StaticEmbedder)
    with pytest.raises(OptionError, match="needs a contextual model"):
        load_contextual(str(vec), purpose="attention")
    assert load_static(str(vec), purpose="neighbors").model_id


def test_sentence_recipe_defaults_and_overrides(bert_embedder: Embedder) -> None:
    from dataclasses import replace

    from contextvec.models.recipes import SentenceRecipe

    plain = bert_embedder.embed_sentences(TEXTS)
    assert plain.pooling == "mean" and not plain.normalized  # no declared recipe: content mean, as is
    backend = bert_embedder.backend
    st_like = replace(backend.info, sentence_recipe=SentenceRecipe(pooling="mean_all", normalize=True))
    emb = Embedder.from_backend(backend, token_budget=256)
    emb.backend = type(backend).__new__(type(backend))
    emb.backend.__dict__.update(backend.__dict__ | {"info": st_like})
    res = emb.embed_sentences(TEXTS)
    assert res.pooling == "mean_all" and res.normalized
    np.testing.assert_allclose(np.linalg.norm(res.vectors, axis=1), 1.0, atol=1e-5)
    raw = emb.embed_sentences(TEXTS, pooling="mean_all", normalize=False).vectors
    np.testing.assert_allclose(res.vectors, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-5)
    assert res.n_tokens.tolist() == [len(backend.tokenize([t])[0].ids) for t in TEXTS]
