"""Frozen features for the evaluation runners, every layer at once: one pass through the spine with all hidden
states concatenated, then split, so an evaluation per layer costs one forward pass, not L+1.

Static models (one layer) give (N, 1, D). Features are stored as float16 when asked, to keep many layers of
many words in memory (a probe does not need more precision).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from contextvec.errors import InvalidInputError
from contextvec.options import SentencePooling, SubwordPooling
from contextvec.protocol import EmbedderProtocol
from contextvec.static.embedder import StaticEmbedder

F32 = npt.NDArray[np.float32]


def n_layers(embedder: EmbedderProtocol) -> int:
    """How many feature layers: L+1 hidden states for a contextual model, 1 for a static one."""
    return embedder.num_states


def _layered(embedder: EmbedderProtocol) -> dict[str, Any]:
    """Every layer at once (concatenated) where there is more than one."""
    return {"layers": "all", "layer_pooling": "concat"} if embedder.num_states > 1 else {}


def span_features(
    embedder: EmbedderProtocol, spans: Sequence[tuple[str, int, int]], subword_pooling: SubwordPooling = "mean"
) -> F32:
    """(N, S, D) vectors of (text, start, end) spans at every layer."""
    res = embedder.embed_spans(list(spans), subword_pooling=subword_pooling, **_layered(embedder))
    return res.vectors.reshape(len(spans), n_layers(embedder), -1)


def sentence_features(
    embedder: EmbedderProtocol, texts: Sequence[str], pooling: SentencePooling = "mean", chunk: int = 512
) -> F32:
    """(N, S, D) sentence vectors at every layer."""
    parts = []
    for start in range(0, len(texts), chunk):
        part = list(texts[start : start + chunk])
        if isinstance(embedder, StaticEmbedder):
            v = np.stack([_static_mean(embedder, t) for t in part])
        else:
            v = embedder.embed_sentences(part, pooling=pooling, normalize=False, **_layered(embedder)).vectors
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
    embedder: EmbedderProtocol, sentences: Sequence[Sequence[str]], chunk: int = 256, dtype: type = np.float16
) -> npt.NDArray[np.floating]:
    """(W, S, D) vectors of every word of pre-split sentences, in order (static OOV words get zeros)."""
    parts: list[npt.NDArray[np.floating]] = []
    it = iter(sentences)
    while batch := [list(s) for s in itertools.islice(it, chunk)]:
        if isinstance(embedder, StaticEmbedder):
            rows = [embedder.vectors.lookup(w) for s in batch for w in s]
            v = np.stack([r if r is not None else np.zeros(embedder.vectors.dim, np.float32) for r in rows])
        else:
            res = embedder.embed_words(batch, **_layered(embedder))
            if res.dropped:
                raise InvalidInputError(
                    f"model {embedder.model_id!r}'s tokenizer drops every character of these words, so they have no "
                    f"vector (text index, start, end): {res.dropped[:3]}; remove them from the sentences."
                )
            v = res.vectors
        parts.append(v.reshape(len(v), n_layers(embedder), -1).astype(dtype))
    return np.concatenate(parts)
