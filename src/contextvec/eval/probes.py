"""Frozen-feature probes: sentence classification (scikit-learn logistic regression, stratified k-fold
cross-validation), Lee document similarity (Spearman with human ratings), and a POS-tagging probe (a linear
softmax classifier on frozen word vectors from the tagged Brown corpus, coarse tags), each per layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from contextvec.errors import InputFileError
from contextvec.scoped import seeded

F32 = npt.NDArray[np.float32]

# Brown tags -> 12 coarse classes (the universal tag set of Petrov et al. 2012, as NLTK maps Brown).
_COARSE_PREFIX = [
    ("nn", "NOUN"),
    ("np", "NOUN"),
    ("nr", "NOUN"),
    ("vb", "VERB"),
    ("be", "VERB"),
    ("do", "VERB"),
    ("hv", "VERB"),
    ("md", "VERB"),
    ("jj", "ADJ"),
    ("od", "ADJ"),
    ("rb", "ADV"),
    ("rn", "ADV"),
    ("ql", "ADV"),
    ("wrb", "ADV"),
    ("pp", "PRON"),
    ("pn", "PRON"),
    ("wp", "PRON"),
    ("ex", "DET"),
    ("at", "DET"),
    ("ap", "DET"),
    ("abn", "DET"),
    ("abx", "DET"),
    ("dt", "DET"),
    ("wdt", "DET"),
    ("in", "ADP"),
    ("cd", "NUM"),
    ("cc", "CONJ"),
    ("cs", "CONJ"),
    ("to", "PRT"),
    ("rp", "PRT"),
    ("fw", "X"),
    ("uh", "X"),
    ("nil", "X"),
]


def coarse_tag(tag: str) -> str:
    """Brown tag (e.g. 'nns-tl', 'vbd', 'ppss+md') -> NOUN, VERB, ADJ, ADV, PRON, DET, ADP, NUM, CONJ, PRT, ., X."""
    if tag.startswith("*"):  # "*" is Brown's negator tag (not, n't)
        return "ADV"
    base = tag.lower().split("+")[0].split("-")[0].rstrip("*$")
    if not base or not base[0].isalpha():
        return "."
    for prefix, coarse in sorted(_COARSE_PREFIX, key=lambda p: -len(p[0])):
        if base.startswith(prefix):
            return coarse
    return "X"


@dataclass(frozen=True)
class ProbeScores:
    task: str
    metric: str
    per_layer: list[float]
    note: str

    @property
    def best_layer(self) -> int:
        return int(np.argmax(self.per_layer))


def classify_cv(features: F32, labels: Sequence[str], folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy of a standardised logistic regression under stratified k-fold cross-validation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, features.astype(np.float32), list(labels), cv=cv).mean())


def lee_documents() -> tuple[list[str], npt.NDArray[np.float64]]:
    """The 50 Lee documents and their (50, 50) human similarity ratings (upper triangle), from gensim's data."""
    from contextvec.eval.wordsim import dataset_path

    folder = dataset_path("wordsim353").parent
    docs_path, sims_path = folder / "lee.cor", folder / "similarities0-1.txt"
    if not docs_path.exists() or not sims_path.exists():
        raise InputFileError(f"the Lee corpus files are missing from {folder}; reinstall gensim==4.4.0.")
    docs = [line.strip() for line in docs_path.read_bytes().decode("latin-1").splitlines() if line.strip()]
    sims = np.loadtxt(sims_path)
    return docs, sims


def lee_spearman(doc_vectors: F32, ratings: npt.NDArray[np.float64]) -> float:
    """Spearman between document cosines and human ratings over the upper-triangle pairs."""
    from scipy.stats import spearmanr

    u = doc_vectors / np.maximum(np.linalg.norm(doc_vectors, axis=1, keepdims=True), 1e-12)
    iu = np.triu_indices(len(u), k=1)
    return float(spearmanr((u @ u.T)[iu], ratings[iu]).statistic)


def brown_pos_split(
    n_train: int = 2000, n_test: int = 1000, source: Path | None = None
) -> tuple[list[list[str]], list[list[str]], list[list[str]], list[list[str]]]:
    """(train words, train tags, test words, test tags): every 20th Brown sentence is test, the others train;
    the first n_train / n_test of each, in corpus order (all 15 genres appear in both)."""
    from contextvec.data.brown import tagged_sentences

    tr_w: list[list[str]] = []
    tr_t: list[list[str]] = []
    te_w: list[list[str]] = []
    te_t: list[list[str]] = []
    stride = itertools.count()
    for _, tokens in tagged_sentences(source):
        k = next(stride)
        # every sentence in its own split; sample across the whole corpus (all genres)
        if k % 20 == 0 and len(te_w) < n_test:
            te_w.append([w for w, _ in tokens])
            te_t.append([coarse_tag(t) for _, t in tokens])
        elif k % 20 in (1, 7, 13) and len(tr_w) < n_train:
            tr_w.append([w for w, _ in tokens])
            tr_t.append([coarse_tag(t) for _, t in tokens])
    return tr_w, tr_t, te_w, te_t


def linear_probe(
    x_train: npt.NDArray[np.floating],
    y_train: Sequence[str],
    x_test: npt.NDArray[np.floating],
    y_test: Sequence[str],
    epochs: int = 100,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> float:
    """Test accuracy of a softmax-regression (linear) classifier trained full-batch with L-BFGS in torch."""
    import torch

    classes = sorted(set(y_train))
    index = {c: i for i, c in enumerate(classes)}
    xt = torch.from_numpy(np.asarray(x_train, dtype=np.float32))
    mean, std = xt.mean(0), xt.std(0) + 1e-6
    xt = (xt - mean) / std
    yt = torch.tensor([index[c] for c in y_train])
    with seeded(seed):  # the layer's initialisation; the caller's global RNG is kept
        layer = torch.nn.Linear(xt.shape[1], len(classes))
    opt = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=epochs, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(xt), yt) + weight_decay * layer.weight.pow(2).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    with torch.no_grad():
        xe = (torch.from_numpy(np.asarray(x_test, dtype=np.float32)) - mean) / std
        pred = layer(xe).argmax(1).tolist()
    return float(np.mean([classes[p] == y for p, y in zip(pred, y_test, strict=True)]))
