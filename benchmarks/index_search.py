"""benchmarks/index.py's search parts: latency, ANN recall and the flat-vs-ANN threshold on Brown; search by
example on WordNet."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from harness import latencies, percentiles
from index_build import brown_docs, write_txt


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
    _, same_ms = latencies(lambda q: idx.search_vector(q[0], k=10, words=[q[1]]), queries)
    ann, ann_ms = latencies(lambda q: idx.search_vector(q[0], k=10, exact=False), queries)
    flat, flat_ms = latencies(lambda q: idx.search_vector(q[0], k=10, exact=True), queries)
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
        _, flat_ms = latencies(lambda q, t=t: t.search(q[0]).distance_type("cosine").limit(10).to_arrow(), queries)
        t0 = time.perf_counter()
        t.create_index("vector", config=IvfPq(distance_type="cosine", num_partitions=int(n**0.5), num_sub_vectors=48))
        index_s = time.perf_counter() - t0
        _, ann_ms = latencies(
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
