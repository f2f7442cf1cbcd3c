"""The corpus index, measured: build throughput vs plain embed_words, peak memory vs corpus size, search latency
and ANN recall at Brown scale, the flat-vs-ANN threshold, and search-by-example precision@5 on WordNet.

    nice python benchmarks/index.py --part throughput --docs 1000 --runs 3
    nice python benchmarks/index.py --part memory --docs 400 --shard-rows 4000  # 1x, 4x, 16x, fresh processes
    nice python benchmarks/index.py --part memory --docs 1600 --shard-rows 4000 --ann-min-rows 20000 --tag ann
    nice python benchmarks/index.py --part brown --fraction 0.25       # 1.0 = the whole corpus
    nice python benchmarks/index.py --part wordnet --models minilm glove-50d --lemmas 800 --queries 1500

Each part writes benchmarks/results/index-<part>[_<tag>].json. Corpora are Brown sentences in corpus order (one document
per sentence) and WordNet 3.0 usage examples; the model is minilm unless named.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def machine() -> dict[str, Any]:
    flags = sorted(set(re.findall(r"avx2|avx512[a-z_]*|amx[a-z_]*", Path("/proc/cpuinfo").read_text())))
    import os

    return {"cpus": os.cpu_count(), "cpu_flags": flags, "python": platform.python_version()}


def brown_docs(n: int | None) -> list[str]:
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
    plain, build, table = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        src = write_txt(docs, Path(tmp))
        build_index(src, Path(tmp) / "idx", model=args.model, embedder=emb)  # warm-up: imports, first table
        for _ in range(args.runs):  # interleaved, so machine load hits both alike
            t0 = time.perf_counter()
            words = len(emb.embed_words(docs))
            plain.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            m = build_index(src, Path(tmp) / "idx", model=args.model, embedder=emb, overwrite=True)
            build.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            build_tables(Path(tmp) / "idx", Manifest.load(Path(tmp) / "idx"))
            table.append(time.perf_counter() - t0)
    p, b, t = statistics.median(plain), statistics.median(build), statistics.median(table)
    paired = [x / y for x, y in zip(plain, build, strict=True)]  # each round's own ratio: load drifts cancel
    return {
        "docs": len(docs),
        "words": words,
        "rows": m.rows,
        "runs": args.runs,
        "plain_embed_words_s": p,
        "build_index_s": b,
        "of_which_lancedb_table_s": t,
        "plain_words_per_s": words / p,
        "build_words_per_s": m.rows / b,
        "build_ratio_to_plain": p / b,
        "build_without_table_ratio": p / (b - t),
        "median_round_ratio": statistics.median(paired),
        "rounds": [{"plain_s": x, "build_s": y, "table_s": z} for x, y, z in zip(plain, build, table, strict=True)],
    }


MEMORY_CHILD = """
import resource, sys, threading, time
import contextvec.index.table as table
from contextvec.index import build_index
phase, peaks = ["embed"], {}
def status():
    got = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            got[key] = int(value.split()[0])
    return got
def sample():
    while True:  # peak of each field per phase, every 20 ms
        now = status()
        peak = peaks.setdefault(phase[0], dict.fromkeys(now, 0))
        for key, value in now.items():
            peak[key] = max(peak[key], value)
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
before = {}
real_tables, real_index = table.build_tables, table._vector_index
def tables(folder, manifest, ann_min_rows=table.ANN_MIN_ROWS):
    before["table"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    phase[0] = "table"
    return real_tables(folder, manifest, ann_min_rows=int(sys.argv[5]))
def vector_index(*a, **k):
    phase[0] = "vector_index"
    try:
        return real_index(*a, **k)
    finally:
        phase[0] = "after_vector_index"
table.build_tables, table._vector_index = tables, vector_index
t0 = time.perf_counter()
m = build_index(sys.argv[1], sys.argv[2], model=sys.argv[3], shard_rows=int(sys.argv[4]), batch_docs=64)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
time.sleep(0.05)
index = m.table["word"]["index"]
print("RESULT", m.rows, time.perf_counter() - t0, before["table"], rss, len(m.shards), flush=True)
print("INDEX", index, flush=True)
print("PEAKS", repr(peaks), flush=True)
"""


def memory(args: argparse.Namespace) -> dict[str, Any]:
    """Peak RSS of a whole build in a fresh process at 1x, 4x and 16x corpus size (shard_rows fixed).

    --ann-min-rows sets the row count from which the LanceDB table gets its IVF_PQ index (the library's default
    is table.ANN_MIN_ROWS); set it below the 1x row count to compare builds that all include the vector index.
    """
    import ast

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
            cmd = [sys.executable, "-c", MEMORY_CHILD, str(src), str(folder / "idx"), args.model]
            run = subprocess.run(
                [*cmd, str(args.shard_rows), str(args.ann_min_rows)], capture_output=True, text=True, check=True
            )
            lines = {x.split(" ", 1)[0]: x.split(" ", 1)[1] for x in run.stdout.splitlines() if " " in x}
            rows, seconds, before_kb, rss_kb, shards = lines["RESULT"].split()
            peaks = ast.literal_eval(lines["PEAKS"])
            out.append(
                {
                    "factor": factor,
                    "docs": args.docs * factor,
                    "rows": int(rows),
                    "seconds": float(seconds),
                    "peak_rss_mib_before_table": int(before_kb) / 1024,
                    "peak_rss_mib": int(rss_kb) / 1024,
                    "shards": int(shards),
                    "vector_index": lines["INDEX"],
                    "phase_peaks_mib": {p: {k: v / 1024 for k, v in d.items()} for p, d in peaks.items()},
                }
            )
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


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def timed(fn: Any, queries: list[Any]) -> tuple[list[Any], list[float]]:
    results, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        results.append(fn(q))
        ms.append((time.perf_counter() - t0) * 1000)
    return results, ms


def brown(args: argparse.Namespace) -> dict[str, Any]:
    """Index a fraction of Brown (word level), then latency, ANN recall@10 and the flat-vs-ANN threshold."""
    from contextvec.index import Index, build_index

    docs = brown_docs(None)
    docs = docs[: int(len(docs) * args.fraction)]
    folder = Path(args.workdir)
    folder.mkdir(parents=True, exist_ok=True)
    src = write_txt(docs, folder)
    t0 = time.perf_counter()
    m = build_index(src, folder / "idx", model=args.model, progress=args.progress)
    build_s = time.perf_counter() - t0
    idx = Index.open(folder / "idx")
    table = idx.table("word")
    sample = table.search().select(["word_norm", "vector"]).limit(table.count_rows()).to_arrow()
    rng = random.Random(0)
    picks = rng.sample(range(sample.num_rows), args.queries)
    queries = [
        (np.asarray(sample["vector"][i].as_py(), dtype=np.float32), sample["word_norm"][i].as_py()) for i in picks
    ]
    _, same_ms = timed(lambda q: idx.search_vector(q[0], k=10, words=[q[1]]), queries)
    ann, ann_ms = timed(lambda q: idx.search_vector(q[0], k=10, exact=False), queries)
    flat, flat_ms = timed(lambda q: idx.search_vector(q[0], k=10, exact=True), queries)
    recall = statistics.mean(
        len({(h.seq, h.start) for h in a} & {(h.seq, h.start) for h in f}) / len(f)
        for a, f in zip(ann, flat, strict=True)
    )
    disk = sum(p.stat().st_size for p in (folder / "idx").rglob("*") if p.is_file())
    return {
        "fraction": args.fraction,
        "docs": len(docs),
        "rows": m.rows,
        "build_s": build_s,
        "build_words_per_s": m.rows / build_s,
        "extrapolated_full_brown_s": 1_161_192 / (m.rows / build_s),
        "index": m.table["word"]["index"],
        "disk_mib": disk / 2**20,
        "queries": len(queries),
        "same_word_exact": percentiles(same_ms),
        "any_word_ann": percentiles(ann_ms),
        "any_word_flat": percentiles(flat_ms),
        "recall_at_10_ann_vs_exact": recall,
        "threshold": threshold(folder, sample, queries[:50]),
    }


def threshold(folder: Path, sample: Any, queries: list[Any]) -> list[dict[str, Any]]:
    """Flat vs IVF_PQ query latency (p50) on tables of the first N rows: where the index starts to pay."""
    import lancedb
    from lancedb.index import IvfPq

    db = lancedb.connect(str(folder / "threshold"))
    out = []
    for n in (10_000, 30_000, 100_000, 300_000):
        if n > sample.num_rows:
            break
        t = db.create_table(f"n{n}", data=sample.slice(0, n), mode="overwrite")
        _, flat_ms = timed(lambda q, t=t: t.search(q[0]).distance_type("cosine").limit(10).to_arrow(), queries)
        t0 = time.perf_counter()
        t.create_index("vector", config=IvfPq(distance_type="cosine", num_partitions=int(n**0.5), num_sub_vectors=48))
        index_s = time.perf_counter() - t0
        _, ann_ms = timed(
            lambda q, t=t: t.search(q[0]).distance_type("cosine").limit(10).nprobes(32).refine_factor(10).to_arrow(),
            queries,
        )
        out.append(
            {
                "rows": n,
                "flat_p50_ms": float(np.median(flat_ms)),
                "ann_p50_ms": float(np.median(ann_ms)),
                "index_build_s": index_s,
            }
        )
    return out


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


def wordnet(args: argparse.Namespace) -> dict[str, Any]:
    """Index every WordNet usage example; query with each (sampled) one; precision@5 of same-synset hits."""
    from contextvec.data.wordnet import examples_by_lemma
    from contextvec.errors import ContextvecError
    from contextvec.index import Index, build_index

    # Lemmas with examples under >= 2 synsets and at least --min-examples examples, so that the top 5 is a real
    # choice (with 5 or fewer other examples, precision@5 equals the baseline whatever the ranking).
    groups = [g for g in examples_by_lemma().values() if len(g) >= args.min_examples]
    rng = random.Random(0)
    groups = rng.sample(groups, min(args.lemmas, len(groups)))  # whole lemmas: each keeps all its examples
    examples = [ex for group in groups for ex in group]
    label = {(str(i), ex.start): (ex.lemma, ex.pos, ex.synset) for i, ex in enumerate(examples)}
    n_synset = Counter((ex.lemma, ex.pos, ex.synset) for ex in examples)
    eligible = [i for i, ex in enumerate(examples) if n_synset[(ex.lemma, ex.pos, ex.synset)] >= 2]  # has a match
    picks = rng.sample(eligible, min(args.queries, len(eligible)))
    out: dict[str, Any] = {
        "min_examples": args.min_examples,
        "lemmas": len(groups),
        "examples": len(examples),
        "queries": len(picks),
        "models": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "wordnet.jsonl"
        src.write_text("".join(json.dumps({"text": ex.text, "id": str(i)}) + "\n" for i, ex in enumerate(examples)))
        for model in args.models:
            t0 = time.perf_counter()
            build_index(src, Path(tmp) / model, model=model)
            idx = Index.open(Path(tmp) / model)
            precisions, chance, skipped = [], [], 0
            for i in picks:
                ex = examples[i]
                try:
                    hits = idx.search_like(ex.text, ex.start, ex.end, k=40, inflect=True)
                except ContextvecError:  # e.g. a word GloVe has no vector for: not scored, counted
                    skipped += 1
                    continue
                same = [label[(h.doc_id, h.start)] for h in hits if h.doc_id != str(i) and (h.doc_id, h.start) in label]
                same = [lab for lab in same if lab[:2] == (ex.lemma, ex.pos)][:5]
                others = [e for j, e in enumerate(examples) if j != i and (e.lemma, e.pos) == (ex.lemma, ex.pos)]
                if same:
                    precisions.append(sum(lab[2] == ex.synset for lab in same) / len(same))
                    chance.append(sum(e.synset == ex.synset for e in others) / len(others))
            out["models"][model] = {
                "precision_at_5": statistics.mean(precisions),
                "same_lemma_baseline": statistics.mean(chance),
                "scored": len(precisions),
                "query_errors": skipped,
                "seconds": time.perf_counter() - t0,
            }
    return out


def cpu(m: dict[str, Any]) -> str:
    """A result's machine in a few words: cores and the widest vector instructions it had."""
    flags = set(m.get("machine", {}).get("cpu_flags", []))
    widest = "AVX-512" + (" VNNI" if "avx512_vnni" in flags else "") if "avx512f" in flags else "AVX2, no AVX-512"
    return f"{m.get('machine', {}).get('cpus', '?')} cores, {widest}"


def memory_table(m: dict[str, Any]) -> list[str]:
    lines = [
        f"Machine: {cpu(m)}.",
        "",
        "| corpus | rows | shards | vector index | build time | peak RSS before table | peak RSS whole build |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {o['factor']}x ({o['docs']} docs) | {o['rows']:,} | {o.get('shards', '?')}"
        f" | {o.get('vector_index', '?')} | {o['seconds']:.0f} s"
        f" | {o.get('peak_rss_mib_before_table', 0):,.0f} MiB | {o['peak_rss_mib']:,.0f} MiB |"
        for o in m["sizes"]
    ]
    g = m["max_growth"]
    return [
        *lines,
        "",
        f"Peak RSS, largest / 1x: {g['peak_rss_mib_before_table']:.2f} before the table build, "
        f"{g['peak_rss_mib']:.2f} for the whole build (shard_rows={m['shard_rows']}, "
        f"vector index from {m.get('ann_min_rows', 50_000):,} rows"
        + ("; every size holds the 16x corpus's longest document)." if m.get("same_longest") else ")."),
        "",
    ]


def report(_: argparse.Namespace) -> dict[str, Any]:
    """Render benchmarks/results/index.md from the index-*.json files present."""
    load = {p.stem.removeprefix("index-"): json.loads(p.read_text()) for p in RESULTS.glob("index-*.json")}
    lines = ["## Corpus index (benchmarks/index.py)", ""]
    if "throughput" in load:
        t = load["throughput"]
        lines += [
            f"Machine: {cpu(t)}; flags {' '.join(t['machine']['cpu_flags'])}.",
            "",
            "| build throughput (minilm, word level) | value |",
            "|---|---|",
            f"| corpus | first {t['docs']} Brown sentences, {t['words']:,} words |",
            f"| plain `embed_words` (median of {t['runs']}) | {t['plain_words_per_s']:,.0f} words/s |",
            f"| `build_index` incl. shards, manifest, LanceDB table | {t['build_words_per_s']:,.0f} words/s |",
            f"| ratio build / plain (medians) | {t['build_ratio_to_plain']:.2f} "
            f"({t['build_without_table_ratio']:.2f} without the table build) |",
        ]
        if "median_round_ratio" in t:
            lines.append(f"| ratio build / plain (median of each round's own ratio) | {t['median_round_ratio']:.2f} |")
        if "throughput_baseline" in load:  # the code before a change, measured on the same machine
            base = load["throughput_baseline"]
            lines.append(
                f"| before ({base.get('note', 'previous code')}): ratio (medians of {base['runs']}) "
                f"| {base['build_ratio_to_plain']:.2f} ({base['build_without_table_ratio']:.2f} without the table) |"
            )
        lines.append("")
    for key in sorted(k for k in load if k == "memory" or k.startswith("memory_")):  # memory_ann: index at every size
        lines += memory_table(load[key])
    if "brown" in load:
        b = load["brown"]
        whole = b["fraction"] >= 1.0
        part = "the whole corpus" if whole else f"first {b['fraction']:.1%} of sentences"
        guess = "" if whole else f"; whole Brown extrapolated: {b['extrapolated_full_brown_s'] / 60:.0f} min"
        lines += [
            f"Machine: {cpu(b)}.",
            "",
            f"Brown, {part} ({b['docs']:,} documents, {b['rows']:,} word rows): built in {b['build_s']:.0f} s "
            f"({b['build_words_per_s']:,.0f} words/s){guess}. Index: {b['index']}; disk {b['disk_mib']:,.0f} MiB.",
            "",
            "| search (k=10, {} queries) | p50 | p99 |".format(b["queries"]),
            "|---|---|---|",
        ]
        for key, name in (
            ("same_word_exact", "same word (exact, filtered)"),
            ("any_word_ann", "any word, IVF_PQ"),
            ("any_word_flat", "any word, exact flat scan"),
        ):
            lines.append(f"| {name} | {b[key]['p50_ms']:.1f} ms | {b[key]['p99_ms']:.1f} ms |")
        lines += [
            "",
            f"Recall@10 of IVF_PQ vs exact: {b['recall_at_10_ann_vs_exact']:.4f}.",
            "",
            "| rows | flat p50 | IVF_PQ p50 | index build |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['rows']:,} | {r['flat_p50_ms']:.1f} ms | {r['ann_p50_ms']:.1f} ms | {r['index_build_s']:.1f} s |"
            for r in b["threshold"]
        ]
        lines.append("")
    if "wordnet" in load:
        w = load["wordnet"]
        lines += [
            f"WordNet search by example: {w['lemmas']} lemmas with >= {w['min_examples']} usage examples "
            f"({w['examples']:,} examples indexed), {w['queries']} queries (examples whose synset has another one).",
            "",
            "| model | precision@5 | same-lemma baseline | queries scored |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {v['precision_at_5']:.3f} | {v['same_lemma_baseline']:.3f} | {v['scored']} |"
            for k, v in w["models"].items()
        ]
        lines.append("")
    if "ray_engine" in load:
        r = load["ray_engine"]
        lines += [f"Machine: {cpu(r)}.", "", "| Ray engine (local Ray, 2 CPUs) | words/s |", "|---|---|"]
        lines += [f"| {x['actors']} actor(s) | {x['words_per_s']:,.0f} |" for x in r["runs"]]
        lines.append("")
    (RESULTS / "index.md").write_text("\n".join(lines))
    return {"written": str(RESULTS / "index.md")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--part", choices=["throughput", "memory", "brown", "wordnet", "ray_engine", "report"], required=True
    )
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
    t0 = time.perf_counter()
    result = {"part": args.part, "model": args.model, "machine": machine(), **globals()[args.part](args)}
    result["wall_s"] = time.perf_counter() - t0
    RESULTS.mkdir(exist_ok=True)
    if args.part == "report":
        print(json.dumps(result))
        return
    name = args.part + (f"_{args.tag}" if args.tag else "")
    (RESULTS / f"index-{name}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
