"""Contextuality per layer on a tiny model (one streamed pass), and every picture as PNG and as HTML."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_senses import planted
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.analysis.attention import attention_by_word
from contextvec.analysis.compare import word_similarity
from contextvec.analysis.contextuality import ContextualityReport, measure_contextuality
from contextvec.analysis.measures import self_similarity
from contextvec.analysis.senses import induce_senses
from contextvec.cli.main import app
from contextvec.errors import InvalidInputError, OptionError
from contextvec.viz.plots import attention_maps, layer_curves, sense_map, similarity_map

WORDS = ["river", "bank", "money", "water", "loan", "boat", "tree", "road"]
CORPUS = [" ".join(WORDS[(i * 3 + j) % 8] for j in range(6 + i % 4)) for i in range(40)]


@pytest.fixture(scope="module")
def report(bert_embedder: Embedder) -> ContextualityReport:
    return measure_contextuality(bert_embedder, CORPUS, min_occurrences=3, per_word=6, baseline_pairs=500)


def test_every_layer_is_measured(report: ContextualityReport, bert_embedder: Embedder) -> None:
    assert [r.layer for r in report.layers] == list(range(bert_embedder.info.num_layers + 1))
    assert report.n_words == len(WORDS)
    for r in report.layers:
        assert -1 <= r.anisotropy <= 1 and 0 < r.mev <= 1 and -1 <= r.self_similarity <= 1
    payload = report.to_dict()
    assert len(payload["layers"]) == len(report.layers)  # type: ignore[arg-type]
    json.dumps(payload)


def test_self_similarity_matches_a_direct_computation(report: ContextualityReport, bert_embedder: Embedder) -> None:
    # layer 0 of a BERT is word + position + type embeddings (then layer norm): recompute "bank" by hand
    res = bert_embedder.embed_words(CORPUS, layers=0)
    rows, seen = [], set()
    for i, w in enumerate(res.strings):
        t = int(res.text_index[i])
        if w == "bank" and t not in seen and len(rows) < 6:
            rows.append(i)
            seen.add(t)
    direct = self_similarity(res.vectors[rows])
    per_word = []
    for word in sorted(WORDS):
        idx, texts = [], set()
        for i, w in enumerate(res.strings):
            if w == word and int(res.text_index[i]) not in texts and len(idx) < 6:
                idx.append(i)
                texts.add(int(res.text_index[i]))
        per_word.append(self_similarity(res.vectors[idx]))
    assert report.layers[0].self_similarity == pytest.approx(np.mean(per_word), abs=1e-5)
    assert direct == pytest.approx(per_word[sorted(WORDS).index("bank")], abs=1e-6)


def test_progress_counts_every_embedded_text_once(bert_embedder: Embedder) -> None:
    """`contextuality` printed nothing for minutes (issue 26): the library now reports each embedded chunk."""
    from contextlib import contextmanager

    from contextvec.progress import Reporter

    seen: list[int] = []
    totals: list[tuple[float | None, str]] = []

    class Counting(Reporter):
        @contextmanager
        def task(self, description: str, total: float | None, unit: str, *, completed: float = 0):  # type: ignore[no-untyped-def]
            totals.append((total, unit))

            class T:
                def advance(self, n: float = 1) -> None:
                    seen.append(int(n))

                def update(self, completed: float) -> None: ...

                def describe(self, description: str) -> None: ...

            yield T()

    measure_contextuality(
        bert_embedder,
        CORPUS,
        max_texts=30,
        min_occurrences=3,
        per_word=6,
        baseline_pairs=50,
        chunk=8,
        progress=Counting(),
    )
    assert seen == [8, 8, 8, 6] and totals == [(30, "texts")]


def test_too_little_text_is_explained(bert_embedder: Embedder) -> None:
    with pytest.raises(InvalidInputError, match="at least 2 texts"):
        measure_contextuality(bert_embedder, ["one text"])
    with pytest.raises(InvalidInputError, match="occurs in 5"):
        measure_contextuality(bert_embedder, ["a b", "c d"])


@pytest.mark.parametrize("suffix", [".png", ".html"])
def test_pictures_are_written(
    tmp_path: Path, suffix: str, report: ContextualityReport, bert_embedder: Embedder
) -> None:
    paths = [
        sense_map(induce_senses(planted()), tmp_path / f"senses{suffix}"),
        layer_curves([report, report], tmp_path / f"layers{suffix}", adjusted=True),
        similarity_map(*_sim(bert_embedder), tmp_path / f"sim{suffix}", "sim"),
        attention_maps(
            [attention_by_word(bert_embedder, "it was too wide"), attention_by_word(bert_embedder, "it was tired")],
            tmp_path / f"att{suffix}",
        ),
    ]
    for p in paths:
        data = p.read_bytes()
        if suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
        else:
            page = data.decode()
            assert "<svg" in page and "<title>" in page and "<script" not in page
            assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    sense_page = (tmp_path / "senses.html").read_text() if suffix == ".html" else ""
    if suffix == ".html":
        assert "the bank river water boat 0" in sense_page  # every point's sentence is its tooltip
    with pytest.raises(OptionError, match=".png or .html"):
        sense_map(induce_senses(planted()), tmp_path / "x.jpg")


def _sim(emb: Embedder) -> tuple[np.ndarray, list[str], list[str]]:
    rows, cols, matrix, _ = word_similarity(emb, "the bank of the river", "the bank approved a loan")
    assert rows == ["the", "bank", "of", "the", "river"] and matrix.shape == (5, 5)
    v = emb.embed_words(["the bank of the river", "the bank approved a loan"]).vectors
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    np.testing.assert_allclose(matrix, u[:5] @ u[5:].T, atol=1e-5)
    return matrix, rows, cols


def test_cli_senses_contextuality_attention_and_plots(model_dir: str, tmp_path: Path) -> None:
    runner = CliRunner()
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join([*CORPUS, "the bank approved my loan", "we sat on the bank of the river"]) + "\n")
    out = tmp_path / "bank.json"
    r = runner.invoke(
        app,
        [
            "senses",
            "bank",
            "--corpus",
            str(corpus),
            "--model",
            model_dir,
            "--json",
            str(out),
            "--csv",
            str(tmp_path / "bank.csv"),
            "--plot",
            str(tmp_path / "bank.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    payload = json.loads(out.read_text())
    assert payload["word"] == "bank" and len(payload["occurrences"]) == sum(t.split().count("bank") for t in CORPUS) + 2
    assert (tmp_path / "bank.png").exists() and (tmp_path / "bank.csv").read_text().startswith("cluster,")
    r = runner.invoke(
        app, ["contextuality", "--corpus", str(corpus), "--model", model_dir, "--json", str(tmp_path / "c.json")]
    )
    assert r.exit_code == 0, r.output
    assert len(json.loads((tmp_path / "c.json").read_text())["layers"]) == 4  # the tiny BERT: embeddings + 3 blocks
    assert f"on {len(CORPUS) + 2} texts" in r.output  # said before the work starts
    r = runner.invoke(app, ["attention", "the bank said it was closed", "--word", "it", "--model", model_dir])
    assert r.exit_code == 0 and "it attends to" in r.output
    r = runner.invoke(
        app,
        ["plot", "attention", "it was wide", "it was tired", "--out", str(tmp_path / "a.html"), "--model", model_dir],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["plot", "similarity", "a bank", "the bank", "--out", str(tmp_path / "s.png"), "--model", model_dir]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["correction", "fit", "--corpus", str(corpus), "--model", model_dir, "--out", str(tmp_path / "c.npz")]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["senses", "zebra", "--corpus", str(corpus), "--model", model_dir])
    assert r.exit_code == 2 and "error:" in r.output and "zebra" in r.output
