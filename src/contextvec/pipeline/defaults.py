"""The corpus jobs' defaults, in one place for Python (`build_index`, the engines) and the CLI."""

from __future__ import annotations

SHARD_ROWS = 50_000  # about this many words per Parquet shard (a shard ends at a document boundary)
BATCH_DOCS = 256  # documents per model call
BATCH_WORDS = 8192  # a local model call also closes at this many words: long documents do not pile up
CONCURRENCY = 2  # Ray actors, each loading the model once
