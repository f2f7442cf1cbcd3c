"""What keeps a long index build flat (the heap is handed back after each batch), and the IVF_PQ path."""

from __future__ import annotations

import contextlib
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tiny_models import CORPUS

import contextvec.index.build as build_mod
from contextvec import Embedder
from contextvec.index import Index, build_index, table
from contextvec.index.manifest import Manifest
from contextvec.index.table import build_tables
from contextvec.pipeline import memory

pytest.importorskip("lancedb")

DOCS = [f"{line} Line {i} of {n}." for n in range(6) for i, line in enumerate(CORPUS)]  # ~2,000 words


def _rss() -> int:
    """This process's resident bytes, read here from /proc/self/status (not through contextvec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))


@contextlib.contextmanager
def _freed_but_resident(mib: int) -> Iterator[None]:
    """`mib` MiB of 1 KiB malloc blocks (below the mmap threshold: on the heap), written, then freed, with one block
    kept above them so free() cannot shrink the heap's top itself: the pages stay resident until a trim."""
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    blocks = [libc.malloc(1024) for _ in range(mib * 1024)]
    for b in blocks:
        libc.memset(b, 1, 1024)
    pin = libc.malloc(1024)
    libc.memset(pin, 1, 1024)
    for b in blocks:
        libc.free(b)
    try:
        yield
    finally:
        libc.free(pin)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="malloc_trim and /proc are glibc/Linux"
)
def test_free_memory_is_handed_back_on_glibc() -> None:
    """release_free_memory really returns freed heap pages: 64 MiB freed stays resident until it is called."""
    with _freed_but_resident(64):
        held = _rss()
        assert memory.release_free_memory() is True
        assert held - _rss() > 48 * 2**20


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="malloc_trim and /proc are glibc/Linux"
)
def test_heap_allowance_hands_back_what_grew_past_it() -> None:
    """The real thing, nothing patched: within the allowance the freed pages stay; past it they go back."""
    heap = memory.HeapAllowance(allowance_mib=32)
    assert heap.after_batch() is False and heap.base is not None  # the first batch sets the base
    with _freed_but_resident(8):
        assert heap.after_batch() is False  # 8 MiB more: within the allowance, nothing is trimmed
    with _freed_but_resident(96):
        held = _rss()
        assert held > heap.base + 32 * 2**20 and heap.after_batch() is True and heap.trims == 1
        assert held - _rss() > 64 * 2**20


def test_each_batch_reports_its_memory_freed(
    tmp_path: Path, bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.setattr(memory.HeapAllowance, "after_batch", lambda self: calls.append(1) or False)
    src = tmp_path / "c.txt"
    src.write_text("\n".join(DOCS[:20]) + "\n", encoding="utf-8")
    build_index(src, tmp_path / "idx", model="tiny-bert", embedder=bert_embedder, batch_docs=4, shard_rows=10**6)
    assert len(calls) == 5  # 20 documents, 4 per batch


def test_heap_allowance_trims_only_past_its_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes, trims = iter([500, 530, 564, 565, 520, 700]), []
    monkeypatch.setattr(memory, "resident_bytes", lambda: next(sizes) * 2**20)
    monkeypatch.setattr(memory, "release_free_memory", lambda: trims.append(1) or True)
    heap = memory.HeapAllowance(allowance_mib=64)
    got = [heap.after_batch() for _ in range(6)]
    assert got == [False, False, False, True, False, True]  # 500 is the base; 565 > 500 + 64
    assert heap.base == 500 * 2**20 and heap.trims == len(trims) == 2


def test_heap_allowance_trims_every_batch_where_size_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    trims = []
    monkeypatch.setattr(memory, "resident_bytes", lambda: None)
    monkeypatch.setattr(memory, "release_free_memory", lambda: trims.append(1) or True)
    heap = memory.HeapAllowance()
    assert [heap.after_batch() for _ in range(3)] == [True, True, True] and len(trims) == 3


def test_resident_bytes_reads_this_process() -> None:
    got = memory.resident_bytes()
    if platform.system() == "Linux":
        assert got is not None and 10 * 2**20 < got < 64 * 2**30
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
        after = memory.resident_bytes()
        assert after is not None and after - got > 48 * 2**20
        del block


def test_ivf_index_is_built_past_the_threshold_and_finds_the_row(tmp_path: Path, bert_embedder: Embedder) -> None:
    src = tmp_path / "c.txt"
    src.write_text("\n".join(DOCS) + "\n", encoding="utf-8")
    folder = tmp_path / "idx"
    m = build_index(src, folder, model="tiny-bert", embedder=bert_embedder, shard_rows=500)
    assert m.table["word"]["index"] == "flat" and m.rows > 1500
    info = build_tables(folder, Manifest.load(folder), ann_min_rows=1000)
    partitions = int(np.sqrt(m.rows))
    expected = f"IVF_PQ partitions={partitions} sub_vectors={bert_embedder.dim // 4} bits=4 sample={256 * partitions}"
    assert info["word"]["index"] == expected
    m.table = info
    m.save(folder)
    idx = Index.open(folder, embedder=bert_embedder)
    words = bert_embedder.embed_words([DOCS[7]])
    for i in (0, 3, 9):
        hits = idx.search_vector(words.vectors[i], k=3)
        assert hits[0].score > 0.999 and (hits[0].start, hits[0].end) == (words.start[i], words.end[i])


def test_ivf_training_sample_stops_growing_with_the_corpus() -> None:
    """LanceDB's default sample is 256 vectors a partition (~sqrt(N) partitions): 281k vectors at Brown's 1.2M
    rows. contextvec caps it, so the k-means training data, the part of the index build that grew with N, is
    the same size from ~33k rows up to the point where MIN_SAMPLE_RATE takes over (~1M rows)."""
    small = table.ivf_pq_params(10_000, 384)
    assert small["num_partitions"] == 100 and small["sample_rate"] == 256  # below the cap: LanceDB's default
    for rows in (143_523, 400_000, 1_000_000):
        p = table.ivf_pq_params(rows, 384)
        assert p["num_partitions"] == int(np.sqrt(rows))
        sample = p["sample_rate"] * p["num_partitions"]
        assert table.TRAIN_VECTORS - p["num_partitions"] < sample <= table.TRAIN_VECTORS
        assert p["sample_rate"] >= table.MIN_SAMPLE_RATE
    brown = table.ivf_pq_params(1_206_336, 384)  # 1,098 partitions: the floor of 32 a partition holds
    assert brown["sample_rate"] == table.MIN_SAMPLE_RATE and brown["num_sub_vectors"] == 96


def test_the_cli_scopes_the_shuffle_setting_and_a_users_own_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    from contextvec.cli.index import _memory_tuned

    name = "LANCE_SHUFFLE_BATCH_BYTES"
    monkeypatch.delenv(name, raising=False)
    with _memory_tuned():
        assert os.environ[name] == str(table.SHUFFLE_BATCH_BYTES)
    assert name not in os.environ
    monkeypatch.setenv(name, "1234")
    with _memory_tuned():
        assert os.environ[name] == "1234"
    assert os.environ[name] == "1234"


class _FakeLibc:
    """Records what `trimmed_heaps` and `capped_arenas` ask of glibc."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.trimmed = threading.Event()

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("trim", pad, 0))
        self.trimmed.set()
        return 1


def test_trimmed_heaps_trims_while_it_runs_and_stops_with_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeLibc()
    monkeypatch.setattr(memory, "_libc", lambda: fake)
    with pytest.raises(RuntimeError), memory.trimmed_heaps(every_s=0.001):
        assert fake.trimmed.wait(10)  # the trimming thread runs while the block does
        raise RuntimeError("the block failed")
    assert fake.calls[-1] == ("trim", 0, 0)
    assert not any(c[0] == "mallopt" for c in fake.calls)  # no allocator setting is changed
    assert not any(t.name == "contextvec-trim" for t in threading.enumerate())
    n = len(fake.calls)
    time.sleep(0.02)
    assert len(fake.calls) == n  # nothing trims after the block


def test_capped_arenas_restores_and_leaves_a_users_setting_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeLibc()
    monkeypatch.setattr(memory, "_libc", lambda: fake)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    with pytest.raises(RuntimeError), memory.capped_arenas(arenas=3):
        assert fake.calls == [("mallopt", memory.M_ARENA_MAX, 3)]
        raise RuntimeError("the block failed")
    default = 8 * len(os.sched_getaffinity(0))  # glibc's own limit: 8 arenas a CPU
    assert fake.calls[-1] == ("mallopt", memory.M_ARENA_MAX, default)  # restored even so
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    n = len(fake.calls)
    with memory.capped_arenas():
        pass
    assert len(fake.calls) == n


def test_a_cap_inside_a_running_one_adds_nothing_and_the_last_out_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeLibc()
    monkeypatch.setattr(memory, "_libc", lambda: fake)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    with memory.capped_arenas():
        with memory.capped_arenas(arenas=5):
            pass
        assert ("mallopt", memory.M_ARENA_MAX, 5) not in fake.calls  # the inner block does not re-cap
        assert [c for c in fake.calls if c[0] == "mallopt"] == [("mallopt", memory.M_ARENA_MAX, 2)]  # nor restore
    default = 8 * len(os.sched_getaffinity(0))
    assert fake.calls[-1] == ("mallopt", memory.M_ARENA_MAX, default)  # the outer block's end restores
    with memory.capped_arenas(arenas=3):  # back to none running: a new block caps again
        assert fake.calls[-1] == ("mallopt", memory.M_ARENA_MAX, 3)


def test_the_index_build_trims_while_lancedb_runs_and_caps_no_arenas(
    tmp_path: Path, bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def spy(label: str, real: Callable[..., Any]) -> Callable[..., Any]:
        @contextlib.contextmanager
        def block(*a: object, **k: object) -> Iterator[None]:
            seen.append(f"{label} enter")
            with real(*a, **k):
                yield
            seen.append(f"{label} exit")

        return block

    fake = _FakeLibc()
    monkeypatch.setattr(memory, "_libc", lambda: fake)
    real_embed = build_mod._embed
    monkeypatch.setattr(memory, "trimmed_heaps", spy("tables", memory.trimmed_heaps))
    monkeypatch.setattr(build_mod, "_embed", lambda *a: seen.append("embed") or real_embed(*a))
    monkeypatch.setattr(table, "_build_tables", lambda *a: seen.append("tables") or {})
    src = tmp_path / "c.txt"
    src.write_text("\n".join(DOCS[:8]) + "\n", encoding="utf-8")
    build_index(src, tmp_path / "idx", model="tiny-bert", embedder=bert_embedder)
    assert seen == ["embed", "tables enter", "tables", "tables exit"]
    assert not any(c[0] == "mallopt" for c in fake.calls)  # arenas are the CLI's call (cli/index.py)
