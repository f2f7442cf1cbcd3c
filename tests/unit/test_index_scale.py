"""What keeps a long index build flat: the heap is handed back after each batch, the IVF sample is bounded."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pytest
from tiny_models import CORPUS

from contextvec import Embedder
from contextvec.index import Index, build_index
from contextvec.index.manifest import Manifest
from contextvec.index.table import build_tables
from contextvec.pipeline import embed_batch, memory

pytest.importorskip("lancedb")

DOCS = [f"{line} Line {i} of {n}." for n in range(6) for i, line in enumerate(CORPUS)]  # ~2,000 words


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_free_memory_is_handed_back_on_glibc() -> None:
    assert memory.release_free_memory() is True


def test_each_batch_hands_its_memory_back(
    tmp_path: Path, bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.setattr(embed_batch, "release_free_memory", lambda: calls.append(1) or True)
    src = tmp_path / "c.txt"
    src.write_text("\n".join(DOCS[:20]) + "\n", encoding="utf-8")
    build_index(src, tmp_path / "idx", model="tiny-bert", embedder=bert_embedder, batch_docs=4, shard_rows=10**6)
    assert len(calls) == 5  # 20 documents, 4 per batch


def test_ivf_index_trains_on_a_bounded_sample_and_finds_the_row(
    tmp_path: Path, bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "c.txt"
    src.write_text("\n".join(DOCS) + "\n", encoding="utf-8")
    folder = tmp_path / "idx"
    m = build_index(src, folder, model="tiny-bert", embedder=bert_embedder, shard_rows=500)
    assert m.table["word"]["index"] == "flat" and m.rows > 1500
    monkeypatch.setattr("contextvec.index.table.ANN_TRAIN_VECTORS", 40 * 32)  # 40 partitions -> 32 per partition
    info = build_tables(folder, Manifest.load(folder), ann_min_rows=1000)
    partitions = int(np.sqrt(m.rows))
    assert info["word"]["index"].startswith(f"IVF_PQ partitions={partitions} ")
    assert info["word"]["index"].endswith(f"sample_rate={max(32, 40 * 32 // partitions)}")
    m.table = info
    m.save(folder)
    idx = Index.open(folder, embedder=bert_embedder)
    words = bert_embedder.embed_words([DOCS[7]])
    for i in (0, 3, 9):
        hits = idx.search_vector(words.vectors[i], k=3)
        assert hits[0].score > 0.999 and (hits[0].start, hits[0].end) == (words.start[i], words.end[i])
