"""IVF_PQ on a real index, with LanceDB's default k-means sample and with contextvec's cap: build time, extra peak
memory and recall@10 against exact search, all on one table (benchmarks/results/index-ivf_sample.json).

    nice python benchmarks/index_sample.py --docs 6400      # first 6,400 Brown sentences, ~143k word rows
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from index import RESULTS, brown_docs, machine, write_txt  # noqa: E402


class PeakRss:
    """Peak resident memory (MiB) of this process while the block runs, sampled every 50 ms."""

    def __enter__(self) -> PeakRss:
        self.samples = [self.now()]
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    @staticmethod
    def now() -> float:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 2**20

    def run(self) -> None:
        while not self.stop:
            self.samples.append(self.now())
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self.stop = True
        self.thread.join()
        self.extra_mib = max(self.samples) - self.samples[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=6400)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    from lancedb.index import IvfPq

    import contextvec.index.table as lance_table
    from contextvec.index import Index, build_index
    from contextvec.index.table import ANN_TRAIN_VECTORS

    real = lance_table.build_tables  # the build's own vector index is skipped: both variants are built below
    lance_table.build_tables = lambda folder, manifest, ann_min_rows=0: real(folder, manifest, ann_min_rows=10**12)

    out: dict[str, Any] = {"machine": machine(), "docs": args.docs}
    with tempfile.TemporaryDirectory() as tmp:
        src = write_txt(brown_docs(args.docs), Path(tmp))
        m = build_index(src, Path(tmp) / "idx", model="minilm", shard_rows=20_000)
        idx = Index.open(Path(tmp) / "idx")
        table = idx.table("word")
        rows = table.count_rows()
        vectors = table.search().select(["vector"]).limit(rows).to_arrow()["vector"]
        picks = random.Random(0).sample(range(rows), args.queries)
        queries = [np.asarray(vectors[i].as_py(), dtype=np.float32) for i in picks]
        exact = [{(h.seq, h.start) for h in idx.search_vector(q, k=10, exact=True)} for q in queries]
        partitions = int(math.sqrt(rows))
        out.update(rows=rows, partitions=partitions, built_as=m.table["word"]["index"], variants=[])
        for name, rate in (
            ("lancedb default", 256),
            ("contextvec cap", max(32, min(256, ANN_TRAIN_VECTORS // partitions))),
        ):
            t0 = time.perf_counter()
            with PeakRss() as peak:
                config = IvfPq(distance_type="cosine", num_partitions=partitions, num_sub_vectors=48, sample_rate=rate)
                table.create_index("vector", config=config, replace=True)
            build_s = time.perf_counter() - t0
            got = [{(h.seq, h.start) for h in idx.search_vector(q, k=10, exact=False)} for q in queries]
            recall = statistics.mean(len(g & e) / len(e) for g, e in zip(got, exact, strict=True))
            out["variants"].append(
                {
                    "name": name,
                    "sample_rate": rate,
                    "training_vectors": rate * partitions,
                    "build_s": build_s,
                    "extra_peak_mib": peak.extra_mib,
                    "recall_at_10": recall,
                }
            )
            print(json.dumps(out["variants"][-1]), flush=True)
    (RESULTS / "index-ivf_sample.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
