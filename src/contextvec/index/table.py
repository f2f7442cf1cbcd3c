"""The LanceDB side of an index: one table per level, built from the Parquet shards (the source of truth).

Tables are (re)created from the shards as Arrow record batches, so they can always be rebuilt. A table with at
least `ANN_MIN_ROWS` rows gets an IVF_PQ vector index (cosine); below that a flat scan is as fast (measured in
benchmarks/index.py, see docs/index.md) and exact. Word tables also get a scalar index on `word_norm`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contextvec.extras import require_extra

if TYPE_CHECKING:
    from contextvec.index.manifest import Manifest

LANCE_DIR = "lance"
ANN_MIN_ROWS = 50_000  # below this, exact search: flat p50 stays under ~50 ms and no index build (docs/index.md)
# The IVF k-means sample, capped: LanceDB's default (256 vectors a partition, ~sqrt(N) partitions) grows with the
# corpus (431 MB of float32 at Brown's 1.2M rows) and was the peak of the build's memory. Capped, and with 4-bit
# PQ codes (LanceDB trains their codebooks on 256 * 2**PQ_BITS vectors: 4,096 instead of 65,536), the index build
# took 14 s instead of 104 s at 250k rows with recall@10 0.998 (benchmarks/index_sample.py, docs/index.md).
TRAIN_VECTORS = 32_768
MIN_SAMPLE_RATE = 32  # never fewer training vectors a partition than this (above ~1M rows the sample grows again)
PQ_BITS = 4  # 96 sub-vectors of 4 dims for minilm: 48 bytes a row, the same code size as 8 bits x 48
# LanceDB's shuffle (rows -> partitions) holds up to LANCE_SHUFFLE_BATCH_BYTES (128 MiB by its own count) before
# it spills to disk, and grows with N; 8 MiB took 69 MiB off its peak at 800k rows, though the step still grows
# (benchmarks/index_table_memory.py, docs/index.md). LanceDB 0.40 reads it only from the environment (no parameter),
# and a library must not write the environment, so only the CLI sets it (`cli/index.py`); a user's own value wins.
SHUFFLE_BATCH_BYTES = 8 * 2**20
SCAN = {"batch_size": 8192, "batch_readahead": 1, "fragment_readahead": 1}  # a shard is read a few pages at a time


def lancedb_module() -> Any:
    require_extra("index", "a corpus index")
    import lancedb

    return lancedb


def connect(folder: Path) -> Any:
    return lancedb_module().connect(str(folder / LANCE_DIR))


def build_tables(folder: Path, manifest: Manifest, ann_min_rows: int = ANN_MIN_ROWS) -> dict[str, Any]:
    """(Re)create the `word` / `sentence` tables from the manifest's shards; returns {level: {rows, index}}."""
    from contextvec.pipeline.memory import trimmed_heaps

    with trimmed_heaps():  # LanceDB's threads: their freed memory is handed back, not kept in a dozen heaps
        return _build_tables(folder, manifest, ann_min_rows)


def _build_tables(folder: Path, manifest: Manifest, ann_min_rows: int) -> dict[str, Any]:
    import pyarrow.dataset as pads

    files = [str(folder / s.file) for s in manifest.shards if s.file is not None]
    db = connect(folder)
    info: dict[str, Any] = {}
    both = manifest.spec["level"] == "both"
    levels = ["word", "sentence"] if both else [manifest.spec["level"]]
    existing = set(db.list_tables().tables)
    for level in levels:
        table = None
        mode = "overwrite" if level in existing else "create"  # "overwrite" of nothing makes Lance log a warning
        for f in files:  # shard by shard: LanceDB buffers what one call writes, so memory stays one shard's
            only = pads.field("level") == level if both else None  # one level: every row is of it
            scanner = pads.dataset(f, format="parquet").scanner(filter=only, **SCAN)
            reader = scanner.to_reader()  # shards of older versions declare every column nullable: LanceDB takes both
            if table is None:
                table = db.create_table(level, data=reader, mode=mode)
            else:
                table.add(reader)
        if table is None:
            continue
        _release_arrow_memory()  # the shards' decoded pages, kept by Arrow's pool, are not needed any more
        rows = int(table.count_rows())
        index = "flat"
        if rows >= ann_min_rows:
            index = _vector_index(table, rows, manifest.dim)
        if level == "word" and rows > 0:
            from lancedb.index import BTree

            table.create_index("word_norm", config=BTree(), replace=True)
        info[level] = {"rows": rows, "index": index}
    return info


def _release_arrow_memory() -> None:
    import pyarrow as pa

    from contextvec.pipeline.memory import release_free_memory

    pa.default_memory_pool().release_unused()
    release_free_memory()


def ivf_pq_params(rows: int, dim: int) -> dict[str, int]:
    """IVF_PQ settings for `rows` vectors of size `dim`: ~sqrt(N) partitions, a k-means sample capped at
    TRAIN_VECTORS (at least MIN_SAMPLE_RATE a partition), PQ_BITS-bit codes of 8-dim (4-dim at 4 bits) sub-vectors."""
    partitions = max(1, int(math.sqrt(rows)))
    sub_dim = 8 if PQ_BITS == 8 else 4  # 4-bit codes: twice the sub-vectors, the same code size
    sub_vectors = dim // sub_dim if dim % sub_dim == 0 else dim // 4 if dim % 4 == 0 else 1
    sample_rate = max(MIN_SAMPLE_RATE, min(256, TRAIN_VECTORS // partitions))
    return {
        "num_partitions": partitions,
        "num_sub_vectors": sub_vectors,
        "num_bits": PQ_BITS,
        "sample_rate": sample_rate,
    }


def _vector_index(table: Any, rows: int, dim: int) -> str:
    """Build the IVF_PQ index (search refines PQ distances on the exact vectors); returns its description."""
    from lancedb.index import IvfPq

    p = ivf_pq_params(rows, dim)
    config = IvfPq(
        distance_type="cosine",
        num_partitions=p["num_partitions"],
        num_sub_vectors=p["num_sub_vectors"],
        num_bits=p["num_bits"],
        sample_rate=p["sample_rate"],
    )
    table.create_index("vector", config=config, replace=True)
    bits = "" if p["num_bits"] == 8 else f" bits={p['num_bits']}"
    sample = p["sample_rate"] * p["num_partitions"]
    return f"IVF_PQ partitions={p['num_partitions']} sub_vectors={p['num_sub_vectors']}{bits} sample={sample}"
