"""Word-similarity benchmarks (WordSim-353, SimLex-999): Spearman correlation of model cosines with human
ratings, on the pairs the model covers (coverage is always reported next to the score)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contextvec.errors import InputFileError, MissingExtraError
from contextvec.static.vectors import StaticVectors

DATASETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float


@dataclass(frozen=True)
class SimilarityResult:
    dataset: str
    spearman: float
    covered: int
    total: int

    @property
    def coverage(self) -> float:
        return self.covered / self.total


def dataset_path(name: str) -> Path:
    """A packaged dataset by name (from the gensim wheel's test data), or a file path."""
    if name not in DATASETS:
        return Path(name)
    try:
        from gensim.test.utils import datapath
    except ImportError:
        raise MissingExtraError(
            f'{name} ships inside the gensim wheel: pip install "contextvec[static]" (gensim==4.4.0)'
        ) from None
    return Path(datapath(DATASETS[name]))


def load_pairs(name: str) -> list[Pair]:
    """Tab-separated 'word1 word2 score' lines; '#' lines are comments."""
    path = dataset_path(name)
    if not path.is_file():
        raise InputFileError(f"similarity file {str(path)!r} does not exist.")
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        try:
            pairs.append(Pair(parts[0], parts[1], float(parts[2])))
        except (IndexError, ValueError):
            raise InputFileError(f"{path}:{number}: expected 'word1<TAB>word2<TAB>score', got {line[:60]!r}.") from None
    if not pairs:
        raise InputFileError(f"{path}: no pairs.")
    return pairs


def evaluate_similarity(vectors: StaticVectors, pairs: list[Pair], dataset: str = "") -> SimilarityResult:
    """Spearman correlation between cosine(a, b) and the human score over the pairs both words of which have
    vectors."""
    from scipy.stats import spearmanr

    model, human = [], []
    for p in pairs:
        va, vb = vectors.lookup(p.a), vectors.lookup(p.b)
        if va is None or vb is None:
            continue
        model.append(float(va @ vb / max(float(np.linalg.norm(va) * np.linalg.norm(vb)), 1e-12)))
        human.append(p.score)
    rho = float(spearmanr(model, human).statistic) if len(model) >= 3 else float("nan")
    return SimilarityResult(dataset=dataset, spearman=rho, covered=len(model), total=len(pairs))
