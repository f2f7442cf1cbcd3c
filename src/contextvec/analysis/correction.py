"""Fitting an anisotropy correction on a corpus (the `Correction` itself and its use live in the spine,
contextvec.correction)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from contextvec.correction import Correction, CorrectionKind
from contextvec.embedder import Embedder
from contextvec.errors import InvalidInputError, OptionError
from contextvec.options import LayersArg, check_choice


def fit_correction(
    embedder: Embedder,
    texts: Iterable[str],
    *,
    kind: CorrectionKind = "center",
    layers: LayersArg = -1,
    max_texts: int = 5000,
    dims: int | None = None,
    chunk: int = 256,
    fitted_on: str = "",
) -> Correction:
    """Estimate a correction from `texts` (at most `max_texts`) with `embedder`'s model, uncorrected.

    Token vectors of all hidden states are averaged. For causal models the first token of every text is left
    out: with no context it carries an outsized vector (an attention sink) that would dominate the mean.
    For kind="whiten", the selection's covariance gives W = U diag(1 / sqrt(lambda)) over the top `dims` axes.
    """
    from contextvec.options import resolve_layer_selection

    check_choice("kind", kind, ("center", "whiten"))
    n_states = embedder.info.num_layers + 1
    selection = resolve_layer_selection(layers, "mean", embedder.info.num_layers)
    plain = embedder.uncorrected()  # the same model without any correction; `embedder` is left as it is
    total: npt.NDArray[np.float64] | None = None
    outer: npt.NDArray[np.float64] | None = None
    count = 0
    n_texts = 0
    stream = iter(texts)
    while part := list(itertools.islice(stream, min(chunk, max_texts - n_texts))):
        res = plain.embed_tokens(part, layers="all", layer_pooling="concat")
        keep = np.ones(len(res.vectors), dtype=bool)
        if embedder.info.causal:
            firsts = np.searchsorted(res.text_index, np.arange(len(part)))
            keep[firsts[firsts < len(keep)]] = False
        v = res.vectors[keep].astype(np.float64)  # (n, (L+1) * D)
        total = v.sum(axis=0) if total is None else total + v.sum(axis=0)
        if kind == "whiten":
            sel = v.reshape(len(v), n_states, -1)[:, list(selection.indices)].mean(axis=1)  # (n, D)
            outer = sel.T @ sel if outer is None else outer + sel.T @ sel
        count += int(keep.sum())
        n_texts += len(part)
        if n_texts >= max_texts:
            break
    if total is None or count < 2:
        raise InvalidInputError("fitting a correction needs at least 2 tokens of text; give a corpus.")
    means = (total / count).reshape(n_states, -1).astype(np.float32)  # (L+1, D)
    description = fitted_on or f"{n_texts} texts, {count} tokens"
    if kind == "center":
        return Correction(embedder.model_id, "center", means, description)
    if selection.mode != "mean":
        raise OptionError("whitening is fitted for a mean of layers (or one layer).")
    assert outer is not None
    w = _whitening(outer, means[list(selection.indices)].mean(axis=0), count, dims)
    return Correction(embedder.model_id, "whiten", means, description, w, selection.describe())


def _whitening(
    outer: npt.NDArray[np.float64], mean: npt.NDArray[np.float32], count: int, dims: int | None
) -> npt.NDArray[np.float32]:
    """(D, K) W = U diag(1 / sqrt(lambda)) over the top `dims` axes of the covariance outer / count - mean mean^T;
    refused where the corpus does not vary in that many directions."""
    mu = mean.astype(np.float64)
    cov = outer / count - np.outer(mu, mu)
    eigval, eigvec = np.linalg.eigh(cov)  # ascending
    order = np.argsort(eigval)[::-1][: dims or len(eigval)]
    rank = int((eigval > 1e-6 * max(float(eigval.max()), 1e-30)).sum())  # directions the corpus actually varies in
    if len(order) > rank:  # the rest would be noise scaled by 1/sqrt(~0)
        raise InvalidInputError(
            f"whitening {len(order)} dimensions needs text that varies in them, but this corpus' vectors ({count} "
            f"tokens) span only {rank}; fit on more varied text, pass dims={rank} or less (Python), or use "
            "kind='center' (--kind center)."
        )
    w: npt.NDArray[np.float32] = (eigvec[:, order] / np.sqrt(np.maximum(eigval[order], 1e-8))).astype(np.float32)
    return w
