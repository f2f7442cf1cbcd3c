"""benchmarks/index.py's build parts: throughput against plain embed_words, peak memory by corpus size, Ray engine."""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import HERE, median_of_ratios, rounds


def brown_docs(n: int | None) -> list[str]:
    """The first n Brown sentences in corpus order (one document each)."""
    from contextvec.data import brown

    return list(itertools.islice(brown.sentences(), n))


def write_txt(docs: list[str], folder: Path) -> Path:
    path = folder / "corpus.txt"
    path.write_text("\n".join(docs) + "\n", encoding="utf-8")
    return path


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    """Median words/s of plain embed_words and of build_index (same texts, same loaded model, same process)."""
    from contextvec.index import build_index
    from contextvec.index.manifest import Manifest
    from contextvec.index.table import build_tables
    from contextvec.loader import load_embedder

    docs = brown_docs(args.docs)
    emb = load_embedder(args.model)
    emb.embed_words(docs[:32])  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        src, idx = write_txt(docs, Path(tmp)), Path(tmp) / "idx"
        build_index(src, idx, model=args.model, embedder=emb)  # warm-up: imports, first table
        built, words = [], []
        t = rounds(
            {
                "plain": lambda: words.append(len(emb.embed_words(docs))),
                "build": lambda: built.append(build_index(src, idx, model=args.model, embedder=emb, overwrite=True)),
                "table": lambda: build_tables(idx, Manifest.load(idx)),  # after "build": rounds keep this order
            },
            args.runs,
            warmup=0,
            rotate=False,
        )
    m, medians = built[-1], t.medians()
    p, b, tb = medians["plain"], medians["build"], medians["table"]
    return {
        "docs": len(docs),
        "words": words[-1],
        "rows": m.rows,
        "runs": args.runs,
        "plain_embed_words_s": p,
        "build_index_s": b,
        "of_which_lancedb_table_s": tb,
        "plain_words_per_s": words[-1] / p,
        "build_words_per_s": m.rows / b,
        "build_ratio_to_plain": p / b,
        "build_without_table_ratio": p / (b - tb),
        "median_round_ratio": median_of_ratios(t.wall["plain"], t.wall["build"]),
        "rounds": [
            {"plain_s": x, "build_s": y, "table_s": z}
            for x, y, z in zip(t.wall["plain"], t.wall["build"], t.wall["table"], strict=True)
        ],
    }


def memory(args: argparse.Namespace) -> dict[str, Any]:
    """Peak RSS of a whole build in a fresh process at 1x, 4x and 16x corpus size (shard_rows fixed).

    --ann-min-rows sets the row count from which the LanceDB table gets its IVF_PQ index (the library's default
    is table.ANN_MIN_ROWS); set it below the 1x row count to compare builds that all include the vector index.
    """
    out = []
    longest = max(brown_docs(args.docs * 16), key=len) if args.same_longest else None
    with tempfile.TemporaryDirectory() as tmp:
        for factor in (1, 4, 16):
            folder = Path(tmp) / f"x{factor}"
            folder.mkdir()
            docs = brown_docs(args.docs * factor)
            if longest is not None and longest not in docs:  # every size holds the 16x corpus's longest document
                docs = [longest, *docs[:-1]]
            src = write_txt(docs, folder)
            cmd = [sys.executable, str(HERE / "index_memory_child.py"), str(src), str(folder / "idx"), args.model]
            run = subprocess.run(
                [*cmd, str(args.shard_rows), str(args.ann_min_rows)], capture_output=True, text=True, check=True
            )
            result = json.loads(next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))[7:])
            out.append({"factor": factor, "docs": args.docs * factor, **result})
            print(json.dumps(out[-1]), flush=True)
    growth = {key: max(o[key] for o in out) / out[0][key] for key in ("peak_rss_mib_before_table", "peak_rss_mib")}
    return {
        "shard_rows": args.shard_rows,
        "batch_docs": 64,
        "ann_min_rows": args.ann_min_rows,
        "same_longest": args.same_longest,
        "sizes": out,
        "max_growth": growth,
    }


def ray_engine(args: argparse.Namespace) -> dict[str, Any]:
    """Words/s of the Ray engine on a local Ray instance, with 1 and 2 actors (one model copy each)."""
    import ray

    from contextvec.index import build_index

    docs = brown_docs(args.docs)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        src = write_txt(docs, Path(tmp))
        for actors in (1, 2):
            t0 = time.perf_counter()
            m = build_index(
                src,
                Path(tmp) / f"r{actors}",
                model=args.model,
                engine="ray",
                concurrency=actors,
                cpus_per_actor=1.0 if actors == 1 else 0.5,
                batch_docs=128,
            )
            seconds = time.perf_counter() - t0
            out.append({"actors": actors, "rows": m.rows, "seconds": seconds, "words_per_s": m.rows / seconds})
    ray.shutdown()
    return {"docs": len(docs), "runs": out, "note": "includes Ray start of actors and model load per actor"}
