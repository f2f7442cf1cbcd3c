"""End to end against a real uvicorn on 127.0.0.1, with the tiny BERT model."""

from __future__ import annotations

import asyncio
import random
import threading
import time

import httpx
import numpy as np
import pytest
from openai import OpenAI
from server_helpers import AUTH, make_settings, running

from contextvec import Embedder
from contextvec.serve.app import create_app
from contextvec.serve.encoding import decode_base64

TEXTS = ["We sat on the bank of the river.", "The bank approved my loan!", "it was too tired"]


def post(url: str, path: str, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url + path, json=body, headers=AUTH if headers is None else headers, timeout=30)


def test_openai_client_gets_the_library_vectors(server_url: str, bert_embedder: Embedder) -> None:
    client = OpenAI(base_url=server_url + "/v1", api_key="s3cret")
    got = client.embeddings.create(model="tiny", input=TEXTS)  # the client asks for base64 by default
    vectors = np.array([d.embedding for d in got.data], dtype=np.float32)
    ref = bert_embedder.embed_sentences(TEXTS).vectors  # the same defaults as the Python API (the model's recipe)
    np.testing.assert_allclose(vectors, ref, atol=1e-6)
    assert [d.index for d in got.data] == [0, 1, 2]
    assert got.usage.prompt_tokens == sum(len(e.ids) for e in bert_embedder.backend.tokenize(TEXTS))
    floats = client.embeddings.create(model="tiny", input="one text", encoding_format="float")
    assert len(floats.data) == 1 and len(floats.data[0].embedding) == bert_embedder.info.hidden_size


def test_words_equal_embed_words(server_url: str, bert_embedder: Embedder) -> None:
    r = post(server_url, "/embed/words", {"texts": TEXTS, "layers": "-2:", "subword_pooling": "first"})
    assert r.status_code == 200, r.text
    body = r.json()
    ref = bert_embedder.embed_words(TEXTS, layers="-2:", subword_pooling="first")
    rows = [it for t in body["data"] for it in t["items"]]
    assert [(it["start"], it["end"], it["text"]) for it in rows] == list(
        zip(ref.start.tolist(), ref.end.tolist(), ref.strings, strict=True)
    )
    np.testing.assert_allclose(np.array([it["vector"] for it in rows]), ref.vectors, atol=1e-6)
    assert body["dim"] == ref.dim and body["layers"] == "layers=2,3 pooling=mean"


def test_tokens_spans_sentences_and_encodings(server_url: str, bert_embedder: Embedder) -> None:
    r = post(server_url, "/embed/tokens", {"texts": TEXTS[:1], "encoding_format": "base64", "dtype": "float16"})
    items = r.json()["data"][0]["items"]
    ref = bert_embedder.embed_tokens(TEXTS[:1])
    got = np.stack([decode_base64(it["vector"], "float16") for it in items])
    np.testing.assert_allclose(got, ref.vectors, atol=2e-2)
    assert [it["text"] for it in items] == ref.strings
    r = post(
        server_url,
        "/embed/spans",
        {"spans": [{"text": TEXTS[0], "start": 14, "end": 18}, {"text": TEXTS[1], "start": 4, "end": 8}]},
    )
    ref_s = bert_embedder.embed_spans([(TEXTS[0], 14, 18), (TEXTS[1], 4, 8)])
    np.testing.assert_allclose(np.array([d["vector"] for d in r.json()["data"]]), ref_s.vectors, atol=1e-6)
    r = post(server_url, "/embed/sentences", {"texts": TEXTS, "pooling": "cls"})
    ref_c = bert_embedder.embed_sentences(TEXTS, pooling="cls")
    np.testing.assert_allclose(np.array([d["vector"] for d in r.json()["data"]]), ref_c.vectors, atol=1e-6)


def test_compare(server_url: str) -> None:
    r = post(server_url, "/compare", {"texts": TEXTS[:2], "word": "bank"})
    body = r.json()
    assert r.status_code == 200 and body["spans"] == [[14, 18], [4, 8]]
    assert body["cosine"][0][0] == pytest.approx(1.0) and -1 <= body["cosine"][0][1] <= 1


def test_200_concurrent_mixed_requests_all_answer_correctly(server_url: str, bert_embedder: Embedder) -> None:
    rng = random.Random(11)
    vocab = ["the", "bank", "river", "loan", "approved", "sat", "on", "unbelievably", "!", "crossing"]
    requests = [
        [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 60))) for _ in range(rng.randint(1, 6))]
        for _ in range(200)
    ]

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server_url, headers=AUTH, timeout=60) as client:
            return await asyncio.gather(*(client.post("/embed/words", json={"texts": t}) for t in requests))

    responses = asyncio.run(go())
    assert [r.status_code for r in responses] == [200] * 200
    flat = [t for ts in requests for t in ts]
    ref = bert_embedder.embed_words(flat)
    k = 0
    for texts, r in zip(requests, responses, strict=True):
        data = r.json()["data"]
        assert len(data) == len(texts)
        for item_list in data:
            got = np.array([it["vector"] for it in item_list["items"]])
            np.testing.assert_allclose(got, ref.vectors[ref.rows_of(k)], atol=1e-5)
            k += 1


@pytest.mark.parametrize(
    ("path", "body", "raw", "status", "message"),
    [
        ("/embed/words", None, b'{"texts": ["a",', 400, "not valid JSON"),
        ("/embed/words", {"texts": "not a list"}, None, 422, "texts: Input should be a valid list"),
        ("/embed/words", {"texts": [1, 2]}, None, 422, "texts.0: Input should be a valid string"),
        ("/embed/words", {"texts": []}, None, 422, "texts: List should have at least 1 item"),
        ("/embed/words", {"texts": ["fine", "   "]}, None, 400, "text 1 is only whitespace"),
        ("/embed/words", {"texts": ["ok"], "colour": 1}, None, 422, "colour: Extra inputs are not permitted"),
        ("/embed/words", {"texts": ["ok"], "layers": 9}, None, 400, "layer 9 does not exist"),
        ("/embed/words", {"texts": ["ok"], "model": "/etc/passwd"}, None, 404, "served models: tiny"),
        ("/embed/words", {"texts": ["x"] * 301}, None, 413, "301 texts in one request; the limit is 300"),
        ("/embed/words", {"texts": ["x" * 5001]}, None, 413, "text 0 has 5001 characters"),
        ("/embed/words", {"texts": ["y" * 4000] * 60}, None, 413, "request body is larger than 200000 bytes"),
        ("/embed/spans", {"spans": [{"text": "the bank", "start": 5, "end": 8}]}, None, 400, "word boundaries"),
        ("/v1/embeddings", {"input": [[1, 2, 3]], "model": "tiny"}, None, 400, "token-id input is not supported"),
        ("/v1/embeddings", {"input": "x", "dimensions": 7}, None, 400, "dimensions=7 is not available"),
        ("/compare", {"texts": ["a river", "a bank"], "word": "bank"}, None, 400, "does not occur as a whole word"),
    ],
)
def test_bad_requests_get_the_right_status_and_a_helpful_json_error(
    server_url: str, path: str, body: object, raw: bytes | None, status: int, message: str
) -> None:
    if raw is not None:
        r = httpx.post(server_url + path, content=raw, headers={**AUTH, "Content-Type": "application/json"})
    else:
        r = post(server_url, path, body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert message in err["message"] and err["code"] == status and err["type"]
    assert "Traceback" not in r.text


def test_a_streamed_body_over_the_limit_is_refused(server_url: str) -> None:
    def chunks() -> object:
        yield b'{"texts": ["'
        for _ in range(30):
            yield b"z" * 10_000  # 300 kB in all, sent without a Content-Length
        yield b'"]}'

    r = httpx.post(server_url + "/embed/words", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert "larger than 200000 bytes" in r.json()["error"]["message"]


def test_api_key_is_required_except_for_health_and_metrics(server_url: str) -> None:
    assert post(server_url, "/embed/words", {"texts": ["a"]}, headers={}).status_code == 401
    wrong = post(server_url, "/embed/words", {"texts": ["a"]}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["error"]["message"]
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert httpx.get(server_url + "/models").status_code == 401
    assert httpx.get(server_url + "/health").json()["status"] == "ok"
    metrics = httpx.get(server_url + "/metrics").text
    assert 'contextvec_requests_total{route="/embed/words",status="401"}' in metrics
    assert "contextvec_batch_requests_bucket" in metrics
    assert httpx.get(server_url + "/models", headers=AUTH).json()["data"][0]["id"] == "tiny"
    assert httpx.get(server_url + "/openapi.json").status_code == 401  # the schema and /docs need the key too
    assert "/embed/words" in httpx.get(server_url + "/openapi.json", headers=AUTH).json()["paths"]


def test_queue_full_answers_429(bert_embedder: Embedder) -> None:
    settings = make_settings(max_queue_texts=3, max_texts_per_request=3, max_wait_ms=50)
    app = create_app(settings, embedders={"tiny": bert_embedder})
    with running(app) as (url, _):

        async def go() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                return await asyncio.gather(
                    *(client.post("/embed/words", json={"texts": ["a b", "c d"]}) for _ in range(40))
                )

        responses = asyncio.run(go())
    codes = [r.status_code for r in responses]
    assert 429 in codes and 200 in codes and set(codes) == {200, 429}
    busy = next(r for r in responses if r.status_code == 429)
    assert busy.headers["retry-after"] == "1" and "retry later" in busy.json()["error"]["message"]


def test_in_flight_requests_finish_on_shutdown(bert_embedder: Embedder) -> None:
    slow_calls = threading.Event()
    original = bert_embedder.embed_words

    def slow(*args: object, **kwargs: object) -> object:
        slow_calls.set()
        time.sleep(0.5)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    app = create_app(make_settings(), embedders={"tiny": bert_embedder})
    results: list[httpx.Response] = []
    with running(app) as (url, server):
        bert_embedder.embed_words = slow  # type: ignore[method-assign]
        try:
            thread = threading.Thread(
                target=lambda: results.append(httpx.post(url + "/embed/words", json={"texts": TEXTS}, timeout=30))
            )
            thread.start()
            assert slow_calls.wait(10)
            server.should_exit = True  # as on SIGTERM: stop accepting, let in-flight work finish
            thread.join(20)
        finally:
            bert_embedder.embed_words = original  # type: ignore[method-assign]
    assert results and results[0].status_code == 200 and len(results[0].json()["data"]) == 3
