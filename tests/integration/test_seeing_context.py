"""Senses, attention and the evaluation data with the real models and the installed offline data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests_helpers import BANK_EXAMPLES

from contextvec import Embedder
from contextvec.analysis.attention import attention_by_word
from contextvec.data.classification import bbc_news, rotten_tomatoes
from contextvec.eval.analogy import evaluate_analogy
from contextvec.eval.senses import score_senses, sense_sets, summarize
from contextvec.eval.wic import build_wordnet_pairs
from contextvec.static.embedder import StaticEmbedder
from contextvec.static.packaged import load_static

WORDS = ("line.n", "run.v", "play.v", "post.n", "bank.n", "interest.n", "right.n", "run.n", "play.n", "head.n")


def test_sense_induction_beats_chance_and_static_vectors_cannot(minilm: Embedder) -> None:
    sets = sense_sets()
    assert len(sets) > 500  # lemmas with 2+ senses of 2+ examples each
    sample = {w: sets[w] for w in WORDS if w in sets}
    contextual = summarize(score_senses(minilm, sample))
    assert max(contextual["ari"]) > 0.15  # type: ignore[arg-type]
    assert max(contextual["loo_accuracy"]) > contextual["chance"] + 0.15  # type: ignore[operator, arg-type]
    static = summarize(score_senses(StaticEmbedder.load("glove-50d"), sample))
    # one vector per word form: only inflections ("bank" / "banks") can separate occurrences
    assert static["ari"][0] < 0.05 < max(contextual["ari"]) - 0.1  # type: ignore[index, arg-type, operator]


def test_wordnet_wic_pairs_are_balanced_and_split_by_lemma() -> None:
    train, test = build_wordnet_pairs()
    assert len(train) > 4000 and len(test) > 1500
    assert {p.word for p in train}.isdisjoint({p.word for p in test})
    for split in (train, test):
        assert sum(p.label for p in split) * 2 == len(split)
    p = test[0]
    assert p.sentence1[p.start1 : p.end1].lower().startswith(p.word[:3])


def test_attention_of_a_real_encoder_matches_transformers(minilm: Embedder) -> None:
    text = "The chicken didn't cross the road because it was too tired."
    att = attention_by_word(minilm, text)
    assert att.labels[0] == "[CLS]" and att.labels[-1] == "[SEP]"
    np.testing.assert_allclose(att.weights.sum(-1), 1.0, atol=1e-5)
    model = minilm.backend.model
    enc = minilm.backend.tokenizer.encode(text, add_special_tokens=True)
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            raw = model(input_ids=torch.tensor([enc.ids]), output_attentions=True).attentions
    finally:
        model.set_attn_implementation("sdpa")
    it_tok = [t for t, (s, e) in enumerate(enc.offsets) if text[s:e] == "it"]
    tired = [t for t, (s, e) in enumerate(enc.offsets) if text[s:e] == "tired"]
    i, j = att.labels.index("it"), att.labels.index("tired")
    assert att.weights[2, 5, i, j] == pytest.approx(float(raw[2][0, 5, it_tok[0], tired].sum()), abs=1e-5)


def test_glove_analogies_agree_with_gensim() -> None:
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    vectors = load_static("glove-50d")
    ours = evaluate_analogy(vectors, restrict=30000)
    kv = KeyedVectors(vector_size=vectors.dim)
    kv.add_vectors(vectors.words[:30000], np.asarray(vectors.matrix[:30000]))
    score, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=30000)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    assert ours.covered == len(total["correct"]) + len(total["incorrect"])
    assert ours.accuracy == pytest.approx(score, abs=0.005)


def test_classification_data_is_installed() -> None:
    rt = rotten_tomatoes()
    assert len(rt.texts) == 4866 and set(rt.labels) == {"fresh", "rotten"}
    bbc = bbc_news()
    assert len(bbc.texts) == 2225 and len(set(bbc.labels)) == 5


def test_labelling_new_uses_from_four_examples(minilm: Embedder) -> None:
    from contextvec.analysis.senses import SenseLabeler

    examples = BANK_EXAMPLES
    labeler = SenseLabeler().fit_examples(minilm, examples)
    texts = [
        "She opened an account at the bank.",
        "Fish swam near the grassy bank.",
        "The bank raised its interest rates.",
        "They fished from the bank of the stream.",
    ]
    spans = [(t, t.find("bank"), t.find("bank") + 4) for t in texts]
    assert labeler.label_spans(minilm, spans) == ["money", "river", "money", "river"]
