"""Word in context (WiC, Pilehvar & Camacho-Collados 2019): does a target word have the same sense in two
sentences? Score = cosine of the word's two contextual vectors; a threshold fitted on train; accuracy on test.

`build_wordnet_pairs` makes such pairs from WordNet 3.0 usage examples: two examples of the same synset
(label True) or of two synsets of the same lemma (False), balanced per lemma, split by lemma so no word is in
both train and test. Files are JSON Lines in the WiC fields: word, pos, sentence1, start1, end1, sentence2,
start2, end2, label (+ optional split).
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from contextvec.data.wordnet import examples_by_lemma
from contextvec.errors import InputFileError, InvalidInputError
from contextvec.io.readers import read_json_objects

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class WicPair:
    word: str
    pos: str
    sentence1: str
    start1: int
    end1: int
    sentence2: str
    start2: int
    end2: int
    label: bool
    split: str = ""


def build_wordnet_pairs(
    test_share: float = 0.3, max_positive_per_lemma: int = 3, seed: int = 0
) -> tuple[list[WicPair], list[WicPair]]:
    """(train, test) pairs from WordNet examples; each lemma gives as many negative as positive pairs."""
    rng = random.Random(seed)
    lemmas = sorted(examples_by_lemma().items())
    words = sorted({lemma for (lemma, _), _ in lemmas})  # split by the word itself, whatever its part of speech
    rng.shuffle(words)
    in_test = set(words[: int(len(words) * test_share)])
    train: list[WicPair] = []
    test: list[WicPair] = []
    for (lemma, pos), exs in lemmas:
        split = "test" if lemma in in_test else "train"
        by_synset: dict[str, list[int]] = {}
        for i, e in enumerate(exs):
            by_synset.setdefault(e.synset, []).append(i)
        pos_pairs = [p for idx in by_synset.values() for p in itertools.combinations(idx, 2)]
        neg_pairs = [(a, b) for a, b in itertools.combinations(range(len(exs)), 2) if exs[a].synset != exs[b].synset]
        n = min(len(pos_pairs), len(neg_pairs), max_positive_per_lemma)
        if n == 0:
            continue
        chosen = [(p, True) for p in rng.sample(pos_pairs, n)] + [(p, False) for p in rng.sample(neg_pairs, n)]
        for (a, b), label in chosen:
            x, y = exs[a], exs[b]
            (train if split == "train" else test).append(
                WicPair(lemma, pos, x.text, x.start, x.end, y.text, y.start, y.end, label, split)
            )
    return train, test


def write_pairs(pairs: Sequence[WicPair], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
    return path


def read_pairs(path: str | Path) -> list[WicPair]:
    """Read a WiC JSONL file; every malformed line is reported by file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"pairs file {str(path)!r} does not exist.")
    pairs = []
    fields = ("word", "sentence1", "start1", "end1", "sentence2", "start2", "end2", "label")
    for n, rec in read_json_objects(path):
        missing = [f for f in fields if f not in rec]
        if missing:
            raise InputFileError(
                f"{path}:{n}: missing field(s) {', '.join(missing)}; WiC lines need {', '.join(fields)}."
            )
        for s, a, b in (("sentence1", "start1", "end1"), ("sentence2", "start2", "end2")):
            text, start, end = rec[s], rec[a], rec[b]
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
                raise InputFileError(f"{path}:{n}: {a}/{b} = {start}/{end} is not a span of {s} ({len(text)} chars).")
        label = rec["label"]
        if isinstance(label, str):
            label = label.strip().upper() in ("T", "TRUE", "1")
        pairs.append(
            WicPair(
                rec["word"],
                rec.get("pos", ""),
                rec["sentence1"],
                rec["start1"],
                rec["end1"],
                rec["sentence2"],
                rec["start2"],
                rec["end2"],
                bool(label),
                rec.get("split", ""),
            )
        )
    if not pairs:
        raise InputFileError(f"{path} has no pairs.")
    return pairs


def unique_spans(pairs: Sequence[WicPair]) -> tuple[list[tuple[str, int, int]], npt.NDArray[np.int64]]:
    """The distinct (text, start, end) spans of the pairs, and (P, 2) rows of each pair's two spans."""
    index: dict[tuple[str, int, int], int] = {}
    rows = []
    for p in pairs:
        row = []
        for span in ((p.sentence1, p.start1, p.end1), (p.sentence2, p.start2, p.end2)):
            row.append(index.setdefault(span, len(index)))
        rows.append(row)
    return list(index), np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def pair_cosines(vectors: F32, rows: npt.NDArray[np.int64]) -> F32:
    """(P,) cosine of each pair's two vectors; vectors (N, D)."""
    u = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    out: F32 = np.einsum("pd,pd->p", u[rows[:, 0]], u[rows[:, 1]])
    return out


def fit_threshold(scores: F32, labels: npt.NDArray[np.bool_]) -> float:
    """The threshold (midpoint between sorted scores) with the best accuracy of `score > threshold`."""
    if len(scores) == 0:
        raise InvalidInputError("no training pairs to fit a threshold on.")
    order = np.argsort(scores)
    s, y = scores[order], labels[order].astype(np.int64)
    # predicting True above position k: correct = negatives at or below k + positives above k
    neg_below = np.concatenate([[0], np.cumsum(1 - y)])
    pos_above = y.sum() - np.concatenate([[0], np.cumsum(y)])
    correct = neg_below + pos_above  # (n+1,), cut before element k
    k = int(np.argmax(correct))
    if k == 0:
        return float(s[0] - 1e-6)
    if k == len(s):
        return float(s[-1] + 1e-6)
    return float((s[k - 1] + s[k]) / 2)


def accuracy(scores: F32, labels: npt.NDArray[np.bool_], threshold: float) -> float:
    return float(((scores > threshold) == labels).mean())
