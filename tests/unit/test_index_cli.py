"""`contextvec index build|info`, `contextvec search` (CliRunner on a local app) and POST /search (TestClient)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from tiny_models import CORPUS
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.cli.index import index_app, search
from contextvec.text import split_words

pytest.importorskip("lancedb")

app = typer.Typer()
app.add_typer(index_app, name="index")
app.command("search")(search)
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, model_dir: str) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "c.txt").write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    res = runner.invoke(
        app,
        [
            "index",
            "build",
            str(folder / "c.txt"),
            "--out",
            str(folder / "idx"),
            "--model",
            model_dir,
            "--level",
            "both",
            "--shard-rows",
            "50",
        ],
    )
    assert res.exit_code == 0, res.output
    n_words = sum(len(split_words(t)) for t in CORPUS)  # every word of the corpus, one row each
    assert f"word: {n_words} rows (flat), sentence: {len(CORPUS)} rows (flat)" in " ".join(res.output.split())
    return folder / "idx"


def test_info_prints_the_manifest(built: Path) -> None:
    res = runner.invoke(app, ["index", "info", str(built), "--json"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.output)
    assert manifest["complete"] and manifest["spec"]["level"] == "both" and len(manifest["shards"]) > 1
    res = runner.invoke(app, ["index", "info", str(built)])
    assert "complete" in res.output and "True" in res.output


def test_search_by_example_json_lines(built: Path) -> None:
    like = "We sat on the bank of the river and watched the water run by."
    res = runner.invoke(app, ["search", str(built), "--like", like, "--word", "bank", "-k", "3", "--json"])
    assert res.exit_code == 0, res.output
    hits = [json.loads(line) for line in res.output.splitlines()]
    assert len(hits) == 3 and all(h["word"].lower() == "bank" for h in hits)
    assert hits[0]["text"] == like and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    table = runner.invoke(app, ["search", str(built), "--like", like, "--word", "bank", "-k", "2"])
    assert table.exit_code == 0 and "bank" in table.output


def test_sentence_search_and_errors_exit_2(built: Path, tmp_path: Path) -> None:
    query = "The bank approved my loan after a long review of the account."
    res = runner.invoke(app, ["search", str(built), query, "--level", "sentence", "--json"])
    assert res.exit_code == 0, res.output
    top = json.loads(res.output.splitlines()[0])
    assert top["text"] == query and top["word"] is None and top["score"] == pytest.approx(1.0, abs=1e-5)
    bad = runner.invoke(app, ["search", str(built), "--like", "no such word here", "--word", "bank"])
    assert bad.exit_code == 2 and "error:" in bad.output and "does not occur" in bad.output
    missing = runner.invoke(app, ["index", "info", str(tmp_path)])
    assert missing.exit_code == 2 and "not a contextvec index" in missing.output
    nofile = runner.invoke(app, ["index", "build", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")])
    assert nofile.exit_code == 2 and "does not exist" in nofile.output


def test_http_search_route(built: Path, bert_embedder: Embedder) -> None:
    from fastapi.testclient import TestClient

    from contextvec.serve.app import create_app
    from contextvec.serve.settings import ServerSettings

    settings = ServerSettings(models=["tiny"], index=built, api_key="s3cret")  # contextvec serve --index DIR
    with TestClient(create_app(settings, embedders={"tiny": bert_embedder})) as client:
        text = "The bank approved my loan after a long review of the account."
        auth = {"Authorization": "Bearer s3cret"}
        assert client.post("/search", json={"text": text, "word": "bank"}).status_code == 401  # behind the key
        r = client.post("/search", json={"text": text, "word": "bank", "k": 2}, headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["layers"] and [h["word"] for h in body["hits"]] == ["bank", "bank"]
        assert body["hits"][0]["text"] == text
        s = client.post("/search", json={"text": "rivers", "level": "sentence", "k": 1}, headers=auth).json()
        assert len(s["hits"]) == 1 and s["hits"][0]["word"] is None
        bad = client.post("/search", json={"text": text, "word": "zebra"}, headers=auth)
        assert bad.status_code == 400 and "zebra" in bad.json()["error"]["message"]  # the server's error shape
        assert client.post("/search", json={"text": text, "bogus": 1}, headers=auth).status_code == 422
        schema = client.get("/openapi.json", headers=auth).json()
        assert "400" in schema["paths"]["/search"]["post"]["responses"]


def test_senses_reads_vectors_from_an_index(built: Path) -> None:
    from contextvec.cli.main import app as main_app
    from contextvec.index import Index

    res = runner.invoke(main_app, ["senses", "bank", "--index", str(built), "--k", "2"])
    assert res.exit_code == 0, res.output
    stored = Index.open(built).occurrences(["bank"])  # the same default for inflect as the CLI
    assert f"bank: {len(stored)} occurrences, 2 sense(s)" in res.output  # every stored use, none embedded again
    clash = runner.invoke(main_app, ["senses", "bank", "--index", str(built), "--layers", "-1"])
    assert clash.exit_code == 2 and "leave --model and --layers out" in " ".join(clash.output.split())
