"""POST /embed/patches: base64-encoded images (PNG, JPEG) in, a vector per patch with its pixel box out.

Mounted by create_app when the server has image models (`--image-model DIR`). The model call,
`contextvec.vision.requests.patch_rows`, runs as one call item on the image model's scheduler, like every model
call of the server: the same queue limit (429), request timeout (504) and metrics as the text routes.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any, cast

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contextvec.errors import InvalidInputError
from contextvec.serve.errors import ApiError
from contextvec.serve.routes import json_response
from contextvec.serve.schemas import LAYERS_HELP, LayerPooling, LayersField

if TYPE_CHECKING:
    from contextvec.serve.state import Served

MAX_IMAGES = 64  # per request


class PatchesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    model: str | None = Field(default=None, description="a served image model (default: the first --image-model)")
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


def patches_router(served: Served) -> APIRouter:
    """A router with POST /embed/patches answering from the served image models, through their schedulers."""
    from contextvec.errors import ModelNotFoundError
    from contextvec.vision.requests import patch_rows

    router = APIRouter()
    names = list(served.image_models)

    @router.post("/embed/patches", response_model=PatchesResponse)
    async def embed_patches(req: PatchesRequest) -> Response:
        """A vector per patch of every image, with the patch's pixel box (top, left, height, width)."""
        name = req.model or names[0]
        if name not in served.image_models:
            raise ModelNotFoundError(
                f"image model {name!r} is not served here; served image models: {', '.join(names)}."
            )
        limit = served.settings.max_texts_per_request
        if len(req.images) > limit:
            raise ApiError(413, f"{len(req.images)} images in one request; the limit is {limit}.", "request_too_large")
        images = decode_images(req.images)
        embedder, pooling = served.image_models[name], cast(Any, req.layer_pooling)
        result = await served.call(name, lambda: patch_rows(embedder, images, req.layers, pooling), len(images))
        return json_response(result)

    return router
