"""Render benchmarks/results/*.json into BENCHMARKS.md (numbers only from files the benchmarks wrote)."""

from __future__ import annotations

import json
from pathlib import Path

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
        "| method | output | median s | tokens/s | words/s | ours ÷ it | share of matmul rate | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "loop": ("transformers, one sentence at a time", "subword vectors"),
        "st": ('sentence-transformers `encode(output_value="token_embeddings")`', "subword vectors"),
        "ours": ("contextvec `embed_words`", "word vectors (aligned + pooled)"),
    }
    for key in ("loop", "st", "ours"):
        m = res[key]
        ratio = "—" if key == "ours" else f"{r['ratios'][f'ours_vs_{key}']:.2f}×"
        share = r["share_of_matmul_peak"][key]
        lines.append(
            f"| {names[key][0]} | {names[key][1]} | {m['median_s']:.2f} | {m['tokens_per_s']:.0f} | "
            f"{m['words_per_s']:.0f} | {ratio} | {share:.0%} | {m['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def _long_text_rows() -> str:
    rows = json.loads((RESULTS / "long_text.json").read_text())
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
    rows = json.loads((RESULTS / "bank_layers.json").read_text())
    return "\n".join(
        f"| {r['model']} | {r['layers']} | {r['money_vs_money']:.3f} | {r['money_vs_river']:.3f} | "
        f"{r['loan_vs_river']:.3f} |"
        for r in rows
    )


def main() -> None:
    sections = [_throughput_section(p) for p in sorted(RESULTS.glob("throughput-*.json"))]
    template = (ROOT / "benchmarks" / "BENCHMARKS.template.md").read_text()
    (ROOT / "BENCHMARKS.md").write_text(template.replace("@@THROUGHPUT@@", "\n\n".join(sections)))
    _fill(ROOT / "docs" / "long-texts.md", "| model | stride |", _long_text_rows())
    if (RESULTS / "bank_layers.json").exists():
        _fill(ROOT / "docs" / "cli.md", "| model | layers |", _bank_rows())


if __name__ == "__main__":
    main()
