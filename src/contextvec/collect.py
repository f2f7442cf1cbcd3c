"""The spine's last step: a stream of per-text token vectors (engine.DocVectors) -> rows of one level.

Each function consumes the stream in completion order and puts every row back in the caller's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contextvec.alignment.words import align_words, first_word_of_tokens
from contextvec.engine import DocVectors
from contextvec.errors import SpanError
from contextvec.options import LayerPoolingArg, LayersArg, SentencePooling, SubwordPooling
from contextvec.pooling.sentence import pool_sentence
from contextvec.pooling.subwords import pool_rows, pool_words
from contextvec.protocol import EmbedderProtocol
from contextvec.spans import CheckedSpans
from contextvec.text import Document

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TokenRows:
    vectors: F32  # (N, D')
    offsets: list[I64]  # per text (n_i, 2)
    word_index: I64  # (N,)
    pieces: list[str]  # (N,)


def collect_tokens(stream: Iterator[DocVectors], docs: list[Document], piece: Callable[[int], str]) -> TokenRows:
    n = len(docs)
    vecs: list[F32] = [np.empty(0, dtype=np.float32)] * n
    offsets: list[I64] = [np.empty(0, dtype=np.int64)] * n
    word_index: list[I64] = [np.empty(0, dtype=np.int64)] * n
    pieces: list[list[str]] = [[] for _ in docs]
    for dv in stream:
        enc = dv.encoded
        vecs[dv.index], offsets[dv.index] = dv.vectors, enc.offsets
        word_index[dv.index] = first_word_of_tokens(enc.offsets, docs[dv.index].words)
        pieces[dv.index] = [piece(t) for t in enc.ids.tolist()]
    return TokenRows(np.concatenate(vecs), offsets, np.concatenate(word_index), [x for ps in pieces for x in ps])


@dataclass(frozen=True)
class WordRows:
    vectors: F32  # (W, D')
    spans: list[I64]  # per text (w_i, 2): the words that have a vector
    n_subwords: I64  # (W,)
    dropped: list[tuple[int, int, int]]  # (text_index, start, end) of words the tokenizer removed entirely


def collect_words(stream: Iterator[DocVectors], docs: list[Document], pooling: SubwordPooling) -> WordRows:
    n = len(docs)
    vecs: list[F32] = [np.empty(0, dtype=np.float32)] * n
    spans: list[I64] = [np.empty(0, dtype=np.int64)] * n
    counts: list[I64] = [np.empty(0, dtype=np.int64)] * n
    dropped: list[tuple[int, int, int]] = []
    for dv in stream:
        words = docs[dv.index].words
        alignment = align_words(dv.encoded.offsets, words)
        kept = alignment.counts > 0
        if not kept.all():  # words whose every character the tokenizer removed: reported, not invented
            dropped.extend((dv.index, int(s), int(e)) for s, e in words[~kept].tolist())
            words = words[kept]
            alignment = align_words(dv.encoded.offsets, words)
        vecs[dv.index] = pool_words(dv.vectors, alignment, pooling)  # (T, D') -> (W, D')
        spans[dv.index] = words
        counts[dv.index] = alignment.counts
    return WordRows(np.concatenate(vecs), spans, np.concatenate(counts), sorted(dropped))


def collect_spans(stream: Iterator[DocVectors], checked: CheckedSpans, pooling: SubwordPooling, model_id: str) -> F32:
    """(N, D') one pooled vector per requested span, in request order."""
    by_doc: dict[int, list[int]] = {}
    for k, d in enumerate(checked.doc_of):
        by_doc.setdefault(d, []).append(k)
    rows: list[F32] = [np.empty(0, dtype=np.float32)] * len(checked.strings)
    for dv in stream:
        alignment = align_words(dv.encoded.offsets, checked.docs[dv.index].words)
        for k in by_doc[dv.index]:
            tokens = alignment.tokens_of(checked.first_word[k], checked.last_word[k])
            if len(tokens) == 0:
                raise SpanError(
                    f"span {k} ({checked.start[k]}, {checked.end[k]}) covers only characters that model "
                    f"{model_id!r}'s tokenizer drops, so it has no vector; choose a span with visible text."
                )
            rows[k] = pool_rows(dv.vectors, tokens, pooling)
    return np.stack(rows)


def collect_sentences(stream: Iterator[DocVectors], n_docs: int, mode: SentencePooling) -> tuple[F32, I64]:
    """(N, D') one vector per text, and (N,) the number of content tokens of each text."""
    rows: list[F32] = [np.empty(0, dtype=np.float32)] * n_docs
    n_tokens = np.zeros(n_docs, dtype=np.int64)
    for dv in stream:
        rows[dv.index] = pool_sentence(dv.vectors, dv.specials, mode)
        n_tokens[dv.index] = len(dv.encoded.ids)
    return np.stack(rows), n_tokens


def out_of_context(
    embedder: EmbedderProtocol,
    strings: list[str],
    layers: LayersArg | None,
    layer_pooling: LayerPoolingArg,
    subword_pooling: SubwordPooling,
) -> F32:
    """(n, D') the out-of-context vector of each string: the string embedded alone, all of its tokens pooled."""
    unique = sorted(set(strings))
    alone = embedder.embed_spans(
        [(w, 0, len(w)) for w in unique], layers=layers, layer_pooling=layer_pooling, subword_pooling=subword_pooling
    ).vectors  # (U, D')
    table = dict(zip(unique, alone, strict=True))
    return np.stack([table[w] for w in strings])
