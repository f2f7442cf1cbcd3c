"""`contextvec eval all | wic | wic-pairs`: the evaluation suite from the command line (added to `eval`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from contextvec.cli_common import err, fail, out
from contextvec.cli_static import eval_app
from contextvec.errors import ContextvecError, InvalidInputError


@eval_app.command("all")
def eval_all(
    model: Annotated[str, typer.Option("--model", "-m", help="minilm | mpnet | smollm2 | glove-50d | a vectors file")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="folder for <model>.json, .md and .png")] = Path(
        "eval-results"
    ),
    tasks: Annotated[str, typer.Option(help="comma-separated subset of the tasks")] = ",".join(
        ("wic", "wordsim", "analogy", "lee", "rotten_tomatoes", "bbc_news", "pos")
    ),
) -> None:
    """Every benchmark for one model, per layer where it applies: JSON + Markdown table + plot."""
    from contextvec.eval.suite import headline, run_suite, write_report

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
    layers: Annotated[str, typer.Option(help="layers to score, e.g. '-4:' (default: every layer)")] = "",
    train: Annotated[
        Path | None,
        typer.Option(
            help="pairs to fit the threshold on (default: the file's split field, else 5-fold cross-validation by word)"
        ),
    ] = None,
    context_only: Annotated[bool, typer.Option(help="subtract each word's out-of-context vector")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Word-in-context accuracy of cosine similarity with a fitted threshold, on any WiC-format file."""
    from contextvec.eval.wic import read_pairs

    try:
        test_pairs = read_pairs(pairs)
        train_pairs = read_pairs(train) if train else [p for p in test_pairs if p.split == "train"]
        if not train:
            test_pairs = [p for p in test_pairs if p.split != "train"] if train_pairs else test_pairs
        if not test_pairs:
            raise InvalidInputError(f"{pairs} has only train pairs; give the test pairs (or no split field).")
        result = _score_wic(model, layers, context_only, train_pairs, test_pairs)
    except ContextvecError as exc:
        raise fail(exc) from None
    if as_json:
        out.print_json(json.dumps(result))
        return
    table = Table("layers", "accuracy", title=f"{model} on {pairs.name} ({result['protocol']})")
    for row in result["scores"]:
        table.add_row(row["layers"], f"{row['accuracy']:.3f}")
    out.print(table)


def _score_wic(model: str, layers: str, context_only: bool, train: list[Any], test: list[Any]) -> dict[str, Any]:
    import numpy as np

    from contextvec.eval.suite import load_any
    from contextvec.eval.wic import accuracy, fit_threshold, pair_cosines, unique_spans
    from contextvec.eval.wic_eval import cross_validated
    from contextvec.static.embedder import StaticEmbedder

    emb = load_any(model, correction="none")
    pairs = list(train) + list(test)
    spans, rows = unique_spans(pairs)
    specs = (
        [layers]
        if layers
        else (["static"] if isinstance(emb, StaticEmbedder) else [str(k) for k in range(emb.info.num_layers + 1)])
    )
    y = np.asarray([p.label for p in pairs])
    scores = []
    for spec in specs:
        if isinstance(emb, StaticEmbedder):
            v = emb.embed_spans(spans).vectors
        else:
            v = emb.embed_spans(spans, layers=spec, context_only=context_only).vectors
        s = pair_cosines(v, rows)
        if train:
            n = len(train)
            t = fit_threshold(s[:n], y[:n])
            acc = accuracy(s[n:], y[n:], t)
        else:
            acc = cross_validated(s, y, [p.word for p in pairs])
        scores.append({"layers": spec, "accuracy": acc})
    protocol = "threshold fitted on train" if train else "5-fold cross-validation, folds split by word"
    return {"model": model, "pairs": len(test), "protocol": protocol, "context_only": context_only, "scores": scores}
