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
    path = RESULTS / "serve_load.json"
    if not path.exists():
        return "(not run yet)"
    r = json.loads(path.read_text())
    on = {x["connections"]: x for x in r["rows"] if x["batching"]}
    off = {x["connections"]: x for x in r["rows"] if not x["batching"]}
    lines = [
        f"`{r['command']}` — model {r['model']}, {r['duration_s']} s per level after a 2 s warm-up, "
        f"{r['cpu_count']} CPU cores shared by the server and wrk.",
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
    errors = sum(x["non_2xx"] for x in r["rows"])
    lines += ["", f"Non-2xx responses over all runs: {errors:.0f}."]
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
