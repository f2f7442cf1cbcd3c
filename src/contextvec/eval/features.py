"""Frozen features for the evaluation runners, every layer at once: one pass through the spine with all hidden
states concatenated, then split, so an evaluation per layer costs one forward pass, not L+1.

Static models (one layer) give (N, 1, D). Features are stored as float16 when asked, to keep many layers of
many words in memory (a probe does not need more precision).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from contextvec.embedder import Embedder
from contextvec.options import SentencePooling, SubwordPooling
from contextvec.static.embedder import StaticEmbedder

AnyEmbedder = Embedder | StaticEmbedder
F32 = npt.NDArray[np.float32]


def n_layers(embedder: AnyEmbedder) -> int:
    """How many feature layers: L+1 hidden states for a contextual model, 1 for a static one."""
    return 1 if isinstance(embedder, StaticEmbedder) else embedder.info.num_layers + 1


def _layered(embedder: AnyEmbedder) -> dict[str, object]:
    return {} if isinstance(embedder, StaticEmbedder) else {"layers": "all", "layer_pooling": "concat"}


def span_features(
    embedder: AnyEmbedder, spans: Sequence[tuple[str, int, int]], subword_pooling: SubwordPooling = "mean"
) -> F32:
    """(N, S, D) vectors of (text, start, end) spans at every layer."""
    if isinstance(embedder, StaticEmbedder):
        res = embedder.embed_spans(list(spans))
    else:
        res = embedder.embed_spans(list(spans), layers="all", layer_pooling="concat", subword_pooling=subword_pooling)
    return res.vectors.reshape(len(spans), n_layers(embedder), -1)


def sentence_features(
    embedder: AnyEmbedder, texts: Sequence[str], pooling: SentencePooling = "mean", chunk: int = 512
) -> F32:
    """(N, S, D) sentence vectors at every layer."""
    parts = []
    for start in range(0, len(texts), chunk):
        part = list(texts[start : start + chunk])
        if isinstance(embedder, StaticEmbedder):
            v = np.stack([_static_mean(embedder, t) for t in part])
        else:
            v = embedder.embed_sentences(part, pooling=pooling, layers="all", layer_pooling="concat").vectors
        parts.append(v.reshape(len(part), n_layers(embedder), -1))
    return np.concatenate(parts)


def _static_mean(embedder: StaticEmbedder, text: str) -> F32:
    """Mean of the known words' vectors; zeros when the vocabulary knows none (a probe must see every text)."""
    from contextvec.text import split_words

    rows = [embedder.vectors.lookup(text[s:e]) for s, e in split_words(text).tolist()]
    known = [r for r in rows if r is not None]
    if not known:
        return np.zeros(embedder.vectors.dim, dtype=np.float32)
    out: F32 = np.mean(known, axis=0).astype(np.float32)
    return out


def word_features(
    embedder: AnyEmbedder, sentences: Sequence[Sequence[str]], chunk: int = 256, dtype: type = np.float16
) -> npt.NDArray[np.floating]:
    """(W, S, D) vectors of every word of pre-split sentences, in order (static OOV words get zeros)."""
    parts: list[npt.NDArray[np.floating]] = []
    it = iter(sentences)
    while batch := [list(s) for s in itertools.islice(it, chunk)]:
        if isinstance(embedder, StaticEmbedder):
            rows = [embedder.vectors.lookup(w) for s in batch for w in s]
            v = np.stack([r if r is not None else np.zeros(embedder.vectors.dim, np.float32) for r in rows])
        else:
            res = embedder.embed_words(batch, **_layered(embedder))  # type: ignore[arg-type]
            if res.dropped:
                raise ValueError(f"words dropped by the tokenizer: {res.dropped[:3]}")
            v = res.vectors
        parts.append(v.reshape(len(v), n_layers(embedder), -1).astype(dtype))
    return np.concatenate(parts)
