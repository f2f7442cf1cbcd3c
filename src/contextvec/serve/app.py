"""The FastAPI application: `create_app(settings)` assembles the served models, their batchers, the middleware,
the error handlers and the routes (routes.py, openai.py; info routes here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contextvec.embedder import Embedder
from contextvec.serve import schemas as s
from contextvec.serve.batcher import DynamicBatcher
from contextvec.serve.errors import install_error_handlers
from contextvec.serve.middleware import BodyLimit, Metrics, Observe
from contextvec.serve.openai import openai_router
from contextvec.serve.openapi_doc import ERROR_RESPONSES, truthful_openapi
from contextvec.serve.routes import compare_router, embed_router
from contextvec.serve.runner import make_runner
from contextvec.serve.settings import ServerSettings
from contextvec.serve.state import Served


def create_app(settings: ServerSettings | None = None, embedders: dict[str, Embedder] | None = None) -> FastAPI:
    """Build the app. `embedders` (name -> Embedder) skips loading, e.g. for tests with tiny models."""
    from contextvec import __version__
    from contextvec.loader import load_contextual

    settings = settings or ServerSettings()
    if embedders is None:
        embedders = {
            name: load_contextual(
                name, purpose="serve", device=settings.device, dtype=settings.dtype, backend=settings.backend
            )
            for name in settings.models
        }
    metrics = Metrics()
    served = Served(
        settings, embedders, {name: _batcher(name, emb, settings, metrics) for name, emb in embedders.items()}
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for b in served.batchers.values():
            b.start()
        yield
        for b in served.batchers.values():  # uvicorn has let in-flight requests finish; drain what is queued
            await b.stop()

    locked = settings.api_key is not None  # with a key, /docs and /openapi.json need it too (docs_router)
    app = FastAPI(
        title="contextvec",
        version=__version__,
        lifespan=lifespan,
        description="Contextual vectors per token, word, span and sentence, with character offsets.",
        docs_url=None if locked else "/docs",
        redoc_url=None if locked else "/redoc",
        openapi_url=None if locked else "/openapi.json",
    )
    app.openapi = lambda: truthful_openapi(app, settings)  # type: ignore[method-assign]
    app.state.settings, app.state.embedders, app.state.batchers = settings, embedders, served.batchers
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
    install_error_handlers(app)
    for router in (embed_router(served), compare_router(served), openai_router(served), info_router(served, metrics)):
        app.include_router(router, responses=ERROR_RESPONSES)
    if settings.index is not None:
        app.include_router(_search(served, settings.index), responses=ERROR_RESPONSES)
    if locked:
        app.include_router(docs_router(served, app))
    return app


def _search(served: Served, folder: Path) -> APIRouter:
    """POST /search over an index folder, behind the API key; reuses a served model when it is the index's."""
    from contextvec.index import Index
    from contextvec.serve.search_route import search_router

    index = Index.open(folder)
    model = index.manifest.spec["model"]
    if model in served.embedders:
        index = Index.open(folder, embedder=served.embedders[model])
    router = APIRouter(dependencies=[Depends(served.authorized)], tags=["search"])
    router.include_router(search_router(index))
    return router


def docs_router(served: Served, app: FastAPI) -> APIRouter:
    """/docs and /openapi.json behind the API key, like every route but /health and /metrics."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse, JSONResponse

    router = APIRouter(dependencies=[Depends(served.authorized)], include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="contextvec")

    return router


def _batcher(name: str, embedder: Embedder, settings: ServerSettings, metrics: Metrics) -> DynamicBatcher:
    def on_batch(jobs: int, texts: int, seconds: float) -> None:
        metrics.batch_jobs.labels(name).observe(jobs)
        metrics.batch_texts.labels(name).observe(texts)
        metrics.forward.labels(name).observe(seconds)

    batcher = DynamicBatcher(
        make_runner(embedder),
        enabled=settings.batching,
        max_batch_texts=settings.max_batch_texts,
        max_batch_tokens=settings.max_batch_tokens,
        max_wait_s=settings.max_wait_ms / 1000,
        max_queue_texts=settings.max_queue_texts,
        on_batch=on_batch,
    )
    metrics.queued.labels(name).set_function(lambda: float(batcher.queued_texts))
    return batcher


def info_router(served: Served, metrics: Metrics) -> APIRouter:
    router = APIRouter(tags=["info"])
    protected = [Depends(served.authorized)]

    @router.get("/models", response_model=s.ModelList, dependencies=protected)
    @router.get("/v1/models", response_model=s.ModelList, dependencies=protected, include_in_schema=False)
    async def models() -> s.ModelList:
        """The models this server embeds with."""
        cards = [
            s.ModelCard(
                id=n,
                layers=e.info.num_layers,
                dim=e.info.hidden_size,
                max_length=e.info.max_length,
                causal=e.info.causal,
                architecture=e.info.architecture,
            )
            for n, e in served.embedders.items()
        ]
        return s.ModelList(data=cards)

    @router.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness and queue depth; needs no API key."""
        queued = {n: b.queued_texts for n, b in served.batchers.items()}
        return {"status": "ok", "models": served.names, "queue_texts": queued}

    @router.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
