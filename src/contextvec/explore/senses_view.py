"""The Senses and Layers views' numbers: a word's uses as 2-D points (PCA of the unit vectors) coloured by induced
sense, each with its sentence and nearest uses; labels given to a few points spread to the rest; and the
contextuality curves of a model. The work runs as a job (jobs.py) so the page shows progress and can cancel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from contextvec.analysis.contextuality import measure_contextuality
from contextvec.analysis.occurrences import INFLECT, Occurrences, collect_occurrences
from contextvec.analysis.senses import SenseLabeler, induce_senses, normalize
from contextvec.errors import InvalidInputError
from contextvec.explore.jobs import Job
from contextvec.protocol import EmbedderProtocol

if TYPE_CHECKING:
    from contextvec.index import Index

F32 = npt.NDArray[np.float32]
NEIGHBOURS = 5  # nearest uses sent per point


def pca_2d(unit: F32) -> F32:
    """(N, D) -> (N, 2): the rows projected on their first two principal components."""
    centred = unit - unit.mean(axis=0, keepdims=True)  # (N, D)
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)  # vt: (min(N, D), D)
    axes = np.zeros((2, unit.shape[1]))
    axes[: min(2, len(vt))] = vt[:2]
    out: F32 = (centred @ axes.T).astype(np.float32)  # (N, 2)
    return out


def nearest(unit: F32, k: int, chunk: int = 1024) -> npt.NDArray[np.int64]:
    """(N, k) indices of each row's k nearest other rows by cosine, most similar first (chunked: N x chunk)."""
    n = len(unit)
    k = min(k, n - 1)
    out = np.zeros((n, k), dtype=np.int64)
    for lo in range(0, n, chunk):
        sims = unit[lo : lo + chunk] @ unit.T  # (C, N)
        sims[np.arange(len(sims)), np.arange(lo, lo + len(sims))] = -np.inf  # not itself
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(sims), 0), np.int64)
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        out[lo : lo + len(sims)] = np.take_along_axis(top, order, axis=1)
    return out


def senses_payload(occ: Occurrences, k: int | None) -> dict[str, Any]:
    """Induce senses over the uses and lay them out as points."""
    found = induce_senses(occ, k=k)
    unit = normalize(occ.vectors)
    xy = pca_2d(unit)
    return {
        "word": found.word,
        "model": occ.model_id,
        "layers": occ.layers,
        "k": found.k,
        "clusters": [{"label": c.label, "size": c.size, "keywords": c.keywords[:5]} for c in found.clusters],
        "x": xy[:, 0].round(5).tolist(),
        "y": xy[:, 1].round(5).tolist(),
        "cluster": found.assignments.tolist(),
        "sentence": occ.sentence,
        "span": [list(occ.span_in_sentence(i)) for i in range(len(occ))],
        "neighbours": nearest(unit, NEIGHBOURS).tolist(),
    }


def senses_from_corpus(
    job: Job,
    embedder: EmbedderProtocol,
    corpus: Sequence[str],
    word: str,
    k: int | None,
    max_uses: int,
    inflect: bool = INFLECT,
) -> dict[str, Any]:
    """Find and embed the word's uses in `corpus` (progress: texts read), then induce senses."""
    occ = collect_occurrences(embedder, job.counted(corpus), [word], inflect=inflect, max_per_word=max_uses, chunk=64)
    job.check()
    job.kept = occ
    return senses_payload(occ, k)


def senses_from_index(
    job: Job, index: Index, word: str, k: int | None, max_uses: int, inflect: bool = INFLECT
) -> dict[str, Any]:
    """The word's stored uses from the index (no embedding), then induce senses."""
    occ = index.occurrences(word, inflect=inflect)
    if len(occ) > max_uses:
        occ = occ.select(np.arange(max_uses, dtype=np.int64))
    job.done = job.total
    job.check()
    job.kept = occ
    return senses_payload(occ, k)


def label_payload(occ: Occurrences, labels: dict[int, str]) -> dict[str, Any]:
    """Nearest-centroid predictions for every use from a few labelled ones (analysis.senses.SenseLabeler)."""
    bad = [i for i in labels if not 0 <= i < len(occ)]
    if bad:
        raise InvalidInputError(f"point {bad[0]} does not exist; this map has points 0..{len(occ) - 1}.")
    if not labels:
        raise InvalidInputError("label at least one point (click it, type a sense name, press Enter).")
    rows = sorted(labels)
    labeler = SenseLabeler().fit(occ.vectors[rows], [labels[i] for i in rows])
    scores = labeler.scores(occ.vectors)  # (N, S)
    return {
        "senses": labeler.senses,
        "predicted": [labeler.senses[i] for i in scores.argmax(axis=1).tolist()],
        "score": scores.max(axis=1).round(4).tolist(),
    }


def layers_payload(job: Job, embedders: Mapping[str, EmbedderProtocol], corpus: Sequence[str]) -> dict[str, Any]:
    """Contextuality per layer of every model on the corpus (small samples: this is for looking, not a paper)."""
    out = []
    for name, emb in embedders.items():
        job.check()
        report = measure_contextuality(
            emb,
            corpus,
            max_texts=500,
            max_words=100,
            per_word=8,
            min_occurrences=2,
            baseline_vectors=500,
            baseline_pairs=4000,
        )
        out.append({"name": name} | report.to_dict())
        job.done += 1
    return {"models": out}
