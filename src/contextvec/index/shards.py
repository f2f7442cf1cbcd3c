"""Shards: row batches -> one Parquet file (zstd) per shard, published like a database page.

Rows are appended to `.shard-NNNNN.parquet.tmp`; on finish the file is published as `shard-NNNNN.parquet`
(io.atomic.publish: fsync, rename, fsync the folder), and only then is the shard recorded in the manifest
(itself replaced atomically). A crash at any moment leaves finished shards, at most one temp file (removed on
resume), and a manifest naming exactly the finished ones.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from contextvec.errors import OutputWriteError
from contextvec.index.manifest import ShardInfo, sha256_file
from contextvec.io.atomic import publish

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

SHARD_DIR = "shards"
DICTIONARY = ("doc_id", "level", "word", "word_norm", "text")  # repeated strings; never the float vectors
STORED = ("seq", "doc_id", "level", "start", "end", "word", "word_norm", "sentence_start", "sentence_end", "text")
# zstd for the text and number columns; the float32 vectors are stored plain and without min/max statistics: zstd
# saved 8% of their size but cost a third of the shard's write and read time (benchmarks/index.py, docs/index.md).
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": {c: "zstd" for c in STORED} | {"vector": "none"},
    "use_dictionary": list(DICTIONARY),
    "write_statistics": list(STORED),
}


def shard_name(k: int) -> str:
    return f"{SHARD_DIR}/shard-{k:05d}.parquet"


NUMBERS = ("seq", "start", "end", "sentence_start", "sentence_end")
NULLABLE = ("word", "word_norm")  # null in sentence rows; every other column always has a value


def shard_schema(dim: int) -> pa.Schema:
    """The stored columns. Declared non-null where they are: a non-null fixed-size list of non-null floats is
    written and read without per-value null bookkeeping (45k rows of 384 floats: write 0.21 instead of 0.28
    CPU-s, read 0.14 instead of 0.16; benchmarks/index_shard_io.py)."""
    import pyarrow as pa

    def kind(c: str) -> pa.DataType:
        return pa.int64() if c in NUMBERS else pa.string()

    fields = [pa.field(c, kind(c), nullable=c in NULLABLE) for c in STORED]
    vector = pa.list_(pa.field("item", pa.float32(), nullable=False), dim)
    return pa.schema([*fields, pa.field("vector", vector, nullable=False)])


def to_arrow(batch: dict[str, Any]) -> pa.Table:
    """The stored columns of a row batch (see contextvec.pipeline.embed_batch) as an Arrow table."""
    import pyarrow as pa

    vectors = np.ascontiguousarray(batch["vector"], dtype=np.float32)  # (N, D)
    _, d = vectors.shape  # (N, D)
    schema = shard_schema(d)
    cols = [
        pa.array(batch[c] if c in NUMBERS else list(batch[c]), type=schema.field(c).type) for c in STORED
    ]  # (N,) each
    flat = pa.array(vectors.reshape(-1))  # (N * D,) zero-copy view of the vectors
    cols.append(pa.FixedSizeListArray.from_arrays(flat, type=schema.field("vector").type))  # (N, D)
    return pa.Table.from_arrays(cols, schema=schema)


def _flush_to_disk(path: Path) -> None:
    """Write the file's data so far to disk (fdatasync; any descriptor of a file flushes all of it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        getattr(os, "fdatasync", os.fsync)(fd)  # macOS has no fdatasync
    finally:
        os.close(fd)


class ShardWriter:
    """Write shards into `folder/shards`; one open shard at a time.

    Appends run on one background thread, one batch behind the caller, so Arrow conversion, zstd and disk
    writes overlap the next batch's forward pass (both release the GIL); each append also flushes the file to
    disk there, so `finish`'s fsync has only the last batch left (it waited 0.15 s for a 70 MB shard at the end
    of the build before). A write error surfaces on the next `append`, `finish` or `wait` as OutputWriteError.
    """

    def __init__(self, folder: Path) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.folder = folder
        (folder / SHARD_DIR).mkdir(parents=True, exist_ok=True)
        for stale in (folder / SHARD_DIR).glob(".*.tmp"):  # left by a killed run: never trusted, never reused
            stale.unlink()
        self._writer: pq.ParquetWriter | None = None
        self._shard = -1
        self._rows = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contextvec-shard-writer")
        self._pending: Future[None] | None = None

    def _paths(self, k: int) -> tuple[Path, Path]:
        final = self.folder / shard_name(k)
        return final, final.with_name(f".{final.name}.tmp")

    def wait(self) -> None:
        """Block until the queued append is written; re-raise its error (after dropping the open temp file)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            try:
                pending.result()
            except BaseException:
                self.abort()
                raise

    def append(self, k: int, batch: dict[str, Any]) -> None:
        """Queue one row batch (see contextvec.pipeline.embed_batch) for shard k."""
        self.wait()
        self._pending = self._pool.submit(self._append_now, k, batch)

    def _append_now(self, k: int, batch: dict[str, Any]) -> None:
        import pyarrow.parquet as pq

        tmp = self._paths(k)[1]
        table = to_arrow(batch)
        try:
            if self._writer is None or self._shard != k:
                assert self._writer is None, "finish() the open shard first"
                self._shard, self._rows = k, 0
                self._writer = pq.ParquetWriter(str(tmp), table.schema, **PARQUET_OPTIONS)
            self._writer.write_table(table)
            _flush_to_disk(tmp)  # here, off the caller's path: publishing then waits only for the last batch
        except OSError as exc:
            raise OutputWriteError(
                f"cannot write shard {k} ({tmp}): {exc}. Free space or fix permissions, then re-run the same "
                "command: finished shards are kept and the build resumes after them."
            ) from None
        self._rows += table.num_rows

    def finish(self, k: int, first_seq: int, end_seq: int) -> ShardInfo:
        """Close shard k, fsync and publish it; return what the manifest records."""
        self.wait()
        final, tmp = self._paths(k)
        if self._writer is None or self._shard != k:
            return ShardInfo(k, None, first_seq, end_seq, 0, "", 0)
        try:
            self._writer.close()
            self._writer = None
            publish(tmp, final)
        except OSError as exc:
            self.abort()
            raise OutputWriteError(f"cannot publish shard {k} ({final}): {exc}; re-run the same command.") from None
        return ShardInfo(k, shard_name(k), first_seq, end_seq, self._rows, sha256_file(final), final.stat().st_size)

    def close(self) -> None:
        """Drop an unfinished shard (as `abort`) and end the writer thread; the writer is unusable afterwards."""
        self.abort()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def abort(self) -> None:
        """Drop the open shard's temp file (finished shards are untouched)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            with contextlib.suppress(BaseException):
                pending.result()
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.close()
            self._writer = None
        if self._shard >= 0:
            self._paths(self._shard)[1].unlink(missing_ok=True)
