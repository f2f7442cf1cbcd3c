"""Anisotropy correction: contextual vectors share a large common direction (Ethayarajh 2019), so the cosine of
any two words is high. Subtracting the corpus mean (centering) or also decorrelating the dimensions (whitening)
removes it.

A `Correction` is estimated once on a corpus (`contextvec.analysis.correction.fit_correction`, or
`contextvec correction fit`), saved as a small .npz, and given to `Embedder(correction=...)`; this module applies
it. No correction is packaged: on the offline models centering did not beat the uncorrected recipes on the
word-in-context test split (docs/EVALUATION.md), so none is applied unless asked for.

Centering is stored per hidden state (L+1, D): because every layer pooling is linear, the mean of any layer
selection (one layer, a range's mean, sum, concat or weights) is that same pooling of the per-layer means, so one
file serves every `layers=` choice. Whitening is fitted for one layer selection and refuses others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from contextvec.errors import InputFileError, OptionError
from contextvec.options import LayerSelection

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

    def _problem(self) -> str | None:
        """What a loaded file holds that no `correction fit` writes (wrong kinds, shapes, non-finite numbers)."""
        if self.kind not in ("center", "whiten") or not isinstance(self.model_id, str):
            return f"kind {self.kind!r} / model_id {self.model_id!r}"
        if self.means.ndim != 2 or self.means.shape[0] < 1 or not np.isfinite(self.means).all():
            return f"means of shape {self.means.shape} (must be (L+1, D) and finite)"
        if (self.kind == "whiten") != (self.whitening is not None and isinstance(self.selection, str)):
            return f"a {self.kind} correction {'without' if self.kind == 'whiten' else 'with'} a whitening matrix"
        if self.whitening is not None and (self.whitening.ndim != 2 or not np.isfinite(self.whitening).all()):
            return f"whitening of shape {self.whitening.shape} (must be 2-D and finite)"
        return None

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
                correction = cls(
                    model_id=meta["model_id"],
                    kind=meta["kind"],
                    means=data["means"].astype(np.float32),
                    fitted_on=meta["fitted_on"],
                    whitening=data["whitening"].astype(np.float32) if "whitening" in data else None,
                    selection=meta["selection"],
                )
            problem = correction._problem()
            if problem:
                raise ValueError(problem)
            return correction
        except FileNotFoundError:
            raise InputFileError(f"correction file {str(path)!r} does not exist.") from None
        except (OSError, ValueError, KeyError) as exc:
            raise InputFileError(
                f"{path} is not a contextvec correction file ({exc}); make one with `contextvec correction fit`."
            ) from None


CorrectionArg = Correction | str | Path | None  # a Correction, a .npz made by `contextvec correction fit`, or None


def resolve_correction(arg: CorrectionArg, model_id: str, num_layers: int, hidden_size: int) -> Correction | None:
    """The Correction an `Embedder(correction=...)` argument stands for, checked against the model's shape."""
    if arg is None or (isinstance(arg, str) and arg == "none"):
        return None
    if isinstance(arg, str) and arg in ("auto", "center", "whiten"):
        raise OptionError(
            f"correction={arg!r}: contextvec packages no corrections (none beat the uncorrected defaults, see "
            f"docs/EVALUATION.md); fit one with `contextvec correction fit --model {model_id} --corpus FILE "
            "--out corr.npz --kind center` and pass correction='corr.npz'."
        )
    correction = arg if isinstance(arg, Correction) else Correction.load(arg)
    if correction.means.shape != (num_layers + 1, hidden_size):
        raise OptionError(
            f"correction for {correction.model_id!r} has shape {correction.means.shape}, but model "
            f"{model_id!r} has {num_layers + 1} hidden states of size {hidden_size}; fit one for this model with "
            f"`contextvec correction fit --model {model_id} --corpus FILE --out corr.npz`."
        )
    return correction
