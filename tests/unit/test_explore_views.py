"""The explorer's own numerics (the rest is analysis/ code): the 2-D layout and the nearest uses."""

from __future__ import annotations

import numpy as np

from contextvec.explore.senses_view import nearest, pca_2d


def test_the_layout_is_the_first_two_principal_components() -> None:
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(200, 16)) * np.linspace(3, 0.1, 16)).astype(np.float32)
    got = pca_2d(x)
    expected = PCA(n_components=2).fit_transform(x)
    np.testing.assert_allclose(np.abs(got), np.abs(expected), atol=1e-4)  # each axis is defined up to its sign


def test_nearest_uses_are_by_cosine_without_the_point_itself() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2500, 8)).astype(np.float32)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    got = nearest(unit, 5, chunk=700)  # chunks that do not divide N
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    np.testing.assert_array_equal(got, np.argsort(-sims, axis=1, kind="stable")[:, :5])
    assert nearest(unit[:1], 5).shape == (1, 0)  # one point has no neighbours
