"""Anisotropy correction: contextual vectors share a large common direction (Ethayarajh 2019), so the cosine of
any two words is high. Subtracting the corpus mean (centering) or also decorrelating the dimensions (whitening)
removes it.

A `Correction` is estimated once on a corpus (token vectors of every hidden state), saved as a small .npz,
and given to `Embedder(correction=...)`. Centering is stored per hidden state (L+1, D): because every layer
pooling is linear, the mean of any layer selection (one layer, a range's mean, sum, concat or weights) is that
same pooling of the per-layer means, so one file serves every `layers=` choice. Whitening is fitted for one
layer selection and refuses others.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from contextvec.errors import InputFileError, InvalidInputError, OptionError
from contextvec.options import LayersArg, LayerSelection, check_choice

if TYPE_CHECKING:
    from contextvec.embedder import Embedder

F32 = npt.NDArray[np.float32]
CorrectionKind = Literal["center", "whiten"]


@dataclass(frozen=True)
class Correction:
    model_id: str
    kind: CorrectionKind
    means: F32  # (L+1, D): mean token vector of every hidden state on the fitting corpus
    fitted_on: str  # what it was estimated on, for provenance
    whitening: F32 | None = None  # (D', K) for `selection` only
    selection: str | None = None  # LayerSelection.describe() the whitening was fitted for

    def shift(self, selection: LayerSelection) -> F32:
        """The mean vector (D',) of a layer selection: the same layer pooling applied to the per-layer means."""
        import torch

        from contextvec.pooling.layers import pool_layers

        if max(selection.indices) >= len(self.means):
            raise OptionError(
                f"this correction has {len(self.means)} hidden states, but layers {selection.indices} were asked for; "
                f"it was fitted for model {self.model_id!r}."
            )
        states = [torch.from_numpy(m)[None, None] for m in self.means]  # (L+1) x (1, 1, D)
        out: F32 = pool_layers(states, selection)[0, 0].numpy()
        return out

    def apply(self, vectors: F32, selection: LayerSelection) -> F32:
        """Correct (n, D') token vectors produced with `selection`."""
        if vectors.shape[0] == 0:
            return vectors
        if self.kind == "center":
            return (vectors - self.shift(selection)).astype(np.float32)
        if selection.describe() != self.selection:
            raise OptionError(
                f"this whitening was fitted for '{self.selection}', not '{selection.describe()}'; fit one for these "
                "layers (contextvec correction fit ... --kind whiten --layers ...) or use kind='center'."
            )
        assert self.whitening is not None
        return ((vectors - self.shift(selection)) @ self.whitening).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        meta = {"model_id": self.model_id, "kind": self.kind, "fitted_on": self.fitted_on, "selection": self.selection}
        arrays = {"means": self.means} | ({"whitening": self.whitening} if self.whitening is not None else {})
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez(fh, meta=np.asarray(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
        return path

    @classmethod
    def load(cls, path: str | Path) -> Correction:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                return cls(
                    model_id=meta["model_id"],
                    kind=meta["kind"],
                    means=data["means"].astype(np.float32),
                    fitted_on=meta["fitted_on"],
                    whitening=data["whitening"].astype(np.float32) if "whitening" in data else None,
                    selection=meta["selection"],
                )
        except FileNotFoundError:
            raise InputFileError(f"correction file {str(path)!r} does not exist.") from None
        except (OSError, ValueError, KeyError) as exc:
            raise InputFileError(
                f"{path} is not a contextvec correction file ({exc}); make one with `contextvec correction fit`."
            ) from None


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
    previous, embedder.correction = embedder.correction, None
    total: npt.NDArray[np.float64] | None = None
    outer: npt.NDArray[np.float64] | None = None
    count = 0
    n_texts = 0
    try:
        stream = iter(texts)
        while part := list(itertools.islice(stream, min(chunk, max_texts - n_texts))):
            res = embedder.embed_tokens(part, layers="all", layer_pooling="concat")
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
    finally:
        embedder.correction = previous
    if total is None or count < 2:
        raise InvalidInputError("fitting a correction needs at least 2 tokens of text; give a corpus.")
    means = (total / count).reshape(n_states, -1).astype(np.float32)  # (L+1, D)
    description = fitted_on or f"{n_texts} texts, {count} tokens"
    if kind == "center":
        return Correction(embedder.model_id, "center", means, description)
    if selection.mode != "mean":
        raise OptionError("whitening is fitted for a mean of layers (or one layer).")
    assert outer is not None
    mu = means[list(selection.indices)].mean(axis=0).astype(np.float64)
    cov = outer / count - np.outer(mu, mu)
    eigval, eigvec = np.linalg.eigh(cov)  # ascending
    order = np.argsort(eigval)[::-1][: dims or len(eigval)]
    w = eigvec[:, order] / np.sqrt(np.maximum(eigval[order], 1e-8))
    return Correction(embedder.model_id, "whiten", means, description, w.astype(np.float32), selection.describe())
