"""What one coalesced batch does: a single Embedder call for many requests, split back per request."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from contextvec.embedder import Embedder
from contextvec.results import Embeddings


@dataclass(frozen=True)
class Share:
    """One request's part of a batch result: rows whose text_index (or row number, for spans) is in [lo, hi)."""

    result: Embeddings
    lo: int
    hi: int
    n_tokens: int  # content tokens of this request's texts

    def rows(self) -> np.ndarray:
        if self.result.level == "span":
            return np.arange(self.lo, self.hi)
        ti = self.result.text_index
        return np.nonzero((ti >= self.lo) & (ti < self.hi))[0]


def make_runner(embedder: Embedder) -> Any:
    def run(key: Hashable, payloads: Sequence[list[Any]]) -> list[Share]:
        level, layers, layer_pooling, pooling = cast(tuple[str, Any, Any, Any], key)
        flat = [x for p in payloads for x in p]
        texts = [x[0] for x in flat] if level == "span" else flat
        counts = [len(e.ids) for e in embedder.backend.tokenize(texts)]
        result: Embeddings
        if level == "sentence":
            result = embedder.embed_sentences(flat, pooling=pooling, layers=layers, layer_pooling=layer_pooling)
        elif level == "word":
            result = embedder.embed_words(flat, layers=layers, layer_pooling=layer_pooling, subword_pooling=pooling)
        elif level == "token":
            result = embedder.embed_tokens(flat, layers=layers, layer_pooling=layer_pooling)
        else:
            result = embedder.embed_spans(flat, layers=layers, layer_pooling=layer_pooling, subword_pooling=pooling)
        shares, offset = [], 0
        for p in payloads:
            shares.append(Share(result, offset, offset + len(p), sum(counts[offset : offset + len(p)])))
            offset += len(p)
        return shares

    return run
