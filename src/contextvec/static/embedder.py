"""StaticEmbedder: the contextual Embedder's calls, answered with one vector per word whatever the context.

It uses the same words (contextvec.text), the same result types and the same span checks as the spine, so any
comparison, search or evaluation can run on either. A word missing from the vocabulary has no vector: it is
listed in `WordEmbeddings.dropped`, and a span or text with no known word raises — never a silent zero vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contextvec.errors import InvalidInputError, OptionError, SpanError
from contextvec.options import LayerPoolingArg, LayersArg, SubwordPooling, strict_options
from contextvec.results import SentenceEmbeddings, SpanEmbeddings, WordEmbeddings
from contextvec.static.vectors import F32, StaticVectors
from contextvec.text import Document, locate_span, make_document, make_documents

TextInput = str | Sequence[str]


def _no_layers(layers: LayersArg | None, layer_pooling: LayerPoolingArg) -> None:
    if (layers is not None and str(layers) not in {"-1", "0", "all"}) or layer_pooling != "mean":
        raise OptionError(
            f"layers={layers!r}, layer_pooling={layer_pooling!r}: a static model has a single layer; "
            "leave both at their defaults."
        )


class StaticEmbedder:
    """Static vectors (GloVe, word2vec, fastText, PCA, ...) behind the Embedder interface."""

    def __init__(self, vectors: StaticVectors) -> None:
        self.vectors = vectors

    @classmethod
    def load(cls, name_or_path: str) -> StaticEmbedder:
        from contextvec.static.packaged import load_static

        return cls(load_static(name_or_path))

    @property
    def model_id(self) -> str:
        return self.vectors.name

    def __repr__(self) -> str:
        return f"StaticEmbedder({self.model_id!r}, words={len(self.vectors.words)}, dim={self.vectors.dim})"

    def _known(self, doc: Document, first: int = 0, last: int | None = None) -> tuple[list[F32], list[int]]:
        """Vectors of the words among first..last of doc that have one, and the indices of those words."""
        vecs, idx = [], []
        end = len(doc.words) - 1 if last is None else last
        for w in range(first, end + 1):
            s, e = doc.words[w]
            v = self.vectors.lookup(doc.text[s:e])
            if v is not None:
                vecs.append(v)
                idx.append(w)
        return vecs, idx

    @strict_options
    def embed_words(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        subword_pooling: SubwordPooling = "mean",
        progress: bool = False,
    ) -> WordEmbeddings:
        """One row per known word; unknown words are listed in `dropped`."""
        _no_layers(layers, layer_pooling)
        docs = make_documents(texts)
        vecs, ti, starts, ends, strings, dropped = [], [], [], [], [], []
        for i, doc in enumerate(docs):
            found, idx = self._known(doc)
            known = set(idx)
            for w, (s, e) in enumerate(doc.words.tolist()):
                if w not in known:
                    dropped.append((i, s, e))
            for v, w in zip(found, idx, strict=True):
                s, e = doc.words[w].tolist()
                vecs.append(v)
                ti.append(i)
                starts.append(s)
                ends.append(e)
                strings.append(doc.text[s:e])
        D = self.vectors.dim
        return WordEmbeddings(
            level="word",
            vectors=np.stack(vecs) if vecs else np.empty((0, D), dtype=np.float32),
            text_index=np.asarray(ti, dtype=np.int64),
            start=np.asarray(starts, dtype=np.int64),
            end=np.asarray(ends, dtype=np.int64),
            strings=strings,
            n_subwords=np.ones(len(vecs), dtype=np.int64),
            dropped=dropped,
            model_id=self.model_id,
            layers="static",
            pooling="none",
        )

    @strict_options
    def embed_spans(
        self,
        spans: Sequence[tuple[str, int, int]],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        subword_pooling: SubwordPooling = "mean",
        progress: bool = False,
    ) -> SpanEmbeddings:
        """One row per span: the mean vector of its known words (one word: that word's vector)."""
        _no_layers(layers, layer_pooling)
        if isinstance(spans, str) or len(spans) == 0:
            raise InvalidInputError("pass a non-empty list of (text, start, end) tuples.")
        rows: list[F32] = []
        for k, item in enumerate(spans):
            if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 3:
                raise SpanError(f"span {k} is {item!r}; each span is a (text, start, end) tuple.")
            doc = make_document(item[0], k)
            first, last = locate_span(doc, item[1], item[2], k)
            known, _ = self._known(doc, first, last)
            if not known:
                raise SpanError(
                    f"span {k} {item[0][item[1] : item[2]]!r} has no word in the vocabulary of {self.model_id}, "
                    "so it has no static vector."
                )
            rows.append(np.mean(known, axis=0, dtype=np.float32))
        return SpanEmbeddings(
            level="span",
            vectors=np.stack(rows),
            text_index=np.arange(len(spans), dtype=np.int64),
            start=np.asarray([int(s[1]) for s in spans], dtype=np.int64),
            end=np.asarray([int(s[2]) for s in spans], dtype=np.int64),
            strings=[s[0][int(s[1]) : int(s[2])] for s in spans],
            model_id=self.model_id,
            layers="static",
            pooling="mean",
        )

    @strict_options
    def embed_sentences(
        self, texts: Sequence[TextInput], *, pooling: str = "mean", progress: bool = False
    ) -> SentenceEmbeddings:
        """One row per text: the mean (or max) of its known words' vectors."""
        if pooling not in ("mean", "max"):
            raise OptionError(f"pooling={pooling!r}: static vectors pool sentences by 'mean' or 'max'.")
        docs = make_documents(texts)
        rows = []
        for i, doc in enumerate(docs):
            known, _ = self._known(doc)
            if not known:
                raise InvalidInputError(f"text {i} has no word in the vocabulary of {self.model_id}.")
            m = np.stack(known)  # (W, D)
            rows.append(m.mean(axis=0) if pooling == "mean" else m.max(axis=0))
        return SentenceEmbeddings(
            level="sentence",
            vectors=np.stack(rows),
            text_index=np.arange(len(docs), dtype=np.int64),
            start=np.zeros(len(docs), dtype=np.int64),
            end=np.asarray([len(d.text) for d in docs], dtype=np.int64),
            strings=[d.text for d in docs],
            model_id=self.model_id,
            layers="static",
            pooling=pooling,
        )

    def most_similar(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        return self.vectors.most_similar(word, k)

    def similarity(self, a: str, b: str) -> float:
        return self.vectors.similarity(a, b)

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        return self.vectors.analogy(a, b, c, k)
