"""The corpus index, measured: build throughput vs plain embed_words, peak memory vs corpus size, search latency
and ANN recall at Brown scale, the flat-vs-ANN threshold, and search-by-example precision@5 on WordNet.

    nice python benchmarks/index.py --part throughput --docs 1000 --runs 3
    nice python benchmarks/index.py --part memory --docs 400 --shard-rows 4000  # 1x, 4x, 16x, fresh processes
    nice python benchmarks/index.py --part memory --docs 1600 --shard-rows 4000 --ann-min-rows 20000 --tag ann
    nice python benchmarks/index.py --part brown --fraction 0.25       # 1.0 = the whole corpus
    nice python benchmarks/index.py --part wordnet --models minilm glove-50d --lemmas 800 --queries 1500

Each part writes benchmarks/results/index-<part>[_<tag>].json; `--part report` renders them into index.md. Corpora
are Brown sentences in corpus order (one document per sentence) and WordNet 3.0 usage examples; the model is minilm
unless named. The parts live in index_build.py, index_search.py and index_report.py.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from harness import heavy_lock, write_result
from index_build import memory, ray_engine, throughput
from index_report import report
from index_search import brown, wordnet

PARTS = {"throughput": throughput, "memory": memory, "brown": brown, "wordnet": wordnet, "ray_engine": ray_engine}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=[*PARTS, "report"], required=True)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--models", nargs="+", default=["minilm", "glove-50d"])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--shard-rows", type=int, default=20_000)
    ap.add_argument("--ann-min-rows", type=int, default=50_000, help="memory: vector index from this many rows")
    ap.add_argument(
        "--same-longest",
        action="store_true",
        help="memory: every size holds the 16x corpus's longest document, so sizes differ in count only",
    )
    ap.add_argument("--tag", default="", help="memory: results go to index-memory<_TAG>.json")
    ap.add_argument("--fraction", type=float, default=1.0)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--min-examples", type=int, default=10, help="WordNet lemmas with at least this many examples")
    ap.add_argument("--lemmas", type=int, default=800, help="WordNet lemmas sampled (all their examples indexed)")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "contextvec-bench-index"))
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()
    if args.part == "report":
        print(json.dumps({"part": "report", **report(args)}))
        return
    t0 = time.perf_counter()
    with heavy_lock():
        result = {"part": args.part, "model": args.model, **PARTS[args.part](args)}
    result["wall_s"] = time.perf_counter() - t0
    name = args.part + (f"_{args.tag}" if args.tag else "")
    write_result(f"index-{name}.json", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
