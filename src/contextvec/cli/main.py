"""The `contextvec` command: compare, neighbors, embed, models, serve, and the sub-command groups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.table import Table

from contextvec.cli.common import (
    DEFAULT_BACKEND,
    DEFAULT_MODEL,
    DEFAULT_PRECISION,
    BackendOpt,
    LayerPoolOpt,
    LayersOpt,
    ModelOpt,
    PrecisionOpt,
    ReadableGroup,
    SubwordOpt,
    err,
    escape,
    fail,
    layer_pooling_arg,
    out,
    renamed_flag,
    reporter,
    settings,
)
from contextvec.errors import ContextvecError
from contextvec.options import Level, SentencePooling, SubwordPooling

app = typer.Typer(
    name="contextvec",
    help="Contextual embeddings per token, word, span and sentence — offline, any length, exact offsets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are shown verbatim: '[...]' in them is text, not markup
    cls=ReadableGroup,  # readable placeholders (SOURCE, FILE, TEXT) for every argument and option
)


def _version(value: bool) -> None:
    if value:
        from contextvec import __version__

        out.print(f"contextvec {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars (shown only on a terminal)")] = False,
) -> None:
    """Contextual embeddings per token, word, span and sentence — offline, any length, exact offsets."""
    settings.quiet = quiet


@app.command()
def compare(
    texts: Annotated[list[str], typer.Argument(help="two or more texts that use the word")],
    word: Annotated[str, typer.Option("--word", "-w", help="the word (or phrase) to compare across the texts")],
    model: ModelOpt = DEFAULT_MODEL,
    versus: Annotated[
        str | None, typer.Option(help="a second model to show next to the first, e.g. glove-50d (static)")
    ] = None,
    layers: LayersOpt = None,
    layer_pooling: LayerPoolOpt = "mean",
    subword_pooling: SubwordOpt = "mean",
    context_only: Annotated[
        bool | None,
        typer.Option(
            "--context-only/--full",
            help="subtract the word's out-of-context vector (default: the model's recipe, docs/EVALUATION.md)",
        ),
    ] = None,
    occurrence: Annotated[int, typer.Option(help="which use of the word in each text (1 = first)")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Cosine similarity of WORD's vectors across TEXTS (e.g. 'bank' by a river vs. a loan).

    With a static model every use of a word gets the same vector, so its cosines are 1.0: the contrast that
    contextual vectors exist for. --versus shows a second model next to the first (e.g. --versus glove-50d).
    The header of each result names the model and the layers, pooling and context-only setting it used.
    """
    from contextvec.analysis.compare import compare_word
    from contextvec.loader import load_embedder

    results = []
    try:
        for name in [model] if versus is None else [model, versus]:
            embedder = load_embedder(name)
            opts: dict[str, Any] = {"context_only": context_only}
            if embedder.contextual:
                opts |= {
                    "layers": layers,
                    "layer_pooling": layer_pooling_arg(layer_pooling),
                    "subword_pooling": cast(SubwordPooling, subword_pooling),
                }
            results.append(compare_word(embedder, texts, word, occurrence=occurrence, **opts))
    except ContextvecError as exc:
        raise fail(exc) from None
    if as_json:
        payload = [
            {
                "model": r.spans.model_id,
                "layers": r.spans.layers,
                "word": word,
                "spans": [[int(s), int(e)] for s, e in zip(r.spans.start, r.spans.end, strict=True)],
                "cosine": [[round(float(x), 6) for x in row] for row in r.similarity],
            }
            for r in results
        ]
        out.print_json(json.dumps(payload[0] if len(payload) == 1 else payload))
        return
    _print_comparison(results, texts, word)
    if context_only is None:
        _note_recipe_context_only(results)


def _note_recipe_context_only(results: list[Any]) -> None:
    """The model's recipe turned context-only on (also with --layers): say so, and how to turn it off."""
    if any("context_only" in r.spans.layers for r in results):
        err.print(
            "note: context-only is on (each use's vector minus the word's out-of-context vector): it is part of "
            "the model's recipe and applies with --layers too; --full turns it off.",
            highlight=False,
            soft_wrap=True,
        )


def _print_comparison(results: list[Any], texts: list[str], word: str) -> None:
    first = results[0]
    out.print(f"[bold]{escape(repr(word))}[/] in {len(texts)} texts", markup=True, highlight=False)
    for i, (t, s, e) in enumerate(zip(texts, first.spans.start, first.spans.end, strict=True), start=1):
        line = f"  {escape(f'[{i}]')} {escape(t[:s])}[bold cyan]{escape(t[s:e])}[/]{escape(t[e:])}"
        out.print(line, markup=True, highlight=False, soft_wrap=True)
    for r in results:
        sim = r.similarity
        label = f"{r.spans.model_id} ({r.spans.layers})"
        if len(texts) == 2:
            pair = escape("cosine([1], [2])")
            out.print(
                f"{escape(label)}: {pair} = [bold]{sim[0, 1]:.4f}[/]", markup=True, highlight=False, soft_wrap=True
            )
            continue
        table = Table(label, *[f"[{j}]" for j in range(1, len(texts) + 1)])
        for i in range(len(texts)):
            table.add_row(f"[{i + 1}]", *[f"{sim[i, j]:.4f}" for j in range(len(texts))])
        out.print(table)


@app.command()
def neighbors(
    word: Annotated[str, typer.Argument(help="the word whose nearest neighbours to list")],
    model: Annotated[str, typer.Option("--model", "-m", help="static vectors: glove-50d or a vector file")] = (
        "glove-50d"
    ),
    k: Annotated[int, typer.Option("-k", help="how many neighbours")] = 10,
) -> None:
    """Nearest neighbours of WORD in a static vector space (cosine)."""
    from contextvec.loader import load_static

    try:
        emb = load_static(model, purpose="neighbors")
        hits = emb.most_similar(word, k)
    except ContextvecError as exc:
        raise fail(exc) from None
    table = Table(f"neighbours of {word!r} in {emb.model_id}", "cosine")
    for w, score in hits:
        table.add_row(w, f"{score:.4f}")
    out.print(table)


@app.command()
def embed(
    source: Annotated[Path, typer.Argument(help="input: .txt (one text per line) or .jsonl ({'text', 'id', 'spans'})")],
    output: Annotated[Path, typer.Option("--out", "-o", help="output file: FILE.parquet or FILE.jsonl")],
    level: Annotated[str, typer.Option(help="token | word | span | sentence")] = "word",
    model: ModelOpt = DEFAULT_MODEL,
    layers: LayersOpt = None,
    layer_pooling: LayerPoolOpt = "mean",
    subword_pooling: SubwordOpt = "mean",
    sentence_pooling: Annotated[
        str | None, typer.Option(help="cls | mean | mean_all | max | last (default: the model's sentence recipe)")
    ] = None,
    vector_dtype: Annotated[str, typer.Option(help="vector type in the file: float32 | float16")] = "float32",
    fmt: Annotated[str, typer.Option("--format", help="auto | txt | jsonl")] = "auto",
    max_length: Annotated[int | None, typer.Option(help="window size in tokens (default: model limit, <= 512)")] = None,
    stride: Annotated[int | None, typer.Option(help="tokens shared by neighbouring windows (default: half)")] = None,
    backend: BackendOpt = DEFAULT_BACKEND,
    model_dtype: PrecisionOpt = DEFAULT_PRECISION,
    old_dtype: Annotated[str | None, typer.Option("--dtype", hidden=True, help="deprecated: --vector-dtype")] = None,
) -> None:
    """Embed every line of SOURCE and write one row per token/word/span/sentence (Parquet or JSON Lines).

    The output appears only when the whole file succeeded; a killed run leaves nothing behind (its temp file is
    removed by the next run).
    """
    from contextvec.io.atomic import sigterm_exits
    from contextvec.io.destination import check_destination
    from contextvec.io.readers import InputFormat, read_records
    from contextvec.loader import load_embedder
    from contextvec.options import LEVELS, OUTPUT_DTYPES, OutputDType, check_choice
    from contextvec.pipeline.embed_file import embed_file

    if old_dtype is not None:  # until 0.4 `embed --dtype` keeps its old meaning, the vectors' type in the file
        renamed_flag("embed --dtype (the output vector type)", "--vector-dtype")
        vector_dtype = old_dtype
    try:
        check_choice("level", level, LEVELS)
        check_choice("vector_dtype", vector_dtype, OUTPUT_DTYPES)
        check_choice("format", fmt, ("auto", "txt", "jsonl"))
        check_destination(output, [source])  # before any work: a bad --out is reported now, not after the run
        total = sum(1 for _ in read_records(source, cast(InputFormat, fmt)))
        options = {"max_length": max_length, "stride": stride, "backend": backend, "dtype": model_dtype}
        embedder = load_embedder(model, **{k: v for k, v in options.items() if v is not None})
        with sigterm_exits():
            rows = embed_file(
                embedder,
                source,
                output,
                level=cast(Level, level),
                fmt=cast(InputFormat, fmt),
                layers=layers,
                layer_pooling=layer_pooling_arg(layer_pooling),
                subword_pooling=cast(SubwordPooling, subword_pooling),
                sentence_pooling=cast(SentencePooling | None, sentence_pooling),
                vector_dtype=cast(OutputDType, vector_dtype),
                progress=reporter(),
            )
    except ContextvecError as exc:
        raise fail(exc) from None
    err.print(f"wrote {rows} {level} vectors from {total} texts to {output}", markup=False, highlight=False)


def _register_subcommands() -> None:
    from contextvec.cli import analysis, plots
    from contextvec.cli.eval import eval_app
    from contextvec.cli.explore import explore
    from contextvec.cli.finetune import finetune_app, predict_command
    from contextvec.cli.index import index_app, search
    from contextvec.cli.listing import models
    from contextvec.cli.serve import serve_command
    from contextvec.cli.static import static_app
    from contextvec.cli.train import train
    from contextvec.cli.vision import embed_images  # also adds `plot patches`

    app.command()(models)
    serve, serve_context = serve_command()
    app.command("serve", context_settings=serve_context)(serve)
    app.command()(explore)
    app.add_typer(static_app, name="static")
    app.add_typer(eval_app, name="eval")
    app.add_typer(finetune_app, name="finetune")
    app.command("predict")(predict_command)
    app.add_typer(index_app, name="index")
    app.command("search")(search)
    app.command()(analysis.senses)
    app.command()(analysis.contextuality)
    app.command()(analysis.attention)
    app.add_typer(analysis.correction_app, name="correction")
    app.add_typer(plots.plot_app, name="plot")
    app.command()(train)
    app.command("embed-images")(embed_images)


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
