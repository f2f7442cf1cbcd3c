"""What a shard's vector column costs to write and read, by how it is declared (no model, synthetic vectors).

The index stores each row's vector as a fixed-size list of float32 in Parquet. Parquet has no fixed-size list, so
Arrow writes it as a list with repetition levels, and per-value null bookkeeping unless the column and its items
are declared non-null. This measures CPU time of writing and reading N x D vectors declared nullable (contextvec
before) and non-null (contextvec.index.shards.shard_schema now), with the shard's options for that column (plain,
no statistics). Median of --runs.

    python benchmarks/index_shard_io.py --rows 45561 --dim 384 --runs 7

Writes benchmarks/results/index-shard_io.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from harness import heavy_lock, rounds, write_result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=45_561)  # the throughput part's corpus: 2,000 Brown sentences
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    vectors = np.random.default_rng(0).random((args.rows, args.dim), dtype=np.float32)  # (N, D)
    flat = pa.array(vectors.reshape(-1))  # (N * D,)
    options = {"compression": "none", "use_dictionary": False, "write_statistics": False}
    kinds = {
        "nullable": pa.list_(pa.float32(), args.dim),
        "non_null": pa.list_(pa.field("item", pa.float32(), nullable=False), args.dim),
    }
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, heavy_lock():
        for name, kind in kinds.items():
            column = pa.FixedSizeListArray.from_arrays(flat, type=kind)
            table = pa.Table.from_arrays(
                [column], schema=pa.schema([pa.field("vector", kind, nullable=name == "nullable")])
            )
            path = str(Path(tmp) / f"{name}.parquet")
            t = rounds(
                {"write": lambda: pq.write_table(table, path, **options), "read": lambda: pq.read_table(path)},  # noqa: B023
                args.runs,
                warmup=0,
                rotate=False,
            )
            out[name] = {
                k: {"cpu_s": statistics.median(t.cpu[k]), "wall_s": statistics.median(t.wall[k])} for k in t.wall
            }
            print(name, out[name], flush=True)
    write_result(
        "index-shard_io.json", {"part": "shard_io", "rows": args.rows, "dim": args.dim, "runs": args.runs, **out}
    )


if __name__ == "__main__":
    main()
