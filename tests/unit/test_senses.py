"""Sense induction recovers planted clusters; nearest-centroid labelling; exports; occurrences in a corpus."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from tests_helpers import BANK_EXAMPLES

from contextvec import Embedder
from contextvec.analysis.occurrences import Occurrences, collect_occurrences, find_occurrences, sentence_around
from contextvec.analysis.senses import SenseLabeler, induce_senses, leave_one_out_accuracy
from contextvec.errors import InvalidInputError, OptionError


def planted(n_per: int = 20, k: int = 3, dim: int = 16, noise: float = 0.15, seed: int = 0) -> Occurrences:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    vecs = np.concatenate([c + noise * rng.normal(size=(n_per, dim)) for c in centres]).astype(np.float32)
    words = ["river water boat", "money loan credit", "plane turn tilt"]
    sentences = [f"the bank {words[i % 3]} {j}" for i in range(k) for j in range(n_per)]
    n = k * n_per
    return Occurrences(
        target=["bank"] * n,
        form=["bank"] * n,
        text_index=np.arange(n),
        start=np.full(n, 4),
        end=np.full(n, 8),
        sentence=sentences,
        texts=dict(enumerate(sentences)),
        vectors=vecs,
        model_id="planted",
        layers="-",
        labels=[f"s{i}" for i in range(k) for _ in range(n_per)],
    )


@pytest.mark.parametrize("method", ["kmeans", "agglomerative"])
def test_induction_recovers_planted_clusters_and_their_number(method: str) -> None:
    from sklearn.metrics import adjusted_rand_score

    occ = planted()
    result = induce_senses(occ, method=method)  # type: ignore[arg-type]
    assert result.k == 3
    assert adjusted_rand_score(occ.labels, result.assignments) == pytest.approx(1.0)
    assert max(result.silhouette, key=result.silhouette.__getitem__) == 3
    # each cluster is described by the words its own sentences share, not the others'
    keyword_sets = [set(c.keywords[:3]) for c in result.clusters]
    assert sorted(map(sorted, keyword_sets)) == [
        ["boat", "river", "water"],
        ["credit", "loan", "money"],
        ["plane", "tilt", "turn"],
    ]
    for c in result.clusters:
        assert c.size == 20 and len(c.examples) == 3


def test_identical_vectors_are_one_sense() -> None:
    occ = planted()
    occ.vectors = np.tile(occ.vectors[:1], (len(occ), 1))  # what a static model gives
    assert induce_senses(occ).k == 1


def test_fixed_k_and_bad_options() -> None:
    occ = planted(k=3)
    assert induce_senses(occ, k=2).k == 2
    with pytest.raises(OptionError, match="k=100"):
        induce_senses(occ, k=100)
    with pytest.raises(OptionError, match="method="):
        induce_senses(occ, method="dbscan")  # type: ignore[arg-type]


def test_exports_carry_every_occurrence() -> None:
    result = induce_senses(planted())
    payload = json.loads(result.to_json())
    assert payload["k"] == 3 and len(payload["occurrences"]) == 60
    assert {o["label"] for o in payload["occurrences"]} == {"s0", "s1", "s2"}
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert len(rows) == 60 and rows[0]["form"] == "bank"
    assert [int(r["cluster"]) for r in rows] == result.assignments.tolist()


def test_nearest_centroid_labelling_and_held_out_accuracy() -> None:
    occ = planted(noise=0.3)
    assert occ.labels is not None
    train = np.arange(len(occ)) % 2 == 0
    labeler = SenseLabeler().fit(occ.vectors[train], [lab for lab, t in zip(occ.labels, train, strict=True) if t])
    predicted = labeler.predict(occ.vectors[~train])
    assert predicted == [lab for lab, t in zip(occ.labels, train, strict=True) if not t]
    acc, _ = leave_one_out_accuracy(occ.vectors, occ.labels)
    assert acc == 1.0
    shuffled = list(np.random.default_rng(0).permutation(occ.labels))  # labels unrelated to the vectors
    assert leave_one_out_accuracy(occ.vectors, shuffled)[0] < 0.6
    with pytest.raises(InvalidInputError):
        SenseLabeler().predict(occ.vectors)


def test_find_occurrences_whole_words_with_inflections() -> None:
    texts = ["The bank banked on banks.", "An embankment is not a bank", "Bankers bank."]
    plain = [(t, s, e) for t, _, s, e, _ in find_occurrences(texts, ["bank"])]
    assert plain == [(0, 4, 8), (1, 23, 27), (2, 8, 12)]
    inflected = [texts[t][s:e] for t, _, s, e, _ in find_occurrences(texts, ["bank"], inflect=True)]
    assert inflected == ["bank", "banked", "banks", "bank", "bank"]
    capped = list(find_occurrences(texts, ["bank"], max_per_word=2))
    assert len(capped) == 2
    with pytest.raises(InvalidInputError, match="one word"):
        list(find_occurrences(texts, ["river bank"]))


def test_sentence_around_an_offset() -> None:
    text = "First one. The bank is here! Last."
    assert sentence_around(text, 15, 19) == "The bank is here!"


def test_collect_occurrences_embeds_each_use_through_the_spine(bert_embedder: Embedder) -> None:
    texts = ["we sat on the bank", "nothing here", "the bank said no. the bank again"]
    occ = collect_occurrences(bert_embedder, iter(texts), ["bank"], layers=-1, labels=["a", "b", "c"])
    assert occ.text_index.tolist() == [0, 2, 2]
    assert occ.labels == ["a", "c", "c"]
    assert occ.sentence[2] == "the bank again"
    ref = bert_embedder.embed_spans([(texts[2], 22, 26)], layers=-1).vectors[0]
    np.testing.assert_allclose(occ.vectors[2], ref, atol=1e-5)
    with pytest.raises(InvalidInputError, match="none of"):
        collect_occurrences(bert_embedder, texts, ["zebra"])


def test_labeler_from_example_sentences(bert_embedder: Embedder) -> None:
    examples = BANK_EXAMPLES
    labeler = SenseLabeler().fit_examples(bert_embedder, examples)
    assert labeler.senses == ["money", "river"]
    vecs = bert_embedder.embed_spans([(t, s, e) for t, s, e, _ in examples]).vectors
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    money = unit[2:].mean(axis=0)
    np.testing.assert_allclose(labeler.centroids[0], money / np.linalg.norm(money), atol=1e-5)
    new = [("a loan from the bank", 16, 20), ("the river bank", 10, 14)]
    new_vecs = bert_embedder.embed_spans(new).vectors
    assert labeler.label_spans(bert_embedder, new) == labeler.predict(new_vecs)
