"""The Compare and Attention views' numbers: a word's cosine matrix across texts (the model's recipe, every layer,
and a static model beside it), word-by-word similarity of two sentences, and attention by word."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from contextvec.analysis.attention import attention_by_word
from contextvec.analysis.compare import compare_word, word_similarity
from contextvec.embedder import Embedder
from contextvec.errors import ContextvecError
from contextvec.protocol import EmbedderProtocol
from contextvec.results import cosine_matrix
from contextvec.text import split_words


def _rounded(matrix: npt.NDArray[np.floating]) -> list[list[float]]:
    out: list[list[float]] = np.asarray(matrix, dtype=np.float64).round(6).tolist()
    return out


def words_of(text: str) -> list[dict[str, Any]]:
    """The words of `text` with their char spans (the spine's word rule), for the page to make clickable."""
    return [{"start": s, "end": e, "text": text[s:e]} for s, e in split_words(text).tolist()]


def compare_payload(
    embedder: EmbedderProtocol,
    texts: Sequence[str],
    word: str,
    occurrence: int,
    static: EmbedderProtocol | None,
    static_error: str | None,
) -> dict[str, Any]:
    """The recipe's matrix (what `contextvec compare` prints), one matrix per layer 0..L, and the static model's."""
    recipe = compare_word(embedder, texts, word, occurrence=occurrence)
    context_only = recipe.context_only
    every = compare_word(
        embedder, texts, word, occurrence=occurrence, layers="all", layer_pooling="concat", context_only=context_only
    )  # one forward pass for all layers
    N = len(texts)
    per_layer = every.spans.vectors.reshape(N, embedder.num_states, -1)  # (N, L+1, D)
    payload: dict[str, Any] = {
        "model": embedder.model_id,
        "word": word,
        "spans": [[int(s), int(e)] for s, e in zip(recipe.spans.start, recipe.spans.end, strict=True)],
        "recipe": {"layers": recipe.spans.layers, "cosine": _rounded(recipe.similarity)},
        "per_layer": [
            {"layer": k, "cosine": _rounded(cosine_matrix(per_layer[:, k]))} for k in range(embedder.num_states)
        ],
        "context_only": context_only,
        "static": None,
    }
    if static is not None:
        try:
            fixed = compare_word(static, texts, word, occurrence=occurrence)
            payload["static"] = {"model": static.model_id, "cosine": _rounded(fixed.similarity)}
        except ContextvecError as exc:  # e.g. the word is not in GloVe's vocabulary: the contextual side still shows
            payload["static"] = {"model": static.model_id, "error": str(exc)}
    elif static_error is not None:
        payload["static"] = {"model": None, "error": static_error}
    return payload


def pair_payload(embedder: EmbedderProtocol, first: str, second: str, layer: int | None) -> dict[str, Any]:
    rows, cols, sim, layers = word_similarity(embedder, first, second, layers=None if layer is None else [layer])
    return {"model": embedder.model_id, "rows": rows, "cols": cols, "cosine": _rounded(sim), "layers": layers}


def attention_payload(embedder: Embedder, text: str) -> dict[str, Any]:
    att = attention_by_word(embedder, text)
    L, H = att.weights.shape[:2]  # (L, H, n, n)
    return {
        "model": att.model_id,
        "text": att.text,
        "labels": att.labels,
        "is_word": att.is_word.tolist(),
        "layers": L,
        "heads": H,
        "causal": att.causal,
        "weights": np.asarray(att.weights, dtype=np.float64).round(4).tolist(),
    }
