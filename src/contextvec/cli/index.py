"""`contextvec index build|info` and `contextvec search`: a durable corpus index and search by example."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from contextvec.analysis.occurrences import INFLECT
from contextvec.cli.common import (
    CORPUS_HELP,
    DEFAULT_MODEL,
    InflectOpt,
    ModelOpt,
    err,
    out,
    renamed_flag,
    reported,
    reporter,
    require,
)
from contextvec.errors import OptionError
from contextvec.pipeline.defaults import BATCH_DOCS, BATCH_WORDS, CONCURRENCY, SHARD_ROWS

index_app = typer.Typer(
    rich_markup_mode=None,
    help="Index every word of a corpus once; search it by example many times.",
    no_args_is_help=True,
)


@index_app.command()
def build(
    corpus: Annotated[str, typer.Argument(help=CORPUS_HELP)],
    out_dir: Annotated[Path, typer.Option("--out", help="index folder (created; re-run to resume)")],
    model: ModelOpt = DEFAULT_MODEL,
    level: Annotated[str, typer.Option(help="word | sentence | both")] = "word",
    layers: Annotated[str | None, typer.Option(help="-1, '-4:', '0,6,12', all; default: the model's recipe")] = None,
    engine: Annotated[str, typer.Option(help="local | ray ($RAY_ADDRESS picks the cluster)")] = "local",
    shard_rows: Annotated[int, typer.Option(help="about this many words per Parquet shard")] = SHARD_ROWS,
    batch_docs: Annotated[
        int, typer.Option(help=f"documents per model call (local: also at most {BATCH_WORDS} words)")
    ] = BATCH_DOCS,
    concurrency: Annotated[int, typer.Option(help="Ray actors (each loads the model once)")] = CONCURRENCY,
    gpus_per_actor: Annotated[float, typer.Option(help="GPUs each Ray actor reserves")] = 0.0,
    cpus_per_actor: Annotated[
        float | None,
        typer.Option(help="CPUs each Ray actor reserves; it runs max(1, int(this)) torch threads (default: fit)"),
    ] = None,
    gpus_per_worker: Annotated[float | None, typer.Option(hidden=True, help="deprecated: --gpus-per-actor")] = None,
    overwrite: Annotated[bool, typer.Option(help="rebuild a folder that holds another index")] = False,
) -> None:
    """Embed every word (and/or sentence) of CORPUS into a resumable index folder."""
    require("index", "contextvec index build")
    if gpus_per_worker is not None:
        renamed_flag("--gpus-per-worker", "--gpus-per-actor")
        gpus_per_actor = gpus_per_worker
    if engine == "ray":
        require("ray", "--engine ray")
    from contextvec.index import build_index

    with reported(), _memory_tuned():
        if level not in ("word", "sentence", "both") or engine not in ("local", "ray"):
            raise OptionError(f"--level {level!r} / --engine {engine!r}: use word|sentence|both and local|ray.")
        manifest = build_index(
            corpus,
            out_dir,
            model=model,
            level=level,  # type: ignore[arg-type]
            layers=layers,
            engine=engine,  # type: ignore[arg-type]
            shard_rows=shard_rows,
            batch_docs=batch_docs,
            concurrency=concurrency,
            gpus_per_actor=gpus_per_actor,
            cpus_per_actor=cpus_per_actor,
            overwrite=overwrite,
            progress=reporter(),
        )
        tables = ", ".join(f"{lv}: {t['rows']:,} rows ({t['index']})" for lv, t in manifest.table.items())
        out.print(Text(f"indexed {manifest.input.get('documents', '?')} documents into {out_dir}: {tables}"))


@contextlib.contextmanager
def _memory_tuned() -> Iterator[None]:
    """The build's process-wide memory settings, made by the command (library calls never change the process):
    few malloc arenas (pipeline/memory.py) and LanceDB's smaller shuffle buffer (index/table.py), unless the
    user set MALLOC_ARENA_MAX / LANCE_SHUFFLE_BATCH_BYTES; both restored when the command ends."""
    from contextvec.index.table import SHUFFLE_BATCH_BYTES
    from contextvec.pipeline.memory import capped_arenas

    name = "LANCE_SHUFFLE_BATCH_BYTES"  # LanceDB 0.40 reads it from the environment only
    ours = name not in os.environ
    if ours:
        os.environ[name] = str(SHUFFLE_BATCH_BYTES)
    try:
        with capped_arenas():
            yield
    finally:
        if ours:
            os.environ.pop(name, None)


@index_app.command()
def info(
    folder: Annotated[Path, typer.Argument(help="an index folder")],
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
) -> None:
    """Print what an index's manifest says: model, layers, input, shards, tables."""
    from contextvec.index.manifest import Manifest

    with reported():
        m = Manifest.load(folder)
        if as_json:
            from dataclasses import asdict

            out.print_json(json.dumps(asdict(m)))
            return
        table = Table("field", "value", show_header=False)
        rows: list[tuple[str, Any]] = [
            ("model", m.spec["model"]),
            ("level", m.spec["level"]),
            ("layers", json.dumps(m.layers)),
            ("dim", m.dim),
            ("input", m.input["source"]),
            ("fingerprint", m.input["fingerprint"][:16]),
            ("documents", m.input.get("documents", "?")),
            ("shards", f"{len(m.shards)} / {m.shards_planned or '?'}"),
            ("rows", f"{m.rows:,}"),
            ("complete", m.complete),
            ("tables", json.dumps(m.table)),
            ("contextvec", m.version),
        ]
        for name, value in rows:
            table.add_row(name, Text(str(value)))
        out.print(table)


def search(
    folder: Annotated[Path, typer.Argument(help="an index folder")],
    query: Annotated[str | None, typer.Argument(help="free text (with --level sentence)")] = None,
    like: Annotated[str | None, typer.Option(help="a sentence with the use to match (give --word)")] = None,
    word: Annotated[str | None, typer.Option(help="the word of --like to match")] = None,
    occurrence: Annotated[int, typer.Option(help="which use of --word in --like (1 = first)")] = 1,
    k: Annotated[int, typer.Option("-k", help="how many hits")] = 10,
    any_word: Annotated[bool, typer.Option(help="search all words, not only the same word form")] = False,
    inflect: InflectOpt = INFLECT,
    level: Annotated[str, typer.Option(help="word (search by example) | sentence (free text)")] = "word",
    doc_ids: Annotated[list[str] | None, typer.Option(help="only these document ids (repeatable)")] = None,
    doc: Annotated[list[str] | None, typer.Option(hidden=True, help="deprecated: --doc-ids")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per hit")] = False,
) -> None:
    """Search an index: uses of a word like the one in --like, or sentences like QUERY (--level sentence)."""
    require("index", "contextvec search")
    from contextvec.index import Index
    from contextvec.text import find_word

    if doc is not None:
        renamed_flag("--doc", "--doc-ids")
        doc_ids = [*(doc_ids or []), *doc]
    with reported():
        idx = Index.open(folder)
        if level == "sentence":
            if not query:
                raise OptionError('--level sentence needs a QUERY text, e.g. contextvec search DIR "rivers".')
            hits = idx.search_sentences(query, k=k, doc_ids=doc_ids)
        elif level == "word":
            if query:
                raise OptionError(
                    f"QUERY {query!r} is free text, which searches sentences: add --level sentence (the index needs "
                    "sentence rows: index build --level sentence or both). To find uses of a word like one use, give "
                    '--like "a sentence" --word WORD instead of QUERY.'
                )
            if like is None or word is None:
                raise OptionError('search by example needs --like "a sentence" and --word WORD in it.')
            start, end = find_word(like, word, occurrence)
            hits = idx.search_like(like, start, end, k=k, any_word=any_word, inflect=inflect, doc_ids=doc_ids)
        else:
            raise OptionError(f"--level {level!r} is not valid; choose word or sentence.")
        if as_json:
            for h in hits:
                typer.echo(json.dumps(h.to_json(), ensure_ascii=False))
            return
        if not hits:
            err.print("no hits")
        table = Table("score", "doc", "span", "sentence")
        for h in hits:
            sentence = Text(h.text)
            sentence.stylize("bold reverse", *h.highlight)
            table.add_row(f"{h.score:.3f}", Text(h.doc_id), f"{h.start}-{h.end}", sentence)
        out.print(table)
