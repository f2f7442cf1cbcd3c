"""The contextuality measures of Ethayarajh (2019), "How Contextual are Contextualized Word Representations?",
as plain numpy functions on vectors (one layer at a time).

- self-similarity: mean cosine between the vectors of one word in different contexts (1 = static).
- intra-sentence similarity: mean cosine between each word of a sentence and the sentence's mean vector.
- maximum explainable variance (MEV): the share of a word's occurrence matrix's variance that its first
  principal direction explains, sigma_1^2 / sum sigma_i^2 (uncentred, as in the paper); 1 = one static vector
  would explain all of it.
- anisotropy: mean cosine between vectors of random words in random contexts (0 = isotropic); the paper
  subtracts it from the measures above to get anisotropy-adjusted values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from contextvec.errors import InvalidInputError

F32 = npt.NDArray[np.float32]


def _unit(x: F32) -> npt.NDArray[np.float64]:
    x64 = x.astype(np.float64)
    out: npt.NDArray[np.float64] = x64 / np.maximum(np.linalg.norm(x64, axis=-1, keepdims=True), 1e-12)
    return out


def self_similarity(occurrences: F32) -> float:
    """Mean pairwise cosine of one word's (n, D) occurrence vectors, n >= 2 (the diagonal excluded)."""
    n = len(occurrences)
    if n < 2:
        raise InvalidInputError(
            f"self-similarity needs at least two occurrences of a word, got {n}; give a corpus where it occurs twice."
        )
    u = _unit(occurrences)
    s = u.sum(axis=0)
    return float((s @ s - n) / (n * (n - 1)))  # sum over i != j of u_i . u_j, without the n x n matrix


def intra_sentence_similarity(words: F32) -> float:
    """Mean cosine between each of a sentence's (n, D) word vectors and their mean vector."""
    mean = words.astype(np.float64).mean(axis=0, keepdims=True)
    return float((_unit(words) @ _unit(mean).T).mean())


def max_explainable_variance(occurrences: F32) -> float:
    """sigma_1^2 / sum(sigma_i^2) of one word's (n, D) occurrence matrix (uncentred)."""
    s = np.linalg.svd(occurrences.astype(np.float64), compute_uv=False)
    total = float((s**2).sum())
    return float(s[0] ** 2 / total) if total > 0 else 1.0


def anisotropy(vectors: F32, pairs: npt.NDArray[np.int64]) -> float:
    """Mean cosine over the given (P, 2) row pairs of (N, D) vectors (random words in random contexts)."""
    u = _unit(vectors)
    return float(np.einsum("pd,pd->p", u[pairs[:, 0]], u[pairs[:, 1]]).mean())


def random_pairs(groups: Sequence[int], n_pairs: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """(P, 2) pairs of row indices whose `groups` (e.g. sentence ids) differ."""
    rng = np.random.default_rng(seed)
    g = np.asarray(groups)
    if len(np.unique(g)) < 2:
        raise InvalidInputError(
            "random pairs across contexts need words from at least two different texts; give more than one text."
        )
    out: list[npt.NDArray[np.int64]] = []
    have = 0
    while have < n_pairs:
        a = rng.integers(0, len(g), size=2 * n_pairs)
        b = rng.integers(0, len(g), size=2 * n_pairs)
        keep = g[a] != g[b]
        chunk = np.stack([a[keep], b[keep]], axis=1)[: n_pairs - have]
        out.append(chunk)
        have += len(chunk)
    return np.concatenate(out).astype(np.int64)
