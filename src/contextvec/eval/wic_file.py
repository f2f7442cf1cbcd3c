"""`contextvec eval wic FILE`: word-in-context accuracy of any WiC-format file, every layer from one pass.

All hidden states come out of one forward pass (eval.features.span_features); a layer range is the mean of its
layers' features, which equals embedding with `layers=` that range (layer and subword means are linear).
Rows: the model's default recipe (contextvec.models.recipes, with its context-only default), then either the
layer spec asked for, or every single layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from contextvec.eval.features import span_features
from contextvec.eval.wic import F32, WicPair, accuracy, fit_threshold, pair_cosines, unique_spans
from contextvec.eval.wic_eval import covered_pairs, cross_validated
from contextvec.models.recipes import recipe_of
from contextvec.options import LayersArg, parse_layers
from contextvec.protocol import EmbedderProtocol


def score_wic_pairs(
    embedder: EmbedderProtocol,
    train: Sequence[WicPair],
    test: Sequence[WicPair],
    *,
    layers: LayersArg | None = None,
    context_only: bool | None = None,
) -> dict[str, Any]:
    """Accuracy per row (see the module docstring); the threshold is fitted on `train`, or by 5-fold
    cross-validation split by word when there is no train split. `context_only=None`: the recipe row uses the
    model's default, the other rows are as is."""
    train, test = covered_pairs(embedder, train), covered_pairs(embedder, test)
    pairs = train + test
    spans, rows = unique_spans(pairs)
    feats = span_features(embedder, spans)  # (N, S, D): every layer, one pass
    alone: F32 | None = None
    if embedder.contextual and (context_only is not False):
        words = sorted({t[a:b] for t, a, b in spans})
        vocab = span_features(embedder, [(w, 0, len(w)) for w in words])  # (V, S, D)
        row_of = {w: i for i, w in enumerate(words)}
        alone = vocab[[row_of[t[a:b]] for t, a, b in spans]]  # (N, S, D)
    y = np.asarray([p.label for p in pairs])

    def score(spec: LayersArg, minus_context: bool) -> float:
        picked = list(parse_layers(spec, embedder.num_states - 1)) if embedder.num_states > 1 else [0]
        v = feats[:, picked].mean(axis=1)  # (N, D)
        if minus_context:
            assert alone is not None
            v = v - alone[:, picked].mean(axis=1)
        s = pair_cosines(v.astype(np.float32), rows)
        if not train:
            return cross_validated(s, y, [p.word for p in pairs])
        n = len(train)
        return accuracy(s[n:], y[n:], fit_threshold(s[:n], y[:n]))

    def row(name: str, spec: LayersArg, minus_context: bool) -> dict[str, Any]:
        label = name + (" + context-only" if minus_context else "")
        return {
            "layers": label,
            "spec": str(spec),
            "context_only": minus_context,
            "accuracy": score(spec, minus_context),
        }

    as_asked = bool(context_only) and embedder.contextual
    recipe_context = as_asked if context_only is not None else embedder.contextual and recipe_of(embedder).context_only
    default_spec = recipe_of(embedder).layers
    if not embedder.contextual:
        scores = [row("static", 0, False)]
    elif layers is not None:
        scores = [row(f"default ({default_spec})", default_spec, recipe_context)]
        scores.append(row(str(layers), layers, as_asked))
    else:
        scores = [row(f"default ({default_spec})", default_spec, recipe_context)]
        scores += [row(str(k), k, as_asked) for k in range(embedder.num_states)]
    protocol = "threshold fitted on train" if train else "5-fold cross-validation, folds split by word"
    return {"model": embedder.model_id, "pairs": len(test), "protocol": protocol, "scores": scores}
