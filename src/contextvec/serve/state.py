"""What every route shares: the served models with their schedulers, the request limits, and the one way to run
model work (`submit` for embedding requests that can share a forward call, `call` for anything else)."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

from contextvec.embedder import Embedder
from contextvec.errors import ModelNotFoundError
from contextvec.protocol import EmbedderProtocol
from contextvec.serve.errors import ApiError
from contextvec.serve.runner import BatchKey, Share
from contextvec.serve.scheduled import ScheduledEmbedder
from contextvec.serve.scheduler import Scheduler
from contextvec.serve.settings import ServerSettings

if TYPE_CHECKING:
    from contextvec.index import Index
    from contextvec.vision import PatchEmbedder

X = TypeVar("X")


@dataclass
class Served:
    settings: ServerSettings
    embedders: dict[str, Embedder]
    schedulers: dict[str, Scheduler]
    index_models: dict[str, EmbedderProtocol] = field(default_factory=dict)  # an index's model not among --model
    index: Index | None = None  # the index behind /search and the explorer (--index)
    image_models: dict[str, PatchEmbedder] = field(default_factory=dict)  # --image-model: /embed/patches
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # e.g. the explorer's jobs

    @property
    def names(self) -> list[str]:
        return list(self.embedders)

    def pick(self, model: str | None) -> tuple[str, Embedder]:
        """The named served model (default: the first one)."""
        name = model or self.names[0]
        if name not in self.embedders:
            raise ModelNotFoundError(f"model {name!r} is not served here; served models: {', '.join(self.names)}.")
        return name, self.embedders[name]

    def check_limits(self, texts: list[str]) -> None:
        limit = self.settings.max_texts_per_request
        if len(texts) > limit:
            message = f"{len(texts)} texts in one request; the limit is {limit}. Split the request."
            raise ApiError(413, message, "request_too_large")
        for i, t in enumerate(texts):
            if len(t) > self.settings.max_chars_per_text:
                message = f"text {i} has {len(t)} characters; the limit is {self.settings.max_chars_per_text}."
                raise ApiError(413, message, "request_too_large")

    async def timed(self, work: Awaitable[X]) -> X:
        """`work`'s result, or HTTP 504 once it has taken longer than the request timeout."""
        timeout = self.settings.request_timeout_s
        try:
            return await asyncio.wait_for(work, timeout)
        except TimeoutError:
            message = f"the request took longer than {timeout} s; send less text or retry later."
            raise ApiError(504, message, "timeout") from None

    async def submit(self, name: str, key: BatchKey, payload: list[Any]) -> Share:
        """Queue one request's texts (or spans) with the model's scheduler; wait for its share of a batch."""
        texts = [p[0] if isinstance(p, tuple) else getattr(p, "text", p) for p in payload]  # spans, Documents
        n_tokens = sum(len(t) // 3 + 2 for t in texts)  # a cheap estimate for the batch budget
        share: Share = await self.timed(self.schedulers[name].submit(key, payload, n_tokens))
        return share

    async def call(self, name: str, fn: Callable[[], X], n_texts: int = 1) -> X:
        """Run `fn` (which uses model `name`) alone on the model's forward thread, when its turn comes."""
        result: X = await self.timed(self.schedulers[name].call(fn, n_texts=max(1, n_texts)))
        return result

    def scheduled(self, name: str, *, background: bool, check: Callable[[], None] | None = None) -> ScheduledEmbedder:
        """Model `name` as an embedder for worker-thread code (jobs, /search): every call queues on its scheduler."""
        return ScheduledEmbedder(
            self.embedders[name] if name in self.embedders else self.index_models[name],
            self.schedulers[name],
            background=background,
            chunk_texts=self.settings.job_chunk_texts,
            check=check,
        )

    async def authorized(self, request: Request) -> None:
        """A FastAPI dependency: with an API key set, every protected route needs 'Authorization: Bearer KEY'."""
        key = self.settings.api_key
        if key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not (scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), key.encode())):
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'.", "unauthorized")
