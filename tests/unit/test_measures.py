"""The contextuality measures against direct, loop-by-loop numpy computations on small random data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from contextvec.analysis.measures import (
    anisotropy,
    intra_sentence_similarity,
    max_explainable_variance,
    random_pairs,
    self_similarity,
)
from contextvec.errors import InvalidInputError


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


def test_self_similarity_is_the_mean_pairwise_cosine(rng: np.random.Generator) -> None:
    x = rng.normal(size=(7, 5)).astype(np.float32) + 0.5
    direct = np.mean([_cos(x[i], x[j]) for i, j in itertools.permutations(range(7), 2)])
    assert self_similarity(x) == pytest.approx(direct, abs=1e-6)
    assert self_similarity(np.tile(x[:1], (4, 1))) == pytest.approx(1.0)  # one static vector: 1
    with pytest.raises(InvalidInputError):
        self_similarity(x[:1])


def test_intra_sentence_similarity_is_the_cosine_to_the_sentence_mean(rng: np.random.Generator) -> None:
    x = rng.normal(size=(6, 4)).astype(np.float32)
    mean = x.mean(axis=0)
    assert intra_sentence_similarity(x) == pytest.approx(np.mean([_cos(v, mean) for v in x]), abs=1e-6)


def test_mev_is_the_top_eigenvalue_share_of_the_uncentred_gram_matrix(rng: np.random.Generator) -> None:
    x = rng.normal(size=(9, 6))
    eig = np.linalg.eigvalsh(x.T @ x)
    assert max_explainable_variance(x.astype(np.float32)) == pytest.approx(eig.max() / eig.sum(), rel=1e-5)
    rank_one = np.outer(rng.normal(size=5), rng.normal(size=6)).astype(np.float32)
    assert max_explainable_variance(rank_one) == pytest.approx(1.0, abs=1e-6)


def test_anisotropy_is_the_mean_cosine_of_the_given_pairs(rng: np.random.Generator) -> None:
    x = rng.normal(size=(10, 3)).astype(np.float32) + np.array([3.0, 0, 0], dtype=np.float32)  # a common direction
    pairs = np.array([[0, 1], [2, 5], [7, 3]])
    assert anisotropy(x, pairs) == pytest.approx(np.mean([_cos(x[a], x[b]) for a, b in pairs]), abs=1e-6)
    assert anisotropy(x, pairs) > 0.5  # the shared direction shows as anisotropy


def test_random_pairs_never_pair_rows_of_the_same_group() -> None:
    groups = [0, 0, 0, 1, 1, 2]
    pairs = random_pairs(groups, 500, seed=1)
    assert pairs.shape == (500, 2)
    g = np.asarray(groups)
    assert (g[pairs[:, 0]] != g[pairs[:, 1]]).all()
    with pytest.raises(InvalidInputError):
        random_pairs([4, 4], 3)
