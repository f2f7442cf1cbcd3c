"""The public entry point: `Embedder` — contextual vectors per token, word, span and sentence. One spine for every
level: words, tokens -> windows -> forward -> pooled layers -> merge -> pooling -> results."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import replace

from contextvec.collect import collect_sentences, collect_spans, collect_tokens, collect_words, out_of_context
from contextvec.correction import CorrectionArg, resolve_correction
from contextvec.engine import DocVectors, run_documents, run_options
from contextvec.models.backend import ModelInfo
from contextvec.models.contract import DEFAULT_BACKEND, DEFAULT_PRECISION, Backend, BackendName, Precision
from contextvec.models.recipes import TOP_LAYER
from contextvec.models.registry import DEFAULT_MODEL
from contextvec.options import (
    SUBWORD_POOLINGS,
    LayerPoolingArg,
    LayersArg,
    SentencePoolingArg,
    SubwordPooling,
    check_choice,
    resolve_layer_selection,
    strict_options,
)
from contextvec.pooling.sentence import sentence_mode
from contextvec.progress import Reporter
from contextvec.protocol import SpanInput, TextInput
from contextvec.results import SentenceEmbeddings, SpanEmbeddings, TokenEmbeddings, WordEmbeddings, normalize_rows
from contextvec.spans import check_spans, sentence_provenance, word_provenance
from contextvec.text import Document, make_documents


class Embedder:
    """Contextual embeddings from one model.

    >>> Embedder("minilm").embed_words(["We sat on the bank of the river."]).vectors.shape
    (9, 384)

    Args:
        model: "minilm" (default), "mpnet", "smollm2", a local folder (transformers, `contextvec train` or
            `finetune` output), a .gguf file, or a hub id (online).
        device: "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
        dtype: "float32", "bfloat16", "float16" (GPU), "int8" (ONNX, CPU) or "auto" (bfloat16 on a GPU or a CPU
            with AMX / AVX512-BF16, else float32; docs/backends.md). Results are always float32 vectors, and
            their `precision` says what the model ran in.
        backend: "torch", "onnx" (ONNX Runtime, CPU; the [onnx] extra) or "auto" (docs/backends.md).
        max_length: window size in tokens, special tokens included (default: the model's limit, at most 512).
        stride: tokens shared by neighbouring windows of a long text (default: half the window).
        token_budget, max_batch_size: (padded) tokens / windows per forward batch; (4096, 32) measured fastest.
        fast_path: use contextvec's fused BERT/MPNet forward when it matches transformers on a probe batch at
            load time (minilm, mpnet); False always runs the transformers forward.
        correction: an anisotropy correction for token, word and span vectors (never sentence vectors): a .npz
            made by `contextvec correction fit`, or a `Correction`. Default None: vectors as the model gives them.

    Model-dependent defaults (contextvec.models.recipes): `layers=None` is the model's evaluated recipe for
    tokens, words and spans and the top layer for sentences; sentences follow the folder's sentence-transformers
    recipe when it has one. Every result's `layers` and `pooling` say what was actually used.
    """

    @strict_options
    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "auto",
        dtype: Precision = DEFAULT_PRECISION,
        backend: BackendName = DEFAULT_BACKEND,
        max_length: int | None = None,
        stride: int | None = None,
        token_budget: int = 4096,
        max_batch_size: int = 32,
        fast_path: bool = True,
        correction: CorrectionArg = None,
    ) -> None:
        from contextvec.models.select import load_backend

        b = load_backend(model, backend=backend, dtype=dtype, device=device, max_length=max_length, fast_path=fast_path)
        self._init(b, stride, token_budget, max_batch_size, correction)

    @classmethod
    def from_backend(
        cls,
        backend: Backend,
        *,
        stride: int | None = None,
        token_budget: int = 4096,
        max_batch_size: int = 32,
        correction: CorrectionArg = None,
    ) -> Embedder:
        """Wrap an already built backend (e.g. a model made in code for tests)."""
        self = cls.__new__(cls)
        self._init(backend, stride, token_budget, max_batch_size, correction)
        return self

    def _init(
        self,
        backend: Backend,
        stride: int | None,
        token_budget: int,
        max_batch_size: int,
        correction: CorrectionArg,
    ) -> None:
        info = backend.info
        self.backend = backend
        self.correction = resolve_correction(correction, info.model_id, info.num_layers, info.hidden_size)
        self.run_options = run_options(backend, stride, token_budget, max_batch_size)

    def uncorrected(self) -> Embedder:
        """This embedder without its correction (sharing the loaded model); `self` is not changed."""
        other = copy.copy(self)
        other.correction = None
        return other

    contextual = True  # EmbedderProtocol: a word's vector depends on its context

    @property
    def info(self) -> ModelInfo:
        return self.backend.info

    @property
    def model_id(self) -> str:
        return self.info.model_id

    @property
    def dim(self) -> int:
        return self.info.hidden_size

    @property
    def num_states(self) -> int:
        return self.info.num_layers + 1

    def __repr__(self) -> str:
        i = self.info
        b = f"backend={self.backend.name!r}, dtype={self.backend.precision!r}"
        return f"Embedder({i.model_id!r}, {b}, layers={i.num_layers}, dim={i.hidden_size}, window={i.max_length})"

    def _run(
        self,
        docs: list[Document],
        layers: LayersArg | None,
        layer_pooling: LayerPoolingArg,
        *,
        sentence: bool = False,
        want_specials: bool = False,
        progress: Reporter | bool = False,
    ) -> tuple[Iterator[DocVectors], str]:
        if layers is None:
            layers = TOP_LAYER if sentence else self.info.recipe.layers
        selection = resolve_layer_selection(layers, layer_pooling, self.info.num_layers)
        stream = run_documents(
            self.backend,
            [d.text for d in docs],
            selection,
            self.run_options,
            want_specials=want_specials,
            progress=progress,
        )
        correction = None if sentence else self.correction
        if correction is None:
            return stream, selection.describe()
        corrected = (replace(dv, vectors=correction.apply(dv.vectors, selection)) for dv in stream)
        return corrected, f"{selection.describe()} correction={correction.kind}"

    @strict_options
    def embed_tokens(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        progress: Reporter | bool = False,
    ) -> TokenEmbeddings:
        """One vector per subword token (special tokens excluded), with its char offsets and word index."""
        docs = make_documents(texts)
        stream, described = self._run(docs, layers, layer_pooling, progress=progress)
        rows = collect_tokens(stream, docs, self.backend.piece)
        return TokenEmbeddings(
            level="token",
            vectors=rows.vectors,
            **word_provenance(docs, rows.offsets),
            pieces=rows.pieces,
            word_index=rows.word_index,
            model_id=self.model_id,
            precision=self.backend.precision,
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
        progress: Reporter | bool = False,
    ) -> WordEmbeddings:
        """One vector per word (see contextvec.text for what a word is); pass lists of words for pre-split input.

        context_only: subtract each word's out-of-context vector (the word embedded alone, same options), leaving
        what its context adds. Best for comparing uses of the same word (see docs/EVALUATION.md); not for
        comparing different words, whose identity it removes.
        """
        check_choice("subword_pooling", subword_pooling, SUBWORD_POOLINGS)
        docs = make_documents(texts)
        stream, described = self._run(docs, layers, layer_pooling, progress=progress)
        rows = collect_words(stream, docs, subword_pooling)
        provenance = word_provenance(docs, rows.spans)
        vectors = rows.vectors
        if context_only:
            vectors = vectors - out_of_context(self, provenance["strings"], layers, layer_pooling, subword_pooling)
            described += " context_only"
        return WordEmbeddings(
            level="word",
            vectors=vectors,
            **provenance,
            n_subwords=rows.n_subwords,
            dropped=rows.dropped,
            model_id=self.model_id,
            precision=self.backend.precision,
            layers=described,
            pooling=subword_pooling,
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
        """One vector per (text, start, end) span, in request order; spans must start and end on word boundaries.

        The span's vector pools all subword tokens of the words it covers; a text shared by several spans is
        embedded once. `text_index` of row k is k (the span's position in the request).
        """
        check_choice("subword_pooling", subword_pooling, SUBWORD_POOLINGS)
        checked = check_spans(spans)
        stream, described = self._run(checked.docs, layers, layer_pooling, progress=progress)
        vectors = collect_spans(stream, checked, subword_pooling, self.model_id)
        if context_only:  # see embed_words
            vectors = vectors - out_of_context(self, checked.strings, layers, layer_pooling, subword_pooling)
            described += " context_only"
        return SpanEmbeddings(
            level="span",
            vectors=vectors,
            **checked.provenance(),
            model_id=self.model_id,
            precision=self.backend.precision,
            layers=described,
            pooling=subword_pooling,
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
        """One vector per text: cls | mean | mean_all | max | last (see contextvec.pooling.sentence).

        Defaults follow the model's sentence recipe (`self.info.sentence_recipe`): for minilm and mpnet that is
        sentence-transformers' own (top layer, mean over all tokens, unit length), so the vectors equal
        `SentenceTransformer(model).encode(normalize_embeddings=True)` on texts within its max_seq_length. A folder
        whose sentence-transformers pipeline contextvec cannot compute exactly (a Dense module, max pooling, a
        default prompt) raises OptionError unless `pooling=` is given.
        """
        sentence_recipe = self.info.sentence_recipe
        mode = sentence_mode(pooling, sentence_recipe, self.info.has_cls, self.model_id)
        docs = make_documents(texts)
        stream, described = self._run(
            docs, layers, layer_pooling, sentence=True, want_specials=mode in ("cls", "mean_all"), progress=progress
        )
        vectors, n_tokens = collect_sentences(stream, len(docs), mode)
        unit = sentence_recipe.normalize if normalize is None else normalize
        return SentenceEmbeddings(
            level="sentence",
            vectors=normalize_rows(vectors) if unit else vectors,
            **sentence_provenance(docs),
            n_tokens=n_tokens,
            normalized=unit,
            model_id=self.model_id,
            precision=self.backend.precision,
            layers=described,
            pooling=mode,
        )
