"""POST /embed/patches (serve/patches_route.py) on a tiny ViT served with --image-model: base64 PNGs in, the same
rows as PatchEmbedder, through the image model's scheduler."""

from __future__ import annotations

import base64
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from server_helpers import make_settings

from contextvec import Embedder
from contextvec.serve.app import create_app
from contextvec.vision import PatchEmbedder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_vision import _tiny


def _png(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, bert_embedder: Embedder
) -> Iterator[tuple[TestClient, PatchEmbedder]]:
    folder = str(_tiny(tmp_path_factory.mktemp("vit")))
    app = create_app(make_settings(image_models=[folder]), embedders={"tiny": bert_embedder})
    with TestClient(app) as http:
        yield http, PatchEmbedder(folder)


def test_patches_wait_their_turn_in_the_image_models_scheduler(client: tuple[TestClient, PatchEmbedder]) -> None:
    http, emb = client
    scheduler = http.app.state.served.schedulers[emb.model_id]  # type: ignore[attr-defined]
    before = scheduler.stats.batches
    img = (np.random.default_rng(0).random((8, 8)) * 255).astype(np.uint8)
    assert http.post("/embed/patches", json={"images": [_png(img)] * 3}).status_code == 200
    assert scheduler.stats.batches == before + 1 and scheduler.stats.last_batch_jobs == 1
    unknown = http.post("/embed/patches", json={"images": [_png(img)], "model": "other"})
    assert unknown.status_code == 404 and "image model 'other' is not served" in unknown.text


def test_rows_match_the_python_embedder(client: tuple[TestClient, PatchEmbedder]) -> None:
    http, emb = client
    imgs = [(np.random.default_rng(k).random((8, 6)) * 255).astype(np.uint8) for k in range(2)]
    r = http.post("/embed/patches", json={"images": [_png(a) for a in imgs], "layers": "0,2"})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = emb.embed_patches([a.astype(np.float32) / 255 for a in imgs], layers="0,2")
    assert body["layers"] == expected.layers and len(body["data"]) == len(expected) == 24
    row = body["data"][16]  # image 1, patch 4 of its 4 x 3 grid: row 1, column 1
    assert (row["image_index"], row["top"], row["left"], row["height"], row["width"]) == (1, 2, 2, 2, 2)
    np.testing.assert_allclose(np.asarray([d["vector"] for d in body["data"]]), expected.vectors, atol=1e-5)


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"images": ["%%%"]}, 400, "images[0] is not base64"),
        ({"images": [base64.b64encode(b"hello").decode()]}, 400, "not an image Pillow can read"),
        ({"images": []}, 422, ""),
        ({"images": ["x"], "colour": 1}, 422, ""),
    ],
)
def test_bad_requests(
    client: tuple[TestClient, PatchEmbedder], payload: dict[str, object], status: int, message: str
) -> None:
    r = client[0].post("/embed/patches", json=payload)
    assert r.status_code == status, r.text
    assert message in r.text
