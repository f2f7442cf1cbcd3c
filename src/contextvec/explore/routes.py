"""The explorer's JSON endpoints under /explore/api: each view's numbers come from analysis/ and index/ code
(compare_view.py, senses_view.py); search by example is the server's own POST /search.

Every model call goes through the served model's scheduler, like the embedding routes: a view runs as one call
on the model's forward thread (the same queue limit, timeout and metrics); a job's model calls are queued there
one chunk at a time, behind interactive requests (jobs.py, serve/scheduled.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from contextvec.errors import ContextvecError, InvalidInputError
from contextvec.explore import compare_view as cv
from contextvec.explore import inside_view as iv
from contextvec.explore import schemas as s
from contextvec.explore import senses_view as sv
from contextvec.explore.jobs import Job, Jobs
from contextvec.protocol import EmbedderProtocol
from contextvec.serve.state import Served

if TYPE_CHECKING:
    from contextvec.index import Index


class Explorer:
    """What the endpoints share: the served models, the optional index and static model, the jobs."""

    def __init__(self, served: Served, static: EmbedderProtocol | None) -> None:
        settings = served.settings
        self.served = served
        self.jobs = Jobs(max_running=settings.max_jobs, idle_timeout_s=settings.job_idle_timeout_s)
        self.references = iv.References()
        self._static, self._static_error = static, None if static is not None else ""
        if static is None and not settings.ui_static_model:
            self._static_error = None  # no static model asked for
        self._static_lock = threading.Lock()  # single-flight: two first Compare requests load it once
        self._static_loading = asyncio.Lock()

        async def stop_jobs() -> None:
            self.jobs.shutdown()

        served.on_stop.append(stop_jobs)

    def static(self) -> tuple[EmbedderProtocol | None, str | None]:
        """The static model for Compare, loaded on first use; its loading error is shown, not raised."""
        with self._static_lock:
            if self._static is None and self._static_error == "":
                name = self.served.settings.ui_static_model
                if not name:
                    self._static_error = None
                else:
                    from contextvec.loader import load_embedder

                    try:
                        self._static = load_embedder(name)
                    except ContextvecError as exc:
                        self._static_error = str(exc)
            return self._static, self._static_error

    async def static_model(self) -> tuple[EmbedderProtocol | None, str | None]:
        """`static()` from the event loop: loaded once, in one worker thread, however many requests ask at once."""
        if self._static is None and self._static_error == "":
            async with self._static_loading:
                return await run_in_threadpool(self.static)
        return self._static, self._static_error

    def index(self) -> Index:
        if self.served.index is None:
            raise InvalidInputError("this server has no index: start it with --index DIR to search or map from one.")
        return self.served.index

    def info(self) -> dict[str, Any]:
        index = None
        if self.served.index is not None:
            manifest = self.served.index.manifest
            index = {"model": manifest.spec["model"], "levels": sorted(manifest.table)}
        models = [
            {"name": n, "layers": e.info.num_layers, "causal": e.info.causal} for n, e in self.served.embedders.items()
        ]
        static = self._static.model_id if self._static is not None else self.served.settings.ui_static_model
        return {"models": models, "index": index, "static_model": static or None}


def explore_router(ex: Explorer) -> APIRouter:
    """/explore/api/...: the views' endpoints and the jobs', behind the server's API key."""
    router = APIRouter(prefix="/explore/api", dependencies=[Depends(ex.served.authorized)], include_in_schema=False)
    router.include_router(_view_routes(ex))
    router.include_router(_job_routes(ex))
    return router


def _view_routes(ex: Explorer) -> APIRouter:
    """Endpoints that answer at once: info, words, compare, pair, attention, inside."""
    router = APIRouter()
    served = ex.served

    @router.get("/info")
    async def info() -> dict[str, Any]:
        return await run_in_threadpool(ex.info)

    @router.post("/words")
    async def words(req: s.WordsRequest) -> dict[str, Any]:
        served.check_limits([req.text])
        return {"words": cv.words_of(req.text)}

    @router.post("/compare")
    async def compare(req: s.CompareRequest) -> dict[str, Any]:
        served.check_limits(req.texts)
        name, emb = served.pick(req.model)
        static, static_error = await ex.static_model()  # loading it needs no model turn

        def run() -> dict[str, Any]:
            return cv.compare_payload(emb, req.texts, req.word, req.occurrence, static, static_error)

        return await served.call(name, run, n_texts=len(req.texts))

    @router.post("/pair")
    async def pair(req: s.PairRequest) -> dict[str, Any]:
        served.check_limits([req.first, req.second])
        name, emb = served.pick(req.model)
        return await served.call(name, lambda: cv.pair_payload(emb, req.first, req.second, req.layer), n_texts=2)

    @router.post("/attention")
    async def attention(req: s.AttentionRequest) -> dict[str, Any]:
        served.check_limits([req.text])
        name, emb = served.pick(req.model)
        return await served.call(name, lambda: cv.attention_payload(emb, req.text))

    @router.post("/inside")
    async def inside(req: s.InsideRequest) -> dict[str, Any]:
        served.check_limits([req.text])
        name, emb = served.pick(req.model)

        def run() -> dict[str, Any]:
            return iv.inside_payload(emb, ex.references.get(name, emb), req.text, req.word, req.occurrence)

        return await served.call(name, run)

    return router


def _job_routes(ex: Explorer) -> APIRouter:
    """Endpoints that start a job (senses, layers), label a finished senses map, and follow or cancel a job."""
    router = APIRouter()
    served = ex.served

    @router.post("/senses")
    async def senses(req: s.SensesRequest) -> dict[str, Any]:
        name, _ = served.pick(req.model)
        if req.source == "index":
            index = ex.index()
            job = ex.jobs.start(lambda j: sv.senses_from_index(j, index, req.word, req.k, req.max_uses, req.inflect), 1)
        else:
            corpus = [t for t in req.corpus if t.strip()]
            if not corpus:
                raise InvalidInputError("the corpus is empty: paste texts that use the word, one per line.")
            served.check_limits(corpus)

            def work(j: Job) -> dict[str, Any]:
                emb = served.scheduled(name, background=True, check=j.check)
                return sv.senses_from_corpus(j, emb, corpus, req.word, req.k, req.max_uses, req.inflect)

            job = ex.jobs.start(work, len(corpus))
        return job.to_json()

    @router.post("/senses/{job_id}/label")
    async def label(job_id: str, req: s.LabelRequest) -> dict[str, Any]:
        job = ex.jobs.get(job_id)
        if job.kept is None:
            raise InvalidInputError(f"job {job_id} has no map to label (state: {job.state}).")
        try:
            labels = {int(i): v.strip() for i, v in req.labels.items() if v.strip()}
        except ValueError:
            raise InvalidInputError('labels must map point numbers (e.g. "3") to sense names.') from None
        return await run_in_threadpool(sv.label_payload, job.kept, labels)

    @router.post("/layers")
    async def layers(req: s.LayersRequest) -> dict[str, Any]:
        served.check_limits(req.corpus)
        chosen = [served.pick(n)[0] for n in (req.models or served.names)]
        corpus = [t for t in req.corpus if t.strip()]

        def work(j: Job) -> dict[str, Any]:
            models = {n: served.scheduled(n, background=True, check=j.check) for n in chosen}
            return sv.layers_payload(j, models, corpus)

        return ex.jobs.start(work, len(chosen)).to_json()

    @router.get("/jobs/{job_id}")
    async def job_state(job_id: str) -> dict[str, Any]:
        return ex.jobs.get(job_id).to_json()

    @router.delete("/jobs/{job_id}")
    async def cancel(job_id: str) -> dict[str, Any]:
        job = ex.jobs.get(job_id)
        job.cancel()
        return job.to_json()

    return router
