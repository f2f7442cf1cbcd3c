"""Render benchmarks/results/*.json into BENCHMARKS.md (numbers only from files the benchmarks wrote)."""

from __future__ import annotations

import json
from pathlib import Path

from harness import rows as result_rows

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _throughput_section(path: Path) -> str:
    r = json.loads(path.read_text())
    res = r["results"]
    lines = [
        f"### {r['model']}, {r['dtype']} — `{r['command']}`",
        "",
        f"{r['sentences']} sentences of the Lee news corpus, {res['ours']['tokens']} subword tokens, "
        f"{res['ours']['words']} words; median of {r['runs']} runs after a warm-up; "
        f"{r['machine']['cpu_count']} CPU cores; timed {r['dtype']} matmul: {r['matmul_gflops']:.0f} GFLOP/s; "
        f"model forward: {r['model_flops_per_token'] / 1e6:.1f} MFLOP per token.",
        "",
        "| method | output | median s | tokens/s | words/s | ours ÷ it | best s | ours ÷ it (best) "
        "| share of matmul rate | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "loop": ("transformers, one sentence at a time", "subword vectors"),
        "st": ('sentence-transformers `encode(output_value="token_embeddings")`', "subword vectors"),
        "ours": ("contextvec `embed_words`", "word vectors (aligned + pooled)"),
    }
    best_ours = min(res["ours"]["times_s"])
    for key in ("loop", "st", "ours"):
        m = res[key]
        best = min(m["times_s"])
        ratio = "—" if key == "ours" else f"{r['ratios'][f'ours_vs_{key}']:.2f}×"
        best_ratio = "—" if key == "ours" else f"{best / best_ours:.2f}×"
        share = r["share_of_matmul_peak"][key]
        lines.append(
            f"| {names[key][0]} | {names[key][1]} | {m['median_s']:.2f} | {m['tokens_per_s']:.0f} | "
            f"{m['words_per_s']:.0f} | {ratio} | {best:.2f} | {best_ratio} | {share:.0%} | {m['peak_rss_mb']:.0f} |"
        )
    if "cosine_to_float32_min" in res["ours"]:
        o = res["ours"]
        lines += [
            "",
            f"contextvec's {r['dtype']} word vectors against its float32 ones on the same sentences: cosine "
            f"min {o['cosine_to_float32_min']:.4f}, mean {o['cosine_to_float32_mean']:.5f}.",
        ]
    rates = [g for m in res.values() for g in m["matmul_gflops"]]
    lines += [
        "",
        f"Timed runs per method: {len(res['ours']['times_s'])} (rounds interleaved across methods). The machine's "
        f"matmul rate, timed in each process, ranged {min(rates):.0f}–{max(rates):.0f} GFLOP/s during this run: "
        "it is a shared virtual machine, so single runs vary; noise only adds time, hence the best-of column.",
    ]
    return "\n".join(lines)


def _long_text_rows() -> str:
    rows = result_rows(json.loads((RESULTS / "long_text.json").read_text()))
    return "\n".join(
        f"| {r['model']} | {r['stride']} | {r['ours_median']:.3f} | {r['ours_mean']:.3f} | {r['ours_min']:.3f} | "
        f"{r['naive_median']:.3f} | {r['naive_mean']:.3f} | {r['naive_min']:.3f} |"
        for r in rows
    )


def _fill(doc: Path, header: str, rows: str) -> None:
    """Replace the table body that follows `header`'s separator line in `doc` (or its @@ placeholder)."""
    text = doc.read_text()
    sep = text.index("|---", text.index(header))
    start = text.index("\n", sep) + 1
    end = text.index("\n\n", start)
    doc.write_text(text[:start] + rows + text[end:])


def _bank_rows() -> str:
    rows = result_rows(json.loads((RESULTS / "bank_layers.json").read_text()))
    return "\n".join(
        f"| {r['model']} | {r['layers']} | {r['money_vs_money']:.3f} | {r['money_vs_river']:.3f} | "
        f"{r['loan_vs_river']:.3f} |"
        for r in rows
    )


def _serve_section() -> str:
    """The server: latency, throughput vs in-process, the peer, mixed load, batching (each part's own file)."""
    from harness import cpu_summary

    parts = [_serve_latency(), _serve_throughput(), _serve_peer(), _serve_mixed(), _serve_batching()]
    done = [p for p in parts if p]
    if not done:
        return "(not run yet)"
    first = next(f for f in ("latency", "throughput", "peer", "mixed") if (RESULTS / f"serve_load-{f}.json").exists())
    head = json.loads((RESULTS / f"serve_load-{first}.json").read_text())
    machine = f"Machine: {cpu_summary(head['machine'])}." if "machine" in head else ""
    return "\n\n".join([machine, *done]).strip()


def _load(part: str) -> dict | None:  # type: ignore[type-arg]
    path = RESULTS / f"serve_load-{part}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _serve_latency() -> str:
    r = _load("latency")
    if r is None:
        return ""
    base = r["in_process_median_ms"]
    lines = [
        f"### One client, one sentence — `{r['command']}`",
        "",
        f"`Embedder.embed_sentences` on the same text in-process: {base:.1f} ms (median, measured before and after "
        f"the server runs: {r['in_process_ms'][0]:.1f} / {r['in_process_ms'][1]:.1f} ms); `GET /health`: "
        f"{r['health_p50_ms']:.2f} ms. Goal: p50 ≤ in-process + 1.5 ms.",
        "",
        "| route | p50 ms | p99 ms | p50 − in-process | server CPU cores | wrk CPU cores |",
        "|---|---|---|---|---|---|",
    ]
    for x in r["rows"]:
        lines.append(
            f"| `{x['route']}` | {x['p50_ms']:.1f} | {x['p99_ms']:.1f} | {x['p50_ms'] - base:+.1f} ms | "
            f"{x.get('server_cores', float('nan')):.2f} | {x['wrk_cores']:.3f} |"
        )
    return "\n".join(lines)


def _serve_throughput() -> str:
    r = _load("throughput")
    if r is None:
        return ""
    lines = [
        f"### 32 clients, one Lee sentence per request — `{r['command']}`",
        "",
        "In-process rate: `embed_sentences` over 800 Lee sentences in one call (one sentence per text), in the "
        "benchmark's process while the server was not running. Goal: server ≥ 80% of it.",
        "",
        "| engine | server req/s | p99 ms | in-process texts/s | server ÷ in-process | server CPU cores "
        "| wrk CPU cores |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine, m in r["medians"].items():
        lines.append(
            f"| {engine} | {m['requests_per_s']:.1f} | {m['p99_ms']:.0f} | {m['in_process_per_s']:.1f} | "
            f"{m['ratio']:.2f} | {m['server_cores']:.2f} | {m['wrk_cores']:.3f} |"
        )
    return "\n".join(lines)


def _serve_peer() -> str:
    r = _load("peer")
    if r is None:
        return ""
    lines = [
        f"### Beside infinity-emb — `{r['command']}`",
        "",
        "Each server alone on the machine in turn, the same minilm folder, the same wrk script (one Lee sentence per "
        "request to `/v1/embeddings`).",
        "",
        "| server | 1 client req/s | p50 ms | 8 clients req/s | 32 clients req/s | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in r["medians"].items():
        lines.append(
            f"| {name} | {m['1']['requests_per_s']:.1f} | {m['1']['p50_ms']:.1f} | {m['8']['requests_per_s']:.1f} | "
            f"{m['32']['requests_per_s']:.1f} | {m['32']['p99_ms']:.0f} |"
        )
    for engine, d in r.get("peers", {}).items():
        v = d.get("versions", {})
        lines.append(
            f"\ninfinity {engine}: `{d['command']}` (in `{d['cwd']}`); " + ", ".join(f"{k} {x}" for k, x in v.items())
        )
    return "\n".join(lines)


def _serve_mixed() -> str:
    r = _load("mixed")
    if r is None:
        return ""
    a, m, ex = r["alone"], r["mixed"], r["explorer"]
    job = ex.get("job") or {}
    return "\n".join(
        [
            f"### Mixed load — `{r['command']}`",
            "",
            "32 clients on `/v1/embeddings`, alone and then while one client sends explorer Compare requests in a "
            "loop and a Senses job embeds 400 sentences. Goal: no 5xx, 429 only when the queue is full, embedding "
            "p99 within 2× of the embeddings-only run.",
            "",
            "| run | req/s | p50 ms | p99 ms | non-2xx |",
            "|---|---|---|---|---|",
            *(
                f"| {name} | {x['requests_per_s']:.1f} | {x['p50_ms']:.0f} | {x['p99_ms']:.0f} | {x['non_2xx']:.0f} |"
                for name, x in (("embeddings only", a), ("with explorer load", m))
            ),
            "",
            f"p99 ratio {r['p99_ratio']:.2f}; explorer Compare status codes {ex['compare_codes']}; the Senses job: "
            f"{job.get('state')} ({job.get('done')} of {job.get('total')} texts when the run ended).",
        ]
    )


def _serve_batching() -> str:
    path = RESULTS / "serve_load-batching.json"
    if not path.exists():
        return ""
    r = json.loads(path.read_text())
    on = {x["connections"]: x for x in r["rows"] if x["batching"]}
    off = {x["connections"]: x for x in r["rows"] if not x["batching"]}
    lines = [
        f"### Dynamic batching on vs off — `{r['command']}`",
        "",
        "| connections | batching: req/s | p50 ms | p99 ms | one request per forward: req/s | p50 ms | p99 ms |"
        " batching ÷ none |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in sorted(on):
        a, b = on[c], off[c]
        lines.append(
            f"| {c} | {a['requests_per_s']:.1f} | {a['p50_ms']:.0f} | {a['p99_ms']:.0f} | {b['requests_per_s']:.1f} | "
            f"{b['p50_ms']:.0f} | {b['p99_ms']:.0f} | {r['speedup'][str(c)]:.2f}× |"
        )
    return "\n".join(lines)


def _static_rows() -> str:
    rows = json.loads((RESULTS / "static_table.json").read_text())["rows"]

    def cell(r: dict, d: str) -> str:  # type: ignore[type-arg]
        x = r[d]
        return f"{x['spearman']:.3f} ({x['covered']}/{x['total']})"

    lines = []
    for r in rows:
        if r.get("per_layer"):
            continue
        name = r["model"] + (f" — best for {r['best_for']}" if "best_for" in r else "")
        lines.append(f"| {name} | {r['trained_on']} | {cell(r, 'wordsim353')} | {cell(r, 'simlex999')} | {r['note']} |")
    return "\n".join(lines)


def _plots() -> None:
    """PNG pictures for the docs, from the same JSON results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img = ROOT / "docs" / "img"
    img.mkdir(exist_ok=True)
    rows = [r for r in json.loads((RESULTS / "static_table.json").read_text())["rows"] if r.get("per_layer")]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, d, title in zip(axes, ("wordsim353", "simlex999"), ("WordSim-353", "SimLex-999"), strict=True):
        for model in ("minilm", "mpnet"):
            pts = sorted((int(r["model"].split()[-1]), r[d]["spearman"]) for r in rows if r["model"].startswith(model))
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{model} (distilled)")
        glove = next(
            r for r in json.loads((RESULTS / "static_table.json").read_text())["rows"] if r["model"] == "glove-50d"
        )
        ax.axhline(glove[d]["spearman"], color="grey", linestyle="--", label="GloVe 50-d")
        ax.set_title(title)
        ax.set_xlabel("layer (0 = embedding output)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Spearman")
    axes[1].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(img / "distilled_layers.png", dpi=110)
    plt.close(fig)

    bank = result_rows(json.loads((RESULTS / "bank_layers.json").read_text()))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharey=True)
    for ax, model in zip(axes, ("minilm", "mpnet", "smollm2"), strict=True):
        pts = [r for r in bank if r["model"] == model and r["layers"].isdigit()]
        xs = [int(r["layers"]) for r in pts]
        ax.plot(xs, [r["money_vs_money"] for r in pts], marker="o", label="money vs money")
        ax.plot(xs, [r["money_vs_river"] for r in pts], marker="o", label="money vs river")
        ax.set_title(f'"bank", {model}')
        ax.set_xlabel("layer")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cosine")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(img / "bank_layers.png", dpi=110)
    plt.close(fig)


def main() -> None:
    from report_backends import backends_section

    plain = [p for p in sorted(RESULTS.glob("throughput-*.json")) if not p.name.endswith("-backends.json")]
    plain = [p for p in plain if "results" in json.loads(p.read_text())]  # tagged runs are read by docs/backends.md
    sections = [_throughput_section(p) for p in plain]
    backends = [backends_section(p) for p in sorted(RESULTS.glob("throughput-*-backends.json"))]
    template = (ROOT / "benchmarks" / "BENCHMARKS.template.md").read_text()
    text = template.replace("@@THROUGHPUT@@", "\n\n".join(sections)).replace("@@SERVE@@", _serve_section())
    text = text.replace("@@BACKENDS@@", "\n\n".join(backends))
    notes = RESULTS / "backends-notes.md"  # the reading of the backends numbers, written with the run
    text = text.replace("@@BACKENDS_NOTES@@", notes.read_text().strip() if notes.exists() else "")
    index = RESULTS / "index.md"  # rendered by `benchmarks/index.py --part report`
    text = text.replace("@@INDEX@@", index.read_text().strip() if index.exists() else "")
    (ROOT / "BENCHMARKS.md").write_text(text)
    _fill(ROOT / "docs" / "long-texts.md", "| model | stride |", _long_text_rows())
    if (RESULTS / "static_table.json").exists():
        _fill(ROOT / "docs" / "static.md", "| vectors | trained on |", _static_rows())
    if (RESULTS / "bank_layers.json").exists():
        _fill(ROOT / "docs" / "cli.md", "| model | layers |", _bank_rows())
    if (RESULTS / "static_table.json").exists() and (RESULTS / "bank_layers.json").exists():
        _plots()


if __name__ == "__main__":
    main()
