"""The embedding routes: /embed/{tokens,words,spans,sentences} and /compare.

Routes return serialized JSON directly: the response models document the shapes (OpenAPI), and re-validating
thousands of floats per response would cost more than the rest of the request. Every response echoes the
layers and pooling the result was actually computed with (the result's own provenance, never re-resolved).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from contextvec.models.recipes import recipe_of
from contextvec.results import cosine_matrix
from contextvec.serve import schemas as s
from contextvec.serve.encoding import dumps, encode_rows
from contextvec.serve.runner import BatchKey, Share
from contextvec.serve.state import Served
from contextvec.text import find_word, locate_span, make_document, make_documents


def rows_of(share: Share, encoding: str, dtype: str) -> list[dict[str, Any]]:
    """One {start, end, text, vector} per row of this request's share of a batch."""
    rows = share.rows()
    res = share.result
    vecs = encode_rows(res.vectors[rows], encoding, dtype)
    return [
        {"start": int(res.start[r]), "end": int(res.end[r]), "text": res.strings[r], "vector": v}
        for r, v in zip(rows.tolist(), vecs, strict=True)
    ]


def json_response(payload: dict[str, Any]) -> Response:
    return Response(dumps(payload), media_type="application/json")


def _key(level: Any, req: s.LevelOptions, pooling: str | None, **extra: Any) -> BatchKey:
    lp = BatchKey.hashable(req.layer_pooling)
    return BatchKey(level, BatchKey.hashable(req.layers), lp, pooling, **extra)


def _header(name: str, share: Share) -> dict[str, Any]:
    res = share.result
    return {"model": name, "layers": res.layers, "pooling": res.pooling, "dim": res.dim, "precision": res.precision}


def embed_router(served: Served) -> APIRouter:
    router = APIRouter(dependencies=[Depends(served.authorized)], tags=["embed"])

    async def per_text(req: s.TextsRequest, key: BatchKey) -> dict[str, Any]:
        name, _ = served.pick(req.model)
        served.check_limits(req.texts)
        docs = make_documents(req.texts)  # refuse bad texts before they join a batch; split into words once
        share = await served.submit(name, key, docs)
        grouped: dict[int, list[dict[str, Any]]] = {}
        rows = share.rows().tolist()
        for r, item in zip(rows, rows_of(share, req.encoding_format, req.dtype), strict=True):
            grouped.setdefault(int(share.result.text_index[r]) - share.lo, []).append(item)
        data = [{"index": i, "items": grouped.get(i, [])} for i in range(len(req.texts))]
        return _header(name, share) | {"data": data}

    @router.post("/embed/tokens", response_model=s.ItemsResponse)
    async def embed_tokens(req: s.TextsRequest) -> Response:
        """One vector per subword token of each text, with character offsets."""
        return json_response(await per_text(req, _key("token", req, None)))

    @router.post("/embed/words", response_model=s.ItemsResponse)
    async def embed_words(req: s.WordsRequest) -> Response:
        """One vector per word of each text, with character offsets."""
        return json_response(await per_text(req, _key("word", req, req.subword_pooling)))

    @router.post("/embed/sentences", response_model=s.VectorsResponse)
    async def embed_sentences(req: s.SentencesRequest) -> Response:
        """One vector per text (default: the model's own sentence recipe)."""
        key = _key("sentence", req, req.pooling, normalize=req.normalize)
        out = await per_text(req, key)
        out["data"] = [t["items"][0] for t in out["data"]]
        return json_response(out)

    @router.post("/embed/spans", response_model=s.VectorsResponse)
    async def embed_spans(req: s.SpansRequest) -> Response:
        """One vector per (text, start, end) span; spans must start and end on word boundaries."""
        name, _ = served.pick(req.model)
        served.check_limits([sp.text for sp in req.spans])
        for k, sp in enumerate(req.spans):
            locate_span(make_document(sp.text, k), sp.start, sp.end, k)
        payload = [(sp.text, sp.start, sp.end) for sp in req.spans]
        share = await served.submit(name, _key("span", req, req.subword_pooling), payload)
        return json_response(_header(name, share) | {"data": rows_of(share, req.encoding_format, req.dtype)})

    return router


def compare_router(served: Served) -> APIRouter:
    router = APIRouter(dependencies=[Depends(served.authorized)], tags=["embed"])

    @router.post("/compare", response_model=s.CompareResponse)
    async def compare(req: s.CompareRequest) -> s.CompareResponse:
        """Cosine similarity of one word's vectors across several texts (defaults: the model's recipe)."""
        name, emb = served.pick(req.model)
        served.check_limits(req.texts)
        spans = [(t, *find_word(t, req.word, req.occurrence, index=i)) for i, t in enumerate(req.texts)]
        context_only = recipe_of(emb).context_only if req.context_only is None else req.context_only
        lp = BatchKey.hashable(req.layer_pooling)
        key = BatchKey("span", BatchKey.hashable(req.layers), lp, req.subword_pooling, context_only=context_only)
        share = await served.submit(name, key, spans)
        return s.CompareResponse(
            model=name,
            layers=share.result.layers,
            precision=share.result.precision,
            word=req.word,
            spans=[[a, b] for _, a, b in spans],
            cosine=cosine_matrix(share.result.vectors[share.rows()]).astype(float).round(6).tolist(),
        )

    return router
