"""Sentence pooling: a text's token vectors -> one vector.

cls      : the first special token's vector (BERT's [CLS], MPNet's <s>); for a text split into several windows,
           the mean of the windows' first-token vectors. Needs a model that adds such a token.
mean     : mean over content tokens (special tokens excluded).
mean_all : mean over every token the model saw, special tokens included — sentence-transformers' mean pooling
           (its attention-mask mean counts [CLS] and [SEP]). A text in several windows contributes its content
           tokens once (merged) and every window's special tokens.
max      : element-wise max over content tokens.
last     : the last content token (the natural choice for causal decoders, whose last token has seen everything).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contextvec.errors import OptionError
from contextvec.models.sentence_recipe import SentenceRecipe
from contextvec.options import SENTENCE_POOLINGS, SentencePooling, SentencePoolingArg, check_choice

F32 = npt.NDArray[np.float32]


def pool_sentence(tokens: F32, specials: F32 | None, mode: SentencePooling) -> F32:
    """(T, D) content-token vectors and (n_windows, P+S, D) special-token vectors -> (D,)."""
    if mode == "mean":
        return np.asarray(tokens.mean(axis=0), dtype=np.float32)
    if mode == "max":
        return np.asarray(tokens.max(axis=0), dtype=np.float32)
    if mode == "last":
        return np.asarray(tokens[-1], dtype=np.float32)
    assert specials is not None, "special-token rows are asked for whenever cls / mean_all pooling is chosen"
    if mode == "mean_all":
        flat = specials.reshape(-1, specials.shape[-1])  # (n_windows * (P+S), D)
        total = tokens.sum(axis=0, dtype=np.float64) + flat.sum(axis=0, dtype=np.float64)
        return np.asarray(total / (len(tokens) + len(flat)), dtype=np.float32)
    return np.asarray(specials[:, 0].mean(axis=0), dtype=np.float32)  # cls


def sentence_mode(pooling: SentencePoolingArg, recipe: SentenceRecipe, has_cls: bool, model_id: str) -> SentencePooling:
    """The pooling a sentence call runs: `pooling`, or the model's recipe; refused where the recipe cannot be
    computed exactly (OptionError says to pass pooling=) or where cls has no special token to read."""
    if pooling is None and recipe.unsupported:
        raise OptionError(
            f"model {model_id!r}: {recipe.unsupported}, so contextvec cannot give its "
            f"sentence-transformers vectors. Pass pooling= ({', '.join(SENTENCE_POOLINGS)}) for contextvec's "
            "own sentence pooling, or use sentence-transformers for its vectors."
        )
    mode = recipe.pooling if pooling is None else pooling
    check_choice("pooling", mode, SENTENCE_POOLINGS)
    if mode == "cls" and not has_cls:
        raise OptionError(
            f"pooling='cls' needs a model that puts a special token first; {model_id!r} adds none. "
            "Use 'last' (decoders) or 'mean'."
        )
    return mode  # type: ignore[return-value]
