"""Distilled static vectors against a direct computation over all occurrences."""

from __future__ import annotations

import numpy as np
import pytest

from contextvec import Embedder
from contextvec.errors import OptionError
from contextvec.static.corpus import CorpusWords
from contextvec.static.distill import distill

TEXTS = [
    "The bank approved the loan.",
    "We sat on the bank of the river.",
    "The river ran past the old bank.",
    "A loan from the bank.",
] * 3


def _occurrences(embedder: Embedder, word: str) -> np.ndarray:
    res = embedder.embed_words(TEXTS, layers=-2)
    return res.vectors[[k for k, w in enumerate(res.strings) if w.lower() == word]]


def test_mean_is_the_average_of_all_contextual_uses_across_chunks(bert_embedder: Embedder) -> None:
    v = distill(bert_embedder, CorpusWords(TEXTS), layers=-2, chunk_texts=5)  # chunks do not change the result
    for word in ("bank", "the", "river"):
        np.testing.assert_allclose(v.vector(word), _occurrences(bert_embedder, word).mean(0), atol=1e-5)
    assert "The" not in v.words and "the" in v.words  # lowercased, like the corpus


def test_first_principal_component_matches_an_svd_of_the_uses(bert_embedder: Embedder) -> None:
    v = distill(bert_embedder, CorpusWords(TEXTS), layers=-2, method="pc1", max_samples=64)
    uses = _occurrences(bert_embedder, "bank")  # 12 uses, all kept in the sample
    pc = np.linalg.svd(uses, full_matrices=False)[2][0]
    got = v.vector("bank")
    assert abs(got @ pc) / np.linalg.norm(got) == pytest.approx(1.0, abs=1e-5)
    assert got @ uses.mean(0) > 0  # the sign agrees with the mean


def test_min_count_and_options(bert_embedder: Embedder) -> None:
    v = distill(bert_embedder, CorpusWords(TEXTS), min_count=9)
    assert set(v.words) == {"the", "bank", "."}  # only words used 9+ times
    with pytest.raises(OptionError, match="no word occurs 99\\+ times"):
        distill(bert_embedder, CorpusWords(TEXTS), min_count=99)
    with pytest.raises(OptionError, match="use 'mean' or 'pc1'"):
        distill(bert_embedder, CorpusWords(TEXTS), method="median")  # type: ignore[arg-type]


def test_cli_distills_a_local_model(tmp_path: object, wordpiece_tokenizer: object) -> None:
    from pathlib import Path

    from tiny_models import tiny_bert
    from typer.testing import CliRunner

    from contextvec.cli.main import app
    from contextvec.static.embedder import StaticEmbedder

    tmp = Path(str(tmp_path))
    folder = tmp / "model"
    tiny_bert(wordpiece_tokenizer).save_pretrained(folder)  # type: ignore[arg-type]
    wordpiece_tokenizer.save_pretrained(folder)  # type: ignore[attr-defined]
    corpus = tmp / "c.txt"
    corpus.write_text("\n".join(TEXTS), encoding="utf-8")
    out = tmp / "distilled.txt"
    result = CliRunner().invoke(
        app,
        [
            "static",
            "train",
            "distill",
            str(corpus),
            "--model",
            str(folder),
            "--layers",
            "-2",
            "--min-count",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    expected = distill(Embedder(str(folder)), CorpusWords(TEXTS), layers=-2, min_count=2)
    got = StaticEmbedder.load(str(out)).vectors
    assert got.words == expected.words
    np.testing.assert_allclose(got.matrix, expected.matrix, atol=1e-4)  # word2vec text keeps 6 digits


def test_all_layers_in_one_pass_equal_one_layer_at_a_time(bert_embedder: Embedder) -> None:
    from contextvec.static.distill import distill_layers

    per_layer = distill_layers(bert_embedder, CorpusWords(TEXTS), vocabulary={"bank", "River"})
    assert len(per_layer) == bert_embedder.info.num_layers + 1
    for k, v in enumerate(per_layer):
        assert sorted(v.words) == ["bank", "river"]  # only the vocabulary asked for
        np.testing.assert_allclose(v.vector("bank"), _occurrences_at(bert_embedder, "bank", k).mean(0), atol=1e-5)


def _occurrences_at(embedder: Embedder, word: str, layer: int) -> np.ndarray:
    res = embedder.embed_words(TEXTS, layers=layer)
    return res.vectors[[k for k, w in enumerate(res.strings) if w.lower() == word]]
