"""The two corpus engines: the same `EmbedBatch` run in a local loop, or on Ray Data with `map_batches`.

Both take planned shards (shard number, documents) and return a stream of row batches in shard order, which
the index's shard writer turns into files. Shards are planned from the text alone (words per document), so a
resumed build plans exactly the shards a one-shot build would and skips the finished ones.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from contextvec.extras import require_extra
from contextvec.io.corpus import Doc
from contextvec.pipeline.defaults import BATCH_WORDS
from contextvec.pipeline.embed_batch import Batch, EmbedBatch, JobSpec, docs_batch
from contextvec.pipeline.memory import HeapAllowance

PlannedShard = tuple[int, list[Doc]]


def plan_shards(docs: Iterable[Doc], shard_rows: int) -> Iterator[PlannedShard]:
    """Group documents in order into shards of about `shard_rows` words (a shard ends at a document boundary)."""
    k, current, weight = 0, [], 0
    for doc in docs:
        current.append(doc)
        weight += doc.n_words
        if weight >= shard_rows:
            yield k, current
            k, current, weight = k + 1, [], 0
    if current:
        yield k, current


def run_local(
    fn: EmbedBatch, shards: Iterable[PlannedShard], batch_docs: int, batch_words: int = BATCH_WORDS
) -> Iterator[Batch]:
    """Row batches of each shard, in order, computed in this process.

    A batch is up to `batch_docs` documents and closes early at `batch_words` words, so a corpus of long
    documents does not hold batch_docs long documents' vectors at once. After each batch, once its activations
    are freed, the heap is kept from creeping up (pipeline/memory.py).
    """
    heap = HeapAllowance()
    for k, docs in shards:
        part: list[Doc] = []
        words = 0
        for i, doc in enumerate(docs):
            part.append(doc)
            words += doc.n_words
            if len(part) >= batch_docs or words >= batch_words or i == len(docs) - 1:
                rows = fn(docs_batch(part, k))
                heap.after_batch()
                yield rows
                part, words = [], 0


def run_ray(
    spec: JobSpec,
    shards: Iterable[PlannedShard],
    staging: Path,
    *,
    batch_docs: int,
    concurrency: int,
    gpus_per_actor: float = 0.0,
    cpus_per_actor: float | None = None,
) -> Iterator[Batch]:
    """Row batches of each shard, in order, computed by `concurrency` Ray actors (each loads the model once).

    The documents of the shards to build are staged as Parquet files under `staging` (on a cluster, put the
    index folder on storage every node can read), read with `ray.data.read_parquet`, mapped with
    `map_batches(EmbedBatch, concurrency=N)` and streamed back in order. Connects to $RAY_ADDRESS if set,
    else starts a local Ray instance (unless the caller already called `ray.init`); a Ray started here is shut
    down when the stream ends, fails or is closed, and the staging folder is removed. `cpus_per_actor` defaults
    to min(1, (cluster CPUs - 1) / concurrency): Ray Data's file listing and reads need a CPU slot too, and
    actors holding every slot would wait for them forever.
    """
    require_extra("ray", "the Ray engine")
    import ray
    import ray.data

    started = False
    try:
        files = _stage(shards, staging)
        if not files:
            return
        if not ray.is_initialized():
            ray.init()
            started = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # rows come back in shard order, like the local engine
        if cpus_per_actor is None:
            total = float(ray.cluster_resources().get("CPU", 1.0))  # type: ignore[no-untyped-call]
            cpus_per_actor = max(0.1, min(1.0, (total - 1.0) / concurrency))
        ds = ray.data.read_parquet([str(f) for f in files])
        mapped = ds.map_batches(
            RayWorker,
            fn_constructor_kwargs={"spec": spec.to_json(), "threads": max(1, int(cpus_per_actor))},
            num_cpus=cpus_per_actor,
            batch_size=batch_docs,
            batch_format="numpy",
            concurrency=concurrency,
            num_gpus=gpus_per_actor,
        )
        yield from mapped.iter_batches(batch_size=None, batch_format="numpy")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if started:  # a Ray this call started ends with it; one the caller started is theirs
            ray.shutdown()


class RayWorker:
    """One Ray actor: a process of its own, which it sets up (torch threads = its CPU share) before loading the
    model once; then, per batch, the same `EmbedBatch` as the local engine and the same heap upkeep."""

    def __init__(self, spec: dict[str, Any], threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # the actor's own process, started for this job: not the caller's
        self.embed = EmbedBatch(spec)
        self.heap = HeapAllowance()

    def __call__(self, batch: Batch) -> Batch:
        rows = self.embed(batch)
        self.heap.after_batch()
        return rows


def _stage(shards: Iterable[PlannedShard], staging: Path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files = []
    for k, docs in shards:
        path = staging / f"part-{k:05d}.parquet"
        table = pa.table(
            {
                "seq": pa.array([d.seq for d in docs], type=pa.int64()),
                "doc_id": pa.array([d.doc_id for d in docs], type=pa.string()),
                "text": pa.array([d.text for d in docs], type=pa.string()),
                "shard": pa.array([k] * len(docs), type=pa.int64()),
            }
        )
        pq.write_table(table, path)
        files.append(path)
    return files
