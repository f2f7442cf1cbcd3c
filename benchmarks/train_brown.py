"""Small contextual models trained here on Brown, next to static vectors trained on the same documents.

    contextvec train elmo|mlm|causal brown --out DIR/KIND --max-minutes M   # each under flock /work/heavy.lock
    python benchmarks/train_brown.py --trained DIR          # -> benchmarks/results/train_brown.json
                                                            #    docs/img/training_curves.png

This script trains word2vec (skip-gram) and PPMI-SVD on the same 450 Brown documents the models saw (every 10th
document is held out, contextvec.train.corpus), then runs the evaluation suite's POS probe, WiC (contextvec's
WordNet split) and WordSim-353 / SimLex-999 (contextual models distilled on Brown sentences) on all five.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from harness import ROOT, heavy_lock, result_path, write_result

KINDS = ("elmo", "mlm", "causal")


def train_static(out: Path, source: str) -> dict[str, Path]:
    from contextvec.static.corpus import CorpusWords
    from contextvec.static.formats import save_vectors
    from contextvec.static.train import train_lsa, train_word2vec
    from contextvec.train.corpus import load_corpus

    texts = load_corpus(source).train_texts()
    corpus = CorpusWords(texts)
    paths = {"word2vec": out / "word2vec", "ppmi-svd": out / "ppmi-svd"}
    t = time.perf_counter()
    w2v, _ = train_word2vec(corpus, vector_size=100, window=5, min_count=3, epochs=5, workers=2, seed=0)
    save_vectors(w2v, paths["word2vec"], "npy")
    print(f"word2vec {time.perf_counter() - t:.0f}s", flush=True)
    t = time.perf_counter()
    svd = train_lsa(corpus, dim=100, weighting="ppmi", min_count=3, window=5, seed=0)
    save_vectors(svd, paths["ppmi-svd"], "npy")
    print(f"ppmi-svd {time.perf_counter() - t:.0f}s", flush=True)
    return paths


def evaluate(path: Path, tasks: tuple[str, ...], small: bool) -> dict[str, Any]:
    from contextvec.eval.suite import SuiteSizes, headline, run_suite

    sizes = SuiteSizes(distill_sentences=3000, pos_train=2000, pos_test=1000, correction_sentences=1000)
    if small:  # a plumbing check, not a measurement
        sizes = SuiteSizes(distill_sentences=50, pos_train=50, pos_test=20, correction_sentences=50)
    report = run_suite(str(path), tasks=tasks, sizes=sizes)
    try:
        report["headline"] = {k: list(v) for k, v in headline(report).items()}
    except ValueError:  # a task with no covered pair at all (all NaN): the per-layer rows say so
        report["headline"] = {}
    print(path.name, json.dumps(report["headline"]), report["seconds"], flush=True)
    return report


def plot_curves(trained: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
    for ax, kind in zip(axes, KINDS, strict=True):
        log = [json.loads(x) for x in (trained / kind / "train_log.jsonl").read_text().splitlines()]
        summary = json.loads((trained / kind / "training.json").read_text())
        ax.plot([r["seconds"] / 60 for r in log], [r["loss"] for r in log], lw=1)
        ppl = summary["heldout"].get("perplexity")
        ax.set_title(f"{kind}: held-out perplexity {ppl:.0f}" if ppl else kind, fontsize=10)
        ax.set_xlabel("training minutes (2-core CPU)")
        ax.set_ylabel("training loss (nats per prediction)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def table(result: dict[str, Any]) -> str:
    """The docs/training.md tables: training runs, then the evaluation rows (best layer in brackets)."""
    lines = [
        "| model | minutes | steps | tokens seen | tokens/s | final train loss | held-out perplexity |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, t in result["training"].items():
        tps = sorted(r["tokens_per_s"] for r in t["curve"])
        median = tps[len(tps) // 2] if tps else 0.0
        ppl = t["heldout"].get("perplexity", float("nan"))
        extra = ""
        if "forward_perplexity" in t["heldout"]:
            h = t["heldout"]
            extra = f" (forward {h['forward_perplexity']:.0f}, backward {h['backward_perplexity']:.0f})"
        lines.append(
            f"| {kind} | {t['minutes']:.1f} | {t['steps']} | {t['tokens']:,} | {median:,.0f} | "
            f"{t['final_train_loss']:.2f} | {ppl:.1f}{extra} |"
        )
    cols = [("pos", "POS probe"), ("wic (naive)", "WiC (best layer)"), ("wic (improved)", "WiC (improved)"),
            ("wordsim353", "WordSim-353"), ("simlex999", "SimLex-999")]  # fmt: skip
    lines += ["", "| model | " + " | ".join(c for _, c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, report in result["eval"].items():
        cells = []
        for key, _ in cols:
            v = report.get("headline", {}).get(key)
            cells.append("–" if v is None else f"{v[0]:.3f}" + (f" ({v[1]})" if v[1] is not None else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trained", type=Path, required=True, help="folder holding elmo/, mlm/ and causal/")
    ap.add_argument("--tasks", default="pos,wic,wordsim")
    ap.add_argument("--out", type=Path, default=result_path("train_brown.json"))
    ap.add_argument("--corpus", default="brown", help="what the static baselines train on (the models' corpus)")
    ap.add_argument("--small", action="store_true", help="tiny evaluation sizes: checks the plumbing only")
    ap.add_argument("--table", action="store_true", help="print the Markdown tables of --out and exit")
    args = ap.parse_args()
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return
    tasks = tuple(args.tasks.split(","))
    result: dict[str, Any] = {"tasks": tasks, "training": {}, "eval": {}}
    for kind in KINDS:
        folder = args.trained / kind
        result["training"][kind] = json.loads((folder / "training.json").read_text())
        result["training"][kind]["curve"] = [
            json.loads(x) for x in (folder / "train_log.jsonl").read_text().splitlines()
        ]
    plot_curves(args.trained, ROOT / "docs" / "img" / "training_curves.png")
    with heavy_lock():
        evaluate_all(args, tasks, result)
    print(f"wrote {args.out}")


def evaluate_all(args: argparse.Namespace, tasks: tuple[str, ...], result: dict[str, Any]) -> None:
    """Train the static baselines, then evaluate all five, saving after each."""
    static = train_static(args.trained, args.corpus)
    for name, path in [*static.items(), *((k, args.trained / k) for k in KINDS)]:
        t = time.perf_counter()
        result["eval"][name] = evaluate(path, tasks, args.small)
        result["eval"][name]["total_seconds"] = round(time.perf_counter() - t, 1)
        write_result(args.out, result)  # partial results survive a timeout


if __name__ == "__main__":
    main()
