"""benchmarks/index.py's report part: benchmarks/results/index.md (pasted into BENCHMARKS.md by report.py)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from harness import cpu_summary, results_dir, write_text


def memory_table(m: dict[str, Any]) -> list[str]:
    lines = [
        f"Machine: {cpu_summary(m.get('machine', {}))}.",
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
    load = {p.stem.removeprefix("index-"): json.loads(p.read_text()) for p in results_dir().glob("index-*.json")}
    lines = ["## Corpus index (benchmarks/index.py)", ""]
    if "throughput" in load:
        t = load["throughput"]
        lines += [
            f"Machine: {cpu_summary(t.get('machine', {}))}; flags {' '.join(t['machine']['cpu_flags'])}.",
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
            f"Machine: {cpu_summary(b.get('machine', {}))}.",
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
        lines += [
            f"Machine: {cpu_summary(r.get('machine', {}))}.",
            "",
            "| Ray engine (local Ray, 2 CPUs) | words/s |",
            "|---|---|",
        ]
        lines += [f"| {x['actors']} actor(s) | {x['words_per_s']:,.0f} |" for x in r["runs"]]
        lines.append("")
    write_text(results_dir() / "index.md", "\n".join(lines))
    return {"written": str(results_dir() / "index.md")}
