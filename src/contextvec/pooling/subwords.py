"""Subword pooling: the vectors of a word's (or span's) tokens -> one vector."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from contextvec.alignment.words import WordAlignment
from contextvec.options import SubwordPooling

F32 = npt.NDArray[np.float32]


def pool_rows(vectors: F32, rows: npt.NDArray[np.int64], mode: SubwordPooling) -> F32:
    """Pool the token rows (sorted) of one word or span: (T, D) -> (D,) or (2D,) for first_last."""
    picked = vectors[rows]  # (n, D)
    if mode == "mean":
        return np.asarray(picked.mean(axis=0), dtype=np.float32)
    if mode == "max":
        return np.asarray(picked.max(axis=0), dtype=np.float32)
    if mode == "first":
        return np.asarray(picked[0], dtype=np.float32)
    if mode == "last":
        return np.asarray(picked[-1], dtype=np.float32)
    return np.asarray(np.concatenate([picked[0], picked[-1]]), dtype=np.float32)  # first_last


def pool_words(vectors: F32, alignment: WordAlignment, mode: SubwordPooling) -> F32:
    """Pool every word at once: (T, D) token vectors -> (W, D) word vectors. Every word must have a token."""
    starts, ends = alignment.indptr[:-1], alignment.indptr[1:]
    rows = alignment.token_index
    if mode == "first":
        return vectors[rows[starts]]
    if mode == "last":
        return vectors[rows[ends - 1]]
    if mode == "first_last":
        return np.concatenate([vectors[rows[starts]], vectors[rows[ends - 1]]], axis=1)  # (W, 2D)
    gathered = vectors[rows]  # (nnz, D), grouped by word
    if mode == "max":
        return np.asarray(np.maximum.reduceat(gathered, starts, axis=0), dtype=np.float32)
    sums = np.add.reduceat(gathered, starts, axis=0)  # (W, D)
    return np.asarray(sums / (ends - starts)[:, None], dtype=np.float32)


def mean_matrix(groups: Sequence[npt.NDArray[np.int64]], size: int) -> F32:
    """(G, size) matrix whose row g averages the rows `groups[g]` of a (size, D) array: `M @ X` is the mean
    pooling of `pool_words`/`pool_rows`, as one product that also runs in torch with gradients."""
    out = np.zeros((len(groups), size), dtype=np.float32)
    for g, rows in enumerate(groups):
        if len(rows) == 0:
            raise ValueError(f"group {g} has no rows to pool")
        np.add.at(out[g], rows, 1.0 / len(rows))
    return out
