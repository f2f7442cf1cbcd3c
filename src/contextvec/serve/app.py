"""The FastAPI application: `create_app(settings)` -> routes over the spine, with batching, limits and metrics."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contextvec.text import find_word
from contextvec.embedder import Embedder
from contextvec.errors import ContextvecError, ModelNotFoundError
from contextvec.options import resolve_layer_selection
from contextvec.results import cosine_matrix
from contextvec.serve import schemas as s
from contextvec.serve.batcher import DynamicBatcher, QueueFull
from contextvec.serve.encoding import encode_rows
from contextvec.serve.runner import Share, make_runner
from contextvec.serve.settings import ServerSettings
from contextvec.text import locate_span, make_document, make_documents

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


_STATUS_OF = {"ModelNotFoundError": 404, "QueueFull": 429}


class BodyLimit:
    """Refuse request bodies over `limit` bytes (413), by Content-Length and while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body is larger than {self.limit} bytes; send fewer or shorter texts."
        too_big = _error(413, message, "request_too_large")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await too_big(scope, receive, send)
            return
        seen = 0
        exceeded = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            chunk = await receive()
            seen += len(chunk.get("body", b""))
            if seen > self.limit:
                exceeded = True  # end the body here; the app's answer is replaced by ours below
                return {"type": "http.disconnect"}
            return chunk

        async def guarded_send(reply: Message) -> None:
            if not exceeded:
                await send(reply)

        try:
            await self.app(scope, limited, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            await too_big(scope, receive, send)


class Observe:
    """Count requests by route and status and time them (pure ASGI: no per-request task or body copy)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(reply: Message) -> None:
            nonlocal status
            if reply["type"] == "http.response.start":
                status = reply["status"]
            await send(reply)

        try:
            await self.app(scope, receive, watch)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")  # the router writes the matched route here
            self.metrics.requests.labels(path, str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "contextvec_requests_total", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram("contextvec_request_seconds", "request latency", ["route"], registry=self.registry)
        self.batch_jobs = Histogram(
            "contextvec_batch_requests",
            "requests per forward batch",
            ["model"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.batch_texts = Histogram(
            "contextvec_batch_texts",
            "texts per forward batch",
            ["model"],
            buckets=(1, 4, 16, 64, 256, 1024),
            registry=self.registry,
        )
        self.forward = Histogram("contextvec_batch_seconds", "time of one batch", ["model"], registry=self.registry)
        self.queued = Gauge("contextvec_queue_texts", "texts waiting", ["model"], registry=self.registry)


def create_app(settings: ServerSettings | None = None, embedders: dict[str, Embedder] | None = None) -> FastAPI:
    """Build the app. `embedders` (name -> Embedder) skips loading, e.g. for tests with tiny models."""
    settings = settings or ServerSettings()
    if embedders is None:
        embedders = {name: Embedder(name, device=settings.device, dtype=settings.dtype) for name in settings.models}
    names = list(embedders)
    metrics = Metrics()
    batchers: dict[str, DynamicBatcher] = {}
    for name, emb in embedders.items():

        def on_batch(jobs: int, texts: int, seconds: float, name: str = name) -> None:
            metrics.batch_jobs.labels(name).observe(jobs)
            metrics.batch_texts.labels(name).observe(texts)
            metrics.forward.labels(name).observe(seconds)

        batchers[name] = DynamicBatcher(
            make_runner(emb),
            enabled=settings.batching,
            max_batch_texts=settings.max_batch_texts,
            max_batch_tokens=settings.max_batch_tokens,
            max_wait_s=settings.max_wait_ms / 1000,
            max_queue_texts=settings.max_queue_texts,
            on_batch=on_batch,
        )
        metrics.queued.labels(name).set_function(_queue_depth(batchers[name]))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for b in batchers.values():
            b.start()
        yield
        for b in batchers.values():  # uvicorn has let in-flight requests finish; drain what is queued
            await b.stop()

    app = FastAPI(
        title="contextvec",
        version=_version(),
        lifespan=lifespan,
        description="Contextual vectors per token, word, span and sentence, with character offsets.",
    )
    app.state.settings, app.state.embedders, app.state.batchers = settings, embedders, batchers
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )

    app.add_middleware(Observe, metrics=metrics)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)  # type: ignore[arg-type]  # outermost
    _install_error_handlers(app)

    async def authorized(request: Request) -> None:
        if settings.api_key is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), settings.api_key.encode())
        if not ok:
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'.", "unauthorized")

    def pick(model: str | None) -> tuple[str, Embedder]:
        name = model or names[0]
        if name not in embedders:
            raise ModelNotFoundError(f"model {name!r} is not served here; served models: {', '.join(names)}.")
        return name, embedders[name]

    def check_limits(texts: list[str]) -> None:
        if len(texts) > settings.max_texts_per_request:
            raise ApiError(
                413,
                f"{len(texts)} texts in one request; the limit is {settings.max_texts_per_request}. Split the request.",
                "request_too_large",
            )
        for i, t in enumerate(texts):
            if len(t) > settings.max_chars_per_text:
                raise ApiError(
                    413,
                    f"text {i} has {len(t)} characters; the limit is {settings.max_chars_per_text}.",
                    "request_too_large",
                )

    async def submit(name: str, key: Hashable, payload: list[Any]) -> Share:
        texts = [p[0] if isinstance(p, tuple) else p for p in payload]
        n_tokens = sum(len(t) // 3 + 2 for t in texts)  # a cheap estimate for the batch budget
        try:
            return await asyncio.wait_for(batchers[name].submit(key, payload, n_tokens), settings.request_timeout_s)
        except TimeoutError:
            raise ApiError(
                504,
                f"the request took longer than {settings.request_timeout_s} s; send less text or retry later.",
                "timeout",
            ) from None

    def hashable(v: Any) -> Hashable:
        return tuple(v) if isinstance(v, list) else v

    def items(share: Share, encoding: str, dtype: str) -> dict[int, list[dict[str, Any]]]:
        """This request's rows grouped by its own text index."""
        out: dict[int, list[dict[str, Any]]] = {}
        res = share.result
        for r, item in zip(share.rows().tolist(), _rows(share, encoding, dtype), strict=True):
            out.setdefault(int(res.text_index[r]) - share.lo, []).append(item)
        return out

    async def embed_level(level: str, req: s.TextsRequest, pooling: str) -> dict[str, Any]:
        name, emb = pick(req.model)
        check_limits(req.texts)
        make_documents(req.texts)  # refuse bad texts before they join a batch
        sel = resolve_layer_selection(req.layers, req.layer_pooling, emb.info.num_layers)  # type: ignore[arg-type]
        key = (level, hashable(req.layers), hashable(req.layer_pooling), pooling)
        share = await submit(name, key, list(req.texts))
        grouped = items(share, req.encoding_format, req.dtype)
        data = [{"index": i, "items": grouped.get(i, [])} for i in range(len(req.texts))]
        return {"model": name, "layers": sel.describe(), "pooling": pooling, "dim": share.result.dim, "data": data}

    deps = [Depends(authorized)]

    # Routes return serialized JSON directly: the response models document the shapes (OpenAPI), and
    # re-validating thousands of floats per response would cost more than the rest of the request.

    @app.post("/embed/tokens", response_model=s.ItemsResponse, dependencies=deps, tags=["embed"])
    async def embed_tokens(req: s.TextsRequest) -> Response:
        """One vector per subword token of each text, with character offsets."""
        return _json(await embed_level("token", req, ""))

    @app.post("/embed/words", response_model=s.ItemsResponse, dependencies=deps, tags=["embed"])
    async def embed_words(req: s.WordsRequest) -> Response:
        """One vector per word of each text, with character offsets."""
        return _json(await embed_level("word", req, req.subword_pooling))

    @app.post("/embed/sentences", response_model=s.VectorsResponse, dependencies=deps, tags=["embed"])
    async def embed_sentences(req: s.SentencesRequest) -> Response:
        """One vector per text."""
        out = await embed_level("sentence", req, req.pooling)
        out["data"] = [t["items"][0] for t in out["data"]]
        return _json(out)

    @app.post("/embed/spans", response_model=s.VectorsResponse, dependencies=deps, tags=["embed"])
    async def embed_spans(req: s.SpansRequest) -> Response:
        """One vector per (text, start, end) span; spans must start and end on word boundaries."""
        name, emb = pick(req.model)
        check_limits([sp.text for sp in req.spans])
        for k, sp in enumerate(req.spans):
            locate_span(make_document(sp.text, k), sp.start, sp.end, k)
        sel = resolve_layer_selection(req.layers, req.layer_pooling, emb.info.num_layers)  # type: ignore[arg-type]
        key = ("span", hashable(req.layers), hashable(req.layer_pooling), req.subword_pooling)
        share = await submit(name, key, [(sp.text, sp.start, sp.end) for sp in req.spans])
        rows = _rows(share, req.encoding_format, req.dtype)
        return _json(
            {
                "model": name,
                "layers": sel.describe(),
                "pooling": req.subword_pooling,
                "dim": share.result.dim,
                "data": rows,
            }
        )

    @app.post("/compare", response_model=s.CompareResponse, dependencies=deps, tags=["embed"])
    async def compare(req: s.CompareRequest) -> s.CompareResponse:
        """Cosine similarity of one word's vectors across several texts."""
        name, emb = pick(req.model)
        check_limits(req.texts)
        spans = [(t, *find_word(t, req.word, req.occurrence, index=i)) for i, t in enumerate(req.texts)]
        sel = resolve_layer_selection(req.layers, req.layer_pooling, emb.info.num_layers)  # type: ignore[arg-type]
        key = ("span", hashable(req.layers), hashable(req.layer_pooling), req.subword_pooling)
        share = await submit(name, key, spans)
        vectors = share.result.vectors[share.rows()]
        return s.CompareResponse(
            model=name,
            layers=sel.describe(),
            word=req.word,
            spans=[(a, b) for _, a, b in spans],
            cosine=cosine_matrix(vectors).astype(float).round(6).tolist(),
        )

    @app.post("/v1/embeddings", response_model=s.OpenAIEmbeddingResponse, dependencies=deps, tags=["openai"])
    async def openai_embeddings(req: s.OpenAIEmbeddingRequest) -> Response:
        """OpenAI-compatible sentence embeddings (the official openai client works unchanged)."""
        name, emb = pick(req.model)
        texts = [req.input] if isinstance(req.input, str) else req.input
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ApiError(
                400,
                "input must be a string or a non-empty list of strings; token-id input is not "
                "supported (contextvec needs the text for character offsets).",
                "invalid_request_error",
            )
        texts = [str(t) for t in texts]
        if req.dimensions is not None and req.dimensions != emb.info.hidden_size:
            raise ApiError(
                400,
                f"dimensions={req.dimensions} is not available: {name} gives "
                f"{emb.info.hidden_size}-d vectors; omit 'dimensions'.",
                "invalid_request_error",
            )
        check_limits(texts)
        make_documents(texts)
        key = ("sentence", -1, "mean", settings.openai_pooling)
        share = await submit(name, key, texts)
        vectors = share.result.vectors[share.rows()]
        if settings.openai_normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        encoded = encode_rows(vectors, req.encoding_format, "float32")
        data = [{"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(encoded)]
        usage = {"prompt_tokens": share.n_tokens, "total_tokens": share.n_tokens}
        return _json({"object": "list", "data": data, "model": name, "usage": usage})

    @app.get("/models", response_model=s.ModelList, dependencies=deps, tags=["info"])
    @app.get("/v1/models", response_model=s.ModelList, dependencies=deps, include_in_schema=False)
    async def models() -> s.ModelList:
        """The models this server embeds with."""
        return s.ModelList(
            data=[
                s.ModelCard(
                    id=n,
                    layers=e.info.num_layers,
                    dim=e.info.hidden_size,
                    max_length=e.info.max_length,
                    causal=e.info.causal,
                    architecture=e.info.architecture,
                )
                for n, e in embedders.items()
            ]
        )

    @app.get("/health", tags=["info"])
    async def health() -> dict[str, Any]:
        """Liveness and queue depth; needs no API key."""
        return {"status": "ok", "models": names, "queue_texts": {n: b.queued_texts for n, b in batchers.items()}}

    @app.get("/metrics", tags=["info"], include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _queue_depth(batcher: DynamicBatcher) -> Callable[[], float]:
    return lambda: float(batcher.queued_texts)


def _rows(share: Share, encoding: str, dtype: str) -> list[dict[str, Any]]:
    """One {start, end, text, vector} per row of this request's share of a batch."""
    rows = share.rows()
    res = share.result
    vecs = encode_rows(res.vectors[rows], encoding, dtype)
    return [
        {"start": int(res.start[r]), "end": int(res.end[r]), "text": res.strings[r], "vector": v}
        for r, v in zip(rows.tolist(), vecs, strict=True)
    ]


def _json(payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload, separators=(",", ":"), ensure_ascii=False), media_type="application/json")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, exc.message, exc.kind, headers)

    @app.exception_handler(ContextvecError)
    async def contextvec_error(_: Request, exc: ContextvecError) -> JSONResponse:
        status = _STATUS_OF.get(type(exc).__name__, 400)
        headers = {"Retry-After": "1"} if isinstance(exc, QueueFull) else None
        kind = {404: "model_not_found", 429: "overloaded"}.get(status, "invalid_request_error")
        return _error(status, str(exc), kind, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
            return _error(400, f"the request body is not valid JSON ({detail}).", "invalid_json")
        parts = []
        for e in errors[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {e.get('msg')}")
        return _error(422, "invalid request: " + "; ".join(parts), "invalid_request_error")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), "http_error")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected server error")
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details.", "server_error")


def _version() -> str:
    from contextvec import __version__

    return __version__
