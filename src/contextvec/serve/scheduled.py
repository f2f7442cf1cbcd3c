"""An embedder whose every call waits its turn in a served model's scheduler.

Code that expects a plain embedder and runs in a worker thread — an explorer job, the index behind /search —
gets a `ScheduledEmbedder`: it answers the embedder protocol, but each call is queued with the model's scheduler
(the one way to the model) and runs on its forward thread, under the same queue limit and metrics as the routes.
Large calls are cut into chunks of `chunk_texts` inputs, each queued on its own, so a long job yields to
interactive requests between chunks; the results are put back together as if from one call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from contextvec.embedder import Embedder
from contextvec.models.backend import ModelInfo
from contextvec.options import LayerPoolingArg, LayersArg, SentencePoolingArg, SubwordPooling
from contextvec.progress import Reporter
from contextvec.protocol import EmbedderProtocol, SpanInput, TextInput
from contextvec.results import (
    Embeddings,
    SentenceEmbeddings,
    SpanEmbeddings,
    TokenEmbeddings,
    WordEmbeddings,
    concat_results,
)
from contextvec.serve.scheduler import QueueFull, Scheduler, ShuttingDown

R = TypeVar("R", bound=Embeddings)
X = TypeVar("X")


class ScheduledEmbedder:
    """`embedder`'s protocol, with every model call queued on `scheduler` (call it from a worker thread)."""

    def __init__(
        self,
        embedder: EmbedderProtocol,
        scheduler: Scheduler,
        *,
        background: bool = False,
        chunk_texts: int = 16,
        check: Callable[[], None] | None = None,
    ) -> None:
        self._embedder, self._scheduler = embedder, scheduler
        self._background, self._chunk, self._check = background, max(1, chunk_texts), check

    # the model's description, not its weights: reading it needs no turn
    @property
    def info(self) -> ModelInfo:
        if not isinstance(self._embedder, Embedder):
            raise AttributeError(f"{self.model_id!r} is not a transformer: it has no model info")
        return self._embedder.info

    @property
    def contextual(self) -> bool:
        return self._embedder.contextual

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    @property
    def dim(self) -> int:
        return self._embedder.dim

    @property
    def num_states(self) -> int:
        return self._embedder.num_states

    def run(self, fn: Callable[[], X], n_texts: int = 1) -> X:
        """Run `fn` (which uses the model) on the forward thread when its turn comes; block until it has."""
        if self._check is not None:
            self._check()  # e.g. the job was cancelled: stop before queueing more work
        loop = self._scheduler.loop
        if loop is None:
            raise ShuttingDown(f"model {self.model_id!r} is not being served (its scheduler is not running).")
        if _running_loop() is loop:
            raise RuntimeError("ScheduledEmbedder blocks: call it from a worker thread, not the event loop")
        pause = 0.02
        while True:
            coro = self._scheduler.call(fn, n_texts=n_texts, background=self._background)
            try:
                result: X = asyncio.run_coroutine_threadsafe(coro, loop).result()
                return result
            except QueueFull:
                if not self._background:
                    raise
            time.sleep(pause)  # a job waits for room in the queue instead of failing
            pause = min(0.5, pause * 2)
            if self._check is not None:
                self._check()

    def _chunked(self, items: Sequence[Any], call: Callable[[Sequence[Any]], R]) -> R:
        parts, sizes = [], []
        for lo in range(0, max(1, len(items)), self._chunk):
            part = items[lo : lo + self._chunk]
            parts.append(self.run(lambda p=part: call(p), n_texts=max(1, len(part))))  # type: ignore[misc]
            sizes.append(len(part))
        return concat_results(parts, sizes)

    def embed_tokens(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
        progress: Reporter | bool = False,
    ) -> TokenEmbeddings:
        e = self._embedder
        return self._chunked(texts, lambda p: e.embed_tokens(p, layers=layers, layer_pooling=layer_pooling))

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
        e = self._embedder
        return self._chunked(
            texts,
            lambda p: e.embed_words(
                p,
                layers=layers,
                layer_pooling=layer_pooling,
                subword_pooling=subword_pooling,
                context_only=context_only,
            ),
        )

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
        e = self._embedder
        return self._chunked(
            spans,
            lambda p: e.embed_spans(
                p,
                layers=layers,
                layer_pooling=layer_pooling,
                subword_pooling=subword_pooling,
                context_only=context_only,
            ),
        )

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
        e = self._embedder
        return self._chunked(
            texts,
            lambda p: e.embed_sentences(
                p, pooling=pooling, layers=layers, layer_pooling=layer_pooling, normalize=normalize
            ),
        )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
