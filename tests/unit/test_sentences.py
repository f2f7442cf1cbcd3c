"""The regex sentence splitter: exact offsets, every visible character in exactly one sentence."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from contextvec.sentences import sentence_of, sentence_of_docs, split_sentences
from contextvec.text import split_words


def texts_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text).tolist()]


def test_splits_after_terminal_punctuation_and_line_breaks() -> None:
    text = 'We sat on the bank. It was warm! Was it? "Yes," she said.\nA new line…  The end'
    assert texts_of(text) == [
        "We sat on the bank.",
        "It was warm!",
        "Was it?",
        '"Yes," she said.',
        "A new line…",
        "The end",
    ]


def test_no_split_inside_numbers_or_before_lowercase() -> None:
    assert texts_of("Pi is 3.14 today. and so on. 42 is next") == ["Pi is 3.14 today. and so on.", "42 is next"]


def test_blank_text_has_no_sentences_and_sentence_of_maps_offsets() -> None:
    assert split_sentences("  \n ").shape == (0, 2)
    text = "One two. Three four."
    spans = split_sentences(text)
    assert sentence_of(spans, np.asarray([0, 4, 9, 15])).tolist() == [0, 0, 1, 1]


@given(st.lists(st.sampled_from(["word", "Bank", ".", "!", " ", "\n", "3", '"', "é", "\u2028", "…"]), max_size=40))
def test_spans_are_exact_sorted_and_cover_every_visible_character(parts: list[str]) -> None:
    text = "".join(parts)
    spans = split_sentences(text)
    covered = np.zeros(len(text), dtype=bool)
    last = -1
    for s, e in spans.tolist():
        assert last <= s < e
        piece = text[s:e]
        assert piece == piece.strip() and piece
        covered[s:e] = True
        last = e
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(text))


@given(st.lists(st.text(alphabet="ab. !?\nXY", min_size=1, max_size=30).filter(str.strip), min_size=1, max_size=6))
def test_sentence_of_docs_matches_sentence_of_per_document(texts: list[str]) -> None:
    sentences = [split_sentences(t) for t in texts]
    words = [split_words(t) for t in texts]
    doc = np.concatenate([np.full(len(w), i, dtype=np.int64) for i, w in enumerate(words)])
    starts = np.concatenate([w[:, 0] for w in words]).astype(np.int64)
    got = sentence_of_docs(sentences, doc, starts)
    first = np.cumsum([0] + [len(s) for s in sentences])
    want = [first[i] + sentence_of(sentences[i], w[:, 0]) for i, w in enumerate(words)]
    assert got.tolist() == np.concatenate(want).tolist()
    assert all(
        sentences[d][g - first[d], 0] <= s < sentences[d][g - first[d], 1]
        for d, g, s in zip(doc, got, starts, strict=True)
    )
