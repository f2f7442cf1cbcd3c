"""Contextuality of every layer of a model on a corpus (Ethayarajh 2019), in one streamed pass.

The corpus is embedded once with all layers concatenated and split per layer. For the self-similarity and MEV
of a word, up to `per_word` occurrences are kept of `max_words` target words (words seen in at least
`min_occurrences` different texts, sampled at random; punctuation excluded); intra-sentence similarity is
accumulated text by text; anisotropy uses a reservoir of random word vectors and random pairs from different
texts. Memory is bounded by those samples, not by the corpus.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from contextvec.analysis.measures import (
    F32,
    anisotropy,
    intra_sentence_similarity,
    max_explainable_variance,
    random_pairs,
    self_similarity,
)
from contextvec.errors import InvalidInputError
from contextvec.progress import Reporter, as_reporter
from contextvec.protocol import EmbedderProtocol
from contextvec.text import fold_word, split_words


@dataclass(frozen=True)
class LayerContextuality:
    layer: int
    self_similarity: float
    intra_sentence: float
    mev: float
    anisotropy: float

    @property
    def adjusted_self_similarity(self) -> float:
        return self.self_similarity - self.anisotropy

    @property
    def adjusted_intra_sentence(self) -> float:
        return self.intra_sentence - self.anisotropy


@dataclass(frozen=True)
class ContextualityReport:
    model_id: str
    layers: list[LayerContextuality]
    n_texts: int
    n_words: int  # target words used for self-similarity and MEV
    per_word: int
    mev_baseline: list[float]  # per layer: MEV of as many random vectors (random words, random texts)

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model_id,
            "n_texts": self.n_texts,
            "n_words": self.n_words,
            "per_word": self.per_word,
            "layers": [
                asdict(r)
                | {
                    "adjusted_self_similarity": r.adjusted_self_similarity,
                    "adjusted_intra_sentence": r.adjusted_intra_sentence,
                    "mev_baseline": b,
                    "adjusted_mev": r.mev - b,
                }
                for r, b in zip(self.layers, self.mev_baseline, strict=True)
            ],
        }


def pick_targets(texts: Sequence[str], min_occurrences: int, max_words: int, seed: int) -> list[str]:
    """Words (folded, with a letter) that occur in at least `min_occurrences` texts; a random sample."""
    doc_freq: Counter[str] = Counter()
    for t in texts:
        doc_freq.update({fold_word(t[s:e]) for s, e in split_words(t).tolist() if any(c.isalpha() for c in t[s:e])})
    eligible = sorted(w for w, n in doc_freq.items() if n >= min_occurrences)
    if not eligible:
        raise InvalidInputError(
            f"no word occurs in {min_occurrences}+ of the {len(texts)} texts; give a larger corpus or lower "
            "min_occurrences."
        )
    random.Random(seed).shuffle(eligible)
    return sorted(eligible[:max_words])


def measure_contextuality(
    embedder: EmbedderProtocol,
    texts: Iterable[str],
    *,
    max_texts: int = 2000,
    max_words: int = 300,
    per_word: int = 10,
    min_occurrences: int = 5,
    baseline_vectors: int = 2000,
    baseline_pairs: int = 20000,
    chunk: int = 256,
    seed: int = 0,
    progress: Reporter | bool = False,
) -> ContextualityReport:
    """Self-similarity, intra-sentence similarity, MEV and anisotropy for every layer 0..L.

    `progress` counts the sample's texts as they are embedded (contextvec.progress; at most `max_texts`).
    """
    sample = list(itertools.islice(iter(texts), max_texts))
    if len(sample) < 2:
        raise InvalidInputError(f"contextuality needs at least 2 texts; got {len(sample)}.")
    targets = set(pick_targets(sample, min_occurrences, max_words, seed))
    n_states = embedder.num_states
    rng = random.Random(seed)
    kept: dict[str, list[F32]] = {w: [] for w in targets}  # word -> occurrence vectors, (L+1, D) each
    seen_in: dict[str, set[int]] = {w: set() for w in targets}
    intra = np.zeros(n_states)
    n_intra = 0
    reservoir: list[tuple[int, F32]] = []  # (text, (L+1, D)) random word vectors
    n_seen = 0
    with as_reporter(progress).task(f"contextuality of {embedder.model_id}", len(sample), "texts") as task:
        for start in range(0, len(sample), chunk):
            part = sample[start : start + chunk]
            res = embedder.embed_words(part, layers="all", layer_pooling="concat")
            per_layer = res.vectors.reshape(len(res.vectors), n_states, -1)  # (N, L+1, D)
            for t in range(len(part)):
                rows = res.rows_of(t)
                if len(rows) >= 2:
                    intra += [intra_sentence_similarity(per_layer[rows, k]) for k in range(n_states)]
                    n_intra += 1
                for r in rows.tolist():
                    word = fold_word(res.strings[r])
                    if not any(c.isalpha() for c in word):
                        continue
                    n_seen += 1
                    if len(reservoir) < baseline_vectors:
                        reservoir.append((start + t, per_layer[r]))
                    elif (j := rng.randrange(n_seen)) < baseline_vectors:
                        reservoir[j] = (start + t, per_layer[r])
                    if word in kept and start + t not in seen_in[word] and len(kept[word]) < per_word:
                        kept[word].append(per_layer[r])
                        seen_in[word].add(start + t)
            task.advance(len(part))
    words = [w for w in sorted(kept) if len(kept[w]) >= 2]
    if not words or n_intra == 0:
        raise InvalidInputError("the corpus sample is too small to measure contextuality; give more texts.")
    layers, mev_base = _per_layer(kept, words, intra / n_intra, reservoir, baseline_pairs, seed)
    return ContextualityReport(embedder.model_id, layers, len(sample), len(words), per_word, mev_base)


def _per_layer(
    kept: dict[str, list[F32]],
    words: list[str],
    intra: npt.NDArray[np.float64],
    reservoir: list[tuple[int, F32]],
    baseline_pairs: int,
    seed: int,
) -> tuple[list[LayerContextuality], list[float]]:
    """The measures of every layer from the collected occurrences, and the MEV of random words (a baseline)."""
    groups = [g for g, _ in reservoir]
    pairs = random_pairs(groups, baseline_pairs, seed)
    base = np.stack([v for _, v in reservoir])  # (R, L+1, D)
    mev_rng = np.random.default_rng(seed)
    layers, mev_base = [], []
    for k in range(len(intra)):
        occ = [np.stack([v[k] for v in kept[w]]) for w in words]  # per word: (n, D)
        layers.append(
            LayerContextuality(
                layer=k,
                self_similarity=float(np.mean([self_similarity(o) for o in occ])),
                intra_sentence=float(intra[k]),
                mev=float(np.mean([max_explainable_variance(o) for o in occ])),
                anisotropy=anisotropy(base[:, k], pairs),
            )
        )
        # the MEV of random words in random contexts, for as many rows as a word has
        sizes = [len(o) for o in occ]
        mev_base.append(
            float(
                np.mean([max_explainable_variance(base[mev_rng.choice(len(base), n, replace=False), k]) for n in sizes])
            )
        )
    return layers, mev_base
