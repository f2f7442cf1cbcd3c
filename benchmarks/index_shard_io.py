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
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from index import RESULTS, machine  # noqa: E402


def cpu_s(fn: Callable[[], object], runs: int) -> dict[str, float]:
    cpu, wall = [], []
    for _ in range(runs):
        c0, t0 = os.times(), time.perf_counter()
        fn()
        c1 = os.times()
        wall.append(time.perf_counter() - t0)
        cpu.append(c1.user + c1.system - c0.user - c0.system)
    return {"cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall)}


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
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind in kinds.items():
            column = pa.FixedSizeListArray.from_arrays(flat, type=kind)
            table = pa.Table.from_arrays(
                [column], schema=pa.schema([pa.field("vector", kind, nullable=name == "nullable")])
            )
            path = str(Path(tmp) / f"{name}.parquet")
            out[name] = {
                "write": cpu_s(lambda: pq.write_table(table, path, **options), args.runs),  # noqa: B023
                "read": cpu_s(lambda: pq.read_table(path), args.runs),  # noqa: B023
            }
            print(name, out[name], flush=True)
    result = {"part": "shard_io", "machine": machine(), "rows": args.rows, "dim": args.dim, "runs": args.runs, **out}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "index-shard_io.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
