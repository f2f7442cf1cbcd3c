"""IVF_PQ recipes on one real table: build time, ANN recall@10 against exact search, and search latency.

The table is built once from the first K Parquet shards of an existing index (so nothing is embedded), then each
recipe builds its vector index through contextvec's own code (index/table.py, knobs patched) and answers the same
queries (rows of the table, sampled with a fixed seed). Peak memory is measured per recipe in fresh processes by
benchmarks/index_table_memory.py, not here.

    nice python benchmarks/index_sample.py --source /tmp/contextvec-bench-index/idx --shards 3 \\
        --recipes "lancedb-default=TRAIN_VECTORS=999999999,MIN_SAMPLE_RATE=256" "contextvec=" "4-bit=PQ_BITS=4"

Results: benchmarks/results/index-ivf_sample.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness import heavy_lock, latencies, percentiles, write_result


def knobs(spec: str) -> dict[str, int]:
    return {k: int(v) for k, _, v in (kv.partition("=") for kv in spec.split(",") if kv)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="an index folder whose shards are reused")
    ap.add_argument("--shards", type=int, default=3)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--recipes", nargs="+", default=["contextvec="], help="NAME=KNOB=V,KNOB=V (index/table.py)")
    args = ap.parse_args()
    import contextvec.index.table as lance_table
    from contextvec.index import Index
    from contextvec.index.manifest import Manifest

    manifest = Manifest.load(args.source)
    manifest.shards = manifest.shards[: args.shards]
    out: dict[str, Any] = {"source": str(args.source), "shards": args.shards, "variants": []}
    defaults = {k: getattr(lance_table, k) for k in ("TRAIN_VECTORS", "MIN_SAMPLE_RATE", "PQ_BITS")}
    with tempfile.TemporaryDirectory() as tmp, heavy_lock():
        folder = Path(tmp)
        (folder / "shards").symlink_to(args.source / "shards")
        manifest.table = lance_table.build_tables(folder, manifest, ann_min_rows=10**12)  # no vector index yet
        manifest.save(folder)
        idx = Index.open(folder)
        table = idx.table("word")
        rows = table.count_rows()
        picks = sorted(random.Random(0).sample(range(rows), args.queries))
        vectors = table.search().select(["vector"]).limit(rows).to_arrow()["vector"]
        queries = [np.asarray(vectors[i].as_py(), dtype=np.float32) for i in picks]
        del vectors
        flat, flat_ms = latencies(lambda q: idx.search_vector(q, k=10, exact=True), queries)
        exact = [{(h.seq, h.start) for h in hits} for hits in flat]
        out.update(rows=rows, queries=len(queries), exact_flat=percentiles(flat_ms))
        for recipe in args.recipes:
            name, _, spec = recipe.partition("=")
            for k, v in {**defaults, **knobs(spec)}.items():
                setattr(lance_table, k, v)
            t0 = time.perf_counter()
            built = lance_table._vector_index(table, rows, manifest.dim)
            build_s = time.perf_counter() - t0
            idx = Index.open(folder)  # a fresh handle: no cached index from the previous recipe
            idx.manifest.table["word"]["index"] = built
            got, ann_ms = latencies(lambda q, idx=idx: idx.search_vector(q, k=10, exact=False), queries)
            recall = statistics.mean(
                len({(h.seq, h.start) for h in g} & e) / len(e) for g, e in zip(got, exact, strict=True)
            )
            out["variants"].append(
                {"name": name, "knobs": knobs(spec), "index": built, "build_s": build_s, "recall_at_10": recall}
                | {"ann": percentiles(ann_ms)}
            )
            print(json.dumps(out["variants"][-1]), flush=True)
    write_result("index-ivf_sample.json", out)


if __name__ == "__main__":
    main()
