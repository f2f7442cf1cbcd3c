"""The public entry point: `Embedder` — contextual vectors per token, word, span and sentence.

Every level runs the same spine: text -> words and tokens with offsets -> windows -> forward -> pooled layers
-> merged windows -> subword / sentence pooling -> results with provenance.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from contextvec.alignment.words import align_words, first_word_of_tokens
from contextvec.analysis.correction import Correction
from contextvec.engine import DocVectors, run_documents
from contextvec.errors import InvalidInputError, OptionError, SpanError
from contextvec.models.backend import DType, ModelInfo, TorchBackend
from contextvec.options import (
    SENTENCE_POOLINGS,
    SUBWORD_POOLINGS,
    LayerPoolingArg,
    LayersArg,
    SentencePooling,
    SubwordPooling,
    check_choice,
    resolve_layer_selection,
    strict_options,
)
from contextvec.pooling.sentence import pool_sentence
from contextvec.pooling.subwords import pool_rows, pool_words
from contextvec.results import SentenceEmbeddings, SpanEmbeddings, TokenEmbeddings, WordEmbeddings
from contextvec.text import Document, make_document, make_documents

TextInput = str | Sequence[str]  # a text, or a pre-split list of words
CorrectionArg = Correction | str | Path | None  # "auto", "none", "center", a .npz file, or a Correction


class Embedder:
    """Contextual embeddings from one model.

    >>> emb = Embedder("minilm")
    >>> emb.embed_words(["We sat on the bank of the river."]).vectors.shape
    (9, 384)

    Args:
        model: "minilm" (default), "mpnet", "smollm2", a local model folder or .gguf file, or a hub id (online).
        device: "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
        dtype: weights and activations: "float32", "bfloat16" or "float16" (GPU). Results are always float32.
        max_length: window size in tokens, special tokens included (default: the model's limit, at most 512).
        stride: tokens shared by neighbouring windows of a long text (default: half the window).
        token_budget: at most this many (padded) tokens go through the model in one batch.
        max_batch_size: at most this many windows in one batch. The defaults (4096, 32) were the fastest on a
            2-core CPU in benchmarks/throughput.py: small sorted batches pad little and stay in cache.
        fast_path: use contextvec's fused forward for plain BERT encoders (minilm) when it matches transformers
            on a probe batch at load time; False always runs the transformers forward.
        correction: anisotropy correction for token, word and span vectors (never sentence vectors, which keep
            the model's own recipe): "auto" (default) = the model's recommended one (see docs/EVALUATION.md;
            packaged for the offline models), "none", "center" (the packaged per-layer corpus means), a .npz
            made by `contextvec correction fit`, or a `Correction`.
    """

    def __init__(
        self,
        model: str = "minilm",
        *,
        device: str = "auto",
        dtype: DType = "float32",
        max_length: int | None = None,
        stride: int | None = None,
        token_budget: int = 4096,
        max_batch_size: int = 32,
        fast_path: bool = True,
        correction: CorrectionArg = "auto",
    ) -> None:
        backend = TorchBackend.load(model, device=device, dtype=dtype, max_length=max_length, fast_path=fast_path)
        self._init(backend, stride, token_budget, max_batch_size, correction)

    @classmethod
    def from_backend(
        cls,
        backend: TorchBackend,
        *,
        stride: int | None = None,
        token_budget: int = 4096,
        max_batch_size: int = 32,
        correction: CorrectionArg = "auto",
    ) -> Embedder:
        """Wrap an already built backend (e.g. a model made in code for tests)."""
        self = cls.__new__(cls)
        self._init(backend, stride, token_budget, max_batch_size, correction)
        return self

    def _init(
        self,
        backend: TorchBackend,
        stride: int | None,
        token_budget: int,
        max_batch_size: int,
        correction: CorrectionArg,
    ) -> None:
        from contextvec.analysis.recipes import resolve_correction

        self.backend = backend
        self.correction: Correction | None = resolve_correction(correction, backend.info)
        capacity = backend.info.max_length - len(backend.prefix_ids) - len(backend.suffix_ids)
        self.stride = capacity // 2 if stride is None else stride
        if not 0 <= self.stride < capacity:
            raise OptionError(f"stride={stride} must be in 0..{capacity - 1} (tokens shared by neighbouring windows).")
        if token_budget < backend.info.max_length:
            raise OptionError(
                f"token_budget={token_budget} is smaller than one full window ({backend.info.max_length} tokens); "
                "raise it or lower max_length."
            )
        if max_batch_size < 1:
            raise OptionError(f"max_batch_size={max_batch_size} must be >= 1.")
        self.token_budget = token_budget
        self.max_batch_size = max_batch_size

    @property
    def info(self) -> ModelInfo:
        return self.backend.info

    @property
    def model_id(self) -> str:
        return self.backend.info.model_id

    def __repr__(self) -> str:
        i = self.info
        return f"Embedder({i.model_id!r}, layers={i.num_layers}, dim={i.hidden_size}, window={i.max_length})"

    # -- the spine ------------------------------------------------------------------------------------------------

    def _run(
        self,
        docs: list[Document],
        layers: LayersArg | None,
        layer_pooling: LayerPoolingArg,
        *,
        want_cls: bool = False,
        progress: bool = False,
        correct: bool = True,
    ) -> tuple[Iterator[DocVectors], str]:
        if layers is None:  # the model's recommended layers (analysis/recipes.py), else the top layer
            from contextvec.analysis.recipes import default_layers

            layers = default_layers(self.model_id)
        selection = resolve_layer_selection(layers, layer_pooling, self.info.num_layers)
        stream = run_documents(
            self.backend,
            [d.text for d in docs],
            selection,
            stride=self.stride,
            token_budget=self.token_budget,
            max_batch_size=self.max_batch_size,
            want_cls=want_cls,
            progress=progress,
        )
        correction = self.correction if correct else None
        if correction is None:
            return stream, selection.describe()
        corrected = (replace(dv, vectors=correction.apply(dv.vectors, selection)) for dv in stream)
        return corrected, f"{selection.describe()} correction={correction.kind}"

    # -- levels ---------------------------------------------------------------------------------------------------

    @strict_options
    def embed_tokens(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        progress: bool = False,
    ) -> TokenEmbeddings:
        """One vector per subword token (special tokens excluded), with its char offsets and word index."""
        docs = make_documents(texts)
        stream, described = self._run(docs, layers, layer_pooling, progress=progress)
        parts: list[tuple[np.ndarray, ...]] = [()] * len(docs)
        pieces: list[list[str]] = [[] for _ in docs]
        for dv in stream:
            enc = dv.encoded
            parts[dv.index] = (dv.vectors, enc.offsets, first_word_of_tokens(enc.offsets, docs[dv.index].words))
            pieces[dv.index] = [self.backend.piece(t) for t in enc.ids.tolist()]
        return TokenEmbeddings(
            level="token",
            vectors=np.concatenate([p[0] for p in parts]),
            **_provenance(docs, [p[1] for p in parts]),
            pieces=[x for ps in pieces for x in ps],
            word_index=np.concatenate([p[2] for p in parts]),
            model_id=self.model_id,
            layers=described,
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
        progress: bool = False,
    ) -> WordEmbeddings:
        """One vector per word (see contextvec.text for what a word is); pass lists of words for pre-split input.

        context_only: subtract each word's out-of-context vector (the word embedded alone, same options), leaving
        what its context adds. Best for comparing uses of the same word (see docs/EVALUATION.md); not for
        comparing different words, whose identity it removes.
        """
        check_choice("subword_pooling", subword_pooling, SUBWORD_POOLINGS)
        docs = make_documents(texts)
        stream, described = self._run(docs, layers, layer_pooling, progress=progress)
        vecs: list[np.ndarray] = [np.empty(0)] * len(docs)
        spans: list[np.ndarray] = [np.empty(0)] * len(docs)
        counts: list[np.ndarray] = [np.empty(0)] * len(docs)
        dropped: list[tuple[int, int, int]] = []
        for dv in stream:
            words = docs[dv.index].words
            alignment = align_words(dv.encoded.offsets, words)
            kept = alignment.counts > 0
            if not kept.all():  # words whose every character the tokenizer removed: reported, not invented
                dropped.extend((dv.index, int(s), int(e)) for s, e in words[~kept].tolist())
                words = words[kept]
                alignment = align_words(dv.encoded.offsets, words)
            vecs[dv.index] = pool_words(dv.vectors, alignment, subword_pooling)
            spans[dv.index] = words
            counts[dv.index] = alignment.counts
        provenance = _provenance(docs, spans)
        vectors = np.concatenate(vecs)
        if context_only:
            vectors = vectors - self._isolated(provenance["strings"], layers, layer_pooling, subword_pooling)
            described += " context_only"
        return WordEmbeddings(
            level="word",
            vectors=vectors,
            **provenance,
            n_subwords=np.concatenate(counts),
            dropped=sorted(dropped),
            model_id=self.model_id,
            layers=described,
            pooling=subword_pooling,
        )

    @strict_options
    def embed_spans(
        self,
        spans: Sequence[tuple[str, int, int]],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        subword_pooling: SubwordPooling = "mean",
        context_only: bool = False,
        progress: bool = False,
    ) -> SpanEmbeddings:
        """One vector per (text, start, end) span; spans must start and end on word boundaries.

        The span's vector pools all subword tokens of the words it covers; a text shared by several spans is
        embedded once.
        """
        from contextvec.text import locate_span

        check_choice("subword_pooling", subword_pooling, SUBWORD_POOLINGS)
        if isinstance(spans, str) or len(spans) == 0:
            raise InvalidInputError("pass a non-empty list of (text, start, end) tuples.")
        doc_of: dict[str, int] = {}
        docs: list[Document] = []
        located: list[tuple[int, int, int]] = []  # (doc, first word, last word)
        for k, item in enumerate(spans):
            if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 3:
                raise SpanError(f"span {k} is {item!r}; each span is a (text, start, end) tuple.")
            text, start, end = item
            if not isinstance(text, str) or text not in doc_of:
                doc_of[text] = len(docs)
                docs.append(make_document(text, k))
            d = doc_of[text]
            located.append((d, *locate_span(docs[d], start, end, k)))
        stream, described = self._run(docs, layers, layer_pooling, progress=progress)
        by_doc: dict[int, list[int]] = {}
        for k, (d, _, _) in enumerate(located):
            by_doc.setdefault(d, []).append(k)
        rows: list[np.ndarray] = [np.empty(0)] * len(located)
        for dv in stream:
            alignment = align_words(dv.encoded.offsets, docs[dv.index].words)
            for k in by_doc[dv.index]:
                _, i, j = located[k]
                tokens = alignment.tokens_of(i, j)
                if len(tokens) == 0:
                    raise SpanError(
                        f"span {k} {spans[k][1:]} covers only characters that model {self.model_id!r}'s tokenizer "
                        "drops, so it has no vector; choose a span with visible text."
                    )
                rows[k] = pool_rows(dv.vectors, tokens, subword_pooling)
        vectors = np.stack(rows)
        strings = [s[0][int(s[1]) : int(s[2])] for s in spans]
        if context_only:  # see embed_words
            vectors = vectors - self._isolated(strings, layers, layer_pooling, subword_pooling)
            described += " context_only"
        return SpanEmbeddings(
            level="span",
            vectors=vectors,
            text_index=np.asarray([d for d, _, _ in located], dtype=np.int64),
            start=np.asarray([int(s[1]) for s in spans], dtype=np.int64),
            end=np.asarray([int(s[2]) for s in spans], dtype=np.int64),
            strings=strings,
            model_id=self.model_id,
            layers=described,
            pooling=subword_pooling,
        )

    def _isolated(
        self, strings: list[str], layers: LayersArg | None, layer_pooling: LayerPoolingArg, pooling: SubwordPooling
    ) -> np.ndarray:
        """(n, D') the out-of-context vector of each string: the string embedded alone, all of its tokens pooled."""
        unique = sorted(set(strings))
        alone = self.embed_spans(
            [(w, 0, len(w)) for w in unique], layers=layers, layer_pooling=layer_pooling, subword_pooling=pooling
        )
        table = dict(zip(unique, alone.vectors, strict=True))
        return np.stack([table[w] for w in strings])

    @strict_options
    def embed_sentences(
        self,
        texts: Sequence[TextInput],
        *,
        pooling: SentencePooling = "mean",
        layers: LayersArg = -1,
        layer_pooling: LayerPoolingArg = "mean",
        progress: bool = False,
    ) -> SentenceEmbeddings:
        """One vector per text: cls | mean | max | last (see contextvec.pooling.sentence)."""
        check_choice("pooling", pooling, SENTENCE_POOLINGS)
        if pooling == "cls" and not self.info.has_cls:
            raise OptionError(
                f"pooling='cls' needs a model that puts a special token first; {self.model_id!r} adds none. "
                "Use 'last' (decoders) or 'mean'."
            )
        docs = make_documents(texts)
        stream, described = self._run(
            docs, layers, layer_pooling, want_cls=pooling == "cls", progress=progress, correct=False
        )
        rows: list[np.ndarray] = [np.empty(0)] * len(docs)
        for dv in stream:
            rows[dv.index] = pool_sentence(dv.vectors, dv.cls, pooling)
        return SentenceEmbeddings(
            level="sentence",
            vectors=np.stack(rows),
            text_index=np.arange(len(docs), dtype=np.int64),
            start=np.zeros(len(docs), dtype=np.int64),
            end=np.asarray([len(d.text) for d in docs], dtype=np.int64),
            strings=[d.text for d in docs],
            model_id=self.model_id,
            layers=described,
            pooling=pooling,
        )


def _provenance(docs: list[Document], spans: list[np.ndarray]) -> dict[str, Any]:
    """text_index, start, end and strings for rows given as (n_i, 2) char spans per input text."""
    stacked = np.concatenate(spans)  # (N, 2)
    return {
        "text_index": np.concatenate([np.full(len(sp), i, dtype=np.int64) for i, sp in enumerate(spans)]),
        "start": stacked[:, 0].copy(),
        "end": stacked[:, 1].copy(),
        "strings": [docs[i].text[a:b] for i, sp in enumerate(spans) for a, b in sp.tolist()],
    }
