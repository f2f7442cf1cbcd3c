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
# IVF k-means trains on num_partitions * sample_rate vectors (LanceDB's default rate: 256). Capped so that the
# training sample, and so the memory and time of the index build, stop growing with the corpus (docs/index.md).
ANN_TRAIN_VECTORS = 65_536


def lancedb_module() -> Any:
    require_extra("index", "a corpus index")
    import lancedb

    return lancedb


def connect(folder: Path) -> Any:
    return lancedb_module().connect(str(folder / LANCE_DIR))


def build_tables(folder: Path, manifest: Manifest, ann_min_rows: int = ANN_MIN_ROWS) -> dict[str, Any]:
    """(Re)create the `word` / `sentence` tables from the manifest's shards; returns {level: {rows, index}}."""
    import pyarrow.dataset as pads

    files = [str(folder / s.file) for s in manifest.shards if s.file is not None]
    db = connect(folder)
    info: dict[str, Any] = {}
    levels = ["word", "sentence"] if manifest.spec["level"] == "both" else [manifest.spec["level"]]
    existing = set(db.list_tables().tables)
    for level in levels:
        table = None
        mode = "overwrite" if level in existing else "create"  # "overwrite" of nothing makes Lance log a warning
        for f in files:  # shard by shard: LanceDB buffers what one call writes, so memory stays one shard's
            reader = pads.dataset(f, format="parquet").scanner(filter=pads.field("level") == level).to_reader()
            if table is None:
                table = db.create_table(level, data=reader, mode=mode)
            else:
                table.add(reader)
        if table is None:
            continue
        rows = int(table.count_rows())
        index = "flat"
        if rows >= ann_min_rows:
            index = _vector_index(table, rows, manifest.dim)
        if level == "word" and rows > 0:
            from lancedb.index import BTree

            table.create_index("word_norm", config=BTree(), replace=True)
        info[level] = {"rows": rows, "index": index}
    return info


def _vector_index(table: Any, rows: int, dim: int) -> str:
    """IVF_PQ with ~sqrt(N) partitions and 8-dim sub-vectors (search refines PQ distances on exact vectors)."""
    from lancedb.index import IvfPq

    partitions = max(1, int(math.sqrt(rows)))
    sub_vectors = dim // 8 if dim % 8 == 0 else dim // 4 if dim % 4 == 0 else 1
    sample_rate = max(32, min(256, ANN_TRAIN_VECTORS // partitions))  # training vectors per partition
    config = IvfPq(
        distance_type="cosine", num_partitions=partitions, num_sub_vectors=sub_vectors, sample_rate=sample_rate
    )
    table.create_index("vector", config=config, replace=True)
    return f"IVF_PQ partitions={partitions} sub_vectors={sub_vectors} sample_rate={sample_rate}"
