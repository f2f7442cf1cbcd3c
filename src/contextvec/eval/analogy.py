"""The Google analogy set (19,544 questions, 14 sections): a : b :: c : ?, answered by 3CosAdd — the word
nearest to b - a + c among the first `restrict` words of the vocabulary (a, b, c excluded), as in word2vec's
own evaluation. Questions with a word outside that vocabulary are skipped and counted (coverage)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contextvec.eval.wordsim import dataset_path
from contextvec.static.vectors import StaticVectors


@dataclass(frozen=True)
class AnalogyResult:
    accuracy: float  # on the covered questions
    semantic: float
    syntactic: float
    covered: int
    total: int


def load_questions() -> list[tuple[str, str, str, str, str]]:
    """(section, a, b, c, d), lowercased."""
    out = []
    section = ""
    for line in dataset_path("wordsim353").with_name("questions-words.txt").read_text().splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif line.strip():
            a, b, c, d = line.lower().split()
            out.append((section, a, b, c, d))
    return out


def evaluate_analogy(
    vectors: StaticVectors,
    restrict: int = 30000,
    batch: int = 512,
    questions: list[tuple[str, str, str, str, str]] | None = None,
) -> AnalogyResult:
    questions = load_questions() if questions is None else questions
    words = vectors.words[:restrict]
    index = {w.lower(): i for i, w in enumerate(words)}
    unit = np.asarray(vectors.matrix[: len(words)], dtype=np.float32)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    known = [(s, *[index[x] for x in q]) for s, *q in questions if all(x in index for x in q)]
    hits = {"sem": [0, 0], "syn": [0, 0]}
    for start in range(0, len(known), batch):
        part = known[start : start + batch]
        ids = np.asarray([q[1:] for q in part])  # (B, 4)
        target = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]  # (B, D)
        scores = target @ unit.T  # (B, V)
        rows = np.arange(len(part))
        for col in range(3):
            scores[rows, ids[:, col]] = -np.inf
        pred = scores.argmax(axis=1)
        for q, p, gold in zip(part, pred, ids[:, 3], strict=True):
            kind = "syn" if str(q[0]).startswith("gram") else "sem"
            hits[kind][0] += int(p == gold)
            hits[kind][1] += 1
    n = hits["sem"][1] + hits["syn"][1]
    return AnalogyResult(
        accuracy=(hits["sem"][0] + hits["syn"][0]) / max(n, 1),
        semantic=hits["sem"][0] / max(hits["sem"][1], 1),
        syntactic=hits["syn"][0] / max(hits["syn"][1], 1),
        covered=n,
        total=len(questions),
    )
