"""The Embedder on tiny random models, checked against an independent raw-transformers computation."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from reference import cosines, hidden_states, simple_words, word_vectors

from contextvec import Embedder
from contextvec.alignment.windows import plan_windows
from contextvec.errors import ContextvecError, InvalidInputError, LayerError, OptionError, SpanError
from contextvec.text import make_document, split_words

PLAIN = [
    "We sat on the bank of the river.",
    "The bank approved my loan after a long review.",
    "it was too tired, so the chicken didn't cross the road!",
]
WEIRD = [
    "😀👍🏽 emoji and 👨‍👩‍👧 family",
    "zero\u200bwidth and join\u200der",
    "cafe\u0301 combining marks",
    "世界你好 CJK and こんにちは",
    "שלום RTL مرحبا text",
    "line\u2028separator and\u2029paragraph",
    "\ufeffBOM at the start",
    "control\x07chars\x1bhere",
    "[CLS] special [SEP] strings <s> in </s> text <|endoftext|>",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines",
    "x",
]


def _ref(
    embedder: Embedder,
    tokenizer: object,
    text: str,
    spans: list[tuple[int, int]],
    layers: list[int],
    mode: str = "mean",
) -> np.ndarray:
    return word_vectors(tokenizer, embedder.backend.model, text, spans, layers, mode)


@pytest.mark.parametrize("mode", ["mean", "max", "first", "last"])
def test_word_vectors_match_raw_transformers(bert_embedder: Embedder, wordpiece_tokenizer: object, mode: str) -> None:
    res = bert_embedder.embed_words(PLAIN, layers="-2:", subword_pooling=mode)  # type: ignore[arg-type]
    for i, text in enumerate(PLAIN):
        rows = res.rows_of(i)
        spans = simple_words(text)
        assert [(int(s), int(e)) for s, e in zip(res.start[rows], res.end[rows], strict=True)] == spans
        expected = _ref(bert_embedder, wordpiece_tokenizer, text, spans, [2, 3], mode)
        assert cosines(res.vectors[rows], expected).min() >= 0.9999


def test_decoder_word_vectors_match_raw_transformers(llama_embedder: Embedder, bpe_tokenizer: object) -> None:
    res = llama_embedder.embed_words(PLAIN, layers=-1)
    for i, text in enumerate(PLAIN):
        expected = _ref(llama_embedder, bpe_tokenizer, text, simple_words(text), [2])
        assert cosines(res.vectors[res.rows_of(i)], expected).min() >= 0.9999


def test_byte_fallback_tokens_align_and_match(fallback_embedder: Embedder, fallback_tokenizer: object) -> None:
    text = "the bank 世界 😀 ok"
    res = fallback_embedder.embed_words([text], layers=-1)
    assert res.strings == ["the", "bank", "世", "界", "😀", "ok"]  # UAX #29: one word per Han character
    assert res.n_subwords[2] == 3 and res.n_subwords[4] == 4  # one <0xNN> piece per UTF-8 byte
    expected = _ref(
        fallback_embedder,
        fallback_tokenizer,
        text,
        [(int(s), int(e)) for s, e in zip(res.start, res.end, strict=True)],
        [2],
    )
    assert cosines(res.vectors, expected).min() >= 0.9999


def test_token_vectors_match_and_exclude_special_tokens(bert_embedder: Embedder, wordpiece_tokenizer: object) -> None:
    text = PLAIN[2]
    res = bert_embedder.embed_tokens([text], layers="0,3", layer_pooling="concat")
    states, offsets, content = hidden_states(wordpiece_tokenizer, bert_embedder.backend.model, text)
    expected = np.concatenate([states[0], states[3]], axis=1)[content]  # (T, 2D), no [CLS]/[SEP]
    assert res.vectors.shape == expected.shape
    np.testing.assert_allclose(res.vectors, expected, atol=1e-5)
    np.testing.assert_array_equal(np.stack([res.start, res.end], 1), offsets[content])
    assert "[CLS]" not in res.pieces and "[SEP]" not in res.pieces
    assert all(res.strings[k] == text[s:e] for k, (s, e) in enumerate(zip(res.start, res.end, strict=True)))


def test_scalar_weights_and_sum_follow_the_formula(bert_embedder: Embedder, wordpiece_tokenizer: object) -> None:
    text = PLAIN[0]
    states, _, content = hidden_states(wordpiece_tokenizer, bert_embedder.backend.model, text)
    got = bert_embedder.embed_tokens([text], layers="1,3", layer_pooling=[0.3, 1.7]).vectors
    np.testing.assert_allclose(got, (0.3 * states[1] + 1.7 * states[3])[content], atol=1e-5)
    got = bert_embedder.embed_tokens([text], layers="all", layer_pooling="sum").vectors
    np.testing.assert_allclose(got, np.sum(states, axis=0)[content], atol=1e-4)


def test_span_pools_all_subwords_of_its_words(bert_embedder: Embedder, wordpiece_tokenizer: object) -> None:
    text = PLAIN[1]
    spans = [(text, 4, 8), (text, 0, 20), (text, 34, 46)]  # "bank", "The bank approved my", "long review."
    res = bert_embedder.embed_spans(spans, layers=-1)
    assert res.strings == ["bank", "The bank approved my", "long review."]
    states, offsets, content = hidden_states(wordpiece_tokenizer, bert_embedder.backend.model, text)
    for k, (_, s, e) in enumerate(spans):
        idx = [t for t in range(len(offsets)) if content[t] and offsets[t][0] < e and s < offsets[t][1]]
        assert cosines(res.vectors[k], states[-1][idx].mean(0)) >= 0.9999
    assert res.text_index.tolist() == [0, 1, 2]  # a span row's text_index is its position in the request


def test_sentence_pooling_modes(bert_embedder: Embedder, wordpiece_tokenizer: object) -> None:
    states, _, content = hidden_states(wordpiece_tokenizer, bert_embedder.backend.model, PLAIN[0])
    top = states[-1]
    expected = {
        "cls": top[0],
        "mean": top[content].mean(0),
        "mean_all": top.mean(0),  # every token, [CLS] and [SEP] included (sentence-transformers' mean)
        "max": top[content].max(0),
        "last": top[content][-1],
    }
    for mode, vec in expected.items():
        got = bert_embedder.embed_sentences([PLAIN[0]], pooling=mode).vectors[0]  # type: ignore[arg-type]
        np.testing.assert_allclose(got, vec, atol=1e-5, err_msg=mode)


def test_caller_order_survives_length_sorted_batching(bert_embedder: Embedder) -> None:
    rng = random.Random(7)
    texts = [
        " ".join(rng.choice(["the", "bank", "river", "loan", "sat", "on"]) for _ in range(rng.randint(1, 40)))
        for _ in range(60)
    ]
    base = bert_embedder.embed_sentences(texts).vectors
    perm = list(range(len(texts)))
    rng.shuffle(perm)
    shuffled = bert_embedder.embed_sentences([texts[i] for i in perm]).vectors
    np.testing.assert_allclose(shuffled, base[perm], atol=1e-5)
    alone = np.stack([bert_embedder.embed_sentences([t]).vectors[0] for t in texts[:8]])
    np.testing.assert_allclose(alone, base[:8], atol=1e-5)  # padding in a batch changes nothing


@pytest.mark.parametrize("causal", [False, True])
def test_long_text_gets_each_token_from_its_best_context_window(
    causal: bool, bert_embedder: Embedder, llama_embedder: Embedder
) -> None:
    embedder = llama_embedder if causal else bert_embedder
    rng = random.Random(3)
    text = " ".join(
        rng.choice(["the", "bank", "river", "approved", "loan", "sat", "on", "chicken", "road"]) for _ in range(300)
    )
    res = embedder.embed_tokens([text])
    backend = embedder.backend
    ids = backend.tokenizer.encode(text, add_special_tokens=False).ids
    assert len(res) == len(ids)  # nothing truncated
    capacity = backend.info.max_length - len(backend.prefix_ids) - len(backend.suffix_ids)
    windows = plan_windows(len(ids), capacity, embedder.run_options.stride)
    assert len(windows) > 3
    P = len(backend.prefix_ids)
    per_window = []
    for s, e in windows:  # independent forward of each window, one at a time
        row = torch.tensor([backend.prefix_ids + ids[s:e] + backend.suffix_ids])
        with torch.no_grad():
            out = backend.model(input_ids=row, output_hidden_states=True).hidden_states[-1][0].numpy()
        per_window.append(out[P : P + e - s])
    n = len(ids)
    for t in range(n):

        def ctx(s: int, e: int, t: int = t) -> int:
            left = t - s if s > 0 else n + 1
            right = e - 1 - t if e < n else n + 1
            return left if causal else min(left, right)

        best = max(
            range(len(windows)), key=lambda w: (ctx(*windows[w]) if windows[w][0] <= t < windows[w][1] else -1, -w)
        )
        s, _ = windows[best]
        np.testing.assert_allclose(res.vectors[t], per_window[best][t - s], atol=1e-5)


def test_weird_texts_embed_with_offsets_into_the_original(any_embedder: Embedder) -> None:
    words = any_embedder.embed_words(WEIRD)
    tokens = any_embedder.embed_tokens(WEIRD)
    for res in (words, tokens):
        assert np.isfinite(res.vectors).all()
        for k in range(len(res)):
            text = WEIRD[int(res.text_index[k])]
            assert res.strings[k] == text[res.start[k] : res.end[k]]
    for i, text in enumerate(WEIRD):  # every word is either embedded or reported as dropped
        n_dropped = sum(1 for d in words.dropped if d[0] == i)
        assert len(words.rows_of(i)) + n_dropped == len(split_words(text))
    # user text that looks like a special token is read as text, never as the control token itself
    specials = {"[CLS]", "[SEP]", "<s>", "</s>", "<|endoftext|>"}
    assert not specials & set(tokens.pieces)
    assert {"CLS", "SEP", "endoftext"} <= set(words.strings)


def test_pre_split_words(bert_embedder: Embedder) -> None:
    res = bert_embedder.embed_words([["We", "sat", "on", "the", "riverbank"]])
    assert res.strings == ["We", "sat", "on", "the", "riverbank"]
    assert res.n_subwords[-1] > 1


def test_a_document_embeds_like_its_text(bert_embedder: Embedder) -> None:
    text = "We sat on the bank of the river."
    direct = bert_embedder.embed_words([text, "Another one."])
    given = bert_embedder.embed_words([make_document(text, 0), "Another one."])
    assert given.strings == direct.strings and given.start.tolist() == direct.start.tolist()
    np.testing.assert_array_equal(given.vectors, direct.vectors)


def test_bad_calls_raise_contextvec_errors(bert_embedder: Embedder, llama_embedder: Embedder) -> None:
    with pytest.raises(InvalidInputError, match="text 1 is empty"):
        bert_embedder.embed_words(["fine", ""])
    with pytest.raises(LayerError, match="layer 9 does not exist"):
        bert_embedder.embed_words(["fine"], layers=9)
    with pytest.raises(OptionError, match="unknown option\\(s\\) subword_pool; valid options:"):
        bert_embedder.embed_words(["fine"], subword_pool="mean")  # type: ignore[call-arg]
    with pytest.raises(OptionError, match="subword_pooling='avg' is not valid"):
        bert_embedder.embed_words(["fine"], subword_pooling="avg")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="pooling='cls' needs a model that puts a special token first"):
        llama_embedder.embed_sentences(["fine"], pooling="cls")
    with pytest.raises(SpanError, match="span 1 \\(3, 5\\) = ' b' does not start and end on word boundaries"):
        bert_embedder.embed_spans([("the bank", 4, 8), ("the bank", 3, 5)])
    with pytest.raises(SpanError, match="each span is a \\(text, start, end\\) tuple"):
        bert_embedder.embed_spans([("the bank", 4)])  # type: ignore[list-item]
    assert issubclass(SpanError, ContextvecError)
