"""The one model call behind the server's `/embed/patches` route: encoded images in, JSON-able rows out.

Kept here, not in serve/, so the server can put it behind its scheduler like every other model call: the route
decodes the request and awaits `patch_rows(...)` wherever the scheduler runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contextvec.options import LayerPoolingArg, LayersArg
from contextvec.pooling.finite import narrow
from contextvec.vision.embedder import PatchEmbedder


def patch_rows(
    embedder: PatchEmbedder,
    images: Sequence[bytes],
    layers: LayersArg | None = None,
    layer_pooling: LayerPoolingArg = "mean",
) -> dict[str, Any]:
    """{"model", "layers", "data": [{"image_index", "top", "left", "height", "width", "vector"}]} for encoded
    images (PNG, JPEG ... bytes); errors are the embedder's InvalidInputError / LayerError / OptionError."""
    rows = embedder.embed_patches(list(images), layers=layers, layer_pooling=layer_pooling)
    vectors = narrow(rows.vectors, "float32", "the response").tolist()
    columns = (rows.image_index, rows.top, rows.left, rows.height, rows.width)
    boxes = zip(*(c.tolist() for c in columns), strict=True)
    data = [
        {"image_index": i, "top": t, "left": le, "height": h, "width": w, "vector": v}
        for (i, t, le, h, w), v in zip(boxes, vectors, strict=True)
    ]
    return {"model": rows.model_id, "layers": rows.layers, "data": data}
