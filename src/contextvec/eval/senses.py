"""Sense induction and sense labelling scored against WordNet's own sense labels.

For every (lemma, part of speech) whose WordNet usage examples cover at least `min_senses` synsets with at
least `min_per_sense` examples each, the examples are embedded once (all layers) and, per layer,
- induction: k-means with k = the number of gold senses, scored by the adjusted Rand index (0 = chance);
- labelling: nearest-centroid, each example held out from its own centroid (leave-one-out accuracy, next to
  the majority-sense baseline).
A static model gives every occurrence one vector, so it cannot separate senses: its ARI is 0 by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from contextvec.analysis.senses import cluster, leave_one_out_accuracy, normalize
from contextvec.data.wordnet import SenseExample, examples_by_lemma
from contextvec.embedder import Embedder
from contextvec.static.embedder import StaticEmbedder


@dataclass(frozen=True)
class SenseScores:
    word: str  # "line.n"
    n: int
    senses: int
    ari: list[float]  # per layer
    loo: list[float]  # per layer
    chance: float  # leave-one-out accuracy of guessing a sense uniformly: 1 / senses


def sense_sets(
    min_senses: int = 2, min_per_sense: int = 2, words: Sequence[str] | None = None
) -> dict[str, list[SenseExample]]:
    """'lemma.pos' -> examples of its synsets that have min_per_sense+ examples (min_senses+ such synsets)."""
    out: dict[str, list[SenseExample]] = {}
    for (lemma, pos), exs in sorted(examples_by_lemma().items()):
        if words is not None and lemma not in words and f"{lemma}.{pos}" not in words:
            continue
        counts = Counter(e.synset for e in exs)
        kept = [e for e in exs if counts[e.synset] >= min_per_sense]
        if len({e.synset for e in kept}) >= min_senses:
            out[f"{lemma}.{pos}"] = kept
    return out


def score_senses(
    embedder: Embedder | StaticEmbedder, sets: dict[str, list[SenseExample]], seed: int = 0
) -> list[SenseScores]:
    """ARI (k = gold senses) and leave-one-out accuracy per word and per layer."""
    from sklearn.metrics import adjusted_rand_score

    static = isinstance(embedder, StaticEmbedder)
    if static:  # a static model can only embed words it knows
        assert isinstance(embedder, StaticEmbedder)
        vocab = embedder.vectors
        sets = {w: exs for w, exs in sets.items() if all(e.text[e.start : e.end] in vocab for e in exs)}
    flat = [e for exs in sets.values() for e in exs]
    res = embedder.embed_spans(
        [(e.text, e.start, e.end) for e in flat],
        layers=-1 if static else "all",
        layer_pooling="mean" if static else "concat",
    )
    n_states = embedder.info.num_layers + 1 if isinstance(embedder, Embedder) else 1
    vectors = res.vectors.reshape(len(flat), n_states, -1)  # (N, L+1, D)
    out, row = [], 0
    for word, exs in sets.items():
        v = vectors[row : row + len(exs)]
        row += len(exs)
        gold = [e.synset for e in exs]
        k = len(set(gold))
        aris, loos = [], []
        for layer in range(n_states):
            unit = normalize(v[:, layer])
            aris.append(float(adjusted_rand_score(gold, cluster(unit, k, "kmeans", seed))))
            loos.append(leave_one_out_accuracy(unit, gold)[0])
        out.append(SenseScores(word, len(exs), k, aris, loos, 1.0 / k))
    return out


def summarize(scores: list[SenseScores]) -> dict[str, list[float] | float | int]:
    """Mean ARI and leave-one-out accuracy per layer over all words, with the majority baseline."""
    return {
        "words": len(scores),
        "occurrences": sum(s.n for s in scores),
        "ari": np.mean([s.ari for s in scores], axis=0).round(4).tolist(),
        "loo_accuracy": np.mean([s.loo for s in scores], axis=0).round(4).tolist(),
        "chance": round(float(np.mean([s.chance for s in scores])), 4),
    }
