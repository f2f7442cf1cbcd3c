"""One default everywhere: HTTP without `layers` gives what Python gives without `layers`, and sentence vectors
follow the model's own sentence-transformers recipe (checked against sentence-transformers itself)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from openai import OpenAI

from contextvec import Embedder
from contextvec.models.registry import resolve_model
from contextvec.serve.app import create_app
from contextvec.serve.settings import ServerSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from server_helpers import running

TEXTS = [
    "I deposited the check at the bank.",
    "We sat on the bank of the river.",
    "Café naïve 😀 世界, didn't it?",
    "The bank approved my loan after a long review of my accounts and of the collateral I offered.",
]
SPANS = [(TEXTS[0], 29, 33), (TEXTS[1], 14, 18), (TEXTS[3], 4, 17)]
RECIPE_LAYERS = {"minilm": "layers=2,3,4,5 pooling=mean", "mpnet": "layers=2,3,4,5,6,7 pooling=mean"}


def _rowwise_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("name", ["minilm", "mpnet"])
def test_sentences_equal_sentence_transformers(name: str, request: pytest.FixtureRequest) -> None:
    from sentence_transformers import SentenceTransformer

    emb: Embedder = request.getfixturevalue(name)
    st = SentenceTransformer(resolve_model(name).path, device="cpu")
    ref = st.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    ours = emb.embed_sentences(TEXTS)
    assert (
        ours.pooling == "mean_all" and ours.normalized and ours.layers == f"layers={emb.info.num_layers} pooling=mean"
    )
    assert _rowwise_cosine(ours.vectors, ref).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(ours.vectors, axis=1), 1.0, atol=1e-5)
    content_mean = emb.embed_sentences(TEXTS, pooling="mean").vectors  # still available by name
    assert _rowwise_cosine(content_mean, ref).min() < 0.9999


@pytest.mark.parametrize("name", ["minilm", "mpnet"])
def test_http_defaults_equal_python_defaults(name: str, request: pytest.FixtureRequest) -> None:
    emb: Embedder = request.getfixturevalue(name)
    words, spans, sentences = emb.embed_words(TEXTS), emb.embed_spans(SPANS), emb.embed_sentences(TEXTS)
    assert words.layers == spans.layers == RECIPE_LAYERS[name]
    app = create_app(ServerSettings(models=[name]), embedders={name: emb})
    with running(app) as (url, _):
        got_w = httpx.post(url + "/embed/words", json={"texts": TEXTS}, timeout=120).json()
        spans_body = [{"text": t, "start": s, "end": e} for t, s, e in SPANS]
        got_s = httpx.post(url + "/embed/spans", json={"spans": spans_body}, timeout=120).json()
        client = OpenAI(base_url=url + "/v1", api_key="none")
        got_o = np.array([d.embedding for d in client.embeddings.create(model=name, input=TEXTS).data])
    assert got_w["layers"] == got_s["layers"] == RECIPE_LAYERS[name]  # the response says which layers
    vw = np.array([it["vector"] for t in got_w["data"] for it in t["items"]])
    assert [it["text"] for t in got_w["data"] for it in t["items"]] == words.strings
    assert _rowwise_cosine(vw, words.vectors).min() >= 0.9999
    vs = np.array([it["vector"] for it in got_s["data"]])
    assert _rowwise_cosine(vs, spans.vectors).min() >= 0.9999
    assert _rowwise_cosine(got_o, sentences.vectors).min() >= 0.9999
