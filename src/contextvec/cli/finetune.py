"""`contextvec finetune classify|tag|wic DATA --out DIR` and `contextvec predict DIR FILE`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from contextvec.cli.common import DEFAULT_MODEL, ModelOpt, err, out, reported, reporter

finetune_app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Train a head (and, with --unfreeze, the model) on your labels; the folder works with every command.",
)

DataArg = Annotated[Path, typer.Argument(help="training file (see docs/finetune.md for the formats)")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="folder for the fine-tuned model")]
UnfreezeOpt = Annotated[
    str, typer.Option(help="none (frozen; a learned scalar mix of all layers) | last-K (e.g. last-2) | all")
]
EpochsOpt = Annotated[int | None, typer.Option(help="passes over the data (default: 40 frozen, 3 otherwise)")]
LrOpt = Annotated[float | None, typer.Option(help="encoder learning rate (AdamW; default per task, docs/finetune.md)")]
BatchOpt = Annotated[int, typer.Option(help="examples per step")]
SeedOpt = Annotated[int, typer.Option(help="random seed (shuffles, validation split, head init)")]
LimitOpt = Annotated[int | None, typer.Option(help="train on N examples (a seeded sample)")]
ResumeOpt = Annotated[bool, typer.Option(help="continue from DIR/checkpoint.pt with the same options")]
OverwriteOpt = Annotated[bool, typer.Option(help="replace a fine-tuned model already in --out")]


def _run(
    task: str,
    data: Path,
    model: str,
    out_dir: Path,
    unfreeze: str,
    epochs: int | None,
    lr: float | None,
    batch_size: int,
    seed: int,
    max_examples: int | None,
    resume: bool,
    overwrite: bool,
) -> None:
    from contextvec.finetune import FinetuneConfig, finetune

    config = FinetuneConfig(
        unfreeze=unfreeze, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, max_examples=max_examples
    )
    with reported():
        result = finetune(
            task,  # type: ignore[arg-type]
            data,
            out=out_dir,
            model=model,
            config=config,
            resume=resume,
            overwrite=overwrite,
            progress=reporter(),
        )
    score = (
        f"best validation accuracy {result.val_accuracy:.3f} (epoch {result.history.best_epoch})"
        if result.val_accuracy is not None
        else f"kept epoch {result.history.best_epoch} (the last)"
    )
    err.print(f"{task}: {result.validation}", markup=False, highlight=False)
    err.print(f"{score}, {result.seconds:.0f} s; saved to {out_dir}", markup=False, highlight=False)
    if result.layer_weights is not None:
        weights = " ".join(f"{i}:{w:.2f}" for i, w in enumerate(result.layer_weights))
        err.print(f"learned layer weights (0 = embeddings): {weights}", markup=False, highlight=False)


def _task_command(task: str, doc: str) -> None:
    """Register `contextvec finetune TASK`: the same options for every task shape, `doc` as its help."""

    def command(
        data: DataArg,
        out_dir: OutOpt,
        model: ModelOpt = DEFAULT_MODEL,
        unfreeze: UnfreezeOpt = "none",
        epochs: EpochsOpt = None,
        lr: LrOpt = None,
        batch_size: BatchOpt = 16,
        seed: SeedOpt = 0,
        max_examples: LimitOpt = None,
        resume: ResumeOpt = False,
        overwrite: OverwriteOpt = False,
    ) -> None:
        _run(task, data, model, out_dir, unfreeze, epochs, lr, batch_size, seed, max_examples, resume, overwrite)

    command.__doc__ = doc
    finetune_app.command(task)(command)


_task_command("classify", 'Sentence classification from a text,label CSV or {"text", "label"} JSON Lines.')
_task_command("tag", 'Token tagging from CoNLL `word tag` lines or {"words", "tags"} JSON Lines (labels on words).')
_task_command(
    "wic", 'Word-in-context pairs (the JSON Lines `contextvec eval wic` reads; "split": "train" rows when present).'
)


def predict_command(
    folder: Annotated[Path, typer.Argument(help="a folder made by contextvec finetune")],
    data: Annotated[Path, typer.Argument(help="a file in the task's format; labels optional")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per example")] = False,
) -> None:
    """Labels for every example of FILE: one line each (tagging: word<TAB>tag lines, a blank line between)."""
    from contextvec.finetune import predict
    from contextvec.finetune.data import PairExample, TagExample, TextExample

    with reported():
        preds = predict(folder, data)
    for example, labels in zip(preds.examples, preds.labels, strict=True):
        if as_json:
            rec = {"where": example.where, "labels": labels}
            out.print(json.dumps(rec, ensure_ascii=False), markup=False, highlight=False, soft_wrap=True)
        elif isinstance(example, TagExample):
            for w, t in zip(example.words, labels, strict=True):
                out.print(f"{w}\t{t}", markup=False, highlight=False, soft_wrap=True)
            out.print("")
        else:
            assert isinstance(example, TextExample | PairExample)
            out.print(labels[0], markup=False, highlight=False)
    if preds.accuracy is not None:
        err.print(f"accuracy against the file's labels: {preds.accuracy:.4f}", markup=False, highlight=False)
