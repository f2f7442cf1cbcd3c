"""build_index: a corpus -> a durable, resumable index folder (Parquet shards + manifest + LanceDB table).

from contextvec.index import build_index, Index
build_index("corpus.txt", "my-index")                      # re-run the same call to resume after a crash
Index.open("my-index").search_like("We sat on the bank.", 14, 18)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

from contextvec import __version__
from contextvec.errors import IndexStateError, InputFileError, OptionError
from contextvec.index.manifest import MANIFEST, Manifest, verify
from contextvec.index.shards import SHARD_DIR, ShardWriter
from contextvec.index.table import LANCE_DIR
from contextvec.io.corpus import Corpus, open_corpus
from contextvec.options import renamed
from contextvec.pipeline.defaults import BATCH_DOCS, CONCURRENCY, SHARD_ROWS
from contextvec.pipeline.embed_batch import Batch, EmbedBatch, IndexLevel, JobSpec
from contextvec.pipeline.engines import PlannedShard, plan_shards, run_local, run_ray
from contextvec.pipeline.memory import release_free_memory
from contextvec.progress import SILENT, Reporter, as_reporter
from contextvec.protocol import EmbedderProtocol

Engine = Literal["local", "ray"]


def build_index(
    corpus: str | Path,
    out: str | Path,
    *,
    model: str = "minilm",
    level: IndexLevel = "word",
    layers: str | int | list[int] | None = None,
    layer_pooling: str = "mean",
    subword_pooling: str = "mean",
    model_options: dict[str, Any] | None = None,
    engine: Engine = "local",
    shard_rows: int = SHARD_ROWS,
    batch_docs: int = BATCH_DOCS,
    concurrency: int = CONCURRENCY,
    gpus_per_actor: float = 0.0,
    cpus_per_actor: float | None = None,
    overwrite: bool = False,
    progress: Reporter | bool = False,
    embedder: EmbedderProtocol | None = None,
    num_gpus: float | None = None,
) -> Manifest:
    """Index every word (and/or sentence) of `corpus` into `out`; resumes a crashed build of the same job.

    corpus: a .txt (one document per line), .jsonl ("text", optional "id"), .parquet ("text", optional "id")
    file, a folder of them, or "brown". `embedder` (local engine only) reuses an already loaded model, which
    must be `model`. `gpus_per_actor`, `cpus_per_actor`: what each Ray actor reserves (`num_gpus=` is the
    deprecated spelling of the first). `progress` counts documents (contextvec.progress). Returns the final
    manifest.
    """
    if num_gpus is not None:
        renamed("build_index(num_gpus=...)", "build_index(gpus_per_actor=...)")
        gpus_per_actor = num_gpus
    _check_options(
        model, level, engine, embedder, shard_rows=shard_rows, batch_docs=batch_docs, concurrency=concurrency
    )
    spec = JobSpec(model, level, layers, layer_pooling, subword_pooling, dict(model_options or {}))
    source = open_corpus(corpus)
    folder = Path(out)
    manifest = _prepare(folder, spec, source, shard_rows, overwrite)
    if manifest.complete:
        return manifest
    fingerprint = manifest.input["fingerprint"]
    done = set(manifest.done())
    from contextvec.index.table import build_tables

    if manifest.shards_planned is None or len(done) < manifest.shards_planned:
        ray_args = {"concurrency": concurrency, "gpus_per_actor": gpus_per_actor, "cpus_per_actor": cpus_per_actor}
        _embed(folder, manifest, spec, source, shard_rows, batch_docs, engine, ray_args, progress, embedder)
        release_free_memory()  # the build's model is gone: hand its pages back before the table build
    if source.fingerprint() != fingerprint:
        raise InputFileError(
            f"{source.source}: the input changed while it was being indexed; re-run with --overwrite to index "
            "the new version."
        )
    manifest.table = build_tables(folder, manifest)
    manifest.complete = True
    manifest.save(folder)
    return manifest


def _check_options(model: str, level: str, engine: str, embedder: EmbedderProtocol | None, **counts: int) -> None:
    if level not in ("word", "sentence", "both") or engine not in ("local", "ray"):
        raise OptionError(f"level={level!r}, engine={engine!r}: use word|sentence|both and local|ray.")
    if any(v < 1 for v in counts.values()):
        raise OptionError(f"{', '.join(counts)} must each be >= 1.")
    if engine == "ray" and embedder is not None:
        raise OptionError("embedder= reuses a model in this process; the ray engine loads `model` in each actor.")
    if embedder is not None:
        _check_embedder(model, embedder)


def _embed(
    folder: Path,
    manifest: Manifest,
    spec: JobSpec,
    source: Corpus,
    shard_rows: int,
    batch_docs: int,
    engine: Engine,
    ray_args: dict[str, Any],
    progress: Reporter | bool,
    embedder: EmbedderProtocol | None,
) -> None:
    """Embed the shards still missing and publish them; the model lives only here, not during the table build."""
    ranges: dict[int, tuple[int, int]] = {}
    shards = _planned(source, shard_rows, set(manifest.done()), ranges, manifest)
    if engine == "ray":
        batches = run_ray(spec, shards, folder / ".staging", batch_docs=batch_docs, **ray_args)
    else:
        batches = run_local(EmbedBatch(spec, embedder), shards, batch_docs)
    _write(folder, manifest, batches, ranges, as_reporter(progress), source)


def _prepare(folder: Path, spec: JobSpec, source: Corpus, shard_rows: int, overwrite: bool) -> Manifest:
    """Load and check an existing manifest (resume) or start a new one; drop shards that fail their checksum."""
    fingerprint = source.fingerprint()
    asked = {"spec": spec.to_json(), "fingerprint": fingerprint, "shard_rows": shard_rows}
    if (folder / MANIFEST).exists() and not overwrite:
        old = Manifest.load(folder)
        had = {"spec": old.spec, "fingerprint": old.input.get("fingerprint"), "shard_rows": old.shard_rows}
        if same_layers(old.spec.get("layers"), spec.layers):  # "-1", -1 and [-1]; "2:6" and [2, 3, 4, 5]
            asked["spec"] = spec.to_json() | {"layers": old.spec.get("layers")}
        diff = [k for k in asked if asked[k] != had[k]]
        if diff:
            what = "; ".join(f"{k}: index has {had[k]!r}, asked {asked[k]!r}" for k in diff)
            raise IndexStateError(
                f"{folder} holds a different index ({what}). Pass --overwrite (overwrite=True) "
                "to rebuild it, or choose another --out folder."
            )
        bad = [s for s in old.shards if not verify(folder, s)]
        for s in bad:  # corrupt or truncated: never used, rebuilt below
            old.shards.remove(s)
        if bad:
            old.complete = False
        return old
    if overwrite:
        for name in (SHARD_DIR, LANCE_DIR, ".staging"):
            shutil.rmtree(folder / name, ignore_errors=True)
        (folder / MANIFEST).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(
        spec=spec.to_json(),
        input={"source": source.source, "fingerprint": fingerprint},
        shard_rows=shard_rows,
        version=__version__,
    )
    manifest.save(folder)
    return manifest


def same_layers(a: Any, b: Any) -> bool:
    """Whether two layer specs select the same layers in every model: the spellings of one choice ("-1", -1,
    [-1]; "2:6", "2,3,4,5", [2, 3, 4, 5]) are one, as the spine resolves them. None (the model's recipe) equals
    only None."""
    if a is None or b is None:
        return a is b
    return _resolutions(a) == _resolutions(b)


def _resolutions(spec: Any) -> tuple[tuple[int, ...] | None, ...]:
    """The layers `spec` selects in models of 1..128 layers (None where it does not fit)."""
    from contextvec.errors import LayerError
    from contextvec.options import parse_layers

    spec = tuple(spec) if isinstance(spec, list) else spec
    found: list[tuple[int, ...] | None] = []
    for n in range(1, 129):
        try:
            found.append(parse_layers(spec, n))
        except LayerError:
            found.append(None)
    return tuple(found)


def _check_embedder(model: str, embedder: EmbedderProtocol) -> None:
    """`embedder=` must be the model that `model` names: the manifest names `model`, and search loads it later."""
    given = embedder.model_id
    if given == model or given == model.strip().lower():
        return
    if Path(given).expanduser().resolve() == Path(model).expanduser().resolve():
        return
    from contextvec.static.packaged import is_static

    if not embedder.contextual and is_static(model) and Path(model).name == given:  # static ids are file names
        return
    raise OptionError(
        f"embedder= is {given!r} but model={model!r}: the index's manifest names `model`, and search would load "
        f"it to embed queries. Pass model={given!r} (the embedder's model_id), or leave embedder= out."
    )


def _planned(
    source: Corpus, shard_rows: int, done: set[int], ranges: dict[int, tuple[int, int]], manifest: Manifest
) -> Iterator[PlannedShard]:
    """The planned shards still to build; records every shard's document range in `ranges` as it goes."""
    n_docs, k = 0, -1
    for k, docs in plan_shards(source.documents(), shard_rows):
        ranges[k] = (docs[0].seq, docs[-1].seq + 1)
        n_docs = docs[-1].seq + 1
        if k not in done:
            yield k, docs
    manifest.shards_planned = k + 1
    manifest.input["documents"] = n_docs


def _write(
    folder: Path,
    manifest: Manifest,
    batches: Iterator[Batch],
    ranges: dict[int, tuple[int, int]],
    progress: Reporter,
    source: Corpus,
) -> None:
    """Split the row stream into shards, publish each, and update the manifest after each one."""
    current = -1
    done_docs = sum(s.end_seq - s.first_seq for s in manifest.shards)  # shards finished by an earlier run
    total = None if progress is SILENT else source.count()
    n_rows = 0
    # the writer's thread ends with the build, and an unfinished shard's temp file goes with it (close)
    with ShardWriter(folder) as writer, progress.task("indexing", total, "docs", completed=done_docs) as task:
        try:
            for batch in batches:
                _check_layers(manifest, batch)
                shard = np.asarray(batch["shard"])
                ks = np.unique(shard).tolist()
                for k in ks:  # batches are in shard order; one may straddle two shards
                    if k != current and current >= 0:
                        _publish(folder, manifest, writer, current, ranges)
                    current = k
                    rows = batch if len(ks) == 1 else {c: np.asarray(v)[shard == k] for c, v in batch.items()}
                    writer.append(k, rows)
                n_rows += len(shard)
                task.advance(int(np.unique(np.asarray(batch["seq"])).size))
                task.describe(f"indexing ({n_rows:,} rows)")
            if current >= 0:
                _publish(folder, manifest, writer, current, ranges)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # a generator (the Ray engine) runs its cleanup now, not at garbage collection
                close()
        for k in set(ranges) - set(manifest.done()):  # planned shards whose documents gave no rows
            _publish(folder, manifest, writer, k, ranges)
    manifest.save(folder)


def _publish(folder: Path, manifest: Manifest, writer: ShardWriter, k: int, ranges: dict[int, tuple[int, int]]) -> None:
    info = writer.finish(k, *ranges[k])
    manifest.record(info)
    manifest.save(folder)


def _check_layers(manifest: Manifest, batch: Batch) -> None:
    """Record the spine's resolved layer description per level; refuse a resumed build whose differs."""
    levels, layers = np.asarray(batch["level"]), np.asarray(batch["layers"])
    for level in set(levels.tolist()):
        seen = set(layers[levels == level].tolist())
        got = str(next(iter(seen)))
        had = manifest.layers.get(level)
        if len(seen) != 1 or (had is not None and had != got):
            raise IndexStateError(
                f"{level} vectors now resolve to {sorted(seen)}, but the index has {had!r} "
                "(the model or its recipe changed); rebuild with --overwrite."
            )
        if had is None:
            manifest.layers[level] = got
            manifest.dim = int(np.asarray(batch["vector"]).shape[1])
