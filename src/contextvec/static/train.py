"""Training static embeddings on a user's corpus: word2vec and fastText (gensim), and PCA/LSA of bag-of-words
(scikit-learn)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from contextvec.errors import MissingExtraError, OptionError
from contextvec.static.corpus import CorpusWords
from contextvec.static.vectors import F32, StaticVectors

Algorithm = Literal["word2vec", "fasttext"]
Architecture = Literal["skipgram", "cbow"]


def _gensim() -> Any:
    try:
        import gensim
    except ImportError:
        raise MissingExtraError('training word2vec/fastText needs gensim: pip install "contextvec[static]"') from None
    return gensim


def _check_options(algorithm: str, architecture: str, **counts: int) -> None:
    for name, value in counts.items():
        if value < 1:  # epochs=0 would return the random start as if trained
            raise OptionError(f"{name}={value} must be >= 1.")
    if algorithm not in ("word2vec", "fasttext") or architecture not in ("skipgram", "cbow"):
        raise OptionError(
            f"algorithm={algorithm!r}, architecture={architecture!r}: use word2vec|fasttext and skipgram|cbow."
        )


def train_word2vec(
    corpus: CorpusWords,
    *,
    algorithm: Algorithm = "word2vec",
    architecture: Architecture = "skipgram",
    vector_size: int = 100,
    window: int = 5,
    min_count: int = 5,
    epochs: int = 5,
    workers: int = 2,
    seed: int = 0,
) -> tuple[StaticVectors, Any]:
    """Train word2vec or fastText; returns the vectors and gensim's model (for gensim's own save/load).

    fastText vectors answer out-of-vocabulary words from their character n-grams.
    """
    gensim = _gensim()
    _check_options(algorithm, architecture, epochs=epochs, vector_size=vector_size, window=window, min_count=min_count)
    cls = gensim.models.FastText if algorithm == "fasttext" else gensim.models.Word2Vec
    model = cls(
        vector_size=vector_size,
        window=window,
        min_count=min_count,
        epochs=epochs,
        workers=workers,
        sg=1 if architecture == "skipgram" else 0,
        seed=seed,
    )
    model.build_vocab(corpus)  # first, so an empty vocabulary gets our message rather than gensim's
    wv = model.wv
    if len(wv.index_to_key) == 0:
        raise OptionError(f"no word occurs {min_count}+ times in the corpus; lower min_count or use more text.")
    if len(wv.index_to_key) < 2:  # nothing to predict from context: the vector would stay at its random start
        raise OptionError(
            f"only one word ({wv.index_to_key[0]!r}) occurs {min_count}+ times; {algorithm} learns a word from the "
            "words around it, so it needs two or more: lower min_count or use more text."
        )
    model.train(corpus, total_examples=model.corpus_count, epochs=epochs)
    fallback = None
    if algorithm == "fasttext":

        def fallback(word: str) -> F32 | None:
            try:
                return np.asarray(wv.get_vector(word), dtype=np.float32)
            except KeyError:  # no known n-gram at all
                return None

    vectors = StaticVectors(
        list(wv.index_to_key),
        np.asarray(wv.vectors, dtype=np.float32),
        name=algorithm,
        lowercase=corpus.lowercase,
        fallback=fallback,
    )
    return vectors, model


def train_lsa(
    corpus: CorpusWords,
    *,
    dim: int = 100,
    weighting: Literal["ppmi", "tfidf", "count"] = "ppmi",
    min_count: int = 5,
    window: int | None = None,
    seed: int = 0,
) -> StaticVectors:
    """Word vectors from a reduced word-document (window=None) or word-context (window=k) matrix (LSA/PCA).

    Each line of the corpus is a document. The matrix is weighted by positive pointwise mutual information
    (ppmi, the usual choice for word-context counts), TF-IDF (the classic LSA choice for word-document counts) or
    raw counts, and reduced with a truncated SVD; a word's vector is its row of U·S.
    """
    from scipy import sparse
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer

    counts: dict[str, int] = {}
    docs = []
    for words in corpus:
        docs.append(words)
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    vocab = sorted(w for w, c in counts.items() if c >= min_count)
    if len(vocab) < 2:
        raise OptionError(f"fewer than 2 words occur {min_count}+ times; lower min_count or use more text.")
    index = {w: i for i, w in enumerate(vocab)}
    rows, cols = [], []
    for d, words in enumerate(docs):
        ids = [index[w] for w in words if w in index]
        if window is None:  # word x document
            rows.extend(ids)
            cols.extend([d] * len(ids))
        else:  # word x context word, within +-window
            for i, a in enumerate(ids):
                for b in ids[max(0, i - window) : i] + ids[i + 1 : i + 1 + window]:
                    rows.append(a)
                    cols.append(b)
    n_cols = len(docs) if window is None else len(vocab)
    m = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(vocab), n_cols))
    m.sum_duplicates()
    if weighting == "tfidf":
        m = TfidfTransformer().fit_transform(m)  # words play the part of documents, columns of terms
    elif weighting == "ppmi":
        m = _ppmi(m)
    k = min(dim, min(m.shape) - 1)
    if 1 <= k < dim:  # never fewer dimensions than asked for, silently
        raise OptionError(
            f"dim={dim} is more than this corpus supports: its {m.shape[0]} x {m.shape[1]} matrix gives at most {k} "
            f"dimensions; use dim={k} or less (--dim {k}), or more text."
        )
    if k < 1:
        raise OptionError("the corpus is too small for an SVD; use more text.")
    svd = TruncatedSVD(n_components=k, random_state=seed)
    vectors = np.asarray(svd.fit_transform(m), dtype=np.float32)  # (V, k) = U * S
    return StaticVectors(vocab, vectors, name=f"lsa-{weighting}", lowercase=corpus.lowercase)


def _ppmi(m: Any) -> Any:
    """max(0, log p(w, c) / (p(w) p(c))) for every non-zero cell of a sparse count matrix."""
    coo = m.tocoo()
    total = float(coo.data.sum())
    row_p = np.asarray(m.sum(axis=1)).ravel() / total  # (V,)
    col_p = np.asarray(m.sum(axis=0)).ravel() / total  # (C,)
    pmi = np.log(coo.data / total / (row_p[coo.row] * col_p[coo.col]))
    keep = pmi > 0
    from scipy import sparse

    return sparse.csr_matrix((pmi[keep].astype(np.float32), (coo.row[keep], coo.col[keep])), shape=m.shape)
