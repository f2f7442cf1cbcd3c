"""The fast-backends table of BENCHMARKS.md, from benchmarks/results/throughput-*-backends.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NAMES = {
    "loop": "transformers, one sentence at a time (subwords)",
    "st": 'sentence-transformers `encode(output_value="token_embeddings")`, torch (subwords)',
    "st-onnx": 'sentence-transformers, `backend="onnx"`, its O3-optimised export (subwords)',
    "st-onnx-int8": 'sentence-transformers, `backend="onnx"`, its `avx512_vnni` int8 export (subwords)',
    "ours": "contextvec `embed_words`, torch float32 (words)",
    "onnx": 'contextvec `embed_words`, `backend="onnx"` float32 (words)',
    "onnx-int8": 'contextvec `embed_words`, `backend="onnx", dtype="int8"` (words)',
}


def _ratio(r: dict[str, Any], mode: str, a: str, b: str) -> str:
    v = r.get(f"ratios_{mode}", {}).get(f"{a}_vs_{b}")
    return "—" if v is None else f"{v:.2f}×"


def _num(r: dict[str, Any], key: str, fmt: str) -> str:
    return "—" if key not in r else format(r[key], fmt)


def backends_section(path: Path) -> str:
    r = json.loads(path.read_text())
    sep, alt = r.get("separate", {}), r.get("alternate", {})
    best = r["kernel_gops"]["best"]
    runs = r["runs"] if not isinstance(r["runs"], dict) else ", ".join(f"{v} {k}" for k, v in r["runs"].items())
    lines = [
        f"### {r['model']}, backends — `{r['command']}`",
        "",
        f"{r['sentences']} Lee sentences, {r['tokens']} subword tokens, {r['words']} words; timed passes per method: "
        f"{runs}; {r['machine']['cpu_count']} cores, CPU flags {', '.join(r['machine']['cpu_flags'])}; "
        f"best kernel rates here (2048² product, GOP/s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in best.items())
        + f"; model forward {r['model_flops_per_token'] / 1e6:.1f} MFLOP per token.",
        "",
        "| method | separate: median s | tokens/s | alternate: median s | tokens/s | share of best kernel rate "
        "| size on disk MB | peak RSS MB (separate) | vs torch fp32 (sep / alt) "
        "| vs sentence-transformers (sep / alt) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in (k for k in NAMES if k in sep or k in alt):
        s, a = sep.get(m, {}), alt.get(m, {})
        share = a.get("share_of_best_kernel_rate", s.get("share_of_best_kernel_rate"))
        vs_ours = "—" if m == "ours" else f"{_ratio(r, 'separate', m, 'ours')} / {_ratio(r, 'alternate', m, 'ours')}"
        if m in ("st", "loop", "st-onnx", "st-onnx-int8"):
            vs_ours = f"{_ratio(r, 'separate', 'ours', m)} / {_ratio(r, 'alternate', 'ours', m)} (torch ÷ it)"
        vs_st = "—" if m == "st" else f"{_ratio(r, 'separate', m, 'st')} / {_ratio(r, 'alternate', m, 'st')}"
        lines.append(
            f"| {NAMES[m]} | {_num(s, 'median_s', '.2f')} | {_num(s, 'tokens_per_s', '.0f')} | "
            f"{_num(a, 'median_s', '.2f')} | {_num(a, 'tokens_per_s', '.0f')} | "
            f"{'—' if share is None else f'{share:.0%}'} | {s.get('size_on_disk_mb', 0):.0f} | "
            f"{s.get('peak_rss_mb', 0):.0f} | {vs_ours} | {vs_st} |"
        )
    peers = {m: sep[m]["median_s"] for m in ("st", "st-onnx", "st-onnx-int8") if m in sep}
    if peers and "onnx-int8" in sep:
        fastest = min(peers, key=peers.__getitem__)
        lines += ["", f"Fastest sentence-transformers CPU backend here (separate processes): `{fastest}`, "
                  f"{peers[fastest]:.2f} s; contextvec int8 is {peers[fastest] / sep['onnx-int8']['median_s']:.2f}× "
                  "it. sentence-transformers' ONNX backends run in their own venv (optimum-onnx pins transformers "
                  "< 4.58), so they are timed in separate processes only."]  # fmt: skip
    parity = [
        f"{m} {kind}: cosine mean {p['cos_mean']:.5f}, min {p['cos_min']:.4f}"
        for m in ("onnx", "onnx-int8")
        for kind in ("top", "recipe")
        if (p := alt.get(m, {}).get(f"parity_{kind}"))
    ]
    if parity:
        lines += ["", "Word vectors against torch float32 on these sentences (top layer; the model's recipe layers): "
                  + "; ".join(parity) + "."]  # fmt: skip
    return "\n".join(lines)
