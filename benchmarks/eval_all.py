"""The evaluation suite for every offline model, and the tables and plot of docs/EVALUATION.md.

    python benchmarks/eval_all.py                 # all models (about 45 minutes on 2 CPU cores)
    python benchmarks/eval_all.py --render-only   # re-render docs/EVALUATION.md from the saved JSON

Each model is one `contextvec eval all --model M` run (results in benchmarks/results/eval/<model>.json). The
static baselines trained here (word2vec skip-gram and PPMI-SVD on the Brown corpus) are saved under the
contextvec cache and evaluated like any vectors file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from harness import ROOT, heavy_lock, result_path, write_result

from contextvec.data import brown
from contextvec.eval.suite import plot_report
from contextvec.models.cache import cache_root
from contextvec.static.corpus import CorpusWords
from contextvec.static.formats import save_vectors
from contextvec.static.train import train_lsa, train_word2vec

RESULTS = result_path("eval")
MODELS = ["minilm", "mpnet", "smollm2", "glove-50d", "word2vec-brown", "ppmi-svd-brown"]


def static_baselines() -> dict[str, Path]:
    """Train (once) word2vec and PPMI-SVD on Brown; return name -> vectors file."""
    folder = cache_root() / "eval"
    folder.mkdir(parents=True, exist_ok=True)
    files = {"word2vec-brown": folder / "word2vec-brown.txt", "ppmi-svd-brown": folder / "ppmi-svd-brown.txt"}
    if all(p.exists() for p in files.values()):
        return files
    corpus_file = folder / "brown.txt"
    corpus_file.write_text("\n".join(brown.sentences()) + "\n", encoding="utf-8")
    corpus = CorpusWords(corpus_file)
    w2v, _ = train_word2vec(corpus, architecture="skipgram", vector_size=100, window=5, min_count=5, epochs=5)
    save_vectors(w2v, files["word2vec-brown"], "word2vec")
    lsa = train_lsa(corpus, dim=100, weighting="ppmi", min_count=5, window=5)
    save_vectors(lsa, files["ppmi-svd-brown"], "word2vec")
    return files


def run(model: str, target: str) -> None:
    cmd = [sys.executable, "-m", "contextvec.cli", "eval", "all", "--model", target, "--out", str(RESULTS)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    produced = RESULTS / f"{Path(target).name.replace('.', '_')}.json"
    data, renamed = json.loads(produced.read_text()), produced.name != f"{model}.json"
    write_result(RESULTS / f"{model}.json", {**data, "model": model} if renamed else data)  # with the machine
    if renamed:  # a vectors file: name the results after the model
        produced.unlink()
        for suffix in (".md", ".png"):
            produced.with_suffix(suffix).replace(RESULTS / f"{model}{suffix}")


def _fmt(v: float | None) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def _best(values: list[float]) -> tuple[float, int]:
    arr = np.asarray(values, dtype=float)
    k = int(np.nanargmax(arr))
    return float(arr[k]), k


def render(reports: dict[str, dict[str, Any]]) -> str:
    lines: list[str] = []
    contextual = [m for m in reports if reports[m]["layers"] > 1]
    # headline table
    lines += [
        "| model | WiC naive | WiC improved | WordSim-353 | SimLex-999 | analogy | Lee | Rotten Tomatoes | BBC News "
        "| POS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m, r in reports.items():
        t = r["tasks"]
        cells = []
        if "wic" in t:
            w = t["wic"]
            cells += [
                f"{w['naive']['test']:.3f} ({w['naive']['name']})",
                f"{w['improved']['test']:.3f} ({w['improved']['name']})",
            ]
        else:
            cells += ["—", "—"]
        for d in ("wordsim353", "simlex999"):
            if r["layers"] > 1:
                v, k = _best(t["wordsim"][d]["per_layer"])
                cells.append(f"{v:.3f} (L{k})")
            else:
                cells.append(_fmt(t["wordsim"][d]["per_layer"][0]))
        cells.append(_fmt(t["analogy"]["accuracy"]) if "analogy" in t else "—")
        for task in ("lee", "rotten_tomatoes", "bbc_news", "pos"):
            v, k = _best(t[task]["per_layer"])
            cells.append(f"{v:.3f} (L{k})" if r["layers"] > 1 else f"{v:.3f}")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines.append("")
    # WiC naive vs improved
    lines += [
        "#### Word in context: naive vs improved (test split; both chosen on train)",
        "",
        "| model | naive: best single layer | test acc. | improved: best candidate | test acc. | gain | candidates |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in contextual:
        w = reports[m]["tasks"]["wic"]
        gain = w["improved"]["test"] - w["naive"]["test"]
        lines.append(
            f"| {m} | {w['naive']['name']} (train {w['naive']['train']:.3f}) | **{w['naive']['test']:.3f}** | "
            f"{w['improved']['name']} (train {w['improved']['train']:.3f}) | **{w['improved']['test']:.3f}** | "
            f"{gain:+.3f} | {w['candidates']} |"
        )
    lines.append("")
    # per layer tables
    for m in contextual:
        t = reports[m]["tasks"]
        lines += [
            f"#### {m}: per layer",
            "",
            "| layer | WiC (test) | WordSim-353 | SimLex-999 | Lee | Rotten Tomatoes | BBC News | POS |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for k in range(reports[m]["layers"]):
            row = [
                t["wic"]["per_layer"][k]["test"],
                t["wordsim"]["wordsim353"]["per_layer"][k],
                t["wordsim"]["simlex999"]["per_layer"][k],
                t["lee"]["per_layer"][k],
                t["rotten_tomatoes"]["per_layer"][k],
                t["bbc_news"]["per_layer"][k],
                t["pos"]["per_layer"][k],
            ]
            lines.append(f"| {k} | " + " | ".join(_fmt(v) for v in row) + " |")
        lines.append("")
    some = next(iter(reports.values()))["tasks"]
    lines.append(
        f"Sizes: WiC {some['wic']['n_train']} train / {some['wic']['n_test']} test pairs; POS probe "
        f"{some['pos']['train_words']} train / {some['pos']['test_words']} test words (most-frequent-tag baseline "
        f"{some['pos']['most_frequent_tag_baseline']:.3f}); Rotten Tomatoes {some['rotten_tomatoes']['n']} snippets; "
        f"BBC News {some['bbc_news']['n']} articles ({some['bbc_news']['note']}); Lee {some['lee']['docs']} documents."
    )
    seconds = ", ".join(f"{m} {sum(r['seconds'].values()) / 60:.0f} min" for m, r in reports.items())
    lines.append(f"Run time per model (2 CPU cores): {seconds}.")
    return "\n".join(lines) + "\n"


def render_recipes(reports: dict[str, dict[str, Any]]) -> str:
    """The recipes in contextvec/models/recipes.py next to the WiC numbers that chose them."""
    from contextvec.models.recipes import RECIPES

    lines = [
        "| model | default layers | compare: context-only | WiC test, naive | WiC test, default |",
        "|---|---|---|---|---|",
    ]
    for m, r in reports.items():
        if m not in RECIPES:
            continue
        w = r["tasks"]["wic"]
        rec = RECIPES[m]
        chosen = (
            w["improved"]
            if rec.context_only == w["improved"]["context_only"] and not w["improved"]["center"]
            else w["naive"]
        )
        lines.append(
            f"| {m} | `{rec.layers}` | {'yes' if rec.context_only else 'no'} | {w['naive']['test']:.3f} "
            f"({w['naive']['name']}) | {chosen['test']:.3f} ({chosen['name']}) |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument("--models", nargs="*", default=MODELS)
    args = ap.parse_args()
    if not args.render_only:
        with heavy_lock():
            files = static_baselines()
            for m in args.models:
                run(m, str(files.get(m, m)))
    reports = {m: json.loads((RESULTS / f"{m}.json").read_text()) for m in MODELS if (RESULTS / f"{m}.json").exists()}
    plot_report(list(reports.values()), ROOT / "docs" / "img" / "eval_layers.png")
    template = (ROOT / "docs" / "EVALUATION.template.md").read_text()
    page = template.replace("{{TABLES}}", render(reports)).replace("{{RECIPES}}", render_recipes(reports))
    (ROOT / "docs" / "EVALUATION.md").write_text(page)
    print("wrote docs/EVALUATION.md and docs/img/eval_layers.png")


if __name__ == "__main__":
    main()
