"""What every route shares: the served embedders with their batchers, the request limits, and submitting work."""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from contextvec.embedder import Embedder
from contextvec.errors import ModelNotFoundError
from contextvec.serve.batcher import DynamicBatcher
from contextvec.serve.errors import ApiError
from contextvec.serve.runner import BatchKey, Share
from contextvec.serve.settings import ServerSettings


@dataclass
class Served:
    settings: ServerSettings
    embedders: dict[str, Embedder]
    batchers: dict[str, DynamicBatcher]

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

    async def submit(self, name: str, key: BatchKey, payload: list[Any]) -> Share:
        """Queue one request's texts (or spans) with the model's batcher and wait for its share of a batch."""
        texts = [p[0] if isinstance(p, tuple) else p for p in payload]
        n_tokens = sum(len(t) // 3 + 2 for t in texts)  # a cheap estimate for the batch budget
        timeout = self.settings.request_timeout_s
        try:
            share: Share = await asyncio.wait_for(self.batchers[name].submit(key, payload, n_tokens), timeout)
        except TimeoutError:
            message = f"the request took longer than {timeout} s; send less text or retry later."
            raise ApiError(504, message, "timeout") from None
        return share

    async def authorized(self, request: Request) -> None:
        """A FastAPI dependency: with an API key set, every protected route needs 'Authorization: Bearer KEY'."""
        key = self.settings.api_key
        if key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not (scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), key.encode())):
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'.", "unauthorized")
