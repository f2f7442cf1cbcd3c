"""`POST /v1/embeddings`: OpenAI-compatible sentence embeddings (the official openai client works unchanged).

The vectors are `Embedder.embed_sentences` with its defaults — the model's own sentence recipe — unless the
server's --openai-pooling / --openai-normalize say otherwise.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from contextvec.serve import schemas as s
from contextvec.serve.encoding import encode_rows
from contextvec.serve.errors import ApiError
from contextvec.serve.routes import json_response
from contextvec.serve.runner import BatchKey
from contextvec.serve.state import Served
from contextvec.text import make_documents


def openai_router(served: Served) -> APIRouter:
    router = APIRouter(dependencies=[Depends(served.authorized)], tags=["openai"])
    settings = served.settings

    @router.post("/v1/embeddings", response_model=s.OpenAIEmbeddingResponse)
    async def openai_embeddings(req: s.OpenAIEmbeddingRequest) -> Response:
        """OpenAI-compatible sentence embeddings."""
        name, emb = served.pick(req.model)
        texts = [req.input] if isinstance(req.input, str) else req.input
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ApiError(
                400,
                "input must be a string or a non-empty list of strings; token-id input is not "
                "supported (contextvec needs the text for character offsets).",
                "invalid_request_error",
            )
        texts = [str(t) for t in texts]
        if req.dimensions is not None and req.dimensions != emb.dim:
            raise ApiError(
                400,
                f"dimensions={req.dimensions} is not available: {name} gives {emb.dim}-d vectors; omit 'dimensions'.",
                "invalid_request_error",
            )
        served.check_limits(texts)
        docs = make_documents(texts)  # checked here, split once: the batch takes them as they are
        key = BatchKey("sentence", pooling=settings.openai_pooling, normalize=settings.openai_normalize)
        share = await served.submit(name, key, docs)
        encoded = encode_rows(share.result.vectors[share.rows()], req.encoding_format, "float32")
        data = [{"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(encoded)]
        usage = {"prompt_tokens": share.n_tokens, "total_tokens": share.n_tokens}
        precision = share.result.precision
        return json_response({"object": "list", "data": data, "model": name, "usage": usage, "precision": precision})

    return router
