"""Word senses from contextual vectors: induce them by clustering a word's occurrences, or label new
occurrences by their nearest sense centroid, learnt from a few labelled examples.

Vectors are L2-normalised first, so k-means and agglomerative clustering (average linkage) both work on cosine.
With `k=None` the number of senses is the k in `k_range` with the best silhouette (cosine); when no k reaches
`min_silhouette` the word is reported as one sense (k=1): a static model, whose every occurrence has the same
vector, always ends there.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from contextvec.analysis.occurrences import F32, Occurrences
from contextvec.embedder import Embedder
from contextvec.errors import InvalidInputError, OptionError
from contextvec.options import check_choice
from contextvec.text import fold_word, split_words

ClusterMethod = Literal["kmeans", "agglomerative"]
METHODS: tuple[str, ...] = ("kmeans", "agglomerative")

# Words too common to characterise a sense (function words of English).
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
    now of off on once only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself yourselves one also
    said""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class SenseCluster:
    label: int
    size: int
    keywords: list[str]  # context words most specific to this cluster (smoothed log-odds vs the others)
    examples: list[str]  # sentences of the occurrences closest to the centroid
    example_rows: list[int] = field(default_factory=list)  # the occurrence (row) behind each example


@dataclass
class SenseInduction:
    word: str
    method: str
    k: int
    silhouette: dict[int, float]  # k -> silhouette (cosine), for every k tried
    assignments: npt.NDArray[np.int64]  # (N,) cluster of each occurrence
    clusters: list[SenseCluster]
    occurrences: Occurrences = field(repr=False)

    def to_json(self) -> str:
        occ = self.occurrences
        return json.dumps(
            {
                "word": self.word,
                "model": occ.model_id,
                "layers": occ.layers,
                "method": self.method,
                "k": self.k,
                "silhouette": {str(k): v for k, v in self.silhouette.items()},
                "clusters": [asdict(c) for c in self.clusters],
                "occurrences": [
                    {
                        "cluster": int(c),
                        "text_index": int(occ.text_index[i]),
                        "start": int(occ.start[i]),
                        "end": int(occ.end[i]),
                        "form": occ.form[i],
                        "sentence": occ.sentence[i],
                        **({"label": occ.labels[i]} if occ.labels is not None else {}),
                    }
                    for i, c in enumerate(self.assignments.tolist())
                ],
            },
            ensure_ascii=False,
            indent=1,
        )

    def to_csv(self) -> str:
        """One row per occurrence: cluster, text_index, start, end, form, sentence."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["cluster", "text_index", "start", "end", "form", "sentence"])
        occ = self.occurrences
        for i, c in enumerate(self.assignments.tolist()):
            w.writerow([c, int(occ.text_index[i]), int(occ.start[i]), int(occ.end[i]), occ.form[i], occ.sentence[i]])
        return buf.getvalue()


def normalize(vectors: F32) -> F32:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: F32 = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def cluster(unit: F32, k: int, method: str, seed: int = 0) -> npt.NDArray[np.int64]:
    """Cluster unit vectors (N, D) into k groups."""
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.exceptions import ConvergenceWarning

    if k == 1:
        return np.zeros(len(unit), dtype=np.int64)
    if method == "kmeans":
        with warnings.catch_warnings():  # identical points (a static model) give fewer clusters: that is the answer
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(unit)
    else:
        labels = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(unit)
    out: npt.NDArray[np.int64] = np.asarray(labels, dtype=np.int64)
    return out


def choose_k(
    unit: F32, method: str, k_range: tuple[int, int], min_silhouette: float, seed: int
) -> tuple[int, dict[int, float], npt.NDArray[np.int64]]:
    """The k in k_range with the best cosine silhouette (1 if none reaches min_silhouette)."""
    from sklearn.metrics import silhouette_score

    distinct = len(np.unique(np.round(unit, 5), axis=0))
    scores: dict[int, float] = {}
    best: tuple[float, int, npt.NDArray[np.int64]] = (-math.inf, 1, np.zeros(len(unit), dtype=np.int64))
    for k in range(k_range[0], min(k_range[1], len(unit) - 1, distinct) + 1):
        assignment = cluster(unit, k, method, seed)
        if len(np.unique(assignment)) < 2:
            continue
        s = float(silhouette_score(unit, assignment, metric="cosine"))
        scores[k] = s
        if s > best[0]:
            best = (s, k, assignment)
    if best[0] < min_silhouette:
        return 1, scores, np.zeros(len(unit), dtype=np.int64)
    return best[1], scores, best[2]


def induce_senses(
    occurrences: Occurrences,
    *,
    k: int | None = None,
    method: ClusterMethod = "kmeans",
    k_range: tuple[int, int] = (2, 6),
    min_silhouette: float = 0.02,
    n_examples: int = 3,
    n_keywords: int = 8,
    seed: int = 0,
) -> SenseInduction:
    """Cluster the occurrences of one word into senses; `k=None` picks k by silhouette."""
    check_choice("method", method, METHODS)
    targets = sorted(set(occurrences.target))
    n = len(occurrences)
    if n < 3:
        raise InvalidInputError(f"sense induction needs at least 3 occurrences; found {n} of {targets}.")
    if k is not None and not 1 <= k < n:
        raise OptionError(f"k={k} must be in 1..{n - 1} for {n} occurrences.")
    if not 2 <= k_range[0] <= k_range[1]:
        raise OptionError(f"k_range={k_range} must be (low, high) with 2 <= low <= high.")
    unit = normalize(occurrences.vectors)
    if k is None:
        k, scores, assignment = choose_k(unit, method, k_range, min_silhouette, seed)
    else:
        assignment = cluster(unit, k, method, seed)
        scores = {}
        if k > 1 and len(np.unique(assignment)) > 1:
            from sklearn.metrics import silhouette_score

            scores[k] = float(silhouette_score(unit, assignment, metric="cosine"))
    clusters = describe_clusters(occurrences, unit, assignment, n_examples, n_keywords)
    return SenseInduction(" / ".join(targets), method, k, scores, assignment, clusters, occurrences)


def describe_clusters(
    occ: Occurrences, unit: F32, assignment: npt.NDArray[np.int64], n_examples: int, n_keywords: int
) -> list[SenseCluster]:
    """Size, typical sentences (nearest the centroid) and characteristic context words of every cluster."""
    targets = set(occ.target) | {fold_word(f) for f in occ.form}
    bags = [
        Counter(
            w
            for w in {fold_word(occ.sentence[i][s:e]) for s, e in split_words(occ.sentence[i]).tolist()}
            if w.isalpha() and w not in STOPWORDS and w not in targets
        )
        for i in range(len(occ))
    ]
    out = []
    labels = sorted(set(assignment.tolist()))
    for c in labels:
        rows = np.flatnonzero(assignment == c)
        centroid = unit[rows].mean(axis=0)
        order = rows[np.argsort(-(unit[rows] @ centroid))]
        inside: Counter[str] = Counter()
        outside: Counter[str] = Counter()
        for i, bag in enumerate(bags):
            (inside if assignment[i] == c else outside).update(bag)
        keywords = _log_odds(inside, outside, len(rows), len(occ) - len(rows))[:n_keywords]
        examples: list[str] = []
        example_rows: list[int] = []
        for i in order.tolist():
            if occ.sentence[i] not in examples:
                examples.append(occ.sentence[i])
                example_rows.append(i)
            if len(examples) == n_examples:
                break
        out.append(SenseCluster(int(c), len(rows), keywords, examples, example_rows))
    return out


def _log_odds(inside: Counter[str], outside: Counter[str], n_in: int, n_out: int) -> list[str]:
    """Words by smoothed log-odds of appearing in this cluster's sentences vs the others' (seen at least twice)."""
    scored = []
    for w, a in inside.items():
        if a < 2 and n_in > 2:
            continue
        b = outside.get(w, 0)
        p_in, p_out = (a + 0.5) / (n_in + 1), (b + 0.5) / (n_out + 1)
        scored.append((math.log(p_in / (1 - min(p_in, 0.999))) - math.log(p_out / (1 - min(p_out, 0.999))), a, w))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [w for _, _, w in scored]


class SenseLabeler:
    """Nearest-centroid sense labelling: one unit centroid per sense from labelled example vectors."""

    def __init__(self) -> None:
        self.senses: list[str] = []
        self.centroids: F32 = np.zeros((0, 0), dtype=np.float32)

    def fit(self, vectors: F32, labels: Sequence[str]) -> SenseLabeler:
        if len(vectors) != len(labels) or len(labels) == 0:
            raise InvalidInputError(f"got {len(vectors)} vectors for {len(labels)} labels; give one label per row.")
        self.senses = sorted(set(labels))
        lab = np.asarray(labels)
        unit = normalize(vectors)
        self.centroids = normalize(np.stack([unit[lab == s].mean(axis=0) for s in self.senses]))  # (S, D)
        return self

    def scores(self, vectors: F32) -> F32:
        """(N, S) cosine of each vector to each sense centroid."""
        if not self.senses:
            raise InvalidInputError("the labeler has no senses yet; call fit() with labelled examples first.")
        return normalize(vectors) @ self.centroids.T

    def predict(self, vectors: F32) -> list[str]:
        return [self.senses[i] for i in self.scores(vectors).argmax(axis=1).tolist()]

    def fit_examples(self, embedder: Embedder, examples: Sequence[tuple[str, int, int, str]]) -> SenseLabeler:
        """Fit on labelled uses (text, start, end, sense), embedded with `embedder` at its default layers."""
        vectors = embedder.embed_spans([(t, s, e) for t, s, e, _ in examples]).vectors
        return self.fit(vectors, [label for *_, label in examples])

    def label_spans(self, embedder: Embedder, spans: Sequence[tuple[str, int, int]]) -> list[str]:
        """The nearest sense of each (text, start, end) use; embed with the same embedder as fit_examples."""
        return self.predict(embedder.embed_spans(list(spans)).vectors)


def leave_one_out_accuracy(vectors: F32, labels: Sequence[str]) -> tuple[float, float]:
    """(accuracy, majority baseline) of nearest-centroid labelling, each example held out from its centroid.

    Examples whose sense has no other example cannot be labelled from the rest and are skipped.
    """
    lab = np.asarray(labels)
    counts = Counter(labels)
    unit = normalize(vectors)
    senses = sorted(counts)
    sums = np.stack([unit[lab == s].sum(axis=0) for s in senses])  # (S, D)
    hits, total, majority = 0, 0, 0
    for i, s in enumerate(labels):
        if counts[s] < 2:
            continue
        j = senses.index(s)
        cents = sums.copy()
        cents[j] -= unit[i]
        cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
        n_left = np.asarray([counts[t] - (t == s) for t in senses])
        cents[n_left == 0] = 0.0
        hits += int(senses[int(np.argmax(cents @ unit[i]))] == s)
        total += 1
        majority += int(max(senses, key=lambda t: (counts[t] - (t == s), t)) == s)
    if total == 0:
        raise InvalidInputError("no sense has two or more examples, so none can be held out.")
    return hits / total, majority / total
