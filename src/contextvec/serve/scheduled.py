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

    def _chunked(self, method: str, items: Sequence[Any], options: dict[str, Any]) -> Any:
        """`method` of the embedder over `items`, one queued call per chunk, put back together as one result."""
        options.pop("progress", None)  # the job reports its own progress
        call = getattr(self._embedder, method)
        parts, sizes = [], []
        for lo in range(0, max(1, len(items)), self._chunk):
            part = items[lo : lo + self._chunk]
            parts.append(self.run(lambda p=part: call(p, **options), n_texts=max(1, len(part))))  # type: ignore[misc]
            sizes.append(len(part))
        return concat_results(parts, sizes)

    # the protocol's four calls, each with the embedder's own options (EmbedderProtocol says which)
    def embed_tokens(self, texts: Sequence[TextInput], **options: Any) -> TokenEmbeddings:
        result: TokenEmbeddings = self._chunked("embed_tokens", texts, options)
        return result

    def embed_words(self, texts: Sequence[TextInput], **options: Any) -> WordEmbeddings:
        result: WordEmbeddings = self._chunked("embed_words", texts, options)
        return result

    def embed_spans(self, spans: Sequence[SpanInput], **options: Any) -> SpanEmbeddings:
        result: SpanEmbeddings = self._chunked("embed_spans", spans, options)
        return result

    def embed_sentences(self, texts: Sequence[TextInput], **options: Any) -> SentenceEmbeddings:
        result: SentenceEmbeddings = self._chunked("embed_sentences", texts, options)
        return result


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
