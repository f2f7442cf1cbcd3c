"""`contextvec eval all`: every benchmark for one model, per layer where it applies, as JSON + Markdown + a plot.

Tasks (data in shared/DESIGN.md, all offline): word in context (WordNet pairs), WordSim-353 / SimLex-999
(static vectors as they are; contextual models distilled on a Brown sample, per layer), Google analogies
(static vectors), Lee document similarity, Rotten Tomatoes and BBC News classification, and a Brown POS
probe. Sizes are parameters (`SuiteSizes`); the defaults keep a 12-layer model under ~15 minutes on 2 CPU cores.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from contextvec.embedder import Embedder
from contextvec.eval.features import n_layers, sentence_features, word_features
from contextvec.loader import load_embedder
from contextvec.protocol import EmbedderProtocol
from contextvec.static.embedder import StaticEmbedder

TASKS = ("wic", "wordsim", "analogy", "lee", "rotten_tomatoes", "bbc_news", "pos")


@dataclass(frozen=True)
class SuiteSizes:
    distill_sentences: int = 3000  # Brown sentences for distilled word-similarity vectors
    pos_train: int = 2000  # Brown sentences for the POS probe
    pos_test: int = 1000
    correction_sentences: int = 2000  # Brown sentences for the centering means (WiC search)
    folds: int = 5


def run_wic(emb: EmbedderProtocol, sizes: SuiteSizes) -> dict[str, Any]:
    from contextvec.analysis.correction import fit_correction
    from contextvec.data.brown import sentences
    from contextvec.eval.wic import build_wordnet_pairs
    from contextvec.eval.wic_eval import evaluate_wic

    train, test = build_wordnet_pairs()
    means = None
    if isinstance(emb, Embedder):
        brown = itertools.islice(sentences(), 1, None, 17)  # spread over the genres; not the evaluation data
        means = fit_correction(emb, brown, max_texts=sizes.correction_sentences).means
    return evaluate_wic(emb, train, test, means=means).to_dict()


def run_wordsim(emb: EmbedderProtocol, sizes: SuiteSizes) -> dict[str, Any]:
    from contextvec.eval.wordsim import evaluate_similarity, load_pairs

    sets = {name: load_pairs(name) for name in ("wordsim353", "simlex999")}
    if isinstance(emb, StaticEmbedder):
        layers = [emb.vectors]
        note = "static vectors as they are"
    else:
        from contextvec.data.brown import sentences
        from contextvec.static.corpus import CorpusWords
        from contextvec.static.distill import distill_layers

        assert isinstance(emb, Embedder), "load_embedder returns an Embedder or a StaticEmbedder"
        vocab = {w.lower() for pairs in sets.values() for p in pairs for w in (p.a, p.b)}
        texts = list(itertools.islice(sentences(), 0, None, 19))[: sizes.distill_sentences]
        layers = distill_layers(emb, CorpusWords(texts), vocabulary=vocab)
        note = f"mean of each word's contextual vectors over {len(texts)} Brown sentences, per layer"
    out: dict[str, Any] = {"note": note}
    for name, pairs in sets.items():
        results = [evaluate_similarity(v, pairs, name) for v in layers]
        out[name] = {"per_layer": [r.spearman for r in results], "coverage": [r.coverage for r in results]}
    return out


def run_analogy(emb: EmbedderProtocol, sizes: SuiteSizes) -> dict[str, Any] | None:
    if not isinstance(emb, StaticEmbedder):
        return None  # a contextual model has no vocabulary-wide static space to search
    from contextvec.eval.analogy import evaluate_analogy

    return asdict(evaluate_analogy(emb.vectors))


def run_lee(emb: EmbedderProtocol, sizes: SuiteSizes) -> dict[str, Any]:
    from contextvec.eval.probes import lee_documents, lee_spearman

    docs, ratings = lee_documents()
    feats = sentence_features(emb, docs)  # (50, S, D)
    return {"per_layer": [lee_spearman(feats[:, k], ratings) for k in range(feats.shape[1])], "docs": len(docs)}


def run_classification(emb: EmbedderProtocol, sizes: SuiteSizes, dataset: str) -> dict[str, Any]:
    from contextvec.data.classification import bbc_news, rotten_tomatoes
    from contextvec.eval.probes import classify_cv

    data = rotten_tomatoes() if dataset == "rotten_tomatoes" else bbc_news()
    feats = sentence_features(emb, data.texts)  # (N, S, D)
    per_layer = [classify_cv(feats[:, k], data.labels, sizes.folds) for k in range(feats.shape[1])]
    return {"per_layer": per_layer, "n": len(data.texts), "classes": len(set(data.labels)), "note": data.note}


def run_pos(emb: EmbedderProtocol, sizes: SuiteSizes) -> dict[str, Any]:
    from contextvec.eval.probes import brown_pos_split, linear_probe

    tr_w, tr_t, te_w, te_t = brown_pos_split(sizes.pos_train, sizes.pos_test)
    x_tr, x_te = word_features(emb, tr_w), word_features(emb, te_w)  # (W, S, D) float16
    y_tr = [t for s in tr_t for t in s]
    y_te = [t for s in te_t for t in s]
    per_layer = [linear_probe(x_tr[:, k], y_tr, x_te[:, k], y_te) for k in range(x_tr.shape[1])]
    majority = max(set(y_tr), key=y_tr.count)
    return {
        "per_layer": per_layer,
        "train_words": len(y_tr),
        "test_words": len(y_te),
        "most_frequent_tag_baseline": float(np.mean([t == majority for t in y_te])),
    }


RUNNERS: dict[str, Callable[[EmbedderProtocol, SuiteSizes], dict[str, Any] | None]] = {
    "wic": run_wic,
    "wordsim": run_wordsim,
    "analogy": run_analogy,
    "lee": run_lee,
    "rotten_tomatoes": lambda e, s: run_classification(e, s, "rotten_tomatoes"),
    "bbc_news": lambda e, s: run_classification(e, s, "bbc_news"),
    "pos": run_pos,
}


def run_suite(
    model: str,
    tasks: tuple[str, ...] = TASKS,
    sizes: SuiteSizes | None = None,
    on_task: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Run the tasks for one model; returns {"model", "layers", "tasks": {task: result}, "seconds": {...}}."""
    from contextvec.errors import OptionError

    unknown = [t for t in tasks if t not in RUNNERS]
    if unknown:
        raise OptionError(f"unknown task(s) {unknown}; choose from {', '.join(TASKS)}.")
    sizes = sizes or SuiteSizes()
    emb = load_embedder(model)
    report: dict[str, Any] = {"model": model, "layers": n_layers(emb), "tasks": {}, "seconds": {}}
    for task in tasks:
        start = time.perf_counter()
        result = RUNNERS[task](emb, sizes)
        report["seconds"][task] = round(time.perf_counter() - start, 1)
        if result is not None:
            report["tasks"][task] = result
        if on_task is not None:
            on_task(task, report["seconds"][task])
    return report


def headline(report: dict[str, Any]) -> dict[str, tuple[float, int | None]]:
    """task -> (best score over layers, its layer); WiC gives its improved test accuracy."""
    out: dict[str, tuple[float, int | None]] = {}
    t = report["tasks"]
    if "wic" in t:
        out["wic (naive)"] = (t["wic"]["naive"]["test"], t["wic"]["naive"]["first"])
        out["wic (improved)"] = (t["wic"]["improved"]["test"], None)
    for name in ("wordsim353", "simlex999"):
        if "wordsim" in t:
            vals = t["wordsim"][name]["per_layer"]
            out[name] = (float(np.nanmax(vals)), int(np.nanargmax(vals)))
    if "analogy" in t:
        out["analogy"] = (t["analogy"]["accuracy"], None)
    for name in ("lee", "rotten_tomatoes", "bbc_news", "pos"):
        if name in t:
            vals = t[name]["per_layer"]
            out[name] = (float(np.max(vals)), int(np.argmax(vals)))
    return out


def to_markdown(report: dict[str, Any]) -> str:
    """A per-layer table (rows = layers) plus the headline numbers."""
    t = report["tasks"]
    cols = [
        c
        for c in ("wic", "wordsim353", "simlex999", "lee", "rotten_tomatoes", "bbc_news", "pos")
        if c in t or (c in ("wordsim353", "simlex999") and "wordsim" in t)
    ]

    def series(c: str) -> list[float]:
        if c == "wic":
            return [s["test"] for s in t["wic"]["per_layer"]]
        if c in ("wordsim353", "simlex999"):
            return list(t["wordsim"][c]["per_layer"])
        return list(t[c]["per_layer"])

    lines = [f"### {report['model']}", "", "| layer | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for k in range(report["layers"]):
        lines.append(f"| {k} | " + " | ".join(f"{series(c)[k]:.3f}" for c in cols) + " |")
    lines.append("")
    if "wic" in t:
        w = t["wic"]
        lines.append(
            f"Word in context, test accuracy: naive best layer ({w['naive']['name']}, chosen on train) "
            f"**{w['naive']['test']:.3f}**; improved ({w['improved']['name']}, chosen on train among "
            f"{w['candidates']} candidates) **{w['improved']['test']:.3f}**."
        )
    if "analogy" in t:
        a = t["analogy"]
        lines.append(
            f"Google analogies (3CosAdd, top 30k words): {a['accuracy']:.3f} (semantic {a['semantic']:.3f}, "
            f"syntactic {a['syntactic']:.3f}), {a['covered']}/{a['total']} questions covered."
        )
    if "pos" in t:
        lines.append(f"POS probe: most-frequent-tag baseline {t['pos']['most_frequent_tag_baseline']:.3f}.")
    return "\n".join(lines) + "\n"


PANELS = ("wic", "wordsim353", "simlex999", "lee", "rotten_tomatoes", "bbc_news", "pos")  # tasks with per-layer scores


def _panel_series(report: dict[str, Any], panel: str) -> list[float] | None:
    """One report's per-layer scores for one panel, or None when that task did not run."""
    t = report["tasks"]
    if panel == "wic":
        return [s["test"] for s in t["wic"]["per_layer"]] if "wic" in t else None
    if panel in ("wordsim353", "simlex999"):
        return list(t["wordsim"][panel]["per_layer"]) if "wordsim" in t else None
    return list(t[panel]["per_layer"]) if panel in t else None


def plot_report(reports: list[dict[str, Any]], path: Path) -> Path | None:
    """Score vs relative depth, one panel per task that ran (none ran with per-layer scores: no file, None)."""
    panels = [p for p in PANELS if any(_panel_series(r, p) is not None for r in reports)]
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2), squeeze=False)
    for ax, task in zip(axes[0], panels, strict=True):
        for r in reports:
            ys = _panel_series(r, task)
            if ys is None:
                continue
            if len(ys) == 1:  # a static model: one horizontal line each, told apart by style
                n_static = sum(1 for x in reports[: reports.index(r)] if x["layers"] == 1)
                style = ("--", ":", "-.", (0, (5, 1)))[n_static % 4]
                ax.axhline(
                    ys[0], ls=style, lw=1.2, label=r["model"], color=("0.35", "0.55", "0.2", "0.7")[n_static % 4]
                )
            else:
                ax.plot(np.linspace(0, 1, len(ys)), ys, marker="o", ms=2.5, label=r["model"])
        ax.set_title(task, fontsize=10)
        ax.set_xlabel("relative depth")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)  # the first panel has a line for every report that ran its task
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(report["model"]).name.replace(".", "_")
    paths = [out_dir / f"{stem}.json", out_dir / f"{stem}.md"]
    paths[0].write_text(json.dumps(report, indent=1), encoding="utf-8")
    paths[1].write_text(to_markdown(report), encoding="utf-8")
    picture = plot_report([report], out_dir / f"{stem}.png")
    return paths if picture is None else [*paths, picture]
