"""One index build in a fresh process for `benchmarks/index.py --part memory`: prints its peak memory per phase.

python benchmarks/index_memory_child.py CORPUS OUT_FOLDER MODEL SHARD_ROWS ANN_MIN_ROWS
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from harness import Sampler, peak_rss_mib

import contextvec.index.table as table
from contextvec.index import build_index


def main() -> None:
    corpus, out, model, shard_rows, ann_min_rows = sys.argv[1:6]
    sampler, before = Sampler("embed"), {}
    real_tables, real_index = table.build_tables, table._vector_index

    def tables(folder: Any, manifest: Any, ann_min_rows_: int = table.ANN_MIN_ROWS) -> Any:
        before["table"] = peak_rss_mib()
        sampler.enter("table")
        return real_tables(folder, manifest, ann_min_rows=int(ann_min_rows))

    def vector_index(*a: Any, **k: Any) -> Any:
        sampler.enter("vector_index")
        try:
            return real_index(*a, **k)
        finally:
            sampler.enter("after_vector_index")

    table.build_tables, table._vector_index = tables, vector_index
    sampler.start()
    t0 = time.perf_counter()
    m = build_index(corpus, out, model=model, shard_rows=int(shard_rows), batch_docs=64)
    seconds, peak = time.perf_counter() - t0, peak_rss_mib()
    time.sleep(0.05)
    sampler.stop()
    result = {
        "rows": m.rows,
        "seconds": seconds,
        "peak_rss_mib_before_table": before["table"],
        "peak_rss_mib": peak,
        "shards": len(m.shards),
        "vector_index": m.table["word"]["index"],
        "phase_peaks_mib": sampler.peaks,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
