"""POST /search over an opened index: search by example (word level) or by free text (sentence level).

The app mounts it when started with --index DIR (serve/app.py).
Errors in the request (a word that is not in the text, a level the index lacks) answer 400 in the server's error
shape, like every other route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from contextvec.errors import InvalidInputError
from contextvec.serve.errors import ApiError
from contextvec.serve.state import Served

if TYPE_CHECKING:
    from contextvec.index import Index


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(min_length=1, description="the example sentence (word level) or the query (sentence level)")
    word: str | None = Field(None, description="the word of `text` whose use to match (or give start/end)")
    occurrence: int = Field(1, ge=1)
    start: int | None = None
    end: int | None = None
    k: int = Field(10, ge=1, le=1000)
    level: Literal["word", "sentence"] = "word"
    any_word: bool = False
    inflect: bool = False
    doc_ids: list[str] | None = None


class SearchHit(BaseModel):
    score: float
    doc_id: str
    start: int
    end: int
    word: str | None
    text: str
    sentence_start: int
    seq: int


class SearchResponse(BaseModel):
    model: str
    layers: str
    hits: list[SearchHit]


def search_router(served: Served, index: Index) -> APIRouter:
    """A router with POST /search answering from `index`, whose embedder queues on its model's scheduler: the
    query's forward pass waits its turn like every request's, and LanceDB's part runs in the thread pool."""
    router = APIRouter()

    def run(req: SearchRequest) -> dict[str, Any]:
        from contextvec.text import find_word

        if req.level == "sentence":
            hits = index.search_sentences(req.text, k=req.k, doc_ids=req.doc_ids)
        else:
            if req.start is not None and req.end is not None:
                start, end = req.start, req.end
            elif req.word is not None:
                start, end = find_word(req.text, req.word, req.occurrence)
            else:
                raise InvalidInputError('give "word" (or "start" and "end") to mark the use to match.')
            hits = index.search_like(
                req.text, start, end, k=req.k, any_word=req.any_word, inflect=req.inflect, doc_ids=req.doc_ids
            )
        layers = index.manifest.layers.get(req.level, "")
        return {"model": index.manifest.spec["model"], "layers": layers, "hits": [h.to_json() for h in hits]}

    @router.post("/search", response_model=SearchResponse)
    async def search(req: SearchRequest) -> dict[str, Any]:
        """The k nearest uses of the marked word (level=word) or the k nearest sentences (level=sentence)."""
        served.check_limits([req.text])
        if req.doc_ids is not None and len(req.doc_ids) > served.settings.max_texts_per_request:
            limit = served.settings.max_texts_per_request
            raise ApiError(413, f"{len(req.doc_ids)} doc_ids; the limit is {limit}.", "request_too_large")
        result: dict[str, Any] = await served.timed(run_in_threadpool(run, req))  # LanceDB blocks: off the loop
        return result

    return router
