"""Scoring word-in-context pairs per layer, and searching for a better configuration on the train split only.

Candidates are every contiguous range of hidden states (a single layer is a range of one), averaged, each
(a) as is, (b) centred by corpus means (an anisotropy correction estimated on other text, never on these
pairs), and (c) context-only: minus the word's out-of-context vector (`Embedder(...).embed_spans(...,
context_only=True)`). The "naive" choice is the single layer with the best *train* accuracy, as is; the
"improved" choice is the candidate with the best train accuracy. Both are then scored once on test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from contextvec.eval.features import span_features
from contextvec.eval.wic import F32, WicPair, accuracy, fit_threshold, pair_cosines, unique_spans
from contextvec.options import SubwordPooling
from contextvec.protocol import EmbedderProtocol
from contextvec.static.embedder import StaticEmbedder


@dataclass(frozen=True)
class WicScore:
    first: int  # hidden states first..last (inclusive), averaged
    last: int
    center: bool
    context_only: bool
    threshold: float
    train: float
    test: float

    @property
    def name(self) -> str:
        layers = f"layer {self.first}" if self.first == self.last else f"layers {self.first}-{self.last}"
        return layers + (" + centering" if self.center else "") + (" + context-only" if self.context_only else "")


@dataclass(frozen=True)
class WicReport:
    model_id: str
    n_train: int
    n_test: int
    per_layer: list[WicScore]  # uncentred single layers
    naive: WicScore
    improved: WicScore
    candidates: int

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model_id,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "per_layer": [asdict(s) for s in self.per_layer],
            "naive": asdict(self.naive) | {"name": self.naive.name},
            "improved": asdict(self.improved) | {"name": self.improved.name},
            "candidates": self.candidates,
        }


def _score(
    v: F32,
    rows_tr: npt.NDArray[np.int64],
    y_tr: npt.NDArray[np.bool_],
    rows_te: npt.NDArray[np.int64],
    y_te: npt.NDArray[np.bool_],
    first: int,
    last: int,
    center: bool,
    context_only: bool,
) -> WicScore:
    """Fit the threshold on train pairs of the (N, D) vectors `v`, score test."""
    s_tr, s_te = pair_cosines(v, rows_tr), pair_cosines(v, rows_te)
    t = fit_threshold(s_tr, y_tr)
    return WicScore(first, last, center, context_only, t, accuracy(s_tr, y_tr, t), accuracy(s_te, y_te, t))


def covered_pairs(embedder: EmbedderProtocol, pairs: Sequence[WicPair]) -> list[WicPair]:
    """The pairs a model can score: all for a contextual model, those whose two words it knows for a static one."""
    if not isinstance(embedder, StaticEmbedder):
        return list(pairs)
    known = embedder.vectors
    return [p for p in pairs if p.sentence1[p.start1 : p.end1] in known and p.sentence2[p.start2 : p.end2] in known]


def evaluate_wic(
    embedder: EmbedderProtocol,
    train: Sequence[WicPair],
    test: Sequence[WicPair],
    *,
    means: F32 | None = None,
    subword_pooling: SubwordPooling = "mean",
    search: bool = True,
) -> WicReport:
    """Per-layer accuracy, the naive best layer and the best searched configuration (both chosen on train).

    `means` (L+1, D): per-layer corpus means for centering (e.g. `Correction.means`); None = no centering.
    """
    train, test = covered_pairs(embedder, train), covered_pairs(embedder, test)
    spans, rows = unique_spans(list(train) + list(test))
    feats = span_features(embedder, spans, subword_pooling)  # (N, S, D)
    rows_tr, rows_te = rows[: len(train)], rows[len(train) :]
    y_tr = np.asarray([p.label for p in train])
    y_te = np.asarray([p.label for p in test])
    S = feats.shape[1]
    per_layer = [_score(feats[:, k], rows_tr, y_tr, rows_te, y_te, k, k, False, False) for k in range(S)]
    naive = max(per_layer, key=lambda s: (s.train, -s.first))
    candidates = list(per_layer)
    if search:
        variants: list[tuple[bool, bool]] = [(False, False)]
        variants += [(True, False)] if means is not None else []
        variants += [(False, True)] if not isinstance(embedder, StaticEmbedder) else []
        for center, context_only in variants:
            adjusted = feats
            if center:
                assert means is not None
                adjusted = feats - means[None].astype(np.float32)  # (N, S, D)
            elif context_only:
                words = sorted({t[a:b] for t, a, b in spans})
                alone = span_features(embedder, [(w, 0, len(w)) for w in words], subword_pooling)  # (V, S, D)
                row_of = {w: i for i, w in enumerate(words)}
                adjusted = feats - alone[[row_of[t[a:b]] for t, a, b in spans]]  # (N, S, D)
            for a in range(S):
                running = np.zeros_like(adjusted[:, a])  # (N, D): sum of layers a..b, one layer added at a time
                for b in range(a, S):
                    running += adjusted[:, b]
                    if center or context_only or a != b:  # plain single layers are scored already
                        v = (running / (b - a + 1)).astype(np.float32)
                        candidates.append(_score(v, rows_tr, y_tr, rows_te, y_te, a, b, center, context_only))
            del adjusted
    improved = max(candidates, key=lambda s: (s.train, -(s.last - s.first), -s.first))
    return WicReport(embedder.model_id, len(train), len(test), per_layer, naive, improved, len(candidates))


def cross_validated(scores: F32, labels: npt.NDArray[np.bool_], groups: Sequence[str], folds: int = 5) -> float:
    """Accuracy with the threshold fitted on the other folds (folds split by word, so no word is in both)."""
    uniq = sorted(set(groups))
    fold_of = {g: i % folds for i, g in enumerate(uniq)}
    f = np.asarray([fold_of[g] for g in groups])
    correct = 0
    for k in range(folds):
        te = f == k
        if not te.any() or te.all():
            continue
        t = fit_threshold(scores[~te], labels[~te])
        correct += int(((scores[te] > t) == labels[te]).sum())
    return correct / len(scores)
