"""Fine-tuning benchmarks (docs/finetune.md): frozen vs fine-tuned on WiC (WordNet split), POS (Brown) and Rotten
Tomatoes, and a data-size curve. Each run appends rows to benchmarks/results/finetune.json with its wall time.

    python benchmarks/finetune.py wic --model minilm --modes recipe,none,last-2,all
    python benchmarks/finetune.py pos --modes none,all --train 2000 --test 1000
    python benchmarks/finetune.py rt --modes none,all
    python benchmarks/finetune.py curve --sizes 100,300,1000,3000,0 --modes none,all
    python benchmarks/finetune.py plot

Each experiment holds the heavy-work lock (benchmarks/harness.py) while it runs. Test sets are never trained on:
WiC test is split by word, Brown test is every 20th sentence, Rotten Tomatoes test is a seeded 20% of the snippets.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import ROOT, heavy_lock, machine, read_result, result_path, write_result

from contextvec.finetune import FinetuneConfig, finetune, predict
from contextvec.finetune.data import Example, PairExample, TagExample, TextExample

RESULTS = result_path("finetune.json")


def wic_data() -> tuple[list[Example], list[Example]]:
    from contextvec.eval.wic import build_wordnet_pairs

    train, test = build_wordnet_pairs()
    return (
        [PairExample(p, f"wic-train:{i}") for i, p in enumerate(train)],
        [PairExample(p, f"wic-test:{i}") for i, p in enumerate(test)],
    )


def pos_data(n_train: int, n_test: int) -> tuple[list[Example], list[Example]]:
    from contextvec.eval.probes import brown_pos_split

    tr_w, tr_t, te_w, te_t = brown_pos_split(n_train, n_test)
    return (
        [TagExample(w, t, f"brown-train:{i}") for i, (w, t) in enumerate(zip(tr_w, tr_t, strict=True))],
        [TagExample(w, t, f"brown-test:{i}") for i, (w, t) in enumerate(zip(te_w, te_t, strict=True))],
    )


def rt_data() -> tuple[list[Example], list[Example]]:
    from contextvec.data.classification import rotten_tomatoes

    d = rotten_tomatoes()
    rows = [TextExample(t, y, f"rt:{i}") for i, (t, y) in enumerate(zip(d.texts, d.labels, strict=True))]
    random.Random(0).shuffle(rows)
    n_test = len(rows) // 5
    return list(rows[n_test:]), list(rows[:n_test])


def wic_recipe_row(model: str, train: list[Example], test: list[Example]) -> dict[str, Any]:
    """The frozen recipe: the model's default layers (context-only), cosine, threshold fitted on train."""
    from contextvec import Embedder
    from contextvec.eval.wic_file import score_wic_pairs

    t0 = time.perf_counter()
    report = score_wic_pairs(Embedder(model), [e.pair for e in train], [e.pair for e in test], layers=-1)  # type: ignore[union-attr]
    row = report["scores"][0]
    return {
        "mode": "recipe",
        "test_accuracy": row["accuracy"],
        "detail": row["layers"],
        "seconds": time.perf_counter() - t0,
        "n_train": len(train),
        "n_test": len(test),
    }


def train_row(
    task: str, model: str, mode: str, train: list[Example], test: list[Example], keep: str | None = None, **cfg: Any
) -> dict[str, Any]:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = keep or tmp_dir
        result = finetune(
            task,
            train,
            out=tmp,
            model=model,
            config=FinetuneConfig(unfreeze=mode, **cfg),  # type: ignore[arg-type]
            progress=True,
        )
        trained = time.perf_counter() - t0
        preds = predict(tmp, test)
    return {
        "mode": mode,
        "test_accuracy": preds.accuracy,
        "val_accuracy": result.val_accuracy,
        "n_train": result.n_train,
        "n_val": result.n_val,
        "n_test": len(test),
        "epochs_run": len(result.history.epochs),
        "best_epoch": result.history.best_epoch,
        "start_val_accuracy": result.history.start_val,
        "epochs": result.history.epochs,
        "layer_weights": result.layer_weights,
        "train_seconds": trained,
        "seconds": time.perf_counter() - t0,
        "config": {k: v for k, v in cfg.items()},
    }


def recipe_ari(model: str, sets: dict[str, Any]) -> float:
    """Mean k-means ARI (k = gold senses) of the model's recipe vectors: its default layers, context-only as its
    recipe says: the vectors compare and senses use (eval.senses scores single layers only)."""
    from sklearn.metrics import adjusted_rand_score

    from contextvec import Embedder
    from contextvec.analysis.senses import cluster, normalize
    from contextvec.models.recipes import default_context_only

    emb = Embedder(model)
    flat = [e for exs in sets.values() for e in exs]
    v = emb.embed_spans(
        [(e.text, e.start, e.end) for e in flat], context_only=default_context_only(model)
    ).vectors  # (N, D)
    aris, row = [], 0
    for exs in sets.values():
        gold = [e.synset for e in exs]
        aris.append(adjusted_rand_score(gold, cluster(normalize(v[row : row + len(exs)]), len(set(gold)), "kmeans", 0)))
        row += len(exs)
    return float(sum(aris) / len(aris))


def senses_rows(base: str, folder: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Sense clustering (k-means ARI vs WordNet) on the WiC *test* words only, base model vs fine-tuned folder:
    per layer (eval.senses) and on the recipe's vectors (the folder keeps the base recipe)."""
    from contextvec import Embedder
    from contextvec.eval.senses import score_senses, sense_sets, summarize

    _, test = wic_data()
    test_words = {e.pair.word for e in test}  # type: ignore[union-attr]
    sets = {w: exs for w, exs in sense_sets().items() if w.rsplit(".", 1)[0] in test_words}
    sets = dict(list(sets.items())[:limit])
    rows = []
    for name, model in (("base", base), ("fine-tuned", folder)):
        t0 = time.perf_counter()
        summary = summarize(score_senses(Embedder(model), sets))
        ari = summary["ari"]
        assert isinstance(ari, list)
        recipe = recipe_ari(model, sets)
        rows.append(
            {
                "mode": name,
                "test_accuracy": recipe,
                "recipe_ari": recipe,
                "ari_per_layer": ari,
                "best_ari": max(ari),
                "words": summary["words"],
                "occurrences": summary["occurrences"],
                "seconds": time.perf_counter() - t0,
            }
        )
    return rows


def save(experiment: str, model: str, rows: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    data = read_result(RESULTS) or {"runs": []}
    data["runs"].append(
        {
            "experiment": experiment,
            "model": model,
            "rows": rows,
            "machine": machine(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **extra,
        }
    )
    write_result(RESULTS, data, with_machine=False)  # each run carries its own machine
    for r in rows:
        print(
            experiment,
            model,
            r["mode"],
            r.get("size", ""),
            f"test {r['test_accuracy']:.4f}",
            f"{r['seconds']:.0f} s",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("experiment", choices=["wic", "pos", "rt", "curve", "plot", "senses", "table"])
    ap.add_argument("--keep", default=None, help="save each unfrozen run's folder at KEEP-MODE (for `senses`)")
    ap.add_argument("--folder", default=None, help="senses: the fine-tuned folder")
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--modes", default="none,all")
    ap.add_argument("--epochs", type=int, default=None, help="for unfrozen modes (frozen: the default, 40)")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--head-lr", type=float, default=None)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--sizes", default="100,300,1000,3000,0")
    ap.add_argument("--max-train", type=int, default=None, help="train on a seeded sample of N examples")
    ap.add_argument("--quick", action="store_true", help="smoke-test the script on 24 examples")
    a = ap.parse_args()
    global RESULTS
    if a.quick:  # results of a smoke run go to a scratch file
        RESULTS = Path(tempfile.gettempdir()) / "finetune-quick.json"
    if a.experiment == "plot":
        plot()
        return
    if a.experiment == "table":
        table()
        return
    with heavy_lock():
        run(a)


def run(a: argparse.Namespace) -> None:
    """One experiment: train and score each mode (and size), saving each row as it is done."""
    if a.experiment == "senses":
        limit = 3 if a.quick else None
        save("senses", a.model, senses_rows(a.model, a.folder, limit), {"folder": a.folder})
        return
    cfg: dict[str, Any] = {
        "epochs": a.epochs,
        "lr": a.lr,
        "head_lr": a.head_lr,
        "batch_size": a.batch_size,
        "max_examples": a.max_train,
    }
    task = {"wic": "wic", "pos": "tag", "rt": "classify", "curve": "classify"}[a.experiment]
    train, test = (
        {"wic": wic_data, "rt": rt_data, "curve": rt_data}[a.experiment]()
        if a.experiment != "pos"
        else pos_data(a.train, a.test)
    )
    if a.quick:  # a smoke run of the script itself: a few examples
        train, test = train[:24], test[:12]
    rows = []
    sizes = [int(s) for s in a.sizes.split(",")] if a.experiment == "curve" else [0]
    for size in sizes:
        for mode in a.modes.split(","):
            if mode == "recipe":
                rows.append(wic_recipe_row(a.model, train, test))
                continue
            subset = random.Random(0).sample(train, size) if 0 < size < len(train) else train
            mode_cfg = cfg if mode != "none" else {**cfg, "epochs": None}  # --epochs: unfrozen runs only
            keep = f"{a.keep}-{mode}" if a.keep and mode != "none" else None
            row = train_row(task, a.model, mode, subset, test, keep=keep, **mode_cfg)
            if a.experiment == "curve":
                row["size"] = size or len(train)
            rows.append(row)
            save(a.experiment, a.model, [row], {"partial": True})
    save(a.experiment, a.model, rows, {})


MODE_NAMES = {
    "recipe": "frozen recipe (cosine, threshold)",
    "none": "frozen, scalar mix + head",
    "all": "fine-tuned, all",
}


def table() -> None:
    """Markdown rows of every trained row (the per-row saves), for docs/finetune.md."""
    print("| task | model | mode | train / val / test | epochs | test accuracy | time |")
    print("|---|---|---|---|---|---|---|")
    for run in json.loads(RESULTS.read_text())["runs"]:
        if (
            not run.get("partial")
            and run["experiment"] not in ("senses",)
            and not any(r["mode"] == "recipe" for r in run["rows"])
        ):
            continue
        for r in run["rows"]:
            if run.get("partial") is None and r["mode"] != "recipe" and run["experiment"] != "senses":
                continue
            mode = MODE_NAMES.get(r["mode"], r["mode"].replace("last-", "fine-tuned, last "))
            size = f"{r.get('n_train', '')} / {r.get('n_val', '-')} / {r.get('n_test', '-')}"
            epochs = f"{r.get('epochs_run', '-')} (best {r.get('best_epoch', '-')})" if "epochs_run" in r else "-"
            name = run["experiment"] + (f" n={r['size']}" if "size" in r else "")
            acc, secs = f"{r['test_accuracy']:.3f}", f"{r['seconds']:.0f} s"
            print(f"| {name} | {run['model']} | {mode} | {size} | {epochs} | {acc} | {secs} |")


def plot_weights(runs: list[dict[str, Any]], plt: Any) -> None:
    """The frozen runs' learned scalar-mix weights per hidden state, one line per task and model."""
    fig, ax = plt.subplots(figsize=(6, 4))
    seen = set()
    for run in reversed(runs):
        for row in run["rows"]:
            key = (run["experiment"], run["model"])
            if row["mode"] == "none" and row.get("layer_weights") and run["experiment"] != "curve" and key not in seen:
                seen.add(key)
                w = row["layer_weights"]
                ax.plot(range(len(w)), w, marker="o", label=f"{run['experiment']} ({run['model']})")
    if not seen:
        return
    ax.set_xlabel("hidden state (0 = embeddings)")
    ax.set_ylabel("learned weight (softmax)")
    ax.set_title("Layers each task wanted (frozen encoder, scalar mix)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "img" / "finetune-layer-weights.png", dpi=120)


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_runs = json.loads(RESULTS.read_text())["runs"]
    plot_weights(all_runs, plt)
    runs = [r for r in all_runs if r["experiment"] == "curve" and r.get("partial")]  # one row each, as trained
    if not runs:
        return
    rows = [row for r in runs for row in r["rows"]]
    for r in all_runs:  # the whole training set: the Rotten Tomatoes runs of the same model
        if r["experiment"] == "rt" and r.get("partial") and r["model"] == runs[-1]["model"]:
            rows += [{**row, "size": row["n_train"] + row["n_val"]} for row in r["rows"]]
    run = {"model": runs[-1]["model"], "rows": rows}
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, label in (("none", "frozen (scalar mix + linear head)"), ("all", "fine-tuned (all layers)")):
        pts = sorted((r["size"], r["test_accuracy"]) for r in run["rows"] if r["mode"] == mode)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("training examples (Rotten Tomatoes snippets)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Data-size curve, {run['model']}: frozen vs fine-tuned")
    ax.grid(alpha=0.3)
    ax.legend()
    out = ROOT / "docs" / "img" / "finetune-curve.png"
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print("wrote", out)


if __name__ == "__main__":
    main()
