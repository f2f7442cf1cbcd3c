"""The server on the real default model: the official openai client and /embed/words against the library."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import numpy as np
from openai import OpenAI

from contextvec import Embedder
from contextvec.serve.app import create_app
from contextvec.serve.settings import ServerSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from server_helpers import running

TEXTS = ["I deposited the check at the bank.", "We sat on the bank of the river.", "Café naïve 😀 世界"]


def test_minilm_over_http_equals_the_library(minilm: Embedder) -> None:
    app = create_app(ServerSettings(models=["minilm"]), embedders={"minilm": minilm})
    with running(app) as (url, _):
        client = OpenAI(base_url=url + "/v1", api_key="none")
        got = np.array([d.embedding for d in client.embeddings.create(model="minilm", input=TEXTS).data])
        words = httpx.post(url + "/embed/words", json={"texts": TEXTS, "layers": "-4:"}, timeout=60).json()
    ref = minilm.embed_sentences(TEXTS).vectors
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(got, ref, atol=1e-6)
    ref_w = minilm.embed_words(TEXTS, layers="-4:")
    vecs = np.array([it["vector"] for t in words["data"] for it in t["items"]])
    np.testing.assert_allclose(vecs, ref_w.vectors, atol=1e-6)
    assert [it["text"] for t in words["data"] for it in t["items"]] == ref_w.strings
