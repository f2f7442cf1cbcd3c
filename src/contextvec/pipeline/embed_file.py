"""Embed a whole input file into Parquet or JSON Lines, chunk by chunk, with a progress bar: `contextvec embed`."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from contextvec.errors import ContextvecError, InputFileError
from contextvec.io.destination import check_destination
from contextvec.io.jsonl import JsonlSink
from contextvec.io.parquet import ParquetSink
from contextvec.io.readers import InputFormat, Record, read_records
from contextvec.options import (
    LayerPoolingArg,
    LayersArg,
    Level,
    OutputDType,
    SentencePoolingArg,
    SubwordPooling,
    renamed,
)
from contextvec.pipeline.memory import HeapAllowance
from contextvec.progress import SILENT, Reporter, as_reporter
from contextvec.protocol import EmbedderProtocol
from contextvec.results import Embeddings
from contextvec.text import Document, locate_span, make_document


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while chunk := list(itertools.islice(records, size)):
        yield chunk


def embed_file(
    embedder: EmbedderProtocol,
    source: Path,
    out: Path,
    *,
    level: Level = "word",
    fmt: InputFormat = "auto",
    layers: LayersArg | None = None,
    layer_pooling: LayerPoolingArg = "mean",
    subword_pooling: SubwordPooling = "mean",
    sentence_pooling: SentencePoolingArg = None,
    vector_dtype: OutputDType = "float32",
    chunk_size: int = 512,
    progress: Reporter | bool = False,
    dtype: OutputDType | None = None,
) -> int:
    """Write one row per token/word/span/sentence of `source` to `out`; returns the number of rows.

    `out` ending in .parquet gets Parquet, .jsonl JSON Lines (see docs/cli.md); the destination is checked
    (check_destination) before anything is read or embedded. Columns: line (input line), id (jsonl "id" or null),
    text_index (record number), start, end, text, level extras, vector. Nothing is written to `out` unless the
    whole file succeeds; temp files of killed earlier runs are removed. `vector_dtype`: the vectors' type in the
    file (`dtype=` is its deprecated spelling; a model's precision is `Embedder(dtype=)`). `progress` counts texts
    (input records).
    """
    if dtype is not None:
        renamed("embed_file(dtype=...)", "embed_file(vector_dtype=...)")
        vector_dtype = dtype
    import pyarrow as pa

    sink: ParquetSink | JsonlSink
    sink = JsonlSink(out) if check_destination(out, [source]) == "jsonl" else ParquetSink(out)
    done = 0
    heap = HeapAllowance()
    reporter = as_reporter(progress)
    total = None if reporter is SILENT else sum(1 for _ in read_records(source, fmt))
    with sink, reporter.task(f"embedding {source.name} ({level}s)", total, "texts") as task:
        for chunk in _chunks(read_records(source, fmt), chunk_size):
            result = _embed_chunk(
                embedder, chunk, source, level, layers, layer_pooling, subword_pooling, sentence_pooling
            )
            table = result.to_arrow(vector_dtype)
            rec_of_row = result.text_index  # index into `chunk`
            lines = pa.array([chunk[i].line for i in rec_of_row.tolist()], type=pa.int64())
            ids = pa.array([chunk[i].id for i in rec_of_row.tolist()], type=pa.string())
            table = table.set_column(0, "text_index", pa.array(rec_of_row + done, type=pa.int64()))
            table = table.add_column(0, "id", ids).add_column(0, "line", lines)
            sink.write(table)
            del result, table
            heap.after_batch()  # keep the heap flat over a long file (pipeline/memory.py)
            done += len(chunk)
            task.advance(len(chunk))
        if sink.rows == 0:
            raise InputFileError(f"{source}: no non-blank lines, so there is nothing to embed.")
        return sink.rows


def _embed_chunk(
    embedder: EmbedderProtocol,
    chunk: list[Record],
    source: Path,
    level: Level,
    layers: LayersArg | None,
    layer_pooling: LayerPoolingArg,
    subword_pooling: SubwordPooling,
    sentence_pooling: SentencePoolingArg,
) -> Embeddings:
    docs = _check_records(chunk, source, level)  # validated once, not split again by the embedder
    if level == "token":
        return embedder.embed_tokens(docs, layers=layers, layer_pooling=layer_pooling)
    if level == "word":
        return embedder.embed_words(docs, layers=layers, layer_pooling=layer_pooling, subword_pooling=subword_pooling)
    if level == "sentence":
        return embedder.embed_sentences(docs, pooling=sentence_pooling, layers=layers, layer_pooling=layer_pooling)
    spans: list[tuple[str, int, int]] = []
    for r in chunk:
        if not r.spans:
            raise InputFileError(f'{source}:{r.line}: --level span needs jsonl input with a "spans" list per line.')
        spans.extend((r.text, s, e) for s, e in r.spans)
    result = embedder.embed_spans(spans, layers=layers, layer_pooling=layer_pooling, subword_pooling=subword_pooling)
    # embed_spans numbers texts by first appearance (equal texts share one); number rows by record instead
    record_of_span = [k for k, r in enumerate(chunk) for _ in (r.spans or ())]
    return dataclasses.replace(result, text_index=np.asarray(record_of_span, dtype=np.int64))


def _check_records(chunk: list[Record], source: Path, level: Level) -> list[Document]:
    """Validate each record on its own, so a bad text or span is reported by its file and line."""
    docs = []
    for r in chunk:
        try:
            doc = make_document(r.text, 0, name="the text")
            if level == "span":
                for k, (s, e) in enumerate(r.spans or ()):
                    locate_span(doc, s, e, k)
        except ContextvecError as exc:
            raise InputFileError(f"{source}:{r.line}: {exc}") from None
        docs.append(doc)
    return docs
