"""The one embedder contract: what every model behind contextvec answers, contextual or static.

`Embedder` (transformers models, torch today) and `StaticEmbedder` (GloVe, word2vec, ...) both satisfy
`EmbedderProtocol`; so will the ONNX backend and models contextvec trains. Every tool (analysis, evaluation,
index, server) takes an `EmbedderProtocol` and works with every model. `contextvec.loader.load_embedder` is the
one way to turn a name or path into one.

Row provenance is the same for every embedder (see contextvec.results): `text_index` is the position of the
row's input in the call — the text for tokens, words and sentences, the span for spans — and `start` / `end`
are character offsets into that input's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from contextvec.options import LayerPoolingArg, LayersArg, SentencePoolingArg, SubwordPooling
from contextvec.progress import Reporter
from contextvec.results import SentenceEmbeddings, SpanEmbeddings, TokenEmbeddings, WordEmbeddings
from contextvec.text import Document

TextInput = str | Sequence[str] | Document  # a text, a pre-split list of words, or a text with its words found
SpanInput = tuple[str, int, int]  # (text, start, end) in characters


@runtime_checkable
class EmbedderProtocol(Protocol):
    """Something that embeds tokens, words, spans and sentences with exact character offsets."""

    @property
    def model_id(self) -> str:
        """The model's name in provenance (e.g. 'minilm', 'glove-50d', a folder path)."""
        ...

    @property
    def dim(self) -> int:
        """The size of one hidden state (a layer selection with concat multiplies it)."""
        ...

    @property
    def num_states(self) -> int:
        """How many layers `layers=` can select from: L+1 hidden states for a transformer, 1 for static vectors."""
        ...

    @property
    def contextual(self) -> bool:
        """Whether a word's vector depends on its context (False for static vectors)."""
        ...

    def embed_tokens(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        progress: Reporter | bool = False,
    ) -> TokenEmbeddings: ...

    def embed_words(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        subword_pooling: SubwordPooling = "mean",
        context_only: bool = False,
        progress: Reporter | bool = False,
    ) -> WordEmbeddings: ...

    def embed_spans(
        self,
        spans: Sequence[SpanInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        subword_pooling: SubwordPooling = "mean",
        context_only: bool = False,
        progress: Reporter | bool = False,
    ) -> SpanEmbeddings: ...

    def embed_sentences(
        self,
        texts: Sequence[TextInput],
        *,
        pooling: SentencePoolingArg = None,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        normalize: bool | None = None,
        progress: Reporter | bool = False,
    ) -> SentenceEmbeddings: ...
