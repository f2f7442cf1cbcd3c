"""The FastAPI application: `create_app(settings)` assembles the served models, their schedulers (the one way to
each model, scheduler.py), the middleware, the error handlers and the routes (routes.py, openai.py, search_route.py;
info routes here)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Hashable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contextvec.embedder import Embedder
from contextvec.protocol import EmbedderProtocol
from contextvec.serve import schemas as s
from contextvec.serve.errors import install_error_handlers
from contextvec.serve.middleware import BodyLimit, Metrics, Observe
from contextvec.serve.openai import openai_router
from contextvec.serve.openapi_doc import ERROR_RESPONSES, truthful_openapi
from contextvec.serve.routes import compare_router, embed_router
from contextvec.serve.runner import make_runner
from contextvec.serve.scheduler import InternalError, Scheduler
from contextvec.serve.settings import ServerSettings
from contextvec.serve.state import Served

if TYPE_CHECKING:
    from contextvec.index import Index

logger = logging.getLogger(__name__)


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
    served = Served(settings, embedders, {n: _scheduler(n, e, settings, metrics) for n, e in embedders.items()})
    served.index = _open_index(served, settings.index, metrics) if settings.index is not None else None
    _add_image_models(served, metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for sched in served.schedulers.values():
            sched.start()
        yield
        for stop in served.on_stop:  # e.g. cancel the explorer's jobs, whose calls would wait in the queues
            await stop()
        # uvicorn has let in-flight requests finish; drain what is queued, by the deadline
        await asyncio.gather(*(sched.stop(settings.drain_timeout_s) for sched in served.schedulers.values()))

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
    app.state.settings, app.state.embedders, app.state.served = settings, embedders, served
    _middleware(app, settings, metrics)
    _routes(app, served, metrics, locked)
    return app


def _middleware(app: FastAPI, settings: ServerSettings, metrics: Metrics) -> None:
    """CORS (only with --cors-origin), the metrics, the body limit (outermost) and the one error shape."""
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


def _routes(app: FastAPI, served: Served, metrics: Metrics, locked: bool) -> None:
    """Every route: embeddings, compare, OpenAI, info; /search with an index; /embed/patches with image models."""
    for router in (embed_router(served), compare_router(served), openai_router(served), info_router(served, metrics)):
        app.include_router(router, responses=ERROR_RESPONSES)
    if served.index is not None:
        app.include_router(_search(served, served.index), responses=ERROR_RESPONSES)
    if served.image_models:
        from contextvec.serve.patches_route import patches_router

        protected = [Depends(served.authorized)]
        app.include_router(patches_router(served), dependencies=protected, tags=["images"], responses=ERROR_RESPONSES)
    if locked:
        app.include_router(docs_router(served, app))


def _open_index(served: Served, folder: Path, metrics: Metrics) -> Index:
    """The index behind /search (and the explorer), searching with its model through that model's scheduler.
    When the index's model is not among --model, it is loaded as the index says and gets a scheduler of its own
    (it answers /search only, not the /embed routes)."""
    from contextvec.index import Index

    index = Index.open(folder)
    model = index.manifest.spec["model"]
    if model not in served.embedders:
        logger.info("loading %s for /search: the index in %s was built with it", model, folder)
        served.index_models[model] = index.embedder
        served.schedulers[model] = _scheduler(model, index.embedder, served.settings, metrics)
    return Index.open(folder, embedder=served.scheduled(model, background=False))


def _add_image_models(served: Served, metrics: Metrics) -> None:
    """--image-model folders, each with a scheduler of its own (its model calls are call items: no batch key)."""
    if not served.settings.image_models:
        return
    from contextvec.vision import PatchEmbedder

    for folder in served.settings.image_models:
        served.image_models[folder] = PatchEmbedder(folder)
        served.schedulers[folder] = Scheduler(_no_batches, name=folder, max_queue_texts=served.settings.max_queue_texts)


def _no_batches(key: Hashable, payloads: Sequence[list[Any]]) -> list[Any]:
    raise InternalError("an image model takes call items only")


def _search(served: Served, index: Index) -> APIRouter:
    """POST /search over the index, behind the API key and the request limits."""
    from contextvec.serve.search_route import search_router

    router = APIRouter(dependencies=[Depends(served.authorized)], tags=["search"])
    router.include_router(search_router(served, index))
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


def _scheduler(name: str, embedder: EmbedderProtocol, settings: ServerSettings, metrics: Metrics) -> Scheduler:
    def on_batch(jobs: int, texts: int, seconds: float) -> None:
        metrics.batch_jobs.labels(name).observe(jobs)
        metrics.batch_texts.labels(name).observe(texts)
        metrics.forward.labels(name).observe(seconds)

    scheduler = Scheduler(
        make_runner(embedder),
        name=name,
        enabled=settings.batching,
        max_batch_texts=settings.max_batch_texts,
        max_batch_tokens=settings.max_batch_tokens,
        max_wait_s=settings.max_wait_ms / 1000,
        max_queue_texts=settings.max_queue_texts,
        on_batch=on_batch,
    )
    metrics.queued.labels(name).set_function(lambda: float(scheduler.queued_texts))
    return scheduler


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
        queued = {n: b.queued_texts for n, b in served.schedulers.items()}
        alive = all(b.alive for b in served.schedulers.values())
        return {"status": "ok" if alive else "degraded", "models": served.names, "queue_texts": queued}

    @router.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
