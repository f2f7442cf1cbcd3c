"""Trainers and the word-similarity scorer on small data with planted structure."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from contextvec.errors import InputFileError, OptionError
from contextvec.eval.wordsim import Pair, evaluate_similarity, load_pairs
from contextvec.static.corpus import CorpusWords
from contextvec.static.train import train_lsa, train_word2vec
from contextvec.static.vectors import StaticVectors

ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "goat"]
MONEY = ["bank", "loan", "money", "credit", "cash", "debt"]


def planted_corpus(n: int = 600, seed: int = 0) -> list[str]:
    """Each line draws its content words from one topic only: words of a topic share contexts."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        topic = ANIMALS if rng.random() < 0.5 else MONEY
        lines.append(" ".join(rng.choice(topic) for _ in range(8)) + " .")
    return lines


def _within_minus_across(v: StaticVectors) -> float:
    def cos(a: str, b: str) -> float:
        return v.similarity(a, b)

    within = np.mean([cos(a, b) for group in (ANIMALS, MONEY) for a in group for b in group if a != b])
    across = np.mean([cos(a, b) for a in ANIMALS for b in MONEY])
    return float(within - across)


@pytest.mark.parametrize(
    ("algorithm", "architecture"), [("word2vec", "skipgram"), ("word2vec", "cbow"), ("fasttext", "skipgram")]
)
def test_word2vec_and_fasttext_learn_the_planted_topics(algorithm: str, architecture: str) -> None:
    vectors, _ = train_word2vec(
        CorpusWords(planted_corpus()),
        algorithm=algorithm,  # type: ignore[arg-type]
        architecture=architecture,
        vector_size=16,
        window=4,
        min_count=1,
        epochs=15,
        workers=1,
    )
    assert set(ANIMALS + MONEY) <= set(vectors.words)
    assert _within_minus_across(vectors) > 0.3


def test_fasttext_answers_unseen_words_from_ngrams_and_word2vec_does_not() -> None:
    corpus = CorpusWords(planted_corpus())
    ft, _ = train_word2vec(corpus, algorithm="fasttext", vector_size=16, min_count=1, epochs=5, workers=1)
    w2v, _ = train_word2vec(corpus, algorithm="word2vec", vector_size=16, min_count=1, epochs=5, workers=1)
    assert "loans" not in ft.words and ft.lookup("loans") is not None
    assert w2v.lookup("loans") is None


@pytest.mark.parametrize(("window", "weighting"), [(None, "tfidf"), (3, "ppmi"), (3, "tfidf"), (3, "count")])
def test_lsa_learns_the_planted_topics(window: int | None, weighting: str) -> None:
    vectors = train_lsa(CorpusWords(planted_corpus()), dim=4, min_count=1, window=window, weighting=weighting)  # type: ignore[arg-type]
    assert vectors.dim == 4 and _within_minus_across(vectors) > 0.3


def test_corpus_streams_files_and_refuses_bad_ones(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_text("The Bank, the river.\n\nA loan!\n", encoding="utf-8")
    corpus = CorpusWords(p)
    assert list(corpus) == [["the", "bank", ",", "the", "river", "."], ["a", "loan", "!"]]
    assert list(corpus) == list(corpus)  # restartable
    with pytest.raises(InputFileError, match="does not exist"):
        CorpusWords(tmp_path / "missing.txt")
    with pytest.raises(OptionError, match="no word occurs 50\\+ times"):
        train_word2vec(corpus, min_count=50, workers=1)


def test_similarity_scorer_rewards_agreement_and_reports_coverage() -> None:
    words = ["a", "b", "c", "d"]
    angles = np.array([0.0, 0.3, 1.0, 1.5])  # cosine with "a" falls as the angle grows
    v = StaticVectors(words, np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32), name="t")
    pairs = [Pair("a", "b", 9.0), Pair("a", "c", 5.0), Pair("a", "d", 1.0), Pair("a", "zzz", 3.0)]
    good = evaluate_similarity(v, pairs)
    assert good.spearman == pytest.approx(1.0) and (good.covered, good.total) == (3, 4)
    flipped = [Pair(p.a, p.b, -p.score) for p in pairs]
    assert evaluate_similarity(v, flipped).spearman == pytest.approx(-1.0)  # a constant scorer cannot pass both


def test_packaged_similarity_sets_load() -> None:
    ws, sl = load_pairs("wordsim353"), load_pairs("simlex999")
    assert len(ws) == 353 and len(sl) == 999
    assert Pair("tiger", "cat", 7.35) in ws


@pytest.mark.parametrize(("algorithm", "out"), [("word2vec", "w.txt"), ("fasttext", "ft"), ("pca", "p.bin")])
def test_cli_trains_saves_and_evaluates(tmp_path: Path, algorithm: str, out: str) -> None:
    from typer.testing import CliRunner

    from contextvec.cli.main import app
    from contextvec.static.embedder import StaticEmbedder

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(planted_corpus(300)), encoding="utf-8")
    target = tmp_path / out
    result = CliRunner().invoke(
        app,
        [
            "static",
            "train",
            algorithm,
            str(corpus),
            "--out",
            str(target),
            "--dim",
            "8",
            "--min-count",
            "1",
            "--epochs",
            "10",
            "--workers",
            "1",
            "--window",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    loaded = StaticEmbedder.load(str(target))
    assert set(ANIMALS) <= set(loaded.vectors.words) and loaded.vectors.dim == 8
    if algorithm == "fasttext":  # gensim's own format was saved too: unseen words still get n-gram vectors
        assert loaded.vectors.lookup("loans") is not None
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("cat\tdog\t9\nbank\tloan\t9\ncat\tbank\t1\ndog\tcash\t1\nzzz\tcat\t5\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "wordsim", "--model", str(target), "--dataset", str(pairs)])
    covered = "5/5" if algorithm == "fasttext" else "4/5"  # fastText hashes any n-gram, even of "zzz"
    assert result.exit_code == 0 and covered in result.output


def test_cli_reports_bad_similarity_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from contextvec.cli.main import app

    bad = tmp_path / "pairs.tsv"
    bad.write_text("cat\tdog\tnine\n", encoding="utf-8")
    vecs = tmp_path / "v.txt"
    vecs.write_text("cat 1 0\ndog 0 1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "wordsim", "--model", str(vecs), "--dataset", str(bad)])
    assert result.exit_code == 2 and "pairs.tsv:1: expected 'word1<TAB>word2<TAB>score'" in result.output.replace(
        "\n", ""
    )
