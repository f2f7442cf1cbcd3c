"""Compare the uses of one word (or phrase) across several texts: find it, embed it in context, cosine matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contextvec.errors import InvalidInputError
from contextvec.models.recipes import recipe_of
from contextvec.options import LayerPoolingArg, LayersArg, SubwordPooling
from contextvec.protocol import EmbedderProtocol
from contextvec.results import SpanEmbeddings, cosine_matrix
from contextvec.text import find_word


@dataclass(frozen=True)
class WordComparison:
    spans: SpanEmbeddings  # one row per text: the word's vector in that text
    similarity: npt.NDArray[np.float32]  # (N, N) cosine matrix
    context_only: bool  # whether each vector had the word's out-of-context vector subtracted


def compare_word(
    embedder: EmbedderProtocol,
    texts: Sequence[str],
    word: str,
    *,
    occurrence: int = 1,
    layers: LayersArg | None = None,
    layer_pooling: LayerPoolingArg = "mean",
    subword_pooling: SubwordPooling = "mean",
    context_only: bool | None = None,
) -> WordComparison:
    """Embed `word` in each text and return the vectors and their pairwise cosine similarities.

    Defaults (layers=None, context_only=None) take the model's recipe: the configuration that scored best on the
    word-in-context train split (contextvec/models/recipes.py, docs/EVALUATION.md); otherwise the top layer, as is.
    The result's `context_only` says whether it was used (and `spans.layers` describes it for people).
    """
    if len(texts) < 2:
        raise InvalidInputError(f"compare needs at least two texts, got {len(texts)}.")
    spans = [(t, *find_word(t, word, occurrence, index=i)) for i, t in enumerate(texts)]
    if context_only is None:
        context_only = embedder.contextual and recipe_of(embedder).context_only
    result = embedder.embed_spans(
        spans, layers=layers, layer_pooling=layer_pooling, subword_pooling=subword_pooling, context_only=context_only
    )
    return WordComparison(spans=result, similarity=cosine_matrix(result.vectors), context_only=context_only)


def word_similarity(
    embedder: EmbedderProtocol,
    first: str,
    second: str,
    *,
    layers: LayersArg | None = None,
    subword_pooling: SubwordPooling = "mean",
) -> tuple[list[str], list[str], npt.NDArray[np.float32], str]:
    """(words of first, words of second, (W1, W2) cosine matrix, layer description) for two sentences."""
    res = embedder.embed_words([first, second], layers=layers, subword_pooling=subword_pooling)
    a, b = res.rows_of(0), res.rows_of(1)
    va, vb = res.vectors[a], res.vectors[b]
    va = va / np.maximum(np.linalg.norm(va, axis=1, keepdims=True), 1e-12)
    vb = vb / np.maximum(np.linalg.norm(vb, axis=1, keepdims=True), 1e-12)
    words = res.strings
    return [words[i] for i in a.tolist()], [words[i] for i in b.tolist()], (va @ vb.T).astype(np.float32), res.layers
