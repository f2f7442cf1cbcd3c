"""Sentence pooling: a text's token vectors -> one vector.

cls  : the first special token's vector (BERT's [CLS], MPNet's <s>); for a text split into several windows, the
       mean of the windows' first-token vectors. Needs a model that adds such a token.
mean : mean over content tokens (special tokens excluded).
max  : element-wise max over content tokens.
last : the last content token (the natural choice for causal decoders, whose last token has seen everything).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contextvec.options import SentencePooling

F32 = npt.NDArray[np.float32]


def pool_sentence(tokens: F32, cls_vectors: F32 | None, mode: SentencePooling) -> F32:
    """(T, D) content-token vectors and (n_windows, D) first-special-token vectors -> (D,)."""
    if mode == "mean":
        return np.asarray(tokens.mean(axis=0), dtype=np.float32)
    if mode == "max":
        return np.asarray(tokens.max(axis=0), dtype=np.float32)
    if mode == "last":
        return np.asarray(tokens[-1], dtype=np.float32)
    assert cls_vectors is not None, "cls pooling is validated against the model before the forward pass"
    return np.asarray(cls_vectors.mean(axis=0), dtype=np.float32)
