"""The one piece of work both corpus engines run: a batch of documents -> index rows (a dict of arrays).

`EmbedBatch` has Ray Data's batch-inference shape: `__init__` loads the model once (per actor on Ray), and
`__call__` maps a batch dict {"seq", "doc_id", "text", "shard"} to a batch dict of rows, and does nothing else
(keeping the heap flat between batches is the engines' job, engines.py). The local engine calls the very same
object in a loop, so the two engines differ only in the scheduler; it also passes "document" (the
corpus reader's validated `contextvec.text.Document`s), so this process splits each text into words only once.

Row columns (see docs/index.md): seq, shard, doc_id, level ("word" | "sentence"), start, end (char offsets in
the document), word (null for sentence rows), word_norm (case-folded word), sentence_start, sentence_end, text
(the sentence that contains the row), layers (the spine's resolved layer description; checked, not stored),
vector (N, D) float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from contextvec.errors import OptionError
from contextvec.io.corpus import Doc
from contextvec.protocol import EmbedderProtocol
from contextvec.sentences import sentence_of_docs, split_sentences
from contextvec.text import Document, fold_word

IndexLevel = Literal["word", "sentence", "both"]
Batch = dict[str, npt.NDArray[Any]]


@dataclass(frozen=True)
class JobSpec:
    """Everything that decides the rows of an index (kept in the manifest, compared on resume)."""

    model: str = "minilm"
    level: IndexLevel = "word"
    layers: str | int | list[int] | None = None  # None = the model's recipe (resolved text goes in the manifest)
    layer_pooling: str = "mean"
    subword_pooling: str = "mean"
    model_options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class EmbedBatch:
    """Load the model once; map document batches to index rows."""

    def __init__(self, spec: JobSpec | dict[str, Any], embedder: EmbedderProtocol | None = None) -> None:
        from contextvec.loader import load_embedder

        self.spec = spec if isinstance(spec, JobSpec) else JobSpec(**spec)
        self.embedder = embedder or load_embedder(self.spec.model, **self.spec.model_options)

    def __call__(self, batch: Batch) -> Batch:
        texts = [str(t) for t in batch["text"]]
        inputs: list[Document] | list[str] = list(batch["document"]) if "document" in batch else texts
        sentences = [split_sentences(t) for t in texts]  # per doc (S_i, 2)
        strings = _sentence_strings(texts, sentences)  # (S,) every sentence's text, sliced once for both levels
        parts: list[Batch] = []
        if self.spec.level in ("word", "both"):
            parts.append(self._words(inputs, sentences, strings))
        if self.spec.level in ("sentence", "both"):
            parts.append(self._sentences(sentences, strings))
        if len({p["vector"].shape[1] for p in parts}) > 1:
            raise OptionError(
                f"level='both' needs word and sentence vectors of one size; got {[p['vector'].shape[1] for p in parts]}"
                " (a concat layer pooling?). Index the levels into two folders instead."
            )
        out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if len(parts) > 1 else parts[0]
        doc = out.pop("doc")  # (N,) position of each row's document in this batch
        if len(parts) > 1:  # one level comes in document order already; two are merged: words first
            order = np.lexsort((out["level"] != "word", out["start"], doc))
            out = {k: v[order] for k, v in out.items()}
            doc = doc[order]
        for key in ("seq", "shard", "doc_id"):
            out[key] = np.asarray(batch[key])[doc]
        return out

    def _words(
        self, inputs: list[Document] | list[str], sentences: list[npt.NDArray[np.int64]], strings: npt.NDArray[Any]
    ) -> Batch:
        s = self.spec
        res = self.embedder.embed_words(
            inputs,
            layers=s.layers,
            layer_pooling=s.layer_pooling,  # type: ignore[arg-type]
            subword_pooling=s.subword_pooling,  # type: ignore[arg-type]
        )
        spans = np.concatenate(sentences)  # (S, 2) every sentence of the batch
        sent = sentence_of_docs(sentences, res.text_index, res.start)  # (N,) each word's sentence
        return {
            "doc": res.text_index,
            "level": np.full(len(res), "word", dtype=object),
            "start": res.start,
            "end": res.end,
            "word": np.asarray(res.strings, dtype=object),
            "word_norm": np.asarray([fold_word(w) for w in res.strings], dtype=object),
            "sentence_start": spans[sent, 0],
            "sentence_end": spans[sent, 1],
            "text": strings[sent],  # (N,) shared references, not N copies
            "layers": np.full(len(res), res.layers, dtype=object),
            "vector": res.vectors.astype(np.float32, copy=False),  # (N, D)
        }

    def _sentences(self, sentences: list[npt.NDArray[np.int64]], strings: npt.NDArray[Any]) -> Batch:
        doc = np.repeat(np.arange(len(sentences), dtype=np.int64), [len(sp) for sp in sentences])  # (S,)
        spans = np.concatenate(sentences)  # (S, 2)
        res = self.embedder.embed_sentences(strings.tolist())  # the model's own sentence recipe
        n = len(strings)
        return {
            "doc": doc,
            "level": np.full(n, "sentence", dtype=object),
            "start": spans[:, 0],
            "end": spans[:, 1],
            "word": np.full(n, None, dtype=object),
            "word_norm": np.full(n, None, dtype=object),
            "sentence_start": spans[:, 0],
            "sentence_end": spans[:, 1],
            "text": strings,
            "layers": np.full(n, f"{res.layers} sentence_pooling={res.pooling}", dtype=object),
            "vector": res.vectors.astype(np.float32, copy=False),  # (S, D)
        }


def _sentence_strings(texts: list[str], sentences: list[npt.NDArray[np.int64]]) -> npt.NDArray[Any]:
    """(S,) object array: the text of every sentence of the batch, in `np.concatenate(sentences)` order."""
    return np.asarray([texts[d][a:b] for d, spans in enumerate(sentences) for a, b in spans.tolist()], dtype=object)


def docs_batch(docs: Sequence[Doc], shard: int) -> Batch:
    """The input batch dict for `EmbedBatch`: what Ray reads from the staged Parquet files, plus "document"."""
    document = np.empty(len(docs), dtype=object)  # (B,) Documents, never unpacked into a 2-d array
    document[:] = [d.document for d in docs]
    return {
        "seq": np.asarray([d.seq for d in docs], dtype=np.int64),
        "doc_id": np.asarray([d.doc_id for d in docs], dtype=object),
        "text": np.asarray([d.text for d in docs], dtype=object),
        "shard": np.full(len(docs), shard, dtype=np.int64),
        "document": document,
    }
