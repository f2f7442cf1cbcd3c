"""Trust nothing loaded (issue 26): every file contextvec reads back is checked, read without running pickled
code, and a malformed one is an error naming the file — never a silent default. (Training checkpoints:
test_train.py and test_training_trust.py; the recipe file belongs to models/recipes.py's tests.)"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contextvec import Embedder
from contextvec.analysis.correction import fit_correction
from contextvec.correction import Correction
from contextvec.errors import IndexStateError, InputFileError, InvalidInputError
from contextvec.finetune import FinetuneConfig, finetune
from contextvec.finetune.folder import HEAD_FILE, META_FILE, load_folder
from contextvec.index.manifest import MANIFEST, Manifest, ShardInfo
from contextvec.static.corpus import CorpusWords
from contextvec.static.formats import NGRAMS, NGRAMS_META, load_vectors, save_ngrams, save_vectors
from contextvec.static.train import train_word2vec

# --- static vectors: fastText n-grams ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fasttext_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    texts = ["the bank gave a loan to the farmer", "the river bank was wet with rain", "a loan from a bank"] * 20
    vectors, model = train_word2vec(
        CorpusWords(texts), algorithm="fasttext", vector_size=8, min_count=1, epochs=2, workers=1
    )
    folder = tmp_path_factory.mktemp("ft") / "vectors"
    save_vectors(vectors, folder, "npy")
    save_ngrams(folder, model.wv)
    return folder, model.wv


def test_fasttext_unseen_words_match_gensim_without_a_pickle(fasttext_folder: tuple[Path, Any]) -> None:
    folder, wv = fasttext_folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["vectors.npy", "vocab.txt", "LOWERCASE", NGRAMS, NGRAMS_META]
    )
    loaded = load_vectors(folder)
    for word in ["loans", "banking", "rivers", "zzz"]:  # unseen: the n-gram rule, checked against gensim's own
        got = loaded.lookup(word)
        assert got is not None, word
        np.testing.assert_allclose(got, wv.get_vector(word), rtol=1e-5, atol=1e-6)


def _copy(folder: Path, to: Path) -> Path:
    to.mkdir()
    for f in folder.iterdir():
        (to / f.name).write_bytes(f.read_bytes())
    return to


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("gensim_kv", r"gensim\.kv is a pickle .* could run code"),
        ("meta_not_json", r"ngrams\.npy / ngrams\.json are unreadable"),
        ("meta_bad_values", r"ngrams\.json: min_n, max_n and bucket must be integers >= 1"),
        ("wrong_bucket_count", r"ngrams\.npy: shape .* says 7 buckets"),
        ("pickled_array", r"ngrams\.npy / ngrams\.json are unreadable"),
    ],
)
def test_damaged_fasttext_folders_are_refused_naming_the_file(
    fasttext_folder: tuple[Path, Any], tmp_path: Path, damage: str, match: str
) -> None:
    folder = _copy(fasttext_folder[0], tmp_path / "v")
    meta = json.loads((folder / NGRAMS_META).read_text())
    if damage == "gensim_kv":  # what 0.2.0 wrote: a pickle, and no n-gram arrays
        (folder / NGRAMS).unlink()
        (folder / "gensim.kv").write_bytes(pickle.dumps({"not": "read"}))
    elif damage == "meta_not_json":
        (folder / NGRAMS_META).write_text("{min_n: 3")
    elif damage == "meta_bad_values":
        (folder / NGRAMS_META).write_text(json.dumps({**meta, "min_n": "3"}))
    elif damage == "wrong_bucket_count":
        (folder / NGRAMS_META).write_text(json.dumps({**meta, "bucket": 7}))
    else:
        np.save(folder / NGRAMS, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputFileError, match=match):
        load_vectors(folder)


# --- fine-tuned folders ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory, model_dir: str) -> Path:
    root = tmp_path_factory.mktemp("tuned")
    data = root / "toy.csv"
    rows = ["the river bank,river", "water by the river,river", "a loan from the bank,money", "my bank account,money"]
    data.write_text("text,label\n" + "\n".join(rows * 2) + "\n", encoding="utf-8")
    finetune("classify", data, out=root / "out", model=model_dir, config=FinetuneConfig(epochs=1))
    return root / "out"


@pytest.mark.parametrize(
    ("file", "edit", "match"),
    [
        (META_FILE, lambda m: [m], r"finetune\.json is malformed: a JSON list"),
        (META_FILE, lambda m: {**m, "task": "regress"}, r"finetune\.json is malformed: task 'regress'"),
        (META_FILE, lambda m: {**m, "labels": ["x"]}, r"finetune\.json is malformed: labels must be a list of two"),
        (META_FILE, lambda m: {**m, "labels": ["a", "b", "c"]}, r"head\.safetensors does not hold this folder's"),
        (META_FILE, lambda m: {**m, "n_states": "9"}, r"n_states must be null or an integer"),
        (HEAD_FILE, None, r"head\.safetensors does not hold this folder's classify head"),
    ],
)
def test_damaged_fine_tuned_folders_are_refused_naming_the_file(
    tuned: Path, tmp_path: Path, file: str, edit: Any, match: str
) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(tuned, folder)
    if edit is None:
        data = (folder / file).read_bytes()
        (folder / file).write_bytes(data[: len(data) // 2])  # cut short
    else:
        meta = json.loads((folder / file).read_text())
        (folder / file).write_text(json.dumps(edit(meta)))
    with pytest.raises(InputFileError, match=match):
        load_folder(folder)


# --- index manifests ----------------------------------------------------------------------------------------------


def _manifest(folder: Path) -> dict[str, Any]:
    m = Manifest(spec={"level": "word"}, input={"source": "c.txt"}, shard_rows=10, version="0.2.0", dim=4)
    m.shards = [ShardInfo(0, "shards/0.parquet", 0, 3, 10, "ab" * 32, 100)]
    m.save(folder)
    return json.loads((folder / MANIFEST).read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda r: {**r, "dim": "4"}, r"dim is '4'"),
        (lambda r: {**r, "complete": 1}, r"complete is 1"),
        (lambda r: {**r, "format": 99}, r"format 99 is not 1"),
        (lambda r: {**r, "shards": [{**r["shards"][0], "rows": "10"}]}, r"shard 0: rows is '10'"),
        (lambda r: {**r, "shards": [{**r["shards"][0], "extra": 1}]}, r"does not have exactly"),
        (lambda r: {**r, "shards": [{**r["shards"][0], "file": "../../etc/passwd"}]}, r"outside the index folder"),
        (lambda r: [r], r"a JSON list"),
    ],
)
def test_malformed_index_manifests_are_refused(tmp_path: Path, edit: Any, match: str) -> None:
    raw = _manifest(tmp_path)
    assert Manifest.load(tmp_path).dim == 4  # the genuine one loads
    (tmp_path / MANIFEST).write_text(json.dumps(edit(raw)))
    with pytest.raises(IndexStateError, match=rf"manifest.json is damaged \(.*{match}"):
        Manifest.load(tmp_path)


# --- anisotropy corrections ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "arrays", "match"),
    [
        ({"kind": "rotate"}, {}, r"kind 'rotate'"),
        ({}, {"means": np.ones(4, dtype=np.float32)}, r"means of shape \(4,\)"),
        ({}, {"means": np.full((2, 4), np.nan, dtype=np.float32)}, r"must be \(L\+1, D\) and finite"),
        ({"kind": "whiten"}, {}, r"a whiten correction without a whitening matrix"),
    ],
)
def test_malformed_correction_files_are_refused(
    tmp_path: Path, meta: dict[str, Any], arrays: dict[str, Any], match: str
) -> None:
    good = {"model_id": "m", "kind": "center", "fitted_on": "x", "selection": None}
    path = tmp_path / "c.npz"
    with path.open("wb") as fh:
        np.savez(fh, meta=np.asarray(json.dumps({**good, **meta})), **{"means": np.zeros((2, 4), np.float32), **arrays})
    with pytest.raises(InputFileError, match=rf"c\.npz is not a contextvec correction file \(.*{match}"):
        Correction.load(path)


def test_whitening_refuses_dimensions_the_corpus_does_not_span(bert_embedder: Embedder) -> None:
    """All-identical texts: a handful of distinct token vectors cannot be whitened in every dimension (the rest
    would be noise times 1e4); centering them is fine."""
    same = ["the river bank"] * 6
    with pytest.raises(InvalidInputError, match=r"span only \d+; .* dims=\d+ or less"):
        fit_correction(bert_embedder, same, kind="whiten", layers=-1)
    assert fit_correction(bert_embedder, same, kind="center").means.shape[0] == bert_embedder.num_states


def test_loaded_files_are_never_unpickled() -> None:
    """No loader of contextvec's own files calls pickle or torch.load without weights_only (source check)."""
    import re

    import contextvec

    root = Path(contextvec.__file__).parent
    bad = []
    for py in root.rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        for m in re.finditer(r"pickle\.loads?\(|torch\.load\(|allow_pickle=True|KeyedVectors\.load\(", text):
            call = text[m.start() : text.find("\n", m.start())]  # the rest of the line
            if "weights_only=True" not in call:
                bad.append(f"{py.relative_to(root)}: {call[:80]}")
    assert bad == []
