"""The explorer's endpoints without a browser: the same API key as the rest, errors in the server's shape,
jobs that can be cancelled, and the `explore` command's flags taken from ServerSettings."""

from __future__ import annotations

import time

import httpx
import pytest
from server_helpers import AUTH, make_settings, running
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.cli.main import app as cli
from contextvec.explore import mount_explorer
from contextvec.serve.app import create_app

CORPUS = ["We sat on the bank of the river.", "The bank approved my loan.", "The river bank was muddy."]


@pytest.fixture(scope="module")
def url(bert_embedder: Embedder) -> object:
    app = mount_explorer(
        create_app(make_settings(api_key="s3cret", ui_static_model=""), embedders={"tiny": bert_embedder})
    )
    with running(app) as (address, _):
        yield address


def wait(url: str, job: dict[str, object]) -> dict[str, object]:
    for _ in range(600):
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
        job = httpx.get(f"{url}/explore/api/jobs/{job['id']}", headers=AUTH).json()
    raise AssertionError("the job did not end")


def test_the_page_is_public_and_its_data_needs_the_key(url: str) -> None:
    page = httpx.get(f"{url}/explore")
    assert page.status_code == 200 and "<title>contextvec explorer</title>" in page.text
    assert httpx.get(f"{url}/explore/assets/main.js").headers["content-type"].startswith("text/javascript")
    denied = httpx.get(f"{url}/explore/api/info")
    assert denied.status_code == 401 and "API key" in denied.json()["error"]["message"]
    info = httpx.get(f"{url}/explore/api/info", headers=AUTH).json()
    assert info["models"][0]["name"] == "tiny" and info["index"] is None and info["static_model"] is None


def test_errors_come_in_the_servers_shape(url: str) -> None:
    r = httpx.post(f"{url}/explore/api/compare", json={"texts": CORPUS, "word": "loan"}, headers=AUTH)
    assert r.status_code == 400 and "text 0" in r.json()["error"]["message"]
    r = httpx.post(f"{url}/explore/api/senses", json={"word": "bank", "source": "index"}, headers=AUTH)
    assert r.status_code == 400 and "--index DIR" in r.json()["error"]["message"]
    r = httpx.post(f"{url}/explore/api/pair", json={"first": "a", "second": "b", "layer": 99}, headers=AUTH)
    assert r.status_code == 400 and "layer" in r.json()["error"]["message"]


def test_a_senses_job_ends_with_points_and_labels_spread(url: str, bert_embedder: Embedder) -> None:
    from contextvec.analysis.occurrences import collect_occurrences
    from contextvec.analysis.senses import SenseLabeler

    job = httpx.post(f"{url}/explore/api/senses", json={"word": "bank", "corpus": CORPUS * 2, "k": 2}, headers=AUTH)
    done = wait(url, job.json())
    assert done["state"] == "done" and done["done"] == done["total"] == 6
    result = done["result"]
    assert len(result["x"]) == 6 and sorted(set(result["cluster"])) == [0, 1]
    assert [s[a:b] for s, (a, b) in zip(result["sentence"], result["span"], strict=True)] == ["bank"] * 6
    labels = {"0": "river", "1": "money"}
    got = httpx.post(f"{url}/explore/api/senses/{done['id']}/label", json={"labels": labels}, headers=AUTH).json()
    occ = collect_occurrences(bert_embedder, CORPUS * 2, ["bank"])
    expected = SenseLabeler().fit(occ.vectors[[0, 1]], ["river", "money"]).predict(occ.vectors)
    assert got["predicted"] == expected
    bad = httpx.post(f"{url}/explore/api/senses/{done['id']}/label", json={"labels": {"99": "x"}}, headers=AUTH)
    assert bad.status_code == 400 and "point 99" in bad.json()["error"]["message"]


def test_a_cancelled_job_stops(url: str) -> None:
    long_texts = [" ".join(CORPUS * 20)] * 500  # 500 texts: 32 model calls of 16, the cancel lands between two
    job = httpx.post(f"{url}/explore/api/senses", json={"word": "bank", "corpus": long_texts}, headers=AUTH).json()
    httpx.delete(f"{url}/explore/api/jobs/{job['id']}", headers=AUTH)
    done = wait(url, job)
    assert done["state"] == "cancelled"
    assert "result" not in done and done["done"] < done["total"]


def test_explore_command_flags_come_from_server_settings() -> None:
    from contextvec.serve.settings import ServerSettings

    out = CliRunner().invoke(cli, ["explore", "--help"], terminal_width=200).output
    assert "--ui-static-model" in out and "--index" in out and "--port" in out
    assert f"(default: {ServerSettings.model_fields['port'].default})" in out
    assert "default: glove-50d" in out
    serve_help = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200).output
    assert "--ui" in serve_help


def test_inside_traces_one_word_and_refuses_a_missing_one(url: str, bert_embedder: Embedder) -> None:
    from contextvec.analysis.attention import attention_by_word

    text = "We sat on the bank of the river."
    r = httpx.post(f"{url}/explore/api/inside", json={"text": text, "word": "bank"}, headers=AUTH)
    assert r.status_code == 200, r.text
    got = r.json()
    L, H = bert_embedder.info.num_layers, bert_embedder.backend.model.config.num_attention_heads
    assert (got["layers"], got["heads"], got["word"]) == (L, H, "bank")
    att = attention_by_word(bert_embedder, text)  # transformers' own attention, the Attention view's numbers
    assert got["labels"] == att.labels and got["row"] == att.index("bank")
    import numpy as np

    np.testing.assert_allclose(np.array(got["weights"]), att.weights[:, :, att.index("bank")], atol=1e-4)
    assert len(got["stream"]["norm"]) == L + 1 and got["stream"]["cos_previous"][0] is None
    assert np.array(got["q"]).shape[:2] == (L, H)
    r = httpx.post(f"{url}/explore/api/inside", json={"text": text, "word": "dragon"}, headers=AUTH)
    assert r.status_code == 400 and "'dragon' occurs 0 time(s)" in r.json()["error"]["message"]
    r = httpx.post(f"{url}/explore/api/inside", json={"text": text, "word": "bank"})
    assert r.status_code == 401
