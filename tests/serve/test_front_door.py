"""One front door: every route that uses the model (embeddings, explorer views and jobs, /search) waits in the
model's one scheduler, under the same queue limit (429), timeout and supervision; nothing shared is switched per
request."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import numpy as np
import pytest
from server_helpers import make_settings, running

from contextvec import Embedder
from contextvec.explore import mount_explorer
from contextvec.serve.app import create_app

TEXTS = ["We sat on the bank of the river.", "The bank approved my loan.", "The river bank was muddy."]


def _flood(url: str, path: str, body: dict[str, object], n: int) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(*(client.post(path, json=body) for _ in range(n)))

    return asyncio.run(go())


def test_a_flood_of_explorer_requests_gets_429s_not_threads(bert_embedder: Embedder) -> None:
    settings = make_settings(max_queue_texts=4, max_texts_per_request=3, ui_static_model="")
    app = mount_explorer(create_app(settings, embedders={"tiny": bert_embedder}))
    with running(app) as (url, _):
        before = {t.ident for t in threading.enumerate()}
        responses = _flood(url, "/explore/api/compare", {"texts": TEXTS, "word": "bank"}, 40)
        new = [t.name for t in threading.enumerate() if t.ident not in before and not t.name.startswith("asyncio")]
    codes = [r.status_code for r in responses]
    assert set(codes) == {200, 429}, codes
    busy = next(r for r in responses if r.status_code == 429)
    assert busy.headers["retry-after"] == "1" and "retry later" in busy.json()["error"]["message"]
    # queued, not a thread per request: at most the model's one forward thread was started
    assert len(new) <= 1 and all(n.startswith("contextvec-forward-tiny") for n in new), new


def test_explorer_jobs_are_capped_and_the_rest_wait_or_are_refused(bert_embedder: Embedder) -> None:
    settings = make_settings(max_jobs=1, ui_static_model="", job_chunk_texts=1)
    app = mount_explorer(create_app(settings, embedders={"tiny": bert_embedder}))
    corpus = [" ".join(TEXTS * 20)] * 200
    with running(app) as (url, _):
        before = {t.ident for t in threading.enumerate()}  # other apps' job threads may still be winding down
        started = [
            httpx.post(f"{url}/explore/api/senses", json={"word": "bank", "corpus": corpus}, timeout=30)
            for _ in range(6)
        ]
        first = started[0].json()["id"]
        for _ in range(200):  # the pool's thread picks the first job up in its own time
            if httpx.get(f"{url}/explore/api/jobs/{first}").json()["state"] == "running":
                break
            time.sleep(0.05)
        states = [httpx.get(f"{url}/explore/api/jobs/{r.json()['id']}").json()["state"] for r in started[:5]]
        job_threads = [t for t in threading.enumerate() if t.name.startswith("explore-job") and t.ident not in before]
        for r in started[:5]:
            httpx.delete(f"{url}/explore/api/jobs/{r.json()['id']}")
    assert [r.status_code for r in started] == [200] * 5 + [429]  # 1 running + 4 waiting, the sixth refused
    assert "explorer jobs are running or waiting" in started[5].json()["error"]["message"]
    assert states[0] == "running" and states[1:] == ["queued"] * 4
    assert len(job_threads) == 1


def test_a_job_whose_page_is_gone_is_cancelled(bert_embedder: Embedder) -> None:
    settings = make_settings(ui_static_model="", job_chunk_texts=1, job_idle_timeout_s=0.3)
    app = mount_explorer(create_app(settings, embedders={"tiny": bert_embedder}))
    corpus = [" ".join(TEXTS * 20)] * 300
    with running(app) as (url, _):
        job = httpx.post(f"{url}/explore/api/senses", json={"word": "bank", "corpus": corpus}, timeout=30).json()
        time.sleep(1.5)  # nobody polls
        for _ in range(200):  # the job stops at its next chunk
            state = httpx.get(f"{url}/explore/api/jobs/{job['id']}").json()
            if state["state"] != "running":
                break
            time.sleep(0.05)
    assert state["state"] == "cancelled" and state["done"] < state["total"]


def test_requests_are_answered_while_a_long_job_runs(bert_embedder: Embedder) -> None:
    settings = make_settings(ui_static_model="", job_chunk_texts=2)
    app = mount_explorer(create_app(settings, embedders={"tiny": bert_embedder}))
    corpus = [" ".join(TEXTS * 20)] * 400
    with running(app) as (url, _):
        job = httpx.post(f"{url}/explore/api/senses", json={"word": "bank", "corpus": corpus}, timeout=30).json()
        answers = [httpx.post(f"{url}/embed/words", json={"texts": TEXTS}, timeout=60) for _ in range(5)]
        state = httpx.get(f"{url}/explore/api/jobs/{job['id']}").json()
        httpx.delete(f"{url}/explore/api/jobs/{job['id']}")
    assert [a.status_code for a in answers] == [200] * 5
    assert state["state"] == "running" and 0 < state["done"] < state["total"]  # the job yielded, it was not done


def test_a_batch_that_fails_answers_500_in_the_error_shape_and_the_next_request_succeeds(
    bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = bert_embedder.embed_words
    calls = [0]

    def once_broken(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("a kernel failed")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    app = create_app(make_settings(), embedders={"tiny": bert_embedder})
    with running(app) as (url, _):
        monkeypatch.setattr(bert_embedder, "embed_words", once_broken)
        bad = httpx.post(f"{url}/embed/words", json={"texts": TEXTS}, headers={"X-Request-Id": "req-42"})
        good = httpx.post(f"{url}/embed/words", json={"texts": TEXTS})
        health = httpx.get(f"{url}/health").json()
    assert bad.status_code == 500 and bad.json()["error"]["type"] == "server_error"
    assert "RuntimeError" in bad.json()["error"]["message"] and "Traceback" not in bad.text
    assert good.status_code == 200 and good.headers["x-request-id"]
    assert health["status"] == "ok"


def test_attention_requests_leave_the_served_model_as_it_was(bert_embedder: Embedder) -> None:
    model = bert_embedder.backend.model
    before = model.config._attn_implementation
    app = mount_explorer(create_app(make_settings(ui_static_model=""), embedders={"tiny": bert_embedder}))
    with running(app) as (url, _):

        async def go() -> tuple[list[httpx.Response], list[httpx.Response]]:
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:

                async def one_at_a_time() -> list[httpx.Response]:  # each batch holds one request, as the reference
                    return [await client.post("/embed/words", json={"texts": [t]}) for t in TEXTS * 4]

                att = [client.post("/explore/api/attention", json={"text": t}) for t in TEXTS * 2]
                *a, e = await asyncio.gather(*att, one_at_a_time())
                return a, e

        attentions, embeddings = asyncio.run(go())
    assert all(r.status_code == 200 for r in attentions + embeddings)
    assert model.config._attn_implementation == before  # never switched, not even for a moment
    twin = bert_embedder.backend._twin
    assert twin is not None and twin is not model and twin.config._attn_implementation == "eager"
    assert all(a.data_ptr() == b.data_ptr() for a, b in zip(model.parameters(), twin.parameters(), strict=True))
    for text, r in zip(TEXTS * 4, embeddings, strict=True):
        ref = bert_embedder.embed_words([text])
        got = np.array([it["vector"] for it in r.json()["data"][0]["items"]], dtype=np.float32)
        np.testing.assert_array_equal(got, ref.vectors)  # bit-identical to the Python API


def test_settings_refuse_a_request_limit_the_queue_could_never_take() -> None:
    with pytest.raises(ValueError, match="max_texts_per_request .* larger than max_queue_texts"):
        make_settings(max_queue_texts=10, max_texts_per_request=11)
