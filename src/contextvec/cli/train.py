"""`contextvec train elmo|mlm|causal CORPUS --out DIR`: train a small contextual model on an offline corpus;
`contextvec train vit IMAGES --out DIR`: a masked-patch image model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from contextvec.cli.common import CORPUS_HELP, err, fail, reporter
from contextvec.errors import ContextvecError, OptionError
from contextvec.train.config import DEFAULT_NETS, Kind, LoopConfig, NetConfig

_LOOP = LoopConfig()  # the defaults, shown in --help


def _net(kind: Kind, sizes: dict[str, int | str | None], resume: bool) -> NetConfig | None:
    """The kind's default network with the sizes given; None for a resumed run that keeps its own."""
    given = {n: v for n, v in sizes.items() if v is not None}
    foreign = ("vocab_size", "seq_len") if kind == "vit" else ("patch", "positions", "stem")
    if any(n in given for n in foreign):
        raise OptionError(
            f"{', '.join('--' + n.replace('_', '-') for n in foreign if n in given)}: not an option of {kind} "
            "models (--patch, --positions and --stem are vit's; --vocab-size and --seq-len the text kinds')."
        )
    return replace(DEFAULT_NETS[kind], **given) if given or not resume else None  # type: ignore[arg-type]


# long: typer's signature takes one line per option (15 of them); the body is short
def train(
    kind: Annotated[
        str,
        typer.Argument(help="elmo (biLSTM LM over words) | mlm (BERT-style) | causal (GPT-style) | vit (images)"),
    ],
    corpus: Annotated[
        str,
        typer.Argument(
            help=CORPUS_HELP + "; for vit: 'digits', 'photos', a folder of PNG / JPEG files, or a .npy array"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="the model folder to write (Embedder and --model load it)")],
    steps: Annotated[int | None, typer.Option(help="stop after this many optimizer steps")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="stop after this much training time")] = None,
    seed: Annotated[int, typer.Option(help="seed of the weights, the batches and the masking")] = _LOOP.seed,
    resume: Annotated[bool, typer.Option("--resume", help="continue from the newest checkpoint in --out")] = False,
    batch_size: Annotated[int, typer.Option(help="rows per step")] = _LOOP.batch_size,
    lr: Annotated[float, typer.Option(help="AdamW learning rate")] = _LOOP.lr,
    checkpoint_every: Annotated[int, typer.Option(help="steps between checkpoints")] = _LOOP.checkpoint_every,
    dim: Annotated[
        int | None, typer.Option(help="hidden size (elmo: per direction); default: the kind's tiny config")
    ] = None,
    num_layers: Annotated[int | None, typer.Option(help="how many LSTM layers or transformer blocks")] = None,
    layers: Annotated[
        int | None, typer.Option(hidden=True, help="deprecated spelling of --num-layers (removed in 0.3)")
    ] = None,
    vocab_size: Annotated[int | None, typer.Option(help="subword vocabulary, or words kept (elmo)")] = None,
    seq_len: Annotated[int | None, typer.Option(help="tokens per training row, and the model's window")] = None,
    patch: Annotated[int | None, typer.Option(help="vit: patch side in pixels (default 2)")] = None,
    positions: Annotated[str | None, typer.Option(help="vit: learned | sincos (2-D sinusoidal)")] = None,
    stem: Annotated[str | None, typer.Option(help="vit: linear (pixel values) | conv (3x3 convolution first)")] = None,
) -> None:
    """Train a small contextual model on CORPUS and write a folder that `Embedder(DIR)` and `--model DIR` load.

    Checkpoints go to DIR/checkpoints (atomic, checksummed); the learning curve to DIR/train_log.jsonl; the
    summary (held-out perplexity on every 10th document; vit: masked-patch error on every 10th image) to
    DIR/training.json. `contextvec.vision.PatchEmbedder(DIR)` loads a vit folder.
    """
    from contextvec.train import train as run_train
    from contextvec.train.config import check_kind

    num_layers = _num_layers(num_layers, layers)
    try:
        k = check_kind(kind)
        sizes: dict[str, int | str | None] = {"dim": dim, "num_layers": num_layers, "vocab_size": vocab_size}
        sizes |= {"seq_len": seq_len, "patch": patch, "positions": positions, "stem": stem}
        net = _net(k, sizes, resume)  # a resumed run keeps its own
        loop = replace(
            _LOOP,
            steps=steps,
            max_minutes=max_minutes,
            seed=seed,
            batch_size=batch_size,
            lr=lr,
            checkpoint_every=checkpoint_every,
        )
        result = run_train(k, corpus, out, net=net, loop=loop, resume=resume, progress=reporter())
    except ContextvecError as exc:
        raise fail(exc) from None
    _report(k, result, out)


def _num_layers(num_layers: int | None, layers: int | None) -> int | None:
    """--num-layers, or its deprecated spelling --layers (elsewhere --layers selects layers; here it counted)."""
    if layers is None:
        return num_layers
    if num_layers is not None:
        raise fail(OptionError("--layers is the deprecated spelling of --num-layers; give only --num-layers."))
    err.print(
        "warning: `train --layers N` is deprecated and will be removed in 0.3; use --num-layers N "
        "(it sets how many layers the network has).",
        markup=False,
        highlight=False,
    )
    return layers


def _report(kind: str, result: Any, out: Path) -> None:
    """One line: what was trained, for how long, and its held-out score."""
    ppl, mse = result.heldout.get("perplexity"), result.heldout.get("masked_mse")
    held = f", held-out perplexity {ppl:.1f}" if ppl is not None else ""
    if mse is not None:
        held = f", held-out masked-patch error {mse:.3f} (mean patch: {result.heldout['mean_patch_mse']:.3f})"
    err.print(
        f"trained {kind} for {result.steps} steps ({result.minutes:.1f} min, {result.tokens:,} tokens){held}; "
        f"wrote {out}",
        markup=False,
        highlight=False,
    )
