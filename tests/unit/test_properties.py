"""Property-based tests over words, offsets and vectors: any Unicode text in, only ContextvecErrors out.

Texts mix every script with the characters that break aligners: emoji with skin tones and ZWJ sequences, flags,
combining marks, every kind of whitespace, control and format characters, lone surrogates. On the tiny in-code
models (WordPiece encoder, byte-level BPE decoder, byte-fallback BPE decoder): a result's offsets always index the
original text, its strings are exactly the text at those offsets, its words are split_words' words minus those the
tokenizer dropped (listed in `dropped`), and no vector holds NaN or infinity. Profile `long`: thousands of texts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contextvec import Embedder
from contextvec.errors import ContextvecError, InvalidInputError
from contextvec.text import split_words

WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()] + ["\u200b", "\u2060", "\ufeff", "\u180e"]
SPECIALS = [
    *WHITESPACE,
    "\x00", "\x07", "\x1b", "\x7f", "\u0085", "\u200d", "\u200c", "\u200e", "\u200f", "\u202e", "\u2066", "\u00ad",
    "\u0301", "\u0308", "\u20dd", "\u0e31", "\u094d", "\u3099",  # combining marks
    "😀", "👍🏽", "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "🇫🇷", "🇩🇪", "1️⃣", "\U000e0067",  # emoji, tags
    "didn't", "O'Neil", "3.14", "U.S.", "e.g.", "1,000.5", "a:b", "...", "--", "'", '"', ".",
    "世界", "こんにちは", "한국어", "שלום", "مرحبا", "नमस्ते", "ไทย", "ᐃᓄᒃᑎᑐᑦ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "[CLS]", "[SEP]", "<s>", "</s>", "<|endoftext|>", "##ing",
]  # fmt: skip
LETTERS = st.characters(exclude_categories=["Cs"])  # every assigned or unassigned code point but surrogates
TEXTS = st.lists(st.one_of(LETTERS, st.sampled_from(SPECIALS)), max_size=40).map("".join)
SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def _embedders(request: pytest.FixtureRequest) -> list[Embedder]:
    return [request.getfixturevalue(f"{name}_embedder") for name in ("bert", "llama", "fallback")]


def _check_rows(text: str, start: np.ndarray, end: np.ndarray, strings: list[str], vectors: np.ndarray) -> None:
    assert np.all((start >= 0) & (start < end) & (end <= len(text)))
    assert strings == [text[s:e] for s, e in zip(start.tolist(), end.tolist(), strict=True)]
    assert np.isfinite(vectors).all()


@SETTINGS
@given(text=TEXTS)
def test_words_and_tokens_of_any_text_index_the_original(request: pytest.FixtureRequest, text: str) -> None:
    words = split_words(text)
    for emb in _embedders(request):
        try:
            res = emb.embed_words([text])
        except ContextvecError:
            assert len(words) == 0 or not any(emb.backend.tokenize([text])[0].ids)  # nothing to embed
            continue
        _check_rows(text, res.start, res.end, res.strings, res.vectors)
        kept = {(int(s), int(e)) for s, e in zip(res.start, res.end, strict=True)}
        dropped = {(s, e) for _, s, e in res.dropped}
        assert kept | dropped == {tuple(w) for w in words.tolist()} and not kept & dropped
        tokens = emb.embed_tokens([text])
        _check_rows(text, tokens.start, tokens.end, tokens.strings, tokens.vectors)
        assert np.isfinite(emb.embed_sentences([text]).vectors).all()


@SETTINGS
@given(text=TEXTS, data=st.data())
def test_spans_on_word_edges_embed_and_others_are_refused(
    request: pytest.FixtureRequest, text: str, data: st.DataObject
) -> None:
    words = split_words(text).tolist()
    if not words:
        return
    i = data.draw(st.integers(0, len(words) - 1))
    j = data.draw(st.integers(i, len(words) - 1))
    s, e = words[i][0], words[j][1]
    emb = request.getfixturevalue("bert_embedder")
    try:
        res = emb.embed_spans([(text, s, e)])
    except ContextvecError:
        return  # e.g. every character of the span deleted by the tokenizer
    _check_rows(text, res.start, res.end, res.strings, res.vectors)
    assert (int(res.start[0]), int(res.end[0])) == (s, e)


@SETTINGS
@given(words=st.lists(TEXTS, min_size=1, max_size=8))
def test_pre_split_words_are_kept_as_given(request: pytest.FixtureRequest, words: list[str]) -> None:
    emb = request.getfixturevalue("llama_embedder")
    try:
        res = emb.embed_words([words])
    except ContextvecError:
        return
    text = " ".join(words)
    _check_rows(text, res.start, res.end, res.strings, res.vectors)
    assert set(res.strings) <= set(words)


@given(text=TEXTS, cut=st.integers(0, 40))
def test_a_lone_surrogate_anywhere_is_refused_with_its_position(text: str, cut: int) -> None:
    from contextvec.text import make_document

    cut = min(cut, len(text))
    bad = text[:cut] + "\ud83d" + text[cut:]
    with pytest.raises(InvalidInputError, match=r"lone surrogate U\+D83D at char"):
        make_document(bad, 0)
