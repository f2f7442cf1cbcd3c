"""POST /embed/patches: base64-encoded images (PNG, JPEG) in, a vector per patch with its pixel box out.

Not mounted by create_app yet: `patches_router(embedder)` gives the router, to be included behind the API key
(see the module's wiring note in docs/images.md). The model call is `contextvec.vision.requests.patch_rows`, the
one function the server's scheduler should run.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from contextvec.errors import InvalidInputError
from contextvec.serve.schemas import LAYERS_HELP, LayerPooling, LayersField

if TYPE_CHECKING:
    from contextvec.vision import PatchEmbedder

MAX_IMAGES = 64  # per request


class PatchesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    images: list[str] = Field(min_length=1, max_length=MAX_IMAGES, description="base64 of PNG / JPEG files")
    layers: LayersField | None = Field(default=None, description=LAYERS_HELP + " (images: default the top layer)")
    layer_pooling: LayerPooling = Field(default="mean", description="mean | sum | concat | one weight per layer")


class PatchRow(BaseModel):
    image_index: int
    top: int
    left: int
    height: int
    width: int
    vector: list[float]


class PatchesResponse(BaseModel):
    model: str
    layers: str
    data: list[PatchRow]


def decode_images(encoded: list[str]) -> list[bytes]:
    out = []
    for k, text in enumerate(encoded):
        try:
            out.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"images[{k}] is not base64; send each file's bytes base64-encoded.") from None
    return out


def patches_router(embedder: PatchEmbedder) -> APIRouter:
    """A router with POST /embed/patches answering from `embedder`."""
    from contextvec.vision.requests import patch_rows

    router = APIRouter()

    @router.post("/embed/patches", response_model=PatchesResponse)
    async def embed_patches(req: PatchesRequest) -> dict[str, Any]:
        """A vector per patch of every image, with the patch's pixel box (top, left, height, width)."""
        images = decode_images(req.images)
        pooling: Any = req.layer_pooling
        result: dict[str, Any] = await run_in_threadpool(patch_rows, embedder, images, req.layers, pooling)
        return result

    return router
