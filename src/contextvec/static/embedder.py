"""StaticEmbedder: the embedder contract (contextvec.protocol) answered with one vector per word, whatever the
context.

It uses the same words (contextvec.text), the same span checks and provenance (contextvec.spans) and the same
result types as the contextual Embedder, so any comparison, search or evaluation can run on either. A word
missing from the vocabulary has no vector: it is listed in `WordEmbeddings.dropped`, and a span or text with no
known word raises — never a silent zero vector. A static model's tokens are its words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contextvec.errors import InvalidInputError, OptionError, SpanError
from contextvec.options import LayerPoolingArg, LayersArg, SentencePoolingArg, SubwordPooling, strict_options
from contextvec.progress import Reporter
from contextvec.protocol import SpanInput, TextInput
from contextvec.results import (
    SentenceEmbeddings,
    SpanEmbeddings,
    TokenEmbeddings,
    WordEmbeddings,
    normalize_rows,
)
from contextvec.spans import check_spans, sentence_provenance, word_provenance
from contextvec.static.vectors import F32, StaticVectors
from contextvec.text import Document, make_documents

LAYERS = "static"  # what results say in their `layers` field
PRECISION = "float32"  # and in their `precision` field: the vectors are looked up, never computed


def _no_layers(layers: LayersArg | None, layer_pooling: LayerPoolingArg, context_only: bool = False) -> None:
    if (layers is not None and str(layers) not in {"-1", "0", "all"}) or layer_pooling != "mean":
        raise OptionError(
            f"layers={layers!r}, layer_pooling={layer_pooling!r}: a static model has a single layer; "
            "leave both at their defaults."
        )
    if context_only:
        raise OptionError(
            "context_only=True: a static model has no context to isolate (every use of a word has the same "
            "vector); leave it False or use a contextual model."
        )


class StaticEmbedder:
    """Static vectors (GloVe, word2vec, fastText, PCA, ...) behind the embedder contract."""

    contextual = False
    num_states = 1

    def __init__(self, vectors: StaticVectors) -> None:
        self.vectors = vectors

    @classmethod
    def load(cls, name_or_path: str) -> StaticEmbedder:
        from contextvec.static.packaged import load_static

        return cls(load_static(name_or_path))

    @property
    def model_id(self) -> str:
        return self.vectors.name

    @property
    def dim(self) -> int:
        return self.vectors.dim

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

    def _word_rows(self, texts: Sequence[TextInput]) -> tuple[list[Document], F32, list[list[int]]]:
        """Documents, (N, D) vectors of the known words, and the indices of those words in each document."""
        docs = make_documents(texts)
        vecs: list[F32] = []
        known: list[list[int]] = []
        for doc in docs:
            found, idx = self._known(doc)
            vecs.extend(found)
            known.append(idx)
        matrix = np.stack(vecs) if vecs else np.empty((0, self.dim), dtype=np.float32)
        return docs, matrix, known

    @strict_options
    def embed_tokens(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        progress: Reporter | bool = False,
    ) -> TokenEmbeddings:
        """One row per known word (a static model's tokens are its words)."""
        _no_layers(layers, layer_pooling)
        docs, vectors, known = self._word_rows(texts)
        provenance = word_provenance(docs, [d.words[k].reshape(-1, 2) for d, k in zip(docs, known, strict=True)])
        return TokenEmbeddings(
            level="token",
            vectors=vectors,
            **provenance,
            pieces=list(provenance["strings"]),
            word_index=np.asarray([w for k in known for w in k], dtype=np.int64),
            model_id=self.model_id,
            precision=PRECISION,
            layers=LAYERS,
            pooling="",
        )

    @strict_options
    def embed_words(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        subword_pooling: SubwordPooling = "mean",
        context_only: bool = False,
        progress: Reporter | bool = False,
    ) -> WordEmbeddings:
        """One row per known word; unknown words are listed in `dropped`."""
        _no_layers(layers, layer_pooling, context_only)
        docs, vectors, known = self._word_rows(texts)
        dropped = [
            (i, int(s), int(e))
            for i, (doc, k) in enumerate(zip(docs, known, strict=True))
            for w, (s, e) in enumerate(doc.words.tolist())
            if w not in set(k)
        ]
        return WordEmbeddings(
            level="word",
            vectors=vectors,
            **word_provenance(docs, [d.words[k].reshape(-1, 2) for d, k in zip(docs, known, strict=True)]),
            n_subwords=np.ones(len(vectors), dtype=np.int64),
            dropped=dropped,
            model_id=self.model_id,
            precision=PRECISION,
            layers=LAYERS,
            pooling="none",
        )

    @strict_options
    def embed_spans(
        self,
        spans: Sequence[SpanInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        subword_pooling: SubwordPooling = "mean",
        context_only: bool = False,
        progress: Reporter | bool = False,
    ) -> SpanEmbeddings:
        """One row per span: the mean vector of its known words (one word: that word's vector)."""
        _no_layers(layers, layer_pooling, context_only)
        checked = check_spans(spans)
        rows: list[F32] = []
        for k, d in enumerate(checked.doc_of):
            known, _ = self._known(checked.docs[d], checked.first_word[k], checked.last_word[k])
            if not known:
                raise SpanError(
                    f"span {k} {checked.strings[k]!r} has no word in the vocabulary of {self.model_id}, "
                    "so it has no static vector."
                )
            rows.append(np.mean(known, axis=0, dtype=np.float32))
        return SpanEmbeddings(
            level="span",
            vectors=np.stack(rows),
            **checked.provenance(),
            model_id=self.model_id,
            precision=PRECISION,
            layers=LAYERS,
            pooling="mean",
        )

    @strict_options
    def embed_sentences(
        self,
        texts: Sequence[TextInput],
        *,
        pooling: SentencePoolingArg = None,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        normalize: bool | None = None,
        progress: Reporter | bool = False,
    ) -> SentenceEmbeddings:
        """One row per text: the mean (default) or max of its known words' vectors."""
        _no_layers(layers, layer_pooling)
        mode = "mean" if pooling is None else pooling
        if mode not in ("mean", "max"):
            raise OptionError(f"pooling={pooling!r}: static vectors pool sentences by 'mean' or 'max'.")
        docs = make_documents(texts)
        rows, counts = [], []
        for i, doc in enumerate(docs):
            known, _ = self._known(doc)
            if not known:
                raise InvalidInputError(f"text {i} has no word in the vocabulary of {self.model_id}.")
            m = np.stack(known)  # (W, D)
            rows.append(m.mean(axis=0) if mode == "mean" else m.max(axis=0))
            counts.append(len(known))
        vectors = np.stack(rows).astype(np.float32)
        return SentenceEmbeddings(
            level="sentence",
            vectors=normalize_rows(vectors) if normalize else vectors,
            **sentence_provenance(docs),
            n_tokens=np.asarray(counts, dtype=np.int64),
            normalized=bool(normalize),
            model_id=self.model_id,
            precision=PRECISION,
            layers=LAYERS,
            pooling=mode,
        )

    def most_similar(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        return self.vectors.most_similar(word, k)

    def similarity(self, a: str, b: str) -> float:
        return self.vectors.similarity(a, b)

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        return self.vectors.analogy(a, b, c, k)
