"""`contextvec eval all | wic | wic-pairs | wordsim`: the evaluation suite from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from contextvec.cli.common import err, fail, out, require
from contextvec.errors import ContextvecError, InvalidInputError

eval_app = typer.Typer(rich_markup_mode=None, help="Evaluate vectors on public data.", no_args_is_help=True)


@eval_app.command("all")
def eval_all(
    model: Annotated[str, typer.Option("--model", "-m", help="minilm | mpnet | smollm2 | glove-50d | a vectors file")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="folder for MODEL.json, .md and .png")] = Path(
        "eval-results"
    ),
    tasks: Annotated[str, typer.Option(help="comma-separated subset of the tasks")] = ",".join(
        ("wic", "wordsim", "analogy", "lee", "rotten_tomatoes", "bbc_news", "pos")
    ),
) -> None:
    """Every benchmark for one model, per layer where it applies: JSON + Markdown table + plot."""
    from contextvec.eval.suite import headline, run_suite, write_report

    require("static", "contextvec eval all")  # probes and correlations: scikit-learn, scipy, gensim's data
    require("viz", "contextvec eval all")  # the report's plot
    try:
        report = run_suite(
            model,
            tuple(t.strip() for t in tasks.split(",") if t.strip()),
            on_task=lambda task, s: err.print(f"  {task}: {s:.0f} s", highlight=False),
        )
        paths = write_report(report, out_dir)
    except ContextvecError as exc:
        raise fail(exc) from None
    table = Table("task", "best score", "layer", title=f"{model} (details: {paths[1]})")
    for task, (score, layer) in headline(report).items():
        table.add_row(task, f"{score:.3f}", "-" if layer is None else str(layer))
    out.print(table)


@eval_app.command("wic-pairs")
def wic_pairs(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="folder for train.jsonl and test.jsonl")],
    test_share: Annotated[float, typer.Option(help="share of lemmas in test")] = 0.3,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
) -> None:
    """Build word-in-context pairs from WordNet usage examples (split by lemma) as WiC JSON Lines."""
    from contextvec.eval.wic import build_wordnet_pairs, write_pairs

    try:
        train, test = build_wordnet_pairs(test_share=test_share, seed=seed)
    except ContextvecError as exc:
        raise fail(exc) from None
    write_pairs(train, out_dir / "train.jsonl")
    write_pairs(test, out_dir / "test.jsonl")
    err.print(f"wrote {len(train)} train and {len(test)} test pairs to {out_dir}", highlight=False)


@eval_app.command("wic")
def eval_wic(
    pairs: Annotated[Path, typer.Argument(help="WiC JSON Lines: word, sentence1, start1, end1, sentence2, ...")],
    model: Annotated[
        str, typer.Option("--model", "-m", help="minilm | mpnet | smollm2 | a folder | glove-50d")
    ] = "minilm",
    layers: Annotated[
        str | None, typer.Option(help="layers to score, e.g. '-4:' (default: every single layer)")
    ] = None,
    train: Annotated[
        Path | None,
        typer.Option(
            help="pairs to fit the threshold on (default: the file's split field, else 5-fold cross-validation by word)"
        ),
    ] = None,
    context_only: Annotated[
        bool | None,
        typer.Option(
            "--context-only/--full",
            help="subtract each word's out-of-context vector (default: only in the model's recipe row)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Word-in-context accuracy of cosine similarity with a fitted threshold, on any WiC-format file."""
    from contextvec.eval.wic import read_pairs
    from contextvec.eval.wic_file import score_wic_pairs
    from contextvec.loader import load_embedder

    try:
        test_pairs = read_pairs(pairs)
        train_pairs = read_pairs(train) if train else [p for p in test_pairs if p.split == "train"]
        if not train:
            test_pairs = [p for p in test_pairs if p.split != "train"] if train_pairs else test_pairs
        if not test_pairs:
            raise InvalidInputError(f"{pairs} has only train pairs; give the test pairs (or no split field).")
        result = score_wic_pairs(
            load_embedder(model), train_pairs, test_pairs, layers=layers, context_only=context_only
        )
    except ContextvecError as exc:
        raise fail(exc) from None
    if as_json:
        out.print_json(json.dumps(result))
        return
    table = Table("layers", "accuracy", title=f"{model} on {pairs.name} ({result['protocol']})")
    for row in result["scores"]:
        table.add_row(row["layers"], f"{row['accuracy']:.3f}")
    out.print(table)


@eval_app.command("wordsim")
def wordsim(
    model: Annotated[str, typer.Option("--model", "-m", help="static vectors: glove-50d, a file or a folder")],
    dataset: Annotated[list[str] | None, typer.Option(help="wordsim353, simlex999 or a TSV file")] = None,
) -> None:
    """Spearman correlation with human similarity ratings, and how many pairs the model covers."""
    from contextvec.eval.wordsim import evaluate_similarity, load_pairs
    from contextvec.static.packaged import load_static

    require("static", "contextvec eval wordsim")  # the datasets ship in gensim; Spearman from scipy
    try:
        vectors = load_static(model)
        results = [evaluate_similarity(vectors, load_pairs(d), d) for d in dataset or ["wordsim353", "simlex999"]]
    except ContextvecError as exc:
        raise fail(exc) from None
    table = Table(f"{vectors.name}", "Spearman", "pairs covered")
    for r in results:
        table.add_row(r.dataset, f"{r.spearman:.3f}", f"{r.covered}/{r.total}")
    out.print(table)
