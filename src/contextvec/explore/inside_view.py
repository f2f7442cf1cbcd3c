"""The Inside view's numbers: one word's q/k/v, raw scores, attention weights and residual stream, traced through
the reference transformer built from the served model (analysis/inside.py does the work)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from contextvec.analysis.inside import inside_word, stream_measures
from contextvec.embedder import Embedder
from contextvec.errors import OptionError
from contextvec.models.backend import TorchBackend
from contextvec.transformer import Transformer


class References:
    """One reference transformer per served model, built on first use from the model already in memory."""

    def __init__(self) -> None:
        self._models: dict[str, Transformer] = {}
        self._lock = threading.Lock()

    def get(self, name: str, embedder: Embedder) -> Transformer:
        with self._lock:
            if name not in self._models:
                backend = embedder.backend
                if not isinstance(backend, TorchBackend):
                    raise OptionError(
                        f"the Inside view traces the transformers model in torch; model {name!r} runs on the "
                        f"{backend.name!r} backend. Serve it with --backend torch to look inside."
                    )
                self._models[name] = Transformer.from_transformers(backend.model)
            return self._models[name]


def _list(x: npt.NDArray[np.floating], digits: int = 5) -> Any:
    """Rounded nested lists; NaN (a pair a causal model never sees) becomes null."""
    rounded = np.asarray(x, dtype=np.float64).round(digits)
    out = rounded.astype(object)
    out[np.isnan(rounded)] = None
    return out.tolist()


def inside_payload(embedder: Embedder, reference: Transformer, text: str, word: str, occurrence: int) -> dict[str, Any]:
    got = inside_word(embedder, reference, text, word, occurrence)
    L, H = got.weights.shape[:2]  # (L, H, n)
    return {
        "model": embedder.model_id,
        "text": got.text,
        "word": got.labels[got.row],
        "occurrence": occurrence,
        "labels": got.labels,
        "is_word": (got.spans[:, 0] >= 0).tolist(),
        "row": got.row,
        "pieces": got.pieces,
        "layers": L,
        "heads": H,
        "causal": reference.config.causal,
        "q": _list(got.q, 4),  # (L, H, P, hd)
        "k": _list(got.k, 4),
        "v": _list(got.v, 4),
        "scores": _list(got.scores),  # (L, H, n)
        "weights": _list(got.weights),  # (L, H, n)
        "stream": stream_measures(got.stream),  # per layer 0..L
        "attn_out_norm": np.linalg.norm(got.attn_out, axis=1).round(5).tolist(),  # (L,)
        "mlp_out_norm": np.linalg.norm(got.mlp_out, axis=1).round(5).tolist(),  # (L,)
    }
