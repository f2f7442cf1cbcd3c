"""What one coalesced batch does: a single Embedder call for many requests, split back per request."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from contextvec.options import Level, SentencePooling, SubwordPooling
from contextvec.protocol import EmbedderProtocol
from contextvec.results import Embeddings, SentenceEmbeddings

LayersKey = str | int | tuple[int, ...] | None
LayerPoolingKey = str | tuple[float, ...]


@dataclass(frozen=True)
class BatchKey:
    """The options of a request; requests with equal keys share one forward call. None = the model's default."""

    level: Level
    layers: LayersKey = None
    layer_pooling: LayerPoolingKey = "mean"
    pooling: str | None = None  # subword pooling (words, spans) or sentence pooling (sentences)
    context_only: bool = False  # spans: subtract the out-of-context vector (/compare)
    normalize: bool | None = None  # sentences

    @staticmethod
    def hashable(value: Any) -> Any:
        """JSON lists -> tuples, so that the key can be compared and hashed."""
        return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Share:
    """One request's part of a batch result: rows whose text_index is in [lo, hi)."""

    result: Embeddings
    lo: int
    hi: int

    def rows(self) -> np.ndarray:
        ti = self.result.text_index
        return np.nonzero((ti >= self.lo) & (ti < self.hi))[0]

    @property
    def n_tokens(self) -> int:
        """Content tokens of this request's texts (sentence level; 0 otherwise)."""
        if not isinstance(self.result, SentenceEmbeddings):
            return 0
        return int(self.result.n_tokens[self.lo : self.hi].sum())


def _embed(embedder: EmbedderProtocol, key: BatchKey, items: list[Any]) -> Embeddings:
    layers: Any = list(key.layers) if isinstance(key.layers, tuple) else key.layers
    lp: Any = list(key.layer_pooling) if isinstance(key.layer_pooling, tuple) else key.layer_pooling
    if key.level == "sentence":
        pooling = cast(SentencePooling | None, key.pooling)
        return embedder.embed_sentences(
            items, pooling=pooling, layers=layers, layer_pooling=lp, normalize=key.normalize
        )
    subword = cast(SubwordPooling, key.pooling or "mean")
    if key.level == "word":
        return embedder.embed_words(items, layers=layers, layer_pooling=lp, subword_pooling=subword)
    if key.level == "token":
        return embedder.embed_tokens(items, layers=layers, layer_pooling=lp)
    return embedder.embed_spans(
        items, layers=layers, layer_pooling=lp, subword_pooling=subword, context_only=key.context_only
    )


def make_runner(embedder: EmbedderProtocol) -> Callable[[Hashable, Sequence[list[Any]]], list[Share]]:
    """run(key, payloads) -> one Share per payload (the texts or spans of one request), in order."""

    def run(key: Hashable, payloads: Sequence[list[Any]]) -> list[Share]:
        result = _embed(embedder, cast(BatchKey, key), [x for p in payloads for x in p])
        shares, offset = [], 0
        for p in payloads:
            shares.append(Share(result, offset, offset + len(p)))
            offset += len(p)
        return shares

    return run
